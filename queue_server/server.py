"""The running server: embedded broker (optional), MQTT link, one worker, HTTP, systemd.

Threads: paho's network thread only queues incoming messages; a single worker thread
takes them in batches (group commit: one fsync for everything that arrived together),
asks the Office to handle them, and publishes the results after the commit. The web
server reads a snapshot the worker refreshes, and the event log through its own
read-only connection.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.client import disable_nagle
from motcua.clock import Clock, SystemClock
from queue_server import inbox
from queue_server.broker import EmbeddedBroker
from queue_server.config import Device, OfficeConfig
from queue_server.live import LiveHub
from queue_server.office import Office, Outbound
from queue_server.store import Store
from queue_server.systemd import Notifier
from queue_server.views import counter_view, queue_view

log = logging.getLogger(__name__)

MAX_BATCH = 256
TICK_SECONDS = float(p.CLOCK_SECONDS)


@dataclass(frozen=True)
class ServerOptions:
    data_dir: Path
    broker: BrokerURL | None = None  # None: run the embedded broker
    mqtt_listen: tuple[str, int] = ("127.0.0.1", 1883)
    http_listen: tuple[str, int] | None = ("127.0.0.1", 8080)
    connect_timeout: float = 15.0


class QueueServer:
    def __init__(self, config: OfficeConfig, options: ServerOptions, clock: Clock | None = None) -> None:
        self.seed_config = config  # the TOML file; the office may have changed it at run time since
        self.options = options
        self.clock = clock or SystemClock()
        self.topics = p.Topics(config.id, config.topic_prefix)
        self.hub = LiveHub(self.topics.base)  # what browsers follow (queue_server/web/stream.py)
        self.inbox: queue.Queue[inbox.Message] = queue.Queue()
        self.notifier = Notifier()
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.broker: EmbeddedBroker | None = None
        self.http = None
        self.store: Store | None = None
        self.office: Office | None = None
        self.snapshot: dict[str, Any] = {}
        self._snapshot_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.broker_error: str | None = None
        self.handled = 0

    @property
    def config(self) -> OfficeConfig:
        """The configuration in force now (read by HTTP threads; replaced whole, never mutated)."""
        return self.office.config if self.office is not None else self.seed_config

    @property
    def broker_url(self) -> BrokerURL:
        if self.options.broker:
            return self.options.broker
        host, port = self.options.mqtt_listen
        return BrokerURL(host="127.0.0.1" if host in ("0.0.0.0", "") else host, port=port)

    @property
    def db_path(self) -> Path:
        assert self.store is not None
        return self.store.path

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Open the store, start the broker and the MQTT link, serve HTTP; returns when ready."""
        self.store = Store.in_dir(self.options.data_dir, self.config.id)
        self.store.forget_old_requests(self.clock.now())
        self.office = Office(self.config, self.store, self.clock)
        self._refresh_snapshot()
        self.hub.publish(self.office.retained_state())  # pages get state even before the broker is up
        if self.options.broker is None:
            self.broker = EmbeddedBroker(*self.options.mqtt_listen)
            self.broker.start()
        self.client = self._mqtt_client()
        url = self.broker_url
        self.client.connect_async(url.host, url.port, keepalive=30)
        self.client.loop_start()
        if self.options.http_listen:
            from queue_server.web import serve

            self.http = serve(self, *self.options.http_listen)
        self._worker = threading.Thread(target=self._work, name="office-worker", daemon=True)
        self._worker.start()
        if not self.connected.wait(self.options.connect_timeout):
            log.warning("MQTT broker %s not reachable yet; requests are handled once it is", url)
        self.notifier.ready(f"office {self.config.id} serving")

    def stop(self) -> None:
        self.stopping.set()
        self.notifier.stopping()
        if self._worker:
            self.inbox.put(inbox.Stop())
            self._worker.join(10)
        if hasattr(self, "client"):
            self.client.publish(self.topics.status(p.SERVER_DEVICE_ID), p.OFFLINE, qos=1, retain=True)
            self.client.disconnect()
            self.client.loop_stop()
        if self.http:
            self.http.shutdown()
        if self.broker:
            self.broker.stop()
        if self.store:
            self.store.close()

    def wait(self) -> None:
        """Block until stop() (or a signal handler calling it)."""
        while not self.stopping.wait(1.0):
            pass

    # --- MQTT -------------------------------------------------------------------------

    def _mqtt_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"motcua-server-{self.config.id}", clean_session=False
        )
        url = self.broker_url
        if url.username:
            client.username_pw_set(url.username, url.password)
        client.will_set(self.topics.status(p.SERVER_DEVICE_ID), p.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.broker_error = str(reason)
            log.error("MQTT broker refused the connection: %s", reason)
            return
        self.broker_error = None
        disable_nagle(client)
        client.subscribe([(self.topics.all_requests, 1), (self.topics.all_status, 1)])
        # Retained state must be republished on every connect (the embedded broker forgets it).
        self.inbox.put(inbox.Republish())
        self.connected.set()
        log.info("connected to MQTT broker %s", self.broker_url)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("lost the MQTT broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        device = self.topics.device_of(msg.topic, "req")
        if device is not None:
            self.inbox.put(inbox.DeviceRequest(device, msg.payload))
            return
        device = self.topics.device_of(msg.topic, "status")
        if device is not None and device != p.SERVER_DEVICE_ID:
            self.inbox.put(inbox.Presence(device, msg.payload))

    def _publish(self, items: list[Outbound]) -> None:
        for item in items:
            self.client.publish(item.topic, item.encoded(), qos=item.qos, retain=item.retain)
        self.hub.publish(items)

    # --- the worker -------------------------------------------------------------------

    def _work(self) -> None:
        assert self.office is not None
        last_tick = time.monotonic()
        while True:
            if time.monotonic() - last_tick >= TICK_SECONDS:  # also under a steady load, not only when idle
                last_tick = time.monotonic()
                self._publish(self.office.tick())
                self.notifier.pet()
            try:
                first = self.inbox.get(timeout=min(TICK_SECONDS, self.notifier.interval or TICK_SECONDS))
            except queue.Empty:
                continue
            items = [first]
            while len(items) < MAX_BATCH:
                try:
                    items.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            requests = [m for m in items if isinstance(m, inbox.DeviceRequest | inbox.LocalRequest)]
            for message in items:
                if isinstance(message, inbox.Presence):
                    self.office.note_presence(message.device, message.payload)
            for message in items:
                if isinstance(message, inbox.Record):
                    self._record(message)
            try:
                if requests:
                    self._publish(self._answer(requests, self.office.handle_batch([(m.device, m.payload) for m in requests])))
                    self.handled += len(requests)
                if any(isinstance(m, inbox.Republish) for m in items):
                    self._publish(self.office.tick())
                    self._publish(self.office.retained_state())
                    self.client.publish(self.topics.status(p.SERVER_DEVICE_ID), p.ONLINE, qos=1, retain=True)
            except Exception:  # the worker must outlive any one bad batch
                log.exception("failed to handle a batch of %d messages", len(items))
            self._refresh_snapshot()
            self.notifier.pet()
            if any(isinstance(m, inbox.Stop) for m in items):
                return

    @staticmethod
    def _answer(requests: list[inbox.DeviceRequest | inbox.LocalRequest], out: list[Outbound]) -> list[Outbound]:
        """Hand local requests their replies; everything else is for MQTT and the pages."""
        published = []
        for item in out:
            asked = requests[item.request] if item.request is not None else None
            if isinstance(asked, inbox.LocalRequest):
                if not asked.reply.done():
                    asked.reply.set_result(item.payload)  # type: ignore[arg-type]
            else:
                published.append(item)
        return published

    def request(self, device: Device, op: str, request_id: str | None = None, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Act as `device` from inside the server (a web page): same authorisation, engine and
        durability as an MQTT request; returns the reply after the commit. Thread-safe."""
        message = inbox.LocalRequest(device, p.dumps({"id": request_id or uuid.uuid4().hex, "op": op, **fields}))
        self.inbox.put(message)
        return message.reply.result(timeout)

    def _record(self, message: inbox.Record) -> None:
        assert self.office is not None
        try:
            message.reply.set_result(self.office.record(message.work, message.device))
        except Exception as exc:  # the caller gets it (a StaffError, say); the worker goes on
            message.reply.set_exception(exc)

    def record(self, work: Any, device: str | None = "web", timeout: float = 10.0) -> Any:
        """Run `work(db, now) -> (result, audit events)` in the worker and commit both together;
        returns the result or raises what the work raised. Thread-safe (web threads call it)."""
        message = inbox.Record(work, device)
        self.inbox.put(message)
        return message.reply.result(timeout)

    def _refresh_snapshot(self) -> None:
        office = self.office
        assert office is not None
        now = self.clock.now()
        snapshot = {
            "office": self.config.id,
            "name": self.config.name,
            "queue": queue_view(office.state, self.config, now).to_payload(),
            "counters": [counter_view(office.state, self.config, c).to_payload() for c in office.state.counters.values()],
            "devices": {
                f"{r.device}/{r.component}": {"state": r.state, "detail": r.detail, "at": r.at.isoformat()}
                for r in office.state.devices.values()
            },
            "presence": dict(office.presence),
            "issued_today": len(office.state.tickets),
            "issued_by_device": {device: len(times) for device, times in office.state.issued_by.items()},
            "issuing_limits": {"per_minute": self.config.issuing.per_minute, "per_hour": self.config.issuing.per_hour},
            "batch_failures": office.failures,
            "remembered_refusals": len(office.refusals),
            "last_seq": office.store.last_seq,
        }
        with self._snapshot_lock:
            self.snapshot = snapshot

    def current_snapshot(self) -> dict[str, Any]:
        with self._snapshot_lock:
            return dict(self.snapshot, broker_connected=self.connected.is_set(), broker_error=self.broker_error, handled=self.handled)
