"""The SQLite store: an append-only event log beside current-state tables.

Durability is the first promise: WAL with synchronous=FULL, so a commit is on disk
before the server replies (with NORMAL a power cut can drop the last commits).
One `commit()` call is one transaction: the events of a batch of requests, the rows
they changed, and the replies for their request ids commit together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import typing
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.config import OfficeConfig
from queue_server.config import parse as config_parse
from queue_server.engine import events as ev
from queue_server.engine import new_state
from queue_server.engine.engine import note_issue
from queue_server.engine.state import CounterState, DeviceReport, OfficeState, RecentCall, Ticket

DB_FILENAME = "motcua.db"

# Each migration is a list of statements; index + 1 is the schema version it creates.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, office TEXT NOT NULL, type TEXT NOT NULL,
            at TEXT NOT NULL, business_day TEXT, device TEXT, request_id TEXT, data TEXT NOT NULL)""",
        "CREATE INDEX events_type_at ON events (type, at)",
        """CREATE TABLE tickets (
            id TEXT PRIMARY KEY, business_day TEXT NOT NULL, number TEXT NOT NULL, service TEXT NOT NULL,
            seq INTEGER NOT NULL, priority_group TEXT, queue_order INTEGER NOT NULL, status TEXT NOT NULL,
            target_counter TEXT, counter TEXT, staff TEXT, call_count INTEGER NOT NULL, issued_at TEXT NOT NULL,
            first_called_at TEXT, called_at TEXT, started_at TEXT, finished_at TEXT, transfers INTEGER NOT NULL,
            voted INTEGER NOT NULL, vote_token TEXT NOT NULL UNIQUE, public_token TEXT NOT NULL UNIQUE,
            UNIQUE (business_day, number))""",
        "CREATE INDEX tickets_finished ON tickets (status, finished_at)",
        """CREATE TABLE counters (
            id TEXT PRIMARY KEY, open INTEGER NOT NULL, paused INTEGER NOT NULL, paused_reason TEXT,
            staff TEXT, current TEXT, cycle_regular INTEGER NOT NULL, cycle_priority INTEGER NOT NULL,
            updated_at TEXT)""",
        "CREATE TABLE closed_services (code TEXT PRIMARY KEY)",
        """CREATE TABLE requests (
            device TEXT NOT NULL, request_id TEXT NOT NULL, reply TEXT NOT NULL, at TEXT NOT NULL,
            PRIMARY KEY (device, request_id)) WITHOUT ROWID""",
        "CREATE INDEX requests_at ON requests (at)",
        """CREATE TABLE device_status (
            device TEXT NOT NULL, component TEXT NOT NULL, state TEXT NOT NULL, detail TEXT, at TEXT NOT NULL,
            PRIMARY KEY (device, component))""",
        """CREATE TABLE votes (
            ticket_id TEXT PRIMARY KEY, level TEXT NOT NULL, reasons TEXT NOT NULL, counter TEXT, staff TEXT,
            at TEXT NOT NULL)""",
    ],
    [  # 2: per-kiosk issue limits, counter figures and rating, closed-field reasons, request digests
        "ALTER TABLE tickets ADD COLUMN device TEXT",
        "ALTER TABLE counters ADD COLUMN last_finished TEXT",
        "ALTER TABLE counters ADD COLUMN served_today INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE counters ADD COLUMN service_seconds_today REAL NOT NULL DEFAULT 0",
        "ALTER TABLE closed_services ADD COLUMN reason TEXT",
        "ALTER TABLE requests ADD COLUMN digest TEXT",
    ],
    [  # 3: booked tickets (called at their slot) and tickets taken from a phone (called once here)
        "ALTER TABLE tickets ADD COLUMN slot_at TEXT",
        "ALTER TABLE tickets ADD COLUMN booking TEXT",
        "ALTER TABLE tickets ADD COLUMN remote INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tickets ADD COLUMN arrived INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE tickets ADD COLUMN passed_at TEXT",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
REQUEST_MEMORY = timedelta(days=7)
SECRET_FIELDS = frozenset({"vote_token", "public_token"})  # how long a re-sent request id still gets its first reply

# Rows are the engine's dataclasses, column for field (one definition: the dataclass).
_RENAMED = {"order": "queue_order"}  # ORDER is an SQL keyword


def _columns(cls: type) -> tuple[str, ...]:
    return tuple(_RENAMED.get(f.name, f.name) for f in fields(cls))


def _to_row(obj: Any) -> list[Any]:
    out = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        out.append(value.isoformat() if isinstance(value, datetime) else int(value) if isinstance(value, bool) else value)
    return out


def _from_row(cls: type, row: Iterable[Any]) -> Any:
    hints = typing.get_type_hints(cls)
    values = {}
    for f, value in zip(fields(cls), row, strict=True):
        kind = hints[f.name]
        if value is not None and datetime in (kind, *typing.get_args(kind)):
            value = datetime.fromisoformat(value)
        elif kind is bool:
            value = bool(value)
        values[f.name] = value
    return cls(**values)


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])}"
    )


_TICKET_COLUMNS = _columns(Ticket)
_COUNTER_COLUMNS = _columns(CounterState)
_UPSERT_TICKET = _upsert("tickets", _TICKET_COLUMNS)
_UPSERT_COUNTER = _upsert("counters", _COUNTER_COLUMNS)


class StoreError(Exception):
    """The database cannot be used (wrong office, newer schema, unreadable file)."""


@dataclass(frozen=True)
class Pending:
    """One request's share of a transaction: its events and the reply to keep for its id."""

    events: list[ev.Event]
    device: str | None
    request_id: str | None
    reply: dict[str, Any] | None
    digest: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    id: str
    office: str
    type: str
    at: str
    business_day: str | None
    device: str | None
    request_id: str | None
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def public(self) -> dict[str, Any]:
        """As exported over HTTP and by the CLI: without the tokens (whoever holds a ticket's
        vote token can vote in its name). Library callers on the box get them via as_dict()."""
        out = self.as_dict()
        out["data"] = {k: v for k, v in self.data.items() if k not in SECRET_FIELDS}
        return out


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def open_connection(path: str | Path) -> sqlite3.Connection:
    """A connection with the durability settings every writer must use."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_reader(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (the province forwarder's): it can never take the write lock.

    In WAL mode readers and the writer do not block each other; each query is its own short
    read transaction, so a reader never holds back checkpoints for long.
    """
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=10)
    conn.execute("PRAGMA query_only = ON")
    return conn


class Store:
    """The office database. One writer (the server's worker thread) at a time."""

    def __init__(self, path: str | Path, office_id: str) -> None:
        self.path = Path(path).resolve()  # absolute: Flask resolves relative paths from the package, not the cwd
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(open_connection(self.path))
        self.office_id = office_id
        self.migrate()
        self.last_seq = self._max_seq()

    @classmethod
    def in_dir(cls, data_dir: str | Path, office_id: str) -> Store:
        return cls(Path(data_dir) / DB_FILENAME, office_id)

    def close(self) -> None:
        self.db.close()

    # --- schema ---------------------------------------------------------------

    def schema_version(self) -> int:
        if "meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Bring the schema up to date; refuse a database of another office or a newer release."""
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {version} is newer than this release ({SCHEMA_VERSION}); upgrade motcua")
        with self.db.atomic():
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(number + 1)],
                )
            row = self.db.execute("SELECT value FROM meta WHERE key = 'office'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta (key, value) VALUES ('office', ?)", [self.office_id])
            elif row[0] != self.office_id:
                raise StoreError(f"{self.path} belongs to office {row[0]!r}, not {self.office_id!r}; use another --data directory")

    def pragmas(self) -> dict[str, Any]:
        """The durability settings in force on this connection (asserted by the tests)."""
        return {
            "journal_mode": self.db.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": self.db.execute("PRAGMA synchronous").fetchone()[0],
        }

    # --- reading ----------------------------------------------------------------

    def _max_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def config_document(self) -> dict[str, Any] | None:
        """The configuration the office last ran on, if it was ever changed at run time."""
        stored = self._meta("config")
        return json.loads(stored) if stored else None

    def current_config(self, seed: OfficeConfig) -> OfficeConfig:
        """The office's configuration: the last one changed at run time, else the seed (the TOML
        file). Command-line overrides of the seed (--always-open) stay on top."""
        document = self.config_document()
        if document is None:
            return seed
        return config_parse(document).with_overrides(**seed.overrides)

    def load_state(self, config: OfficeConfig) -> OfficeState:
        """Rebuild the engine's state from the current-state tables (fast at start)."""
        state = new_state(config)
        state.business_day = self._meta("business_day")
        state.next_order = int(self._meta("next_order") or 1)
        if state.business_day:
            rows = self.db.execute(
                f"SELECT {', '.join(_TICKET_COLUMNS)} FROM tickets WHERE business_day = ?", [state.business_day]
            ).fetchall()
            for row in rows:
                ticket = _from_row(Ticket, row)
                state.tickets[ticket.id] = ticket
                state.vote_tokens[ticket.vote_token] = ticket.id
                if ticket.status == "waiting":
                    state.enqueue(ticket)
            for ticket in sorted(state.tickets.values(), key=lambda t: t.issued_at):
                note_issue(state, ticket.device, ticket.issued_at)
            calls = self.db.execute(
                "SELECT data FROM events WHERE type = 'TicketCalled' AND business_day = ? ORDER BY seq DESC LIMIT ?",
                [state.business_day, state.recent_calls.maxlen],
            ).fetchall()
            for (data,) in calls:
                call = json.loads(data)
                state.recent_calls.append(RecentCall(call["ticket_id"], call["counter"], datetime.fromisoformat(call["at"]), call["recall"]))
            # Numbers restart each day; the next one follows the highest a service has issued
            # (by number, since a transferred ticket keeps the number of the service it came from).
            for ticket in state.tickets.values():
                for code, service in config.services.items():
                    seq = service.numbering.seq_of(ticket.number)
                    if seq is not None:
                        state.next_seq[code] = max(state.next_seq.get(code, 0), seq + 1)
        for row in self.db.execute(f"SELECT {', '.join(_COUNTER_COLUMNS)} FROM counters"):
            if row[0] in state.counters:
                state.counters[row[0]] = _from_row(CounterState, row)
        for code, reason in self.db.execute("SELECT code, reason FROM closed_services"):
            state.closed_services.add(code)
            if reason:
                state.closed_reasons[code] = reason
        state.notice = self._meta("notice") or None
        for device, component, st, detail, at in self.db.execute("SELECT device, component, state, detail, at FROM device_status"):
            state.devices[(device, component)] = DeviceReport(device, component, st, detail, datetime.fromisoformat(at))
        window = config.rules.estimate_window
        for service in config.services:
            recent = self.db.execute(
                "SELECT started_at, finished_at FROM tickets WHERE status = 'finished' AND service = ? "
                "AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                [service, window],
            ).fetchall()
            if recent:
                state.durations[service] = deque(
                    (max(0.0, (_dt(f) - _dt(s)).total_seconds()) for s, f in reversed(recent)), maxlen=window
                )
        return state

    def find_reply(self, device: str, request_id: str) -> tuple[dict[str, Any], str | None] | None:
        """The reply kept for a device's request id, with the digest of what was asked."""
        row = self.db.execute(
            "SELECT reply, digest FROM requests WHERE device = ? AND request_id = ?", [device, request_id]
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def events_after(self, seq: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with a sequence number above `seq`, in order: resume from the last one you have."""
        return read_events(self.db, seq, limit)

    def iter_events(self, after: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        while True:
            chunk = self.events_after(after, batch)
            if not chunk:
                return
            yield from chunk
            after = chunk[-1].seq

    def ticket_count(self, business_day: str | None = None) -> int:
        if business_day is None:
            return self.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM tickets WHERE business_day = ?", [business_day]).fetchone()[0]

    # --- writing ----------------------------------------------------------------

    def commit(self, state: OfficeState, batch: Iterable[Pending], now: datetime,
               side_effects: Sequence[Callable[[sqlite3.Connection, OfficeState, ev.Event], None]] = ()) -> list[int]:
        """Write a batch in one transaction; returns the last sequence number of each item.

        `state` must already have the batch's events applied; the rows they touched are
        written from it. `side_effects` write a feature's own rows for each event in the same
        transaction (queue_server.office.Extension.write). On any error nothing is written
        and the sequence is not advanced.
        """
        batch = list(batch)
        # Another process may have written the log since (`motcua staff` on the console while the
        # server runs): continue after it instead of failing the batch on a taken number.
        seq = self.last_seq = max(self.last_seq, self._max_seq())
        last_seqs: list[int] = []
        tickets: set[str] = set()
        counters: set[str] = set()
        all_counters = False
        with self.db.atomic():
            conn = self.db.conn
            for item in batch:
                for event in item.events:
                    seq += 1
                    type_name, data = ev.to_record(event)
                    conn.execute(
                        "INSERT INTO events (seq, id, office, type, at, business_day, device, request_id, data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [seq, uuid.uuid4().hex, self.office_id, type_name, data["at"], state.business_day,
                         item.device, item.request_id, json.dumps(data, ensure_ascii=False)],
                    )
                    tid = getattr(event, "ticket_id", None)
                    if tid:
                        tickets.add(tid)
                    cid = getattr(event, "counter", None)
                    if cid:
                        counters.add(cid)
                    if isinstance(event, ev.BusinessDayStarted | ev.TicketExpired):
                        all_counters = True
                    self._write_side_effects(conn, state, event)
                    for write in side_effects:
                        write(conn, state, event)
                if item.request_id and item.device and item.reply is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO requests (device, request_id, reply, at, digest) VALUES (?, ?, ?, ?, ?)",
                        [item.device, item.request_id, json.dumps(item.reply, ensure_ascii=False), now.isoformat(), item.digest],
                    )
                last_seqs.append(seq)
            conn.executemany(_UPSERT_TICKET, [_to_row(state.tickets[t]) for t in tickets if t in state.tickets])
            conn.executemany(_UPSERT_COUNTER, [_to_row(state.counters[c]) for c in (state.counters if all_counters else counters)])
            if seq != self.last_seq:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('next_order', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(state.next_order)],
                )
        self.last_seq = seq
        return last_seqs

    def _write_side_effects(self, conn: sqlite3.Connection, state: OfficeState, event: ev.Event) -> None:
        if isinstance(event, ev.BusinessDayStarted):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('business_day', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [event.day],
            )
        elif isinstance(event, ev.ServiceClosed):
            conn.execute("INSERT OR REPLACE INTO closed_services (code, reason) VALUES (?, ?)", [event.service, event.reason])
        elif isinstance(event, ev.OfficeReconfigured):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('config', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [json.dumps(event.document, ensure_ascii=False)],
            )
        elif isinstance(event, ev.NoticeChanged):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('notice', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [event.text or ""],
            )
        elif isinstance(event, ev.ServiceOpened):
            conn.execute("DELETE FROM closed_services WHERE code = ?", [event.service])
        elif isinstance(event, ev.DeviceStatusReported):
            conn.execute(
                "INSERT INTO device_status (device, component, state, detail, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (device, component) DO UPDATE SET state = excluded.state, detail = excluded.detail, at = excluded.at",
                [event.device, event.component, event.state, event.detail, event.at.isoformat()],
            )
        elif isinstance(event, ev.VoteSubmitted):
            conn.execute(
                "INSERT INTO votes (ticket_id, level, reasons, counter, staff, at) VALUES (?, ?, ?, ?, ?, ?)",
                [event.ticket_id, event.level, json.dumps(list(event.reasons), ensure_ascii=False), event.counter,
                 event.staff, event.at.isoformat()],
            )

    def forget_old_requests(self, now: datetime) -> int:
        """Drop remembered replies older than REQUEST_MEMORY (devices retry within seconds)."""
        with self.db.atomic():
            cursor = self.db.execute("DELETE FROM requests WHERE at < ?", [(now - REQUEST_MEMORY).isoformat()])
        return cursor.rowcount

    def reset_sequence(self) -> None:
        """After a failed commit: trust the database, not the counter in memory."""
        self.last_seq = self._max_seq()


def read_events(db: sqlite_utils.Database, seq: int = 0, limit: int = 1000) -> list[StoredEvent]:
    """Store.events_after on any connection to the office database (the web reads with its own)."""
    rows = db.execute(
        "SELECT seq, id, office, type, at, business_day, device, request_id, data FROM events "
        "WHERE seq > ? ORDER BY seq LIMIT ?",
        [seq, max(1, limit)],  # LIMIT -1 would mean no limit at all
    ).fetchall()
    return [StoredEvent(*row[:8], data=json.loads(row[8])) for row in rows]


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE: take the write lock first, so a read-then-write waits its turn.

    A deferred transaction (sqlite-utils' atomic()) that reads and then writes fails at once
    with "database is locked" when another connection (the server's worker) wrote meanwhile;
    the busy timeout does not help an upgrade. Use this for every read-then-write outside
    the worker.
    """
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def migrate_component(db: sqlite_utils.Database, component: str, migrations: list[list[str]]) -> int:
    """Run the pending migrations of one component (procedures, dossiers...) of the same database.

    Each component keeps its own version under meta key `schema_version.<component>`,
    so features add tables without renumbering the core's migrations. Returns the version.
    """
    key = f"schema_version.{component}"
    # The write lock first: a component opened while the worker writes (the first dashboard
    # request of a running server) must wait its turn, not fail "database is locked".
    with db.atomic() if db.conn.in_transaction else write_transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        version = int(row[0]) if row else 0
        if version > len(migrations):
            raise StoreError(f"{component} schema version {version} is newer than this release ({len(migrations)}); upgrade motcua")
        for number in range(version, len(migrations)):
            for statement in migrations[number]:
                db.execute(statement)
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, str(number + 1)],
            )
    return len(migrations)


def backup(source: str | Path, destination: str | Path) -> int:
    """A consistent copy of a live database (SQLite's online backup API); returns pages copied."""
    destination = Path(destination)
    if destination.exists():
        raise StoreError(f"{destination} exists; choose a new file name")
    src = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    dst = sqlite3.connect(str(destination))
    try:
        src.backup(dst)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise StoreError(f"backup {destination} failed its integrity check: {ok}")
        return pages
    finally:
        dst.close()
        src.close()
