"""Prepare Kivy before its first import: environment, window size, font with full Vietnamese coverage.

Kivy parses sys.argv, writes logs and a config into ~/.kivy and picks the window size when it is
first imported (RECIPES "Kivy headless"); a kiosk wants none of that, so this module runs first.
"""

from __future__ import annotations

import os
from pathlib import Path

FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
)


class FontMissing(RuntimeError):
    """No font with Vietnamese coverage: install fonts-dejavu-core (setup.sh does)."""


def font_files(configured: str | None = None) -> tuple[str, str]:
    """(regular, bold) TTF paths: the configured one, else DejaVu Sans, else Noto Sans (Debian packages)."""
    if configured:
        if not Path(configured).is_file():
            raise FontMissing(f"kiosk.font {configured}: file not found")
        return configured, configured
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            return regular, bold if Path(bold).is_file() else regular
    raise FontMissing("no DejaVu Sans or Noto Sans font: apt-get install fonts-dejavu-core")


def prepare(state_dir: Path, size: tuple[int, int] | None = None, fullscreen: bool = True, rotation: int = 0) -> None:
    """Set Kivy's environment and window configuration; call before anything imports kivy."""
    home = Path(state_dir) / "kivy"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(home))
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through `logging`, like the rest
    # A reply handed over from a worker thread wakes the UI loop at once instead of at its next
    # scheduled frame: part of the touch-to-number budget (bench/bench_kiosk.py).
    os.environ.setdefault("KIVY_CLOCK", "interrupt")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")  # no Kivy pop-up keyboard: the kiosk draws its own
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "rotation", str(rotation))
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
    else:
        Config.set("graphics", "fullscreen", "0")
        if size:
            Config.set("graphics", "width", str(size[0]))
            Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
