"""The running server: embedded broker (optional), MQTT link, one worker, HTTP, systemd.

Threads: paho's network thread only queues incoming messages; a single worker thread
takes them in batches (group commit: one fsync for everything that arrived together),
asks the Office to handle them, and publishes the results after the commit. The web
server reads a snapshot the worker refreshes, and the event log through its own
read-only connection.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua import credentials as device_credentials
from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.clock import Clock, SystemClock
from queue_server import credentials
from queue_server.broker import DEFAULT_MAX_CONNECTIONS
from queue_server.broker_acl import SERVER_USER, access_rules
from queue_server.brokers import OwnBroker, make_broker
from queue_server.config import OfficeConfig
from queue_server.mqtt_link import PROBE_INTERVAL, MqttLink
from queue_server.office import Office, Outbound
from queue_server.store import Store
from queue_server.systemd import Notifier
from queue_server.views import counter_view, queue_view

log = logging.getLogger(__name__)

MAX_BATCH = 256
TICK_SECONDS = 15.0
WORKER_STALL_SECONDS = 4 * TICK_SECONDS  # the worker wakes at least every TICK_SECONDS


@dataclass(frozen=True)
class ServerOptions:
    data_dir: Path
    broker: BrokerURL | None = None  # None: run a broker of our own (run_broker) on mqtt_listen
    mqtt_listen: tuple[str, int] = ("127.0.0.1", 1883)
    http_listen: tuple[str, int] | None = ("127.0.0.1", 8080)
    connect_timeout: float = 15.0
    run_broker: str = "auto"  # "mosquitto", "embedded" or "auto" (Mosquitto when installed)
    credentials_dir: Path | None = None  # own broker: generated there; default DATA/credentials
    credentials_file: Path | None = None  # external broker: the server's password (else MOTCUA_CREDENTIALS / MOTCUA_BROKER_PASSWORD)
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    probe_interval: float = PROBE_INTERVAL


class QueueServer:
    def __init__(self, config: OfficeConfig, options: ServerOptions, clock: Clock | None = None) -> None:
        self.config = config
        self.options = options
        self.clock = clock or SystemClock()
        self.topics = p.Topics(config.id, config.topic_prefix)
        self.inbox: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self.notifier = Notifier()
        self.stopping = threading.Event()
        self.broker: OwnBroker | None = None
        self.link: MqttLink | None = None
        self._not_started = threading.Event()
        self._worker_seen = time.monotonic()
        self.http = None
        self.store: Store | None = None
        self.office: Office | None = None
        self.snapshot: dict[str, Any] = {}
        self._snapshot_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.handled = 0

    @property
    def broker_url(self) -> BrokerURL:
        """Where devices connect (address only: each device logs in as itself)."""
        if self.options.broker:
            return BrokerURL(self.options.broker.host, self.options.broker.port)
        host, port = self.options.mqtt_listen
        return BrokerURL(host="127.0.0.1" if host in ("0.0.0.0", "") else host, port=port)

    @property
    def credentials_dir(self) -> Path:
        return self.options.credentials_dir or self.options.data_dir / "credentials"

    @property
    def connected(self) -> threading.Event:
        """Set while the server is connected to its broker with every subscription granted."""
        return self.link.connected if self.link else self._not_started

    @property
    def broker_error(self) -> str | None:
        return self.link.broker_error if self.link else None

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
        self.link = MqttLink(self.topics, self._server_login(), on_request=self._on_request, on_presence=self._on_presence,
                             on_connected=self._on_connected, probe_interval=self.options.probe_interval)
        self.link.start()
        url = self.broker_url
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
            self.inbox.put(("stop", None, None))
            self._worker.join(10)
        if self.link:
            self.link.stop()
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

    # --- MQTT (the connection itself is queue_server/mqtt_link.py) ----------------------------

    def _server_login(self) -> BrokerURL:
        """The server's own broker login; starts the broker first when the server runs one."""
        if self.options.broker is not None:
            url = self.options.broker
            user = url.username or SERVER_USER
            password = url.password or device_credentials.password_for(user, self.options.credentials_file)
            return dataclasses.replace(url, username=user, password=password)
        creds, changes = credentials.ensure(self.config, self.credentials_dir)
        log.info("broker credentials in %s: %s", self.credentials_dir, changes.summary())
        host, port = self.options.mqtt_listen
        self.broker = make_broker(self.options.run_broker, host, port, creds, access_rules(self.config),
                                  self.options.data_dir / "mosquitto", self.options.max_connections)
        self.broker.start()
        return dataclasses.replace(self.broker_url, username=SERVER_USER, password=creds.server_password)

    def _on_request(self, device: str, payload: bytes) -> None:
        self.inbox.put(("req", device, payload))

    def _on_presence(self, device: str, payload: bytes) -> None:
        self.inbox.put(("presence", device, payload))

    def _on_connected(self) -> None:
        # Retained state must be republished on every connect (the embedded broker forgets it).
        self.inbox.put(("republish", None, None))

    def _publish(self, items: list[Outbound]) -> None:
        assert self.link is not None
        for item in items:
            self.link.publish(item.topic, item.encoded(), qos=item.qos, retain=item.retain)

    def health_problem(self) -> str | None:
        """Why requests cannot be served right now (for /health and the watchdog), or None."""
        if self.link is None:
            return "starting"
        if self._worker and time.monotonic() - self._worker_seen > WORKER_STALL_SECONDS:
            return f"the worker has not run for {time.monotonic() - self._worker_seen:.0f} s"
        return self.link.problem

    def _alive(self) -> None:
        """Called by the worker after each round: pets systemd's watchdog only while requests can be served,
        so a server that lost its broker session for good is restarted."""
        self._worker_seen = time.monotonic()
        if self.link is not None and self.link.healthy:
            self.notifier.pet()

    # --- the worker -------------------------------------------------------------------

    def _work(self) -> None:
        assert self.office is not None
        while True:
            try:
                first = self.inbox.get(timeout=min(TICK_SECONDS, self.notifier.interval or TICK_SECONDS))
            except queue.Empty:
                self._publish(self.office.tick())
                self._alive()
                continue
            items = [first]
            while len(items) < MAX_BATCH:
                try:
                    items.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            requests = [(device, payload) for kind, device, payload in items if kind == "req"]
            for kind, device, payload in items:
                if kind == "presence":
                    self.office.note_presence(device, payload)
            try:
                if requests:
                    self._publish(self.office.handle_batch(requests))
                    self.handled += len(requests)
                if any(kind == "republish" for kind, _, _ in items):
                    self._publish(self.office.tick())
                    self._publish(self.office.retained_state())
                    self.link.publish(self.topics.status(p.SERVER_DEVICE_ID), p.ONLINE, qos=1, retain=True)
            except Exception:  # the worker must outlive any one bad batch
                log.exception("failed to handle a batch of %d messages", len(items))
            self._refresh_snapshot()
            self._alive()
            if any(kind == "stop" for kind, _, _ in items):
                return

    def _refresh_snapshot(self) -> None:
        office = self.office
        assert office is not None
        now = self.clock.now()
        snapshot = {
            "office": self.config.id,
            "name": self.config.name,
            "queue": queue_view(office.state, self.config, now),
            "counters": [counter_view(office.state, self.config, c) for c in office.state.counters.values()],
            "devices": {
                f"{r.device}/{r.component}": {"state": r.state, "detail": r.detail, "at": r.at.isoformat()}
                for r in office.state.devices.values()
            },
            "presence": dict(office.presence),
            "issued_today": len(office.state.tickets),
            "last_seq": office.store.last_seq,
        }
        with self._snapshot_lock:
            self.snapshot = snapshot

    def current_snapshot(self) -> dict[str, Any]:
        with self._snapshot_lock:
            snapshot = dict(self.snapshot)
        problem = self.health_problem()
        return dict(snapshot, broker_connected=self.connected.is_set(), broker_error=self.broker_error, handled=self.handled,
                    healthy=problem is None, problem=problem, broker=self._broker_stats())

    def _broker_stats(self) -> dict[str, Any]:
        """Counters for /metrics: refusals by the broker we run, and our own link's troubles."""
        stats: dict[str, Any] = {"kind": self.broker.kind if self.broker else "external",
                                 "refused": self.broker.refusals if self.broker else {},
                                 "restarts": getattr(self.broker, "restarts", 0)}
        if self.link:
            stats.update(disconnects=self.link.disconnects, recoveries=self.link.recoveries)
        return stats
