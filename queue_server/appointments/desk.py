"""The appointments desk: what issue 20 adds to the office's worker (a queue_server.office.Extension).

Two ops become engine commands in the worker, so their checks and their rows commit in the same
transaction as the ticket:

- `booking.check_in {code}` (kiosk, counter, admin): the booking is read from its table and turned
  into `IssueTicket(slot_at=..., booking=code)`. Refused when unknown, cancelled, for another day,
  already used (a booking is checked in once) or earlier than `[appointments] early_minutes` before
  its slot. An early citizen's ticket waits for the slot; one who comes more than `grace_minutes`
  after the slot gets a walk-in ticket (`slot_at` none, the booking still noted).
- `ticket.take_remote {service, holder}` (role phone: the office's own page): today's number from a
  phone, `IssueTicket(remote=True)`, refused once the holder has `[phone_queue] per_phone_per_day`
  numbers today or when the field's wait is longer than what is left of the day.

After each commit the desk refreshes the followed phone views (watch.py) and hands due SMS
(moments.py) to the sending thread (queue_server/notify/outbox.py).
"""

from __future__ import annotations

import logging
import math
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from motcua import protocol as p
from queue_server.appointments import bookings, db
from queue_server.appointments.holders import HolderKey
from queue_server.appointments.moments import Contact, due_messages
from queue_server.appointments.slots import TOO_EARLY, WALK_IN, check_in_window, seconds_left_today
from queue_server.appointments.watch import PhoneTicket, TicketWatch
from queue_server.config import Device, OfficeConfig
from queue_server.dossiers.db import ts
from queue_server.engine import Rejected, estimated_wait_seconds
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.engine import average_service_seconds
from queue_server.engine.state import AT_COUNTER, OfficeState, ticket_id
from queue_server.notify.base import Gateway
from queue_server.notify.outbox import Outbox
from queue_server.store import write_transaction

log = logging.getLogger(__name__)

PHONE_DEVICE = Device(id="web-phone", role="phone")  # the office's phone pages act as this device
RECENT_CALL = timedelta(minutes=10)  # a call this recent whose SMS a restart interrupted is still sent


class BookingTaken(Exception):
    """The booking changed between the check and the commit (cancelled meanwhile): the batch is
    handled again one request at a time and the check-in refused (queue_server/office.py)."""


class AppointmentDesk:
    def __init__(self, db_path: str | Path, hub: Any = None, gateway: Gateway | None = None) -> None:
        self.db_path = Path(db_path)
        self.key = HolderKey.beside(self.db_path)
        self.watch = TicketWatch(hub)
        self.gateway = gateway
        self.outbox: Outbox | None = None
        self.contacts: dict[str, Contact] = {}
        self.builders = {"booking.check_in": self._check_in, "ticket.take_remote": self._take_remote}
        self._staged: dict[str, str] = {}  # public token -> holder hash of a number taken in this batch

    # --- lifecycle (main thread, before the worker runs) ---------------------------------

    def start(self, office: Any) -> None:
        now = office.clock.now()
        database = db.connect(self.db_path)
        try:
            with write_transaction(database):
                bookings.finish_days(database, office.config.business_day(now), now)
            self._load_contacts(database, office.state)
        finally:
            database.close()
        self.outbox = Outbox(self.db_path, office.clock.now, self.gateway)
        self.outbox.start()
        self._resend_interrupted(office.state, office.config, now)

    def stop(self) -> None:
        if self.outbox is not None:
            self.outbox.stop()

    def _load_contacts(self, database: Any, state: OfficeState) -> None:
        self.contacts.clear()
        if not state.business_day:
            return
        rows = database.execute(
            "SELECT ticket_id, phone, near_sent_at, called_sent_at FROM ticket_contacts WHERE business_day = ?", [state.business_day]
        ).fetchall()
        for tid, phone, near, called in rows:
            self.contacts[tid] = Contact(tid, phone, near_sent=near is not None, called_sent=called is not None)

    def _resend_interrupted(self, state: OfficeState, config: OfficeConfig, now: datetime) -> None:
        """A call whose SMS was not sent before a restart: send it now, if the call is recent."""
        calls = [e.TicketCalled(at=t.called_at, ticket_id=t.id, number=t.number, counter=t.counter, staff=t.staff)
                 for tid, contact in self.contacts.items() if not contact.called_sent
                 for t in [state.tickets.get(tid)]
                 if t is not None and t.status in AT_COUNTER and t.counter and t.called_at and now - t.called_at < RECENT_CALL]
        self._notify(state, config, calls, now)  # type: ignore[arg-type]

    # --- the ops (worker thread) --------------------------------------------------------

    def _check_in(self, office: Any, device: Device, body: p.BookingCheckIn, counter: str | None) -> c.IssueTicket:
        config, state, now = office.config, office.state, office.clock.now()
        code = p.parse_booking_code(body.code)
        booking = bookings.find(office.store.db, code) if code else None
        if booking is None:
            raise Rejected("unknown_booking")
        if booking.status == bookings.CANCELLED:
            raise Rejected("booking_cancelled", booking=p.format_booking_code(booking.code))
        used = next((t for t in state.tickets.values() if t.booking == booking.code), None)
        if booking.status == bookings.CHECKED_IN or used is not None:
            raise Rejected("booking_used", booking=p.format_booking_code(booking.code), number=used.number if used else booking.ticket or "")
        slot = booking.slot_at.astimezone(config.tz)
        if booking.day != config.business_day(now):
            raise Rejected("booking_not_today", day=f"{slot:%d/%m/%Y}", time=f"{slot:%H:%M}")
        window = check_in_window(config, booking.slot_at, now)
        if window == TOO_EARLY:
            opens = booking.slot_at - timedelta(minutes=config.appointments.early_minutes)
            raise Rejected("booking_too_early", time=f"{slot:%H:%M}", opens=f"{opens.astimezone(config.tz):%H:%M}")
        return c.IssueTicket(booking.service, None, device.id, office.token(), office.token(),
                             slot_at=None if window == WALK_IN else booking.slot_at, booking=booking.code)

    def _take_remote(self, office: Any, device: Device, body: p.TicketTakeRemote, counter: str | None) -> c.IssueTicket:
        config, state, now = office.config, office.state, office.clock.now()
        service = config.services.get(body.service)
        if service is None:
            raise Rejected("unknown_service", service=body.service)
        if not config.phone_queue.offers(service.code):
            raise Rejected("phone_queue_closed", service_name=service.name)
        left = seconds_left_today(config, now)
        wait = expected_wait_seconds(state, config, service.code)
        if left is not None and (wait is None or wait > left):
            raise Rejected("phone_queue_full", service_name=service.name, minutes=math.ceil((wait or 0) / 60))
        day = state.business_day or config.business_day(now)
        taken = bookings.count_phone_takes(office.store.db, day, body.holder) + sum(1 for h in self._staged.values() if h == body.holder)
        if taken >= config.phone_queue.per_phone_per_day:
            raise Rejected("phone_limit_reached", limit=config.phone_queue.per_phone_per_day)
        public = office.token()
        self._staged[public] = body.holder
        return c.IssueTicket(service.code, None, device.id, office.token(), public, remote=True)

    # --- queue_server.office.Extension ---------------------------------------------------

    def write(self, conn: sqlite3.Connection, state: OfficeState, event: e.Event) -> None:
        """Inside the batch's transaction."""
        if isinstance(event, e.BusinessDayStarted):
            bookings.finish_days(conn, event.day, event.at)
        elif isinstance(event, e.TicketIssued) and event.booking:
            cursor = conn.execute(
                "UPDATE bookings SET status = ?, checked_in_at = ?, ticket = ?, late = ?, updated_at = ? WHERE code = ? AND status = ?",
                [bookings.CHECKED_IN, ts(event.at), event.number, int(event.slot_at is None), ts(event.at), event.booking, bookings.BOOKED],
            )
            if cursor.rowcount != 1:
                raise BookingTaken(event.booking)
            conn.execute(
                "INSERT OR IGNORE INTO ticket_contacts (ticket_id, business_day, phone) "
                "SELECT ?, ?, notify_phone FROM bookings WHERE code = ? AND notify_phone IS NOT NULL",
                [event.ticket_id, state.business_day, event.booking],
            )
        elif isinstance(event, e.TicketIssued) and event.remote and event.public_token in self._staged:
            conn.execute("INSERT INTO phone_takes (business_day, holder, ticket_id, created_at) VALUES (?, ?, ?, ?)",
                         [state.business_day, self._staged[event.public_token], event.ticket_id, ts(event.at)])

    def committed(self, office: Any, events: list[e.Event], now: datetime) -> None:
        self._staged.clear()
        state, config = office.state, office.config
        if any(isinstance(ev, e.BusinessDayStarted) for ev in events):
            self.contacts.clear()
        for ev in events:
            if isinstance(ev, e.TicketIssued) and ev.booking:
                row = office.store.db.execute("SELECT phone FROM ticket_contacts WHERE ticket_id = ?", [ev.ticket_id]).fetchone()
                if row:
                    self.contacts[ev.ticket_id] = Contact(ev.ticket_id, row[0])
        self.watch.after_batch(state, config, events, now)
        self._notify(state, config, events, now)

    def reset(self) -> None:
        self._staged.clear()

    # --- phones and SMS (worker thread) ---------------------------------------------------

    def follow(self, office: Any, public_token: str) -> PhoneTicket | None:
        """A phone page's ticket: followed from now on; its view now (None: no such ticket today)."""
        return self.watch.follow(office.state, office.config, public_token, office.clock.now())

    def add_contact(self, office: Any, business_day: str, number: str, phone: str) -> None:
        """SMS for a number taken from a phone (its page wrote the contact row after the take)."""
        tid = ticket_id(business_day, number)
        if tid in office.state.tickets and tid not in self.contacts:
            self.contacts[tid] = Contact(tid, phone)
            self._notify(office.state, office.config, [], office.clock.now())

    def _notify(self, state: OfficeState, config: OfficeConfig, events: list[e.Event], now: datetime) -> None:
        if not self.contacts or self.outbox is None:
            return
        for message in due_messages(state, config, self.contacts, events, now):
            contact = self.contacts[message.ticket_id]
            if message.kind == "near":
                contact.near_sent = True
            else:
                contact.called_sent = True
            self.outbox.put(message, config.notifications)


def expected_wait_seconds(state: OfficeState, config: OfficeConfig, service: str) -> int | None:
    """A newcomer's wait in this field: the engine's estimate, or, before any counter of the field is
    open, the same formula over the counters that serve it (None: no counter serves it at all)."""
    wait = estimated_wait_seconds(state, config, service)
    if wait is not None:
        return wait
    counters = [s for s in config.counters_serving(service) if not s.priority_only]
    if not counters:
        return None
    return int(math.ceil(state.waiting_count(service) / len(counters)) * average_service_seconds(state, config, service))
