"""Fixtures of the appointment tests: Monday 08:00 in Hà Nội, and the office of the test module (its CONFIG)
as the worker drives it (`hall`) or as a running server (`server`)."""

from __future__ import annotations

import pytest

from motcua.clock import FakeClock
from tests.appointments.office_support import DeskOffice
from tests.appointments.support import MONDAY, utc


@pytest.fixture
def clock():
    return FakeClock(utc(MONDAY, 8, 0))


@pytest.fixture
def hall(request, tmp_path, clock):
    h = DeskOffice(tmp_path / "data", request.module.CONFIG, clock)
    yield h
    h.close()


@pytest.fixture
def server(request, start_server, clock):
    return start_server(cfg=request.module.CONFIG, clock=clock)
