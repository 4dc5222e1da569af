"""The status light of a keypad, and what each pattern means (docs/counter.md has the table).

    offline   fast blink (5 a second)   no broker, or the queue server is offline: presses do nothing
    serving   steady                    a citizen is called or being served at this counter
    ready     short flash every 2 s     the counter is open and free: press "next"
    closed    slow blink (1 s / 1 s)    closed or paused: sign in on the counter page, or resume
    error     3 quick flashes           the last press was refused or got no answer; then as before

The LED is any gpiozero output with on/off/blink (an `LED`, with `pin_factory=` given).
"""

from __future__ import annotations

import threading
from typing import Any

OFFLINE, SERVING, READY, CLOSED = "offline", "serving", "ready", "closed"
PATTERNS: dict[str, tuple[float, float] | None] = {  # (on, off) seconds of a blink; None: steady on
    OFFLINE: (0.1, 0.1),
    SERVING: None,
    READY: (0.15, 1.85),
    CLOSED: (1.0, 1.0),
}
ERROR_FLASHES = (0.08, 0.12, 3)


class StatusLight:
    def __init__(self, led: Any) -> None:
        self.led = led
        self.pattern = OFFLINE
        self.flashing = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        self._apply()

    def show(self, pattern: str) -> None:
        with self._lock:
            changed = pattern != self.pattern
            self.pattern = pattern
            if changed and not self.flashing:
                self._apply()

    def error(self) -> None:
        """Three quick flashes, then the pattern in force again."""
        on, off, times = ERROR_FLASHES
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self.flashing = True
            self.led.blink(on_time=on, off_time=off, n=times, background=True)
            self._timer = threading.Timer((on + off) * times + 0.05, self._flashed)
            self._timer.daemon = True
            self._timer.start()

    def _flashed(self) -> None:
        with self._lock:
            self.flashing = False
            self._apply()

    def _apply(self) -> None:
        if self._closed:
            return
        blink = PATTERNS[self.pattern]
        if blink is None:
            self.led.on()
        else:
            self.led.blink(on_time=blink[0], off_time=blink[1], background=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer:
                self._timer.cancel()
            self.led.off()  # stops (and joins) gpiozero's blink thread before the pin goes
        self.led.close()
