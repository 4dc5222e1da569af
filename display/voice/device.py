"""The voice box on MQTT: `event/call` in, announcements out, its state reported as `device.status`."""

from __future__ import annotations

import logging
import threading

from display.payloads import PayloadError, parse_call, parse_office
from display.runtime import StatusReporter, close_client, connect_until_stopped
from display.voice.caller import Announcer
from display.voice.settings import VoiceSettings
from display.voice.sinks import AudioSink
from display.voice.voices import Voices
from motcua.broker_url import BrokerURL
from motcua.client import DeviceClient
from motcua.clock import Clock
from motcua.settings import OfficeRef

log = logging.getLogger(__name__)

COMPONENT = "speaker"


class VoiceDevice:
    def __init__(self, office: OfficeRef, broker: BrokerURL | str, device: str, settings: VoiceSettings,
                 voices: Voices, sink: AudioSink, clock: Clock | None = None) -> None:
        self.client = DeviceClient(broker, office.id, device, office.topic_prefix)
        self.topics = self.client.topics
        self.stopping = threading.Event()
        self.status: StatusReporter | None = None
        self.announcer = Announcer(settings, voices, sink, clock, on_status=self._on_status)
        self.client.subscribe(self.topics.event_call, self._on_call)
        self.client.subscribe(self.topics.state_office, self._on_office)

    def start(self) -> bool:
        self.status = StatusReporter(self.client, COMPONENT)
        if not connect_until_stopped(self.client, self.stopping):
            return False
        self.announcer.start()
        return True

    def stop(self) -> None:
        self.stopping.set()
        self.announcer.stop()
        if self.status:
            self.status.stop()
        close_client(self.client)

    def _on_status(self, state: str, detail: str | None) -> None:
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
        self.announcer.submit(call)

    def _on_office(self, topic: str, payload: bytes) -> None:
        if topic != self.topics.state_office:
            return
        try:
            self.announcer.update_names(parse_office(payload).counters)
        except PayloadError as exc:
            log.warning("ignored state/office: %s", exc)
