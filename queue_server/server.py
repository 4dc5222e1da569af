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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua import credentials as device_credentials
from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.clock import Clock, SystemClock
from motcua.systemd import Notifier
from queue_server import credentials, inbox
from queue_server.appointments.desk import AppointmentDesk
from queue_server.broker import DEFAULT_MAX_CONNECTIONS
from queue_server.broker_acl import SERVER_USER, access_rules
from queue_server.brokers import OwnBroker, make_broker
from queue_server.config import Device, OfficeConfig
from queue_server.live import LiveHub
from queue_server.mqtt_link import PROBE_INTERVAL, MqttLink
from queue_server.office import Office, Outbound
from queue_server.store import Store
from queue_server.views import counter_view, queue_view

log = logging.getLogger(__name__)

MAX_BATCH = 256
TICK_SECONDS = float(p.CLOCK_SECONDS)
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
    def __init__(self, config: OfficeConfig, options: ServerOptions, clock: Clock | None = None,
                 link_factory: Callable[[QueueServer], Any] | None = None) -> None:
        self.seed_config = config  # the TOML file; the office may have changed it at run time since
        self.options = options
        self.clock = clock or SystemClock()
        self.link_factory = link_factory or QueueServer._mqtt_link  # tests hand in a FakeLink (queue_server/bootstrap.py)
        self.topics = p.Topics(config.id, config.topic_prefix)
        self.hub = LiveHub(self.topics.base)  # what browsers follow (queue_server/web/stream.py)
        self.inbox: queue.Queue[inbox.Message] = queue.Queue()
        self.notifier = Notifier()
        self.stopping = threading.Event()
        self.broker: OwnBroker | None = None
        self.link: MqttLink | None = None
        self._not_started = threading.Event()
        self._worker_seen = time.monotonic()
        self.http = None
        self.store: Store | None = None
        self.office: Office | None = None
        self.appointments: AppointmentDesk | None = None  # bookings, phone numbers, the ticket on the phone, SMS
        self.snapshot: dict[str, Any] = {}
        self._snapshot_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.handled = 0

    @property
    def config(self) -> OfficeConfig:
        """The configuration in force now (read by HTTP threads; replaced whole, never mutated)."""
        return self.office.config if self.office is not None else self.seed_config

    @property
    def broker_url(self) -> BrokerURL:
        """Where devices connect (address only: each device logs in as itself)."""
        if self.options.broker:
            return BrokerURL(self.options.broker.host, self.options.broker.port, tls=self.options.broker.tls, ca_file=self.options.broker.ca_file)
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
        # The dossier change log the province forwarder reads is kept by triggers in the office database.
        from queue_server.province.outbox import migrate as keep_dossier_change_log

        keep_dossier_change_log(self.store.path)
        self.appointments = AppointmentDesk(self.store.path, self.hub)
        self.office = Office(self.config, self.store, self.clock, extensions=[self.appointments])
        self.appointments.start(self.office)
        self._refresh_snapshot()
        self.hub.publish(self.office.retained_state())  # pages get state even before the broker is up
        self.link = self.link_factory(self)
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
            self.inbox.put(inbox.Stop())
            self._worker.join(10)
        if self.link:
            self.link.stop()
        if self.http:
            self.http.shutdown()
        if self.broker:
            self.broker.stop()
        if self.appointments:
            self.appointments.stop()
        if self.store:
            self.store.close()

    def wait(self) -> None:
        """Block until stop() (or a signal handler calling it)."""
        while not self.stopping.wait(1.0):
            pass

    # --- MQTT (the connection itself is queue_server/mqtt_link.py) ----------------------------

    def _mqtt_link(self) -> MqttLink:
        return MqttLink(self.topics, self._server_login(), on_request=self._on_request, on_presence=self._on_presence,
                        on_connected=self._on_connected, probe_interval=self.options.probe_interval)

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
        self.inbox.put(inbox.DeviceRequest(device, payload))

    def _on_presence(self, device: str, payload: bytes) -> None:
        self.inbox.put(inbox.Presence(device, payload))

    def _on_connected(self) -> None:
        # Retained state must be republished on every connect (the embedded broker forgets it).
        self.inbox.put(inbox.Republish())

    def _publish(self, items: list[Outbound]) -> None:
        assert self.link is not None
        for item in items:
            self.link.publish(item.topic, item.encoded(), qos=item.qos, retain=item.retain)
        self.hub.publish(items)

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
        last_tick = time.monotonic()
        while True:
            if time.monotonic() - last_tick >= TICK_SECONDS:  # also under a steady load, not only when idle
                last_tick = time.monotonic()
                try:
                    self._publish(self.office.tick())
                except Exception:  # the worker must outlive a bug in a view or the link
                    log.exception("periodic work failed")
                self._alive()
            try:
                first = self.inbox.get(timeout=min(TICK_SECONDS, self.notifier.interval or TICK_SECONDS))
            except queue.Empty:
                self._alive()
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
                    self.link.publish(self.topics.status(p.SERVER_DEVICE_ID), p.ONLINE, qos=1, retain=True)
            except Exception:  # the worker must outlive any one bad batch
                log.exception("failed to handle a batch of %d messages", len(items))
            for message in items:
                if isinstance(message, inbox.Call):
                    self._run_call(message)
            try:
                self._refresh_snapshot()
            except Exception:
                log.exception("could not refresh the pages' snapshot")
            self._alive()
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

    def _run_call(self, message: inbox.Call) -> None:
        try:
            message.result.set_result(message.fn(self.office))
        except Exception as exc:  # the caller gets the exception; the worker goes on
            message.result.set_exception(exc)

    def in_worker(self, fn: Any, timeout: float = 10.0) -> Any:
        """Run fn(office) in the worker thread between batches and return its result. Thread-safe.
        The one way for another thread to read the engine's state (which only the worker touches)."""
        message = inbox.Call(fn)
        self.inbox.put(message)
        return message.result.result(timeout)

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
            # Open on the LAN (/api/state): counters without the official's id (the event log, for managers, has it).
            "counters": [{k: v for k, v in counter_view(office.state, self.config, c).to_payload().items() if k != "staff"}
                         for c in office.state.counters.values()],
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
