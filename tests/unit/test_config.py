"""A wrong office configuration fails at start with a message naming the key."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime

import pytest

from queue_server import config as cfg
from tests.conftest import EXAMPLE_CONFIG

RAW = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def broken(mutate) -> dict:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    return raw


def test_the_example_configuration_is_valid():
    config = cfg.parse(RAW)
    assert config.id == "ubnd-huyen-demo"
    assert {s.name for s in config.services.values()} >= {"Tư pháp - Hộ tịch", "Đất đai - Môi trường", "Chứng thực"}
    assert config.counters["Q6"].priority_only
    assert config.rules.ratio_regular == 2 and config.rules.ratio_priority == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("office"), "[office]: missing table"),
        (lambda r: r["office"].update(id="xã Hòa Bình"), "office.id: use only letters"),
        (lambda r: r["office"].update(timezone="Mars/Olympus"), "office.timezone: unknown time zone"),
        (lambda r: r["office"].update(day_reset="25:00"), "office.day_reset"),
        (lambda r: r["hours"].update(mon="17:00-07:00"), "hours.mon: '17:00-07:00' ends before it starts"),
        (lambda r: r["hours"].update(funday="07:00-08:00"), "hours.funday: unknown day"),
        (lambda r: r["services"][1].update(numbers="1500-2500"), "services[1].numbers: 1500-2500 overlaps HT"),
        (lambda r: r["services"][0].pop("numbers"), "services[0]: give either numbers"),
        (lambda r: r["services"][5].update(prefix="c1"), "services[5].prefix"),
        (lambda r: r["services"][2].update(code="HT"), "services[2].code: duplicate service code 'HT'"),
        (lambda r: r["counters"][0].update(services=["HT", "ZZ"]), "counters[0].services: unknown service 'ZZ'"),
        (lambda r: r["devices"][2].pop("counter"), "devices[2].counter: a counter device needs"),
        (lambda r: r["devices"][0].update(role="printer"), "devices[0].role: 'printer' is not one of"),
        (lambda r: r["calling"].update(ratio="2-1"), "calling.ratio"),
        (lambda r: r["calling"].update(priority="vip"), "calling.priority"),
        (lambda r: r["calling"].update(calls_before_no_show=0), "calling.calls_before_no_show"),
    ],
)
def test_a_wrong_key_is_named(mutate, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.parse(broken(mutate))
    assert message in str(err.value)


def test_a_missing_or_unparsable_file_is_named(tmp_path):
    with pytest.raises(cfg.ConfigError, match="file not found"):
        cfg.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[office\nid = 1")
    with pytest.raises(cfg.ConfigError, match=r"bad\.toml: not valid TOML"):
        cfg.load(bad)


def test_the_business_day_follows_local_time_and_the_reset_hour():
    config = cfg.parse(RAW)
    # 23:30 UTC on the 22nd is 06:30 on the 23rd in Ho Chi Minh City (UTC+7, no DST).
    assert config.business_day(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == "2026-11-23"
    late = config.with_overrides(day_reset=cfg.time(5, 0))
    assert late.business_day(datetime(2026, 11, 22, 21, 0, tzinfo=UTC)) == "2026-11-22"  # 04:00 local, before reset


def test_opening_hours_are_local():
    config = cfg.parse(RAW)
    assert config.is_open(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # Monday 08:00
    assert not config.is_open(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))  # Monday 12:00, lunch
    assert not config.is_open(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # Sunday
