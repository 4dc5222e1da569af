"""Figures of a known day equal the values computed by hand (docstring of report_day.known_day)."""

from __future__ import annotations

from datetime import date

import pytest

from queue_server.office import Office
from queue_server.reports.dashboard import dashboard, stored_counters
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB
from queue_server.store import Store
from tests.integration.report_day import known_day
from tests.staff_support import seed_officials

DAY = "2026-11-23"


@pytest.fixture
def office(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    yield Office(config, store, clock)
    store.close()


@pytest.fixture
def rdb(office, config):
    db = ReportDB(office.store.path, config)
    yield db
    db.close()


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_one_row_per_visit_with_its_times(office, clock, rdb):
    known_day(office, clock)
    rdb.catch_up()
    visits = {(r["number"], r["visit"]): r for r in rdb.rows("report_visits")}
    assert sorted(visits) == [("1001", 0), ("1002", 0), ("2001", 0), ("2001", 1), ("C001", 0)]
    a = visits[("1001", 0)]
    assert (a["outcome"], a["counter"], a["staff"], a["wait_seconds"], a["service_seconds"]) == ("served", "Q1", "nv-an", 300, 540)
    b = visits[("1002", 0)]
    assert (b["outcome"], b["calls"], b["wait_seconds"]) == ("no_show", 2, 1200)
    assert b["skipped_at"] == b["ended_at"] and b["skipped_at"].startswith("2026-11-23T01:22")
    c0, c1 = visits[("2001", 0)], visits[("2001", 1)]
    assert (c0["outcome"], c0["to_service"], c0["service_seconds"], c0["last"]) == ("transferred", "HT", 1200, 0)
    assert (c1["service"], c1["original_service"], c1["joined_by"], c1["wait_seconds"], c1["last"]) == ("HT", "DD", "transferred", 300, 1)
    assert c1["joined_at"] == c0["transferred_at"]
    assert visits[("C001", 0)]["outcome"] == "waiting"


def test_the_known_day_in_a_report(office, clock, rdb):
    known_day(office, clock)
    report = build(rdb, date(2026, 11, 23), date(2026, 11, 23), now=clock.now())
    s = report["summary"]
    assert (s["issued"], s["visits"], s["served"], s["no_shows"], s["waiting"], s["transferred"]) == (4, 5, 2, 1, 1, 1)
    assert s["called"] == 4
    assert s["mean_wait_seconds"] == pytest.approx(525)  # (300 + 1200 + 300 + 300) / 4
    assert s["p90_wait_seconds"] == 1200  # rank ceil(0.9 x 4) = 4 of [300, 300, 300, 1200]
    assert s["within_target_share"] == pytest.approx(0.75)
    assert s["within_limit_share"] == 1.0
    assert s["mean_service_seconds"] == pytest.approx(780)  # (540 + 1200 + 600) / 3
    assert (s["votes"], s["very_satisfied"], s["unsatisfied"], s["satisfaction_share"]) == (2, 1, 1, 0.5)
    assert s["meets_satisfaction_target"] is False
    assert report["waits"]["target_2025"]["met"] is True and report["waits"]["target_2022"]["met"] is True

    fields = by_key(report["by_field"])
    ht = fields["HT"]
    assert (ht["issued"], ht["visits"], ht["served"], ht["no_shows"], ht["called"]) == (2, 3, 2, 1, 3)
    assert ht["mean_wait_seconds"] == pytest.approx(600) and ht["p90_wait_seconds"] == 1200
    assert ht["mean_service_seconds"] == pytest.approx(570) and ht["votes"] == 2
    assert (fields["DD"]["transferred"], fields["DD"]["mean_service_seconds"]) == (1, 1200)
    assert (fields["CT"]["waiting"], fields["CT"]["called"], fields["CT"]["mean_wait_seconds"]) == (1, 0, None)
    assert fields["HT"]["name"] == "Tư pháp - Hộ tịch"

    counters = by_key(report["by_counter"])
    assert set(counters) == {"Q1", "Q3"}  # a ticket never called belongs to no counter
    assert (counters["Q1"]["served"], counters["Q1"]["no_shows"], counters["Q1"]["votes"]) == (2, 1, 2)
    officials = by_key(report["by_official"])
    assert (officials["nv-binh"]["transferred"], officials["nv-binh"]["mean_wait_seconds"]) == (1, 300)

    reasons = {r["code"]: r for r in report["reasons"]}
    assert (reasons["friendly"]["count"], reasons["fast"]["very_satisfied"], reasons["long_wait"]["unsatisfied"]) == (1, 1, 1)
    assert reasons["attitude"]["count"] == 0 and reasons["long_wait"]["name"] == "Thời gian chờ lâu"

    assert report["hourly"] == [{"hour": 8, "arrivals": 4, "called": 4, "mean_wait_seconds": pytest.approx(525)}]
    assert [b["visits"] for b in report["wait_distribution"]] == [0, 3, 0, 0, 1, 0, 0, 0]
    prod = {p["official"]: p for p in report["productivity"]}
    assert prod["nv-an"]["count"] == 2 and prod["nv-an"]["basis"] == "visits"
    assert prod["nv-an"]["target"] == pytest.approx(1200 / 365)


def test_the_dashboard_of_the_known_day(office, clock, rdb):
    known_day(office, clock)
    board = dashboard(rdb, clock.now(), stored_counters(rdb))
    assert board["business_day"] == DAY
    assert board["summary"]["waiting_now"] == 1 and board["summary"]["served"] == 2
    longest = board["longest_waiting"]
    assert (longest["number"], longest["waited_seconds"]) == ("C001", 1200)
    kinds = {(a["kind"], a.get("number") or a.get("counter")) for a in board["alerts"]}
    # C001 waits 20 minutes (target 15); Quầy 2 serves CT and has been idle 9 minutes; Quầy 1 is
    # idle too but serves only HT, so nobody waits for it.
    assert kinds == {("wait_over_target", "C001"), ("counter_idle", "Q2")}
    idle = next(a for a in board["alerts"] if a["kind"] == "counter_idle")
    assert (idle["idle_minutes"], idle["waiting"], idle["counter_name"]) == (9, 1, "Quầy 2")


def test_periods_group_the_same_visits(office, clock, rdb):
    known_day(office, clock)
    for period, key in (("week", "2026-W48"), ("month", "2026-11"), ("quarter", "2026-Q4"), ("year", "2026")):
        report = build(rdb, date(2026, 1, 1), date(2026, 12, 31), period=period, now=clock.now())
        (row,) = report["by_period"]
        assert row["key"] == key and row["issued"] == 4 and row["p90_wait_seconds"] == 1200
    assert build(rdb, date(2026, 11, 24), date(2026, 11, 30), now=clock.now())["summary"]["issued"] == 0
