"""Push buttons on GPIO pins (gpiozero, `pin_factory=` passed in), debounced by counter.debounce.

gpiozero tells us each edge; a thread of ours turns edges into presses once each level has
held long enough, and calls `on_press(name, "short" | "long")` from that thread, in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from counter.debounce import Debouncer


class ButtonPanel:
    def __init__(self, pins: dict[str, str], on_press: Callable[[str, str], None], debounce: float = 0.03,
                 holds: dict[str, float] | None = None, pin_factory: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        from gpiozero import Button

        self.on_press = on_press
        self.clock = clock
        self.debouncers = {name: Debouncer(debounce, (holds or {}).get(name)) for name in pins}
        self._changed = threading.Condition()
        self._stopping = False
        self.buttons: dict[str, Any] = {}
        try:
            for name, pin in pins.items():
                # Pressed closes the switch to GND; the Pi's pull-up holds the pin high otherwise.
                # No bounce_time: gpiozero's would swallow the release of a quick tap; ours filters instead.
                button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
                button.when_pressed = partial(self._edge, name, True)
                button.when_released = partial(self._edge, name, False)
                self.buttons[name] = button
        except Exception:
            self.close()
            raise
        self._thread = threading.Thread(target=self._run, name="buttons", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _edge(self, name: str, pressed: bool) -> None:
        with self._changed:
            self.debouncers[name].edge(pressed, self.clock())
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                deadlines = [d for d in (b.next_deadline() for b in self.debouncers.values()) if d is not None]
                if deadlines:
                    self._changed.wait(max(0.0, min(deadlines) - self.clock()))
                else:
                    self._changed.wait()
                now = self.clock()
                due = [(name, kind) for name, b in self.debouncers.items() for kind in b.poll(now)]
            for name, kind in due:
                try:
                    self.on_press(name, kind)
                except Exception:  # a failing handler must not stop the buttons
                    import logging

                    logging.getLogger(__name__).exception("handling %s %s press failed", name, kind)

    def close(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        for button in self.buttons.values():
            button.close()
