"""The dossier tables in the office database: schema, connections, transactions, rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.dossiers.model import Dossier, DossierUpdate, Due
from queue_server.store import migrate_component, open_connection

COMPONENT = "dossiers"

MIGRATIONS: list[list[str]] = [
    [
        # Only the last 4 digits of the ID number and phone are kept: the second factor needs no more.
        """CREATE TABLE dossiers (
            code TEXT PRIMARY KEY, source TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL,
            status_at TEXT NOT NULL, procedure_code TEXT, procedure_name TEXT, received_at TEXT NOT NULL, due_at TEXT,
            applicant_name TEXT, id_last4 TEXT, phone_last4 TEXT, return_counter TEXT, return_service TEXT,
            missing_documents TEXT NOT NULL, rejection_reason TEXT, late INTEGER, finished_at TEXT,
            synced_at TEXT NOT NULL)""",
        "CREATE INDEX dossiers_status_finished ON dossiers (status, finished_at)",
        """CREATE TABLE dossier_history (
            code TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, recorded_at TEXT NOT NULL,
            PRIMARY KEY (code, at, status)) WITHOUT ROWID""",
        """CREATE TABLE dossier_sources (
            name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
            revoked_at TEXT, last_used_at TEXT)""",
        "CREATE TABLE dossier_verify_failures (code TEXT NOT NULL, at TEXT NOT NULL)",
        "CREATE INDEX dossier_verify_failures_code_at ON dossier_verify_failures (code, at)",
    ],
    [
        # Issue 14: failures per client (a stranger locks out only himself) and a lifetime count per
        # dossier for the clients that never verified it (bounds guessing from many addresses).
        "ALTER TABLE dossier_verify_failures ADD COLUMN client TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX dossier_verify_failures_client ON dossier_verify_failures (code, client, at)",
        "CREATE TABLE dossier_verify_totals (code TEXT PRIMARY KEY, failures INTEGER NOT NULL) WITHOUT ROWID",
        # Reports per official and the written apology for late dossiers (issue 19).
        "ALTER TABLE dossiers ADD COLUMN received_by TEXT",
        "ALTER TABLE dossiers ADD COLUMN apology_sent INTEGER",
        "CREATE INDEX dossiers_received_at ON dossiers (received_at)",
        "CREATE INDEX dossiers_finished_at ON dossiers (finished_at)",
        "CREATE INDEX dossiers_synced_at ON dossiers (synced_at)",  # reports refresh the dossiers changed since they last looked
    ],
]

COLUMNS = (
    "code", "source", "updated_at", "status", "status_at", "procedure_code", "procedure_name", "received_at", "due_at",
    "applicant_name", "id_last4", "phone_last4", "return_counter", "return_service", "missing_documents",
    "rejection_reason", "late", "finished_at", "synced_at", "received_by", "apology_sent",
)
UPSERT = (
    f"INSERT INTO dossiers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT (code) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])}"
)


def ts(value: datetime) -> str:
    """One fixed UTC format, so stored times also sort correctly as text."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def open_db(path: str | Path) -> sqlite_utils.Database:
    """A connection to the office database, for tables already migrated (one per HTTP thread)."""
    return sqlite_utils.Database(open_connection(path))


def connect(path: str | Path) -> sqlite_utils.Database:
    """A connection with the dossier tables brought up to date (once, at start: migrating is not for every thread)."""
    db = open_db(path)
    migrate_component(db, COMPONENT, MIGRATIONS)
    return db


def upsert(db: sqlite_utils.Database, update: DossierUpdate, source: str, finished_at: datetime | None, now: datetime) -> None:
    db.execute(UPSERT, [
        update.code, source, ts(update.updated_at), update.status, ts(update.status_at), update.procedure_code,
        update.procedure_name, ts(update.received_at), update.due.value if update.due else None, update.applicant_name,
        update.id_last4, update.phone_last4, update.return_counter, update.return_service,
        json.dumps(list(update.missing_documents), ensure_ascii=False), update.rejection_reason,
        None if update.late is None else int(update.late), ts(finished_at) if finished_at else None, ts(now),
        update.received_by, None if update.apology_sent is None else int(update.apology_sent),
    ])


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def from_row(row: dict[str, Any]) -> Dossier:
    return Dossier(
        code=row["code"], source=row["source"], updated_at=datetime.fromisoformat(row["updated_at"]), status=row["status"],
        status_at=datetime.fromisoformat(row["status_at"]), procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"], received_at=datetime.fromisoformat(row["received_at"]),
        due=Due(row["due_at"]) if row["due_at"] else None, applicant_name=row["applicant_name"], id_last4=row["id_last4"],
        phone_last4=row["phone_last4"], return_counter=row["return_counter"], return_service=row["return_service"],
        missing_documents=tuple(json.loads(row["missing_documents"])), rejection_reason=row["rejection_reason"],
        late=None if row["late"] is None else bool(row["late"]), finished_at=_dt(row["finished_at"]),
        received_by=row["received_by"], apology_sent=None if row["apology_sent"] is None else bool(row["apology_sent"]),
    )


def get(db: sqlite_utils.Database, code: str, with_history: bool = False) -> Dossier | None:
    cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM dossiers WHERE code = ?", [code])
    row = cursor.fetchone()
    if row is None:
        return None
    dossier = from_row(dict(zip(COLUMNS, row, strict=True)))
    if with_history:
        dossier = replace(dossier, history=tuple(
            (status, datetime.fromisoformat(at))
            for status, at in db.execute("SELECT status, at FROM dossier_history WHERE code = ? ORDER BY at, status", [code])
        ))
    return dossier


def ready(db: sqlite_utils.Database, limit: int) -> list[Dossier]:
    """Dossiers whose result waits to be collected, the most recent first."""
    rows = db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM dossiers WHERE status = 'result_ready' ORDER BY finished_at DESC, code LIMIT ?", [limit]
    ).fetchall()
    return [from_row(dict(zip(COLUMNS, row, strict=True))) for row in rows]


def verify_failures_total(db: sqlite_utils.Database, code: str) -> int:
    row = db.execute("SELECT failures FROM dossier_verify_totals WHERE code = ?", [code]).fetchone()
    return row[0] if row else 0


def count_verify_failure(db: sqlite_utils.Database, code: str) -> None:
    db.execute("INSERT INTO dossier_verify_totals (code, failures) VALUES (?, 1) "
               "ON CONFLICT (code) DO UPDATE SET failures = failures + 1", [code])


def unlock_verification(db: sqlite_utils.Database, code: str) -> int:
    """Forget every wrong entry for a dossier (an officer checked the citizen's ID); returns how many."""
    with db.atomic():
        total = verify_failures_total(db, code)
        db.execute("DELETE FROM dossier_verify_failures WHERE code = ?", [code])
        db.execute("DELETE FROM dossier_verify_totals WHERE code = ?", [code])
    return total
