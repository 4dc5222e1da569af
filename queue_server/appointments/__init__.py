"""Booked appointments, today's number from a phone, the ticket on the phone (issue 20; docs/appointments.md).

    slots.py     which slots a field offers on a day, and how many bookings each takes (pure)
    holders.py   phone and ID numbers: normalised, counted through a keyed hash, last 4 digits kept
    db.py        the tables (store.migrate_component "appointments")
    bookings.py  book, cancel, reschedule, find; limits per person; the day's booked load; no-shows
    sources.py   the one-stop software's tokens (only their hash is stored)
    desk.py      the office extension: `booking.check_in` and `ticket.take_remote` in the worker's
                 transaction, then the phone views and the SMS after each commit
    watch.py     the ticket on the phone: one view per followed ticket, computed on the server
    simulate.py  the simulator's day with a share of booked citizens (bench/bench_booked_day.py)
"""
