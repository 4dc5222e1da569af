"""Slots: when a field of work takes booked citizens, and how many per slot. Pure, no I/O.

A field's slots on a day follow the opening hours ([hours]): from the start of each span, one
every `slot_minutes`, each ending within the span (so the lunch break has none). A day has no
slots on a holiday, outside `days_ahead`, or where a closure covers them. Capacity per slot, unless
`[appointments.capacity]` names the field:

    capacity = max(1, floor(counters x slot_minutes / default_service_minutes x share))

where `counters` counts the regular (not priority-only) counters serving the field, a counter
shared by k fields counting 1/k. `share` (default 0.5) is the part of that counter time bookings
may take; the rest stays for walk-ins, so bookings cannot starve them (docs/appointments.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from queue_server.config import OfficeConfig


@dataclass(frozen=True)
class Slot:
    service: str
    start: datetime  # aware, in the office's time zone
    end: datetime
    capacity: int

    @property
    def day(self) -> date:
        return self.start.date()


def office_holidays(config: OfficeConfig) -> frozenset[date]:
    """The office's holidays as a set of days; the office configuration's [[holidays]] is their one definition."""
    days: set[date] = set()
    for holiday in config.holidays:
        day = holiday.first
        while day <= holiday.last:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def capacity(config: OfficeConfig, service: str) -> int:
    """Bookings one slot of this field takes (the formula in the module docstring)."""
    settings = config.appointments
    if service in settings.capacity:
        return settings.capacity[service]
    counters = sum(1 / len(c.services) for c in config.counters_serving(service) if not c.priority_only)
    if counters == 0:
        return 0
    per_counter = settings.slot_minutes / config.rules.default_service_minutes
    return max(1, math.floor(counters * per_counter * settings.share + 1e-9))


def day_slots(config: OfficeConfig, service: str, day: date, holidays: frozenset[date] | None = None) -> list[Slot]:
    """Every slot of a field on a day (booked or not), in order."""
    settings = config.appointments
    if not settings.offers(service) or service not in config.services:
        return []
    if day in (office_holidays(config) if holidays is None else holidays):
        return []
    places = capacity(config, service)
    if places == 0:
        return []
    step = timedelta(minutes=settings.slot_minutes)
    slots = []
    for span_start, span_end in config.hours.get(day.weekday(), ()):
        start = datetime.combine(day, span_start, config.tz)
        end_of_span = datetime.combine(day, span_end, config.tz)
        while start + step <= end_of_span:
            end = start + step
            if not any(c.covers(service, day, start.time(), end.time()) for c in settings.closures):
                slots.append(Slot(service, start, end, places))
            start = end
    return slots


def find_slot(config: OfficeConfig, service: str, start: datetime, holidays: frozenset[date] | None = None) -> Slot | None:
    """The slot of this field starting exactly at `start`, if there is one."""
    local = start.astimezone(config.tz)
    return next((s for s in day_slots(config, service, local.date(), holidays) if s.start == local), None)


def today(config: OfficeConfig, now: datetime) -> date:
    return now.astimezone(config.tz).date()


def booking_window(config: OfficeConfig, now: datetime) -> tuple[datetime, date]:
    """(earliest slot start one may book now, last day one may book)."""
    settings = config.appointments
    return now + timedelta(minutes=settings.min_notice_minutes), today(config, now) + timedelta(days=settings.days_ahead)


def bookable(config: OfficeConfig, slot: Slot, now: datetime) -> bool:
    """Whether the slot may still be booked now (notice and horizon; places are the database's business)."""
    earliest, last_day = booking_window(config, now)
    return slot.start >= earliest and slot.day <= last_day


def booking_days(config: OfficeConfig, service: str, now: datetime, holidays: frozenset[date] | None = None) -> list[date]:
    """The days from today to the horizon on which this field has a slot one may still book."""
    holidays = office_holidays(config) if holidays is None else holidays
    first, (_, last) = today(config, now), booking_window(config, now)
    days = []
    day = first
    while day <= last:
        if any(bookable(config, s, now) for s in day_slots(config, service, day, holidays)):
            days.append(day)
        day += timedelta(days=1)
    return days


def seconds_left_today(config: OfficeConfig, now: datetime) -> float | None:
    """Seconds until the office's last opening span of today ends (None: no hours set, always open)."""
    if not config.hours:
        return None
    local = now.astimezone(config.tz)
    spans = config.hours.get(local.weekday(), ())
    if not spans:
        return 0.0
    end = datetime.combine(local.date(), spans[-1][1], config.tz)
    return max(0.0, (end - local).total_seconds())


TOO_EARLY, ON_TIME, WALK_IN = "too_early", "on_time", "walk_in"


def check_in_window(config: OfficeConfig, slot_at: datetime, now: datetime) -> str:
    """How a booking checked in now is treated: TOO_EARLY (refused: more than `early_minutes` before
    its slot), ON_TIME (a ticket called at the slot, waiting for it if early) or WALK_IN (more than
    `grace_minutes` after the slot: an ordinary ticket at the end of the line)."""
    settings = config.appointments
    if now < slot_at - timedelta(minutes=settings.early_minutes):
        return TOO_EARLY
    if now > slot_at + timedelta(minutes=settings.grace_minutes):
        return WALK_IN
    return ON_TIME
