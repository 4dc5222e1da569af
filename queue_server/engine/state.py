"""The office's current state as the engine sees it: plain mutable data, no I/O."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

WAITING, CALLED, SERVING, FINISHED, NO_SHOW, EXPIRED = "waiting", "called", "serving", "finished", "no_show", "expired"
TICKET_STATUSES = (WAITING, CALLED, SERVING, FINISHED, NO_SHOW, EXPIRED)
AT_COUNTER = (CALLED, SERVING)


@dataclass(slots=True)
class Ticket:
    id: str
    business_day: str
    number: str
    service: str
    seq: int
    priority_group: str | None
    order: int  # queue position key: smaller is called first within a class
    issued_at: datetime
    vote_token: str
    public_token: str
    status: str = WAITING
    target_counter: str | None = None  # set when transferred to one counter
    counter: str | None = None  # the counter holding it while called/serving
    staff: str | None = None
    call_count: int = 0
    first_called_at: datetime | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    transfers: int = 0
    voted: bool = False
    device: str | None = None  # the device that issued it (per-kiosk issue limits)
    slot_at: datetime | None = None  # a booked ticket: never called before this instant
    booking: str | None = None  # the booking code it was checked in with
    remote: bool = False  # taken from a phone: called only once the citizen is here
    arrived: bool = True
    passed_at: datetime | None = None  # when its turn came while it was not here yet

    @property
    def priority(self) -> bool:
        return self.priority_group is not None


@dataclass(slots=True)
class CounterState:
    id: str
    open: bool = False
    paused: bool = False
    paused_reason: str | None = None
    staff: str | None = None
    current: str | None = None  # ticket id
    cycle_regular: int = 0
    cycle_priority: int = 0
    updated_at: datetime | None = None
    last_finished: str | None = None  # ticket id: what the counter's rating device votes for
    served_today: int = 0
    service_seconds_today: float = 0.0

    @property
    def status(self) -> str:
        if not self.open:
            return "closed"
        if self.paused:
            return "paused"
        return "serving" if self.current else "idle"


@dataclass(slots=True)
class DeviceReport:
    device: str
    component: str
    state: str
    detail: str | None
    at: datetime


RECENT_CALLS = 10  # calls kept for `state/calls`, so a reloaded TV shows the latest


@dataclass(frozen=True, slots=True)
class RecentCall:
    ticket_id: str
    counter: str
    at: datetime
    recall: bool


@dataclass
class OfficeState:
    business_day: str | None = None
    tickets: dict[str, Ticket] = field(default_factory=dict)  # this business day's tickets
    waiting: dict[str, dict[str, Ticket]] = field(default_factory=dict)  # service -> id -> ticket
    next_seq: dict[str, int] = field(default_factory=dict)  # service -> next number in its scheme
    next_order: int = 1
    counters: dict[str, CounterState] = field(default_factory=dict)
    closed_services: set[str] = field(default_factory=set)
    durations: dict[str, deque[float]] = field(default_factory=dict)  # service -> recent service seconds
    devices: dict[tuple[str, str], DeviceReport] = field(default_factory=dict)
    vote_tokens: dict[str, str] = field(default_factory=dict)  # token -> ticket id
    waiting_priority: dict[str, int] = field(default_factory=dict)  # service -> priority tickets waiting
    closed_reasons: dict[str, str] = field(default_factory=dict)  # service -> why it is closed, if said
    notice: str | None = None  # the notice line of TVs and LED boards
    issued_by: dict[str, deque[datetime]] = field(default_factory=dict)  # device -> issue times of the last hour
    recent_calls: deque[RecentCall] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))

    def enqueue(self, ticket: Ticket) -> None:
        queue = self.waiting.setdefault(ticket.service, {})
        if ticket.id not in queue:
            queue[ticket.id] = ticket
            if ticket.priority:
                self.waiting_priority[ticket.service] = self.waiting_priority.get(ticket.service, 0) + 1

    def dequeue(self, ticket: Ticket) -> None:
        if self.waiting.get(ticket.service, {}).pop(ticket.id, None) is not None and ticket.priority:
            self.waiting_priority[ticket.service] -= 1

    def ticket_by_number(self, number: str) -> Ticket | None:
        return self.tickets.get(ticket_id(self.business_day or "", number))

    def ticket_by_public_token(self, token: str) -> Ticket | None:
        """Today's ticket whose QR carries this token (compared in constant time: it is a secret)."""
        if not token or len(token) > 64:
            return None
        return next((t for t in self.tickets.values() if secrets.compare_digest(t.public_token, token)), None)

    def waiting_count(self, service: str) -> int:
        return len(self.waiting.get(service, ()))


def ticket_id(business_day: str, number: str) -> str:
    """Ticket ids are readable and unique: a number is unique within a business day."""
    return f"{business_day}/{number}"
