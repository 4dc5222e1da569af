"""Property tests: a day of random arrivals mixing walk-ins, bookings (within each slot's capacity, arriving
early, on time or late) and numbers taken from phones (arriving later), served by counters that call the
next ticket whenever they are free. Whatever Hypothesis draws:

- a booked ticket is never called before its slot;
- a number from a phone is never called before its holder arrived;
- no walk-in waits forever: every ticket is called by the end, the counters never idle while someone
  they may call waits, and walk-ins are called in the order they came;
- bookings overtake a walk-in only within the slots' capacity: while a walk-in waits, the bookings
  called ahead of it are at most the places left in the slots that came due by its call.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.appointments.slots import ON_TIME, TOO_EARLY, capacity, check_in_window, day_slots
from queue_server.engine import Rejected, pick_next
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.state import WAITING
from tests.appointments.support import MONDAY, local, office
from tests.unit.engine_harness import Harness

COUNTERS = [{"id": f"Q{i}", "name": f"Quầy {i}", "services": ["HT"]} for i in (1, 2, 3)]


def day_office(share: float, slot_minutes: int):
    return office(counters=COUNTERS, devices=[{"id": "kiosk-01", "role": "kiosk", "tickets_per_minute": 0, "tickets_per_hour": 0}],
                  office={**office().source["office"], "issue_outside_hours": True},
                  calling={"default_service_minutes": 10, "remote_grace_minutes": 15},
                  appointments={"share": share, "slot_minutes": slot_minutes, "early_minutes": 30, "grace_minutes": 10})


@dataclass
class Citizen:
    kind: str  # walk_in | booked | remote
    arrives: datetime
    service_minutes: float
    slot: datetime | None = None
    takes: datetime | None = None  # a phone number: when it was taken (before arriving)
    number: str | None = None
    called: datetime | None = None
    issued: datetime | None = None


@dataclass
class Day:
    citizens: list[Citizen]
    counters: int
    config: object
    slots: list = field(default_factory=list)


@st.composite
def days(draw):
    config = day_office(draw(st.sampled_from([0.3, 0.5, 0.8])), draw(st.sampled_from([15, 30])))
    opening = local(MONDAY, 7)
    minutes = st.floats(min_value=0, max_value=9 * 60, allow_nan=False)
    service = st.floats(min_value=1, max_value=25, allow_nan=False)
    citizens = [Citizen("walk_in", opening + timedelta(minutes=m), draw(service))
                for m in draw(st.lists(minutes, max_size=40))]
    slots = day_slots(config, "HT", MONDAY, frozenset())
    for slot in draw(st.lists(st.sampled_from(slots), max_size=25)):
        taken = sum(1 for x in citizens if x.slot == slot.start)
        if taken >= slot.capacity:
            continue  # the booking side never sells more places than the slot has
        offset = draw(st.floats(min_value=-30, max_value=25, allow_nan=False))  # early, on time, late, too late
        citizens.append(Citizen("booked", slot.start + timedelta(minutes=offset), draw(service), slot=slot.start))
    for m in draw(st.lists(minutes, max_size=10)):
        takes = opening + timedelta(minutes=m)
        citizens.append(Citizen("remote", takes + timedelta(minutes=draw(st.floats(0, 90, allow_nan=False))), draw(service),
                                takes=takes))
    return Day(citizens, draw(st.integers(min_value=1, max_value=3)), config, slots)


def serve(day: Day) -> tuple[Harness, dict[str, Citizen], list[e.TicketCalled]]:
    """The discrete-event day: arrivals, check-ins, phone holders arriving, counters calling when free."""
    from motcua.clock import FakeClock

    h = Harness(day.config, FakeClock(local(MONDAY, 6, 55)))
    counters = [f"Q{i}" for i in range(1, day.counters + 1)]
    for cid in counters:
        h.run(c.SignIn(cid, f"nv-{cid}"))
    order = itertools.count()
    queue: list[tuple[datetime, int, str, object]] = []
    for x in day.citizens:
        if x.kind == "remote":
            heapq.heappush(queue, (x.takes, next(order), "take", x))
        heapq.heappush(queue, (x.arrives, next(order), "arrive", x))
    for slot in day.slots:
        heapq.heappush(queue, (slot.start, next(order), "due", None))  # counters look again when a slot comes
    by_number: dict[str, Citizen] = {}
    busy: dict[str, datetime] = {}
    calls: list[e.TicketCalled] = []
    tokens = itertools.count()

    def issue(x: Citizen, **kw) -> None:
        n = next(tokens)
        out = h.run(c.IssueTicket("HT", None, "kiosk-01", f"v{n}", f"p{n}", **kw))
        x.number, x.issued = out[-1].number, h.clock.now()
        by_number[x.number] = x

    def try_call(cid: str, now: datetime) -> None:
        try:
            out = h.run(c.CallNext(cid))
        except Rejected as refusal:
            assert refusal.code == "no_ticket_waiting"
            if h.state.counters[cid].current:
                h.run(c.Finish(cid))
            busy.pop(cid, None)
            return
        call = [ev for ev in out if isinstance(ev, e.TicketCalled)][-1]
        calls.append(call)
        x = by_number[call.number]
        x.called = now
        busy[cid] = now + timedelta(minutes=x.service_minutes)
        heapq.heappush(queue, (busy[cid], next(order), "free", cid))

    while queue:
        when, _, kind, payload = heapq.heappop(queue)
        if when > h.clock.now():
            h.clock.advance((when - h.clock.now()).total_seconds())
        if kind == "take":
            issue(payload, remote=True)
        elif kind == "arrive":
            x = payload
            if x.kind == "walk_in":
                issue(x)
            elif x.kind == "remote":
                h.run(c.ConfirmArrival(x.number))
            else:
                window = check_in_window(day.config, x.slot, when)
                if window == TOO_EARLY:
                    x.arrives = x.slot - timedelta(minutes=day.config.appointments.early_minutes)  # the kiosk said: come back then
                    heapq.heappush(queue, (x.arrives, next(order), "arrive", x))
                    continue
                issue(x, slot_at=x.slot if window == ON_TIME else None, booking=f"B{id(x)}")
        elif kind == "free":
            try_call(payload, when)
            continue
        for cid in counters:
            if cid not in busy:
                try_call(cid, when)
        _no_idle_counter_while_someone_may_be_called(h, counters, busy, when)
    return h, by_number, calls


def _no_idle_counter_while_someone_may_be_called(h: Harness, counters: list[str], busy: dict, now: datetime) -> None:
    for cid in counters:
        if cid not in busy:
            assert pick_next(h.state, h.config, h.state.counters[cid], now) is None, f"{cid} idles while a ticket may be called"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(days())
def test_bookings_wait_for_their_slot_phones_for_their_holder_and_no_walk_in_waits_forever(day):
    h, by_number, calls = serve(day)
    assert all(t.status != WAITING for t in h.state.tickets.values()), "someone was never called"
    for call in calls:
        x = by_number[call.number]
        ticket = h.state.tickets[call.ticket_id]
        if ticket.slot_at is not None:
            assert ticket.slot_at <= call.at, "a booking was called before its slot"
        if x.kind == "remote":
            assert x.arrives <= call.at, "a number from a phone was called before its holder came"
    walk_ins = sorted((x for x in by_number.values() if x.kind == "walk_in"), key=lambda x: (x.issued, x.number))
    assert [x.called for x in walk_ins] == sorted(x.called for x in walk_ins), "walk-ins were not called in the order they came"
    places = {s.start: s.capacity for s in day.slots}
    booked_calls = [(k, h.state.tickets[k.ticket_id].slot_at) for k in calls if h.state.tickets[k.ticket_id].slot_at is not None]
    for w in walk_ins:
        ahead = [k for k, _ in booked_calls if w.issued <= k.at <= w.called]
        # The places of the slots come due by the walk-in's call, less those their bookings used before it came.
        left = sum(cap - sum(1 for k, slot in booked_calls if slot == start and k.at < w.issued)
                   for start, cap in places.items() if start <= w.called)
        assert len(ahead) <= left, (w.number, len(ahead), left)

def test_the_capacity_used_by_the_property_comes_from_the_office():
    config = day_office(0.5, 30)
    assert capacity(config, "HT") == 4  # 3 counters x 30 / 10 minutes x 0.5 = 4.5, rounded down


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([None, None, "elderly"]), max_size=30), st.lists(st.integers(0, 29), max_size=10))
def test_positions_of_a_whole_line_agree_with_each_tickets_position(groups, served):
    """engine.positions (one pass, for the phone views) is engine.position for every waiting ticket."""
    from queue_server.engine import position
    from queue_server.engine.engine import positions
    from tests.unit.engine_harness import small_office

    h = Harness(small_office())
    numbers = [h.issue("HT", group) for group in groups]
    h.open_counter("Q1")
    for _ in served[: len(numbers) // 2]:
        h.next("Q1")
    line = positions(h.state, "HT")
    waiting = [t for t in h.state.waiting.get("HT", {}).values()]
    assert line == {t.id: position(h.state, t) for t in waiting}
