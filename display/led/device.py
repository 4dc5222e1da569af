"""An LED board on MQTT: call events and retained counter states in, frames out on its serial line."""

from __future__ import annotations

import logging
import threading

from display.led.boards import CounterBoard, MainBoard
from display.led.link import SerialLink
from display.led.protocols import FrameEncoder
from display.led.text import board_text
from display.payloads import PayloadError, parse_call, parse_counter_state
from display.runtime import StatusReporter, close_client, connect_until_stopped
from motcua.broker_url import BrokerURL
from motcua.client import DeviceClient
from motcua.settings import OfficeRef

log = logging.getLogger(__name__)

COMPONENT = "led"


class LedDevice:
    def __init__(self, office: OfficeRef, broker: BrokerURL | str, device: str, board: CounterBoard | MainBoard,
                 encoder: FrameEncoder, link: SerialLink, width: int = 0) -> None:
        self.client = DeviceClient(broker, office.id, device, office.topic_prefix)
        self.topics = self.client.topics
        self.board = board
        self.encoder = encoder
        self.link = link
        self.width = width
        self.stopping = threading.Event()
        self.status: StatusReporter | None = None
        self._lock = threading.Lock()
        link.on_state = self._on_link_state
        self.client.subscribe(self.topics.event_call, self._on_call)
        self.client.subscribe(self.topics.state_counter("+"), self._on_counter)

    def start(self) -> bool:
        self.status = StatusReporter(self.client, COMPONENT)
        if self.link.state != "unknown":
            self.status.report(self.link.state)
        self.refresh()  # blank (or the idle text) until the retained state arrives
        self.link.start()
        return connect_until_stopped(self.client, self.stopping)

    def stop(self) -> None:
        self.stopping.set()
        self.link.stop()
        if self.status:
            self.status.stop()
        close_client(self.client)

    def frame(self) -> bytes:
        lines = [board_text(line, self.encoder.diacritics, self.width) for line in self.board.lines()]
        return self.encoder.encode(lines, self.board.scroll)

    def refresh(self) -> None:
        self.link.show(self.frame())

    def _on_link_state(self, state: str, detail: str | None) -> None:
        if self.status:
            self.status.report(state, detail)

    def _on_call(self, topic: str, payload: bytes) -> None:
        if topic != self.topics.event_call:
            return
        try:
            call = parse_call(payload)
        except PayloadError as exc:
            log.warning("ignored a call message: %s", exc)
            return
        with self._lock:
            if self.board.on_call(call):
                self.refresh()

    def _on_counter(self, topic: str, payload: bytes) -> None:
        if not topic.startswith(self.topics.state_counter("")):
            return
        try:
            state = parse_counter_state(payload)
        except PayloadError as exc:
            log.warning("ignored %s: %s", topic, exc)
            return
        with self._lock:
            if self.board.on_counter(state):
                self.refresh()
