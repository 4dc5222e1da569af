"""SMS at the right moments with the right words: "near" once when few are ahead, "called" once with the
counter; none for tickets whose holder did not ask; the office's own wording; sent once across restarts."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from motcua.clock import FakeClock
from queue_server.appointments.holders import Holder
from queue_server.appointments.moments import Message
from queue_server.notify import FakeGateway
from queue_server.notify.outbox import Outbox
from tests.appointments.office_support import DeskOffice
from tests.appointments.support import MONDAY, local, office, utc

PHONE = "0912345678"


def config(**notifications):
    return office(office={**office().source["office"], "issue_outside_hours": True},
                  appointments={"capacity": {"HT": 3}}, notifications={"near_places": 2, **notifications})


@pytest.fixture
def clock():
    return FakeClock(utc(MONDAY, 9, 0))


def make_hall(tmp_path, clock, cfg=None):
    gateway = FakeGateway()
    return DeskOffice(tmp_path / "data", cfg or config(), clock, gateway=gateway), gateway


def sent_marks(hall, timeout: float = 10.0):
    """The contact rows once both messages are noted as sent (the outbox writes right after the gateway)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = hall.store.db.execute("SELECT near_sent_at, called_sent_at FROM ticket_contacts").fetchall()
        if (rows and all(rows[0])) or time.monotonic() > deadline:
            return rows
        time.sleep(0.01)


def booked_with_sms(hall, clock):
    code = hall.book("HT", local(MONDAY, 9), Holder("phone", PHONE), made_at=local(MONDAY - timedelta(days=1), 10), sms_phone=PHONE)
    return hall.ask("kiosk-01", "booking.check_in", code=code)["ticket"]


def test_near_once_when_few_are_ahead_then_called_once_with_the_counter(tmp_path, clock):
    hall, gateway = make_hall(tmp_path, clock)
    try:
        hall.ask("kiosk-01", "ticket.issue", service="HT")  # a walk-in whose holder gets no SMS
        ticket = booked_with_sms(hall, clock)
        # The booking is due (09:00) so it is first in line: 0 ahead <= 2, "near" at once.
        near = gateway.wait_for(1)
        assert near == [(PHONE, f"Số thứ tự {ticket['number']} (Tư pháp - Hộ tịch) sắp đến lượt. Vui lòng có mặt gần khu vực quầy.")]
        hall.ask("quay-01", "counter.sign_in", staff="nv01")
        assert hall.ask("quay-01", "counter.next")["ticket"]["number"] == ticket["number"]
        sent = gateway.wait_for(2)
        assert sent[1] == (PHONE, f"Mời công dân có số thứ tự {ticket['number']} đến quầy số 1.")
        hall.ask("quay-01", "counter.recall")
        hall.ask("quay-01", "counter.next")
        hall.ask("kiosk-01", "ticket.issue", service="HT")
        assert hall.desk.outbox.handed == 2 and len(gateway.wait_for(2)) == 2  # nothing more: a recall is not a new call
        marked = sent_marks(hall)  # the sending thread notes each message once the gateway took it
        assert len(marked) == 1 and all(marked[0])
    finally:
        hall.close()


def test_near_waits_until_the_ticket_is_close_to_the_front(tmp_path, clock):
    hall, gateway = make_hall(tmp_path, clock)
    try:
        for _ in range(4):
            hall.ask("kiosk-01", "ticket.issue", service="HT")
        remote = hall.take("HT", PHONE)["ticket"]  # a number from a phone, 4 people ahead of it
        hall.desk.add_contact(hall.office, remote["business_day"], remote["number"], PHONE)  # what the page does for SMS
        hall.ask("quay-01", "counter.sign_in", staff="nv01")
        hall.ask("quay-01", "counter.next")  # 3 ahead
        assert hall.desk.outbox.handed == 0
        hall.ask("quay-01", "counter.next")  # 2 ahead: near
        assert hall.desk.outbox.handed == 1
        assert gateway.wait_for(1)[0][1].startswith(f"Số thứ tự {remote['number']} (Tư pháp - Hộ tịch) sắp đến lượt.")
    finally:
        hall.close()


def test_the_office_sets_the_wording(tmp_path, clock):
    cfg = config(templates={"called": "{office}: mời số thứ tự {number} đến {counter} ({service})."})
    hall, gateway = make_hall(tmp_path, clock, cfg)
    try:
        ticket = booked_with_sms(hall, clock)
        hall.ask("quay-02", "counter.sign_in", staff="nv02")
        hall.ask("quay-02", "counter.next")
        texts = [text for _, text in gateway.wait_for(2)]
        assert texts[1] == f"Trung tâm Phục vụ hành chính công xã Hòa Thuận: mời số thứ tự {ticket['number']} đến quầy số 2 (Tư pháp - Hộ tịch)."
    finally:
        hall.close()


def test_nothing_is_sent_twice_across_a_restart_and_an_interrupted_call_message_is_sent_after_it(tmp_path, clock):
    hall, gateway = make_hall(tmp_path, clock)
    try:
        ticket = booked_with_sms(hall, clock)
        gateway.wait_for(1)
        hall.desk.outbox.stop()  # the box loses power before the "called" SMS leaves
        hall.desk.outbox = None
        hall.ask("quay-01", "counter.sign_in", staff="nv01")
        hall.ask("quay-01", "counter.next")
        hall.restart()
        sent = gateway.wait_for(2)
        assert [text.split(" ")[0] for _, text in sent] == ["Số", "Mời"] and ticket["number"] in sent[1][1]
        hall.restart()
        assert hall.desk.outbox.handed == 0 and len(gateway.sent) == 2
    finally:
        hall.close()


def test_a_failing_gateway_is_tried_again_then_given_up():
    gateway = FakeGateway()
    outbox = Outbox(None, lambda: utc(MONDAY, 9), gateway=gateway, retry_seconds=(0.01, 0.01))
    outbox.start()
    try:
        gateway.fail_next(2)
        outbox.put(Message("t1", "near", PHONE, "một"), config().notifications)
        assert gateway.wait_for(1) == [(PHONE, "một")]  # third try
        gateway.fail_next(3)
        outbox.put(Message("t2", "called", PHONE, "hai"), config().notifications)
        outbox.put(Message("t3", "called", PHONE, "ba"), config().notifications)
        assert gateway.wait_for(2)[1] == (PHONE, "ba") and outbox.failed == 1 and outbox.sent == 2
    finally:
        outbox.stop()


def test_a_template_with_an_unknown_placeholder_is_refused_naming_it():
    from queue_server.config import ConfigError

    with pytest.raises(ConfigError, match=r"notifications.templates.near: unknown placeholder \{name\}"):
        config(templates={"near": "Chào {name}"})
    with pytest.raises(ConfigError, match=r"notifications\.templates\.later: unknown message"):
        config(templates={"later": "x"})
    with pytest.raises(ConfigError, match=r"notifications\.gateway: must be one of log, modem, http"):
        config(gateway="pigeon")
    with pytest.raises(ConfigError, match=r"notifications\.http\.url: required"):
        config(gateway="http")
