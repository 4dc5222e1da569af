"""The staff component's tables in the office database (own migrations: `migrate_component`).

    staff            one row per account; never deleted (the event log and the reports name its id)
    staff_counters   which counters each account may serve at
    staff_sessions   signed-in browsers: the SHA-256 of the cookie's token (a stolen database
                     gives no usable cookie), the CSRF token, when it began and was last seen

Reads run on any connection. Writes that go with an audit event run in the server's worker
(QueueServer.record), so the account row and its event commit together; `touch_session`
alone is written by the web threads (it is not audited).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from queue_server.staff.model import ADMINISTRATOR, StaffMember
from queue_server.store import migrate_component, write_transaction

COMPONENT = "staff"
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE staff (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT,
            active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            password_changed_at TEXT)""",
        """CREATE TABLE staff_counters (
            staff TEXT NOT NULL REFERENCES staff (id), counter TEXT NOT NULL,
            PRIMARY KEY (staff, counter)) WITHOUT ROWID""",
        """CREATE TABLE staff_sessions (
            token_hash TEXT PRIMARY KEY, staff TEXT NOT NULL REFERENCES staff (id), csrf TEXT NOT NULL,
            created_at TEXT NOT NULL, seen_at TEXT NOT NULL, address TEXT)""",
        "CREATE INDEX staff_sessions_staff ON staff_sessions (staff)",
    ],
]


def token_hash(token: str) -> str:
    """What the database keeps of a session cookie."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionRecord:
    token_hash: str
    staff: str
    csrf: str
    created_at: datetime
    seen_at: datetime
    address: str | None


class StaffStore:
    """Accounts and sessions on one connection to the office database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def migrate(self) -> StaffStore:
        migrate_component(self.db, COMPONENT, MIGRATIONS)
        return self

    # --- accounts -------------------------------------------------------------------

    def get(self, staff_id: str) -> StaffMember | None:
        row = self.db.execute(
            "SELECT id, name, role, active, created_at, updated_at FROM staff WHERE id = ?", [staff_id]
        ).fetchone()
        return self._member(row) if row else None

    def all(self) -> list[StaffMember]:
        rows = self.db.execute("SELECT id, name, role, active, created_at, updated_at FROM staff ORDER BY id").fetchall()
        return [self._member(row) for row in rows]

    def names(self) -> dict[str, str]:
        """id -> name of every account (reports and pages show names, the log keeps ids)."""
        return dict(self.db.execute("SELECT id, name FROM staff").fetchall())

    def _member(self, row: tuple) -> StaffMember:
        counters = tuple(c for (c,) in self.db.execute("SELECT counter FROM staff_counters WHERE staff = ? ORDER BY counter", [row[0]]))
        return StaffMember(
            id=row[0], name=row[1], role=row[2], counters=counters, active=bool(row[3]),
            created_at=datetime.fromisoformat(row[4]), updated_at=datetime.fromisoformat(row[5]),
        )

    def password_hash(self, staff_id: str) -> str | None:
        row = self.db.execute("SELECT password_hash FROM staff WHERE id = ?", [staff_id]).fetchone()
        return row[0] if row else None

    def active_administrators(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM staff WHERE role = ? AND active = 1", [ADMINISTRATOR]).fetchone()[0]

    def save(self, member: StaffMember, now: datetime) -> None:
        """Insert or update an account and its counters (the caller holds the transaction)."""
        self.db.execute(
            "INSERT INTO staff (id, name, role, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, active = excluded.active, "
            "updated_at = excluded.updated_at",
            [member.id, member.name, member.role, int(member.active), now.isoformat(), now.isoformat()],
        )
        self.db.execute("DELETE FROM staff_counters WHERE staff = ?", [member.id])
        self.db.conn.executemany("INSERT INTO staff_counters (staff, counter) VALUES (?, ?)", [(member.id, c) for c in member.counters])

    def set_password_hash(self, staff_id: str, stored: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE staff SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
            [stored, now.isoformat(), now.isoformat(), staff_id],
        )

    # --- sessions -------------------------------------------------------------------

    def add_session(self, record: SessionRecord) -> None:
        self.db.execute(
            "INSERT INTO staff_sessions (token_hash, staff, csrf, created_at, seen_at, address) VALUES (?, ?, ?, ?, ?, ?)",
            [record.token_hash, record.staff, record.csrf, record.created_at.isoformat(), record.seen_at.isoformat(), record.address],
        )

    def session(self, hashed: str) -> SessionRecord | None:
        row = self.db.execute(
            "SELECT token_hash, staff, csrf, created_at, seen_at, address FROM staff_sessions WHERE token_hash = ?", [hashed]
        ).fetchone()
        if row is None:
            return None
        return SessionRecord(row[0], row[1], row[2], datetime.fromisoformat(row[3]), datetime.fromisoformat(row[4]), row[5])

    def touch_session(self, hashed: str, now: datetime) -> None:
        """Record activity, from a web thread (BEGIN IMMEDIATE: it waits for the worker's lock)."""
        with write_transaction(self.db):
            self.db.execute("UPDATE staff_sessions SET seen_at = ? WHERE token_hash = ?", [now.isoformat(), hashed])

    def drop_session(self, hashed: str) -> None:
        self.db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [hashed])

    def drop_sessions_of(self, staff_id: str, keep: str | None = None) -> int:
        cursor = self.db.execute("DELETE FROM staff_sessions WHERE staff = ? AND token_hash IS NOT ?", [staff_id, keep])
        return cursor.rowcount

    def drop_stale_sessions(self, started_before: datetime, seen_before: datetime) -> int:
        cursor = self.db.execute(
            "DELETE FROM staff_sessions WHERE created_at < ? OR seen_at < ?", [started_before.isoformat(), seen_before.isoformat()]
        )
        return cursor.rowcount

    def sessions_of(self, staff_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM staff_sessions WHERE staff = ?", [staff_id]).fetchone()[0]
