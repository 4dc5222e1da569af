"""The engine's rules, one behaviour per test (no I/O: a fake clock and the pure engine)."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from queue_server.engine import Rejected, estimated_wait_seconds, replay
from queue_server.engine import commands as c
from queue_server.engine import events as e
from tests.unit.engine_harness import Harness, small_office


def test_numbers_follow_each_services_scheme():
    h = Harness()
    assert [h.issue("HT"), h.issue("HT"), h.issue("CT")] == ["1001", "1002", "C001"]


def test_a_block_that_runs_out_refuses_with_numbers_exhausted():
    config = small_office()
    spec = config.services["HT"]
    tiny = type(spec.numbering)(first=1, last=2)
    h = Harness(config.with_overrides(services={**config.services, "HT": type(spec)("HT", spec.name, tiny)}))
    h.issue("HT"), h.issue("HT")
    with pytest.raises(Rejected) as refused:
        h.issue("HT")
    assert refused.value.code == "numbers_exhausted"


def test_unknown_and_closed_services_are_refused():
    h = Harness()
    with pytest.raises(Rejected) as unknown:
        h.issue("XX")
    assert unknown.value.code == "unknown_service"
    h.run(c.CloseService("HT"))
    with pytest.raises(Rejected) as closed:
        h.issue("HT")
    assert closed.value.code == "service_closed"
    assert closed.value.params["service_name"] == "Tư pháp - Hộ tịch"
    h.run(c.OpenService("HT"))
    assert h.issue("HT") == "1001"


def test_tickets_outside_opening_hours_are_refused(clock):
    config = small_office().with_overrides(issue_outside_hours=False)
    from datetime import time

    config = config.with_overrides(hours={0: ((time(7, 0), time(11, 30)),)})  # Mondays only
    h = Harness(config, clock)  # FakeClock starts Monday 2026-11-23 08:00 in Ho Chi Minh City
    assert h.issue("HT") == "1001"
    clock.advance(5 * 3600)  # 13:00, after the morning session
    with pytest.raises(Rejected) as refused:
        h.issue("HT")
    assert refused.value.code == "office_closed"
    assert "07:00-11:30" in refused.value.params["hours"]


def test_a_closed_counter_cannot_call():
    h = Harness()
    h.issue()
    with pytest.raises(Rejected) as refused:
        h.run(c.CallNext("Q1"))
    assert refused.value.code == "counter_closed"


def test_next_calls_the_longest_waiting_ticket_of_the_counters_services():
    h = Harness()
    h.issue("CT"), h.issue("HT"), h.issue("CT")
    h.open_counter("Q1")
    h.open_counter("Q2")
    assert h.next("Q1") == "1001"  # Q1 serves HT only
    assert h.next("Q2") == "C001"
    assert h.next("Q2") == "C002"


def test_strict_priority_always_takes_priority_tickets_first():
    h = Harness(small_office(priority="strict"))
    h.issue("HT"), h.issue("HT"), h.issue("HT", "elderly"), h.issue("HT", "pregnant")
    h.open_counter("Q1")
    assert [h.next("Q1") for _ in range(4)] == ["1003", "1004", "1001", "1002"]


def test_ratio_two_to_one_serves_both_classes_so_neither_starves():
    h = Harness(small_office(ratio="2:1"))
    for _ in range(4):
        h.issue("HT")
    for _ in range(3):
        h.issue("HT", "elderly")
    h.open_counter("Q1")
    order = [h.next("Q1") for _ in range(7)]
    # P R R P R R P: regular tickets 1001.. and priority 1005..
    assert order == ["1005", "1001", "1002", "1006", "1003", "1004", "1007"]


def test_a_priority_only_counter_never_calls_regular_tickets():
    h = Harness()
    h.issue("HT")
    h.open_counter("Q3")
    with pytest.raises(Rejected) as refused:
        h.run(c.CallNext("Q3"))
    assert refused.value.code == "no_ticket_waiting"
    h.issue("CT", "disability")
    assert h.next("Q3") == "C001"


def test_calling_next_finishes_the_current_ticket():
    h = Harness()
    h.issue(), h.issue()
    h.open_counter("Q1", staff="nv-lan")
    h.next("Q1")
    h.clock.advance(300)
    out = h.run(c.CallNext("Q1"))
    finished = [ev for ev in out if isinstance(ev, e.TicketFinished)]
    assert finished and finished[0].implicit and finished[0].staff == "nv-lan"
    first = h.ticket("1001")
    assert first.status == "finished"
    assert (first.finished_at - first.started_at).total_seconds() == 300


def test_nothing_waiting_is_an_error_and_leaves_the_current_ticket():
    h = Harness()
    h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    with pytest.raises(Rejected) as refused:
        h.run(c.CallNext("Q1"))
    assert refused.value.code == "no_ticket_waiting"
    assert h.ticket("1001").status == "called"


def test_a_specific_ticket_can_be_called_out_of_order():
    h = Harness()
    h.issue(), h.issue(), h.issue()
    h.open_counter("Q1")
    out = h.run(c.CallTicket("Q1", "1003"))
    assert out[-1].how == "direct" and out[-1].number == "1003"
    assert h.next("Q1") == "1001"


def test_recall_counts_calls_and_skip_needs_enough_calls():
    h = Harness()
    h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    with pytest.raises(Rejected) as early:
        h.run(c.SkipNoShow("Q1"))
    assert early.value.code == "not_called_enough"
    out = h.run(c.Recall("Q1"))
    assert out[0].recall is True
    assert h.ticket("1001").call_count == 2
    h.run(c.SkipNoShow("Q1"))
    assert h.ticket("1001").status == "no_show"
    assert h.state.counters["Q1"].current is None


@pytest.mark.parametrize(("requeue", "expected"), [("front", ["1001", "1002"]), ("back", ["1002", "1001"])])
def test_a_no_show_who_comes_back_is_requeued(requeue, expected):
    h = Harness(small_office(requeue=requeue, calls_before_no_show=1))
    h.issue(), h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    h.run(c.SkipNoShow("Q1"))
    h.run(c.RequeueTicket("1001"))
    assert [h.next("Q1"), h.next("Q1")] == expected


def test_only_a_no_show_can_be_requeued():
    h = Harness()
    h.issue()
    with pytest.raises(Rejected) as refused:
        h.run(c.RequeueTicket("1001"))
    assert refused.value.code == "ticket_not_no_show"


def test_transfer_to_a_service_keeps_the_number_and_the_place():
    h = Harness()
    h.issue("HT"), h.issue("CT"), h.issue("CT")
    h.open_counter("Q1")
    h.open_counter("Q2")
    h.next("Q1")
    h.run(c.Transfer("Q1", to_service="CT"))
    moved = h.ticket("1001")
    assert moved.status == "waiting" and moved.service == "CT" and moved.transfers == 1
    assert h.next("Q2") == "1001"  # it has waited longest of CT's queue


def test_transfer_to_a_counter_is_served_there_first():
    h = Harness()
    h.issue("HT"), h.issue("HT")
    h.open_counter("Q1")
    h.open_counter("Q2")
    h.next("Q1")
    h.run(c.Transfer("Q1", to_counter="Q2"))
    assert h.ticket("1001").target_counter == "Q2"
    assert h.next("Q1") == "1002"  # Q1 may not take the ticket sent to Q2
    h.run(c.Finish("Q1"))
    h.issue("HT")
    assert h.next("Q2") == "1001"


def test_invalid_transfers_are_refused():
    h = Harness()
    h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    for cmd, code in [
        (c.Transfer("Q1"), "invalid_transfer"),
        (c.Transfer("Q1", to_service="HT", to_counter="Q2"), "invalid_transfer"),
        (c.Transfer("Q1", to_counter="Q1"), "invalid_transfer"),
        (c.Transfer("Q1", to_counter="Q9"), "unknown_counter"),
        (c.Transfer("Q1", to_service="ZZ"), "unknown_service"),
    ]:
        with pytest.raises(Rejected) as refused:
            h.run(cmd)
        assert refused.value.code == code


def test_pause_needs_a_free_counter_and_blocks_calls_until_resume():
    h = Harness()
    h.issue(), h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    with pytest.raises(Rejected) as busy:
        h.run(c.Pause("Q1", "nghỉ trưa"))
    assert busy.value.code == "counter_busy"
    h.run(c.Finish("Q1"))
    h.run(c.Pause("Q1", "nghỉ trưa"))
    assert h.state.counters["Q1"].status == "paused"
    with pytest.raises(Rejected) as paused:
        h.run(c.CallNext("Q1"))
    assert paused.value.code == "counter_paused"
    h.run(c.Resume("Q1"))
    assert h.next("Q1") == "1002"


def test_calls_and_finishes_record_the_signed_in_official():
    h = Harness()
    h.issue(), h.issue()
    h.open_counter("Q1", staff="nv-lan")
    h.next("Q1")
    h.run(c.SignIn("Q1", "nv-minh"))  # shift change while serving
    out = h.run(c.Finish("Q1"))
    assert out[0].staff == "nv-minh"
    assert [ev.staff for ev in h.events if isinstance(ev, e.TicketCalled)] == ["nv-lan"]
    assert any(isinstance(ev, e.CounterSignedOut) and ev.staff == "nv-lan" for ev in h.events)
    h.next("Q1")
    with pytest.raises(Rejected) as busy:
        h.run(c.SignOut("Q1"))
    assert busy.value.code == "counter_busy"
    h.run(c.Finish("Q1"))
    h.run(c.SignOut("Q1"))
    assert h.state.counters["Q1"].status == "closed"


def test_a_vote_counts_once_and_only_after_service():
    h = Harness()
    h.issue()
    token = h.ticket("1001").vote_token
    with pytest.raises(Rejected) as early:
        h.run(c.SubmitVote(token, "satisfied"))
    assert early.value.code == "vote_not_allowed"
    h.open_counter("Q1", staff="nv-lan")
    h.next("Q1")
    h.run(c.Finish("Q1"))
    out = h.run(c.SubmitVote(token, "very_satisfied", ("friendly",)))
    assert out[0].staff == "nv-lan" and out[0].counter == "Q1"
    with pytest.raises(Rejected) as twice:
        h.run(c.SubmitVote(token, "unsatisfied"))
    assert twice.value.code == "already_voted"
    with pytest.raises(Rejected) as unknown:
        h.run(c.SubmitVote("not-a-token", "satisfied"))
    assert unknown.value.code == "unknown_vote_token"


def test_an_unchanged_device_status_is_not_logged_again():
    h = Harness()
    assert h.run(c.ReportDeviceStatus("kiosk-01", "printer", "paper_low"))
    assert h.run(c.ReportDeviceStatus("kiosk-01", "printer", "paper_low")) == []
    assert h.run(c.ReportDeviceStatus("kiosk-01", "printer", "no_paper"))
    assert h.state.devices[("kiosk-01", "printer")].state == "no_paper"


def test_a_new_business_day_restarts_numbers_and_expires_leftovers(clock):
    h = Harness(clock=clock)
    h.issue(), h.issue()
    h.open_counter("Q1")
    h.next("Q1")
    clock.advance(24 * 3600)
    assert h.issue() == "1001"
    expired = [ev.number for ev in h.events if isinstance(ev, e.TicketExpired)]
    assert sorted(expired) == ["1001", "1002"]
    assert h.state.counters["Q1"].status == "closed"  # officials sign in again each day
    assert len(h.state.tickets) == 1


def test_estimated_wait_uses_recent_service_times_and_open_counters():
    h = Harness(small_office(default_service_minutes=10))
    for _ in range(4):
        h.issue("HT")
    assert estimated_wait_seconds(h.state, h.config, "HT") is None  # nobody serving yet
    h.open_counter("Q1")
    assert estimated_wait_seconds(h.state, h.config, "HT") == 4 * 600  # 4 ahead, default 10 min
    h.next("Q1")
    h.clock.advance(240)
    h.next("Q1")  # 1001 served in 4 minutes
    h.open_counter("Q2")
    # 2 waiting, 2 counters, mean service 240 s
    assert estimated_wait_seconds(h.state, h.config, "HT") == 240


def test_replaying_the_event_log_rebuilds_the_same_state():
    h = Harness()
    h.issue(), h.issue("CT", "elderly"), h.issue()
    h.open_counter("Q1")
    h.open_counter("Q2")
    h.next("Q1"), h.next("Q2")
    h.run(c.Transfer("Q1", to_counter="Q2"))
    rebuilt = replay(h.config, h.events)
    assert rebuilt.tickets == h.state.tickets
    assert rebuilt.counters == h.state.counters
    assert rebuilt.next_seq == h.state.next_seq


def test_events_survive_the_log_encoding():
    h = Harness()
    h.issue("HT", "elderly")
    h.open_counter("Q1")
    h.next("Q1")
    h.run(c.Finish("Q1"))
    h.run(c.SubmitVote(h.ticket("1001").vote_token, "satisfied", ("fast",)))
    for event in h.events:
        assert e.from_record(*e.to_record(event)) == event


def test_the_engine_imports_no_io():
    forbidden = {"paho", "sqlite3", "sqlite_utils", "flask", "kivy", "serial", "gpiozero", "escpos", "socket", "amqtt"}
    engine_dir = Path(__file__).resolve().parents[2] / "queue_server" / "engine"
    for path in engine_dir.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_position_counts_the_tickets_ahead_in_the_same_class():
    from queue_server.engine import position

    h = Harness()
    for group in [None, "elderly", None, None, "pregnant", None]:
        h.issue("HT", group)
        newest = max(h.state.tickets.values(), key=lambda t: t.order)
        brute = sum(1 for t in h.state.waiting["HT"].values() if t.order < newest.order and (t.priority or not newest.priority))
        assert position(h.state, newest) == brute
    assert [position(h.state, h.ticket(n)) for n in ["1001", "1002", "1003", "1005"]] == [0, 0, 2, 1]


def test_transfer_to_the_service_it_already_has_is_refused():
    h = Harness()
    h.issue("HT")
    h.open_counter("Q1")
    h.next("Q1")
    with pytest.raises(Rejected) as refused:
        h.run(c.Transfer("Q1", to_service="HT"))
    assert refused.value.code == "invalid_transfer" and refused.value.params["reason"] == "same_service"


# --- booked tickets and tickets taken from a phone (issue 20) -------------------------------


def _booked(h: Harness, service: str, minutes: int) -> str:
    n = len(h.events)
    slot = h.clock.now() + timedelta(minutes=minutes)
    out = h.run(c.IssueTicket(service, None, "kiosk-01", f"bv{n}", f"bp{n}", slot_at=slot, booking=f"B{n}"))
    return out[-1].number


def _remote(h: Harness, service: str = "HT") -> str:
    n = len(h.events)
    return h.run(c.IssueTicket(service, None, "kiosk-01", f"rv{n}", f"rp{n}", remote=True))[-1].number


def test_a_booking_is_called_at_its_slot_ahead_of_walk_ins_and_never_before():
    h = Harness()
    walk_in = h.issue("HT")
    booked = _booked(h, "HT", minutes=10)
    h.open_counter("Q1")
    assert h.next("Q1") == walk_in  # the slot has not come: the walk-in goes first
    second_walk_in = h.issue("HT")
    h.clock.advance(10 * 60)
    assert h.next("Q1") == booked  # its slot has come: ahead of the walk-in who came earlier
    assert h.next("Q1") == second_walk_in


def test_a_booking_alone_in_line_still_waits_for_its_slot():
    h = Harness()
    _booked(h, "HT", minutes=5)
    h.open_counter("Q1")
    with pytest.raises(Rejected) as nobody:
        h.next("Q1")
    assert nobody.value.code == "no_ticket_waiting"


def test_a_phone_ticket_keeps_its_place_but_is_called_only_once_its_holder_is_here():
    h = Harness()
    phone = _remote(h)
    walk_in = h.issue("HT")
    h.open_counter("Q1")
    assert h.ticket(phone).arrived is False
    assert h.next("Q1") == walk_in  # the phone ticket's turn passes while its holder is away
    h.clock.advance(5 * 60)
    h.run(c.ConfirmArrival(phone))  # within the grace period: keeps its place, first in line
    later = h.issue("HT")
    assert h.next("Q1") == phone
    assert h.next("Q1") == later


def test_a_phone_ticket_whose_turn_passed_long_ago_joins_the_end():
    h = Harness()
    phone = _remote(h)
    first = h.issue("HT")
    h.open_counter("Q1")
    assert h.next("Q1") == first
    after = h.issue("HT")
    h.clock.advance((h.config.rules.remote_grace_minutes + 1) * 60)
    arrived = h.run(c.ConfirmArrival(phone))
    assert arrived[0].order > h.ticket(after).order
    assert h.next("Q1") == after
    assert h.next("Q1") == phone
