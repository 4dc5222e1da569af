"""The figures of a date range, from the visit rows: waits, service, no-shows, satisfaction.

Definitions (docs/reports.md says them for the office manager):
- a visit's wait is from joining the queue (number taken, transfer, requeue) to its first call;
- mean and 90th-percentile wait are over the visits that were called (nearest rank: the
  smallest wait that at least 90% of visits did not exceed);
- served are visits finished at a counter; no-shows are tickets whose last visit was skipped;
- service time is from the start (else the last call) to the finish or the transfer;
- satisfaction is (very satisfied + satisfied) / all votes.
Everything is computed in SQLite (grouped queries over an index), so a year of a provincial
centre stays within the 300 ms budget of bench/bench_reports.py.
"""

from __future__ import annotations

from typing import Any

from queue_server.config import OfficeConfig

# Period keys computed from business_day (ISO date) and the stored ISO week.
PERIODS: dict[str, str] = {
    "day": "business_day",
    "week": "week",
    "month": "substr(business_day, 1, 7)",
    "quarter": "substr(business_day, 1, 4) || '-Q' || ((CAST(substr(business_day, 6, 2) AS INTEGER) + 2) / 3)",
    "year": "substr(business_day, 1, 4)",
}
GROUPS: dict[str, str] = {"field": "service", "counter": "counter", "official": "staff"}
SATISFIED_LEVELS = ("very_satisfied", "satisfied")
VOTE_LEVELS = ("very_satisfied", "satisfied", "unsatisfied")
# Buckets of the wait distribution, in minutes (the last is open-ended).
WAIT_BUCKETS = (0, 5, 10, 15, 20, 30, 45, 60)


def group_expr(group: str | None) -> str:
    """The SQL expression of a grouping: None (everything), a period, or field/counter/official."""
    if group is None:
        return "'all'"
    if group in PERIODS:
        return PERIODS[group]
    if group in GROUPS:
        return GROUPS[group]
    raise ValueError(f"unknown grouping {group!r} (use one of {', '.join([*PERIODS, *GROUPS])})")


def visit_figures(db: Any, config: OfficeConfig, start: str, end: str, group: str | None = None) -> dict[str, dict[str, Any]]:
    """Queue figures per group key for business days start..end (ISO dates, inclusive)."""
    g = group_expr(group)
    target = config.reports.wait_target_minutes * 60
    limit = config.reports.wait_limit_minutes * 60
    rows = db.execute(
        f"""SELECT {g} AS g,
            SUM(joined_by = 'issued'), COUNT(*), SUM(outcome = 'served'), SUM(outcome = 'no_show' AND last = 1),
            SUM(outcome = 'waiting'), SUM(outcome = 'transferred'), COUNT(wait_seconds), AVG(wait_seconds),
            MAX(wait_seconds), SUM(wait_seconds <= ?), SUM(wait_seconds <= ?), COUNT(service_seconds), AVG(service_seconds)
        FROM report_visits WHERE business_day BETWEEN ? AND ? GROUP BY g""",
        [target, limit, start, end],
    ).fetchall()
    p90 = percentile(db, g, start, end, 0.9)
    out: dict[str, dict[str, Any]] = {}
    for (key, issued, visits, served, no_shows, waiting, transferred, called, mean_wait, max_wait, within, within_limit,
         services, mean_service) in rows:
        if key is None:
            continue  # visits never called have no counter or official
        out[key] = {
            "issued": issued or 0, "visits": visits, "served": served or 0, "no_shows": no_shows or 0,
            "waiting": waiting or 0, "transferred": transferred or 0, "called": called,
            "mean_wait_seconds": mean_wait, "p90_wait_seconds": p90.get(key), "max_wait_seconds": max_wait,
            "within_target": within or 0, "within_target_share": (within or 0) / called if called else None,
            "within_limit_share": (within_limit or 0) / called if called else None,
            "over_limit": called - (within_limit or 0),
            "mean_service_seconds": mean_service, "services_timed": services,
        }
    return out


def percentile(db: Any, g: str, start: str, end: str, q: float) -> dict[str, float]:
    """The nearest-rank q-quantile of the waits per group (rank = ceil(q * n))."""
    tenths = round(q * 100)
    rows = db.execute(
        f"""SELECT g, wait_seconds FROM (
            SELECT {g} AS g, wait_seconds, ROW_NUMBER() OVER (PARTITION BY {g} ORDER BY wait_seconds) AS rn,
                   COUNT(*) OVER (PARTITION BY {g}) AS n
            FROM report_visits WHERE business_day BETWEEN ? AND ? AND wait_seconds IS NOT NULL)
        WHERE rn = (? * n + 99) / 100""",
        [start, end, tenths],
    ).fetchall()
    return dict(rows)


def vote_figures(db: Any, config: OfficeConfig, start: str, end: str, group: str | None = None) -> dict[str, dict[str, Any]]:
    """Satisfaction per group key: votes per level and the share satisfied, against the target."""
    g = group_expr(group)
    rows = db.execute(
        f"""SELECT {g} AS g, COUNT(*), SUM(level = 'very_satisfied'), SUM(level = 'satisfied'), SUM(level = 'unsatisfied')
        FROM report_votes WHERE business_day BETWEEN ? AND ? GROUP BY g""",
        [start, end],
    ).fetchall()
    target = config.reports.satisfaction_target
    out = {}
    for key, votes, very, satisfied, unsatisfied in rows:
        if key is None:
            continue
        share = ((very or 0) + (satisfied or 0)) / votes if votes else None
        out[key] = {"votes": votes, "very_satisfied": very or 0, "satisfied": satisfied or 0, "unsatisfied": unsatisfied or 0,
                    "satisfaction_share": share, "meets_satisfaction_target": share is not None and share >= target}
    return out


def reason_counts(db: Any, config: OfficeConfig, start: str, end: str) -> list[dict[str, Any]]:
    """How often each configured reason was ticked, per level; unknown old codes are kept, named by code."""
    rows = db.execute(
        "SELECT reason, level, COUNT(*) FROM report_vote_reasons WHERE business_day BETWEEN ? AND ? GROUP BY reason, level",
        [start, end],
    ).fetchall()
    counts: dict[str, dict[str, Any]] = {}
    for code, spec in config.vote_reasons.items():
        counts[code] = {"code": code, "name": spec.name, "name_en": spec.name_en, "count": 0, **dict.fromkeys(VOTE_LEVELS, 0)}
    for code, level, n in rows:
        entry = counts.setdefault(code, {"code": code, "name": code, "name_en": code, "count": 0, **dict.fromkeys(VOTE_LEVELS, 0)})
        entry["count"] += n
        entry[level] = entry.get(level, 0) + n
    return sorted(counts.values(), key=lambda r: (-r["count"], r["code"]))


def hourly(db: Any, start: str, end: str) -> list[dict[str, Any]]:
    """Arrivals (numbers taken) and mean wait by local hour of joining, for the charts."""
    rows = db.execute(
        """SELECT hour, SUM(joined_by = 'issued'), COUNT(wait_seconds), AVG(wait_seconds)
        FROM report_visits WHERE business_day BETWEEN ? AND ? GROUP BY hour ORDER BY hour""",
        [start, end],
    ).fetchall()
    return [{"hour": h, "arrivals": a or 0, "called": n, "mean_wait_seconds": w} for h, a, n, w in rows]


def wait_distribution(db: Any, start: str, end: str) -> list[dict[str, Any]]:
    """Visits called per wait bucket (minutes: 0-5, 5-10, ... 60+)."""
    cases = " ".join(f"WHEN wait_seconds < {b * 60} THEN {i - 1}" for i, b in enumerate(WAIT_BUCKETS) if i > 0)
    rows = dict(db.execute(
        f"""SELECT CASE {cases} ELSE {len(WAIT_BUCKETS) - 1} END AS b, COUNT(*) FROM report_visits
        WHERE business_day BETWEEN ? AND ? AND wait_seconds IS NOT NULL GROUP BY b""",
        [start, end],
    ).fetchall())
    out = []
    for i, low in enumerate(WAIT_BUCKETS):
        high = WAIT_BUCKETS[i + 1] if i + 1 < len(WAIT_BUCKETS) else None
        out.append({"from_minutes": low, "to_minutes": high, "visits": rows.get(i, 0)})
    return out


def merge(visits: dict[str, dict[str, Any]], votes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key with the queue figures and the satisfaction figures side by side."""
    empty_votes = {"votes": 0, "very_satisfied": 0, "satisfied": 0, "unsatisfied": 0, "satisfaction_share": None,
                   "meets_satisfaction_target": False}
    keys = sorted(set(visits) | set(votes))
    return [{"key": k, **(visits.get(k) or empty_visit()), **(votes.get(k) or empty_votes)} for k in keys]


def empty_visit() -> dict[str, Any]:
    return {"issued": 0, "visits": 0, "served": 0, "no_shows": 0, "waiting": 0, "transferred": 0, "called": 0,
            "mean_wait_seconds": None, "p90_wait_seconds": None, "max_wait_seconds": None, "within_target": 0,
            "within_target_share": None, "within_limit_share": None, "over_limit": 0, "mean_service_seconds": None,
            "services_timed": 0}


def figures(db: Any, config: OfficeConfig, start: str, end: str, group: str | None = None) -> list[dict[str, Any]]:
    """Queue and satisfaction figures per group key, for a range of business days."""
    return merge(visit_figures(db, config, start, end, group), vote_figures(db, config, start, end, group))


def targets(config: OfficeConfig) -> dict[str, Any]:
    r = config.reports
    return {"wait_target_minutes": r.wait_target_minutes, "wait_limit_minutes": r.wait_limit_minutes,
            "satisfaction_target": r.satisfaction_target, "yearly_dossiers_per_official": r.yearly_dossiers_per_official,
            "area": r.area}


def judge_waits(summary: dict[str, Any], config: OfficeConfig) -> dict[str, Any]:
    """The waits against both targets: 2022 (no visit over 30 minutes) and 2025 (mean at most 15)."""
    r = config.reports
    mean = summary.get("mean_wait_seconds")
    return {
        "target_2025": {"mean_wait_minutes": None if mean is None else mean / 60, "target_minutes": r.wait_target_minutes,
                        "met": mean is not None and mean <= r.wait_target_minutes * 60},
        "target_2022": {"limit_minutes": r.wait_limit_minutes, "within_share": summary.get("within_limit_share"),
                        "over_limit": summary.get("over_limit", 0),
                        "met": summary.get("called", 0) > 0 and summary.get("over_limit", 0) == 0},
    }
