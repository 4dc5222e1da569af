"""The kiosk's line to its office: MQTT through motcua.client.DeviceClient, kept up by itself.

The broker or the server may be down when the kiosk starts or at any time after. `ServerLink`
connects in the background and keeps trying; paho then reconnects by itself and DeviceClient
resubscribes. Listeners hear about every change of what the screens show (office, queue, this
counter, whether the server is reachable), on the MQTT thread: the UI moves them to its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.payloads import CounterState, Office, read_counter, read_office
from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.client import DeviceClient, RequestTimeout
from motcua.settings import OfficeRef

log = logging.getLogger(__name__)

Listener = Callable[[str], None]  # called with what changed: "office", "counter", "connection"


class NotConnected(RequestTimeout):
    """The broker cannot be reached right now (the link keeps trying)."""


class ServerLink:
    def __init__(self, broker: BrokerURL, office: OfficeRef, device: str, counter: str | None = None, retry_seconds: float = 2.0) -> None:
        self.client = DeviceClient(broker, office.id, device, office.topic_prefix)
        self.topics = self.client.topics
        self.counter_id = counter
        self.retry_seconds = retry_seconds
        self.broker_up = False
        self.server_up = False
        self._office: dict[str, Any] = {}
        self._queue: dict[str, Any] = {}
        self.office = Office()
        self.counter: CounterState | None = None
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client.subscribe(self.topics.state_office, self._on_office)
        self.client.subscribe(self.topics.state_queue, self._on_queue)
        self.client.subscribe(self.topics.status(p.SERVER_DEVICE_ID), self._on_server_status)
        if counter:
            self.client.subscribe(self.topics.state_counter(counter), self._on_counter)
        inner_connect = self.client.client.on_connect

        def on_connect(*args: Any) -> None:
            inner_connect(*args)
            if not args[3].is_failure:
                self._set(broker_up=True)

        self.client.client.on_connect = on_connect
        self.client.client.on_disconnect = lambda *args: self._set(broker_up=False, server_up=False)

    # --- lifecycle -----------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> ServerLink:
        """Connect in the background, trying again every few seconds until the broker answers."""
        self._thread = threading.Thread(target=self._connect_until_up, name="kiosk-link", daemon=True)
        self._thread.start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        """Whether broker and server are both up within `timeout` seconds (for tests and the CLI)."""
        done = threading.Event()

        def check(_: str) -> None:
            if self.broker_up and self.server_up:
                done.set()

        self.listen(check)
        check("")
        try:
            return done.wait(timeout)
        finally:
            self._listeners.remove(check)

    def _connect_until_up(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.connect(timeout=self.retry_seconds * 2)
                return
            except (OSError, RequestTimeout) as exc:
                log.info("broker not reachable yet (%s); trying again", exc)
                self.client.client.loop_stop()
            self._stop.wait(self.retry_seconds)

    def close(self) -> None:
        self._stop.set()
        if self.broker_up:
            try:
                self.client.close()
                return
            except (OSError, RuntimeError):
                pass
        self.client.client.loop_stop()

    # --- requests ------------------------------------------------------------------

    def request(self, op: str, request_id: str, timeout: float = 2.0, retries: int = 1, **fields: Any) -> dict[str, Any]:
        """One contract request with a device-chosen id; raises RequestTimeout (NotConnected) without a reply."""
        if not self.broker_up:
            raise NotConnected("the MQTT broker is not reachable")
        return self.client.request(op, request_id=request_id, timeout=timeout, retries=retries, **fields)

    # --- retained state ---------------------------------------------------------------

    def _decode(self, payload: bytes) -> dict[str, Any] | None:
        try:
            return p.decode_json(payload)
        except p.ProtocolError:
            log.warning("ignored an unreadable state message")
            return None

    def _on_office(self, topic: str, payload: bytes) -> None:
        if (data := self._decode(payload)) is not None:
            self._office = data
            self._refresh_office()

    def _on_queue(self, topic: str, payload: bytes) -> None:
        if (data := self._decode(payload)) is not None:
            self._queue = data
            self._refresh_office()

    def _refresh_office(self) -> None:
        self.office = read_office(self._office, self._queue)
        self._notify("office")

    def _on_counter(self, topic: str, payload: bytes) -> None:
        if (data := self._decode(payload)) is not None:
            self.counter = read_counter(data)
            self._notify("counter")

    def _on_server_status(self, topic: str, payload: bytes) -> None:
        self._set(server_up=payload.decode("utf-8", "replace").strip() == p.ONLINE)

    def _set(self, **flags: bool) -> None:
        changed = any(getattr(self, k) != v for k, v in flags.items())
        for k, v in flags.items():
            setattr(self, k, v)
        if changed:
            self._notify("connection")

    def _notify(self, what: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(what)
            except Exception:  # a screen's bug must not stop the MQTT thread
                log.exception("kiosk listener failed on %s", what)

    @property
    def online(self) -> bool:
        return self.broker_up and self.server_up
