"""Visit rows caught up live, in bits, equal the rows a rebuild derives from the whole log."""

from __future__ import annotations

import json
import random

import pytest

from queue_server.office import Office
from queue_server.reports.rollup import ROLLUP_TABLES
from queue_server.reports.visits import ReportDB
from queue_server.store import Store
from tests.staff_support import seed_officials

TABLES = ("report_visits", "report_votes", "report_vote_reasons", "report_sessions", *ROLLUP_TABLES)


def _random_days(office: Office, clock, rdb: ReportDB, seed: int, days: int = 2) -> int:
    """Random requests from every kind of device, catching up at random moments; returns successes."""
    rng = random.Random(seed)
    config = office.config
    counters = list(config.counters)
    ok = 0
    tokens: list[str] = []
    no_shows: list[str] = []
    for _ in range(days):
        for step in range(400):
            clock.advance(rng.uniform(5, 90))
            counter = rng.choice(counters)
            op, fields = rng.choice([
                ("ticket.issue", {"service": rng.choice(list(config.services)), "priority": rng.random() < 0.2}),
                ("ticket.issue", {"service": rng.choice(list(config.services))}),
                ("counter.sign_in", {"counter": counter, "staff": f"nv-{rng.randint(1, 8)}"}),
                ("counter.next", {"counter": counter}), ("counter.next", {"counter": counter}),
                ("counter.start", {"counter": counter}), ("counter.finish", {"counter": counter}),
                ("counter.recall", {"counter": counter}), ("counter.skip", {"counter": counter}),
                ("counter.transfer", {"counter": counter, "to_service": rng.choice(list(config.services))}),
                ("counter.transfer", {"counter": counter, "to_counter": rng.choice(counters)}),
                ("counter.sign_out", {"counter": counter}), ("counter.pause", {"counter": counter, "reason": "break"}),
                ("counter.resume", {"counter": counter}),
                ("ticket.requeue", {"number": rng.choice(no_shows) if no_shows else "1001"}),
            ])
            payload = json.dumps({"id": f"{seed}-{clock.now().isoformat()}-{step}", "op": op, **fields}).encode()
            for o in office.handle_batch([("console", payload)]):
                if o.topic == office.topics.res("console") and o.payload.get("ok"):
                    ok += 1
                    ticket = o.payload.get("ticket") or {}
                    if ticket.get("status") == "no_show":
                        no_shows.append(ticket["number"])
                    if ticket.get("status") == "finished" and ticket.get("vote_token"):
                        tokens.append(ticket["vote_token"])
            if tokens and rng.random() < 0.1:
                level = rng.choice(["very_satisfied", "satisfied", "unsatisfied"])
                reasons = rng.sample(list(config.vote_reasons), rng.randint(0, 2))
                vote = json.dumps({"id": f"v{seed}-{step}", "op": "vote.submit", "token": tokens.pop(), "level": level, "reasons": reasons})
                office.handle_batch([("kiosk-01", vote.encode())])
            if rng.random() < 0.05:
                rdb.catch_up(limit=rng.randint(1, 30))  # catch up in small, uneven bits
        clock.advance(24 * 3600)
        no_shows.clear()
    return ok


@pytest.mark.parametrize("seed", [19, 2])
def test_a_rebuild_equals_the_rows_caught_up_live(tmp_path, config, clock, seed):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    office = Office(config, store, clock)
    live = ReportDB(store.path, config)
    assert _random_days(office, clock, live, seed=seed) > 200
    live.catch_up()
    live_rows = {t: live.rows(t) for t in TABLES}
    assert len(live_rows["report_visits"]) > 100 and live_rows["report_sessions"]
    assert {r["outcome"] for r in live_rows["report_visits"]} >= {"served", "transferred", "no_show", "expired"}
    assert any(r["joined_by"] == "requeued" for r in live_rows["report_visits"])

    other = ReportDB(store.path, config)  # a second process's view: a rebuild from scratch
    assert other.rebuild() == store.last_seq
    for table in TABLES:
        assert other.rows(table) == live_rows[table], table
    live.close(), other.close()
    store.close()


def test_two_readers_catching_up_in_turn_never_fold_an_event_twice(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    office = Office(config, store, clock)
    first, second = ReportDB(store.path, config), ReportDB(store.path, config)
    rng = random.Random(3)
    for i in range(60):
        clock.advance(60)
        ops = [("ticket.issue", {"service": "HT"}), ("counter.sign_in", {"counter": "Q1", "staff": "nv"}),
               ("counter.next", {"counter": "Q1"}), ("counter.transfer", {"counter": "Q1", "to_service": "DD"})]
        op, fields = ops[i % 4] if i < 8 else rng.choice(ops)
        office.handle_batch([("console", json.dumps({"id": f"x{i}", "op": op, **fields}).encode())])
        (first if rng.random() < 0.5 else second).catch_up()
    first.catch_up(), second.catch_up()
    rebuilt = ReportDB(store.path, config)
    rebuilt.rebuild()
    assert first.rows("report_visits") == rebuilt.rows("report_visits")
    for db in (first, second, rebuilt):
        db.close()
    store.close()
