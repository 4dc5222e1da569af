"""How citizens come and how long they take: a daily profile for the simulator and the planner.

Arrivals are a Poisson process whose rate changes by hour (a morning peak, a smaller afternoon
one, nothing in the lunch gap, Saturday mornings at a lower level), split among fields by a mix.
Service times are lognormal per field (mean and coefficient of variation). The default numbers
are those of a district section handling ~450 numbers a weekday with six counters (about 80% of
their time busy, more at the morning peak); `scaled()` changes the volume.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from queue_server.config import OfficeConfig

# Relative arrival rate by local hour; hours outside the office's opening spans get none.
WEEKDAY_HOURS = {7: 0.9, 8: 1.6, 9: 1.5, 10: 1.1, 11: 0.8, 12: 0.3, 13: 0.8, 14: 1.1, 15: 1.0, 16: 0.6}
SATURDAY_FACTOR = 0.6
# Share of numbers and mean service minutes per field of the example district office.
DISTRICT_MIX = {"HT": 0.30, "CT": 0.25, "DD": 0.18, "XD": 0.07, "KD": 0.10, "LD": 0.10}
DISTRICT_SERVICE_MINUTES = {"HT": 4.5, "CT": 3.0, "DD": 7.0, "XD": 8.0, "KD": 6.0, "LD": 5.0}


@dataclass(frozen=True)
class Profile:
    weekday_numbers: float = 450.0  # numbers taken on an ordinary weekday
    hours: dict[int, float] = field(default_factory=lambda: dict(WEEKDAY_HOURS))
    saturday_factor: float = SATURDAY_FACTOR
    mix: dict[str, float] = field(default_factory=dict)  # service -> share (normalised)
    service_minutes: dict[str, float] = field(default_factory=dict)  # service -> mean minutes
    service_cv: float = 0.6  # standard deviation / mean of the service time
    priority_share: float = 0.10
    no_show_share: float = 0.04
    requeue_share: float = 0.3  # of no-shows, who come back later
    transfer_share: float = 0.03
    vote_share: float = 0.7
    vote_levels: tuple[float, float, float] = (0.62, 0.33, 0.05)  # very satisfied, satisfied, unsatisfied
    walk_seconds: float = 30.0  # from the call to the counter

    def scaled(self, weekday_numbers: float) -> Profile:
        return replace(self, weekday_numbers=weekday_numbers)

    def share(self, service: str) -> float:
        total = sum(self.mix.values())
        return self.mix.get(service, 0.0) / total if total else 0.0


def district_profile(config: OfficeConfig, weekday_numbers: float = 450.0) -> Profile:
    """The default profile for an office: the district numbers where the codes match, else even shares."""
    services = list(config.services)
    known = [s for s in services if s in DISTRICT_MIX]
    mix = {s: DISTRICT_MIX[s] for s in known} if len(known) == len(services) else dict.fromkeys(services, 1.0)
    minutes = {s: DISTRICT_SERVICE_MINUTES.get(s, config.rules.default_service_minutes) for s in services}
    return Profile(weekday_numbers=weekday_numbers, mix=mix, service_minutes=minutes)


def open_seconds(config: OfficeConfig, day: date, hour: int) -> float:
    """Seconds of local hour `hour` of `day` during which the office takes numbers."""
    spans = config.hours.get(day.weekday(), ()) if config.hours else ((time(7), time(17)),)
    start, end = hour * 3600, (hour + 1) * 3600
    total = 0.0
    for a, b in spans:
        lo, hi = max(start, a.hour * 3600 + a.minute * 60), min(end, b.hour * 3600 + b.minute * 60)
        total += max(0, hi - lo)
    return total


def hourly_rates(profile: Profile, config: OfficeConfig, day: date) -> dict[int, float]:
    """Expected numbers per hour (as if the hour were fully open) for each local hour of a day."""
    factor = profile.saturday_factor if day.weekday() == 5 else 1.0
    if day.weekday() == 6 and not config.hours.get(6):
        return {}
    # Normalise so that an ordinary weekday totals weekday_numbers over its open time.
    monday = day - timedelta(days=day.weekday())
    weight = sum(w * open_seconds(config, monday, h) / 3600 for h, w in profile.hours.items())
    if weight == 0:
        return {}
    scale = profile.weekday_numbers / weight * factor
    return {h: w * scale for h, w in profile.hours.items() if open_seconds(config, day, h) > 0}


def arrivals(profile: Profile, config: OfficeConfig, day: date, rng: random.Random) -> list[tuple[datetime, str]]:
    """(local time, service) of each citizen arriving on `day`, in time order."""
    out: list[tuple[datetime, str]] = []
    services = list(profile.mix) or list(config.services)
    weights = [profile.share(s) for s in services]
    for hour, rate in sorted(hourly_rates(profile, config, day).items()):
        if rate <= 0:
            continue
        t = 0.0
        while True:
            t += rng.expovariate(rate / 3600)
            if t >= 3600:
                break
            moment = datetime.combine(day, time(hour), config.tz) + timedelta(seconds=t)
            if config.is_open(moment) or not config.hours:
                out.append((moment, rng.choices(services, weights)[0]))
    return out


def service_seconds(profile: Profile, service: str, rng: random.Random, default_minutes: float = 10.0) -> float:
    """A lognormal service time with the field's mean and the profile's coefficient of variation."""
    mean = profile.service_minutes.get(service, default_minutes) * 60
    sigma2 = math.log(1 + profile.service_cv ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
