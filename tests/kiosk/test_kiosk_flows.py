"""The kiosk's flows without a window, against a real Mosquitto and a real queue server.

Take a number, re-send the same id after a timeout or a crash (one number, never two), a printer
that fails, refusals in the kiosk's words, voting with the ticket's QR, device status reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.flows.take_number import Issued
from kiosk.flows.voting import Ballot, submit_counter_vote, submit_ticket_vote, vote_token_of
from kiosk.pending import PendingIssue, PendingStore
from motcua import protocol as p
from tests.kiosk.conftest import JammedPrinter, device_broker_url, printed_pngs

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def retained(office, topic: str, timeout: float = 5.0) -> dict:
    """The retained payload of a topic, read by a fresh console client (as a display would)."""
    got: list[bytes] = []
    event = threading.Event()
    with office.console() as client:
        client.subscribe(topic, lambda t, payload: (got.append(payload), event.set()))
        assert event.wait(timeout), f"nothing retained on {topic}"
    return json.loads(got[-1])


def test_take_a_number_shows_it_prints_it_with_the_ticket_qr_and_forgets_the_request(make_kiosk, tmp_path, office):
    kiosk = make_kiosk()
    assert [s.code for s in kiosk.link.office.services][:2] == ["HT", "DD"]  # the retained office state arrived
    issued = kiosk.take_number.issue("HT")
    assert issued.problem is None and issued.ticket is not None
    assert issued.ticket.number == "1001" and issued.ticket.service_name == "Tư pháp - Hộ tịch"
    assert issued.ticket.ahead == 0 and issued.round_trip_ms is not None
    assert kiosk.take_number.store.load().request_id == issued.request_id  # kept until printed
    printed = kiosk.take_number.print(issued, "Bộ phận Một cửa")
    assert printed.ok
    assert kiosk.take_number.store.load() is None
    pngs = printed_pngs(tmp_path / "printed-kiosk-01")
    assert len(pngs) == 1
    qr = kiosk.take_number.qr_text(issued.ticket)
    public, vote = p.parse_ticket_qr(qr)
    assert qr.startswith(office.http + "/t/") and public == issued.ticket.public_token and vote == issued.ticket.vote_token
    assert "1001" not in qr  # never the number alone


def test_office_serving_counters_and_a_priority_ticket(make_kiosk):
    kiosk = make_kiosk()
    issued = kiosk.take_number.issue("HT", "elderly")
    assert issued.ticket.priority and issued.ticket.priority_group_name == "Người cao tuổi"
    names = [c.name for c in kiosk.link.office.counters_for("HT", priority=True)]
    assert names == ["Quầy 1", "Quầy 2", "Quầy 6 - Ưu tiên"]
    assert [c.name for c in kiosk.link.office.counters_for("HT", priority=False)] == ["Quầy 1", "Quầy 2"]


def test_a_timeout_keeps_the_id_and_the_retry_gets_the_same_single_number(make_kiosk, office, start_server):
    kiosk = make_kiosk()
    office.server.stop()  # the server is down: the broker still takes the request, nobody answers
    wait_for(lambda: not kiosk.link.server_up, what="server offline (its last will)")
    first = kiosk.take_number.issue("DD")
    assert first.ticket is None and first.retryable and first.problem.text("vi").startswith("Không kết nối được máy chủ")
    pending = kiosk.take_number.store.load()
    assert pending.request_id == first.request_id and pending.reply is None
    office.server = start_server(broker=office.broker.server_url())  # same data directory, as systemd restarts it
    wait_for(lambda: kiosk.link.server_up, what="server back online")
    again = kiosk.take_number.issue("DD")  # "try again": same choice, same id
    assert again.request_id == first.request_id and again.ticket.number == "2001"
    third = kiosk.take_number.issue("DD")  # the reply is remembered: still the same ticket
    assert third.ticket.number == "2001"
    assert kiosk.take_number.print(third).ok
    # The server issued exactly one DD ticket for the two sends (its queue says so).
    assert retained(office, office.server.topics.state_queue)["services"]["DD"]["waiting"] == 1
    assert kiosk.take_number.issue("DD").ticket.number == "2002"  # a new touch after printing: a new number


def test_a_crash_after_the_reply_reprints_the_same_number_at_restart(make_kiosk, office, tmp_path):
    state = tmp_path / "shared-state"
    kiosk = make_kiosk(state_dir=state)
    issued = kiosk.take_number.issue("XD")
    assert issued.ticket.number == "3001"
    kiosk.close()  # the process dies before printing: the pending record stays on disk
    pending = PendingStore(state).load()
    assert pending.request_id == issued.request_id
    pending.reply = None  # as if it died before the reply reached the disk: only the id is known
    PendingStore(state).save(pending)
    restarted = make_kiosk(state_dir=state)
    resumed = restarted.take_number.resume()
    assert resumed.ticket.number == "3001" and resumed.request_id == issued.request_id
    assert restarted.take_number.print(resumed).ok
    assert restarted.take_number.resume() is None  # nothing left to do after printing


def test_a_crashed_request_is_resent_by_a_real_kiosk_process(make_kiosk, office, tmp_path):
    """kill -9 of a process holding a pending id: a new process re-sends it and gets the same number."""
    state = tmp_path / "proc-state"
    broker = device_broker_url(office, "kiosk-02")
    script = f"""
import sys, os
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from kiosk.pending import PendingIssue, PendingStore
from kiosk.bootstrap import build
from kiosk.settings import KioskSettings
from motcua.settings import OfficeRef
from motcua.broker_url import parse_broker_url
settings = KioskSettings(device="kiosk-02", server_url={office.http!r}, state_dir=Path({str(state)!r}))
parts = build(settings, OfficeRef({office.ref.id!r}, {office.ref.topic_prefix!r}), parse_broker_url({broker!r}), simulate=True)
parts.link.start(); assert parts.link.wait_connected(10)
issued = parts.take_number.issue("KD")
print(issued.ticket.number, flush=True)
os.kill(os.getpid(), 9)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr[-800:]
    number = proc.stdout.strip()
    assert number == "4001"
    restarted = make_kiosk(device="kiosk-02", state_dir=state)
    resumed = restarted.take_number.resume()
    assert resumed is not None and resumed.ticket.number == number


def test_an_old_pending_request_is_dropped_at_start_not_printed_for_someone_else(make_kiosk, tmp_path):
    state = tmp_path / "old"
    PendingStore(state).save(PendingIssue("kiosk-01-old", "HT", None, created_at=time.time() - 3600))
    kiosk = make_kiosk(state_dir=state)
    assert kiosk.take_number.resume() is None
    assert PendingStore(state).load() is None
    assert kiosk.take_number.issue("HT").ticket.number == "1001"  # the old id was never sent


def test_a_printer_fault_still_shows_the_number_and_reports_device_status(make_kiosk, office):
    kiosk = make_kiosk(printer=JammedPrinter("no_paper"))
    issued = kiosk.take_number.issue("HT")
    printed = kiosk.take_number.print(issued)
    assert not printed.ok and printed.state == "no_paper"
    assert issued.ticket.number == "1001"  # what the screen shows
    assert kiosk.take_number.store.load() is None  # never printed later for another citizen
    state = retained(office, office.server.topics.state_device("kiosk-01"))
    assert state["components"]["printer"]["state"] == "no_paper"
    # Fixed: the next poll reports "ok" once.
    kiosk.take_number.printer = JammedPrinter("ok")
    assert kiosk.take_number.reporter.poll(kiosk.take_number.printer) == "ok"
    wait_for(lambda: retained(office, office.server.topics.state_device("kiosk-01"))["components"]["printer"]["state"] == "ok",
             what="printer ok reported")


def test_nothing_is_printed_without_ok_true(make_kiosk, office, tmp_path):
    kiosk = make_kiosk()
    with office.console() as console:
        assert console.request("service.close", service="LD")["ok"]
    refused = kiosk.take_number.issue("LD")
    assert refused.ticket is None and not refused.retryable
    assert refused.problem.code == "service_closed"
    text = refused.problem.text("vi")
    name = office.server.config.services["LD"].name
    assert text.startswith(f"Lĩnh vực {name} đang tạm dừng") and "Xin vui lòng" not in text
    assert refused.problem.text("en").startswith(name)
    with pytest.raises(ValueError):
        kiosk.take_number.print(refused)
    assert printed_pngs(tmp_path / "printed-kiosk-01") == []
    assert kiosk.take_number.store.load() is None  # a refusal is final for its id: the next touch gets a new one
    wait_for(lambda: not next(s for s in kiosk.link.office.services if s.code == "LD").open, what="LD shown closed")


def test_one_request_at_a_time_even_when_a_button_is_stuck(make_kiosk, office):
    kiosk = make_kiosk()
    results: list[Issued] = []
    threads = [threading.Thread(target=lambda: results.append(kiosk.take_number.issue("CT"))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    numbers = sorted(r.ticket.number for r in results)
    assert numbers == ["C001"] * 5  # the same pending request each time until it is printed
    assert kiosk.take_number.print(results[0]).ok
    assert kiosk.take_number.issue("CT").ticket.number == "C002"


def serve_and_finish(office, number: str, counter: str = "Q1") -> None:
    with office.console() as console:
        assert console.request("counter.sign_in", counter=counter, staff="nv01")["ok"]
        called = console.request("counter.next", counter=counter)
        assert called["ok"] and called["ticket"]["number"] == number
        assert console.request("counter.finish", counter=counter)["ok"]


def test_vote_by_scanning_the_ticket_qr_once(make_kiosk, office):
    kiosk = make_kiosk()
    issued = kiosk.take_number.issue("HT")
    qr = kiosk.take_number.qr_text(issued.ticket)
    token = vote_token_of(qr)
    assert token == issued.ticket.vote_token
    early = submit_ticket_vote(kiosk.link, token, Ballot("satisfied"))
    assert not early.ok and early.problem.code == "vote_not_allowed"  # not served yet
    serve_and_finish(office, issued.ticket.number)
    voted = submit_ticket_vote(kiosk.link, token, Ballot("unsatisfied", ("long_wait", "attitude")))
    assert voted.ok
    again = submit_ticket_vote(kiosk.link, token, Ballot("very_satisfied"))
    assert not again.ok and again.problem.code == "already_voted"
    assert again.problem.text("vi") == "Số thứ tự này đã được đánh giá. Xin cảm ơn ông/bà!"


def test_scans_that_are_not_a_ticket_get_a_clear_answer():
    assert vote_token_of("000.17.22.H56-261120-0001").key == "kiosk.vote.not_a_ticket"
    assert vote_token_of("http://10.0.0.2:8080/t/abcdefghijklmnopqrst").key == "kiosk.vote.no_token"
    assert vote_token_of("http://10.0.0.2:8080/t/abcdefghijklmnopqrst#v=ABCDEFGHIJKLMNOPQRSTUV") == "ABCDEFGHIJKLMNOPQRSTUV"


def test_same_ballot_retried_keeps_its_request_id():
    ballot = Ballot("satisfied")
    assert ballot.request_id and Ballot("satisfied").request_id != ballot.request_id
    with pytest.raises(ValueError):
        Ballot("so-so")


def test_counter_facing_screen_asks_for_the_ticket_just_finished_and_votes(tmp_path, start_server, broker, config):
    from kiosk.bootstrap import build
    from kiosk.flows.voting import CounterWatch
    from kiosk.settings import KioskSettings
    from tests.kiosk.conftest import Office, import_sample

    server = start_server(broker=broker.server_url())
    import_sample(server)
    office = Office(server, broker)
    settings = KioskSettings(device="danhgia-01", mode="counter", counter="Q1", server_url=office.http, state_dir=tmp_path / "r")
    rating = build(settings, office.ref, broker.url("danhgia-01"), simulate=True)
    rating.link.start()
    assert rating.link.wait_connected(10)
    with office.console() as console:
        issued = console.request("ticket.issue", service="HT")
    serve_and_finish(office, issued["ticket"]["number"])
    watch = CounterWatch()
    wait_for(lambda: rating.link.counter and rating.link.counter.last_finished, what="last_finished in state/counter/Q1")
    assert watch.should_ask(rating.link.counter)  # fresh: finished a moment ago
    assert rating.link.counter.last_finished.number == issued["ticket"]["number"]
    assert submit_counter_vote(rating.link, Ballot("very_satisfied")).ok
    assert submit_counter_vote(rating.link, Ballot("satisfied")).problem.code == "already_voted"
    rating.close()


def test_the_link_reports_the_broker_down_and_recovers_by_itself(make_kiosk, office):
    kiosk = make_kiosk()
    changes: list[str] = []
    kiosk.link.listen(changes.append)
    office.broker.stop()
    wait_for(lambda: not kiosk.link.broker_up, what="broker down noticed")
    down = kiosk.take_number.issue("HT")
    assert down.retryable  # "the server is unreachable", kept to re-send
    office.broker.start()
    wait_for(lambda: kiosk.link.online, timeout=20, what="reconnected to broker and server")
    assert "connection" in changes
    assert kiosk.take_number.issue("HT").ticket.number == "1001"
