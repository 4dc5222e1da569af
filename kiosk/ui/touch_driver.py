"""Simulated touches on the running kiosk app, for the UI tests, the benchmarks and unattended demos.

A script is a generator: it touches widgets, and yields either a `Wait` (a condition with a timeout)
or a pause in seconds; the driver steps it from Kivy's clock, so the app runs its real loop meanwhile.

    driver = Driver(app, out=Path("shots"), label="pi")
    app.bind(on_start=lambda *_: driver.start(script))
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch

from kiosk.ui.widgets import BigButton


class Wait:
    def __init__(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        self.condition, self.deadline, self.what = condition, time.monotonic() + timeout, what


class Driver:
    def __init__(self, app: Any, out: Path | None = None, label: str = "kiosk") -> None:
        self.app = app
        self.out = out
        self.label = label
        self.script: Iterator[Any] | None = None
        self.waiting: Wait | None = None
        self.report: dict[str, Any] = {"screens": [], "checks": 0, "error": None}

    # --- what the script uses ---------------------------------------------------------

    def until(self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Wait:
        return Wait(condition, timeout, what or getattr(condition, "__name__", "condition"))

    def on(self, screen: str, timeout: float = 10.0) -> Wait:
        return self.until(lambda: self.app.sm.current == screen, timeout, f"screen {screen} (now {self.app.sm.current})")

    def check(self, ok: Any, message: str) -> None:
        self.report["checks"] += 1
        if not ok:
            raise AssertionError(message)

    def widgets(self) -> list[Any]:
        found, todo = [], [self.app.root]
        while todo:
            w = todo.pop()
            found.append(w)
            todo.extend(w.children)
        return found

    def button(self, key: str | None = None, text: str | None = None, screen_id: str | None = None) -> Any:
        screen = self.app.sm.current_screen
        if screen_id is not None:
            if screen_id in screen.ids:
                return screen.ids[screen_id]
            bars = [w for w in self.widgets() if screen_id in getattr(w, "ids", {}) and self._inside(w, screen)]
            if bars:
                return bars[0].ids[screen_id]
            raise AssertionError(f"no widget id {screen_id!r} on {screen.name}")
        for w in self.widgets():
            if isinstance(w, BigButton) and self._inside(w, screen) and ((key is not None and w.key == key) or (text is not None and w.text == text)):
                return w
        raise AssertionError(f"no button {key or text!r} on {screen.name}")

    @staticmethod
    def _inside(widget: Any, screen: Any) -> bool:
        while widget is not None:
            if widget is screen:
                return True
            widget = widget.parent
        return False

    def tap(self, widget: Any) -> float:
        """Touch the middle of a widget and let go; returns the perf_counter of the touch."""
        self.check(not widget.disabled and widget.opacity > 0, f"tapped a hidden or disabled widget {getattr(widget, 'text', widget)!r}")
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        at = time.perf_counter()
        touch.touch_down()
        touch.touch_up()
        return at

    def shot(self, name: str) -> None:
        lang = self.app.lang
        assert self.out is not None, "screenshots need an output directory"
        target = self.out / f"{self.label}-{lang}-{name}.png"
        made = Window.screenshot(name=str(self.out / "tmp.png"))  # Kivy adds a counter to the name
        Path(made).replace(target)
        self.report["screens"].append({"name": name, "lang": lang, "file": target.name, "screen": self.app.sm.current,
                                  "banner": self.app.banner})

    # --- the stepping machinery -----------------------------------------------------------

    def start(self, script: Callable[[Driver], Iterator[Any]]) -> None:
        """Run `script(self)` from the clock; the app stops when it ends or fails (see report["error"])."""
        self.script = script(self)
        Clock.schedule_once(self.step, 0.2)

    def step(self, dt: float) -> None:
        try:
            if self.waiting is not None:
                if not self.waiting.condition():
                    if time.monotonic() > self.waiting.deadline:
                        raise AssertionError(f"timed out waiting for {self.waiting.what}")
                    Clock.schedule_once(self.step, 0.03)
                    return
                self.waiting = None
                Clock.schedule_once(self.step, 0.1)  # a frame for layout before touching what just appeared
                return
            item = next(self.script)
            if isinstance(item, Wait):
                self.waiting = item
                Clock.schedule_once(self.step, 0.03)
            else:  # a pause in seconds: lets Kivy lay out and draw before a screenshot
                Clock.schedule_once(self.step, float(item))
        except StopIteration:
            self.app.stop()
        except Exception:
            self.report["error"] = traceback.format_exc()
            self.app.stop()
