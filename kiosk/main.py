"""Start one kiosk: prepare Kivy, wire the parts, run the app until it stops."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kiosk.settings import KioskSettings
from motcua.broker_url import BrokerURL
from motcua.settings import OfficeRef

STARTED = time.perf_counter()  # as early as this module is imported: the start-to-home-screen clock


def run(settings: KioskSettings, office: OfficeRef, broker: BrokerURL, simulate: bool = False, print_folder: Path | None = None,
        size: tuple[int, int] | None = None, rotation: int = 0) -> None:
    from kiosk.ui import boot

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    boot.prepare(settings.state_dir, size=size, fullscreen=size is None, rotation=rotation)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from kiosk.bootstrap import build
    from kiosk.cli import report
    from kiosk.ui.app import KioskApp

    parts = build(settings, office, broker, simulate=simulate, print_folder=print_folder)

    def ready(at: float) -> None:
        report("kiosk {device} ready: home screen shown {seconds:.2f} s after start", device=settings.device, seconds=at - STARTED)

    KioskApp(parts, on_ready=ready).run()
