"""Slot arithmetic: slots follow the opening hours across days, skip holidays and closures, and take
the capacity derived from the counters serving a field (or the office's override)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from queue_server.appointments import slots
from queue_server.config import ConfigError
from tests.appointments.support import MONDAY, TZ, local, office


def starts(config, service, day, holidays=frozenset()):
    return [s.start.strftime("%H:%M") for s in slots.day_slots(config, service, day, holidays)]


def test_slots_follow_the_opening_hours_and_skip_the_lunch_break():
    config = office()
    monday = starts(config, "HT", MONDAY)
    assert monday[:3] == ["07:00", "07:30", "08:00"] and monday[8] == "11:00"  # 11:00-11:30 still fits the morning
    assert "11:30" not in monday and "12:00" not in monday and monday[9] == "13:00" and monday[-1] == "16:30"
    assert len(monday) == 9 + 8
    assert starts(config, "HT", MONDAY + timedelta(days=5)) == monday[:9]  # Saturday: mornings only
    assert starts(config, "HT", MONDAY + timedelta(days=6)) == []  # Sunday: closed


def test_a_slot_length_that_does_not_divide_a_span_ends_inside_it():
    config = office(appointments={"slot_minutes": 45})
    assert starts(config, "HT", MONDAY)[:6] == ["07:00", "07:45", "08:30", "09:15", "10:00", "10:45"]
    assert all(s.end <= local(MONDAY, 11, 30) for s in slots.day_slots(config, "HT", MONDAY, frozenset())[:6])


def test_slots_are_instants_in_the_office_time_zone():
    first = slots.day_slots(office(), "HT", MONDAY, frozenset())[0]
    assert first.start.tzinfo == TZ and first.start.utcoffset() == timedelta(hours=7)
    assert first.start.astimezone(TZ).hour == 7 and first.day == MONDAY
    assert slots.find_slot(office(), "HT", first.start.astimezone(TZ).replace(tzinfo=TZ)) == first
    assert slots.find_slot(office(), "HT", local(MONDAY, 7, 10)) is None  # not a slot's start


def test_no_slots_on_a_holiday_given_as_a_set():
    config = office()
    assert starts(config, "HT", MONDAY, frozenset({MONDAY})) == []
    assert starts(config, "HT", MONDAY + timedelta(days=1), frozenset({MONDAY})) != []


def test_the_office_configurations_holidays_are_read_when_it_has_them():
    """The admin issue adds [[holidays]] to the office configuration (OfficeConfig.holidays of Holiday
    ranges); the slots read exactly that, so there is one definition of the office's holidays."""
    config = office()
    assert slots.office_holidays(config) == frozenset()  # main has no holidays key yet
    with_holidays = SimpleNamespace(holidays=(SimpleNamespace(first=date(2026, 9, 1), last=date(2026, 9, 2)),))
    assert slots.office_holidays(with_holidays) == {date(2026, 9, 1), date(2026, 9, 2)}


def test_booking_days_run_across_days_to_the_horizon_skipping_closed_ones():
    config = office(appointments={"days_ahead": 4, "min_notice_minutes": 60})
    friday_late = local(MONDAY + timedelta(days=4), 16, 0)  # 16:30 is the last slot, less than an hour away
    days = slots.booking_days(config, "HT", friday_late, frozenset())
    saturday, monday_next = MONDAY + timedelta(days=5), MONDAY + timedelta(days=7)
    assert days == [saturday, monday_next, monday_next + timedelta(days=1)]  # not Friday (too late), not Sunday
    assert slots.booking_days(config, "HT", friday_late, frozenset({saturday})) == [monday_next, monday_next + timedelta(days=1)]


def test_a_slot_may_be_booked_only_with_notice_and_within_the_horizon():
    config = office(appointments={"days_ahead": 2, "min_notice_minutes": 30})
    now = local(MONDAY, 8, 0)
    day = slots.day_slots(config, "HT", MONDAY, frozenset())
    assert [slots.bookable(config, s, now) for s in day[:4]] == [False, False, False, True]  # 07:00..08:00 gone, 08:30 ok
    far = slots.day_slots(config, "HT", MONDAY + timedelta(days=3), frozenset())[0]
    assert not slots.bookable(config, far, now)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # HT: Quầy 1 alone (1) and Quầy 2 shared with CT (1/2); 30 / 12 minutes = 2.5 people per counter-slot; share 0.5
        ({}, {"HT": 1, "DD": 1, "XD": 1, "CT": 1}),
        ({"share": 1.0, "slot_minutes": 60}, {"HT": 7, "DD": 7, "XD": 2, "CT": 2}),  # 1.5 x 5 x 1 = 7.5; XD 0.5 x 5 = 2.5
        ({"capacity": {"HT": 4, "XD": 0}}, {"HT": 4, "DD": 1, "XD": 0, "CT": 1}),
    ],
)
def test_capacity_comes_from_the_counters_serving_a_field_or_the_override(settings, expected):
    config = office(appointments=settings)
    assert {s: slots.capacity(config, s) for s in expected} == expected


def test_priority_only_counters_give_no_booking_capacity_and_a_field_without_counters_has_no_slots():
    raw_counters = [{"id": "Q1", "name": "Quầy 1", "services": ["HT"]},
                    {"id": "Q6", "name": "Quầy 6 - Ưu tiên", "services": ["DD"], "priority_only": True}]
    config = office(counters=raw_counters, devices=[])
    assert slots.capacity(config, "DD") == 0 and slots.day_slots(config, "DD", MONDAY, frozenset()) == []
    assert slots.capacity(config, "HT") == 1  # 1 x 2.5 x 0.5 = 1.25


def test_fields_not_offered_have_no_slots():
    config = office(appointments={"services": ["DD"]})
    assert starts(config, "HT", MONDAY) == [] and starts(config, "DD", MONDAY) != []
    assert starts(office(appointments={"enabled": False}), "DD", MONDAY) == []


def test_closures_remove_whole_days_or_hours_for_some_fields():
    config = office(appointments={"closures": [
        {"date": "2026-11-23", "services": ["DD"], "reason": "Tập huấn"},
        {"date": "2026-11-24", "until": "2026-11-25", "from": "09:00", "to": "10:15"},
    ]})
    assert starts(config, "DD", MONDAY) == [] and len(starts(config, "HT", MONDAY)) == 17
    tuesday = starts(config, "HT", MONDAY + timedelta(days=1))
    assert "08:30" in tuesday and "09:00" not in tuesday and "10:00" not in tuesday and "10:30" in tuesday
    assert starts(config, "HT", MONDAY + timedelta(days=2)) == tuesday
    assert len(starts(config, "HT", MONDAY + timedelta(days=3))) == 17


def test_seconds_left_today_counts_to_the_end_of_the_last_span():
    config = office()
    assert slots.seconds_left_today(config, local(MONDAY, 16, 0)) == 3600
    assert slots.seconds_left_today(config, local(MONDAY, 18, 0)) == 0
    assert slots.seconds_left_today(config, local(MONDAY + timedelta(days=6), 9, 0)) == 0  # Sunday


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"slot_minute": 30}, "appointments.slot_minute: unknown key"),
        ({"slot_minutes": 2}, "appointments.slot_minutes: must be a whole number from 5 to 240"),
        ({"share": 0}, "appointments.share: must be a number above 0 and at most 1"),
        ({"capacity": {"ZZ": 2}}, "appointments.capacity.ZZ: unknown service"),
        ({"capacity": {"HT": -1}}, "appointments.capacity.HT: must be a whole number from 0 to 1000"),
        ({"services": ["ZZ"]}, "appointments.services: unknown service 'ZZ'"),
        ({"closures": [{"date": "2026-13-01"}]}, "appointments.closures[0].date: '2026-13-01' is not a date"),
        ({"closures": [{"date": "2026-11-23", "from": "10:00"}]}, "appointments.closures[0]: give both from and to"),
        ({"closures": [{"date": "2026-11-23", "until": "2026-11-20"}]}, "appointments.closures[0].until: 2026-11-20 is before"),
        ({"per_holder_per_day": 0}, "appointments.per_holder_per_day: must be a whole number from 1 to 100"),
    ],
)
def test_a_wrong_appointments_key_is_named(table, message):
    with pytest.raises(ConfigError) as err:
        office(appointments=table)
    assert message in str(err.value)
