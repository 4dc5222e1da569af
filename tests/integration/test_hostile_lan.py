"""Issue 14: one message from the LAN must never break "acknowledged means durable".

One test per class of attack, not per payload: any exception in the batch path, a request
id re-used for another request, tokens reaching devices that may not hold them, a kiosk
emptying a field, strangers growing presence, components and the refusal log.
"""

from __future__ import annotations

import importlib
import json

import pytest

from motcua import protocol as p
from queue_server import office as office_module
from queue_server.office import Office
from queue_server.store import Store
from tests.staff_support import seed_officials


@pytest.fixture
def office(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    yield Office(config, store, clock)
    store.close()


def raw(rid: str, op: str, **fields) -> bytes:
    return json.dumps({"id": rid, "op": op, **fields}).encode()


def replies(office: Office, batch: list[tuple[str, bytes]]) -> list[dict]:
    return [o.payload for o in office.handle_batch(batch) if "/res/" in o.topic]


def ask(office: Office, device: str, rid: str, op: str, **fields) -> dict:
    (reply,) = replies(office, [(device, raw(rid, op, **fields))])
    return reply


def assert_memory_matches_disk(office: Office) -> None:
    """What the engine holds is exactly what a restart would load."""
    disk, mem = office.store.load_state(office.config), office.state
    assert mem.business_day == disk.business_day
    assert mem.tickets == disk.tickets
    assert {s: list(q) for s, q in mem.waiting.items() if q} == {s: list(q) for s, q in disk.waiting.items() if q}
    assert mem.next_seq == disk.next_seq and mem.next_order == disk.next_order
    assert mem.counters == disk.counters
    assert mem.closed_services == disk.closed_services and mem.closed_reasons == disk.closed_reasons
    assert mem.notice == disk.notice and mem.devices == disk.devices and mem.vote_tokens == disk.vote_tokens
    assert {k: v for k, v in mem.waiting_priority.items() if v} == {k: v for k, v in disk.waiting_priority.items() if v}
    assert {d: list(t) for d, t in mem.issued_by.items()} == {d: list(t) for d, t in disk.issued_by.items()}
    assert list(mem.recent_calls) == list(disk.recent_calls)
    assert {s: sorted(d) for s, d in mem.durations.items() if d} == {s: sorted(d) for s, d in disk.durations.items() if d}


def open_counter(office: Office, counter: str = "Q1", device: str = "quay-01") -> None:
    assert ask(office, device, f"in-{counter}", "counter.sign_in", staff="nv01")["ok"]


# --- 1. any exception in the batch path -------------------------------------------------------


def test_a_deeply_nested_payload_is_refused_and_the_rest_of_its_batch_is_durable(office):
    nested = b'{"id":"p","op":"device.status","state":"ok","x":' + b"[" * 1000 + b"]" * 1000 + b"}"
    batch = [("kiosk-01", raw("a", "ticket.issue", service="HT")), ("kiosk-01", nested), ("kiosk-02", raw("b", "ticket.issue", service="HT"))]
    first, refused, second = replies(office, batch)
    assert first["ok"] and second["ok"]
    assert refused["error"]["code"] == "bad_request" and refused["id"] == "p"
    assert_memory_matches_disk(office)
    # Re-sent ids get the same numbers: no ghost tickets, one press one ticket.
    assert ask(office, "kiosk-01", "a", "ticket.issue", service="HT") == first
    assert office.store.ticket_count() == 2


# Every stage a request passes through, made to raise for the second request of a batch.
STAGES = {
    "parse": ("motcua.protocol", "parse_request"),
    "decide": ("queue_server.office", "decide"),
    "apply": ("queue_server.office", "apply_all"),
    "reply": ("queue_server.office", "ticket_view"),
    "commit": ("queue_server.store", "Store.commit"),
    "publish": ("queue_server.office", "queue_view"),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_any_exception_in_the_batch_leaves_memory_equal_to_disk_and_one_answer_each(office, monkeypatch, stage):
    module_name, attr = STAGES[stage]
    owner_name, _, name = attr.rpartition(".")
    module = importlib.import_module(module_name)
    owner = getattr(module, owner_name) if owner_name else module
    real = getattr(owner, name)
    current = {"payload": b""}
    once = {"armed": True}
    handle_one = Office._handle_one

    def tracking(self, device, payload, now, in_batch):
        current["payload"] = payload
        try:
            return handle_one(self, device, payload, now, in_batch)
        finally:
            current["payload"] = b""

    def faulty(*args, **kwargs):
        # Per-request stages fail for the poisoned request every time; batch-wide ones fail once.
        per_request = stage not in ("commit", "publish")
        if (per_request and b"poison" in current["payload"]) or (not per_request and once["armed"]):
            once["armed"] = False
            raise RuntimeError(f"injected fault in {stage}")
        return real(*args, **kwargs)

    monkeypatch.setattr(Office, "_handle_one", tracking)
    monkeypatch.setattr(owner, name, faulty)

    batch = [
        ("kiosk-01", raw("ok-1", "ticket.issue", service="HT")),
        ("kiosk-01", raw("poison", "ticket.issue", service="HT")),
        ("kiosk-02", raw("ok-2", "ticket.issue", service="DD")),
    ]
    answers = replies(office, batch)
    assert sorted(a["id"] for a in answers) == ["ok-1", "ok-2", "poison"]  # exactly one answer each
    assert_memory_matches_disk(office)
    by_id = {a["id"]: a for a in answers}
    assert by_id["ok-1"]["ok"] and by_id["ok-2"]["ok"]
    assert office.failures == 1
    committed = {t.number for t in office.state.tickets.values()}
    if by_id["poison"]["ok"]:
        assert by_id["poison"]["ticket"]["number"] in committed
    else:
        assert by_id["poison"]["error"]["code"] == "internal_error"
        monkeypatch.undo()
        again = ask(office, "kiosk-01", "poison", "ticket.issue", service="HT")  # handled as new, once
        assert again["ok"] and ask(office, "kiosk-01", "poison", "ticket.issue", service="HT") == again
    assert_memory_matches_disk(office)
    numbers = sorted(t.number for t in office.state.tickets.values())
    assert len(numbers) == len(set(numbers)) == office.store.ticket_count()


def test_a_failed_batch_republishes_retained_state(office, monkeypatch):
    real = office_module.queue_view
    calls = {"n": 0}

    def once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("publishing broke")
        return real(*args, **kwargs)

    monkeypatch.setattr(office_module, "queue_view", once)
    out = office.handle_batch([("kiosk-01", raw("x", "ticket.issue", service="HT"))])
    topics = {o.topic for o in out}
    assert office.topics.state_queue in topics and office.topics.state_office in topics
    assert [o.payload["ok"] for o in out if "/res/" in o.topic] == [True]  # committed, so answered from the store


# --- 2. a request id re-used for another request ------------------------------------------------


def test_a_known_id_with_a_different_payload_is_refused_not_answered_with_the_first_reply(office):
    seeded = ask(office, "kiosk-01", "k-7", "ticket.issue", service="DD")  # pre-seeded with a wrong service
    assert seeded["ok"]
    real_press = ask(office, "kiosk-01", "k-7", "ticket.issue", service="HT")
    assert real_press["ok"] is False and real_press["error"]["code"] == "request_id_reused"
    assert "k-7" in real_press["error"]["message"]
    # The same request under its id still gets its first reply, whatever the key order.
    same = replies(office, [("kiosk-01", b'{"service": "DD", "op": "ticket.issue", "id": "k-7"}')])[0]
    assert same == seeded
    assert office.store.ticket_count() == 1


def test_a_refused_request_re_used_for_another_request_is_refused_too(office):
    office.state.closed_services.add("HT")
    assert ask(office, "kiosk-01", "z", "ticket.issue", service="HT")["error"]["code"] == "service_closed"
    assert ask(office, "kiosk-01", "z", "ticket.issue", service="DD")["error"]["code"] == "request_id_reused"


# --- 3. tokens only where the citizen holds them; votes only by the citizen ---------------------


def test_only_the_issuing_kiosk_sees_the_tokens(office):
    issued = ask(office, "kiosk-01", "i", "ticket.issue", service="HT")["ticket"]
    assert issued["vote_token"] and issued["public_token"]
    open_counter(office)
    called = ask(office, "quay-01", "n", "counter.next")
    reprinted = ask(office, "quay-01", "rp", "ticket.reprint", number=issued["number"])
    admin = ask(office, "console", "rp2", "ticket.reprint", number=issued["number"])
    for reply in (called, reprinted, admin):
        assert reply["ok"] and reply["ticket"]["vote_token"] is None and reply["ticket"]["public_token"] is None
        assert issued["vote_token"] not in json.dumps(reply)


def test_a_counter_device_cannot_vote_for_a_citizen(office):
    token = ask(office, "kiosk-01", "i", "ticket.issue", service="HT")["ticket"]["vote_token"]
    open_counter(office)
    ask(office, "quay-01", "n", "counter.next")
    ask(office, "quay-01", "f", "counter.finish")
    refused = ask(office, "quay-01", "v", "vote.submit", token=token, level="unsatisfied")
    assert refused["error"]["code"] == "not_authorized"
    assert ask(office, "quay-01", "v2", "vote.counter", level="unsatisfied")["error"]["code"] == "not_authorized"
    assert ask(office, "kiosk-01", "v3", "vote.submit", token=token, level="satisfied")["ok"]  # the citizen can


def test_a_rating_device_votes_once_for_its_counters_last_ticket_within_the_window(office, clock):
    assert ask(office, "danhgia-01", "early", "vote.counter", level="satisfied")["error"]["code"] == "no_ticket_to_rate"
    ask(office, "kiosk-01", "i1", "ticket.issue", service="HT")
    open_counter(office)
    ask(office, "quay-01", "n", "counter.next")
    ask(office, "quay-01", "f", "counter.finish")
    state = office.store.load_state(office.config).counters["Q1"]
    assert state.last_finished == office.state.counters["Q1"].last_finished  # durable
    vote = ask(office, "danhgia-01", "v1", "vote.counter", level="very_satisfied", reasons=["fast"])
    assert vote["ok"] and vote["counter"]["last_finished"]["voted"] is True
    assert ask(office, "danhgia-01", "v2", "vote.counter", level="unsatisfied")["error"]["code"] == "already_voted"
    # Another counter's rating device, and a late vote, get nothing.
    assert ask(office, "danhgia-01", "v3", "vote.counter", counter="Q2", level="satisfied")["error"]["code"] == "not_authorized"
    ask(office, "kiosk-01", "i2", "ticket.issue", service="HT")
    ask(office, "quay-01", "n2", "counter.next")
    ask(office, "quay-01", "f2", "counter.finish")
    clock.advance(office.config.counter_vote_minutes * 60 + 1)
    assert ask(office, "danhgia-01", "v4", "vote.counter", level="satisfied")["error"]["code"] == "no_ticket_to_rate"
    votes = office.store.db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
    assert votes == 1


# --- 4. a kiosk cannot empty a field -------------------------------------------------------------


def test_a_kiosk_past_its_limit_is_told_to_wait_and_other_devices_are_not(office, clock):
    limit = office.config.issuing.per_minute
    for i in range(limit):
        assert ask(office, "kiosk-01", f"t{i}", "ticket.issue", service="CT")["ok"]
        clock.advance(1)
    refused = ask(office, "kiosk-01", "over", "ticket.issue", service="CT")
    assert refused["error"]["code"] == "issue_rate_limited"
    assert 0 < refused["error"]["params"]["retry_after_seconds"] <= 60
    assert "giây" in refused["error"]["message"]
    assert ask(office, "kiosk-02", "other", "ticket.issue", service="CT")["ok"]
    assert ask(office, "console", "admin", "ticket.issue", service="CT")["ok"]
    # The limit survives a restart (it is rebuilt from the tickets' issuing device).
    office.state = office.store.load_state(office.config)
    assert ask(office, "kiosk-01", "over-2", "ticket.issue", service="CT")["error"]["code"] == "issue_rate_limited"
    clock.advance(refused["error"]["params"]["retry_after_seconds"])
    assert ask(office, "kiosk-01", "later", "ticket.issue", service="CT")["ok"]


def test_the_hourly_limit_caps_a_stuck_button(tmp_path, config, clock):
    from queue_server.config import IssuingLimits

    store = Store(tmp_path / "o.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    office = Office(config.with_overrides(issuing=IssuingLimits(per_minute=0, per_hour=30)), store, clock)
    issued = 0
    for i in range(100):
        issued += ask(office, "kiosk-01", f"s{i}", "ticket.issue", service="CT")["ok"]
        clock.advance(10)
    assert issued == 30  # 1,000 seconds of a stuck button: the hour's 30, not the field's 999 numbers
    store.close()


# --- 5. strangers cannot grow presence, components or the disk ----------------------------------


def test_only_declared_devices_get_presence(office):
    assert office.note_presence("kiosk-01", b"online") is True
    for i in range(300):
        office.note_presence(f"stranger-{i}", b"online")
    assert set(office.presence) == {"kiosk-01"}


def test_components_per_device_are_bounded_and_the_retained_state_stays_small(office):
    from queue_server.engine.engine import MAX_COMPONENTS

    answers = [ask(office, "kiosk-01", f"c{i}", "device.status", component=f"part-{i}", state="ok", detail="x" * 190) for i in range(300)]
    assert sum(a["ok"] for a in answers) == MAX_COMPONENTS
    assert answers[-1]["error"]["code"] == "too_many_components"
    out = office.retained_state()
    device_state = next(o for o in out if o.topic == office.topics.state_device("kiosk-01"))
    assert len(device_state.encoded()) < p.MAX_PAYLOAD_BYTES // 8


def test_refusals_are_remembered_in_memory_but_never_fill_the_disk(office):
    before = office.store.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    for i in range(2000):
        ask(office, "kiosk-01", f"guess-{i}", "vote.submit", token=f"guess{i:012d}xxxxxx", level="satisfied")
    after = office.store.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    assert after == before
    assert len(office.refusals) <= office.refusals.per_device
    # A refused request re-sent soon gets its first answer.
    again = ask(office, "kiosk-01", "guess-1999", "vote.submit", token=f"guess{1999:012d}xxxxxx", level="satisfied")
    assert again["error"]["code"] == "unknown_vote_token"


def test_strangers_and_garbage_are_never_stored(office):
    garbage = [("nobody", raw("x", "ticket.issue", service="HT")), ("kiosk-01", b"\xff\xfe"), ("kiosk-01", b"[]")]
    answers = replies(office, garbage)
    assert [a["error"]["code"] for a in answers] == ["unknown_device", "bad_request", "bad_request"]
    assert office.store.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0
    assert office.store.last_seq == 0 or all(e.type == "BusinessDayStarted" for e in office.store.events_after(0))


def test_the_example_office_limits_its_kiosks(config):
    kiosk = config.devices["kiosk-01"]
    assert all(config.issuing.for_device(kiosk)) and config.issuing.for_device(config.devices["console"]) == (0, 0)
