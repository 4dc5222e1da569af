"""The big screen's figures: each office today against the targets, ranked, with its freshness.

Pure: rows from hubdb.board() in, a JSON-ready board out (the page and /api/board share it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from queue_server.province.hubconfig import HubConfig

STALE_SECONDS = 120  # an office silent for longer than this (heartbeats come every 30 s) shows as unreachable
# The screen's title names the centres already; a row shows what tells them apart ("Xã An Bình").
CENTRE_PREFIX = "Trung tâm Phục vụ hành chính công "


def short_name(name: str) -> str:
    if name.startswith(CENTRE_PREFIX) and len(name) > len(CENTRE_PREFIX):
        rest = name[len(CENTRE_PREFIX):]
        return rest[0].upper() + rest[1:]
    return name


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def office_figures(row: dict[str, Any], config: HubConfig, now: datetime) -> dict[str, Any]:
    targets = config.targets
    mean_wait = round(row["wait_seconds"] / row["waited"] / 60.0, 1) if row["waited"] else None
    satisfaction = _share(row["satisfied"], row["votes"])
    last_seen: datetime | None = row["last_seen"]
    age = (now - last_seen).total_seconds() if last_seen else None
    backlog = max(0, row["local_seq"] - row["position"]) if row["local_seq"] is not None else None
    wait_ok = mean_wait is not None and mean_wait <= targets.wait_minutes
    satisfaction_ok = satisfaction is not None and satisfaction >= targets.satisfaction_percent
    return {
        "office": row["office"],
        "name": row["name"] or row["office"],
        "short_name": short_name(row["name"] or row["office"]),
        "issued": row["issued"],
        "served": row["served"],
        "mean_wait_minutes": mean_wait,
        "within_target_percent": _share(row["within_target"], row["waited"]),
        "satisfaction_percent": satisfaction,
        "votes": row["votes"],
        "dossiers_on_time": row["dossiers_on_time"],
        "dossiers_late": row["dossiers_late"],
        "wait_ok": wait_ok,
        "satisfaction_ok": satisfaction_ok,
        "targets_met": int(wait_ok) + int(satisfaction_ok),
        "last_seen": last_seen.isoformat() if last_seen else None,
        "last_seen_text": last_seen.astimezone(config.tz).strftime("%H:%M %d/%m") if last_seen else None,
        "reachable": age is not None and age <= STALE_SECONDS and row["online"] is not False,
        "backlog": backlog,
        "hub_seq": row["position"],
        "rejected": row["rejected"],
        "conflicts": row["conflicts"],
    }


def rank_key(o: dict[str, Any]) -> tuple[Any, ...]:
    """Both targets met first, then the share called within the target, satisfaction, the shorter wait."""
    def desc(value: float | None) -> float:
        return -value if value is not None else 1.0
    wait = o["mean_wait_minutes"] if o["mean_wait_minutes"] is not None else float("inf")
    return (-o["targets_met"], desc(o["within_target_percent"]), desc(o["satisfaction_percent"]), wait, o["name"])


def build_board(rows: list[dict[str, Any]], config: HubConfig, now: datetime) -> dict[str, Any]:
    offices = sorted((office_figures(r, config, now) for r in rows), key=rank_key)
    for rank, office in enumerate(offices, start=1):
        office["rank"] = rank
    return {
        "name": config.name,
        "day": now.astimezone(config.tz).date().isoformat(),
        "generated_at": now.isoformat(),
        "generated_text": now.astimezone(config.tz).strftime("%H:%M:%S %d/%m/%Y"),
        "targets": {"wait_minutes": config.targets.wait_minutes, "satisfaction_percent": config.targets.satisfaction_percent},
        "offices": offices,
        "totals": {
            "offices": len(offices),
            "reachable": sum(o["reachable"] for o in offices),
            "issued": sum(o["issued"] for o in offices),
            "served": sum(o["served"] for o in offices),
            "targets_met": sum(o["targets_met"] == 2 for o in offices),
        },
    }
