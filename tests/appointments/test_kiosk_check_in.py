"""The kiosk's side of bookings and phone numbers, with the kiosk's own parts against a running server:
a booking's code becomes a printed ticket called at its time (one ticket, even after a crash), a refusal
is said in the server's Vietnamese, and a phone's QR scanned at the entrance says "I am here"."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from kiosk.adapters import open_printer
from kiosk.bootstrap import build
from kiosk.flows.arrival import confirm_arrival, read_scan
from kiosk.flows.take_number import TakeNumber
from kiosk.pending import PendingStore
from kiosk.settings import KioskSettings
from kiosk.ticket_image import ticket_fields
from motcua import protocol as p
from motcua.client import DeviceClient
from motcua.settings import OfficeRef
from queue_server.engine.state import OfficeState
from queue_server.views import office_view
from tests.appointments.http_support import call, form, origin, slot_values
from tests.appointments.support import office
from tests.appointments.test_booking_http import book_through_the_page
from tests.appointments.test_phone_http import take, tokens

CONFIG = office(office={**office().source["office"], "issue_outside_hours": True}, appointments={"capacity": {"HT": 2}})


@pytest.fixture
def kiosk(server, tmp_path):
    settings = KioskSettings(device="kiosk-01", server_url=origin(server), state_dir=tmp_path / "kiosk", request_timeout=2.0)
    ref = OfficeRef(server.config.id, server.config.topic_prefix, server.config.name)
    broker = dataclasses.replace(server.broker_url, username="kiosk-01", password=None)  # the password: MOTCUA_CREDENTIALS
    parts = build(settings, ref, broker, simulate=True, printer=open_printer({}, True, tmp_path / "printed"), scanner=None)
    parts.link.start()
    assert parts.link.wait_connected(10), "kiosk did not reach broker and server"
    yield parts
    parts.close()


def test_the_office_says_it_takes_bookings_and_the_kiosk_offers_check_in(kiosk):
    assert kiosk.link.office.bookings is True
    off = dataclasses.replace(CONFIG, appointments=dataclasses.replace(CONFIG.appointments, enabled=False))
    assert office_view(OfficeState(), off).bookings is False  # no bookings: no check-in button


def test_a_typed_booking_code_prints_a_ticket_called_at_its_time_and_a_crash_gets_the_same_one(server, clock, kiosk, tmp_path):
    code, _ = book_through_the_page(server)
    clock.advance(timedelta(minutes=50).total_seconds())  # 08:50, within the hour before 09:00
    typed = f"{code[:4].lower()} {code[4:]}"  # as a citizen types it: lower case, a space
    pending = kiosk.take_number.prepare("", None, booking=p.parse_booking_code(typed))
    assert PendingStore(tmp_path / "kiosk").load().booking == code  # on disk before it is sent
    # The kiosk crashes after sending: a new process finds the request and re-sends the same id.
    first = kiosk.take_number.send(pending)
    assert first.ticket is not None, first.problem
    again = TakeNumber(kiosk.link, PendingStore(tmp_path / "kiosk"), kiosk.take_number.printer, kiosk.settings).resume()
    assert again is not None and again.ticket is not None and again.ticket.number == first.ticket.number
    assert first.ticket.slot_time == "09:00" and first.ticket.vote_token  # the kiosk prints its QR
    assert first.ticket.raw["ahead"] is None and first.ticket.raw["estimated_wait_minutes"] is None  # called at 09:00, not in line
    assert ticket_fields(first.ticket.raw).slot_at.strftime("%H:%M") == "09:00"  # the paper says the time, not a wait
    assert kiosk.take_number.print(first).ok
    assert len(list((tmp_path / "printed").glob("*.png"))) == 1
    used = kiosk.take_number.check_in(code)  # a second check-in with a new id: the booking is used
    assert used.problem is not None and used.problem.code == "booking_used"
    assert first.ticket.number in used.problem.text("vi")


def test_refusals_are_in_the_servers_vietnamese(server, kiosk):
    early, _ = book_through_the_page_at(server, 3)  # 10:00 (it is 08:00): check-in opens at 09:00
    refused = kiosk.take_number.check_in(early)
    assert refused.problem is not None and refused.problem.code == "booking_too_early"
    assert "09:00" in refused.problem.text("vi") and "Vui lòng" in refused.problem.text("vi")
    unknown = kiosk.take_number.check_in("ABCD2345")
    assert unknown.problem is not None and unknown.problem.code == "unknown_booking"
    assert unknown.problem.text("vi") != unknown.problem.text("en")  # worded in both languages


def book_through_the_page_at(server, index: int, phone: str = "0987 654 321"):
    slot = slot_values(call(server, "GET", "/booking/slots?service=HT").text)[index]
    reply = form(server, "/booking", {"service": "HT", "day": slot[:10], "slot": slot, "phone": phone})
    assert reply.status == 303, reply.text
    return reply.location.rsplit("/", 1)[1], slot


def test_scanned_codes_go_to_the_right_flow():
    assert read_scan("http://10.0.0.2:8080/b/K7M2Q9XA") == ("booking", "K7M2Q9XA")
    public, vote = "a" * 22, "b" * 22
    assert read_scan(f"http://10.0.0.2:8080/t/{public}") == ("arrive", public)  # the phone's check-in QR
    assert read_scan(f"http://10.0.0.2:8080/t/{public}#v={vote}")[0] == "vote"  # a printed ticket
    assert read_scan("K7M2Q9XA")[0] == "dossier"  # typed codes go through the booking screen
    assert read_scan("HS-2026-000123") == ("dossier", "HS-2026-000123")


def test_a_phone_number_scanned_at_the_entrance_is_called_from_then_on(server, kiosk):
    public, _ = tokens(take(server))
    scanned = f"{origin(server)}{p.TICKET_PATH}{public}"  # the QR the phone's page shows
    kind, token = read_scan(scanned)
    assert kind == "arrive"
    with DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        counter.request("counter.sign_in", staff="nv01")
        absent = counter.request("counter.next")
        assert not absent["ok"] and absent["error"]["code"] == "no_ticket_waiting"  # its holder is not here yet
        arrived = confirm_arrival(kiosk.link, token)
        assert arrived.problem is None and arrived.ticket is not None and arrived.ticket.ahead == 0
        assert counter.request("counter.next")["ticket"]["number"] == arrived.ticket.number
    wrong = confirm_arrival(kiosk.link, "z" * 22)
    assert wrong.problem is not None and wrong.problem.code == "unknown_ticket"
