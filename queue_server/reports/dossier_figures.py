"""Dossier figures for a date range: settled on time or late, overdue, returned for more documents.

What the provincial documents ask the section to publish and to use for reward and discipline,
per field, period and official. Lateness follows `Dossier.is_late` (queue_server/dossiers/model.py):
the source's own `late` flag wins; otherwise the first decision is compared with the due date (a
due day ends at local midnight). A test checks this SQL against `is_late` dossier by dossier.

Counts are made per day, field and official in SQL and rolled up into periods in Python (they
add up), so any period (day, week, month, quarter, year) costs one query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.dossiers.db import ts
from queue_server.dossiers.model import FINISHED, STATUSES
from queue_server.reports.periods import period_key

NO_FIELD = "—"
_OPEN = ", ".join(f"'{s}'" for s in STATUSES if s not in FINISHED)  # statuses without a decision yet
METRICS = ("received", "needs_documents", "settled", "settled_on_time", "settled_late", "overdue")


def _offset(config: OfficeConfig, day: date) -> str:
    """SQLite modifier from UTC to the office's local time (Vietnam keeps one offset all year)."""
    minutes = int(datetime.combine(day, time(12), config.tz).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    return f"{minutes:+d} minutes"


def _late_sql(moment: str) -> str:
    return f"""(CASE WHEN late IS NOT NULL THEN late WHEN due_at IS NULL THEN NULL
        WHEN length(due_at) = 10 THEN date({moment}, :off) > due_at
        ELSE julianday({moment}) > julianday(due_at) END)"""


def has_dossiers(db: Any) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dossiers'").fetchone() is not None


def dossier_figures(db: Any, config: OfficeConfig, start: date, end: date, now: datetime, period: str = "day") -> dict[str, Any]:
    """Summary, per field, per period, per official, and the late dossiers with their apology flag."""
    empty = {"available": False, "summary": {**dict.fromkeys(METRICS, 0), "on_time_share": None}, "by_field": [], "by_period": [],
             "by_official": [], "late": []}
    if not has_dossiers(db):
        return empty
    # Overdue is judged at the end of the range, or now if the range is not over yet.
    end_moment = min(now, _midnight(end + timedelta(days=1), config))
    params = {"off": _offset(config, start), "ref": ts(end_moment), "lo": ts(_midnight(start, config)),
              "hi": ts(_midnight(end + timedelta(days=1), config)), "end": end.isoformat()}
    field = f"COALESCE(return_service, '{NO_FIELD}')"
    official = f"COALESCE(received_by, '{NO_FIELD}')"
    rows: list[tuple[str, str, str, str, int]] = []  # (metric, local day, field, official, count)
    # Received in the range (stored times are UTC in one format, so the bounds compare as text and use the index).
    for d, f, o, received, needs in db.execute(
        f"""SELECT date(received_at, :off) AS d, {field}, {official}, COUNT(*),
            SUM(status = 'needs_documents' OR code IN (SELECT code FROM dossier_history WHERE status = 'needs_documents'))
        FROM dossiers WHERE received_at >= :lo AND received_at < :hi GROUP BY 1, 2, 3""", params,
    ):
        rows += [("received", d, f, o, received), ("needs_documents", d, f, o, needs)]
    # Settled (first decision) in the range, on time or late.
    for d, f, o, settled, on_time, late in db.execute(
        f"""SELECT date(finished_at, :off) AS d, {field}, {official}, COUNT(*), SUM(lateness = 0), SUM(lateness = 1) FROM (
            SELECT finished_at, return_service, received_by, {_late_sql('finished_at')} AS lateness
            FROM dossiers WHERE finished_at >= :lo AND finished_at < :hi) GROUP BY 1, 2, 3""", params,
    ):
        rows += [("settled", d, f, o, settled), ("settled_on_time", d, f, o, on_time), ("settled_late", d, f, o, late)]
    # Still open and past due at the reference moment, by the day received (the open ones are few: by status).
    for d, f, o, n in db.execute(
        f"SELECT date(received_at, :off) AS d, {field}, {official}, COUNT(*) FROM dossiers WHERE status IN ({_OPEN}) "
        f"AND received_at <= :ref AND {_late_sql(':ref')} = 1 GROUP BY 1, 2, 3", params,
    ):
        rows.append(("overdue", d, f, o, n))

    def roll(key_of: Any) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, int]] = {}
        for metric, d, f, o, n in rows:
            entry = groups.setdefault(key_of(d, f, o), dict.fromkeys(METRICS, 0))
            entry[metric] += n
        return [{"key": k, **v, "on_time_share": _share(v)} for k, v in sorted(groups.items())]

    summary = dict.fromkeys(METRICS, 0)
    for metric, _, _, _, n in rows:
        summary[metric] += n
    return {
        "available": True,
        "summary": {**summary, "on_time_share": _share(summary)},
        "by_field": roll(lambda d, f, o: f),
        "by_period": roll(lambda d, f, o: period_key(d, period)),
        "by_official": roll(lambda d, f, o: o),
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
            FROM dossiers WHERE finished_at >= :lo AND finished_at < :hi AND {_late_sql('finished_at')} = 1
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
        "SELECT received_by, COUNT(*) FROM dossiers WHERE received_at >= ? AND received_at < ? AND received_by IS NOT NULL "
        "GROUP BY received_by", [ts(_midnight(start, config)), ts(_midnight(end + timedelta(days=1), config))],
    ).fetchall())
