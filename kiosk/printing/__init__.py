"""Ticket printers: one module per backend side by side (gpiozero's pin factories), chosen by name.

    printer = open_printer(settings, simulate=args.simulate, folder=Path("data/printed"))
    try:
        printer.print_ticket(render_ticket(ticket, office_name, qr_text, printer.width_dots))
    except PrinterError as exc:
        ...  # show the number on screen; client.request("device.status", **exc.status_fields())
    printer.status()  # "ok", "paper_low", "no_paper", "cover_open", "offline", "unknown" or "error"

Backends: `usb` (usb.py), `serial` (serial_port.py), `network` (network.py), all python-escpos, and
`simulated` (simulated.py: ESC/POS bytes and PNGs into a folder, or kept in memory).
Opening does not touch the printer: a kiosk starts with its printer unplugged and reports "offline".
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from kiosk.printing.base import EscposPrinter, Printer, PrinterError, status_fields
from kiosk.printing.settings import PrinterSettings, PrinterSettingsError
from kiosk.printing.simulated import SimulatedPrinter

BACKENDS = {
    "usb": "kiosk.printing.usb:UsbPrinter",
    "serial": "kiosk.printing.serial_port:SerialPrinter",
    "network": "kiosk.printing.network:NetworkPrinter",
    "simulated": "kiosk.printing.simulated:SimulatedPrinter",
}


def backend_class(connection: str) -> type:
    module, _, name = BACKENDS[connection].partition(":")
    return getattr(import_module(module), name)


def open_printer(settings: PrinterSettings | Mapping[str, Any] | None, simulate: bool = False,
                 folder: Path | None = None) -> Printer:
    """The printer the settings describe; with `simulate` (or connection "simulated"), a SimulatedPrinter
    writing into `folder` (kept in memory when folder is None). Raises PrinterSettingsError for settings
    that cannot work, never for a printer that is off: that is its status."""
    if not isinstance(settings, PrinterSettings):
        settings = PrinterSettings.from_mapping(settings)
    if simulate or settings.connection == "simulated":
        return SimulatedPrinter(settings, folder)
    settings.require_connection()
    return backend_class(settings.connection)(settings)  # type: ignore[arg-type]


__all__ = ["BACKENDS", "EscposPrinter", "Printer", "PrinterError", "PrinterSettings", "PrinterSettingsError",
           "SimulatedPrinter", "open_printer", "status_fields"]
