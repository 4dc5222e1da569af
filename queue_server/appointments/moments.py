"""When a ticket's holder gets an SMS, and what it says. Pure: the desk sends what this returns.

Two moments, once each per ticket: `near` when at most `[notifications] near_places` people are
ahead (a booking: once its slot has come), `called` when a counter calls it (not on a recall).
The wording is the office's (`[notifications.templates]`), else the catalog's `notify.<kind>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from motcua import i18n
from motcua.speech import counter_phrase
from queue_server.config import OfficeConfig
from queue_server.engine import estimated_wait_seconds, place_in_line
from queue_server.engine import events as e
from queue_server.engine.state import WAITING, OfficeState


@dataclass
class Contact:
    """Where a ticket's SMS go, and which were sent (or handed to the gateway)."""

    ticket_id: str
    phone: str
    near_sent: bool = False
    called_sent: bool = False


@dataclass(frozen=True)
class Message:
    ticket_id: str
    kind: str  # "near" | "called"
    phone: str
    text: str


def render(config: OfficeConfig, kind: str, **values: Any) -> str:
    template = config.notifications.templates.get(kind) or i18n.catalog("vi")[f"notify.{kind}"]
    names = i18n.placeholders(template)
    return template.format(**{name: values.get(name, "") for name in names})


def due_messages(state: OfficeState, config: OfficeConfig, contacts: dict[str, Contact], events: list[e.Event],
                 now: datetime) -> list[Message]:
    """The messages this batch makes due (the caller marks them sent)."""
    called = {ev.ticket_id: ev for ev in events if isinstance(ev, e.TicketCalled) and not ev.recall}
    out: list[Message] = []
    for tid, contact in contacts.items():
        ticket = state.tickets.get(tid)
        if ticket is None:
            continue
        service = config.services[ticket.service].name if ticket.service in config.services else ticket.service
        common = {"number": ticket.number, "service": service, "office": config.name}
        if tid in called and not contact.called_sent:
            spec = config.counters.get(called[tid].counter)
            where = counter_phrase(spec.id, spec.name, spec.spoken_name) if spec else called[tid].counter
            out.append(Message(tid, "called", contact.phone, render(config, "called", counter=where, **common)))
        elif ticket.status == WAITING and not contact.near_sent and not contact.called_sent:
            ahead = place_in_line(state, ticket, now)
            if ahead is not None and ahead <= config.notifications.near_places:
                wait = estimated_wait_seconds(state, config, ticket.service, ahead=ahead)
                minutes = "" if wait is None else str((wait + 59) // 60)
                out.append(Message(tid, "near", contact.phone, render(config, "near", ahead=ahead, minutes=minutes, **common)))
    return out
