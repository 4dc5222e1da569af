"""The rating box at a counter: one button and one LED per level of the scale (Rất hài lòng, Hài lòng,
Không hài lòng), for the citizen who was just served.

It is a device of role `rating` bound to the counter. When the counter finishes a ticket, its
retained state carries `last_finished` with `rate_until`: the LEDs light (press one) until the
citizen presses or that time passes; a press sends `vote.counter` and only the chosen LED stays
lit a moment (thank you). The server binds the vote to that ticket and takes one vote per
ticket; the box only keeps its LEDs honest. Times are the server's (`state/clock`), since a
box without a battery clock may start in 1970.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from counter.panel import ButtonPanel
from counter.settings import RatingPins
from motcua import protocol as p
from motcua.client import DeviceClient, RequestTimeout

log = logging.getLogger(__name__)

THANKS_SECONDS = 3.0


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


class RatingBox:
    def __init__(self, client: DeviceClient, counter: str, pins: RatingPins, pin_factory: Any = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        from gpiozero import LED

        self.client = client
        self.counter = counter
        self.wall_clock = wall_clock
        self.offset = 0.0  # server time minus ours, from state/clock
        self.finished: p.FinishedTicket | None = None
        self.connected = False
        self.voted_number: str | None = None  # what this box voted for (before the state says so)
        self.thanking: tuple[str, float] | None = None  # (level, until on time.monotonic)
        self.thanks_seconds = THANKS_SECONDS
        self.results: list[tuple[str, str]] = []
        self._lock = threading.Condition()
        self._stopping = False
        self.leds = {level: LED(led, pin_factory=pin_factory) for level, (_, led) in pins.levels.items()}
        self.panel = ButtonPanel({level: button for level, (button, _) in pins.levels.items()}, self._press,
                                 pins.debounce, None, pin_factory)
        self._timer = threading.Thread(target=self._run, name="rating", daemon=True)

    def start(self) -> RatingBox:
        topics = self.client.topics
        self.client.on_connection = self._connection
        self.client.subscribe(topics.state_counter(self.counter), self._counter_state)
        self.client.subscribe(topics.state_clock, self._clock)
        self._timer.start()
        self.client.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        try:
            self.client.close()  # first: its disconnect must not light a closed LED
        except RuntimeError:
            self.client.client.loop_stop()
        self.panel.close()
        for led in self.leds.values():
            led.close()

    def healthy(self) -> bool:
        return self.panel.alive and self._timer.is_alive()

    # --- what the server says ---------------------------------------------------------

    def _connection(self, up: bool) -> None:
        with self._lock:
            self.connected = up
            self._lock.notify_all()
        self._show()

    def _clock(self, topic: str, payload: bytes) -> None:
        try:
            server = _timestamp(p.ClockState.from_payload(p.decode_json(payload)).server_time)
        except p.ProtocolError:
            return
        if server is not None and topic == self.client.topics.state_clock:
            with self._lock:
                self.offset = server - self.wall_clock()
                self._lock.notify_all()
            self._show()

    def _counter_state(self, topic: str, payload: bytes) -> None:
        if topic != self.client.topics.state_counter(self.counter) or not payload:
            return
        try:
            view = p.CounterView.from_payload(p.decode_json(payload))
        except p.ProtocolError:
            return
        with self._lock:
            self.finished = view.last_finished
            self._lock.notify_all()
        self._show()

    # --- the LEDs ---------------------------------------------------------------------

    def now(self) -> float:
        return self.wall_clock() + self.offset

    @property
    def open(self) -> bool:
        """Whether a citizen may rate now: a finished ticket not rated yet, within its time."""
        f = self.finished
        until = _timestamp(f.rate_until) if f else None
        return bool(self.connected and f and not f.voted and f.number != self.voted_number and until and self.now() < until)

    def lit(self) -> set[str]:
        return {level for level, led in self.leds.items() if led.is_lit}

    def refresh(self) -> None:
        """Put the LEDs right for the time now (the box's own thread does it at each deadline)."""
        with self._lock:
            self._lock.notify_all()
        self._show()

    def _show(self) -> None:
        with self._lock:
            if self._stopping:
                return
            thanking = self.thanking if self.thanking and self.thanking[1] > time.monotonic() else None
            wanted = {thanking[0]} if thanking else set(self.leds) if self.open else set()
            for level, led in self.leds.items():
                if (level in wanted) != led.is_lit:
                    led.on() if level in wanted else led.off()

    def _run(self) -> None:
        """Wake when the rating time or the thanks end, and put the LEDs right."""
        while True:
            with self._lock:
                if self._stopping:
                    return
                waits = []  # seconds from now
                until = _timestamp(self.finished.rate_until) if self.finished else None
                if until is not None and self.now() < until:
                    waits.append(until - self.now())
                if self.thanking and self.thanking[1] > time.monotonic():
                    waits.append(self.thanking[1] - time.monotonic())
                self._lock.wait(max(0.01, min(waits) + 0.01) if waits else None)
            self._show()

    # --- a press ------------------------------------------------------------------------

    def _press(self, level: str, kind: str) -> None:
        if not self.open:
            return  # unlit buttons do nothing: nobody to rate
        number = self.finished.number if self.finished else None
        try:
            reply = self.client.request("vote.counter", timeout=3.0, retries=1, level=level)
        except (RequestTimeout, OSError) as exc:
            log.warning("vote got no answer: %s", exc)
            self._result(level, "timeout")
            return
        if reply.get("ok"):
            with self._lock:
                self.voted_number = number
                self.thanking = (level, time.monotonic() + self.thanks_seconds)
                self._lock.notify_all()
            self._result(level, "ok")
        else:
            code = reply["error"]["code"]
            log.warning("vote refused: %s", code)
            with self._lock:
                self.voted_number = number  # already voted or too late: stop inviting presses
            self._result(level, code)
        self._show()

    def _result(self, level: str, outcome: str) -> None:
        with self._lock:
            self.results.append((level, outcome))
            self._lock.notify_all()

    def wait_results(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.results) >= count, timeout)
            return list(self.results)
