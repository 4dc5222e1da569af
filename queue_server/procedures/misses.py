"""Kiosk queries that found nothing, kept so an administrator can grow synonyms.json.

Only the folded query is kept (the form synonyms.json is written in), with a count and the first and
last day it was asked: no time of day, no kiosk, no address. Runs of 3 digits or more become "#",
so a phone or ID number typed into the search box is never stored. At most MAX_ROWS queries are
kept; a new one pushes out the one asked least recently.
"""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils

from queue_server.procedures.folding import fold
from queue_server.store import write_transaction

MAX_ROWS = 500
MAX_CHARS = 100
_DIGITS = re.compile(r"\d{3,}")

MIGRATION = [
    """CREATE TABLE procedure_misses (
        query TEXT PRIMARY KEY, count INTEGER NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL)""",
    "CREATE INDEX procedure_misses_last ON procedure_misses (last_day, count)",
]


def key(text: str) -> str:
    """What is stored for a query: folded, numbers masked, at most MAX_CHARS characters of whole words."""
    folded = _DIGITS.sub("#", fold(text or ""))
    if len(folded) > MAX_CHARS:
        folded = folded[:MAX_CHARS].rsplit(" ", 1)[0]
    return folded.strip()


def record(db: sqlite_utils.Database, text: str, day: str) -> None:
    """Count one unanswered query asked on `day` (YYYY-MM-DD, the office's local date)."""
    query = key(text)
    if not query or not any(ch.isalpha() for ch in query):
        return
    with write_transaction(db):  # insert or count, then keep the table bounded; the server writes meanwhile
        db.execute(
            "INSERT INTO procedure_misses (query, count, first_day, last_day) VALUES (?, 1, ?, ?) "
            "ON CONFLICT (query) DO UPDATE SET count = count + 1, last_day = excluded.last_day",
            [query, day, day],
        )
        db.execute(
            "DELETE FROM procedure_misses WHERE query IN (SELECT query FROM procedure_misses "
            "ORDER BY last_day DESC, count DESC LIMIT -1 OFFSET ?)",
            [MAX_ROWS],
        )


def listing(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    """The most asked unanswered queries first."""
    rows = db.execute(
        "SELECT query, count, first_day, last_day FROM procedure_misses ORDER BY count DESC, last_day DESC, query LIMIT ?",
        [limit],
    ).fetchall()
    return [{"query": q, "count": c, "first_day": f, "last_day": last} for q, c, f, last in rows]


def clear(db: sqlite_utils.Database) -> int:
    with write_transaction(db):
        return db.execute("DELETE FROM procedure_misses").rowcount
