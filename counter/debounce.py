"""Debouncing of one push button, as plain logic on timestamps (gpiozero's mock ignores bounce_time,
and real bounce_time drops the release of a short tap; this is tested directly instead).

A level counts once it has held for `debounce` seconds (stable-for filtering): the 1-20 ms of
chatter a switch makes on each press and release never reaches the counter. The decision is
made on the edges' own times, so a press is counted even when the thread that polls comes late
(a busy box). A button with a second function (`hold` seconds) reports "short" on release and
"long" once it has been held that long (its release then reports nothing); one without
reports "short" at the press itself, the quickest answer for "next".
"""

from __future__ import annotations

SHORT, LONG = "short", "long"
EPSILON = 1e-6  # a poll at next_deadline() must see the deadline reached, whatever the float rounding


class Debouncer:
    def __init__(self, debounce: float = 0.03, hold: float | None = None) -> None:
        self.debounce = debounce
        self.hold = hold
        self._raw = False  # the level last seen on the pin
        self._raw_at = 0.0  # when it last changed
        self.pressed = False  # the debounced level
        self._down_at: float | None = None
        self._long_sent = False
        self._due: list[str] = []

    def edge(self, pressed: bool, at: float) -> None:
        """The pin changed (a GPIO callback): `pressed` is its level now, `at` the time of the change."""
        if pressed == self._raw:
            return
        if self._raw != self.pressed and at - self._raw_at >= self.debounce - EPSILON:
            self._settle(at)  # the level before this edge held long enough: it counts, polled or not
        self._raw, self._raw_at = pressed, at

    def poll(self, at: float) -> list[str]:
        """The presses that are due by `at`: call at `next_deadline()` (and after each edge)."""
        if self._raw != self.pressed and at - self._raw_at >= self.debounce - EPSILON:
            self._settle(at)
        if self.pressed and self.hold is not None and not self._long_sent and self._down_at is not None \
                and at - self._down_at >= self.hold - EPSILON:
            self._long_sent = True
            self._due.append(LONG)
        due, self._due = self._due, []
        return due

    def _settle(self, until: float) -> None:
        """The raw level becomes the debounced one; it lasted at least until `until`."""
        self.pressed = self._raw
        if self.pressed:
            self._down_at, self._long_sent = self._raw_at, False
            if self.hold is None:
                self._due.append(SHORT)
            return
        if self.hold is not None and not self._long_sent and self._down_at is not None:
            held = self._raw_at - self._down_at  # from the press to the release
            self._due.append(LONG if held >= self.hold - EPSILON else SHORT)
        self._down_at = None

    def next_deadline(self) -> float | None:
        if self._due:
            return self._raw_at
        if self._raw != self.pressed:
            return self._raw_at + self.debounce
        if self.pressed and self.hold is not None and not self._long_sent and self._down_at is not None:
            return self._down_at + self.hold
        return None
