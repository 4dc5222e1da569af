"""Where the kiosk gets its printer, ticket image and scanner (kiosk.printing, .ticket_image, .scanning)."""

from __future__ import annotations

from kiosk.printing import Printer, PrinterError, open_printer
from kiosk.scanning import Scanner, open_scanner
from kiosk.ticket_image import render_ticket

__all__ = ["Printer", "PrinterError", "Scanner", "open_printer", "open_scanner", "render_ticket"]
