"""A day of the simulator's arrivals with 30% of citizens booked: their wait after their slot, and walk-ins'.

    python bench/bench_booked_day.py [--share 0.3] [--seed 1]          (writes bench/results/booked_day.md)

The example commune centre (firmware_config/office.example.toml) on a Monday of the district profile
(450 numbers, queue_server/reports/profile.py), driven over MQTT by the simulator against a real
in-process server on a simulated clock (queue_server/appointments/simulate.py). A share of the
arrivals booked the slot at or after the time they would have come (15-minute slots, places per
slot sized for that share: 1.5 times the bookings a slot gets on average); they come 0-10 minutes
early, 10% late (some past the 15-minute grace), 5% not at all. The same day without bookings is
run too, so walk-ins' wait can be read beside what it is when nobody books. Target (issue 20):
booked citizens' mean wait after their slot at most 5 minutes.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import tempfile
import time
import tomllib
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import ROOT

RESULTS = ROOT / "bench" / "results"
DAY = date(2026, 11, 23)  # a Monday
SLOT_MINUTES = 15
TARGET_MINUTES = 5.0


def office(share: float):
    from queue_server import config as cfg
    from queue_server.appointments.slots import day_slots
    from queue_server.reports.profile import district_profile

    raw = tomllib.loads((ROOT / "firmware_config" / "office.example.toml").read_text(encoding="utf-8"))
    base = cfg.parse(raw)
    profile = district_profile(base)
    raw = copy.deepcopy(raw)
    raw["appointments"] = {"slot_minutes": SLOT_MINUTES}
    probe = cfg.parse(raw)
    capacity = {}
    for code in base.services:
        slots = len(day_slots(probe, code, DAY, frozenset())) or 1
        capacity[code] = max(1, math.ceil(1.5 * profile.weekday_numbers * profile.share(code) * share / slots))
    raw["appointments"]["capacity"] = capacity
    raw["issuing"] = {"per_minute": 0, "per_hour": 0}  # one simulated kiosk takes every number
    return cfg.parse(raw), profile, capacity


def run_day(share: float, seed: int) -> dict:
    from queue_server.appointments.simulate import BookedSimulation, waits
    from queue_server.reports.simulate import simulate_office

    config, profile, capacity = office(share)
    work = Path(tempfile.mkdtemp(prefix="bench-booked-"))
    started = time.monotonic()
    simulation = partial(BookedSimulation, booked_share=share, db_path=work / "motcua.db")
    stats = simulate_office(config, profile, DAY, data_dir=work, seed=seed, simulation=simulation)
    result = waits(work / "motcua.db", DAY)
    result.update(share=share, capacity=capacity, issued=stats.issued, served=stats.served, wall_seconds=time.monotonic() - started,
                  errors=stats.errors)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    booked = run_day(args.share, args.seed)
    nobody = run_day(0.0, args.seed)
    b, late, walk, base = booked["booked"], booked["late_booked"], booked["walk_in"], nobody["walk_in"]
    verdict = "within" if b["mean"] <= TARGET_MINUTES else "NOT within"
    lines = [
        f"The simulator's Monday at the example commune centre (450 numbers), {args.share:.0%} of arrivals booked "
        f"({SLOT_MINUTES}-minute slots, places per slot {booked['capacity']}); minutes from the slot (or the check-in, if later) to the "
        f"first call for bookings, from the number to the first call for walk-ins. Booked mean {b['mean']:.1f} min: {verdict} the "
        f"{TARGET_MINUTES:g}-minute target.",
        "",
        "| day | bookings (share of citizens) | booked on time: n, mean, p90, max | late, as walk-ins: n, mean | walk-ins: n, mean, p90, max | wall s |",
        "|---|---|---|---|---|---|",
        f"| {args.share:.0%} booked | {booked['bookings']} ({booked['bookings'] / (booked['bookings'] + walk['n']):.0%}) | "
        f"{b['n']}, {b['mean']:.1f}, {b['p90']:.1f}, {b['max']:.1f} | "
        f"{late['n']}, {late['mean']:.1f} | {walk['n']}, {walk['mean']:.1f}, {walk['p90']:.1f}, {walk['max']:.1f} | {booked['wall_seconds']:.1f} |",
        f"| nobody booked | 0 | - | - | {base['n']}, {base['mean']:.1f}, {base['p90']:.1f}, {base['max']:.1f} | {nobody['wall_seconds']:.1f} |",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "booked_day.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "booked_day.json").write_text(json.dumps({"booked": booked, "nobody": nobody}, indent=2, default=str) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
