"""Events: what happened (past-tense names). The event log stores exactly these."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime


@dataclass(frozen=True, slots=True)
class BusinessDayStarted(Event):
    day: str
    previous_day: str | None


@dataclass(frozen=True, slots=True)
class TicketExpired(Event):
    ticket_id: str
    number: str


@dataclass(frozen=True, slots=True)
class TicketIssued(Event):
    ticket_id: str
    number: str
    service: str
    seq: int
    priority_group: str | None
    order: int
    vote_token: str
    public_token: str
    device: str
    slot_at: datetime | None = None
    booking: str | None = None
    remote: bool = False


@dataclass(frozen=True, slots=True)
class TicketArrived(Event):
    ticket_id: str
    order: int  # its old place, or the end of the line if its turn passed too long ago


@dataclass(frozen=True, slots=True)
class TicketCalled(Event):
    ticket_id: str
    number: str
    counter: str
    staff: str | None
    recall: bool = False
    how: str = "next"  # "next" (by the rule), "direct" (out of order), "recall"
    priority: bool = False


@dataclass(frozen=True, slots=True)
class ServiceStarted(Event):
    ticket_id: str
    counter: str
    staff: str | None


@dataclass(frozen=True, slots=True)
class TicketFinished(Event):
    ticket_id: str
    counter: str
    staff: str | None
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class TicketSkipped(Event):
    ticket_id: str
    counter: str
    staff: str | None


@dataclass(frozen=True, slots=True)
class TicketRequeued(Event):
    ticket_id: str
    order: int


@dataclass(frozen=True, slots=True)
class TicketTransferred(Event):
    ticket_id: str
    counter: str
    staff: str | None
    to_service: str
    to_counter: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TicketReprinted(Event):
    ticket_id: str
    device: str


@dataclass(frozen=True, slots=True)
class CounterSignedIn(Event):
    counter: str
    staff: str


@dataclass(frozen=True, slots=True)
class CounterSignedOut(Event):
    counter: str
    staff: str | None


@dataclass(frozen=True, slots=True)
class CounterPaused(Event):
    counter: str
    staff: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class CounterResumed(Event):
    counter: str
    staff: str | None


@dataclass(frozen=True, slots=True)
class CounterClosed(Event):
    counter: str
    staff: str | None
    reason: str = "closed"


@dataclass(frozen=True, slots=True)
class ServiceOpened(Event):
    service: str


@dataclass(frozen=True, slots=True)
class ServiceClosed(Event):
    service: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeChanged(Event):
    text: str | None


@dataclass(frozen=True, slots=True)
class OfficeReconfigured(Event):
    document: dict
    by: str | None = None


@dataclass(frozen=True, slots=True)
class VoteSubmitted(Event):
    ticket_id: str
    level: str
    reasons: tuple[str, ...]
    counter: str | None
    staff: str | None
    via: str = "token"  # "token": the citizen's QR at a kiosk; "counter": the counter's rating device


@dataclass(frozen=True, slots=True)
class DeviceStatusReported(Event):
    device: str
    component: str
    state: str
    detail: str | None


# --- the audit trail of people (issue 16): no state changes, the log is the record -------------
# Written by QueueServer.record with the account or session change they describe. Never a
# password, and never the text typed as a login unless it names an existing account (people
# type their password into the wrong field).


@dataclass(frozen=True, slots=True)
class StaffLoggedIn(Event):
    staff: str
    address: str | None


@dataclass(frozen=True, slots=True)
class StaffLoginFailed(Event):
    staff: str | None  # the account tried, if it exists
    address: str | None
    reason: str  # "bad_password", "unknown_account", "disabled", "no_password"


@dataclass(frozen=True, slots=True)
class StaffLoggedOut(Event):
    staff: str
    address: str | None


@dataclass(frozen=True, slots=True)
class StaffAccountChanged(Event):
    staff: str
    by: str  # the staff id who made the change, "setup" (first-start link) or "console" (motcua staff)
    change: str  # "created", "updated", "password", "disabled", "enabled"
    role: str
    counters: tuple[str, ...]
    active: bool
    fields: tuple[str, ...] = ()  # what an update changed (never a password)


AUDIT_EVENTS = (StaffLoggedIn, StaffLoginFailed, StaffLoggedOut, StaffAccountChanged)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        BusinessDayStarted, TicketExpired, TicketIssued, TicketCalled, ServiceStarted, TicketFinished,
        TicketSkipped, TicketRequeued, TicketTransferred, TicketReprinted, CounterSignedIn,
        CounterSignedOut, CounterPaused, CounterResumed, CounterClosed, ServiceOpened, ServiceClosed,
        VoteSubmitted, DeviceStatusReported, NoticeChanged, OfficeReconfigured, TicketArrived,
        *AUDIT_EVENTS,
    )
}


def to_record(event: Event) -> tuple[str, dict[str, Any]]:
    """(type name, JSON-ready fields) for the event log."""
    data = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[f.name] = value
    return type(event).__name__, data


def from_record(type_name: str, data: dict[str, Any]) -> Event:
    """Rebuild an event from the log (the inverse of to_record)."""
    cls = EVENT_TYPES[type_name]
    values = dict(data)
    for name in _DATETIME_FIELDS[cls]:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    for name in _TUPLE_FIELDS[cls]:
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    return cls(**values)


_DATETIME_FIELDS: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(name for name, tp in typing.get_type_hints(cls).items() if datetime in (tp, *typing.get_args(tp)))
    for cls in EVENT_TYPES.values()
}
_TUPLE_FIELDS: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(name for name, tp in typing.get_type_hints(cls).items() if typing.get_origin(tp) is tuple)
    for cls in EVENT_TYPES.values()
}
