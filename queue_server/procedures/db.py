"""The procedure tables in the office database, and the reads the CLI and the web share.

`procedures` keeps every procedure ever imported (retired ones with active = 0) and its full
data as JSON; `procedure_search` is an FTS5 index of the folded text of the active ones only,
so retiring a procedure hides it from search without losing it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.procedures import misses
from queue_server.procedures.folding import fold
from queue_server.procedures.model import Procedure
from queue_server.store import migrate_component, open_connection

COMPONENT = "procedures"
REVISION_KEY = "procedures.revision"  # bumped by every import that changes something (caches follow it)
FORMS_DIRNAME = "procedure_forms"  # beside motcua.db: <data>/procedure_forms/<code>/<file>

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE procedures (
            id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, field TEXT NOT NULL,
            level INTEGER, agency TEXT NOT NULL, service TEXT, source TEXT NOT NULL, sample INTEGER NOT NULL,
            active INTEGER NOT NULL, content_hash TEXT NOT NULL, data TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, retired_at TEXT)""",
        "CREATE INDEX procedures_source ON procedures (source, active)",
        # Folded text only (see folding.py); rowid = procedures.id.
        "CREATE VIRTUAL TABLE procedure_search USING fts5(name, field, agency, documents, steps, tokenize = 'unicode61')",
    ],
    misses.MIGRATION,  # kiosk queries that found nothing (misses.py)
]

# bm25 weights in the column order above: the name counts most, then the field of work.
SEARCH_WEIGHTS = (10.0, 3.0, 1.0, 2.0, 1.0)
SUMMARY_COLUMNS = "id, code, name, field, level, agency, service, active, sample"


def migrate(db: sqlite_utils.Database) -> None:
    migrate_component(db, COMPONENT, MIGRATIONS)


def open_db(path: str | Path) -> sqlite_utils.Database:
    """A connection to an office database with the procedure tables in place.

    The core tables must exist first (Store creates them): callers open Store before this.
    """
    db = sqlite_utils.Database(open_connection(path))
    migrate(db)
    return db


def forms_dir(db_path: str | Path) -> Path:
    return Path(db_path).parent / FORMS_DIRNAME


def revision(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [REVISION_KEY]).fetchone()
    return int(row[0]) if row else 0


def bump_revision(db: sqlite_utils.Database) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        [REVISION_KEY],
    )


def search_row(procedure: Procedure) -> dict[str, str]:
    """The folded text the FTS index holds for one procedure."""
    return {
        "name": fold(procedure.name),
        "field": fold(procedure.field),
        "agency": fold(procedure.agency),
        "documents": " ".join(fold(d.name) for d in procedure.documents),
        "steps": " ".join(fold(s) for s in procedure.steps),
    }


def index(db: sqlite_utils.Database, rowid: int, procedure: Procedure) -> None:
    row = search_row(procedure)
    db.execute("DELETE FROM procedure_search WHERE rowid = ?", [rowid])
    db.execute(
        "INSERT INTO procedure_search (rowid, name, field, agency, documents, steps) VALUES (?, ?, ?, ?, ?, ?)",
        [rowid, row["name"], row["field"], row["agency"], row["documents"], row["steps"]],
    )


def unindex(db: sqlite_utils.Database, rowid: int) -> None:
    db.execute("DELETE FROM procedure_search WHERE rowid = ?", [rowid])


def summary(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row of SUMMARY_COLUMNS as the list endpoints show it."""
    _, code, name, field, level, agency, service, active, sample = row
    return {"code": code, "name": name, "field": field, "level": level, "agency": agency, "service": service,
            "active": bool(active), "sample": bool(sample)}


def summaries(db: sqlite_utils.Database, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = db.execute(f"SELECT {SUMMARY_COLUMNS} FROM procedures WHERE id IN ({marks})", ids).fetchall()
    return {row[0]: summary(row) for row in rows}


def get(db: sqlite_utils.Database, code: str) -> dict[str, Any] | None:
    """The whole procedure by code (retired ones too, marked active: false), or None."""
    row = db.execute(
        "SELECT data, active, source, created_at, updated_at, retired_at FROM procedures WHERE code = ?", [code]
    ).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    data.update({"active": bool(row[1]), "source": row[2], "created_at": row[3], "updated_at": row[4], "retired_at": row[5]})
    return data


def find_code(db: sqlite_utils.Database, text: str) -> int | None:
    """The id of the active procedure whose code is exactly `text` (any letter case)."""
    row = db.execute("SELECT id FROM procedures WHERE code = ? COLLATE NOCASE AND active = 1", [text.strip()]).fetchone()
    return row[0] if row else None


def count(db: sqlite_utils.Database, active_only: bool = True) -> int:
    sql = "SELECT COUNT(*) FROM procedures" + (" WHERE active = 1" if active_only else "")
    return db.execute(sql).fetchone()[0]


def active_procedures(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every active procedure in full, by code (the kiosk's offline copy)."""
    rows = db.execute("SELECT data FROM procedures WHERE active = 1 ORDER BY code").fetchall()
    return [{**json.loads(row[0]), "active": True} for row in rows]
