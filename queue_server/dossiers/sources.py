"""Source systems that may push dossiers: one bearer token each, kept only as a SHA-256 hash.

The same functions keep the tokens of other areas' integrators in their own table (`table=`,
named `<area>_sources` with this module's columns): the appointments API's are `booking_sources`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from motcua import i18n
from queue_server.dossiers.db import ts
from queue_server.store import write_transaction

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TABLE = "dossier_sources"
_TABLE_NAME = re.compile(r"[a-z]+_sources")  # interpolated into SQL: only names of this shape


def _table(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"not a sources table: {name!r}")
    return name


class SourceError(ValueError):
    """A source cannot be added or revoked (bad name, exists, unknown)."""


@dataclass(frozen=True)
class Source:
    name: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


def _both(key: str, **params: object) -> str:
    """A catalog entry as the command line shows it: "Vietnamese / English"."""
    return " / ".join(i18n.pair(key, **params))


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no dictionary to slow down).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add(db: sqlite_utils.Database, name: str, now: datetime, table: str = TABLE) -> str:
    """Create a source (or give a revoked one a new token); returns the token, which is never stored."""
    if not NAME.fullmatch(name):
        raise SourceError(_both("dossier.source.invalid_name", name=name))
    token = secrets.token_urlsafe(32)
    table = _table(table)
    with write_transaction(db):
        row = db.execute(f"SELECT revoked_at FROM {table} WHERE name = ?", [name]).fetchone()
        if row is not None and row[0] is None:
            raise SourceError(_both("dossier.source.exists", name=name))
        db.execute(
            f"INSERT INTO {table} (name, token_sha256, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "token_sha256 = excluded.token_sha256, created_at = excluded.created_at, revoked_at = NULL, last_used_at = NULL",
            [name, token_hash(token), ts(now)],
        )
    return token


def revoke(db: sqlite_utils.Database, name: str, now: datetime, table: str = TABLE) -> None:
    with write_transaction(db):
        cursor = db.execute(f"UPDATE {_table(table)} SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [ts(now), name])
        if cursor.rowcount == 0:
            raise SourceError(_both("dossier.source.unknown", name=name))


def list_all(db: sqlite_utils.Database, table: str = TABLE) -> list[Source]:
    rows = db.execute(f"SELECT name, created_at, revoked_at, last_used_at FROM {_table(table)} ORDER BY name").fetchall()
    return [Source(*row) for row in rows]


def authenticate(db: sqlite_utils.Database, token: str, table: str = TABLE) -> tuple[str | None, str | None]:
    """(source name, None) for a valid token, else (None, "unknown_token" or "revoked_token")."""
    if not token or len(token) > 200:
        return None, "unknown_token"
    row = db.execute(f"SELECT name, revoked_at FROM {_table(table)} WHERE token_sha256 = ?", [token_hash(token)]).fetchone()
    if row is None:
        return None, "unknown_token"
    if row[1] is not None:
        return None, "revoked_token"
    return row[0], None


def touch(db: sqlite_utils.Database, name: str, now: datetime, table: str = TABLE) -> None:
    """Record when a source last pushed (inside the caller's transaction)."""
    db.execute(f"UPDATE {_table(table)} SET last_used_at = ? WHERE name = ?", [ts(now), name])
