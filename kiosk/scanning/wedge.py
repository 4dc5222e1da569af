"""A USB scanner in keyboard mode (HID keyboard wedge) typing into the kiosk app's window.

Most scanners ship as keyboards: they type the code and press Enter. When the app has the keyboard,
it hands every typed character to `feed()` (Kivy: Window.on_textinput, and "\\n" for the Enter
key); complete lines come out of `codes()`. To read the scanner whatever has the focus, and
without its keys reaching the app, use the evdev backend instead (evdev_wedge.py).
"""

from __future__ import annotations

from kiosk.scanning.base import LineSplitter, QueueScanner


class KeyboardWedge(QueueScanner):
    def __init__(self) -> None:
        super().__init__()
        self._lines = LineSplitter()

    def feed(self, text: str) -> None:
        """Characters the scanner typed; Enter ("\\n" or "\\r") or Tab ends a code."""
        for line in self._lines.feed(text):
            self.push(line)
