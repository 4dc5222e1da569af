"""`--simulate` and tests: a printer that makes the same ESC/POS bytes as a real one and keeps them.

Each ticket goes through python-escpos `Dummy` with the job every backend sends (base.write_ticket),
so the bytes are what a printer would receive. With a folder, they are written as
`ticket-0001.bin`, and the picture decoded back from those bytes as `ticket-0001.png` (what the
paper would show). `set_state("no_paper")` makes it fail like a printer with that fault.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from PIL import Image

from kiosk.printing import status as dle
from kiosk.printing.base import PrinterError, check_image, escpos_profile, write_ticket
from kiosk.printing.raster import decode_job
from kiosk.printing.settings import PrinterSettings
from motcua.protocol import DEVICE_STATES

NAME = re.compile(r"ticket-(\d+)\.bin$")


class SimulatedPrinter:
    """A fake printer; `jobs` holds the bytes of every printed ticket, `images` the images it was given."""

    def __init__(self, settings: PrinterSettings | None = None, folder: Path | None = None) -> None:
        self.settings = settings or PrinterSettings()
        self.width_dots = self.settings.dots
        self.folder = Path(folder) if folder is not None else None
        self.state = "ok"
        self.jobs: list[bytes] = []
        self.images: list[Image.Image] = []
        self.files: list[Path] = []
        self._lock = threading.Lock()
        self._next = 1
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := NAME.match(p.name))]
            self._next = max(numbers, default=0) + 1  # a restarted kiosk does not overwrite earlier tickets

    def set_state(self, state: str) -> None:
        if state not in DEVICE_STATES:
            raise ValueError(f"not a device state: {state!r}")
        self.state = state

    def status(self) -> str:
        return self.state

    def print_ticket(self, image: Image.Image) -> None:
        check_image(image, self.width_dots)
        with self._lock:
            if self.state in dle.BLOCKING:
                raise PrinterError(self.state)
            from escpos.printer import Dummy

            printer = Dummy(profile=self.settings.model)
            escpos_profile(printer, self.width_dots)
            write_ticket(printer, image, self.settings)
            data = printer.output
            self.jobs.append(data)
            self.images.append(image)
            if self.folder is not None:
                self._write(data)

    def _write(self, data: bytes) -> None:
        assert self.folder is not None
        stem = self.folder / f"ticket-{self._next:04d}"
        self._next += 1
        stem.with_suffix(".bin").write_bytes(data)
        printed = decode_job(data).image
        if printed is not None:
            printed.save(stem.with_suffix(".png"))
        self.files.append(stem.with_suffix(".png"))

    def close(self) -> None:
        """Nothing to release."""
