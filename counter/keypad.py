"""The hardware keypad of one counter: four buttons and a status light on a Raspberry Pi.

    next    Gọi số tiếp theo (counter.next; it also finishes the ticket at the counter)
    recall  Gọi lại; held: Bắt đầu phục vụ (counter.start)
    skip    Vắng mặt (counter.skip); held: put the number this keypad skipped last back in line
    finish  Kết thúc; held: tạm dừng (finishing the current ticket first), or tiếp tục if paused

The keypad is a counter device over MQTT (motcua.client.DeviceClient): what it shows comes from
the retained `state/counter/<id>` and the server's presence, so after the broker or the server
comes back it is right again at once. It does not sign in: an official takes the counter on the
counter page (a four-button keypad has no good way to enter a password), then works from here.
A press while offline does nothing and flashes the error pattern: a "next" kept for later would
call a citizen nobody expects.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from counter.debounce import LONG, SHORT
from counter.light import CLOSED, OFFLINE, READY, SERVING, StatusLight
from counter.panel import ButtonPanel
from counter.settings import KEYPAD_BUTTONS, KeypadPins
from motcua import i18n
from motcua import protocol as p
from motcua.client import DeviceClient, RequestTimeout

log = logging.getLogger(__name__)

FUNCTIONS = {
    ("next", SHORT): "next", ("recall", SHORT): "recall", ("recall", LONG): "start",
    ("skip", SHORT): "skip", ("skip", LONG): "requeue", ("finish", SHORT): "finish", ("finish", LONG): "pause_or_resume",
}
HOLDING = {"recall", "skip", "finish"}  # buttons with a second function (they act on release)
MAX_WAITING = 2  # presses queued behind one in flight; more is a stuck or hammered button
REQUEST_TIMEOUT = 3.0


class Keypad:
    def __init__(self, client: DeviceClient, counter: str, pins: KeypadPins, pin_factory: Any = None,
                 clock: Callable[[], float] | None = None) -> None:
        from gpiozero import LED

        self.client = client
        self.counter = counter
        self.view: p.CounterView | None = None
        self.connected = False
        self.server_online: bool | None = None
        self.last_skipped: str | None = None
        self.results: list[tuple[str, str]] = []  # (action, "ok" or the error code): what each press did
        self._done = threading.Condition()
        self._presses: queue.Queue[str | None] = queue.Queue()
        self.light = StatusLight(LED(pins.status_led, pin_factory=pin_factory))
        extra = {"clock": clock} if clock else {}
        self.panel = ButtonPanel({name: pins.button(name) for name in KEYPAD_BUTTONS}, self._press, pins.debounce,
                                 {name: pins.hold for name in HOLDING}, pin_factory, **extra)
        self._worker = threading.Thread(target=self._work, name="keypad", daemon=True)

    # --- running ----------------------------------------------------------------------

    def start(self) -> Keypad:
        topics = self.client.topics
        self.client.on_connection = self._connection
        self.client.subscribe(topics.state_counter(self.counter), self._counter_state)
        self.client.subscribe(topics.status(p.SERVER_DEVICE_ID), self._server_status)
        self._worker.start()
        self.client.start()
        return self

    def stop(self) -> None:
        self._presses.put(None)
        try:
            self.client.close()
        except RuntimeError:  # never connected
            self.client.client.loop_stop()
        self.panel.close()
        self.light.close()

    def healthy(self) -> bool:
        """Whether the threads that read the buttons and send the presses still run (the watchdog asks)."""
        return self.panel.alive and self._worker.is_alive()

    # --- what the server says ---------------------------------------------------------

    def _connection(self, up: bool) -> None:
        self.connected = up
        if not up:
            self.server_online = None  # learnt again from the retained presence after the reconnect
        self._refresh()

    def _server_status(self, topic: str, payload: bytes) -> None:
        if topic == self.client.topics.status(p.SERVER_DEVICE_ID):
            self.server_online = payload.strip() == p.ONLINE.encode()
            self._refresh()

    def _counter_state(self, topic: str, payload: bytes) -> None:
        if topic != self.client.topics.state_counter(self.counter) or not payload:
            return
        try:
            self.view = p.CounterView.from_payload(p.decode_json(payload))
        except p.ProtocolError as exc:
            log.warning("unreadable state of counter %s: %s", self.counter, exc.params)
            return
        self._refresh()

    @property
    def pattern(self) -> str:
        if not self.connected or self.server_online is False or self.view is None:
            return OFFLINE
        if self.view.ticket:
            return SERVING
        return READY if self.view.status == "idle" else CLOSED

    def _refresh(self) -> None:
        self.light.show(self.pattern)

    # --- presses ----------------------------------------------------------------------

    def _press(self, button: str, kind: str) -> None:
        action = FUNCTIONS.get((button, kind))
        if action is None:
            return
        if self.pattern == OFFLINE or self._presses.qsize() >= MAX_WAITING:
            log.warning("%s pressed while %s: ignored", action, "offline" if self.pattern == OFFLINE else "busy")
            self._finished(action, "offline" if self.pattern == OFFLINE else "dropped")
            self.light.error()
            return
        self._presses.put(action)

    def _work(self) -> None:
        while True:
            action = self._presses.get()
            if action is None:
                return
            try:
                outcome = self._do(action)
            except (RequestTimeout, OSError) as exc:
                log.warning("%s got no answer: %s", action, exc)
                outcome = "timeout"
            if outcome != "ok":
                self.light.error()
            self._finished(action, outcome)

    def _ask(self, op: str, **fields: Any) -> dict[str, Any]:
        reply = self.client.request(op, timeout=REQUEST_TIMEOUT, retries=1, **fields)
        if not reply.get("ok"):
            error = reply.get("error") or {}
            log.warning("%s refused: %s %s", op, error.get("code"), error.get("message_en"))
        return reply

    def _do(self, action: str) -> str:
        if action == "requeue":
            if not self.last_skipped:
                return "nothing_skipped"
            reply = self._ask("ticket.requeue", number=self.last_skipped)
        elif action == "pause_or_resume":
            if self.view is not None and self.view.status == "paused":
                reply = self._ask("counter.resume")
            else:
                if self.view is not None and self.view.ticket:
                    finished = self._ask("counter.finish")
                    if not finished.get("ok"):
                        return finished["error"]["code"]
                reply = self._ask("counter.pause", reason=i18n.text("counter_device.pause_reason"))
        else:
            reply = self._ask(f"counter.{action}")
        if not reply.get("ok"):
            return reply["error"]["code"]
        if action == "skip" and reply.get("ticket"):
            self.last_skipped = reply["ticket"]["number"]
        if action == "requeue":
            self.last_skipped = None
        return "ok"

    def _finished(self, action: str, outcome: str) -> None:
        with self._done:
            self.results.append((action, outcome))
            self._done.notify_all()

    def wait_results(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        """The first `count` results, waiting for them (tests, the simulator)."""
        with self._done:
            self._done.wait_for(lambda: len(self.results) >= count, timeout)
            return list(self.results)
