"""A printer on USB through libusb (pyusb): vendor and product id from `lsusb`, e.g. 04b8:0202 for an Epson TM-T88.

python-escpos detaches the kernel's usblp driver, so the kiosk user needs write access to the
device (a udev rule, see docs/kiosk-hardware.md), and Debian's libusb-1.0-0 must be installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.printing.base import EscposPrinter

if TYPE_CHECKING:
    from escpos.escpos import Escpos


class UsbPrinter(EscposPrinter):
    """python-escpos `Usb`; status bytes are read from the printer's bulk-in endpoint."""

    def describe(self) -> str:
        return f"usb:{self.settings.vendor_id:04x}:{self.settings.product_id:04x}"

    def _errors(self) -> tuple[type[BaseException], ...]:
        import usb.core

        # NoBackendError: libusb is not installed; a ValueError, not an OSError.
        return (*super()._errors(), usb.core.USBError, usb.core.NoBackendError)

    def _connect(self) -> Escpos:
        from escpos.printer import Usb

        printer = Usb(idVendor=self.settings.vendor_id, idProduct=self.settings.product_id,
                      timeout=int(self.settings.timeout * 1000), in_ep=self.settings.in_ep, out_ep=self.settings.out_ep,
                      profile=self.settings.model)
        printer.open()
        return printer

    def _read_byte(self, timeout: float) -> int | None:
        import usb.core

        assert self._escpos is not None
        try:
            data = self._escpos.device.read(self.settings.in_ep, 16, max(1, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            return None
        return data[-1] if len(data) else None

    def _discard_input(self) -> None:
        import usb.core

        assert self._escpos is not None
        try:
            while len(self._escpos.device.read(self.settings.in_ep, 64, 1)):
                pass
        except usb.core.USBTimeoutError:
            pass
