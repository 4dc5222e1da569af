"""The simulator drives a real server over MQTT on a clock it controls; the dashboard sees the day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from motcua.clock import FakeClock
from queue_server.reports.profile import arrivals, district_profile
from queue_server.reports.report import build
from queue_server.reports.simulate import Simulation, simulate_office
from queue_server.reports.visits import ReportDB
from tests.staff_support import WebSession, add_staff

MONDAY, SATURDAY = date(2026, 11, 23), date(2026, 11, 28)


def test_the_profile_has_a_morning_peak_a_lunch_gap_and_saturday_mornings(config):
    import random

    profile = district_profile(config, 600)
    monday = arrivals(profile, config, MONDAY, random.Random(1))
    saturday = arrivals(profile, config, SATURDAY, random.Random(1))
    hours = [t.hour for t, _ in monday]
    assert 540 < len(monday) < 660
    assert hours.count(8) > hours.count(14) > 0 and hours.count(12) == 0  # 11:30-13:00 is closed
    assert all(t.hour < 12 for t, _ in saturday) and 0.25 * len(monday) < len(saturday) < 0.5 * len(monday)  # 0.6 x the morning share
    assert not arrivals(profile, config, MONDAY + timedelta(days=6), random.Random(1))  # Sunday: closed


def test_a_simulated_morning_reaches_the_dashboard_over_http(start_server, config):
    clock = FakeClock(datetime.combine(MONDAY, time(6, 50), config.tz))
    server = start_server(clock=clock)
    sim = Simulation(config, district_profile(config, 120), server.broker_url, clock=clock, seed=7)
    try:
        stats = sim.run(MONDAY)
    finally:
        sim.close()
    assert stats.issued > 80 and stats.served > 0 and stats.requests > 3 * stats.issued / 2
    assert set(stats.errors) <= {"no_ticket_waiting"}  # nothing else was refused
    assert clock.now() > datetime.combine(MONDAY, time(17), config.tz)  # the server's clock went through the day
    add_staff(server, "truong-bp", role="manager")  # the manager's figures are behind sign-in
    manager = WebSession(server)
    manager.login("truong-bp")
    board = manager.get("/api/reports/dashboard").json
    assert board["business_day"] == "2026-11-23"
    assert board["summary"]["issued"] == stats.issued
    assert board["summary"]["served"] == stats.served
    assert board["summary"]["votes"] == stats.votes
    assert sum(h["arrivals"] for h in board["hourly"]) == stats.issued


def test_the_same_seed_gives_the_same_day(tmp_path, config):
    profile = district_profile(config, 60)
    summaries = []
    for run in range(2):
        data = tmp_path / f"run{run}"
        simulate_office(config, profile, SATURDAY, data_dir=data, seed=3)
        rdb = ReportDB(data / "motcua.db", config)
        summaries.append(build(rdb, SATURDAY, SATURDAY)["summary"])
        rdb.close()
    assert summaries[0]["issued"] > 20
    assert summaries[0] == summaries[1]
