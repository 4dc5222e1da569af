"""Today so far, for the manager's screen and the big screen in the room (JSON; the page is thin).

`dashboard(rdb, now, live=...)` catches the visit rows up (a few events: well under a
millisecond), then computes today's figures per field, counter and official, the longest
wait now, the data of the charts, and the alerts. The counters' live status comes from the
server's snapshot (`live_counters`, the one place that reads today's payload dicts) or, from
the command line, from the store's counters table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from queue_server.engine.engine import eligible
from queue_server.reports import figures as f
from queue_server.reports.report import official_names
from queue_server.reports.rollup import days_in_range, merged_waits
from queue_server.reports.visits import ReportDB

MAX_LISTED_ALERTS = 20


@dataclass(frozen=True)
class LiveCounter:
    id: str
    status: str  # idle, serving, paused, closed
    staff: str | None
    since: datetime | None  # when its status last changed


def live_counters(snapshot: dict[str, Any]) -> list[LiveCounter]:
    """Counters from the server's snapshot (today's counter_view dicts; switch here when the typed schemas land)."""
    return [
        LiveCounter(c["counter"], c["status"], c.get("staff"), datetime.fromisoformat(c["updated_at"]) if c.get("updated_at") else None)
        for c in snapshot.get("counters", [])
    ]


def stored_counters(rdb: ReportDB) -> list[LiveCounter]:
    """Counters as the store last wrote them (for `motcua report --today` without a running server)."""
    out = []
    for cid, is_open, paused, staff, current, updated in rdb.db.execute("SELECT id, open, paused, staff, current, updated_at FROM counters"):
        status = "closed" if not is_open else "paused" if paused else "serving" if current else "idle"
        out.append(LiveCounter(cid, status, staff, datetime.fromisoformat(updated) if updated else None))
    return out


def dashboard(rdb: ReportDB, now: datetime, counters: list[LiveCounter] | None = None) -> dict[str, Any]:
    rdb.catch_up()
    config, db = rdb.config, rdb.db
    day = config.business_day(now)
    counters = stored_counters(rdb) if counters is None else counters
    data = days_in_range(db, day, day)
    waits = merged_waits(data.rows)
    summary = f.merge({"all": f.summarise(data.rows, config, waits)}, f.vote_figures(data, config))[0]
    waiting = [
        {"ticket_id": tid, "number": number, "service": service, "priority_group": group, "target_counter": target,
         "joined_at": joined, "waited_seconds": max(0.0, (now - datetime.fromisoformat(joined)).total_seconds())}
        for tid, number, service, group, target, joined in db.execute(
            "SELECT ticket_id, number, service, priority_group, target_counter, joined_at FROM report_visits "
            "WHERE outcome = 'waiting' AND business_day = ? ORDER BY joined_at", [day],
        )
    ]
    for w in waiting:
        w["service_name"] = config.services[w["service"]].name if w["service"] in config.services else w["service"]
    names = {c: x.name for c, x in config.counters.items()}
    people = official_names(db)
    return {
        "office": config.id,
        "office_name": config.name,
        "business_day": day,
        "now": now.astimezone(config.tz).isoformat(timespec="seconds"),
        "targets": f.targets(config),
        "summary": {**summary, "waiting_now": len(waiting)},
        "longest_waiting": waiting[0] if waiting else None,
        "by_field": [{**r, "name": config.services[r["key"]].name if r["key"] in config.services else r["key"]}
                     for r in f.figures(data, config, "field")],
        "by_counter": [{**r, "name": names.get(r["key"], r["key"])} for r in f.figures(data, config, "counter")],
        "by_official": [{**r, "name": people.get(r["key"], r["key"])} for r in f.figures(data, config, "official")],
        "counters": [{"counter": c.id, "name": names.get(c.id, c.id), "status": c.status, "staff": c.staff,
                      "staff_name": people.get(c.staff, c.staff) if c.staff else None} for c in counters],
        "hourly": f.hourly(data),
        "wait_distribution": f.wait_distribution(waits),
        "alerts": alerts(config, now, waiting, counters),
    }


def alerts(config: Any, now: datetime, waiting: list[dict[str, Any]], counters: list[LiveCounter]) -> list[dict[str, Any]]:
    """Tickets waiting past the target, and counters idle while people they could call are waiting."""
    out: list[dict[str, Any]] = []
    target = config.reports.wait_target_minutes * 60
    late = [w for w in waiting if w["waited_seconds"] > target]
    for w in late[:MAX_LISTED_ALERTS]:
        out.append({"kind": "wait_over_target", "number": w["number"], "service": w["service"], "service_name": w["service_name"],
                    "waited_minutes": int(w["waited_seconds"] // 60), "target_minutes": config.reports.wait_target_minutes})
    if len(late) > MAX_LISTED_ALERTS:
        out.append({"kind": "more_waits_over_target", "count": len(late) - MAX_LISTED_ALERTS})
    idle_limit = config.reports.idle_alert_minutes * 60
    for c in counters:
        if c.status != "idle" or c.id not in config.counters:
            continue
        idle = (now - c.since).total_seconds() if c.since else None
        if idle is not None and idle < idle_limit:
            continue
        callable_now = [
            w for w in waiting
            if eligible(config, c.id, SimpleNamespace(target_counter=w["target_counter"], service=w["service"],
                                                      priority=w["priority_group"] is not None,
                                                      arrived=w.get("arrived", True), slot_at=w.get("slot_at")), now)
        ]
        if callable_now:
            out.append({"kind": "counter_idle", "counter": c.id, "counter_name": config.counters[c.id].name, "staff": c.staff,
                        "idle_minutes": None if idle is None else int(idle // 60), "waiting": len(callable_now)})
    return out


def room_view(board: dict[str, Any], shows_officials: bool = False) -> dict[str, Any]:
    """The dashboard for the public screen in the room: the office's and each field's figures, the counters' status.

    Left out: per-counter and per-official figures and the alerts (the manager's business), and who
    sits at each counter unless the office sets `room_shows_officials` (docs/reports.md).
    """
    longest = board["longest_waiting"]
    return {
        **{k: board[k] for k in ("office", "office_name", "business_day", "now", "targets", "summary", "by_field", "hourly",
                                 "wait_distribution") if k in board},
        **{k: board[k] for k in ("live_boot", "live_seq") if k in board},
        "longest_waiting": None if longest is None else {k: longest[k] for k in ("number", "service", "service_name", "waited_seconds")},
        "counters": [{"counter": c["counter"], "name": c["name"], "status": c["status"],
                      **({"staff": c["staff"], "staff_name": c.get("staff_name")} if shows_officials else {})} for c in board["counters"]],
        "shows_officials": shows_officials,
    }
