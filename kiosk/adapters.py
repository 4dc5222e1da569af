"""Where the kiosk gets its printer, ticket image and scanner (kiosk.printing, .ticket_image, .scanning).

Those modules come from the print work; until they merge, kiosk/_standins.py stands in. At merge
the fallbacks below go with that file.
"""

from __future__ import annotations

try:
    from kiosk.printing import Printer, PrinterError, open_printer
except ImportError:  # pragma: no cover - until the print work merges
    from kiosk._standins import Printer, PrinterError, open_printer
try:
    from kiosk.ticket_image import render_ticket
except ImportError:  # pragma: no cover
    from kiosk._standins import render_ticket
try:
    from kiosk.scanning import Scanner, open_scanner
except ImportError:  # pragma: no cover
    from kiosk._standins import Scanner, open_scanner

__all__ = ["Printer", "PrinterError", "Scanner", "open_printer", "open_scanner", "render_ticket"]
