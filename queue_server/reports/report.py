"""A report over any date range: the API behind `motcua report`, the JSON endpoint and the exports.

`build(rdb, start=..., end=..., period="month")` catches the visit rows up with the log and
returns plain JSON-ready data; the CSV, XLSX and PDF exports only lay it out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from queue_server.reports import figures as f
from queue_server.reports.dossier_figures import dossier_figures, received_per_official
from queue_server.reports.periods import days_in, label
from queue_server.reports.rollup import days_in_range, merged_waits
from queue_server.reports.visits import ReportDB


def build(rdb: ReportDB, start: date, end: date, period: str = "day", now: datetime | None = None, catch_up: bool = True) -> dict[str, Any]:
    """Every figure of business days start..end (inclusive), with per-period rows of the given period."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    if catch_up:
        rdb.catch_up()
        rdb.refresh_dossiers()
    config, db = rdb.config, rdb.db
    now = now or datetime.now(UTC)
    s, e = start.isoformat(), end.isoformat()
    data = days_in_range(db, s, e)
    waits = merged_waits(data.rows)
    summary = f.merge({"all": f.summarise(data.rows, config, waits)}, f.vote_figures(data, config))[0]
    by_period = f.figures(data, config, period)
    for row in by_period:
        row["label"] = label(row["key"], period)
    by_field = _named(f.figures(data, config, "field"), {c: x.name for c, x in config.services.items()})
    by_counter = _named(f.figures(data, config, "counter"), {c: x.name for c, x in config.counters.items()})
    names = official_names(db)
    by_official = _named(f.figures(data, config, "official"), names)
    dossiers = dossier_figures(db, config, start, end, now, period)
    for row in dossiers["by_period"]:
        row["label"] = label(row["key"], period)
    _name_fields(dossiers, config)
    return {
        "office": config.id,
        "office_name": config.name,
        "from": s,
        "to": e,
        "days": days_in(start, end),
        "period": period,
        "generated_at": now.astimezone(config.tz).isoformat(timespec="seconds"),
        "targets": f.targets(config),
        "summary": summary,
        "waits": f.judge_waits(summary, config),
        "by_period": by_period,
        "by_field": by_field,
        "by_counter": by_counter,
        "by_official": by_official,
        "reasons": f.reason_counts(data, config),
        "hourly": f.hourly(data),
        "wait_distribution": f.wait_distribution(waits),
        "dossiers": dossiers,
        "productivity": [{**row, "name": names.get(row["official"], row["official"])} for row in productivity(rdb, start, end, by_official)],
    }


def official_names(db: Any) -> dict[str, str]:
    """Staff id -> the name on the account (staff accounts, issue 16): the log keeps ids, people read names."""
    if "staff" not in db.table_names():
        return {}
    from queue_server.staff.store import StaffStore

    return StaffStore(db).names()


def _named(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["name"] = names.get(row["key"], row["key"])
    return rows


def _name_fields(dossiers: dict[str, Any], config: Any) -> None:
    for row in dossiers["by_field"]:
        spec = config.services.get(row["key"])
        row["name"] = spec.name if spec else row["key"]
    for row in dossiers["late"]:
        spec = config.services.get(row["field"])
        row["field_name"] = spec.name if spec else row["field"]


def productivity(rdb: ReportDB, start: date, end: date, by_official: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each official's output against the plan's yearly target, pro-rated to the range.

    The plan counts dossiers received (1,600 a year per official at a provincial centre, 1,200
    rural, 800 remote). Where the dossier data names who received each dossier, that count is
    used; otherwise the visits an official served stand in for it (each visit hands in a dossier
    or asks about one), and the row says which basis it used.
    """
    config = rdb.config
    yearly = config.reports.yearly_dossiers_per_official
    target = yearly * days_in(start, end) / 365
    received = received_per_official(rdb.db, config, start, end)
    served = {row["key"]: row["served"] + row["transferred"] for row in by_official}
    out = []
    for official in sorted(set(received) | set(served)):
        basis = "dossiers" if official in received else "visits"
        count = received.get(official, 0) if basis == "dossiers" else served.get(official, 0)
        out.append({"official": official, "dossiers_received": received.get(official, 0), "visits_served": served.get(official, 0),
                    "basis": basis, "count": count, "yearly_target": yearly, "target": target,
                    "share_of_target": count / target if target else None, "meets_target": count >= target})
    return out
