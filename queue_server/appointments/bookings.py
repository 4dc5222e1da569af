"""Bookings: made on the office's page, by an official, or by the one-stop software; changed with their code.

Every change is one `write_transaction` (BEGIN IMMEDIATE), so two people cannot take a slot's last
place, and a holder's limits are counted against what is committed. The worker checks bookings in
(queue_server/appointments/desk.py) in its own transaction, which takes the same lock.

Limits against hoarding, per holder (a phone or ID number, counted through its keyed hash):
`per_holder_per_day` bookings on one day, `per_holder_open` bookings not yet due at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlite_utils

from motcua import protocol as p
from queue_server.appointments.holders import Holder, HolderKey
from queue_server.appointments.slots import Slot, bookable, booking_window, day_slots, find_slot
from queue_server.config import OfficeConfig
from queue_server.dossiers.db import ts
from queue_server.store import write_transaction

BOOKED, CANCELLED, CHECKED_IN, NO_SHOW = "booked", "cancelled", "checked_in", "no_show"
ACTIVE = (BOOKED, CHECKED_IN)  # they hold their place in the slot
CHANNELS = ("web", "official", "api")

_COLUMNS = ("code", "service", "day", "slot_at", "slot_minutes", "status", "channel", "source", "contact_last4", "notify_phone",
            "created_at", "checked_in_at", "ticket", "late")


@dataclass(frozen=True)
class Booking:
    code: str
    service: str
    day: str  # the slot's local date
    slot_at: datetime
    slot_minutes: int
    status: str
    channel: str
    source: str | None
    contact_last4: str | None
    notify: bool
    created_at: datetime
    checked_in_at: datetime | None
    ticket: str | None
    late: bool | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Booking:
        values = dict(zip(_COLUMNS, row, strict=True))
        return cls(
            code=values["code"], service=values["service"], day=values["day"], slot_at=datetime.fromisoformat(values["slot_at"]),
            slot_minutes=values["slot_minutes"], status=values["status"], channel=values["channel"], source=values["source"],
            contact_last4=values["contact_last4"], notify=values["notify_phone"] is not None,
            created_at=datetime.fromisoformat(values["created_at"]),
            checked_in_at=datetime.fromisoformat(values["checked_in_at"]) if values["checked_in_at"] else None,
            ticket=values["ticket"], late=None if values["late"] is None else bool(values["late"]),
        )

    def slot_end(self) -> datetime:
        return self.slot_at + timedelta(minutes=self.slot_minutes)

    def missed(self, config: OfficeConfig, now: datetime) -> bool:
        """Not checked in, and past the grace period: counted as a no-show."""
        late_after = self.slot_at + timedelta(minutes=config.appointments.grace_minutes)
        return self.status == NO_SHOW or (self.status == BOOKED and now > late_after)

    def as_dict(self, config: OfficeConfig, now: datetime | None = None) -> dict[str, Any]:
        """The booking as the API and the pages show it (no personal data beyond the last 4 digits)."""
        service = config.services.get(self.service)
        local = self.slot_at.astimezone(config.tz)
        return {
            "code": self.code,
            "code_text": p.format_booking_code(self.code),
            "service": self.service,
            "service_name": service.name if service else self.service,
            "day": self.day,
            "slot_start": local.isoformat(timespec="minutes"),
            "slot_end": self.slot_end().astimezone(config.tz).isoformat(timespec="minutes"),
            "status": NO_SHOW if now is not None and self.missed(config, now) else self.status,
            "channel": self.channel,
            "contact_last4": self.contact_last4,
            "sms": self.notify,
            "ticket": self.ticket,
            "checked_in_at": self.checked_in_at.astimezone(config.tz).isoformat(timespec="seconds") if self.checked_in_at else None,
            "late": self.late,
        }


class BookingRefused(Exception):
    """A booking, cancellation or change the rules do not allow: `code` is stable, the words are
    the catalog's `booking.error.<code>`; `status` is the HTTP status to answer with."""

    def __init__(self, code: str, status: int = 409, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.status = status
        self.params = params

    @property
    def key(self) -> str:
        return f"booking.error.{self.code}"


def new_code(db: sqlite_utils.Database) -> str:
    """A fresh booking code: 8 characters of Crockford base32, 40 random bits."""
    while True:
        code = "".join(secrets.choice(p.BOOKING_ALPHABET) for _ in range(p.BOOKING_CODE_LENGTH))
        if db.execute("SELECT 1 FROM bookings WHERE code = ?", [code]).fetchone() is None:
            return code


def find(db: sqlite_utils.Database, code: str) -> Booking | None:
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM bookings WHERE code = ?", [code]).fetchone()
    return Booking.from_row(row) if row else None


def _slot_for(config: OfficeConfig, service: str, start: datetime, now: datetime, holidays: frozenset[date] | None) -> Slot:
    if service not in config.services:
        raise BookingRefused("unknown_service", 404, service=service)
    if not config.appointments.offers(service):
        raise BookingRefused("not_offered", 409, service_name=config.services[service].name)
    slot = find_slot(config, service, start, holidays)
    if slot is None:
        raise BookingRefused("no_slot", 404)
    if not bookable(config, slot, now):
        earliest, _ = booking_window(config, now)
        raise BookingRefused("too_late" if slot.start < earliest else "too_far", 409, days=config.appointments.days_ahead)
    return slot


def _used(db: sqlite_utils.Database, service: str, slot: Slot, besides: str = "") -> int:
    return db.execute(
        f"SELECT COUNT(*) FROM bookings WHERE service = ? AND slot_at = ? AND status IN {ACTIVE} AND code != ?",
        [service, ts(slot.start), besides],
    ).fetchone()[0]


def _check_holder(db: sqlite_utils.Database, config: OfficeConfig, holder: str, day: str, now: datetime, besides: str = "") -> None:
    settings = config.appointments
    that_day = db.execute(
        f"SELECT COUNT(*) FROM bookings WHERE holder = ? AND day = ? AND status IN {ACTIVE} AND code != ?", [holder, day, besides]
    ).fetchone()[0]
    if that_day >= settings.per_holder_per_day:
        raise BookingRefused("holder_day_limit", 429, limit=settings.per_holder_per_day)
    still_open = db.execute(
        "SELECT COUNT(*) FROM bookings WHERE holder = ? AND status = ? AND slot_at >= ? AND code != ?", [holder, BOOKED, ts(now), besides]
    ).fetchone()[0]
    if still_open >= settings.per_holder_open:
        raise BookingRefused("holder_open_limit", 429, limit=settings.per_holder_open)


def book(db: sqlite_utils.Database, config: OfficeConfig, key: HolderKey, service: str, start: datetime, holder: Holder,
         now: datetime, *, channel: str = "web", source: str | None = None, sms_phone: str | None = None,
         holidays: frozenset[date] | None = None) -> Booking:
    """Book a slot for a holder; `sms_phone` (a normalised phone) only if the citizen asked for SMS."""
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r}")
    slot = _slot_for(config, service, start, now, holidays)
    holder_hash = key.hash(holder)
    with write_transaction(db):
        if _used(db, service, slot) >= slot.capacity:
            raise BookingRefused("full", 409)
        _check_holder(db, config, holder_hash, slot.day.isoformat(), now)
        code = new_code(db)
        db.execute(
            "INSERT INTO bookings (code, service, day, slot_at, slot_minutes, status, channel, source, holder, holder_kind, "
            "contact_last4, notify_phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [code, service, slot.day.isoformat(), ts(slot.start), config.appointments.slot_minutes, BOOKED, channel, source,
             holder_hash, holder.kind, holder.last4, sms_phone, ts(now), ts(now)],
        )
    booking = find(db, code)
    assert booking is not None
    return booking


def _changeable(db: sqlite_utils.Database, config: OfficeConfig, code: str, now: datetime) -> Booking:
    booking = find(db, code)
    if booking is None:
        raise BookingRefused("not_found", 404)
    if booking.status == CANCELLED:
        raise BookingRefused("cancelled", 409)
    if booking.status == CHECKED_IN:
        raise BookingRefused("used", 409, number=booking.ticket or "")
    if booking.missed(config, now) or booking.slot_at < now:
        raise BookingRefused("past", 409)
    return booking


def cancel(db: sqlite_utils.Database, config: OfficeConfig, code: str, now: datetime) -> Booking:
    """Cancel a booking not yet due; its place returns to the slot, its holder's data is forgotten."""
    with write_transaction(db):
        _changeable(db, config, code, now)
        db.execute("UPDATE bookings SET status = ?, updated_at = ?, holder = NULL, notify_phone = NULL WHERE code = ?",
                   [CANCELLED, ts(now), code])
    booking = find(db, code)
    assert booking is not None
    return booking


def reschedule(db: sqlite_utils.Database, config: OfficeConfig, code: str, start: datetime, now: datetime,
               holidays: frozenset[date] | None = None) -> Booking:
    """Move a booking not yet due to another slot of its field (same code)."""
    with write_transaction(db):
        booking = _changeable(db, config, code, now)
        slot = _slot_for(config, booking.service, start, now, holidays)
        if _used(db, booking.service, slot, besides=code) >= slot.capacity:
            raise BookingRefused("full", 409)
        holder = db.execute("SELECT holder FROM bookings WHERE code = ?", [code]).fetchone()[0]
        if holder:
            _check_holder(db, config, holder, slot.day.isoformat(), now, besides=code)
        db.execute("UPDATE bookings SET slot_at = ?, day = ?, slot_minutes = ?, updated_at = ? WHERE code = ?",
                   [ts(slot.start), slot.day.isoformat(), config.appointments.slot_minutes, ts(now), code])
    moved = find(db, code)
    assert moved is not None
    return moved


def free_places(db: sqlite_utils.Database, config: OfficeConfig, service: str, day: date, now: datetime,
                holidays: frozenset[date] | None = None) -> list[tuple[Slot, int]]:
    """The slots of a field on a day one may still book, with their places left."""
    slots = [s for s in day_slots(config, service, day, holidays) if bookable(config, s, now)]
    used = dict(db.execute(
        f"SELECT slot_at, COUNT(*) FROM bookings WHERE service = ? AND day = ? AND status IN {ACTIVE} GROUP BY slot_at",
        [service, day.isoformat()],
    ).fetchall())
    return [(s, max(0, s.capacity - used.get(ts(s.start), 0))) for s in slots]


def day_bookings(db: sqlite_utils.Database, day: str) -> list[Booking]:
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM bookings WHERE day = ? ORDER BY slot_at, code", [day]).fetchall()
    return [Booking.from_row(row) for row in rows]


def day_load(db: sqlite_utils.Database, config: OfficeConfig, day: date, now: datetime,
             holidays: frozenset[date] | None = None) -> dict[str, Any]:
    """The day's booked load per hour, for officials: places, booked, checked in, missed (no-shows), cancelled.

    A booking checked in whose ticket was then skipped at the counter counts in `no_show_at_counter`."""
    hours: dict[int, dict[str, Any]] = {}

    def hour(h: int) -> dict[str, Any]:
        return hours.setdefault(h, {"hour": h, "places": 0, "booked": 0, "checked_in": 0, "missed": 0, "cancelled": 0, "services": {}})

    def add(h: int, service: str, key: str, amount: int = 1) -> None:
        row = hour(h)
        row[key] += amount
        per = row["services"].setdefault(service, {"places": 0, "booked": 0, "checked_in": 0, "missed": 0, "cancelled": 0})
        per[key] += amount

    for service in config.services:
        for slot in day_slots(config, service, day, holidays):
            add(slot.start.hour, service, "places", slot.capacity)
    bookings = day_bookings(db, day.isoformat())
    for b in bookings:
        h = b.slot_at.astimezone(config.tz).hour
        if b.status == CANCELLED:
            add(h, b.service, "cancelled")
            continue
        add(h, b.service, "booked")
        if b.status == CHECKED_IN:
            add(h, b.service, "checked_in")
        elif b.missed(config, now):
            add(h, b.service, "missed")
    skipped = dict(db.execute(
        "SELECT service, COUNT(*) FROM tickets WHERE business_day = ? AND booking IS NOT NULL AND status = 'no_show' GROUP BY service",
        [day.isoformat()],
    ).fetchall()) if "tickets" in db.table_names() else {}
    rows = [hours[h] for h in sorted(hours)]
    keys = ("places", "booked", "checked_in", "missed", "cancelled")
    by_service = {code: {**{k: sum(r["services"].get(code, {}).get(k, 0) for r in rows) for k in keys},
                         "no_show_at_counter": skipped.get(code, 0)} for code in config.services}
    totals = {**{k: sum(r[k] for r in rows) for k in keys}, "no_show_at_counter": sum(skipped.values())}
    return {"day": day.isoformat(), "hours": rows, "totals": totals, "by_service": by_service,
            "services": {code: s.name for code, s in config.services.items()}}


def count_phone_takes(db: Any, business_day: str, holder: str) -> int:
    """Numbers taken from a phone today by this holder (any connection or database)."""
    return db.execute("SELECT COUNT(*) FROM phone_takes WHERE business_day = ? AND holder = ?", [business_day, holder]).fetchone()[0]


def finish_days(db: Any, today: str, now: datetime) -> None:
    """Close the days before `today`: bookings never checked in become no-shows, and every holder hash
    and phone number of those days is forgotten (runs in the worker's day-start transaction, and at start)."""
    db.execute("UPDATE bookings SET status = ?, updated_at = ? WHERE day < ? AND status = ?", [NO_SHOW, ts(now), today, BOOKED])
    db.execute("UPDATE bookings SET holder = NULL, notify_phone = NULL WHERE day < ? AND (holder IS NOT NULL OR notify_phone IS NOT NULL)",
               [today])
    db.execute("UPDATE phone_takes SET holder = NULL WHERE business_day < ? AND holder IS NOT NULL", [today])
    db.execute("DELETE FROM ticket_contacts WHERE business_day < ?", [today])
