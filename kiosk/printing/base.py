"""What every printer backend shares: the Printer interface, PrinterError, and the escpos job of one ticket."""

from __future__ import annotations

import copy
import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PIL import Image

from kiosk.printing import status as dle
from kiosk.printing.settings import PrinterSettings
from motcua.protocol import DEVICE_STATES

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)

ESC_INIT = b"\x1b@"
MAX_DETAIL = 200  # the contract's limit for short texts


class PrinterError(RuntimeError):
    """The ticket was not printed; `state` is one of protocol.DEVICE_STATES (for device.status)."""

    def __init__(self, state: str, detail: str | None = None) -> None:
        if state not in DEVICE_STATES:
            raise ValueError(f"not a device state: {state!r}")
        super().__init__(f"{state}: {detail}" if detail else state)
        self.state = state
        self.detail = detail

    def status_fields(self) -> dict[str, Any]:
        return status_fields(self.state, self.detail)


def status_fields(state: str, detail: str | None = None) -> dict[str, Any]:
    """The body of the `device.status` request that reports the printer's state (protocol.DeviceStatus)."""
    fields: dict[str, Any] = {"component": "printer", "state": state}
    if detail:
        fields["detail"] = detail[:MAX_DETAIL]
    return fields


@runtime_checkable
class Printer(Protocol):
    """A ticket printer. `status()` never raises: "unknown" is a state."""

    width_dots: int

    def print_ticket(self, image: Image.Image) -> None: ...

    def status(self) -> str: ...

    def close(self) -> None: ...


def check_image(image: Image.Image, width_dots: int) -> None:
    if image.width > width_dots:
        raise ValueError(f"ticket image is {image.width} dots wide; this printer prints {width_dots}")


def escpos_profile(printer: Escpos, width_dots: int) -> None:
    """Give the printer's profile our paper width (escpos checks images against it and warns on stdout without it)."""
    data = copy.deepcopy(printer.profile.profile_data)  # profiles are shared by class; change only this printer's
    data.setdefault("media", {}).setdefault("width", {})["pixels"] = width_dots
    printer.profile.profile_data = data


def write_ticket(printer: Escpos, image: Image.Image, settings: PrinterSettings) -> None:
    """The escpos commands of one ticket: reset, the image, feed and cut. Real and simulated printers share it."""
    printer._raw(ESC_INIT)
    printer.image(image.convert("1"), impl=settings.escpos_image_impl, center=image.width < settings.dots)
    if settings.cut == "none":
        printer.print_and_feed(6)
    else:
        printer.cut(mode="PART" if settings.cut == "partial" else "FULL")


class EscposPrinter:
    """A python-escpos printer reached over a link that may answer DLE EOT. Subclasses give `_connect`,
    `_read_byte` and `_discard_input` for their link, and the exceptions that mean "the link is gone"."""

    link_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, settings: PrinterSettings) -> None:
        settings.require_connection()
        self.settings = settings
        self.width_dots = settings.dots
        self._escpos: Escpos | None = None
        self._answered = False  # the printer has answered a status query since we opened it
        self.last_error: str | None = None  # why the link failed last, for logs and device.status detail
        self._lock = threading.RLock()

    # -- for subclasses
    def _connect(self) -> Escpos:
        raise NotImplementedError

    def _read_byte(self, timeout: float) -> int | None:
        """One byte from the printer, or None after `timeout` seconds."""
        raise NotImplementedError

    def _discard_input(self) -> None:
        """Drop bytes the printer sent earlier (a late answer must not be read as the next one)."""

    def describe(self) -> str:
        return self.settings.connection or "?"

    # -- the interface
    def status(self) -> str:
        if self.settings.status == "none":
            return "unknown"
        with self._lock:
            try:
                replies = {n: self._ask(n) for n in dle.QUERIES}
            except self._errors() as exc:
                log.info("printer %s: status query failed: %s", self.describe(), exc)
                self.last_error = str(exc) or type(exc).__name__
                self._drop()
                return "offline"
            state = dle.decode(replies)
            if state is None:
                return "offline" if self.settings.status == "query" or self._answered else "unknown"
            self._answered = True
            return state

    def print_ticket(self, image: Image.Image) -> None:
        check_image(image, self.width_dots)
        with self._lock:
            before = self.status()
            if before in dle.BLOCKING:
                raise PrinterError(before, self.last_error if before == "offline" else None)
            try:
                write_ticket(self._device(), image, self.settings)
                self._flush()
            except self._errors() as exc:
                self.last_error = str(exc) or type(exc).__name__
                self._drop()
                raise PrinterError("offline", self.last_error) from exc
            after = self.status() if self.settings.post_check and before != "unknown" else "unknown"
            if after in dle.BLOCKING:  # ran out of paper or opened during this ticket
                raise PrinterError(after)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- helpers
    def _errors(self) -> tuple[type[BaseException], ...]:
        from escpos.exceptions import Error as EscposError

        return (*self.link_errors, EscposError)

    def _device(self) -> Escpos:
        if self._escpos is None:
            printer = self._connect()
            escpos_profile(printer, self.width_dots)
            self._escpos = printer
            self._answered = False
        return self._escpos

    def _ask(self, n: int) -> int | None:
        printer = self._device()
        self._discard_input()
        printer._raw(dle.query(n))
        return self._read_byte(self.settings.status_timeout)

    def _flush(self) -> None:
        """Wait until the bytes left the computer where the link can tell (serial)."""

    def _drop(self) -> None:
        printer, self._escpos = self._escpos, None
        if printer is not None:
            try:
                printer.close()
            except Exception as exc:  # closing a link that already broke: nothing left to save
                log.debug("printer %s: close failed: %s", self.describe(), exc)
                device = getattr(printer, "_device", None)
                try:
                    if hasattr(device, "close"):
                        device.close()
                except Exception:
                    pass
                printer._device = False  # else escpos's __del__ tries the same close again

    def __enter__(self) -> EscposPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
