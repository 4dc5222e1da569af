"""Visit rows derived from the event log: one row per visit to a counter, caught up incrementally.

A visit starts when a ticket joins a queue (issued, transferred, or requeued after a no-show)
and ends when it leaves a counter (served, skipped as a no-show, transferred) or the day ends
(expired). A ticket transferred twice has three visits. The rows live in their own tables of
the office database (component `reports`) and are never the source of truth: `rebuild()`
derives them again from the log, and a test checks it gives the same rows as the live catch-up.

The queue's worker never waits for this: catching up runs on its own connection, in whoever
asks for figures (a dashboard request, `motcua report`), in short transactions with
synchronous=NORMAL (the rows are derived; the worker's own FULL commits sync the WAL anyway).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.reports import dossier_figures, rollup
from queue_server.reports.periods import iso_week
from queue_server.store import Store, migrate_component, write_transaction

COMPONENT = "reports"
LAST_SEQ_KEY = "reports.last_seq"

# Outcomes of a visit. The first three are still open (the ticket is in the office now).
WAITING, CALLED, SERVING = "waiting", "called", "serving"
SERVED, NO_SHOW, TRANSFERRED, EXPIRED = "served", "no_show", "transferred", "expired"
OPEN_OUTCOMES = (WAITING, CALLED, SERVING)

VISIT_COLUMNS = (
    "ticket_id", "visit", "business_day", "week", "number", "service", "original_service", "priority_group",
    "joined_at", "joined_by", "hour", "target_counter", "called_at", "last_called_at", "calls", "started_at", "ended_at",
    "outcome", "counter", "staff", "skipped_at", "requeued_at", "transferred_at", "to_service", "to_counter",
    "wait_seconds", "service_seconds", "last",
)
VOTE_COLUMNS = ("ticket_id", "business_day", "week", "at", "level", "reasons", "service", "counter", "staff")
SESSION_COLUMNS = ("counter", "signed_in_at", "business_day", "staff", "signed_out_at")

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE report_visits (
            ticket_id TEXT NOT NULL, visit INTEGER NOT NULL, business_day TEXT NOT NULL, week TEXT NOT NULL,
            number TEXT NOT NULL, service TEXT NOT NULL, original_service TEXT NOT NULL, priority_group TEXT,
            joined_at TEXT NOT NULL, joined_by TEXT NOT NULL, hour INTEGER NOT NULL, target_counter TEXT,
            called_at TEXT, last_called_at TEXT, calls INTEGER NOT NULL, started_at TEXT, ended_at TEXT,
            outcome TEXT NOT NULL, counter TEXT, staff TEXT, skipped_at TEXT, requeued_at TEXT, transferred_at TEXT,
            to_service TEXT, to_counter TEXT, wait_seconds REAL, service_seconds REAL, last INTEGER NOT NULL,
            PRIMARY KEY (ticket_id, visit)) WITHOUT ROWID""",
        # Figures filter by day first; the covering columns keep a year's scan off the table rows.
        "CREATE INDEX report_visits_day ON report_visits (business_day, service, counter, staff, wait_seconds)",
        "CREATE INDEX report_visits_open ON report_visits (outcome) WHERE outcome IN ('waiting', 'called', 'serving')",
        """CREATE TABLE report_votes (ticket_id TEXT PRIMARY KEY, business_day TEXT NOT NULL,
            week TEXT NOT NULL, at TEXT NOT NULL, level TEXT NOT NULL, reasons TEXT NOT NULL, service TEXT, counter TEXT,
            staff TEXT)""",
        "CREATE INDEX report_votes_day ON report_votes (business_day)",
        """CREATE TABLE report_vote_reasons (
            ticket_id TEXT NOT NULL, reason TEXT NOT NULL, level TEXT NOT NULL, business_day TEXT NOT NULL,
            PRIMARY KEY (ticket_id, reason)) WITHOUT ROWID""",
        "CREATE INDEX report_vote_reasons_day ON report_vote_reasons (business_day)",
        """CREATE TABLE report_sessions (
            counter TEXT NOT NULL, signed_in_at TEXT NOT NULL, business_day TEXT NOT NULL, staff TEXT NOT NULL,
            signed_out_at TEXT, PRIMARY KEY (counter, signed_in_at)) WITHOUT ROWID""",
        *rollup.MIGRATIONS,
        *dossier_figures.MIGRATIONS,
    ],
]

_UPSERT_VISIT = (
    f"INSERT INTO report_visits ({', '.join(VISIT_COLUMNS)}) VALUES ({', '.join('?' * len(VISIT_COLUMNS))}) "
    f"ON CONFLICT (ticket_id, visit) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in VISIT_COLUMNS[2:])}"
)
_UPSERT_SESSION = (
    f"INSERT INTO report_sessions ({', '.join(SESSION_COLUMNS)}) VALUES ({', '.join('?' * len(SESSION_COLUMNS))}) "
    "ON CONFLICT (counter, signed_in_at) DO UPDATE SET staff = excluded.staff, signed_out_at = excluded.signed_out_at"
)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


class Projector:
    """Folds events (type, data) into visit, vote and session rows; `flush()` writes what changed.

    The latest visit of each ticket seen lately is kept in memory; a ticket met for the first
    time since a restart is read back from the table, so catching up can resume anywhere.
    """

    def __init__(self, db: Any, config: OfficeConfig, seq: int = 0) -> None:
        self.db = db
        self.config = config
        self.seq = seq  # the last event folded into the tables this projector's cache reflects
        self.tz = config.tz
        self.latest: dict[str, dict[str, Any]] = {}  # ticket id -> its latest visit row
        self.sessions: dict[str, dict[str, Any] | None] = {}  # counter -> its latest session row
        self.dirty_visits: dict[tuple[str, int], dict[str, Any]] = {}
        self.dirty_sessions: dict[tuple[str, str], dict[str, Any]] = {}
        self.votes: list[tuple[Any, ...]] = []
        self.reasons: list[tuple[Any, ...]] = []
        self._weeks: dict[str, str] = {}
        self._handlers = {
            "TicketIssued": self._issued, "TicketCalled": self._called, "ServiceStarted": self._started,
            "TicketFinished": self._finished, "TicketSkipped": self._skipped, "TicketRequeued": self._requeued,
            "TicketTransferred": self._transferred, "TicketExpired": self._expired, "VoteSubmitted": self._voted,
            "CounterSignedIn": self._signed_in, "CounterSignedOut": self._signed_out, "CounterClosed": self._signed_out,
            "BusinessDayStarted": self._day_started,
        }

    # --- folding ------------------------------------------------------------------

    def fold(self, type_name: str, data: dict[str, Any]) -> None:
        handler = self._handlers.get(type_name)
        if handler is not None:  # other events (pauses, device status, reprints) make no rows
            handler(data)

    def _week(self, day: str) -> str:
        week = self._weeks.get(day)
        if week is None:
            week = self._weeks[day] = iso_week(day)
        return week

    def _hour(self, at: str) -> int:
        return datetime.fromisoformat(at).astimezone(self.tz).hour

    def _visit(self, ticket_id: str) -> dict[str, Any] | None:
        row = self.latest.get(ticket_id)
        if row is None:
            found = self.db.execute(
                f"SELECT {', '.join(VISIT_COLUMNS)} FROM report_visits WHERE ticket_id = ? AND last = 1", [ticket_id]
            ).fetchone()
            if found is None:
                return None  # a ticket issued before the log we have (cannot happen from a full log)
            row = self.latest[ticket_id] = dict(zip(VISIT_COLUMNS, found, strict=True))
        return row

    def _touch(self, row: dict[str, Any]) -> None:
        self.dirty_visits[(row["ticket_id"], row["visit"])] = row

    def _new_visit(self, prev: dict[str, Any] | None, ticket_id: str, at: str, joined_by: str, **fields: Any) -> None:
        day = ticket_id.split("/", 1)[0]
        row = {c: None for c in VISIT_COLUMNS}
        row.update(
            ticket_id=ticket_id, visit=0 if prev is None else prev["visit"] + 1, business_day=day, week=self._week(day),
            joined_at=at, joined_by=joined_by, hour=self._hour(at), calls=0, outcome=WAITING, last=1,
        )
        if prev is not None:
            prev["last"] = 0
            self._touch(prev)
            row.update(number=prev["number"], service=prev["service"], original_service=prev["original_service"],
                       priority_group=prev["priority_group"])
        row.update(fields)
        self.latest[ticket_id] = row
        self._touch(row)

    def _issued(self, d: dict[str, Any]) -> None:
        self._new_visit(None, d["ticket_id"], d["at"], "issued", number=d["number"], service=d["service"],
                        original_service=d["service"], priority_group=d.get("priority_group"))

    def _called(self, d: dict[str, Any]) -> None:
        row = self._visit(d["ticket_id"])
        if row is None:
            return
        if row["called_at"] is None:
            row["called_at"] = d["at"]
            row["wait_seconds"] = _seconds(row["joined_at"], d["at"])
        if row["outcome"] == WAITING:
            row["outcome"] = CALLED
        row["last_called_at"] = d["at"]
        row["calls"] += 1
        row["counter"], row["staff"] = d["counter"], d.get("staff")
        self._touch(row)

    def _started(self, d: dict[str, Any]) -> None:
        row = self._visit(d["ticket_id"])
        if row is not None:
            row.update(started_at=d["at"], outcome=SERVING)
            self._touch(row)

    def _end(self, row: dict[str, Any], d: dict[str, Any], outcome: str, served: bool) -> None:
        row.update(ended_at=d["at"], outcome=outcome)
        if "counter" in d:
            row["counter"], row["staff"] = d["counter"], d.get("staff")
        if served:
            # As the engine does: without an explicit start, service began at the last call.
            row["started_at"] = row["started_at"] or row["last_called_at"]
            row["service_seconds"] = _seconds(row["started_at"], d["at"])
        self._touch(row)

    def _finished(self, d: dict[str, Any]) -> None:
        row = self._visit(d["ticket_id"])
        if row is not None:
            self._end(row, d, SERVED, served=True)

    def _skipped(self, d: dict[str, Any]) -> None:
        row = self._visit(d["ticket_id"])
        if row is not None:
            self._end(row, d, NO_SHOW, served=False)
            row["skipped_at"] = d["at"]

    def _requeued(self, d: dict[str, Any]) -> None:
        prev = self._visit(d["ticket_id"])
        if prev is not None:
            prev["requeued_at"] = d["at"]
            self._new_visit(prev, d["ticket_id"], d["at"], "requeued")

    def _transferred(self, d: dict[str, Any]) -> None:
        prev = self._visit(d["ticket_id"])
        if prev is None:
            return
        self._end(prev, d, TRANSFERRED, served=True)
        prev.update(transferred_at=d["at"], to_service=d["to_service"], to_counter=d.get("to_counter"))
        self._new_visit(prev, d["ticket_id"], d["at"], "transferred", service=d["to_service"], target_counter=d.get("to_counter"))

    def _expired(self, d: dict[str, Any]) -> None:
        row = self._visit(d["ticket_id"])
        if row is not None and row["outcome"] in OPEN_OUTCOMES:
            row.update(ended_at=d["at"], outcome=EXPIRED)
            self._touch(row)

    def _voted(self, d: dict[str, Any]) -> None:
        tid = d["ticket_id"]
        row = self._visit(tid)
        day = tid.split("/", 1)[0]
        reasons = list(d.get("reasons") or ())
        self.votes.append((tid, day, self._week(day), d["at"], d["level"], json.dumps(reasons, ensure_ascii=False),
                           row["service"] if row else None, d.get("counter"), d.get("staff")))
        self.reasons += [(tid, reason, d["level"], day) for reason in dict.fromkeys(reasons)]

    def _signed_in(self, d: dict[str, Any]) -> None:
        counter = d["counter"]
        row = {"counter": counter, "signed_in_at": d["at"], "business_day": self.config.business_day(datetime.fromisoformat(d["at"])),
               "staff": d["staff"], "signed_out_at": None}
        self.sessions[counter] = row
        self.dirty_sessions[(counter, d["at"])] = row

    def _signed_out(self, d: dict[str, Any]) -> None:
        counter = d["counter"]
        row = self.sessions.get(counter)
        if row is None:
            found = self.db.execute(
                f"SELECT {', '.join(SESSION_COLUMNS)} FROM report_sessions WHERE counter = ? AND signed_out_at IS NULL "
                "ORDER BY signed_in_at DESC LIMIT 1", [counter]
            ).fetchone()
            row = self.sessions[counter] = dict(zip(SESSION_COLUMNS, found, strict=True)) if found else None
        # A sign-out of a counter already closed (the engine allows it) changes nothing.
        if row is not None and row["signed_out_at"] is None:
            row["signed_out_at"] = d["at"]
            self.dirty_sessions[(counter, row["signed_in_at"])] = row

    def _day_started(self, d: dict[str, Any]) -> None:
        # Tickets of older days get no more events (the rollover expired them just before): the
        # previous day is final, so it is rolled up now.
        self.flush()
        self.latest.clear()
        if d.get("previous_day"):
            rollup.store_day(self.db, d["previous_day"])

    # --- writing ------------------------------------------------------------------

    def flush(self) -> None:
        """Write the rows changed since the last flush (the caller holds the transaction)."""
        if self.dirty_visits:
            self.db.conn.executemany(_UPSERT_VISIT, [tuple(r[c] for c in VISIT_COLUMNS) for r in self.dirty_visits.values()])
            self.dirty_visits.clear()
        if self.dirty_sessions:
            self.db.conn.executemany(_UPSERT_SESSION, [tuple(r[c] for c in SESSION_COLUMNS) for r in self.dirty_sessions.values()])
            self.dirty_sessions.clear()
        if self.votes:
            self.db.conn.executemany(
                f"INSERT OR REPLACE INTO report_votes ({', '.join(VOTE_COLUMNS)}) VALUES ({', '.join('?' * len(VOTE_COLUMNS))})",
                self.votes,
            )
            self.votes.clear()
        if self.reasons:
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO report_vote_reasons (ticket_id, reason, level, business_day) VALUES (?, ?, ?, ?)",
                self.reasons,
            )
            self.reasons.clear()


class ReportDB:
    """The report tables of one office database, with their own connection and catch-up."""

    BATCH = 1000  # events per write lock: ~10 ms, so the worker's next commit never waits long

    def __init__(self, path: str | Path, config: OfficeConfig) -> None:
        self.config = config
        self.store = Store(path, config.id)
        self.db = self.store.db
        self.db.execute("PRAGMA synchronous = NORMAL")  # derived rows: see the module docstring
        migrate_component(self.db, COMPONENT, MIGRATIONS)
        self.projector = Projector(self.db, config, -1)
        self.lock = threading.Lock()  # one catch-up at a time per connection

    @classmethod
    def in_dir(cls, data_dir: str | Path, config: OfficeConfig) -> ReportDB:
        from queue_server.store import DB_FILENAME

        return cls(Path(data_dir) / DB_FILENAME, config)

    def close(self) -> None:
        self.store.close()

    def last_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [LAST_SEQ_KEY]).fetchone()
        return int(row[0]) if row else 0

    def catch_up(self, limit: int | None = None) -> int:
        """Fold the events after the last one folded; returns how many. Safe to call often, from any process.

        Each batch reads the position, folds and writes under one write lock (BEGIN IMMEDIATE), so two
        processes catching up at once never fold an event twice; a projector whose position is not the
        table's (another process folded meanwhile) forgets its cache first.
        """
        done = 0
        with self.lock:
            while limit is None or done < limit:
                try:
                    with write_transaction(self.db):
                        seq = self.last_seq()
                        if seq != self.projector.seq:
                            self.projector = Projector(self.db, self.config, seq)
                        rows = self.store.events_after(seq, self.BATCH if limit is None else min(self.BATCH, limit - done))
                        if not rows:
                            break
                        for event in rows:
                            self.projector.fold(event.type, event.data)
                        self.projector.flush()
                        self.db.execute(
                            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            [LAST_SEQ_KEY, str(rows[-1].seq)],
                        )
                        self.projector.seq = rows[-1].seq
                except Exception:
                    # The rows rolled back: forget what the projector folded, so memory and disk agree.
                    self.projector = Projector(self.db, self.config, -1)
                    raise
                done += len(rows)
        return done

    def refresh_dossiers(self) -> int:
        """Count again the days of dossiers changed since the last refresh; returns how many changed."""
        with self.lock, write_transaction(self.db):
            return dossier_figures.refresh(self.db, self.config)

    def rebuild(self) -> int:
        """Forget every derived row and fold the whole log again; returns the events folded."""
        with self.lock, write_transaction(self.db):
            for table in ("report_visits", "report_votes", "report_vote_reasons", "report_sessions", *rollup.ROLLUP_TABLES,
                          *dossier_figures.DOSSIER_TABLES):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM meta WHERE key IN (?, ?)", [LAST_SEQ_KEY, dossier_figures.WATERMARK_KEY])
            self.projector = Projector(self.db, self.config, 0)
        return self.catch_up()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a report table in a stable order (tests compare a rebuild with the live rows)."""
        columns = [c.name for c in self.db[table].columns]
        cursor = self.db.execute(f"SELECT * FROM {table} ORDER BY {', '.join(str(i + 1) for i in range(min(3, len(columns))))}")
        return [dict(zip(columns, row, strict=True)) for row in cursor]
