"""The office service on a real SQLite file: idempotency, roles, bad input, durability, restart."""

from __future__ import annotations

import json
import sqlite3

import pytest

from motcua import i18n
from motcua import protocol as p
from queue_server.config import IssuingLimits
from queue_server.office import Office
from queue_server.store import Store, backup
from tests.staff_support import seed_officials


@pytest.fixture
def office(tmp_path, config, clock):
    # These tests issue many tickets at one instant; the per-kiosk limit has its own tests.
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    yield Office(config.with_overrides(issuing=IssuingLimits(per_minute=0, per_hour=0)), store, clock)
    store.close()


def send(office: Office, device: str, payload) -> list[dict]:
    """Handle one request; return the replies addressed to `device`."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    out = office.handle_batch([(device, raw)])
    return [o.payload for o in out if o.topic == office.topics.res(device)]


def ask(office: Office, device: str, op: str, rid: str = "r1", **fields) -> dict:
    (reply,) = send(office, device, {"id": rid, "op": op, **fields})
    return reply


def published(office: Office, messages) -> dict[str, dict]:
    return {o.topic: o.payload for o in office.handle_batch(messages)}


def test_the_live_database_is_wal_with_synchronous_full(office):
    assert office.store.pragmas() == {"journal_mode": "wal", "synchronous": 2}  # 2 == FULL
    header = office.store.path.read_bytes()[:20]
    assert header[18:20] == b"\x02\x02"  # WAL recorded in the file itself


def test_a_resent_request_id_gets_the_first_reply_and_acts_once(office):
    first = ask(office, "kiosk-01", "ticket.issue", rid="abc", service="HT")
    again = ask(office, "kiosk-01", "ticket.issue", rid="abc", service="HT")
    assert first["ok"] and again == first
    assert office.store.ticket_count() == 1
    assert ask(office, "kiosk-01", "ticket.issue", rid="other", service="HT")["ticket"]["number"] == "1002"


def test_a_duplicate_within_one_batch_acts_once(office):
    raw = json.dumps({"id": "dup", "op": "ticket.issue", "service": "HT"}).encode()
    out = office.handle_batch([("kiosk-01", raw), ("kiosk-01", raw)])
    replies = [o.payload for o in out if o.topic == office.topics.res("kiosk-01")]
    assert len(replies) == 2 and replies[0] == replies[1]
    assert office.store.ticket_count() == 1


def test_the_same_id_from_another_device_is_another_request(office):
    a = ask(office, "kiosk-01", "ticket.issue", rid="same", service="HT")
    b = ask(office, "kiosk-02", "ticket.issue", rid="same", service="HT")
    assert a["ticket"]["number"] != b["ticket"]["number"]


def test_a_refusal_is_remembered_for_its_id_too(office):
    closed = ask(office, "console", "service.close", rid="c1", service="HT")
    assert closed["ok"]
    refused = ask(office, "kiosk-01", "ticket.issue", rid="t1", service="HT")
    assert refused["error"]["code"] == "service_closed"
    ask(office, "console", "service.open", rid="c2", service="HT")
    assert ask(office, "kiosk-01", "ticket.issue", rid="t1", service="HT") == refused


def test_tokens_are_unguessable_and_unrelated_to_the_number(office):
    tickets = [ask(office, "kiosk-01", "ticket.issue", rid=f"r{i}", service="HT")["ticket"] for i in range(50)]
    tokens = [t["vote_token"] for t in tickets] + [t["public_token"] for t in tickets]
    assert len(set(tokens)) == 100
    for t in tickets:
        for token in (t["vote_token"], t["public_token"]):
            assert len(token) >= 22  # 128 random bits in URL-safe base64
            assert t["number"] not in token


@pytest.mark.parametrize(
    ("device", "op", "fields"),
    [
        ("kiosk-01", "counter.next", {"counter": "Q1"}),
        ("tv-01", "ticket.issue", {"service": "HT"}),
        ("loa-01", "counter.finish", {"counter": "Q1"}),
        ("quay-01", "counter.next", {"counter": "Q2"}),  # a counter device acts only for its counter
        ("quay-01", "service.close", {"service": "HT"}),
        ("kiosk-01", "ticket.reprint", {"number": "1001"}),  # the reply would reveal the vote token
    ],
)
def test_operations_outside_a_devices_role_are_not_authorized(office, device, op, fields):
    reply = ask(office, device, op, **fields)
    assert reply["error"]["code"] == "not_authorized"
    assert "không được phép" in reply["error"]["message"]


def test_a_counter_device_acts_for_its_own_counter_without_naming_it(office):
    ask(office, "kiosk-01", "ticket.issue", service="HT")
    assert ask(office, "quay-01", "counter.sign_in", rid="s", staff="nv-lan")["counter"]["counter"] == "Q1"
    called = ask(office, "quay-01", "counter.next", rid="n")
    assert called["ticket"]["number"] == "1001" and called["counter"]["staff"] == "nv-lan"


def test_an_undeclared_device_is_refused(office):
    assert ask(office, "stranger", "ticket.issue", service="HT")["error"]["code"] == "unknown_device"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", "bad_request"),
        (b"\xff\xfe\x00garbage", "bad_request"),
        (b"[1, 2, 3]", "bad_request"),
        ({"op": "ticket.issue", "service": "HT"}, "bad_request"),  # no id
        ({"id": "x" * 65, "op": "ticket.issue", "service": "HT"}, "bad_request"),
        ({"id": "r", "op": "ticket.teleport"}, "unknown_op"),
        ({"id": "r", "op": "ticket.issue"}, "bad_request"),  # missing service
        ({"id": "r", "op": "ticket.issue", "service": 42}, "bad_request"),
        ({"id": "r", "op": "ticket.issue", "service": "HT", "priority": "yes"}, "bad_request"),
        ({"id": "r", "op": "ticket.issue", "service": "HT\u0000"}, "bad_request"),
        ({"id": "r", "op": "ticket.issue", "service": "ZZ"}, "unknown_service"),
        ({"id": "r", "op": "ticket.issue", "service": "HT", "priority_group": "royalty"}, "unknown_priority_group"),
        ({"id": "r", "op": "vote.submit", "token": "t", "level": "ecstatic"}, "bad_request"),
        (b"{" + b'"pad":"' + b"x" * (70 * 1024) + b'"}', "payload_too_large"),
    ],
)
def test_bad_input_gets_a_stable_code_and_a_vietnamese_message(office, payload, code):
    (reply,) = send(office, "kiosk-01", payload)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert reply["error"]["message"] == i18n.error_text(code, "vi", **reply["error"]["params"])
    assert reply["error"]["message_en"]
    assert ask(office, "kiosk-01", "ticket.issue", rid="after-bad", service="CT")["ok"]  # still serving


def test_counter_errors_name_the_counter_in_vietnamese(office):
    reply = ask(office, "console", "counter.next", counter="Q2")
    assert reply["error"]["code"] == "counter_closed"
    assert reply["error"]["message"] == "Quầy 2 đang đóng. Cán bộ cần đăng nhập để mở quầy."
    assert ask(office, "console", "counter.next", rid="r2", counter="Q9")["error"]["code"] == "unknown_counter"
    assert ask(office, "console", "counter.next", rid="r3")["error"]["code"] == "bad_request"


def test_every_error_code_has_vietnamese_and_english_with_the_same_placeholders():
    for code in p.ERROR_CODES:
        vi, en = i18n.catalog("vi")[f"error.{code}"], i18n.catalog("en")[f"error.{code}"]
        assert i18n.placeholders(vi) == i18n.placeholders(en), code
    assert set(i18n.catalog("vi")) == set(i18n.catalog("en"))


def test_state_survives_a_restart(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    office = Office(config, store, clock)
    for i in range(3):
        ask(office, "kiosk-01", "ticket.issue", rid=f"t{i}", service="HT")
    ask(office, "quay-01", "counter.sign_in", rid="s", staff="nv-lan")
    ask(office, "quay-01", "counter.next", rid="n")
    store.close()

    reopened = Office(config, Store(tmp_path / "office.db", config.id), clock)
    assert reopened.state.counters["Q1"].staff == "nv-lan"
    assert reopened.state.tickets[reopened.state.counters["Q1"].current].number == "1001"
    assert [t.number for t in reopened.state.waiting["HT"].values()] == ["1002", "1003"]
    assert ask(reopened, "kiosk-01", "ticket.issue", rid="t9", service="HT")["ticket"]["number"] == "1004"
    assert ask(reopened, "kiosk-01", "ticket.issue", rid="t0", service="HT")["ticket"]["number"] == "1001"  # old id, old reply


def test_the_event_log_reads_in_order_from_any_sequence(office):
    for i in range(5):
        ask(office, "kiosk-01", "ticket.issue", rid=f"t{i}", service="HT")
    everything = office.store.events_after(0)
    assert [ev.seq for ev in everything] == list(range(1, len(everything) + 1))
    assert len({ev.id for ev in everything}) == len(everything)
    resumed = office.store.events_after(3, limit=2) + office.store.events_after(5)
    assert [ev.seq for ev in resumed] == [ev.seq for ev in everything[3:]]
    assert everything[0].type == "BusinessDayStarted"
    assert everything[1].data["number"] == "1001" and everything[1].device == "kiosk-01"


def test_a_failed_commit_answers_internal_error_and_loses_nothing(office):
    assert ask(office, "kiosk-01", "ticket.issue", rid="ok1", service="HT")["ok"]
    office.store.db.execute(
        "CREATE TRIGGER disk_full BEFORE INSERT ON events WHEN NEW.type = 'TicketIssued' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    failed = ask(office, "kiosk-01", "ticket.issue", rid="bad", service="HT")
    assert failed["error"]["code"] == "internal_error"
    assert "thử lại" in failed["error"]["message"]
    office.store.db.execute("DROP TRIGGER disk_full")
    retried = ask(office, "kiosk-01", "ticket.issue", rid="bad", service="HT")
    assert retried["ok"] and retried["ticket"]["number"] == "1002"  # the failed attempt used no number
    seqs = [ev.seq for ev in office.store.events_after(0)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_retained_state_carries_what_displays_need(office):
    ask(office, "kiosk-01", "ticket.issue", rid="t", service="HT")
    ask(office, "quay-01", "counter.sign_in", rid="s", staff="nv-lan")
    topics = {o.topic: o for o in office.retained_state()}
    office_state = topics[office.topics.state_office].payload
    assert office_state["contract_version"] == p.CONTRACT_VERSION
    assert {s["code"] for s in office_state["services"]} == set(office.config.services)
    queue = topics[office.topics.state_queue].payload
    assert queue["services"]["HT"]["waiting"] == 1
    assert queue["services"]["HT"]["estimated_wait_minutes"] == 12
    counter = topics[office.topics.state_counter("Q1")].payload
    assert counter["status"] == "idle" and counter["status_text"] == "Sẵn sàng"
    assert all(o.retain for o in topics.values())


def test_device_status_is_kept_and_published_retained(office):
    reply = ask(office, "kiosk-01", "device.status", rid="d", state="paper_low", detail="còn khoảng 20 vé")
    assert reply["ok"]
    topics = published(office, [])  # nothing new
    assert topics == {}
    state = {o.topic: o.payload for o in office.retained_state()}[office.topics.state_device("kiosk-01")]
    assert state["components"]["printer"]["state"] == "paper_low"
    assert ask(office, "kiosk-01", "device.status", rid="d2", state="on_fire")["error"]["code"] == "bad_request"


def test_counter_sessions_and_calls_are_in_the_log_with_the_official(office):
    ask(office, "kiosk-01", "ticket.issue", rid="t", service="HT")
    ask(office, "quay-01", "counter.sign_in", rid="s", staff="nv-lan")
    ask(office, "quay-01", "counter.next", rid="n")
    ask(office, "quay-01", "counter.finish", rid="f")
    ask(office, "quay-01", "counter.sign_out", rid="o")
    logged = {ev.type: ev.data for ev in office.store.events_after(0)}
    assert logged["CounterSignedIn"]["staff"] == "nv-lan"
    assert logged["TicketCalled"]["staff"] == "nv-lan" and logged["TicketCalled"]["counter"] == "Q1"
    assert logged["TicketFinished"]["staff"] == "nv-lan"
    assert logged["CounterSignedOut"]["staff"] == "nv-lan"
    row = office.store.db.execute("SELECT staff, counter, status FROM tickets").fetchone()
    assert row == ("nv-lan", "Q1", "finished")


def test_backup_is_a_consistent_copy_while_serving(office, tmp_path):
    for i in range(20):
        ask(office, "kiosk-01", "ticket.issue", rid=f"t{i}", service="HT")
    target = tmp_path / "backup.db"
    assert backup(office.store.path, target) > 0
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 20
    assert copy.execute("SELECT MAX(seq) FROM events").fetchone()[0] == office.store.last_seq
    with pytest.raises(Exception, match="exists"):
        backup(office.store.path, target)


def test_a_database_of_another_office_is_refused(tmp_path, config):
    Store(tmp_path / "x.db", "office-a").close()
    with pytest.raises(Exception, match="belongs to office"):
        Store(tmp_path / "x.db", "office-b")


def test_staff_can_reprint_a_ticket_and_the_kiosk_can_reprint_by_resending(office):
    first = ask(office, "kiosk-01", "ticket.issue", rid="print-1", service="HT")
    assert ask(office, "kiosk-01", "ticket.issue", rid="print-1", service="HT") == first  # paper jam: same reply
    again = ask(office, "quay-01", "ticket.reprint", rid="rp", number="1001")
    # The reprint shows the number; the tokens stayed on the citizen's first ticket (issue 14).
    assert again["ticket"]["number"] == "1001" and again["ticket"]["vote_token"] is None and again["ticket"]["public_token"] is None
    assert [ev.type for ev in office.store.events_after(0)][-1] == "TicketReprinted"


def test_old_request_ids_are_forgotten_at_the_day_reset(office, clock):
    ask(office, "kiosk-01", "ticket.issue", rid="old", service="HT")
    clock.advance(8 * 24 * 3600)
    assert ask(office, "kiosk-01", "ticket.issue", rid="new", service="HT")["ticket"]["number"] == "1001"
    assert office.store.find_reply("kiosk-01", "old") is None
    assert office.store.find_reply("kiosk-01", "new") is not None


def test_refusal_reasons_are_worded_in_each_language(office):
    ask(office, "kiosk-01", "ticket.issue", rid="t", service="HT")
    ask(office, "quay-01", "counter.sign_in", rid="s", staff="nv-lan")
    ask(office, "quay-01", "counter.next", rid="n")
    refused = ask(office, "quay-01", "counter.transfer", rid="x", to_counter="Q1")
    assert refused["error"]["message"] == "Không thể chuyển số 1001: số này đang ở chính quầy này."
    assert refused["error"]["message_en"] == "Cannot transfer ticket 1001: it is already at this counter."
    missing = ask(office, "quay-01", "counter.pause", rid="p")
    assert missing["error"]["params"]["detail"] == "missing field 'reason'"  # for integrators
    assert "'" not in missing["error"]["message"] and "field" not in missing["error"]["message"]  # not for citizens


def test_exported_events_carry_no_tokens(office):
    ask(office, "kiosk-01", "ticket.issue", rid="t", service="HT")
    issued = next(ev for ev in office.store.events_after(0) if ev.type == "TicketIssued")
    assert "vote_token" in issued.data  # the local log keeps them: replay needs them
    assert "vote_token" not in issued.public()["data"] and "public_token" not in issued.public()["data"]
    assert issued.public()["data"]["number"] == "1001"
