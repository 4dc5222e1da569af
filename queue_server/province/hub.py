"""`motcua hub`: consume the offices' chunks from the cluster and store them in PostgreSQL.

Threads: paho's network thread only queues what arrives; one worker stores everything that
arrived together in one transaction, then acknowledges those MQTT messages (manual acks:
a message is acknowledged to the cluster only after its rows are committed, so a hub killed
mid-batch gets it again) and tells each office where the hub stands. An aggregator folds
dirty (office, day) pairs into the daily figures; the board snapshot for the big screen is
refreshed from them every few seconds and served from memory.

The hub subscribes with a persistent session (clean_session false): while it is away the
cluster keeps what offices send, up to each forwarder's window.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from datetime import date, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from motcua.broker_url import parse_broker_url
from motcua.client import disable_nagle
from motcua.clock import Clock, SystemClock
from motcua.protocol import ProtocolError, decode_json_value
from queue_server.province import hubdb
from queue_server.province.credentials import Credential
from queue_server.province.export import scrub
from queue_server.province.forwarder import next_broker
from queue_server.province.hubconfig import HubConfig
from queue_server.province.topics import ProvinceTopics

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_BATCH_MESSAGES = 400
MAX_BATCH_EVENTS = 20_000
BOARD_SECONDS = 2.0
# Marker queued at each connection: what a previous hub process took but never stored waits in the
# cluster until its ack_wait (30 s) runs out, so the hub tells every office at once where it stands.
RESYNC = "\0resync"


class ChunkError(ValueError):
    """A message that is not a valid chunk (dropped and counted: it would only be refused again)."""


def _text(value: Any, name: str, limit: int = 64, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ChunkError(f"{name}: expected text of at most {limit} characters")
    return value


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChunkError(f"{name}: expected a whole number >= 0")
    return value


def _time(value: Any, name: str) -> str:
    try:
        parsed = datetime.fromisoformat(_text(value, name) or "")
    except ValueError:
        raise ChunkError(f"{name}: not an ISO time") from None
    if parsed.tzinfo is None:
        raise ChunkError(f"{name}: a time without an offset is ambiguous")
    return value


def _event(raw: Any, office: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ChunkError("event: expected an object")
    seq = _int(raw.get("seq"), "seq")
    if seq < 1:
        raise ChunkError("seq: starts at 1")
    if raw.get("office") != office:
        raise ChunkError("office: an office may send only its own events (the topic names it)")
    day = raw.get("business_day")
    if day is not None:
        try:
            date.fromisoformat(_text(day, "business_day") or "")
        except ValueError:
            raise ChunkError("business_day: not a date") from None
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ChunkError("data: expected an object")
    return {"office": office, "seq": seq, "id": _text(raw.get("id"), "id"), "type": _text(raw.get("type"), "type"),
            "at": _time(raw.get("at"), "at"), "business_day": day, "device": _text(raw.get("device"), "device", optional=True),
            "data": scrub(data)}


_DOSSIER_TEXT = {"code": 40, "status": 32, "procedure_code": 100, "procedure_name": 500, "due_at": 40, "applicant": 200,
                 "return_counter": 50, "return_counter_name": 100, "return_service": 50}
_DOSSIER_TIMES = ("updated_at", "status_at", "received_at")


def _dossier(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ChunkError("dossier: expected an object")
    out: dict[str, Any] = {"change": _int(raw.get("change"), "change")}
    for key, limit in _DOSSIER_TEXT.items():
        out[key] = _text(raw.get(key), key, limit, optional=key != "code" and key != "status")
    for key in _DOSSIER_TIMES:
        out[key] = _time(raw.get(key), key)
    out["finished_at"] = _time(raw["finished_at"], "finished_at") if raw.get("finished_at") else None
    for key in ("late", "source_late"):
        if raw.get(key) is not None and not isinstance(raw.get(key), bool):
            raise ChunkError(f"{key}: expected true, false or null")
        out[key] = raw.get(key)
    return out


def parse_chunk(kind: str, office: str, payload: bytes) -> hubdb.Chunk:
    """Validate one message from an office (whatever arrives on the cluster may be anything)."""
    try:
        body = decode_json_value(payload, max_bytes=MAX_MESSAGE_BYTES, max_depth=16)
    except ProtocolError as exc:
        raise ChunkError(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ChunkError("expected a JSON object")
    local_seq = body.get("local_seq")
    chunk = hubdb.Chunk(kind=kind, office=office, local_seq=_int(local_seq, "local_seq") if local_seq is not None else None)
    if kind == "events":
        events = body.get("events")
        if not isinstance(events, list) or not events:
            raise ChunkError("events: expected a non-empty list")
        chunk.events = [_event(e, office) for e in events]
    elif kind == "dossiers":
        dossiers = body.get("dossiers")
        if not isinstance(dossiers, list) or not dossiers:
            raise ChunkError("dossiers: expected a non-empty list")
        chunk.dossiers = [_dossier(d) for d in dossiers]
        chunk.after, chunk.last = _int(body.get("after"), "after"), _int(body.get("last"), "last")
    elif kind == "hello":
        chunk.nonce = _text(body.get("nonce"), "nonce")
        chunk.name = _text(body.get("name"), "name", 200, optional=True)
    elif kind == "status":
        chunk.online = bool(body.get("online"))
        chunk.name = _text(body.get("name"), "name", 200, optional=True)
    return chunk


class Hub:
    def __init__(self, config: HubConfig, credential: Credential, clock: Clock | None = None) -> None:
        self.config = config
        self.credential = credential
        self.clock = clock or SystemClock()
        self.topics = ProvinceTopics(config.topic_root)
        self.brokers = [parse_broker_url(b) for b in config.brokers]
        self.inbox: queue.Queue[tuple[str, bytes, int, int]] = queue.Queue()
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self.stored_events = 0
        self.rejected = 0
        self.batches = 0
        self._broker_index = 0
        self._threads: list[threading.Thread] = []
        self._board: dict[str, Any] = {"offices": [], "generated_at": None}
        self._board_lock = threading.Lock()
        self.board_changed = threading.Condition()
        self.http: Any = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self, http_listen: tuple[str, int] | None = None) -> None:
        with hubdb.connect(self.config.database) as conn:
            hubdb.migrate(conn)
        self.db = hubdb.connect(self.config.database)
        self.client = self._mqtt_client()
        url = self.brokers[0]
        self.client.connect_async(url.host, url.port, keepalive=20)
        self.client.loop_start()
        for target, name in ((self._work, "hub-worker"), (self._aggregate_loop, "hub-aggregator")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.refresh_board()
        if http_listen:
            from queue_server.province.web import serve

            self.http = serve(self, *http_listen)

    def stop(self) -> None:
        self.stopping.set()
        self.inbox.put(("", b"", 0, 0))
        for thread in self._threads:
            thread.join(10)
        self.client.disconnect()
        self.client.loop_stop()
        if self.http:
            self.http.shutdown()
        self.db.close()

    # --- MQTT ------------------------------------------------------------------------

    def _mqtt_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id, clean_session=False,
                             manual_ack=True)
        client.username_pw_set(self.credential.username, self.credential.password)
        client.reconnect_delay_set(min_delay=1, max_delay=4)
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = lambda *_: self._next_broker()
        client.on_message = self._on_message
        return client

    def _next_broker(self) -> None:
        self._broker_index = next_broker(self.client, self.brokers, self._broker_index)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error("central broker %s refused the hub: %s", self.brokers[self._broker_index], reason)
            self._next_broker()
            return
        disable_nagle(client)
        # QoS 1 for what must not be lost; hellos and heartbeats are QoS 0 at the sender anyway.
        client.subscribe([(self.topics.all(kind), 1) for kind in ("events", "dossiers", "hello", "status")])
        self.inbox.put((RESYNC, b"", 0, 0))
        self.connected.set()
        log.info("hub connected to central broker %s", self.brokers[self._broker_index])

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("hub lost the central broker (%s); trying the next node", reason)
            self._next_broker()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put((msg.topic, msg.payload, msg.mid, msg.qos))

    # --- the worker ------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[str, bytes, int, int]]:
        first = self.inbox.get()
        batch, events = [first], first[1].count(b'"seq"')
        while len(batch) < MAX_BATCH_MESSAGES and events < MAX_BATCH_EVENTS:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            events += item[1].count(b'"seq"')
        return batch

    def _work(self) -> None:
        while not self.stopping.is_set():
            batch = [m for m in self._take_batch() if m[0]]
            if any(m[0] == RESYNC for m in batch):
                self._resync()
                batch = [m for m in batch if m[0] != RESYNC]
            if not batch:
                continue
            chunks: list[hubdb.Chunk] = []
            rejected: dict[str, int] = {}
            for topic, payload, _, _ in batch:
                parsed = self.topics.parse(topic)
                if parsed is None or parsed[0] == "ack":
                    continue
                kind, office = parsed
                try:
                    chunks.append(parse_chunk(kind, office, payload))
                except ChunkError as exc:
                    log.warning("dropped a %s message from %s: %s", kind, office, exc)
                    rejected[office] = rejected.get(office, 0) + 1
            positions = self._store(chunks, rejected)
            if positions is None:
                return  # stopping before the batch could be stored: the cluster redelivers it
            for _, _, mid, qos in batch:
                if qos:
                    self.client.ack(mid, qos)
            for position in positions:
                # QoS 0: an ack is stale as soon as the next one exists; QoS 1 would store each in the cluster.
                self.client.publish(self.topics.ack(position.office), json.dumps(position.ack()), qos=0)
            self.batches += 1

    def _resync(self) -> None:
        """Tell every known office where the hub stands: each forwarder resends what follows."""
        try:
            positions = hubdb.positions(self.db)
        except psycopg.Error as exc:
            log.error("cannot read the offices' positions: %s", exc)
            self._reconnect_db()
            return
        for position in positions:
            position.resync = True
            self.client.publish(self.topics.ack(position.office), json.dumps(position.ack()), qos=0)

    def _store(self, chunks: list[hubdb.Chunk], rejected: dict[str, int]) -> list[hubdb.Position] | None:
        """Store until it works (PostgreSQL may restart); None only when stopping."""
        delay = 0.5
        while not self.stopping.is_set():
            try:
                if rejected:
                    with self.db.transaction():
                        for office, n in rejected.items():
                            self.db.execute("INSERT INTO offices (office, rejected) VALUES (%s, %s) "
                                            "ON CONFLICT (office) DO UPDATE SET rejected = offices.rejected + %s", [office, n, n])
                    self.rejected += sum(rejected.values())
                    rejected = {}
                positions = hubdb.store(self.db, chunks, self.config.timezone) if chunks else []
                self.stored_events += sum(len(c.events) for c in chunks)
                return positions
            except psycopg.Error as exc:
                log.error("storing a batch failed (%s); retrying in %.1f s", exc, delay)
                self._reconnect_db()
                self.stopping.wait(delay)
                delay = min(delay * 2, 10)
        return None

    def _reconnect_db(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.db.close()
        try:
            self.db = hubdb.connect(self.config.database)
        except psycopg.Error as exc:
            log.error("cannot reach PostgreSQL: %s", exc)

    # --- aggregates and the board ----------------------------------------------------------

    def _aggregate_loop(self) -> None:
        conn: psycopg.Connection | None = None
        while not self.stopping.wait(BOARD_SECONDS):
            try:
                if conn is None or conn.closed:
                    conn = hubdb.connect(self.config.database)
                while hubdb.aggregate_dirty(conn, self.config.targets.wait_minutes):
                    pass
                self.refresh_board(conn)
            except psycopg.Error as exc:
                log.error("aggregating failed: %s", exc)
                conn = None
        if conn is not None:
            conn.close()

    def refresh_board(self, conn: psycopg.Connection | None = None) -> None:
        from queue_server.province.board import build_board

        now = self.clock.now()
        own = conn is None
        conn = conn or hubdb.connect(self.config.database)
        try:
            rows = hubdb.board(conn, now.astimezone(self.config.tz).date())
        finally:
            if own:
                conn.close()
        board = build_board(rows, self.config, now)
        with self._board_lock:
            self._board = board
        with self.board_changed:
            self.board_changed.notify_all()

    def board(self) -> dict[str, Any]:
        with self._board_lock:
            return self._board
