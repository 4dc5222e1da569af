"""Property tests: random command sequences keep the engine's invariants.

- numbers are unique within a business day;
- each ticket is in exactly one state (waiting in one queue, or at exactly one counter,
  or ended), and no ticket is lost, across transfers included;
- CallNext is FIFO within a service and priority class (the longest-waiting eligible
  ticket of the chosen class is taken; tickets sent to the counter come first);
- a booked ticket is never called before its slot, and is called ahead of walk-ins once
  its slot has come; a ticket taken from a phone is never called by the rule before its
  holder has arrived;
- a refused command changes nothing; replaying the log rebuilds the same state.
"""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from queue_server.engine import Rejected, replay
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.engine import eligible
from queue_server.engine.state import AT_COUNTER, WAITING
from tests.unit.engine_harness import Harness, small_office

COUNTERS = st.sampled_from(["Q1", "Q2", "Q3"])
SERVICES = st.sampled_from(["HT", "CT"])
GROUPS = st.sampled_from([None, None, None, "elderly", "pregnant"])


class EngineMachine(RuleBasedStateMachine):
    @initialize(mode=st.sampled_from(["strict", "ratio"]), requeue=st.sampled_from(["front", "back"]))
    def setup(self, mode: str, requeue: str) -> None:
        self.h = Harness(small_office(priority=mode, requeue=requeue))
        self.numbers_by_day: dict[str, list[str]] = {}
        self.ids_today: set[str] = set()
        self.day: str | None = None

    def attempt(self, cmd: c.Command) -> list[e.Event] | None:
        before = copy.deepcopy(self.h.state)
        fifo_expectation = self._fifo_expectation(cmd) if isinstance(cmd, c.CallNext) else None
        try:
            out = self.h.run(cmd)
        except Rejected:
            # roll_day may have applied; compare against a state rolled the same way
            rolled = [ev for ev in self.h.events if isinstance(ev, e.BusinessDayStarted)]
            if not rolled or rolled[-1].day == before.business_day:
                assert self.h.state.tickets == before.tickets
                assert self.h.state.counters == before.counters
            return None
        if fifo_expectation is not None:
            called = [ev for ev in out if isinstance(ev, e.TicketCalled)][-1]
            assert called.ticket_id in fifo_expectation, (called.ticket_id, fifo_expectation)
            ticket = self.h.state.tickets[called.ticket_id]
            assert ticket.slot_at is None or ticket.slot_at <= called.at, "a booking called before its slot"
        for ev in out:
            if isinstance(ev, e.TicketIssued):
                day = self.h.state.business_day
                self.numbers_by_day.setdefault(day, []).append(ev.number)
        return out

    def _fifo_expectation(self, cmd: c.CallNext) -> set[str] | None:
        """The ids CallNext may legally take: the oldest directed ticket, else the oldest of a class."""
        state, config = self.h.state, self.h.config
        if config.business_day(self.h.clock.now()) != state.business_day:
            return None  # the call would first roll the day; nothing to call then
        counter, now = state.counters[cmd.counter], self.h.clock.now()
        waiting = [t for q in state.waiting.values() for t in q.values() if eligible(config, counter.id, t, now)]
        directed = [t for t in waiting if t.target_counter == cmd.counter]
        if directed:
            return {min(directed, key=lambda t: t.order).id}
        booked = [t for t in waiting if t.target_counter is None and t.slot_at is not None]
        if booked:
            return {min(booked, key=lambda t: (t.slot_at, t.order)).id}
        allowed = set()
        for cls in (True, False):
            pool = [t for t in waiting if t.target_counter is None and t.slot_at is None and t.priority == cls]
            if pool:
                allowed.add(min(pool, key=lambda t: t.order).id)
        return allowed

    # --- rules ---

    @rule(service=SERVICES, group=GROUPS)
    def issue(self, service, group):
        n = len(self.h.events)
        self.attempt(c.IssueTicket(service, group, "kiosk-01", f"v{n}", f"p{n}"))

    @rule(service=SERVICES, minutes=st.sampled_from([-20, 0, 5, 30, 120]))
    def book(self, service, minutes):
        n = len(self.h.events)
        slot = self.h.clock.now() + timedelta(minutes=minutes)
        self.attempt(c.IssueTicket(service, None, "kiosk-01", f"v{n}", f"p{n}", slot_at=slot, booking=f"B{n}"))

    @rule(service=SERVICES)
    def from_a_phone(self, service):
        n = len(self.h.events)
        self.attempt(c.IssueTicket(service, None, "kiosk-01", f"v{n}", f"p{n}", remote=True))

    @precondition(lambda self: any(t.remote and not t.arrived for t in self.h.state.tickets.values()))
    @rule(data=st.data())
    def arrives(self, data):
        absent = sorted(t.number for t in self.h.state.tickets.values() if t.remote and not t.arrived)
        self.attempt(c.ConfirmArrival(data.draw(st.sampled_from(absent))))

    @rule(counter=COUNTERS, staff=st.sampled_from(["nv-a", "nv-b"]))
    def sign_in(self, counter, staff):
        self.attempt(c.SignIn(counter, staff))

    @rule(counter=COUNTERS)
    def sign_out(self, counter):
        self.attempt(c.SignOut(counter))

    @rule(counter=COUNTERS)
    def call_next(self, counter):
        self.attempt(c.CallNext(counter))

    @precondition(lambda self: self.h.state.tickets)
    @rule(counter=COUNTERS, data=st.data())
    def call_specific(self, counter, data):
        number = data.draw(st.sampled_from(sorted(t.number for t in self.h.state.tickets.values())))
        self.attempt(c.CallTicket(counter, number))

    @rule(counter=COUNTERS, op=st.sampled_from([c.Recall, c.StartService, c.SkipNoShow, c.Finish, c.Resume, c.CloseCounter]))
    def counter_op(self, counter, op):
        self.attempt(op(counter))

    @rule(counter=COUNTERS)
    def pause(self, counter):
        self.attempt(c.Pause(counter, "nghỉ giải lao"))

    @rule(counter=COUNTERS, to_service=st.one_of(st.none(), SERVICES), to_counter=st.one_of(st.none(), COUNTERS))
    def transfer(self, counter, to_service, to_counter):
        self.attempt(c.Transfer(counter, to_service, to_counter))

    @precondition(lambda self: self.h.state.tickets)
    @rule(data=st.data())
    def requeue(self, data):
        number = data.draw(st.sampled_from(sorted(t.number for t in self.h.state.tickets.values())))
        self.attempt(c.RequeueTicket(number))

    @rule(seconds=st.sampled_from([30, 300, 3600, 24 * 3600]))
    def time_passes(self, seconds):
        self.h.clock.advance(seconds)

    # --- invariants ---

    @invariant()
    def numbers_unique_within_a_day(self):
        for day, numbers in getattr(self, "numbers_by_day", {}).items():
            assert len(numbers) == len(set(numbers)), day

    @invariant()
    def each_ticket_in_exactly_one_state(self):
        if not hasattr(self, "h"):
            return
        state = self.h.state
        holders: dict[str, list[str]] = {}
        for counter in state.counters.values():
            if counter.current:
                holders.setdefault(counter.current, []).append(counter.id)
        queued = {tid: service for service, q in state.waiting.items() for tid in q}
        for tid, t in state.tickets.items():
            if t.status == WAITING:
                assert queued.get(tid) == t.service and tid not in holders
            elif t.status in AT_COUNTER:
                assert holders.get(tid) == [t.counter] and tid not in queued
            else:
                assert tid not in queued and tid not in holders
        for service, q in state.waiting.items():
            assert state.waiting_priority.get(service, 0) == sum(1 for t in q.values() if t.priority)
        assert set(queued) <= set(state.tickets)
        assert set(holders) <= set(state.tickets)

    @invariant()
    def no_ticket_is_lost(self):
        if not hasattr(self, "h"):
            return
        state = self.h.state
        if state.business_day != self.day:
            self.day, self.ids_today = state.business_day, set()
        assert self.ids_today <= set(state.tickets)
        self.ids_today = set(state.tickets)
        assert len(state.tickets) == len(self.numbers_by_day.get(state.business_day, []))

    def teardown(self):
        if hasattr(self, "h"):
            rebuilt = replay(self.h.config, self.h.events)
            assert rebuilt.tickets == self.h.state.tickets
            assert rebuilt.counters == self.h.state.counters


EngineMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_engine_keeps_its_invariants = EngineMachine.TestCase
