"""The engine: decide(state, command, now) -> events; apply(state, event) mutates state.

No I/O: the clock value and random tokens come in as data. `decide` never changes
the state, so a refused command (a `Rejected` exception with a stable code) leaves
nothing behind; the shell applies the events it got and persists them together.

Calling rule for `CallNext` at counter C (docs/engine.md explains it with examples):
1. tickets transferred to C itself, oldest first;
2. booked tickets of C's services whose slot has come (slot time <= now), earliest
   slot first: a booking is called at its slot, ahead of walk-ins, and never before;
3. otherwise tickets of C's services (priority tickets only, if C is reserved for
   priority groups). Between the priority and the regular class the configured
   mode decides: "strict" always takes a waiting priority ticket first; "ratio" R:P
   takes up to P priority tickets then up to R regular ones per cycle, so neither
   class starves while both wait;
4. within the chosen class, the ticket with the smallest queue order (the longest
   waiting: order follows issue time; a transfer keeps it).
A ticket taken from a phone (remote) keeps its place in line but is not called until its
holder has arrived; if its turn passed more than `remote_grace_minutes` before they
arrive, it goes to the end of the line (nobody waits for an absent holder).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.configuration import ReconfigureRefused, apply_reconfigured, decide_reconfigure
from queue_server.engine.state import (
    CALLED,
    EXPIRED,
    FINISHED,
    NO_SHOW,
    SERVING,
    WAITING,
    CounterState,
    DeviceReport,
    OfficeState,
    RecentCall,
    Ticket,
    ticket_id,
)

MAX_COMPONENTS = 8  # per device: its retained state stays far below the 64 KiB payload limit
_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)


class Rejected(Exception):
    """A command the engine refuses; `code` is a stable protocol error code."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def new_state(config: OfficeConfig) -> OfficeState:
    state = OfficeState()
    for counter_id in config.counters:
        state.counters[counter_id] = CounterState(id=counter_id)
    return state


# --- the business day ---------------------------------------------------------


def roll_day(state: OfficeState, config: OfficeConfig, now: datetime) -> list[e.Event]:
    """Events that close the previous business day, if `now` is in a new one."""
    day = config.business_day(now)
    if state.business_day == day:
        return []
    out: list[e.Event] = []
    for t in state.tickets.values():
        if t.status in (WAITING, CALLED, SERVING):
            out.append(e.TicketExpired(at=now, ticket_id=t.id, number=t.number))
    for counter in state.counters.values():
        if counter.open:
            out.append(e.CounterClosed(at=now, counter=counter.id, staff=counter.staff, reason="day_end"))
    out.append(e.BusinessDayStarted(at=now, day=day, previous_day=state.business_day))
    return out


# --- decide -------------------------------------------------------------------


def decide(state: OfficeState, config: OfficeConfig, cmd: c.Command, now: datetime) -> list[e.Event]:
    """The events a command produces, or Rejected. Does not modify `state`."""
    handler = _HANDLERS[type(cmd)]
    return handler(state, config, cmd, now)


def _issue(state: OfficeState, config: OfficeConfig, cmd: c.IssueTicket, now: datetime) -> list[e.Event]:
    service = config.services.get(cmd.service)
    if service is None:
        raise Rejected("unknown_service", service=cmd.service)
    if cmd.service in state.closed_services:
        raise Rejected("service_closed", service=service.code, service_name=service.name)
    if cmd.priority_group is not None and cmd.priority_group not in config.priority_groups:
        raise Rejected("unknown_priority_group", group=cmd.priority_group)
    if not config.is_open(now):
        holiday = config.holiday_on(now)
        if holiday is not None:
            reopens = config.next_open_day(now)
            raise Rejected("office_holiday", holiday=holiday.name, hours=config.hours_text(),
                           reopens=f"{reopens:%d/%m/%Y}" if reopens else "")
        raise Rejected("office_closed", hours=config.hours_text())
    _check_issue_rate(state, config, cmd.device, now)
    seq = state.next_seq.get(service.code, service.numbering.first)
    if seq > service.numbering.last:
        raise Rejected("numbers_exhausted", service=service.code, service_name=service.name)
    number = service.numbering.format(seq)
    day = state.business_day or config.business_day(now)
    return [
        e.TicketIssued(
            at=now, ticket_id=ticket_id(day, number), number=number, service=service.code, seq=seq,
            priority_group=cmd.priority_group, order=state.next_order, vote_token=cmd.vote_token,
            public_token=cmd.public_token, device=cmd.device, slot_at=cmd.slot_at, booking=cmd.booking,
            remote=cmd.remote,
        )
    ]


def _confirm_arrival(state: OfficeState, config: OfficeConfig, cmd: c.ConfirmArrival, now: datetime) -> list[e.Event]:
    ticket = _ticket(state, cmd.number)
    if ticket.status != WAITING:
        raise Rejected("ticket_not_waiting", number=ticket.number)
    if ticket.arrived:
        return []
    late = ticket.passed_at is not None and now - ticket.passed_at > timedelta(minutes=config.rules.remote_grace_minutes)
    return [e.TicketArrived(at=now, ticket_id=ticket.id, order=state.next_order if late else ticket.order)]


def _check_issue_rate(state: OfficeState, config: OfficeConfig, device: str, now: datetime) -> None:
    """Refuse a kiosk past its per-minute or per-hour limit (a stuck button, a child, a script)."""
    spec = config.devices.get(device)
    recent = state.issued_by.get(device)
    if spec is None or not recent:
        return
    for limit, window in zip(config.issuing.for_device(spec), (_MINUTE, _HOUR), strict=True):
        if not limit:
            continue
        inside = [at for at in recent if at > now - window]
        if len(inside) >= limit:
            retry = max(1, math.ceil((inside[-limit] + window - now).total_seconds()))
            raise Rejected("issue_rate_limited", device=device, limit=limit, window_minutes=int(window / _MINUTE), retry_after_seconds=retry)


def _reprint(state: OfficeState, config: OfficeConfig, cmd: c.ReprintTicket, now: datetime) -> list[e.Event]:
    ticket = _ticket(state, cmd.number)
    return [e.TicketReprinted(at=now, ticket_id=ticket.id, device=cmd.device)]


def _requeue(state: OfficeState, config: OfficeConfig, cmd: c.RequeueTicket, now: datetime) -> list[e.Event]:
    ticket = _ticket(state, cmd.number)
    if ticket.status != NO_SHOW:
        raise Rejected("ticket_not_no_show", number=ticket.number)
    order = ticket.order if config.rules.requeue == "front" else state.next_order
    return [e.TicketRequeued(at=now, ticket_id=ticket.id, order=order)]


def _sign_in(state: OfficeState, config: OfficeConfig, cmd: c.SignIn, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    out: list[e.Event] = []
    if counter.staff and counter.staff != cmd.staff:
        out.append(e.CounterSignedOut(at=now, counter=counter.id, staff=counter.staff))
    out.append(e.CounterSignedIn(at=now, counter=counter.id, staff=cmd.staff))
    return out


def _sign_out(state: OfficeState, config: OfficeConfig, cmd: c.SignOut, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    _require_no_current(state, config, counter)
    return [e.CounterSignedOut(at=now, counter=counter.id, staff=counter.staff)]


def _call_next(state: OfficeState, config: OfficeConfig, cmd: c.CallNext, now: datetime) -> list[e.Event]:
    counter = _ready_counter(state, config, cmd.counter)
    ticket = pick_next(state, config, counter, now)
    if ticket is None:
        raise Rejected("no_ticket_waiting", counter=counter.id, counter_name=_counter_name(config, counter.id))
    return [*_release_current(state, counter, now), _called(ticket, counter, now, how="next")]


def _call_ticket(state: OfficeState, config: OfficeConfig, cmd: c.CallTicket, now: datetime) -> list[e.Event]:
    counter = _ready_counter(state, config, cmd.counter)
    ticket = _ticket(state, cmd.number)
    if ticket.status != WAITING:
        raise Rejected("ticket_not_waiting", number=ticket.number)
    return [*_release_current(state, counter, now), _called(ticket, counter, now, how="direct")]


def _recall(state: OfficeState, config: OfficeConfig, cmd: c.Recall, now: datetime) -> list[e.Event]:
    counter = _ready_counter(state, config, cmd.counter)
    ticket = _current(state, config, counter)
    return [_called(ticket, counter, now, how="recall")]


def _start(state: OfficeState, config: OfficeConfig, cmd: c.StartService, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    ticket = _current(state, config, counter)
    if ticket.status == SERVING:
        return []
    return [e.ServiceStarted(at=now, ticket_id=ticket.id, counter=counter.id, staff=counter.staff)]


def _skip(state: OfficeState, config: OfficeConfig, cmd: c.SkipNoShow, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    ticket = _current(state, config, counter)
    needed = config.rules.calls_before_no_show
    if ticket.status == SERVING or ticket.call_count < needed:
        raise Rejected("not_called_enough", number=ticket.number, calls=ticket.call_count, needed=needed)
    return [e.TicketSkipped(at=now, ticket_id=ticket.id, counter=counter.id, staff=counter.staff)]


def _finish(state: OfficeState, config: OfficeConfig, cmd: c.Finish, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    ticket = _current(state, config, counter)
    return [e.TicketFinished(at=now, ticket_id=ticket.id, counter=counter.id, staff=counter.staff)]


def _transfer(state: OfficeState, config: OfficeConfig, cmd: c.Transfer, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    ticket = _current(state, config, counter)
    if (cmd.to_service is None) == (cmd.to_counter is None):
        raise Rejected("invalid_transfer", number=ticket.number, reason="one_target")
    to_service = ticket.service
    if cmd.to_service is not None:
        if cmd.to_service not in config.services:
            raise Rejected("unknown_service", service=cmd.to_service)
        if cmd.to_service == ticket.service:
            raise Rejected("invalid_transfer", number=ticket.number, reason="same_service")
        to_service = cmd.to_service
    if cmd.to_counter is not None:
        if cmd.to_counter not in config.counters:
            raise Rejected("unknown_counter", counter=cmd.to_counter)
        if cmd.to_counter == counter.id:
            raise Rejected("invalid_transfer", number=ticket.number, reason="same_counter")
    return [
        e.TicketTransferred(
            at=now, ticket_id=ticket.id, counter=counter.id, staff=counter.staff,
            to_service=to_service, to_counter=cmd.to_counter, reason=cmd.reason,
        )
    ]


def _pause(state: OfficeState, config: OfficeConfig, cmd: c.Pause, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    if not counter.open:
        raise Rejected("counter_closed", counter=counter.id, counter_name=_counter_name(config, counter.id))
    _require_no_current(state, config, counter)
    return [e.CounterPaused(at=now, counter=counter.id, staff=counter.staff, reason=cmd.reason)]


def _resume(state: OfficeState, config: OfficeConfig, cmd: c.Resume, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    if not counter.paused:
        raise Rejected("counter_not_paused", counter=counter.id, counter_name=_counter_name(config, counter.id))
    return [e.CounterResumed(at=now, counter=counter.id, staff=counter.staff)]


def _close(state: OfficeState, config: OfficeConfig, cmd: c.CloseCounter, now: datetime) -> list[e.Event]:
    counter = _counter(state, config, cmd.counter)
    _require_no_current(state, config, counter)
    if not counter.open:
        return []
    return [e.CounterClosed(at=now, counter=counter.id, staff=counter.staff)]


def _open_service(state: OfficeState, config: OfficeConfig, cmd: c.OpenService, now: datetime) -> list[e.Event]:
    _service(config, cmd.service)
    return [e.ServiceOpened(at=now, service=cmd.service)] if cmd.service in state.closed_services else []


def _close_service(state: OfficeState, config: OfficeConfig, cmd: c.CloseService, now: datetime) -> list[e.Event]:
    _service(config, cmd.service)
    if cmd.service in state.closed_services and state.closed_reasons.get(cmd.service) == cmd.reason:
        return []
    return [e.ServiceClosed(at=now, service=cmd.service, reason=cmd.reason)]


def _set_notice(state: OfficeState, config: OfficeConfig, cmd: c.SetNotice, now: datetime) -> list[e.Event]:
    return [] if state.notice == cmd.text else [e.NoticeChanged(at=now, text=cmd.text)]


def _vote(state: OfficeState, config: OfficeConfig, cmd: c.SubmitVote, now: datetime) -> list[e.Event]:
    tid = state.vote_tokens.get(cmd.token)
    if tid is None:
        raise Rejected("unknown_vote_token")
    ticket = state.tickets[tid]
    if ticket.status != FINISHED:
        raise Rejected("vote_not_allowed", number=ticket.number)
    if ticket.voted:
        raise Rejected("already_voted", number=ticket.number)
    return [
        e.VoteSubmitted(
            at=now, ticket_id=ticket.id, level=cmd.level, reasons=_known_reasons(config, cmd.reasons),
            counter=ticket.counter, staff=ticket.staff,
        )
    ]


def _known_reasons(config: OfficeConfig, reasons: tuple[str, ...]) -> tuple[str, ...]:
    """A vote's reasons, each once, all from the office's list (reports count them by code)."""
    for code in reasons:
        if code not in config.vote_reasons:
            raise Rejected("unknown_vote_reason", reason_code=code, known=", ".join(config.vote_reasons))
    return tuple(dict.fromkeys(reasons))


def _vote_at_counter(state: OfficeState, config: OfficeConfig, cmd: c.VoteAtCounter, now: datetime) -> list[e.Event]:
    """A rating device votes for the ticket its counter finished last, once, shortly after."""
    counter = _counter(state, config, cmd.counter)
    ticket = state.tickets.get(counter.last_finished or "")
    if ticket is None or ticket.finished_at is None or now > rate_until(config, ticket):
        raise Rejected("no_ticket_to_rate", counter=counter.id, counter_name=_counter_name(config, counter.id))
    if ticket.voted:
        raise Rejected("already_voted", number=ticket.number)
    return [
        e.VoteSubmitted(
            at=now, ticket_id=ticket.id, level=cmd.level, reasons=_known_reasons(config, cmd.reasons),
            counter=ticket.counter, staff=ticket.staff, via="counter",
        )
    ]


def _reconfigure(state: OfficeState, config: OfficeConfig, cmd: c.Reconfigure, now: datetime) -> list[e.Event]:
    try:
        return decide_reconfigure(state, config, cmd, now)
    except ReconfigureRefused as refusal:
        raise Rejected(refusal.code, **refusal.params) from None


def rate_until(config: OfficeConfig, ticket: Ticket) -> datetime:
    """Until when a counter's rating device may vote for a ticket it finished."""
    assert ticket.finished_at is not None
    return ticket.finished_at + timedelta(minutes=config.counter_vote_minutes)


def _device_status(state: OfficeState, config: OfficeConfig, cmd: c.ReportDeviceStatus, now: datetime) -> list[e.Event]:
    last = state.devices.get((cmd.device, cmd.component))
    if last and (last.state, last.detail) == (cmd.state, cmd.detail):
        return []  # unchanged: no event, the log stays an audit trail rather than a heartbeat
    if last is None and sum(1 for dev, _ in state.devices if dev == cmd.device) >= MAX_COMPONENTS:
        raise Rejected("too_many_components", device=cmd.device, limit=MAX_COMPONENTS)
    return [e.DeviceStatusReported(at=now, device=cmd.device, component=cmd.component, state=cmd.state, detail=cmd.detail)]


_HANDLERS: dict[type, Any] = {
    c.IssueTicket: _issue, c.ReprintTicket: _reprint, c.RequeueTicket: _requeue, c.SignIn: _sign_in,
    c.SignOut: _sign_out, c.CallNext: _call_next, c.CallTicket: _call_ticket, c.Recall: _recall,
    c.StartService: _start, c.SkipNoShow: _skip, c.Finish: _finish, c.Transfer: _transfer,
    c.Pause: _pause, c.Resume: _resume, c.CloseCounter: _close, c.OpenService: _open_service,
    c.CloseService: _close_service, c.SubmitVote: _vote, c.VoteAtCounter: _vote_at_counter,
    c.SetNotice: _set_notice, c.Reconfigure: _reconfigure, c.ConfirmArrival: _confirm_arrival,
    c.ReportDeviceStatus: _device_status,
}


# --- helpers for decide --------------------------------------------------------


def _counter_name(config: OfficeConfig, counter_id: str) -> str:
    return config.counters[counter_id].name


def _counter(state: OfficeState, config: OfficeConfig, counter_id: str) -> CounterState:
    counter = state.counters.get(counter_id)
    if counter is None:
        raise Rejected("unknown_counter", counter=counter_id)
    return counter


def _ready_counter(state: OfficeState, config: OfficeConfig, counter_id: str) -> CounterState:
    counter = _counter(state, config, counter_id)
    name = _counter_name(config, counter_id)
    if not counter.open:
        raise Rejected("counter_closed", counter=counter_id, counter_name=name)
    if counter.paused:
        raise Rejected("counter_paused", counter=counter_id, counter_name=name)
    return counter


def _service(config: OfficeConfig, code: str) -> None:
    if code not in config.services:
        raise Rejected("unknown_service", service=code)


def _ticket(state: OfficeState, number: str) -> Ticket:
    ticket = state.ticket_by_number(number)
    if ticket is None:
        raise Rejected("unknown_ticket", number=number)
    return ticket


def _current(state: OfficeState, config: OfficeConfig, counter: CounterState) -> Ticket:
    if counter.current is None:
        raise Rejected("no_current_ticket", counter=counter.id, counter_name=_counter_name(config, counter.id))
    return state.tickets[counter.current]


def _require_no_current(state: OfficeState, config: OfficeConfig, counter: CounterState) -> None:
    if counter.current is not None:
        number = state.tickets[counter.current].number
        raise Rejected("counter_busy", counter=counter.id, counter_name=_counter_name(config, counter.id), number=number)


def _release_current(state: OfficeState, counter: CounterState, now: datetime) -> list[e.Event]:
    """Calling the next ticket ends the current one: a one-button keypad means 'done, next'."""
    if counter.current is None:
        return []
    return [e.TicketFinished(at=now, ticket_id=counter.current, counter=counter.id, staff=counter.staff, implicit=True)]


def _called(ticket: Ticket, counter: CounterState, now: datetime, how: str) -> e.TicketCalled:
    return e.TicketCalled(
        at=now, ticket_id=ticket.id, number=ticket.number, counter=counter.id, staff=counter.staff,
        recall=how == "recall", how=how, priority=ticket.priority,
    )


def eligible(config: OfficeConfig, counter_id: str, ticket: Ticket, now: datetime) -> bool:
    """Whether a waiting ticket may be called by CallNext at this counter now."""
    if not ticket.arrived or (ticket.slot_at is not None and ticket.slot_at > now):
        return False
    if ticket.target_counter is not None:
        return ticket.target_counter == counter_id
    spec = config.counters[counter_id]
    return ticket.service in spec.services and (ticket.priority or not spec.priority_only)


def pick_next(state: OfficeState, config: OfficeConfig, counter: CounterState, now: datetime) -> Ticket | None:
    """The ticket CallNext would call at this counter now (the rule in the module docstring)."""
    directed: Ticket | None = None
    booked: Ticket | None = None
    best = {True: None, False: None}  # priority? -> oldest walk-in of that class
    for waiting in state.waiting.values():
        for t in waiting.values():
            if not eligible(config, counter.id, t, now):
                continue
            if t.target_counter is not None:
                if directed is None or t.order < directed.order:
                    directed = t
            elif t.slot_at is not None:
                if booked is None or (t.slot_at, t.order) < (booked.slot_at, booked.order):
                    booked = t
            else:
                current = best[t.priority]
                if current is None or t.order < current.order:
                    best[t.priority] = t
    if directed is not None or booked is not None:
        return directed or booked
    priority, regular = best[True], best[False]
    if priority is None or regular is None:
        return priority or regular
    if config.rules.priority_mode == "strict" or counter.cycle_priority < config.rules.ratio_priority:
        return priority
    if counter.cycle_regular < config.rules.ratio_regular:
        return regular
    return priority


# --- apply --------------------------------------------------------------------


def apply(state: OfficeState, config: OfficeConfig, event: e.Event) -> None:
    """Fold one event into the state (the only place state changes)."""
    _APPLIERS[type(event)](state, config, event)


def apply_all(state: OfficeState, config: OfficeConfig, events: Iterable[e.Event]) -> None:
    for event in events:
        apply(state, config, event)


def replay(config: OfficeConfig, events: Iterable[e.Event]) -> OfficeState:
    state = new_state(config)
    apply_all(state, config, events)
    return state


def _leave_queue(state: OfficeState, ticket: Ticket) -> None:
    state.dequeue(ticket)


def _join_queue(state: OfficeState, ticket: Ticket) -> None:
    ticket.status = WAITING
    ticket.counter = None
    state.enqueue(ticket)


def _free_counter(state: OfficeState, ticket: Ticket, at: datetime) -> None:
    counter = state.counters.get(ticket.counter or "")
    if counter is not None and counter.current == ticket.id:
        counter.current = None
        counter.updated_at = at


def _day_started(state: OfficeState, config: OfficeConfig, ev: e.BusinessDayStarted) -> None:
    state.business_day = ev.day
    state.tickets.clear()
    state.waiting.clear()
    state.waiting_priority.clear()
    state.next_seq.clear()
    state.vote_tokens.clear()
    state.issued_by.clear()
    state.recent_calls.clear()
    for counter in state.counters.values():
        counter.last_finished = None
        counter.served_today, counter.service_seconds_today = 0, 0.0


def _expired(state: OfficeState, config: OfficeConfig, ev: e.TicketExpired) -> None:
    ticket = state.tickets[ev.ticket_id]
    _leave_queue(state, ticket)
    _free_counter(state, ticket, ev.at)
    ticket.status = EXPIRED


def _issued(state: OfficeState, config: OfficeConfig, ev: e.TicketIssued) -> None:
    if state.business_day is None:
        state.business_day = config.business_day(ev.at)
    ticket = Ticket(
        id=ev.ticket_id, business_day=state.business_day, number=ev.number, service=ev.service, seq=ev.seq,
        priority_group=ev.priority_group, order=ev.order, issued_at=ev.at, vote_token=ev.vote_token,
        public_token=ev.public_token, device=ev.device, slot_at=ev.slot_at, booking=ev.booking,
        remote=ev.remote, arrived=not ev.remote,
    )
    note_issue(state, ev.device, ev.at)
    state.tickets[ticket.id] = ticket
    state.vote_tokens[ticket.vote_token] = ticket.id
    state.next_seq[ev.service] = ev.seq + 1
    state.next_order = max(state.next_order, ev.order + 1)
    _join_queue(state, ticket)


def note_issue(state: OfficeState, device: str | None, at: datetime) -> None:
    """Remember a device's issue times of the last hour (its rate limit reads them)."""
    if device is None:
        return
    recent = state.issued_by.setdefault(device, deque())
    recent.append(at)
    while recent and recent[0] <= at - _HOUR:
        recent.popleft()


def _ticket_called(state: OfficeState, config: OfficeConfig, ev: e.TicketCalled) -> None:
    ticket = state.tickets[ev.ticket_id]
    counter = state.counters[ev.counter]
    for absent in state.waiting.get(ticket.service, {}).values():
        # Remote tickets whose holder is not here yet: their turn has now passed.
        if not absent.arrived and absent.passed_at is None and absent.order < ticket.order:
            absent.passed_at = ev.at
    if ev.how == "next" and ticket.target_counter is None and ticket.slot_at is None:
        if ev.priority:
            counter.cycle_priority += 1
        else:
            counter.cycle_regular += 1
        rules = config.rules
        if counter.cycle_priority >= rules.ratio_priority and counter.cycle_regular >= rules.ratio_regular:
            counter.cycle_priority = counter.cycle_regular = 0
    _leave_queue(state, ticket)
    ticket.status = SERVING if ticket.status == SERVING else CALLED
    ticket.counter = counter.id
    ticket.staff = ev.staff
    ticket.target_counter = None
    ticket.call_count = ticket.call_count + 1 if ev.recall else 1
    ticket.arrived = True  # called directly by the official: they are here
    ticket.called_at = ev.at
    if ticket.first_called_at is None:
        ticket.first_called_at = ev.at
    counter.current = ticket.id
    counter.updated_at = ev.at
    state.recent_calls.appendleft(RecentCall(ticket.id, counter.id, ev.at, ev.recall))


def _service_started(state: OfficeState, config: OfficeConfig, ev: e.ServiceStarted) -> None:
    ticket = state.tickets[ev.ticket_id]
    ticket.status = SERVING
    ticket.started_at = ev.at


def _finished(state: OfficeState, config: OfficeConfig, ev: e.TicketFinished) -> None:
    ticket = state.tickets[ev.ticket_id]
    if ticket.started_at is None:
        ticket.started_at = ticket.called_at  # no explicit start: service began at the (last) call
    ticket.status = FINISHED
    ticket.finished_at = ev.at
    ticket.staff = ev.staff
    _free_counter(state, ticket, ev.at)
    ticket.counter = ev.counter  # kept for reports and for the vote bound to this counter
    started = ticket.started_at or ev.at
    seconds = max(0.0, (ev.at - started).total_seconds())
    window = state.durations.setdefault(ticket.service, deque(maxlen=config.rules.estimate_window))
    window.append(seconds)
    counter = state.counters.get(ev.counter)
    if counter is not None:
        counter.last_finished = ticket.id
        counter.served_today += 1
        counter.service_seconds_today += seconds


def _skipped(state: OfficeState, config: OfficeConfig, ev: e.TicketSkipped) -> None:
    ticket = state.tickets[ev.ticket_id]
    _free_counter(state, ticket, ev.at)
    ticket.status = NO_SHOW


def _requeued(state: OfficeState, config: OfficeConfig, ev: e.TicketRequeued) -> None:
    ticket = state.tickets[ev.ticket_id]
    ticket.order = ev.order
    ticket.call_count = 0
    state.next_order = max(state.next_order, ev.order + 1)
    _join_queue(state, ticket)


def _transferred(state: OfficeState, config: OfficeConfig, ev: e.TicketTransferred) -> None:
    ticket = state.tickets[ev.ticket_id]
    _free_counter(state, ticket, ev.at)
    ticket.service = ev.to_service
    ticket.target_counter = ev.to_counter
    ticket.transfers += 1
    ticket.call_count = 0
    ticket.started_at = None
    _join_queue(state, ticket)


def _counter_event(state: OfficeState, config: OfficeConfig, ev: Any) -> None:
    counter = state.counters[ev.counter]
    counter.updated_at = ev.at
    if isinstance(ev, e.CounterSignedIn):
        counter.staff, counter.open = ev.staff, True
    elif isinstance(ev, e.CounterSignedOut | e.CounterClosed):
        counter.open, counter.paused, counter.paused_reason, counter.staff = False, False, None, None
        counter.cycle_priority = counter.cycle_regular = 0
    elif isinstance(ev, e.CounterPaused):
        counter.paused, counter.paused_reason = True, ev.reason
    elif isinstance(ev, e.CounterResumed):
        counter.paused, counter.paused_reason = False, None


def _service_opened(state: OfficeState, config: OfficeConfig, ev: e.ServiceOpened) -> None:
    state.closed_services.discard(ev.service)
    state.closed_reasons.pop(ev.service, None)


def _service_closed(state: OfficeState, config: OfficeConfig, ev: e.ServiceClosed) -> None:
    state.closed_services.add(ev.service)
    if ev.reason:
        state.closed_reasons[ev.service] = ev.reason
    else:
        state.closed_reasons.pop(ev.service, None)


def _arrived(state: OfficeState, config: OfficeConfig, ev: e.TicketArrived) -> None:
    ticket = state.tickets[ev.ticket_id]
    ticket.arrived = True
    if ev.order != ticket.order:
        state.dequeue(ticket)
        ticket.order = ev.order
        state.next_order = max(state.next_order, ev.order + 1)
        state.enqueue(ticket)


def _notice_changed(state: OfficeState, config: OfficeConfig, ev: e.NoticeChanged) -> None:
    state.notice = ev.text


def _voted(state: OfficeState, config: OfficeConfig, ev: e.VoteSubmitted) -> None:
    state.tickets[ev.ticket_id].voted = True


def _device_reported(state: OfficeState, config: OfficeConfig, ev: e.DeviceStatusReported) -> None:
    state.devices[(ev.device, ev.component)] = DeviceReport(ev.device, ev.component, ev.state, ev.detail, ev.at)


def _nothing(state: OfficeState, config: OfficeConfig, ev: e.Event) -> None:
    """Events kept for the audit trail only (a reprint changes no state)."""


_APPLIERS: dict[type, Any] = {
    e.BusinessDayStarted: _day_started, e.TicketExpired: _expired, e.TicketIssued: _issued,
    e.TicketCalled: _ticket_called, e.ServiceStarted: _service_started, e.TicketFinished: _finished,
    e.TicketSkipped: _skipped, e.TicketRequeued: _requeued, e.TicketTransferred: _transferred,
    e.TicketReprinted: _nothing, e.CounterSignedIn: _counter_event, e.CounterSignedOut: _counter_event,
    e.CounterPaused: _counter_event, e.CounterResumed: _counter_event, e.CounterClosed: _counter_event,
    e.ServiceOpened: _service_opened, e.ServiceClosed: _service_closed, e.VoteSubmitted: _voted,
    e.DeviceStatusReported: _device_reported, e.NoticeChanged: _notice_changed,
    e.OfficeReconfigured: apply_reconfigured, e.TicketArrived: _arrived,
    **dict.fromkeys(e.AUDIT_EVENTS, _nothing),
}


# --- estimates ----------------------------------------------------------------


def average_service_seconds(state: OfficeState, config: OfficeConfig, service: str) -> float:
    """Mean of the last N service times of this service, or the configured default."""
    recent = state.durations.get(service)
    if recent:
        return sum(recent) / len(recent)
    return config.rules.default_service_minutes * 60


def serving_capacity(state: OfficeState, config: OfficeConfig, service: str) -> int:
    """Open, unpaused counters that take regular tickets of this service."""
    return sum(
        1
        for spec in config.counters_serving(service)
        if not spec.priority_only and state.counters[spec.id].open and not state.counters[spec.id].paused
    )


def estimated_wait_seconds(state: OfficeState, config: OfficeConfig, service: str, ahead: int | None = None) -> int | None:
    """Expected wait for someone with `ahead` people before them (default: a newcomer).

    wait = ceil(ahead / open counters) x mean recent service time. None when no counter
    serving the service is open: nobody can promise a time then.
    """
    capacity = serving_capacity(state, config, service)
    if capacity == 0:
        return None
    if ahead is None:
        ahead = state.waiting_count(service)
    return int(math.ceil(ahead / capacity) * average_service_seconds(state, config, service))


def position(state: OfficeState, ticket: Ticket) -> int:
    """How many tickets of the same service wait before this one (for a priority ticket: priority ones)."""
    if ticket.order >= state.next_order - 1:  # the newest ticket, e.g. just issued: O(1)
        if ticket.priority:
            return state.waiting_priority.get(ticket.service, 0) - 1
        return state.waiting_count(ticket.service) - 1
    return sum(
        1
        for t in state.waiting.get(ticket.service, {}).values()
        if t.order < ticket.order and (t.priority or not ticket.priority)
    )


def place_in_line(state: OfficeState, ticket: Ticket, now: datetime, line: dict[str, int] | None = None) -> int | None:
    """People called before this waiting ticket, as far as anyone can tell now (what every device shows).

    A booking whose slot has come is behind the due bookings with an earlier slot only (pick_next
    calls those first); one whose slot has not come has no place yet (None). Any other ticket: its
    `position` (`line`: the positions of its service from `positions`, when many are asked at once)."""
    if ticket.status != WAITING:
        return None
    if ticket.slot_at is not None:
        if ticket.slot_at > now:
            return None
        return sum(1 for t in state.waiting.get(ticket.service, {}).values()
                   if t.slot_at is not None and t.slot_at <= now and (t.slot_at, t.order) < (ticket.slot_at, ticket.order))
    return line[ticket.id] if line is not None and ticket.id in line else position(state, ticket)


def positions(state: OfficeState, service: str) -> dict[str, int]:
    """`position` of every waiting ticket of a service at once (ticket id -> tickets before it), in one
    pass over the line sorted by queue order: what a page following many tickets needs."""
    out: dict[str, int] = {}
    before_priority = 0
    for before, t in enumerate(sorted(state.waiting.get(service, {}).values(), key=lambda t: t.order)):
        out[t.id] = before_priority if t.priority else before
        before_priority += t.priority
    return out
