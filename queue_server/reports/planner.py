"""Staffing planner: counters to open per hour and field for the 15-minute target, and what a staffing gives.

Method (docs/planner.md): each hour is treated as a steady M/G/c queue. Erlang C gives the
probability of waiting and the mean wait for exponential service; the Allen-Cunneen correction
multiplies it by (1 + cv²) / 2 for service times with coefficient of variation cv (Poisson arrivals).
The share served within t minutes uses the M/M/c tail P(W > t) = C · exp(-(cμ - λ) t), with the rate
scaled by 2 / (1 + cv²). `simulate_waits` is a discrete-event simulation of the same office
(first come first served among the fields a counter takes), used to check the formulas (tests)
and to compare routing rules on the same arrivals.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.reports.profile import Profile, hourly_rates, open_seconds

MAX_COUNTERS = 50


def erlang_c(c: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load λ/μ (1 if unstable)."""
    if c <= 0 or load >= c:
        return 1.0
    if load <= 0:
        return 0.0
    # Erlang B by the stable recursion, then C from B.
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    rho = load / c
    return b / (1 - rho + rho * b)


@dataclass(frozen=True)
class QueueEstimate:
    counters: int
    arrivals_per_hour: float
    mean_service_minutes: float
    utilisation: float
    p_wait: float
    mean_wait_minutes: float  # inf when the counters cannot keep up
    within_target_share: float

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if math.isinf(out["mean_wait_minutes"]):
            out["mean_wait_minutes"] = None
        return out


def estimate(arrivals_per_hour: float, mean_service_minutes: float, counters: int, cv: float = 1.0,
             target_minutes: float = 15.0) -> QueueEstimate:
    """Mean wait and share within target of an M/G/c hour (Erlang C with the Allen-Cunneen correction)."""
    lam = arrivals_per_hour / 60  # per minute
    load = lam * mean_service_minutes
    if arrivals_per_hour <= 0:
        return QueueEstimate(counters, 0.0, mean_service_minutes, 0.0, 0.0, 0.0, 1.0)
    if counters <= 0 or load >= counters:
        return QueueEstimate(counters, arrivals_per_hour, mean_service_minutes, math.inf if counters <= 0 else load / counters,
                             1.0, math.inf, 0.0)
    p_wait = erlang_c(counters, load)
    correction = (1 + cv ** 2) / 2
    drain = counters / mean_service_minutes - lam  # cμ - λ, per minute
    wait = p_wait / drain * correction
    within = 1 - p_wait * math.exp(-drain * target_minutes / correction)
    return QueueEstimate(counters, arrivals_per_hour, mean_service_minutes, load / counters, p_wait, wait, within)


def counters_needed(arrivals_per_hour: float, mean_service_minutes: float, cv: float = 1.0, target_minutes: float = 15.0,
                    within_share: float | None = None) -> int:
    """Fewest counters whose mean wait is at most the target (and, if given, whose share within it is enough)."""
    if arrivals_per_hour <= 0:
        return 0
    for c in range(1, MAX_COUNTERS + 1):
        e = estimate(arrivals_per_hour, mean_service_minutes, c, cv, target_minutes)
        if e.mean_wait_minutes <= target_minutes and (within_share is None or e.within_target_share >= within_share):
            return c
    return MAX_COUNTERS


# --- demand: from a profile or from recorded history ------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """Arrivals per hour per field for one kind of day, and service time per field (minutes, cv)."""

    rates: dict[int, dict[str, float]]  # hour -> service -> arrivals in that hour
    service_minutes: dict[str, float]
    cv: dict[str, float]
    open_fraction: dict[int, float]  # hour -> share of the hour the office takes numbers
    source: str


def demand_from_profile(profile: Profile, config: OfficeConfig, day: date) -> Demand:
    rates: dict[int, dict[str, float]] = {}
    fractions: dict[int, float] = {}
    for hour, rate in hourly_rates(profile, config, day).items():
        fractions[hour] = open_seconds(config, day, hour) / 3600
        rates[hour] = {s: rate * fractions[hour] * profile.share(s) for s in profile.mix}  # expected count in the hour
    minutes = {s: profile.service_minutes.get(s, config.rules.default_service_minutes) + profile.walk_seconds / 60 for s in profile.mix}
    return Demand(rates, minutes, dict.fromkeys(profile.mix, profile.service_cv), fractions, "profile")


def demand_from_history(db: Any, config: OfficeConfig, start: str, end: str, weekday: int | None = None) -> Demand:
    """Mean arrivals per local hour and field over the recorded days (of one weekday, if given)."""
    where = "business_day BETWEEN ? AND ?"
    params: list[Any] = [start, end]
    days = [d for (d,) in db.execute(f"SELECT DISTINCT business_day FROM report_visits WHERE {where}", params)]
    if weekday is not None:
        days = [d for d in days if date.fromisoformat(d).weekday() == weekday]
    if not days:
        raise ValueError(f"no recorded visits between {start} and {end}{' on that weekday' if weekday is not None else ''}")
    marks = ",".join("?" * len(days))
    rates: dict[int, dict[str, float]] = {}
    for hour, service, n in db.execute(
        f"SELECT hour, service, COUNT(*) FROM report_visits WHERE business_day IN ({marks}) GROUP BY hour, service", days,
    ):
        rates.setdefault(hour, {})[service] = n / len(days)
    minutes: dict[str, float] = {}
    cvs: dict[str, float] = {}
    for service, n, mean, mean_sq in db.execute(
        f"SELECT service, COUNT(*), AVG(service_seconds), AVG(service_seconds * service_seconds) FROM report_visits "
        f"WHERE business_day IN ({marks}) AND service_seconds IS NOT NULL GROUP BY service", days,
    ):
        minutes[service] = mean / 60
        var = max(0.0, mean_sq - mean * mean) * n / max(1, n - 1)
        cvs[service] = math.sqrt(var) / mean if mean else 1.0
    for code in config.services:
        minutes.setdefault(code, config.rules.default_service_minutes)
        cvs.setdefault(code, 1.0)
    sample = date.fromisoformat(days[0])
    fractions = {h: (open_seconds(config, sample, h) / 3600) or 1.0 for h in rates}
    return Demand(rates, minutes, cvs, fractions, f"history ({len(days)} days)")


# --- the plan and a proposed staffing ---------------------------------------------------------------


def plan(demand: Demand, target_minutes: float = 15.0) -> list[dict[str, Any]]:
    """Per hour and field: arrivals, counters needed (one field per counter), expected wait with them."""
    rows = []
    for hour in sorted(demand.rates):
        fraction = demand.open_fraction.get(hour, 1.0) or 1.0
        for service, n in sorted(demand.rates[hour].items()):
            per_hour = n / fraction  # the rate while open (a half-open hour has twice the rate of its count)
            mean, cv = demand.service_minutes.get(service, 10.0), demand.cv.get(service, 1.0)
            c = counters_needed(per_hour, mean, cv, target_minutes)
            e = estimate(per_hour, mean, c, cv, target_minutes)
            rows.append({"hour": hour, "service": service, "arrivals": n, "rate_per_hour": per_hour, "mean_service_minutes": mean, "cv": cv,
                         "counters": c, "mean_wait_minutes": e.mean_wait_minutes, "within_target_share": e.within_target_share})
    return rows


def pooled(demand: Demand, hour: int, services: Iterable[str]) -> tuple[float, float, float]:
    """(rate per hour, mean minutes, cv) of several fields served by the same counters (a mixture)."""
    fraction = demand.open_fraction.get(hour, 1.0) or 1.0
    rates = {s: demand.rates.get(hour, {}).get(s, 0.0) / fraction for s in services}
    total = sum(rates.values())
    if total == 0:
        return 0.0, 0.0, 1.0
    mean = sum(r * demand.service_minutes[s] for s, r in rates.items()) / total
    second = sum(r * demand.service_minutes[s] ** 2 * (1 + demand.cv[s] ** 2) for s, r in rates.items()) / total
    cv = math.sqrt(max(0.0, second - mean * mean)) / mean if mean else 1.0
    return total, mean, cv


def evaluate(demand: Demand, staffing: dict[str, int] | int, target_minutes: float = 15.0) -> dict[str, Any]:
    """Expected mean wait and share within target, per hour and over the day, for a proposed staffing.

    `staffing` is counters per field (one field per counter) or a whole number (counters shared by every field).
    """
    hours = []
    weight = waits = within = 0.0
    for hour in sorted(demand.rates):
        fraction = demand.open_fraction.get(hour, 1.0) or 1.0
        if isinstance(staffing, int):
            rate, mean, cv = pooled(demand, hour, demand.rates[hour])
            groups = [(rate, mean, cv, staffing, rate * fraction)]
        else:
            groups = [
                (n / fraction, demand.service_minutes[s], demand.cv[s], staffing.get(s, 0), n)
                for s, n in demand.rates[hour].items() if n > 0
            ]
        hour_w = hour_wait = hour_within = 0.0
        for rate, mean, cv, c, count in groups:
            e = estimate(rate, mean, c, cv, target_minutes)
            hour_w += count
            hour_wait += count * e.mean_wait_minutes
            hour_within += count * e.within_target_share
        if hour_w:
            hour_mean = hour_wait / hour_w
            hours.append({"hour": hour, "arrivals": hour_w, "mean_wait_minutes": None if math.isinf(hour_mean) else hour_mean,
                          "within_target_share": hour_within / hour_w})
            weight, waits, within = weight + hour_w, waits + hour_wait, within + hour_within
    mean = waits / weight if weight else 0.0
    return {"hours": hours, "mean_wait_minutes": None if math.isinf(mean) else mean, "within_target_share": within / weight if weight else 1.0,
            "meets_target": mean <= target_minutes}


# --- discrete-event simulation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    at: float  # minutes
    service: str
    duration: float  # minutes


def simulate_waits(arrivals: Sequence[Arrival], counters: Sequence[Sequence[str]]) -> list[float]:
    """Waits (minutes, in arrival order) when each counter takes the oldest waiting ticket of its fields.

    `counters` lists the fields each counter serves: [["HT"], ["DD"]] is one field per counter,
    [["HT", "DD"]] * 2 is two shared counters. Arrivals must be in time order.
    """
    queues: dict[str, deque[int]] = {}
    for fields in counters:
        for s in fields:
            queues.setdefault(s, deque())
    free = list(range(len(counters)))  # idle counters
    busy: list[tuple[float, int]] = []  # (free again at, counter)
    waits = [0.0] * len(arrivals)

    def start(counter: int, index: int, now: float) -> None:
        waits[index] = now - arrivals[index].at
        heapq.heappush(busy, (now + arrivals[index].duration, counter))

    def take(counter: int, now: float) -> bool:
        heads = [(queues[s][0], s) for s in counters[counter] if queues[s]]
        if not heads:
            return False
        index, s = min(heads)
        queues[s].popleft()
        start(counter, index, now)
        return True

    for index, arrival in enumerate(arrivals):
        while busy and busy[0][0] <= arrival.at:
            now, counter = heapq.heappop(busy)
            if not take(counter, now):
                free.append(counter)
        if arrival.service not in queues:
            raise ValueError(f"no counter serves {arrival.service!r}")
        queues[arrival.service].append(index)
        for counter in sorted(free):
            if arrival.service in counters[counter]:
                free.remove(counter)
                take(counter, arrival.at)
                break
    while busy:
        now, counter = heapq.heappop(busy)
        take(counter, now)
    return waits


def stationary_arrivals(rate_per_hour: float, services: dict[str, tuple[float, float]], minutes: float, rng: random.Random) -> list[Arrival]:
    """Poisson arrivals over `minutes`, split evenly by rate among services {code: (mean minutes, cv)}."""
    out, t = [], 0.0
    codes = list(services)
    while True:
        t += rng.expovariate(rate_per_hour / 60)
        if t > minutes:
            return out
        code = rng.choice(codes)
        mean, cv = services[code]
        out.append(Arrival(t, code, _lognormal(mean, cv, rng) if cv != 1.0 else rng.expovariate(1 / mean)))


def demand_arrivals(demand: Demand, rng: random.Random) -> list[Arrival]:
    """One day of a demand as DES arrivals: Poisson per hour and field, lognormal service (minutes after midnight)."""
    out = []
    for hour, per_field in sorted(demand.rates.items()):
        fraction = demand.open_fraction.get(hour, 1.0) or 1.0
        for service, n in per_field.items():
            rate = n / fraction / 60  # per minute while open
            t = 0.0
            while rate > 0:
                t += rng.expovariate(rate)
                if t >= 60 * fraction:
                    break
                out.append(Arrival(hour * 60 + t, service, _lognormal(demand.service_minutes[service], demand.cv[service], rng)))
    out.sort(key=lambda a: a.at)
    return out


def _lognormal(mean: float, cv: float, rng: random.Random) -> float:
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def compare_routing(demand: Demand, layouts: dict[str, Sequence[Sequence[str]]], days: int = 30, seed: int = 1,
                    target_minutes: float = 15.0) -> dict[str, dict[str, float]]:
    """Mean wait, 90th percentile and share within target of each counter layout on the same simulated arrivals."""
    waits: dict[str, list[float]] = {name: [] for name in layouts}
    rng = random.Random(seed)
    for _ in range(days):
        arrivals = demand_arrivals(demand, rng)
        for name, layout in layouts.items():
            waits[name] += simulate_waits(arrivals, layout)
    return {
        name: {"mean_wait_minutes": sum(w) / len(w), "within_target_share": sum(x <= target_minutes for x in w) / len(w),
               "p90_wait_minutes": sorted(w)[math.ceil(0.9 * len(w)) - 1], "visits": len(w) / days}
        for name, w in waits.items() if w
    }


def layout_of(staffing: dict[str, int] | int, services: Sequence[str]) -> list[list[str]]:
    """The DES counters of a staffing: counters per field, or a number of counters shared by every field."""
    if isinstance(staffing, int):
        return [list(services)] * staffing
    return [[s] for s, n in staffing.items() for _ in range(n)]
