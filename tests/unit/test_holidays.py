"""Holidays ([[holidays]]): validated naming the key, honoured by the engine's opening check, said to the citizen."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from motcua import i18n
from queue_server import config as cfg
from queue_server.engine import Rejected
from tests.unit.engine_harness import Harness, small_office

# FakeClock starts Monday 2026-11-23 08:00 in Ho Chi Minh City.
WEEKDAYS = {"mon": "07:00-11:30, 13:00-17:00", "tue": "07:00-11:30, 13:00-17:00", "wed": "07:00-11:30"}


def office_with(holidays: list[dict], **office: object) -> cfg.OfficeConfig:
    raw = copy.deepcopy(small_office().source)
    raw["office"].update(issue_outside_hours=False, **office)
    raw["hours"] = WEEKDAYS
    raw["holidays"] = holidays
    return cfg.parse(raw)


def test_a_ticket_on_a_holiday_is_refused_with_the_holiday_and_the_day_the_office_reopens(clock):
    config = office_with([{"date": "2026-11-23", "until": "2026-11-24", "name": "Nghỉ bù Quốc khánh"}])
    h = Harness(config, clock)
    with pytest.raises(Rejected) as refused:
        h.issue("HT")
    assert refused.value.code == "office_holiday"
    params = refused.value.params
    assert params["holiday"] == "Nghỉ bù Quốc khánh"
    assert params["reopens"] == "25/11/2026"  # Wednesday: Monday and Tuesday are the holiday
    text = i18n.error_text("office_holiday", "vi", **params)
    assert text.startswith("Hôm nay Bộ phận Một cửa nghỉ: Nghỉ bù Quốc khánh.") and "25/11/2026" in text
    clock.advance(2 * 24 * 3600)  # Wednesday 08:00: open again
    assert h.issue("HT") == "1001"


def test_the_next_open_day_skips_closed_weekdays(clock):
    config = office_with([{"date": "2026-11-25", "name": "Ngày hội"}])
    clock.advance(2 * 24 * 3600)  # Wednesday, the holiday; Thursday to Sunday have no hours
    assert config.next_open_day(clock.now()) == date(2026, 11, 30)
    assert not config.is_open(clock.now())


def test_always_open_also_opens_holidays(clock):
    config = office_with([{"date": "2026-11-23", "name": "Ngày hội"}]).with_overrides(issue_outside_hours=True)
    assert Harness(config, clock).issue("HT") == "1001"


def test_a_holiday_without_hours_still_closes_the_office(clock):
    raw = copy.deepcopy(small_office().source)
    raw["office"]["issue_outside_hours"] = False
    raw["holidays"] = [{"date": "2026-11-23", "name": "Ngày hội"}]
    config = cfg.parse(raw)
    assert config.hours == {} and not config.is_open(clock.now())
    assert config.is_open(clock.now() + timedelta(days=1))


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"date": "2026-9-2", "name": "x"}, 'holidays[0].date: must be a date like "2026-09-02"'),
        ({"date": "2026-02-30", "name": "x"}, "holidays[0].date: '2026-02-30' is not a date"),
        ({"date": date(2026, 9, 2), "name": "x"}, 'holidays[0].date: write the date in quotes, like "2026-09-02"'),
        ({"date": "2026-09-02", "until": "2026-09-01", "name": "x"}, "holidays[0].until: 2026-09-01 is before"),
        ({"date": "2026-01-01", "until": "2026-03-01", "name": "x"}, "holidays[0].until: a holiday lasts at most 31 days"),
        ({"date": "2026-09-02"}, "holidays[0].name: required"),
        ({"date": "2026-09-02", "name": "x", "recurring": True}, "holidays[0].recurring: unknown key"),
    ],
)
def test_a_wrong_holiday_is_refused_naming_the_key(entry, words):
    with pytest.raises(cfg.ConfigError) as refused:
        office_with([entry])
    assert words in str(refused.value)


def test_holidays_are_kept_in_date_order():
    config = office_with([{"date": "2026-12-31", "name": "b"}, {"date": "2026-09-02", "name": "a"}])
    assert [h.name for h in config.holidays] == ["a", "b"]
