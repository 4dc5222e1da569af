"""The simulator's day with a share of booked citizens (bench/bench_booked_day.py).

A share of the simulator's arrivals (queue_server/reports/simulate.py) booked a slot the day before:
the slot that starts at or after the moment they would have come, or the next one with a place.
They come a few minutes before it (some late, a few not at all) and check in at the kiosk with
`booking.check_in`; everyone else takes a number as before. When a slot comes, idle counters look
for the bookings that are now due. The waits are read back from the tickets afterwards.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from queue_server.appointments import bookings, db
from queue_server.appointments.holders import Holder, HolderKey
from queue_server.appointments.slots import day_slots
from queue_server.reports.simulate import Citizen, Simulation

EARLY_MINUTES = (0.0, 10.0)  # booked citizens come this long before their slot
LATE_SHARE, LATE_MINUTES = 0.10, (1.0, 25.0)  # some come late, past the grace period for a few
NO_SHOW_SHARE = 0.05
SLOT_TRIES = 4  # a full slot: the next ones, then the citizen comes without a booking


class BookedSimulation(Simulation):
    def __init__(self, *args: Any, booked_share: float, db_path: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.booked_share = booked_share
        self.db_path = Path(db_path)
        self.booked: dict[int, tuple[str, datetime]] = {}  # id(citizen) -> (code, slot start)
        self._kept: list[Citizen] = []  # every booked citizen stays alive, so no later one gets its id
        self.not_come = 0

    def _at(self, when: datetime, kind: str, payload: Any = None) -> None:
        if kind == "arrive" and isinstance(payload, Citizen) and id(payload) not in self.booked and self.rng.random() < self.booked_share:
            booking = self._book(payload.service, when)
            if booking is not None:
                _, slot = booking
                self.booked[id(payload)] = booking
                self._kept.append(payload)
                if self.rng.random() < NO_SHOW_SHARE:
                    self.not_come += 1
                    return
                if self.rng.random() < LATE_SHARE:
                    comes = slot + timedelta(minutes=self.rng.uniform(*LATE_MINUTES))
                else:
                    comes = slot - timedelta(minutes=self.rng.uniform(*EARLY_MINUTES))
                super()._at(comes, "arrive", payload)
                return
        super()._at(when, kind, payload)

    def _book(self, service: str, would_come: datetime) -> tuple[str, datetime] | None:
        """Book the first slot at or after `would_come` with a place, as the citizen did the day before."""
        day = would_come.astimezone(self.config.tz).date()
        made_at = datetime.combine(day - timedelta(days=1), would_come.timetz())
        later = [s for s in day_slots(self.config, service, day, frozenset()) if s.start >= would_come - timedelta(minutes=10)]
        database = db.open_db(self.db_path)
        try:
            for slot in later[:SLOT_TRIES]:
                holder = Holder("phone", f"09{self.rng.randrange(10**8):08d}")
                try:
                    made = bookings.book(database, self.config, HolderKey.beside(self.db_path), service, slot.start, holder, made_at,
                                         channel="web", holidays=frozenset())
                except bookings.BookingRefused:
                    continue
                return made.code, slot.start
        finally:
            database.close()
        return None

    def _take_number(self, citizen: Citizen) -> dict[str, Any]:
        if id(citizen) not in self.booked:
            return super()._take_number(citizen)
        return self.ask(self._device("kiosk"), "booking.check_in", code=self.booked[id(citizen)][0])

    def _on_arrive(self, when: datetime, citizen: Citizen) -> None:
        super()._on_arrive(when, citizen)
        booked = self.booked.get(id(citizen))
        if booked and citizen.ticket and citizen.ticket["slot_at"] and booked[1] > when:
            self._at(booked[1], "due", citizen)  # an early citizen: counters look again when the slot comes

    def _on_due(self, when: datetime, citizen: Citizen) -> None:
        self._wake(citizen.service, citizen.priority, when)


def waits(db_path: Path, day: date) -> dict[str, Any]:
    """Minutes waited on `day`: bookings from their slot (or their arrival, if later) to their first call;
    late bookings (checked in past the grace period, served as walk-ins) and walk-ins from their number."""
    database = db.open_db(db_path)
    try:
        rows = database.execute(
            "SELECT booking, slot_at, issued_at, first_called_at, remote FROM tickets WHERE business_day = ? AND first_called_at IS NOT NULL",
            [day.isoformat()],
        ).fetchall()
        booked_total = database.execute("SELECT COUNT(*) FROM bookings WHERE day = ?", [day.isoformat()]).fetchone()[0]
    finally:
        database.close()
    groups: dict[str, list[float]] = {"booked": [], "late_booked": [], "walk_in": []}
    for booking, slot_at, issued_at, called_at, remote in rows:
        issued, called = datetime.fromisoformat(issued_at), datetime.fromisoformat(called_at)
        if booking and slot_at:
            groups["booked"].append((called - max(datetime.fromisoformat(slot_at), issued)).total_seconds() / 60)
        elif booking:
            groups["late_booked"].append((called - issued).total_seconds() / 60)
        elif not remote:
            groups["walk_in"].append((called - issued).total_seconds() / 60)

    def describe(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"n": len(values), "mean": statistics.fmean(values) if values else 0.0,
                "p90": ordered[int(0.9 * (len(ordered) - 1))] if ordered else 0.0, "max": ordered[-1] if ordered else 0.0}

    return {"bookings": booked_total, **{name: describe(values) for name, values in groups.items()}}
