"""What the server publishes: replies, retained state and call events, built from engine state.

Every payload here is part of the MQTT contract (docs/mqtt-contract.md); displays
never ask the database, so everything a screen needs is in these messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua import i18n
from motcua.protocol import CONTRACT_VERSION
from motcua.speech import speakable, ticket_words
from queue_server.config import OfficeConfig
from queue_server.engine import estimated_wait_seconds, position
from queue_server.engine.events import TicketCalled
from queue_server.engine.state import WAITING, CounterState, OfficeState, Ticket


def local_iso(config: OfficeConfig, value: datetime | None) -> str | None:
    return value.astimezone(config.tz).isoformat(timespec="seconds") if value else None


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else (seconds + 59) // 60


def ticket_view(state: OfficeState, config: OfficeConfig, t: Ticket, secrets: bool = False) -> dict[str, Any]:
    """A ticket as a device sees it. Tokens go only to the device that asked (its res topic)."""
    service = config.services[t.service]
    view: dict[str, Any] = {
        "number": t.number,
        "service": t.service,
        "service_name": service.name,
        "priority": t.priority,
        "priority_group": t.priority_group,
        "priority_group_name": config.priority_groups.get(t.priority_group or ""),
        "status": t.status,
        "business_day": t.business_day,
        "issued_at": local_iso(config, t.issued_at),
        "counter": t.counter,
        "counter_name": config.counters[t.counter].name if t.counter in config.counters else None,
        "target_counter": t.target_counter,
        "calls": t.call_count,
        "office_name": config.name,
    }
    if t.status == WAITING:
        ahead = position(state, t)
        wait = estimated_wait_seconds(state, config, t.service, ahead=ahead)
        view.update(ahead=ahead, estimated_wait_seconds=wait, estimated_wait_minutes=_minutes(wait))
    if secrets:
        view.update(vote_token=t.vote_token, public_token=t.public_token)
    return view


def counter_view(state: OfficeState, config: OfficeConfig, counter: CounterState) -> dict[str, Any]:
    spec = config.counters[counter.id]
    ticket = state.tickets.get(counter.current or "")
    return {
        "counter": counter.id,
        "name": spec.name,
        "services": list(spec.services),
        "status": counter.status,
        "status_text": i18n.text(f"counter.{counter.status}"),
        "ticket": ticket.number if ticket else None,
        "ticket_status": ticket.status if ticket else None,
        "service": ticket.service if ticket else None,
        "service_name": config.services[ticket.service].name if ticket else None,
        "staff": counter.staff,
        "paused_reason": counter.paused_reason,
        "updated_at": local_iso(config, counter.updated_at),
    }


def queue_view(state: OfficeState, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    services = {}
    for code, spec in config.services.items():
        wait = estimated_wait_seconds(state, config, code)
        services[code] = {
            "name": spec.name,
            "open": code not in state.closed_services,
            "waiting": state.waiting_count(code),
            "waiting_priority": state.waiting_priority.get(code, 0),
            "estimated_wait_seconds": wait,
            "estimated_wait_minutes": _minutes(wait),
        }
    return {
        "business_day": state.business_day,
        "total_waiting": sum(s["waiting"] for s in services.values()),
        "services": services,
        "updated_at": local_iso(config, now),
    }


def office_view(state: OfficeState, config: OfficeConfig) -> dict[str, Any]:
    return {
        "contract_version": CONTRACT_VERSION,
        "office": config.id,
        "name": config.name,
        "business_day": state.business_day,
        "hours": config.hours_text(),
        "services": [
            {"code": s.code, "name": s.name, "name_en": s.name_en, "open": s.code not in state.closed_services}
            for s in config.services.values()
        ],
        "counters": [
            {"id": c.id, "name": c.name, "services": list(c.services), "priority_only": c.priority_only}
            for c in config.counters.values()
        ],
        "priority_groups": [{"code": k, "name": v} for k, v in config.priority_groups.items()],
    }


def device_view(state: OfficeState, config: OfficeConfig, device: str) -> dict[str, Any]:
    components = {
        report.component: {"state": report.state, "detail": report.detail, "at": local_iso(config, report.at)}
        for (dev, _), report in state.devices.items()
        if dev == device
    }
    return {"device": device, "components": components}


def call_view(state: OfficeState, config: OfficeConfig, event: TicketCalled) -> dict[str, Any]:
    """The call event: what displays show and what voices say (numbers already in words)."""
    ticket = state.tickets[event.ticket_id]
    counter_name = config.counters[event.counter].name
    key = "announce.recall" if event.recall else "announce.call"
    announce = i18n.text(key, "vi", number=ticket.number, counter_name=counter_name)
    spoken = i18n.text(key, "vi", number=ticket_words(ticket.number), counter_name=speakable(counter_name))
    return {
        "number": ticket.number,
        "service": ticket.service,
        "service_name": config.services[ticket.service].name,
        "counter": event.counter,
        "counter_name": counter_name,
        "recall": event.recall,
        "calls": ticket.call_count,
        "announce": announce,
        "announce_words": spoken,
        "announce_en": i18n.text(key, "en", number=ticket.number, counter_name=counter_name),
        "at": local_iso(config, event.at),
    }
