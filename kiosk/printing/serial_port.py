"""A printer on a serial port (RS-232, or a USB-serial adapter: /dev/ttyUSB0, /dev/serial/by-id/...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.printing.base import EscposPrinter

if TYPE_CHECKING:
    from escpos.escpos import Escpos


class SerialPrinter(EscposPrinter):
    """python-escpos `Serial`; status bytes are read straight from the pyserial port."""

    def describe(self) -> str:
        return f"serial:{self.settings.port}"

    def _connect(self) -> Escpos:
        from escpos.printer import Serial

        flow = self.settings.flow_control
        printer = Serial(devfile=self.settings.port, baudrate=self.settings.baudrate, timeout=self.settings.timeout,
                         xonxoff=flow == "xonxoff", dsrdtr=flow == "dsrdtr", profile=self.settings.model)
        printer.open()  # DeviceNotFoundError when the port is missing or busy
        port = printer.device
        port.rtscts = flow == "rtscts"
        port.write_timeout = self.settings.timeout  # a printer holding CTS low forever counts as offline
        return printer

    def _port(self):
        assert self._escpos is not None
        return self._escpos.device

    def _read_byte(self, timeout: float) -> int | None:
        port = self._port()
        port.timeout = timeout
        data = port.read(1)
        return data[0] if data else None

    def _discard_input(self) -> None:
        self._port().reset_input_buffer()

    def _flush(self) -> None:
        self._port().flush()
