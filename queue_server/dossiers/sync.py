"""Apply updates from a source system: idempotent, ordered by the source's own `updated_at`.

Rule: an update older than the stored one is ignored, one with the same `updated_at` is a
duplicate and changes nothing, a newer one replaces the dossier. The status history gets
an entry only when the status changes. Bad items are rejected one by one; the rest of the
batch goes on. One call is one transaction.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from motcua import i18n
from queue_server.dossiers import db as store
from queue_server.dossiers import sources
from queue_server.dossiers.model import FINISHED, ItemError, parse_update
from queue_server.store import write_transaction

MAX_ITEMS = 1000  # per push; the import command feeds larger files in chunks of this size

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
IGNORED_OLDER = "ignored_older"
REJECTED = "rejected"


class ImportFileError(ValueError):
    """The import file cannot be read at all (not CSV/JSON, wrong shape)."""


@dataclass
class SyncReport:
    accepted: int = 0
    duplicate: int = 0
    ignored_older: int = 0
    rejected: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: SyncReport, offset: int) -> None:
        for name in (ACCEPTED, DUPLICATE, IGNORED_OLDER, REJECTED):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.items += [{**item, "index": item["index"] + offset} for item in other.items]

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicate": self.duplicate, "ignored_older": self.ignored_older,
                "rejected": self.rejected, "items": self.items}


def apply_updates(db: sqlite_utils.Database, items: list[Any], source: str, now: datetime, tz: ZoneInfo,
                  touch: bool = False) -> SyncReport:
    """Apply a batch in one transaction; the report has a result per item, in order."""
    report = SyncReport()
    with write_transaction(db):
        if touch:
            sources.touch(db, source, now)
        for index, item in enumerate(items):
            result = _apply_one(db, item, source, now, tz)
            result["index"] = index
            setattr(report, result["result"], getattr(report, result["result"]) + 1)
            report.items.append(result)
    return report


def _apply_one(db: sqlite_utils.Database, item: Any, source: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    raw_code = item.get("code") if isinstance(item, dict) else None
    try:
        update = parse_update(item, tz, now)
    except ItemError as exc:
        return {"code": raw_code if isinstance(raw_code, str) else None, "result": REJECTED, "reason": exc.as_dict()}
    row = db.execute("SELECT source, updated_at, status, finished_at FROM dossiers WHERE code = ?", [update.code]).fetchone()
    if row is not None:
        owner, stored_at, stored_status, stored_finished = row[0], datetime.fromisoformat(row[1]), row[2], row[3]
        if owner != source:
            # One source must not overwrite another's dossiers (a leaked token damages only its own).
            error = ItemError("other_source", *i18n.pair("dossier.item.other_source", owner=owner))
            return {"code": update.code, "result": REJECTED, "reason": error.as_dict()}
        if update.updated_at < stored_at:
            return {"code": update.code, "result": IGNORED_OLDER, "stored_updated_at": stored_at.isoformat()}
        if update.updated_at == stored_at:
            return {"code": update.code, "result": DUPLICATE}
    else:
        stored_status, stored_finished = None, None
    finished_at: datetime | None = None
    if update.status in FINISHED:
        # The decision time stays the first one: result ready, then returned, is judged when it was ready.
        finished_at = datetime.fromisoformat(stored_finished) if stored_finished and stored_status in FINISHED else update.status_at
    store.upsert(db, update, source, finished_at, now)
    if update.status != stored_status:
        db.execute(
            "INSERT OR IGNORE INTO dossier_history (code, status, at, recorded_at) VALUES (?, ?, ?, ?)",
            [update.code, update.status, store.ts(update.status_at), store.ts(now)],
        )
    return {"code": update.code, "result": ACCEPTED}


def apply_in_chunks(db: sqlite_utils.Database, items: list[Any], source: str, now: datetime, tz: ZoneInfo) -> SyncReport:
    """Large imports: one transaction per MAX_ITEMS, so the server's writes interleave."""
    report = SyncReport()
    for start in range(0, len(items), MAX_ITEMS):
        report.add(apply_updates(db, items[start:start + MAX_ITEMS], source, now, tz), start)
    return report


def read_import_file(path: str | Path) -> list[Any]:
    """The items of a JSON file (a list, one object, or {"dossiers": [...]}) or a CSV file with a header row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets save UTF-8 with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{_both('dossier.import.unreadable_file')} {path}: {exc}") from None
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip()[:1] in "[{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than any export
            raise ImportFileError(f"{path}: {_both('dossier.import.invalid_json')}: {exc}") from None
        return items_of(data)
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. a cell over the reader's 128 KB field limit
        raise ImportFileError(f"{path}: {_both('dossier.import.unreadable_csv')}: {exc}") from None
    if not rows or "code" not in rows[0]:
        raise ImportFileError(f"{path}: {_both('dossier.import.csv_needs_code')}")
    # Empty cells are absent fields, not empty strings.
    return [{k.strip(): v for k, v in row.items() if k and v not in (None, "")} for row in rows]


def items_of(data: Any) -> list[Any]:
    """A push body or import file as a list of items: one object, a list, or {"dossiers": [...]}."""
    if isinstance(data, dict) and isinstance(data.get("dossiers"), list):
        return data["dossiers"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise ImportFileError(_both("dossier.import.bad_shape"))


def _both(key: str, **params: Any) -> str:
    """A catalog entry as the command line shows it: "Vietnamese / English"."""
    return " / ".join(i18n.pair(key, **params))
