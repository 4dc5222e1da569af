"""What the server publishes, built from engine state as the contract's schemas (motcua/protocol.py).

Displays never ask the database, so everything a screen needs is in these messages.
Each function returns a `protocol.Schema`; the office turns it into a payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua import i18n
from motcua import protocol as p
from motcua.speech import counter_phrase, counter_words, ticket_words
from queue_server.config import OfficeConfig
from queue_server.engine import estimated_wait_seconds, place_in_line
from queue_server.engine.engine import rate_until
from queue_server.engine.state import CounterState, OfficeState, RecentCall, Ticket

MAX_WAITING_NUMBERS = 50  # per service in state/queue: enough for a counter page, bounded for the payload


def local_iso(config: OfficeConfig, value: datetime | None) -> str | None:
    return value.astimezone(config.tz).isoformat(timespec="seconds") if value else None


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else (seconds + 59) // 60


def ticket_view(state: OfficeState, config: OfficeConfig, t: Ticket, now: datetime, secrets: bool = False) -> p.TicketView:
    """A ticket as a device sees it. Tokens only when `secrets` (the issuing kiosk's reply)."""
    service = config.services[t.service]
    ahead = place_in_line(state, t, now)  # None for a booking before its time: it is called at its slot
    wait = estimated_wait_seconds(state, config, t.service, ahead=ahead) if ahead is not None else None
    serving = [c.name for c in config.counters_serving(t.service) if t.priority or not c.priority_only]
    if t.target_counter in config.counters:
        serving = [config.counters[t.target_counter].name]
    return p.TicketView(
        number=t.number,
        service=t.service,
        service_name=service.name,
        status=t.status,  # type: ignore[arg-type]
        business_day=t.business_day,
        issued_at=local_iso(config, t.issued_at) or "",
        office_name=config.name,
        priority=t.priority,
        priority_group=t.priority_group,
        priority_group_name=config.priority_groups.get(t.priority_group or ""),
        counter=t.counter,
        counter_name=config.counters[t.counter].name if t.counter in config.counters else None,
        target_counter=t.target_counter,
        calls=t.call_count,
        ahead=ahead,
        estimated_wait_seconds=wait,
        estimated_wait_minutes=_minutes(wait),
        serving_counter_names=serving,
        vote_token=t.vote_token if secrets else None,
        public_token=t.public_token if secrets else None,
        slot_at=local_iso(config, t.slot_at),
        remote=t.remote,
        arrived=t.arrived,
    )


def counter_view(state: OfficeState, config: OfficeConfig, counter: CounterState) -> p.CounterView:
    spec = config.counters[counter.id]
    ticket = state.tickets.get(counter.current or "")
    finished = state.tickets.get(counter.last_finished or "")
    last = None
    if finished is not None and finished.finished_at is not None:
        last = p.FinishedTicket(
            number=finished.number,
            service=finished.service,
            service_name=config.services[finished.service].name,
            finished_at=local_iso(config, finished.finished_at) or "",
            voted=finished.voted,
            rate_until=local_iso(config, rate_until(config, finished)) or "",
        )
    served = counter.served_today
    return p.CounterView(
        counter=counter.id,
        name=spec.name,
        spoken_name=spec.spoken_name,
        services=list(spec.services),
        status=counter.status,  # type: ignore[arg-type]
        status_text=i18n.text(f"counter.{counter.status}"),
        ticket=ticket.number if ticket else None,
        ticket_status=ticket.status if ticket else None,  # type: ignore[arg-type]
        service=ticket.service if ticket else None,
        service_name=config.services[ticket.service].name if ticket else None,
        staff=counter.staff,
        paused_reason=counter.paused_reason,
        updated_at=local_iso(config, counter.updated_at),
        called_at=local_iso(config, ticket.called_at) if ticket else None,
        started_at=local_iso(config, ticket.started_at) if ticket else None,
        calls=ticket.call_count if ticket else 0,
        served_today=served,
        mean_service_seconds=round(counter.service_seconds_today / served) if served else None,
        last_finished=last,
    )


def queue_view(state: OfficeState, config: OfficeConfig, now: datetime) -> p.QueueState:
    services = {}
    for code, spec in config.services.items():
        wait = estimated_wait_seconds(state, config, code)
        waiting = sorted(state.waiting.get(code, {}).values(), key=lambda t: (not t.priority, t.order))
        services[code] = p.ServiceQueue(
            name=spec.name,
            open=code not in state.closed_services,
            waiting=state.waiting_count(code),
            waiting_priority=state.waiting_priority.get(code, 0),
            estimated_wait_seconds=wait,
            estimated_wait_minutes=_minutes(wait),
            waiting_numbers=[t.number for t in waiting[:MAX_WAITING_NUMBERS]],
            closed_reason=state.closed_reasons.get(code) if code in state.closed_services else None,
        )
    return p.QueueState(
        business_day=state.business_day,
        total_waiting=sum(s.waiting for s in services.values()),
        services=services,
        updated_at=local_iso(config, now) or "",
    )


def office_view(state: OfficeState, config: OfficeConfig) -> p.OfficeInfo:
    return p.OfficeInfo(
        contract_version=p.CONTRACT_VERSION,
        contract_minor=p.CONTRACT_MINOR,
        office=config.id,
        name=config.name,
        business_day=state.business_day,
        hours=config.hours_text(),
        timezone=config.timezone,
        notice=state.notice,
        services=[
            p.ServiceInfo(
                code=s.code, name=s.name, name_en=s.name_en, open=s.code not in state.closed_services,
                closed_reason=state.closed_reasons.get(s.code) if s.code in state.closed_services else None,
            )
            for s in config.services.values()
        ],
        counters=[
            p.CounterInfo(id=c.id, name=c.name, spoken_name=c.spoken_name, services=list(c.services), priority_only=c.priority_only)
            for c in config.counters.values()
        ],
        priority_groups=[p.PriorityGroupInfo(code=k, name=v) for k, v in config.priority_groups.items()],
        vote_reasons=[p.VoteReasonInfo(code=r.code, name=r.name, name_en=r.name_en) for r in config.vote_reasons.values()],
        bookings=any(config.appointments.offers(code) for code in config.services),
    )


def device_view(state: OfficeState, config: OfficeConfig, device: str) -> p.DeviceView:
    components = {
        report.component: p.ComponentState(state=report.state, detail=report.detail, at=local_iso(config, report.at) or "")  # type: ignore[arg-type]
        for (dev, _), report in state.devices.items()
        if dev == device
    }
    return p.DeviceView(device=device, components=components)


_CALL_VIEWS: dict[tuple[Any, ...], p.CallEvent] = {}  # state/calls re-sends the last calls after every call


def call_view(state: OfficeState, config: OfficeConfig, call: RecentCall) -> p.CallEvent:
    """The call event: what displays show and what voices say (numbers already in words)."""
    ticket = state.tickets[call.ticket_id]
    spec = config.counters[call.counter]
    # Everything the view reads: a recall (call_count) or a renamed counter or field makes a new entry.
    key = (call, ticket.number, ticket.service, ticket.call_count, ticket.priority, spec.name, spec.spoken_name,
           config.services[ticket.service].name, config.timezone)
    view = _CALL_VIEWS.get(key)
    if view is None:
        if len(_CALL_VIEWS) > 512:
            _CALL_VIEWS.clear()
        view = _CALL_VIEWS[key] = _call_view(ticket, config, call, spec)
    return view


def _call_view(ticket: Ticket, config: OfficeConfig, call: RecentCall, spec: Any) -> p.CallEvent:
    key = "announce.recall" if call.recall else "announce.call"
    announce = i18n.text(key, "vi", number=ticket.number, counter_name=counter_phrase(spec.id, spec.name, spec.spoken_name))
    spoken = i18n.text(key, "vi", number=ticket_words(ticket.number), counter_name=counter_words(spec.id, spec.name, spec.spoken_name))
    return p.CallEvent(
        number=ticket.number,
        service=ticket.service,
        service_name=config.services[ticket.service].name,
        counter=call.counter,
        counter_name=spec.name,
        spoken_counter_name=counter_words(spec.id, spec.name, spec.spoken_name),
        recall=call.recall,
        calls=ticket.call_count,
        priority=ticket.priority,
        announce=announce,
        announce_words=spoken,
        announce_en=i18n.text(key, "en", number=ticket.number, counter_name=spec.name),
        at=local_iso(config, call.at) or "",
    )


def recent_calls_view(state: OfficeState, config: OfficeConfig) -> p.RecentCalls:
    return p.RecentCalls(
        calls=[
            call_view(state, config, call)
            for call in state.recent_calls
            if call.ticket_id in state.tickets and call.counter in config.counters  # a counter removed since
        ],
        business_day=state.business_day,
    )


def clock_view(state: OfficeState, config: OfficeConfig, now: datetime) -> p.ClockState:
    return p.ClockState(server_time=local_iso(config, now) or "", business_day=state.business_day, timezone=config.timezone)
