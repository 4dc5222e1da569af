"""Bookings in a real SQLite file: places per slot, limits per person, cancel and reschedule with the code,
the day's load, and what is forgotten after the day."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from queue_server.appointments import bookings, db
from queue_server.appointments.bookings import BookingRefused
from queue_server.appointments.holders import Holder, HolderKey
from queue_server.appointments.slots import day_slots
from tests.appointments.support import MONDAY, local, office

NOW = local(MONDAY, 8, 0)
ALICE = Holder("phone", "0912345678")
BOB = Holder("id", "001099012345")


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "motcua.db"
    database = db.connect(path)
    yield database, HolderKey.beside(path)
    database.close()


def book(store, config, holder=ALICE, hh=9, mm=0, day=MONDAY, now=NOW, service="HT", **kw):
    database, key = store
    return bookings.book(database, config, key, service, local(day, hh, mm), holder, now, holidays=frozenset(), **kw)


def refused(code, fn, *args, **kw):
    with pytest.raises(BookingRefused) as err:
        fn(*args, **kw)
    assert err.value.code == code, err.value.params
    return err.value


def test_a_booking_gets_a_code_and_keeps_only_what_it_needs(store):
    config = office()
    booking = book(store, config, sms_phone="0912345678")
    assert len(booking.code) == 8 and booking.status == "booked" and booking.contact_last4 == "5678" and booking.notify
    row = store[0].execute("SELECT * FROM bookings").fetchone()
    text = " ".join(map(str, row))
    assert text.count("0912345678") == 1  # only as the SMS number, which the day's end forgets
    assert booking.as_dict(config)["slot_start"] == "2026-11-23T09:00+07:00"
    assert book(store, config, BOB, hh=10).notify is False


def test_a_slot_takes_its_capacity_and_no_more(store):
    config = office(appointments={"capacity": {"HT": 2}})
    book(store, config, ALICE)
    book(store, config, BOB)
    third = Holder("phone", "0987654321")
    refused("full", book, store, config, third)
    assert [left for slot, left in bookings.free_places(store[0], config, "HT", MONDAY, NOW, frozenset())
            if slot.start == local(MONDAY, 9, 0)] == [0]


def test_two_people_racing_for_the_last_place_do_not_both_get_it(store, tmp_path):
    config = office(appointments={"capacity": {"HT": 1}})
    results: list[str] = []
    start = threading.Barrier(4)

    def attempt(i: int) -> None:
        connection = db.open_db(tmp_path / "motcua.db")
        start.wait()
        try:
            bookings.book(connection, config, store[1], "HT", local(MONDAY, 9, 30), Holder("phone", f"09123456{i:02d}"), NOW,
                          holidays=frozenset())
            results.append("ok")
        except BookingRefused as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["full", "full", "full", "ok"]


def test_one_person_may_book_a_few_slots_a_day_and_hold_a_few_bookings_at_once(store):
    config = office(appointments={"per_holder_per_day": 2, "per_holder_open": 3, "capacity": {"HT": 5, "DD": 5}})
    book(store, config, hh=9)
    book(store, config, hh=10, service="DD")
    error = refused("holder_day_limit", book, store, config, hh=11)
    assert error.status == 429 and error.params == {"limit": 2}
    book(store, config, day=MONDAY + timedelta(days=1))
    refused("holder_open_limit", book, store, config, day=MONDAY + timedelta(days=2))
    book(store, config, BOB, hh=11)  # someone else is not limited by it
    same_id_other_phone = Holder.of("0987654321", "001099012345")
    book(store, config, same_id_other_phone, hh=13)
    refused("holder_day_limit", book, store, config, same_id_other_phone, hh=14)  # a new phone does not reset the ID's count


def test_slots_too_soon_too_far_or_not_offered_are_refused(store):
    config = office(appointments={"days_ahead": 7, "min_notice_minutes": 60, "services": ["HT"]})
    refused("too_late", book, store, config, hh=8, mm=30)
    refused("too_far", book, store, config, day=MONDAY + timedelta(days=8))
    refused("no_slot", book, store, config, hh=12)  # the lunch break has no slots
    refused("no_slot", book, store, config, hh=9, mm=10)
    refused("not_offered", book, store, config, service="DD")
    refused("unknown_service", book, store, config, service="ZZ")


def test_cancel_frees_the_place_and_forgets_the_person(store):
    config = office(appointments={"capacity": {"HT": 1}})
    first = book(store, config, sms_phone="0912345678")
    cancelled = bookings.cancel(store[0], config, first.code, NOW)
    assert cancelled.status == "cancelled" and not cancelled.notify
    assert store[0].execute("SELECT holder, notify_phone FROM bookings WHERE code = ?", [first.code]).fetchone() == (None, None)
    book(store, config, BOB)  # the place is free again
    refused("cancelled", bookings.cancel, store[0], config, first.code, NOW)
    refused("not_found", bookings.cancel, store[0], config, "AAAAAAAA", NOW)


def test_reschedule_moves_the_booking_keeping_its_code_and_limits(store):
    config = office(appointments={"capacity": {"HT": 1}, "per_holder_per_day": 1})
    mine = book(store, config)
    book(store, config, BOB, hh=10)
    refused("full", bookings.reschedule, store[0], config, mine.code, local(MONDAY, 10), NOW, frozenset())
    moved = bookings.reschedule(store[0], config, mine.code, local(MONDAY + timedelta(days=1), 8), NOW, frozenset())
    assert moved.code == mine.code and moved.day == "2026-11-24" and moved.slot_at == local(MONDAY + timedelta(days=1), 8)
    assert bookings.reschedule(store[0], config, mine.code, local(MONDAY + timedelta(days=1), 8, 30), NOW, frozenset()).status == "booked"
    book(store, config, hh=9)  # the Monday place of ALICE is free again, and her Monday count is back to 0
    later = local(MONDAY + timedelta(days=1), 9)
    refused("past", bookings.reschedule, store[0], config, mine.code, local(MONDAY + timedelta(days=2), 8), later, frozenset())


def test_the_days_load_per_hour_counts_places_bookings_and_no_shows(store):
    config = office(appointments={"capacity": {"HT": 2, "DD": 1}, "grace_minutes": 15})
    a = book(store, config, ALICE, hh=9)
    book(store, config, BOB, hh=9, mm=30)
    c = book(store, config, Holder("phone", "0987654321"), hh=13)
    bookings.cancel(store[0], config, c.code, NOW)
    store[0].execute("UPDATE bookings SET status = 'checked_in', ticket = '1001' WHERE code = ?", [a.code])
    load = bookings.day_load(store[0], config, MONDAY, local(MONDAY, 10, 0), frozenset())
    nine = next(h for h in load["hours"] if h["hour"] == 9)
    places_at_nine = sum(s.capacity for svc in config.services for s in day_slots(config, svc, MONDAY, frozenset()) if s.start.hour == 9)
    assert nine["places"] == places_at_nine and nine["booked"] == 2 and nine["checked_in"] == 1 and nine["missed"] == 1
    assert nine["services"]["HT"] == {"places": 4, "booked": 2, "checked_in": 1, "missed": 1, "cancelled": 0}
    assert next(h for h in load["hours"] if h["hour"] == 13)["cancelled"] == 1
    assert load["totals"]["booked"] == 2 and load["totals"]["missed"] == 1
    assert load["by_service"]["HT"] == {"places": sum(s.capacity for s in day_slots(config, "HT", MONDAY, frozenset())), "booked": 2,
                                        "checked_in": 1, "missed": 1, "cancelled": 1, "no_show_at_counter": 0}


def test_after_the_day_bookings_never_checked_in_are_no_shows_and_personal_data_is_gone(store):
    config = office()
    kept = book(store, config, sms_phone="0912345678")
    tomorrow = book(store, config, BOB, day=MONDAY + timedelta(days=1), sms_phone=None)
    database = store[0]
    database.execute("INSERT INTO phone_takes VALUES ('2026-11-23', 'abc', '2026-11-23/2001', 'x')")
    database.execute("INSERT INTO ticket_contacts VALUES ('2026-11-23/2001', '2026-11-23', '0912345678', NULL, NULL)")
    bookings.finish_days(database, "2026-11-24", local(MONDAY + timedelta(days=1), 0, 1))
    assert bookings.find(database, kept.code).status == "no_show"
    assert database.execute("SELECT holder, notify_phone, contact_last4 FROM bookings WHERE code = ?", [kept.code]).fetchone() == \
        (None, None, "5678")
    assert database.execute("SELECT holder FROM bookings WHERE code = ?", [tomorrow.code]).fetchone()[0] is not None
    assert database.execute("SELECT holder FROM phone_takes").fetchone() == (None,)
    assert database.execute("SELECT COUNT(*) FROM ticket_contacts").fetchone() == (0,)
