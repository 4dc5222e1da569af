"""The office side: what the forwarder reads from the office database, read-only.

Events come from the event log as they are (`queue_server.store.read_events`, as Store.events_after). Dossiers
carry no sequence of their own, and their `synced_at` follows the box's clock (a Pi without
a real-time clock can boot in the past), so the province component adds a change log:
triggers give every inserted or updated dossier a new, ever-growing change number. The
queue server (and `motcua forward`, once, at start) runs this migration; the forwarder then
reads through a read-only connection and can never take the write lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.dossiers import db as dossier_db
from queue_server.province.export import province_dossier, province_event
from queue_server.store import migrate_component, open_reader, read_events, write_transaction

COMPONENT = "province"

_LOG_CHANGE = (
    "BEGIN DELETE FROM province_dossier_changes WHERE code = NEW.code; "
    "INSERT INTO province_dossier_changes (code) VALUES (NEW.code); END"
)
TRIGGERS = {
    "province_dossier_inserted": f"CREATE TRIGGER IF NOT EXISTS province_dossier_inserted AFTER INSERT ON dossiers {_LOG_CHANGE}",
    "province_dossier_updated": f"CREATE TRIGGER IF NOT EXISTS province_dossier_updated AFTER UPDATE ON dossiers {_LOG_CHANGE}",
}
# Every dossier gets a (new) change number: the hub takes any change newer than the one it holds.
RESEED = [
    "DELETE FROM province_dossier_changes",
    "INSERT INTO province_dossier_changes (code) SELECT code FROM dossiers ORDER BY synced_at, code",
]
MIGRATIONS: list[list[str]] = [
    [
        # AUTOINCREMENT: a change number is never reused, even after its row was replaced.
        "CREATE TABLE province_dossier_changes (change INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE)",
        *TRIGGERS.values(),
        RESEED[1],
    ],
]


def migrate(path: str | Path) -> None:
    """Create the dossier change log (after the dossier tables it watches); put back lost triggers.

    A table rebuild in a later dossiers migration (sqlite-utils' transform) would drop the
    triggers silently; then every dossier is logged again, so nothing changed meanwhile is missed.
    """
    db = dossier_db.connect(path)
    try:
        migrate_component(db, COMPONENT, MIGRATIONS)
        present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        if not set(TRIGGERS) <= present:
            with write_transaction(db):
                for statement in [*TRIGGERS.values(), *RESEED]:
                    db.execute(statement)
    finally:
        db.close()


def ensure_migrated(path: str | Path) -> bool:
    """Migrate if needed; False when the database cannot be written (then only events are forwarded)."""
    reader = open_reader(path)
    try:
        row = reader.execute("SELECT value FROM meta WHERE key = ?", [f"schema_version.{COMPONENT}"]).fetchone()
        triggers = {r[0] for r in reader.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        reader.close()
    if row and int(row[0]) >= len(MIGRATIONS) and set(TRIGGERS) <= triggers:
        return True
    try:
        migrate(path)
    except sqlite3.OperationalError:
        return False
    return True


class OfficeLog:
    """Read-only view of one office database: its events and dossier changes, as exported."""

    def __init__(self, path: str | Path, config: OfficeConfig) -> None:
        self.path = Path(path)
        self.config = config
        self.conn = open_reader(self.path)
        self.dossiers = self._has_change_log()

    def _has_change_log(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'province_dossier_changes'"
        ).fetchone() is not None

    def close(self) -> None:
        self.conn.close()

    def last_seq(self) -> int:
        return self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def events_after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        return [province_event(e) for e in read_events(self.conn, seq, limit)]  # a plain connection has .execute too

    def last_dossier_change(self) -> int:
        if not self.dossiers:
            return 0
        return self.conn.execute("SELECT COALESCE(MAX(change), 0) FROM province_dossier_changes").fetchone()[0]

    def dossiers_after(self, change: int, limit: int) -> list[dict[str, Any]]:
        if not self.dossiers:
            return []
        columns = ", ".join(f"d.{c}" for c in dossier_db.COLUMNS)
        rows = self.conn.execute(
            f"SELECT c.change, {columns} FROM province_dossier_changes c JOIN dossiers d ON d.code = c.code "
            "WHERE c.change > ? ORDER BY c.change LIMIT ?",
            [change, limit],
        ).fetchall()
        return [
            province_dossier(dossier_db.from_row(dict(zip(dossier_db.COLUMNS, row[1:], strict=True))), row[0], self.config)
            for row in rows
        ]
