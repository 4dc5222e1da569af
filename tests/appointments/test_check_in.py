"""Check-in at the kiosk: a booking becomes a ticket called at (not before) its slot, ahead of walk-ins; early
arrivals wait for their slot, late ones past the grace period become walk-ins; a booking is checked in once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from queue_server.appointments.desk import AppointmentDesk
from queue_server.appointments.holders import Holder
from queue_server.dossiers.db import ts
from tests.appointments.office_support import DeskOffice
from tests.appointments.support import MONDAY, local, office, utc

SUNDAY = MONDAY - timedelta(days=1)
ALICE = Holder("phone", "0912345678")
CONFIG = office(appointments={"early_minutes": 60, "grace_minutes": 15, "capacity": {"HT": 3}},
                office={**office().source["office"], "issue_outside_hours": True})


def at(clock, hh, mm=0):
    clock.advance((utc(MONDAY, hh, mm) - clock.now()).total_seconds())


def booking_at_930(hall):
    return hall.book("HT", local(MONDAY, 9, 30), ALICE, made_at=local(SUNDAY, 10))


def called(reply):
    assert reply["ok"], reply
    return reply["ticket"]["number"]


def test_too_early_is_refused_with_the_time_check_in_opens(hall, clock):
    code = booking_at_930(hall)
    reply = hall.ask("kiosk-01", "booking.check_in", code=code)
    assert hall.error(reply) == "booking_too_early"
    assert reply["error"]["params"] == {"time": "09:30", "opens": "08:30"}
    assert "09:30" in reply["error"]["message"] and "08:30" in reply["error"]["message"]


def test_an_early_arrival_gets_a_ticket_that_waits_for_its_slot(hall, clock):
    code = booking_at_930(hall)
    at(clock, 8, 45)
    reply = hall.ask("kiosk-01", "booking.check_in", code=code)
    ticket = reply["ticket"]
    assert reply["ok"] and ticket["slot_at"] == "2026-11-23T09:30:00+07:00" and ticket["status"] == "waiting"
    assert ticket["vote_token"] and ticket["public_token"]  # the kiosk prints the ticket's QR from them
    booked = ticket["number"]
    at(clock, 8, 50)
    walk_in = hall.ask("kiosk-01", "ticket.issue", service="HT")["ticket"]["number"]
    hall.ask("quay-01", "counter.sign_in", staff="nv01")
    at(clock, 9, 0)
    assert called(hall.ask("quay-01", "counter.next")) == walk_in  # the booking's time has not come
    assert hall.error(hall.ask("quay-01", "counter.next")) == "no_ticket_waiting"  # nobody else may be called yet
    at(clock, 9, 20)
    later_walk_in = hall.ask("kiosk-01", "ticket.issue", service="HT")["ticket"]["number"]
    at(clock, 9, 30)
    assert called(hall.ask("quay-01", "counter.next")) == booked  # at its slot, ahead of the walk-in who came earlier
    assert called(hall.ask("quay-01", "counter.next")) == later_walk_in
    row = hall.booking(code)
    assert row.status == "checked_in" and row.ticket == booked and row.late is False
    assert row.checked_in_at == utc(MONDAY, 8, 45)


@pytest.mark.parametrize(("hh", "mm"), [(9, 31), (9, 45)])  # on time, and late within the grace period
def test_on_time_or_a_little_late_the_booking_goes_first(hall, clock, hh, mm):
    code = booking_at_930(hall)
    at(clock, 8, 0)
    waiting_since_eight = hall.ask("kiosk-01", "ticket.issue", service="HT")["ticket"]["number"]
    at(clock, hh, mm)
    booked = hall.ask("kiosk-01", "booking.check_in", code=code)["ticket"]
    assert booked["slot_at"] == "2026-11-23T09:30:00+07:00"
    hall.ask("quay-01", "counter.sign_in", staff="nv01")
    assert called(hall.ask("quay-01", "counter.next")) == booked["number"]
    assert called(hall.ask("quay-01", "counter.next")) == waiting_since_eight


def test_past_the_grace_period_the_booking_becomes_a_walk_in(hall, clock):
    code = booking_at_930(hall)
    at(clock, 8, 0)
    first = hall.ask("kiosk-01", "ticket.issue", service="HT")["ticket"]["number"]
    at(clock, 9, 46)
    late = hall.ask("kiosk-01", "booking.check_in", code=code)["ticket"]
    assert late["slot_at"] is None  # an ordinary ticket now, at the end of the line
    hall.ask("quay-01", "counter.sign_in", staff="nv01")
    assert called(hall.ask("quay-01", "counter.next")) == first
    assert called(hall.ask("quay-01", "counter.next")) == late["number"]
    row = hall.booking(code)
    assert row.status == "checked_in" and row.late is True
    assert hall.office.state.ticket_by_number(late["number"]).booking == code  # still known as a booking (reports)


def test_a_booking_is_checked_in_once_even_twice_in_one_batch_and_after_a_restart(hall, clock):
    code = booking_at_930(hall)
    at(clock, 9, 0)
    first, second = hall.batch(("kiosk-01", "booking.check_in", {"code": code}), ("kiosk-02", "booking.check_in", {"code": code}))
    assert first["ok"] and hall.error(second) == "booking_used"
    assert second["error"]["params"]["number"] == first["ticket"]["number"]
    hall.restart()
    assert hall.error(hall.ask("kiosk-01", "booking.check_in", code=code)) == "booking_used"
    assert sum(1 for t in hall.office.state.tickets.values() if t.booking == code) == 1


def test_typed_codes_are_read_like_scanned_ones(hall, clock):
    code = booking_at_930(hall)
    at(clock, 9, 0)
    typed = f"{code[:4].lower()} - {code[4:].lower()}"
    assert hall.ask("kiosk-01", "booking.check_in", code=typed)["ok"]


@pytest.mark.parametrize("code", ["AAAAAAAA", "not a code", "http://x/b/ZZZZZZZZ"])
def test_an_unknown_code_is_refused_in_vietnamese(hall, code):
    reply = hall.ask("kiosk-01", "booking.check_in", code=code)
    assert hall.error(reply) == "unknown_booking" and reply["error"]["message"].startswith("Không tìm thấy lịch hẹn")


def test_another_days_or_a_cancelled_booking_is_refused(hall, clock):
    tuesday = hall.book("HT", local(MONDAY + timedelta(days=1), 9), ALICE, made_at=local(SUNDAY, 10))
    reply = hall.ask("kiosk-01", "booking.check_in", code=tuesday)
    assert hall.error(reply) == "booking_not_today" and reply["error"]["params"] == {"day": "24/11/2026", "time": "09:00"}
    code = hall.book("HT", local(MONDAY, 9), Holder("id", "001099012345"), made_at=local(SUNDAY, 10))
    hall.store.db.execute("UPDATE bookings SET status = 'cancelled' WHERE code = ?", [code])
    assert hall.error(hall.ask("kiosk-01", "booking.check_in", code=code)) == "booking_cancelled"


def test_only_kiosks_counters_and_admin_may_check_in(hall, clock):
    code = booking_at_930(hall)
    at(clock, 9, 0)
    assert hall.error(hall.ask("tv-01", "booking.check_in", code=code)) == "not_authorized"
    assert hall.ask("quay-02", "booking.check_in", code=code)["ok"]  # an official may check a citizen in


def test_a_booking_cancelled_between_the_check_and_the_commit_is_refused_and_nothing_is_left(tmp_path, clock, monkeypatch):
    """The web cancels in its own transaction while the worker checks in: the commit notices (the row is
    no longer 'booked'), the batch is handled again one request at a time, and the check-in is refused."""
    original = AppointmentDesk._check_in
    race = {"armed": False}

    def cancelled_meanwhile(self, office, device, body, counter):
        command = original(self, office, device, body, counter)
        if race["armed"]:
            race["armed"] = False  # once: the retry reads the cancelled booking
            office.store.db.execute("UPDATE bookings SET status = 'cancelled', updated_at = ? WHERE code = ?",
                                    [ts(clock.now()), command.booking])
        return command

    monkeypatch.setattr(AppointmentDesk, "_check_in", cancelled_meanwhile)
    hall = DeskOffice(tmp_path / "race", CONFIG, clock)
    try:
        code = booking_at_930(hall)
        at(clock, 9, 0)
        race["armed"] = True
        issued_before = len(hall.office.state.tickets)
        reply = hall.ask("kiosk-01", "booking.check_in", code=code)
        assert hall.error(reply) == "booking_cancelled"
        assert len(hall.office.state.tickets) == issued_before == hall.store.ticket_count()
        assert hall.office.failures == 1  # the batch path rebuilt memory from the store (desk.BookingTaken)
        assert hall.booking(code).status == "cancelled"
    finally:
        hall.close()
