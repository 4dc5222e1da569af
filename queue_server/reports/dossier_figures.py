"""Dossier figures for a date range: settled on time or late, overdue, returned for more documents.

What the provincial documents ask the section to publish and to use for reward and discipline,
per field, period and official. Lateness follows `Dossier.is_late` (queue_server/dossiers/model.py):
the source's own `late` flag wins; otherwise the first decision is compared with the due date (a
due day ends at local midnight). A test checks this SQL against `is_late` dossier by dossier.

Counts are kept per day, field and official (`report_dossier_days`), refreshed from the dossiers
changed since the last refresh (their `synced_at`, the appliance's time of the write, at or past a
watermark, and not yet counted at that time): only the days a changed
dossier was or is in are counted again. A provincial centre's year (~115,000 dossiers) is then read
as a few thousand rows; the first refresh counts everything once. Overdue dossiers depend on the
moment of the report and stay live (the open ones are few and found by status).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.dossiers.db import ts
from queue_server.dossiers.model import FINISHED, STATUSES
from queue_server.reports.periods import period_key

NO_FIELD = "—"
WATERMARK_KEY = "reports.dossiers_synced_at"
MIGRATIONS: list[str] = [
    # Counts per day of each field and, separately, of each official: (fields x officials) rows a day would be ten times more.
    """CREATE TABLE report_dossier_days (
        kind TEXT NOT NULL, dim TEXT NOT NULL, business_day TEXT NOT NULL, key TEXT NOT NULL,
        n INTEGER NOT NULL, needs_documents INTEGER NOT NULL, on_time INTEGER NOT NULL, late INTEGER NOT NULL,
        PRIMARY KEY (kind, dim, business_day, key)) WITHOUT ROWID""",
    """CREATE TABLE report_dossier_keys (
        code TEXT PRIMARY KEY, received_day TEXT NOT NULL, finished_day TEXT, late INTEGER, updated_at TEXT NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX report_dossier_keys_late ON report_dossier_keys (finished_day) WHERE late = 1",
]
DOSSIER_TABLES = ("report_dossier_days", "report_dossier_keys")
_OPEN = ", ".join(f"'{s}'" for s in STATUSES if s not in FINISHED)  # statuses without a decision yet
METRICS = ("received", "needs_documents", "settled", "settled_on_time", "settled_late", "overdue")


def _offset(config: OfficeConfig, day: date) -> str:
    """SQLite modifier from UTC to the office's local time (Vietnam keeps one offset all year)."""
    minutes = int(datetime.combine(day, time(12), config.tz).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    return f"{minutes:+d} minutes"


def _late_sql(moment: str, table: str = "") -> str:
    """SQL for Dossier.is_late at `moment` (a column or parameter); `table` prefixes the columns ("d.")."""
    late, due = f"{table}late", f"{table}due_at"
    return f"""(CASE WHEN {late} IS NOT NULL THEN {late} WHEN {due} IS NULL THEN NULL
        WHEN length({due}) = 10 THEN date({moment}, :off) > {due}
        ELSE julianday({moment}) > julianday({due}) END)"""


def has_dossiers(db: Any) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dossiers'").fetchone() is not None


def refresh(db: Any, config: OfficeConfig) -> int:
    """Count again the days of the dossiers changed since the last refresh (caller holds a write transaction)."""
    if not has_dossiers(db):
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = ?", [WATERMARK_KEY]).fetchone()
    watermark = row[0] if row else ""
    tz = config.tz
    received_days: set[str] = set()
    finished_days: set[str] = set()
    keys = []
    newest = watermark
    # Rows written at the watermark's own instant may be new (a clock that did not move): a row is counted again
    # unless the version counted (the source's updated_at) is still the one stored.
    changed = db.execute(
        f"""SELECT d.code, d.received_at, d.finished_at, {_late_sql('d.finished_at', 'd.')}, d.synced_at, d.updated_at
        FROM dossiers d LEFT JOIN report_dossier_keys k ON k.code = d.code
        WHERE d.synced_at >= :w AND (k.updated_at IS NULL OR k.updated_at != d.updated_at)""",
        {"w": watermark, "off": _offset(config, date.today())},
    ).fetchall()
    if not changed:
        return 0
    old = {}
    if watermark:
        for code, received, finished in db.execute(
            "SELECT code, received_day, finished_day FROM report_dossier_keys WHERE code IN "
            "(SELECT code FROM dossiers WHERE synced_at >= ?)", [watermark],
        ):
            old[code] = (received, finished)
    for code, received_at, finished_at, late, synced, updated in changed:
        received = _local_day(received_at, tz)
        finished = _local_day(finished_at, tz) if finished_at else None
        before = old.get(code)
        if before:
            received_days.add(before[0])
            if before[1]:
                finished_days.add(before[1])
        received_days.add(received)
        if finished:
            finished_days.add(finished)
        keys.append((code, received, finished, late, updated))
        newest = max(newest, synced)
    db.conn.executemany(
        "INSERT OR REPLACE INTO report_dossier_keys (code, received_day, finished_day, late, updated_at) VALUES (?, ?, ?, ?, ?)", keys)
    field = f"COALESCE(return_service, '{NO_FIELD}')"
    official = f"COALESCE(received_by, '{NO_FIELD}')"
    needs = "(status = 'needs_documents' OR code IN (SELECT code FROM dossier_history WHERE status = 'needs_documents'))"
    for kind, days, column, sums in (
        ("received", received_days, "received_at", f"SUM({needs}), 0, 0"),
        ("settled", finished_days, "finished_at", f"0, SUM({_late_sql('finished_at')} = 0), SUM({_late_sql('finished_at')} = 1)"),
    ):
        for day in days:
            bounds = {"lo": ts(_midnight(date.fromisoformat(day), config)), "off": _offset(config, date.fromisoformat(day)),
                      "hi": ts(_midnight(date.fromisoformat(day) + timedelta(days=1), config)), "kind": kind, "day": day}
            db.execute("DELETE FROM report_dossier_days WHERE kind = :kind AND business_day = :day", bounds)
            for dim, key in (("field", field), ("official", official)):
                db.execute(
                    f"INSERT INTO report_dossier_days SELECT :kind, '{dim}', :day, {key}, COUNT(*), {sums} FROM dossiers "
                    f"WHERE {column} >= :lo AND {column} < :hi GROUP BY 4", bounds,
                )
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [WATERMARK_KEY, newest])
    return len(changed)


def _local_day(value: str, tz: Any) -> str:
    return datetime.fromisoformat(value).astimezone(tz).date().isoformat()


def dossier_figures(db: Any, config: OfficeConfig, start: date, end: date, now: datetime, period: str = "day") -> dict[str, Any]:
    """Summary, per field, per period, per official, and the late dossiers with their apology flag (after `refresh`)."""
    empty = {"available": False, "summary": {**dict.fromkeys(METRICS, 0), "on_time_share": None}, "by_field": [], "by_period": [],
             "by_official": [], "late": []}
    if not has_dossiers(db):
        return empty
    # Overdue is judged at the end of the range, or now if the range is not over yet.
    end_moment = min(now, _midnight(end + timedelta(days=1), config))
    params = {"off": _offset(config, start), "ref": ts(end_moment), "start": start.isoformat(), "end": end.isoformat()}
    field = f"COALESCE(return_service, '{NO_FIELD}')"
    official = f"COALESCE(received_by, '{NO_FIELD}')"
    def counts(dim: str, group: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind, key, n, needs, on_time, late in db.execute(
            f"SELECT kind, {group}, SUM(n), SUM(needs_documents), SUM(on_time), SUM(late) FROM report_dossier_days "
            f"WHERE dim = '{dim}' AND business_day BETWEEN :start AND :end GROUP BY 1, 2", params,
        ):
            entry = out.setdefault(key, dict.fromkeys(METRICS, 0))
            if kind == "received":
                entry["received"] += n
                entry["needs_documents"] += needs
            else:
                entry["settled"] += n
                entry["settled_on_time"] += on_time
                entry["settled_late"] += late
        return out

    by_field, by_official, by_day = counts("field", "key"), counts("official", "key"), counts("field", "business_day")
    # Still open and past due at the reference moment, by the day received (the open ones are few: by status).
    for d, f, o, n in db.execute(
        f"SELECT date(received_at, :off) AS d, {field}, {official}, COUNT(*) FROM dossiers WHERE status IN ({_OPEN}) "
        f"AND received_at <= :ref AND {_late_sql(':ref')} = 1 GROUP BY 1, 2, 3", params,
    ):
        for table, key in ((by_field, f), (by_official, o), (by_day, d)):
            table.setdefault(key, dict.fromkeys(METRICS, 0))["overdue"] += n
    by_period: dict[str, dict[str, int]] = {}
    for d, entry in by_day.items():
        target = by_period.setdefault(period_key(d, period), dict.fromkeys(METRICS, 0))
        for metric, n in entry.items():
            target[metric] += n
    summary = dict.fromkeys(METRICS, 0)
    for entry in by_field.values():
        for metric, n in entry.items():
            summary[metric] += n

    def listed(groups: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
        return [{"key": k, **v, "on_time_share": _share(v)} for k, v in sorted(groups.items())]

    return {
        "available": True,
        "summary": {**summary, "on_time_share": _share(summary)},
        "by_field": listed(by_field),
        "by_period": listed(by_period),
        "by_official": listed(by_official),
        "late": late_list(db, params, field, official),
    }


def _midnight(day: date, config: OfficeConfig) -> datetime:
    return datetime.combine(day, time(0), config.tz).astimezone(UTC)


def _share(counts: dict[str, int]) -> float | None:
    judged = counts["settled_on_time"] + counts["settled_late"]
    return counts["settled_on_time"] / judged if judged else None


def late_list(db: Any, params: dict[str, Any], field: str, official: str, limit: int = 500) -> list[dict[str, Any]]:
    """Dossiers settled late in the range or still overdue at its end, with whether the written apology was sent."""
    rows = db.execute(
        f"""SELECT * FROM (
            SELECT code, procedure_name, {field}, {official}, received_at, due_at, finished_at, apology_sent, 0 AS open
            FROM report_dossier_keys JOIN dossiers USING (code)
            WHERE report_dossier_keys.late = 1 AND finished_day BETWEEN :start AND :end
            UNION ALL
            SELECT code, procedure_name, {field}, {official}, received_at, due_at, finished_at, apology_sent, 1
            FROM dossiers WHERE status IN ({_OPEN}) AND received_at <= :ref AND {_late_sql(':ref')} = 1)
        ORDER BY due_at, code LIMIT {limit}""",
        params,
    ).fetchall()
    return [
        {"code": code, "procedure_name": name, "field": f, "official": o, "received_at": received, "due_at": due,
         "finished_at": finished, "apology_sent": None if apology is None else bool(apology), "still_open": bool(still_open)}
        for code, name, f, o, received, due, finished, apology, still_open in rows
    ]


def received_per_official(db: Any, config: OfficeConfig, start: date, end: date) -> dict[str, int]:
    if not has_dossiers(db):
        return {}
    return dict(db.execute(
        f"SELECT key, SUM(n) FROM report_dossier_days WHERE kind = 'received' AND dim = 'official' AND business_day BETWEEN ? AND ? "
        f"AND key != '{NO_FIELD}' GROUP BY key", [start.isoformat(), end.isoformat()],
    ).fetchall())
