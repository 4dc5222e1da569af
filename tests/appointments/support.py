"""Shared pieces of the appointment tests: offices with appointment settings, times in the office's zone."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from queue_server import config as cfg
from tests.conftest import EXAMPLE_CONFIG

RAW = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2026, 11, 23)  # FakeClock's default day: 2026-11-23 01:00 UTC is Monday 08:00 in Hà Nội


def office(**tables: Any) -> cfg.OfficeConfig:
    """The example commune centre with extra or replaced tables ([appointments], [phone_queue], ...)."""
    raw = copy.deepcopy(RAW)
    for key, value in tables.items():
        raw[key] = value
    return cfg.parse(raw)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """An aware instant at a local time of the office."""
    return datetime.combine(day, time(hh, mm), TZ)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return local(day, hh, mm).astimezone(UTC)
