"""Faults in the batch path itself (disk errors twice over, publishing bugs, extensions): the promise
that memory and database agree and every request gets one true answer still holds (issue 14).
"""

from __future__ import annotations

import contextlib
import sqlite3
import typing

import pytest

from queue_server import office as office_module
from queue_server.office import Office
from queue_server.store import Store
from tests.integration.test_hostile_lan import ask, assert_memory_matches_disk, raw, replies
from tests.staff_support import seed_officials


@pytest.fixture
def office(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)
    yield Office(config, store, clock)
    store.close()


def test_a_request_answered_internal_error_was_not_committed(office, monkeypatch):
    """Batch fails before its commit (a bug for one request); the replay of the other request
    commits and then fails while publishing: it must not be told internal_error (not done) when
    it is durable. Today it is, and its re-send is then answered ok from the store: two answers
    for one request, and a kiosk whose citizen presses again prints a second ticket."""
    real_decide, real_queue_view = office_module.decide, office_module.queue_view
    armed = {"publish": True}

    def decide(state, config, command, now):
        if getattr(command, "service", None) == "DD":  # the poisoned request, every time
            raise RuntimeError("a bug in the engine")
        return real_decide(state, config, command, now)

    def queue_view(*args, **kwargs):  # publishing fails once, after the first commit
        if armed["publish"]:
            armed["publish"] = False
            raise RuntimeError("a bug in the views")
        return real_queue_view(*args, **kwargs)

    monkeypatch.setattr(office_module, "decide", decide)
    monkeypatch.setattr(office_module, "queue_view", queue_view)
    answers = {a["id"]: a for a in replies(office, [("kiosk-01", raw("ok-1", "ticket.issue", service="HT")),
                                                   ("kiosk-02", raw("poison", "ticket.issue", service="DD"))])}
    assert sorted(answers) == ["ok-1", "poison"]
    assert_memory_matches_disk(office)  # holds
    kept = office.store.find_reply("kiosk-01", "ok-1")
    if not answers["ok-1"]["ok"]:
        assert answers["ok-1"]["error"]["code"] == "internal_error"
        # internal_error promises "not kept, re-send handled as new"; here it was committed:
        assert kept is None, f"answered internal_error but committed: ticket {kept[0]['ticket']['number']}"
    else:
        assert kept is not None and kept[0] == answers["ok-1"]


def test_a_refusal_decided_in_a_failed_batch_is_true_of_the_durable_state(office, monkeypatch):
    """Two counters press next with one ticket waiting; the disk is full. Q1's call is rolled back
    (internal_error), so the ticket is still waiting, yet Q2 was told nothing is waiting, and that
    refusal stays in RefusalMemory (it was decided against memory that was thrown away)."""
    assert ask(office, "kiosk-01", "t", "ticket.issue", service="HT")["ok"]
    assert ask(office, "quay-01", "in-1", "counter.sign_in", staff="nv01")["ok"]
    assert ask(office, "quay-02", "in-2", "counter.sign_in", staff="nv02")["ok"]
    real_commit = Store.commit

    def disk_full(self, state, batch, now, side_effects=()):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "commit", disk_full)
    answers = {a["id"]: a for a in replies(office, [("quay-01", raw("n1", "counter.next")), ("quay-02", raw("n2", "counter.next"))])}
    monkeypatch.setattr(Store, "commit", real_commit)  # the disk has room again
    assert_memory_matches_disk(office)
    assert answers["n1"]["error"]["code"] == "internal_error"
    waiting = [t.number for t in office.state.tickets.values() if t.status == "waiting"]
    assert waiting, "the rolled-back call left the ticket waiting"
    refused = answers["n2"].get("error") or {}
    assert answers["n2"]["ok"] or refused["code"] == "internal_error", (
        f"Q2 was refused {refused.get('code')!r} although {waiting} is waiting (a phantom of the failed batch)")


def test_a_refused_phone_take_does_not_count_against_the_phone(tmp_path):
    """AppointmentDesk stages a phone take in its builder; when the engine then refuses the ticket
    (office closed at lunch, field closed), nothing commits, `committed`/`reset` never run and the
    staged take stays in memory: the same phone is refused phone_limit_reached later, though the
    database holds no number of it."""
    from motcua.clock import FakeClock
    from tests.appointments.office_support import DeskOffice
    from tests.appointments.support import MONDAY, office, utc

    config = office(phone_queue={"per_phone_per_day": 1, "services": ["HT", "DD"]})  # hours 07:00-11:30, 13:00-17:00
    clock = FakeClock(utc(MONDAY, 12, 0))  # lunch break: closed, but time is left today
    hall = DeskOffice(tmp_path / "data", config, clock)
    try:
        assert hall.ask("kiosk-01", "device.status", state="ok")["ok"]  # the day's first commit (its rollover)
        assert hall.error(hall.take("HT", "0912345678")) == "office_closed"
        clock.advance((utc(MONDAY, 13, 5) - clock.now()).total_seconds())  # open again, nothing committed since
        again = hall.take("HT", "0912345678")
        assert again["ok"], f"refused {again['error']['code']}: the closed-hours attempt was counted as a number taken"
    finally:
        hall.close()


def test_a_deep_ack_from_the_province_broker_is_ignored_not_raised():
    """Every JSON the server parses is depth-bounded (issue 14); the forwarder's ack is parsed with
    plain json.loads, and a deep one raises RecursionError, which its `except (ValueError, KeyError,
    TypeError)` does not catch: it escapes into paho's network loop (suppress_exceptions is off)."""
    from types import SimpleNamespace

    from motcua.broker_url import BrokerURL
    from queue_server.province.credentials import Credential
    from queue_server.province.forwarder import Forwarder

    forwarder = Forwarder(None, "ubnd-x", "UBND X", [BrokerURL("127.0.0.1", 1)], Credential("u", "p"))  # type: ignore[arg-type]
    deep = SimpleNamespace(topic=forwarder.topics.ack("ubnd-x"), payload=b"[" * 200_000 + b"]" * 200_000)
    forwarder._on_message(forwarder.client, None, deep)  # must log "malformed" and return


def test_a_failure_while_rebuilding_from_the_store_does_not_leave_phantoms_in_memory(office, monkeypatch):
    """The fallback itself is not guarded: when the commit fails and the reload after it fails too
    (an I/O error reading the file), handle_batch raises and memory keeps the uncommitted ticket.
    The next batch then acts on that phantom and its commit writes the ticket's row, with no
    TicketIssued in the log: memory and disk disagree, then the disk disagrees with its own log."""
    assert ask(office, "quay-01", "in-1", "counter.sign_in", staff="nv01")["ok"]
    real_commit, real_load = Store.commit, Store.load_state
    faults = {"commit": 1, "load": 1}

    def commit(self, *args, **kwargs):
        if faults["commit"]:
            faults["commit"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real_commit(self, *args, **kwargs)

    def load_state(self, config):
        if faults["load"]:
            faults["load"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real_load(self, config)

    monkeypatch.setattr(Store, "commit", commit)
    monkeypatch.setattr(Store, "load_state", load_state)
    with contextlib.suppress(Exception):
        office.handle_batch([("kiosk-01", raw("t", "ticket.issue", service="HT"))])  # documented: never raises
    monkeypatch.undo()
    assert office.store.ticket_count() == 0
    called = ask(office, "quay-01", "n", "counter.next")
    issued = office.store.db.execute("SELECT COUNT(*) FROM events WHERE type = 'TicketIssued'").fetchone()[0]
    assert not called["ok"] and office.store.ticket_count() == issued == 0, (
        f"called {called.get('ticket', {}).get('number')}, a ticket never committed; rows {office.store.ticket_count()}, "
        f"TicketIssued events {issued}")


class Recorder:
    """An Extension that remembers what it was told was committed (as AppointmentDesk.committed does)."""

    builders: typing.ClassVar[dict] = {}

    def __init__(self) -> None:
        self.told: list[str] = []

    def write(self, conn, state, event) -> None:
        pass

    def committed(self, office, events, now) -> None:
        self.told += [type(ev).__name__ for ev in events]

    def reset(self) -> None:
        pass


def test_extensions_hear_of_every_commit_even_when_forgetting_old_request_ids_fails(tmp_path, config, clock, monkeypatch):
    """On a day's first batch the commit is followed by forget_old_requests (its own transaction)
    and only then by the extensions' `committed`; when the DELETE fails (locked, disk full) the
    batch is replayed from the store and `committed` is never called for what was committed: the
    desk never loads the booked ticket's SMS contact nor refreshes the phone views."""
    store = Store(tmp_path / "office.db", config.id)
    recorder = Recorder()
    office = Office(config, store, clock, extensions=[recorder])

    def locked(self, now):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Store, "forget_old_requests", locked)
    reply = ask(office, "kiosk-01", "t", "ticket.issue", service="HT")
    monkeypatch.undo()
    assert reply["ok"] and store.ticket_count() == 1
    try:
        assert "TicketIssued" in recorder.told, f"committed() heard {recorder.told}"
    finally:
        store.close()
