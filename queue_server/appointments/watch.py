"""The ticket on the phone: one view per followed ticket, computed on the server, pushed on the live stream.

A phone page (`/t/<public token>`) asks the worker to follow its ticket (`TicketWatch.follow`, through
`QueueServer.in_worker`); after every committed batch the worker recomputes the followed tickets'
views and hands those that changed to the live hub as the retained topic `ticket/<public token>`.
The hub gives such keyed topics only to a page that names them exactly (queue_server/live.py): a
page learns its own ticket and nothing about anyone else's, and the token (128 random bits, on the
paper ticket's QR) cannot be guessed from the number. Nothing of it goes to MQTT.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from motcua import protocol as p
from motcua.speech import counter_phrase
from queue_server.config import OfficeConfig
from queue_server.engine import estimated_wait_seconds, place_in_line
from queue_server.engine import events as e
from queue_server.engine.engine import positions
from queue_server.engine.state import WAITING, OfficeState, Ticket
from queue_server.live import TICKET_TOPIC
from queue_server.views import local_iso

MAX_FOLLOWED = 5000  # a day's tickets at most; each page follows one


@dataclass(frozen=True)
class PhoneTicket(p.Schema):
    """`ticket/<public token>` on the live stream: one ticket as its holder's phone shows it."""

    number: str
    service: str
    service_name: str
    office_name: str
    status: str
    business_day: str
    ahead: int | None = None  # people before it (a booking not yet due: None, it waits for its time)
    estimated_wait_minutes: int | None = None
    counter: str | None = None  # once called: where to go
    counter_name: str | None = None
    counter_phrase: str | None = None  # "quầy số 3", as sentences say it
    called_at: str | None = None
    calls: int = 0
    slot_at: str | None = None  # a booking: called at this time, not before
    due: bool = True  # false for a booking whose time has not come
    remote: bool = False
    arrived: bool = True  # a number taken from a phone waits for its holder to check in
    voted: bool = False
    # Which part of the phone page shows: absent (a phone's number not checked in yet), booked (before
    # its slot), waiting, called, serving, finished, no_show, expired. Derived here once, for page and JS.
    phase: str = "waiting"

    def to_payload(self) -> dict[str, object]:
        # Every field is plain JSON: no schema walk (the worker makes hundreds of these per call).
        return {name: getattr(self, name) for name in _PHONE_FIELDS}


_PHONE_FIELDS = tuple(f.name for f in fields(PhoneTicket))


def phone_view(state: OfficeState, config: OfficeConfig, ticket: Ticket, now: datetime, line: dict[str, int] | None = None) -> PhoneTicket:
    ahead = place_in_line(state, ticket, now, line)
    wait = estimated_wait_seconds(state, config, ticket.service, ahead=ahead) if ahead is not None else None
    spec = config.counters.get(ticket.counter or "")
    due = ticket.slot_at is None or ticket.slot_at <= now
    return PhoneTicket(
        number=ticket.number,
        service=ticket.service,
        service_name=config.services[ticket.service].name if ticket.service in config.services else ticket.service,
        office_name=config.name,
        status=ticket.status,
        business_day=ticket.business_day,
        ahead=ahead,
        estimated_wait_minutes=None if wait is None else (wait + 59) // 60,
        counter=ticket.counter if spec else None,
        counter_name=spec.name if spec else None,
        counter_phrase=counter_phrase(spec.id, spec.name, spec.spoken_name) if spec else None,
        called_at=local_iso(config, ticket.called_at),
        calls=ticket.call_count,
        slot_at=local_iso(config, ticket.slot_at),
        due=due,
        remote=ticket.remote,
        arrived=ticket.arrived,
        voted=ticket.voted,
        phase=("absent" if not ticket.arrived else "waiting" if due else "booked") if ticket.status == WAITING else ticket.status,
    )


@dataclass(frozen=True)
class _Retained:
    """What the hub takes (queue_server.live.OutboundLike): a retained payload, or b"" to remove it."""

    topic: str
    data: bytes
    retain: bool = True

    def encoded(self) -> bytes:
        return self.data


class TicketWatch:
    """Followed tickets and their last published view. Worker thread only."""

    def __init__(self, hub: object | None) -> None:
        self.hub = hub
        self._followed: dict[str, str] = {}  # public token -> ticket id
        self._published: dict[str, PhoneTicket] = {}

    def _topic(self, token: str) -> str:
        return f"{self.hub.base}/state/{TICKET_TOPIC}{token}"  # type: ignore[attr-defined]

    def follow(self, state: OfficeState, config: OfficeConfig, token: str, now: datetime) -> PhoneTicket | None:
        """Follow the ticket with this public token from now on; its view now, or None if no such ticket today."""
        ticket = state.ticket_by_public_token(token)
        if ticket is None:
            return None
        if token not in self._followed and len(self._followed) >= MAX_FOLLOWED:
            self.forget_all()  # cannot happen with a day's tickets; a bound all the same
        self._followed[token] = ticket.id
        view = phone_view(state, config, ticket, now)
        self._publish(token, view)
        return view

    @property
    def followed(self) -> int:
        return len(self._followed)

    def after_batch(self, state: OfficeState, config: OfficeConfig, events: list[e.Event], now: datetime) -> None:
        if any(isinstance(ev, e.BusinessDayStarted) for ev in events):
            self.forget_all()
            return
        lines: dict[str, dict[str, int]] = {}
        changed: list[_Retained] = []
        for token, tid in list(self._followed.items()):
            ticket = state.tickets.get(tid)
            if ticket is None:
                self._forget(token)
                continue
            if ticket.service not in lines:
                lines[ticket.service] = positions(state, ticket.service)
            item = self._changed(token, phone_view(state, config, ticket, now, lines[ticket.service]))
            if item is not None:
                changed.append(item)
        if changed and self.hub is not None:
            self.hub.publish(changed)  # type: ignore[attr-defined]

    def forget_all(self) -> None:
        for token in list(self._followed):
            self._forget(token)

    def _forget(self, token: str) -> None:
        self._followed.pop(token, None)
        if self._published.pop(token, None) is not None and self.hub is not None:
            self.hub.publish([_Retained(self._topic(token), b"")])  # type: ignore[attr-defined]

    def _changed(self, token: str, view: PhoneTicket) -> _Retained | None:
        """The hub item for a view the holder has not seen yet, else None."""
        if self._published.get(token) == view:
            return None
        self._published[token] = view
        return _Retained(self._topic(token), p.dumps(view.to_payload()))

    def _publish(self, token: str, view: PhoneTicket) -> None:
        item = self._changed(token, view)
        if item is not None and self.hub is not None:
            self.hub.publish([item])  # type: ignore[attr-defined]
