"""The figures of a date range, from the visit rows: waits, service, no-shows, satisfaction.

Definitions (docs/reports.md says them for the office manager):
- a visit's wait is from joining the queue (number taken, transfer, requeue) to its first call;
- mean and 90th-percentile wait are over the visits that were called (nearest rank: the
  smallest wait that at least 90% of visits did not exceed);
- served are visits finished at a counter; no-shows are tickets whose last visit was skipped;
- service time is from the start (else the last call) to the finish or the transfer;
- satisfaction is (very satisfied + satisfied) / all votes.
Finished days are read from their daily roll-ups (rollup.py) and today from its visit rows, so a
year of a provincial centre stays within the 300 ms budget of bench/bench_reports.py.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from math import ceil, fsum
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.reports.periods import PERIOD_NAMES, period_key
from queue_server.reports.rollup import Day, DayRow, merged_waits

GROUPS = ("field", "counter", "official")
SATISFIED_LEVELS = ("very_satisfied", "satisfied")
VOTE_LEVELS = ("very_satisfied", "satisfied", "unsatisfied")
# Buckets of the wait distribution, in minutes (the last is open-ended).
WAIT_BUCKETS = (0, 5, 10, 15, 20, 30, 45, 60)


def key_function(group: str | None) -> Callable[[Any], str | None]:
    """The key of a day row (or day votes) in a grouping: None (everything), a period, or field/counter/official."""
    if group is None:
        return lambda r: "all"
    if group in PERIOD_NAMES:
        cache: dict[str, str] = {}

        def period(r: Any) -> str:
            key = cache.get(r.business_day)
            if key is None:
                key = cache[r.business_day] = period_key(r.business_day, group)
            return key

        return period
    if group == "field":
        return lambda r: r.service or None
    if group == "counter":
        return lambda r: r.counter or None  # visits never called belong to no counter
    if group == "official":
        return lambda r: r.staff or None
    raise ValueError(f"unknown grouping {group!r} (use one of {', '.join([*PERIOD_NAMES, *GROUPS])})")


def visit_figures(data: Day, config: OfficeConfig, group: str | None = None) -> dict[str, dict[str, Any]]:
    """Queue figures per group key of the days in `data` (rollup.days_in_range)."""
    key_of = key_function(group)
    groups: dict[str, list[DayRow]] = {}
    for row in data.rows:
        key = key_of(row)
        if key is not None:
            groups.setdefault(key, []).append(row)
    return {key: summarise(rows, config) for key, rows in groups.items()}


def summarise(rows: list[DayRow], config: OfficeConfig, waits: list[float] | None = None) -> dict[str, Any]:
    target = config.reports.wait_target_minutes * 60
    limit = config.reports.wait_limit_minutes * 60
    waits = merged_waits(rows) if waits is None else waits
    called = len(waits)
    within = bisect_right(waits, target)
    within_limit = bisect_right(waits, limit)
    timed = sum(r.services_timed for r in rows)
    return {
        "issued": sum(r.issued for r in rows), "visits": sum(r.visits for r in rows), "served": sum(r.served for r in rows),
        "no_shows": sum(r.no_shows for r in rows), "waiting": sum(r.waiting for r in rows),
        "transferred": sum(r.transferred for r in rows), "called": called,
        "mean_wait_seconds": fsum(waits) / called if called else None,
        # Nearest rank: the smallest wait that at least 90% of the visits did not exceed.
        "p90_wait_seconds": waits[ceil(0.9 * called) - 1] if called else None,
        "max_wait_seconds": waits[-1] if called else None,
        "within_target": within, "within_target_share": within / called if called else None,
        "within_limit_share": within_limit / called if called else None, "over_limit": called - within_limit,
        "mean_service_seconds": sum(r.service_sum for r in rows) / timed if timed else None, "services_timed": timed,
    }


def vote_figures(data: Day, config: OfficeConfig, group: str | None = None) -> dict[str, dict[str, Any]]:
    """Satisfaction per group key: votes per level and the share satisfied, against the target."""
    key_of = key_function(group)
    sums: dict[str, list[int]] = {}
    for v in data.votes:
        key = key_of(v)
        if key is not None:
            acc = sums.setdefault(key, [0, 0, 0])
            acc[0] += v.very_satisfied
            acc[1] += v.satisfied
            acc[2] += v.unsatisfied
    target = config.reports.satisfaction_target
    out = {}
    for key, (very, satisfied, unsatisfied) in sums.items():
        votes = very + satisfied + unsatisfied
        share = (very + satisfied) / votes if votes else None
        out[key] = {"votes": votes, "very_satisfied": very, "satisfied": satisfied, "unsatisfied": unsatisfied,
                    "satisfaction_share": share, "meets_satisfaction_target": share is not None and share >= target}
    return out


def reason_counts(data: Day, config: OfficeConfig) -> list[dict[str, Any]]:
    """How often each configured reason was ticked, per level; unknown old codes are kept, named by code."""
    counts: dict[str, dict[str, Any]] = {}
    for code, spec in config.vote_reasons.items():
        counts[code] = {"code": code, "name": spec.name, "name_en": spec.name_en, "count": 0, **dict.fromkeys(VOTE_LEVELS, 0)}
    for _, code, level, n in data.reasons:
        entry = counts.setdefault(code, {"code": code, "name": code, "name_en": code, "count": 0, **dict.fromkeys(VOTE_LEVELS, 0)})
        entry["count"] += n
        entry[level] = entry.get(level, 0) + n
    return sorted(counts.values(), key=lambda r: (-r["count"], r["code"]))


def hourly(data: Day) -> list[dict[str, Any]]:
    """Arrivals (numbers taken) and mean wait by local hour of joining the queue, for the charts."""
    sums: dict[int, list[float]] = {}
    for _, hour, arrivals, called, wait_sum in data.hours:
        acc = sums.setdefault(hour, [0, 0, 0.0])
        acc[0] += arrivals
        acc[1] += called
        acc[2] += wait_sum
    return [{"hour": h, "arrivals": int(a), "called": int(n), "mean_wait_seconds": w / n if n else None}
            for h, (a, n, w) in sorted(sums.items())]


def wait_distribution(waits: list[float]) -> list[dict[str, Any]]:
    """Visits called per wait bucket (minutes: 0-5, 5-10, ... 60+), from sorted waits."""
    out = []
    for i, low in enumerate(WAIT_BUCKETS):
        high = WAIT_BUCKETS[i + 1] if i + 1 < len(WAIT_BUCKETS) else None
        upper = bisect_left(waits, high * 60) if high is not None else len(waits)
        out.append({"from_minutes": low, "to_minutes": high, "visits": upper - bisect_left(waits, low * 60)})
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


def figures(data: Day, config: OfficeConfig, group: str | None = None) -> list[dict[str, Any]]:
    """Queue and satisfaction figures per group key, for the days in `data`."""
    return merge(visit_figures(data, config, group), vote_figures(data, config, group))


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
