"""Stand-ins for the print engineer's modules until they merge (the lead deletes this file then).

Same names and signatures as kiosk.printing, kiosk.ticket_image and kiosk.scanning will have;
only as much behaviour as the kiosk's flows and screens need to run and be tested.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class PrinterError(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class Printer(Protocol):
    def print_ticket(self, image: Image.Image) -> None: ...
    def status(self) -> str: ...


class FolderPrinter:
    """--simulate: each ticket becomes a PNG in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.printed: list[Path] = []

    def print_ticket(self, image: Image.Image) -> None:
        path = self.folder / f"ticket-{time.strftime('%H%M%S')}-{len(self.printed) + 1:03d}.png"
        image.save(path)
        self.printed.append(path)

    def status(self) -> str:
        return "ok"


def open_printer(settings: Any, simulate: bool, folder: Path | None = None) -> Printer:
    return FolderPrinter(folder or Path("simulated-tickets"))


def render_ticket(ticket: dict, office_name: str, qr_text: str, width_dots: int = 576) -> Image.Image:
    lines = [office_name, str(ticket.get("number", "")), str(ticket.get("service_name", "")), str(ticket.get("issued_at", ""))]
    image = Image.new("1", (width_dots, 60 * len(lines) + 20), 1)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((10, 10 + 60 * i), line, font=ImageFont.truetype(FONT, 40 if i == 1 else 24), fill=0)
    return image


class Scanner:
    """Fake and typed scanners: `scan("...")` from tests, or lines read from a text stream."""

    def __init__(self, stream: Any = None) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        if stream is not None:
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            if line.strip():
                self._queue.put(line.strip())

    def scan(self, text: str) -> None:
        self._queue.put(text)

    def close(self) -> None:
        self._queue.put(None)

    def codes(self) -> Iterator[str]:
        while (code := self._queue.get()) is not None:
            yield code


def open_scanner(settings: Any, simulate: bool) -> Scanner:
    device = (settings or {}).get("device") if isinstance(settings, dict) else None
    if device:
        return Scanner(open(device, encoding="utf-8", errors="replace"))
    return Scanner(sys.stdin if simulate and sys.stdin and sys.stdin.isatty() else None)
