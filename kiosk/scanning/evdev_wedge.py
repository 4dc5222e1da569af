"""A USB scanner in keyboard mode read directly from its input device (/dev/input/by-id/...-event-kbd).

The device is grabbed, so the scanned keys never reach the app or the desktop, and the scan works
whichever widget has the focus. Keys are read as a US keyboard (scanners' factory default); the
kiosk user needs read access to the device (group `input`, see docs/kiosk-hardware.md).
"""

from __future__ import annotations

import contextlib
import logging
import select
from collections.abc import Iterator
from functools import cache

from kiosk.scanning.base import LineSplitter

log = logging.getLogger(__name__)

POLL = 0.2
KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2

# US layout: key name -> (plain, with shift). Letters are added below.
_SYMBOLS = {
    "1": "1!", "2": "2@", "3": "3#", "4": "4$", "5": "5%", "6": "6^", "7": "7&", "8": "8*", "9": "9(", "0": "0)",
    "MINUS": "-_", "EQUAL": "=+", "LEFTBRACE": "[{", "RIGHTBRACE": "]}", "SEMICOLON": ";:", "APOSTROPHE": "'\"",
    "GRAVE": "`~", "BACKSLASH": "\\|", "COMMA": ",<", "DOT": ".>", "SLASH": "/?", "SPACE": "  ",
    "KP0": "00", "KP1": "11", "KP2": "22", "KP3": "33", "KP4": "44", "KP5": "55", "KP6": "66", "KP7": "77",
    "KP8": "88", "KP9": "99", "KPMINUS": "--", "KPPLUS": "++", "KPDOT": "..", "KPSLASH": "//", "KPASTERISK": "**",
    "ENTER": "\n\n", "KPENTER": "\n\n", "TAB": "\t\t",
}
_SHIFTS = ("LEFTSHIFT", "RIGHTSHIFT")


@cache
def keymap() -> dict[int, tuple[str, str]]:
    from evdev import ecodes

    table = {**_SYMBOLS, **{chr(c): chr(c).lower() + chr(c) for c in range(ord("A"), ord("Z") + 1)}}
    return {ecodes.ecodes[f"KEY_{name}"]: (chars[0], chars[1]) for name, chars in table.items()}


@cache
def _modifier_codes() -> tuple[frozenset[int], int]:
    from evdev import ecodes

    return frozenset(ecodes.ecodes[f"KEY_{n}"] for n in _SHIFTS), ecodes.ecodes["KEY_CAPSLOCK"]


class KeyTranslator:
    """Key events (code, value) to characters, with shift and caps lock."""

    def __init__(self) -> None:
        self.shift = False
        self.caps = False

    def feed(self, code: int, value: int) -> str:
        shifts, capslock = _modifier_codes()
        if code in shifts:
            self.shift = value != KEY_UP
            return ""
        if code == capslock and value == KEY_DOWN:
            self.caps = not self.caps
            return ""
        if value != KEY_DOWN:
            return ""
        plain, shifted = keymap().get(code, ("", ""))
        upper = self.shift != (self.caps and plain.isalpha())
        return shifted if upper else plain


class EvdevScanner:
    def __init__(self, device: str, grab: bool = True) -> None:
        from evdev import InputDevice

        self.path = device
        self._device = InputDevice(device)  # OSError: missing, or no permission (group input)
        if grab:
            self._device.grab()
        self._closed = False

    def codes(self) -> Iterator[str]:
        from evdev import ecodes

        keys = KeyTranslator()
        lines = LineSplitter()
        while not self._closed:
            try:
                ready, _, _ = select.select([self._device.fd], [], [], POLL)
                events = list(self._device.read()) if ready else []
            except (OSError, ValueError) as exc:  # unplugged, or closed meanwhile (fd -1)
                if not self._closed:
                    log.warning("scanner %s: %s", self.path, exc)
                return
            for event in events:
                if event.type == ecodes.EV_KEY:
                    yield from lines.feed(keys.feed(event.code, event.value))

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._device.close()
