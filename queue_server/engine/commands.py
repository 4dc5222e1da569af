"""Commands: what a device asks the engine to do (imperative names).

The shell builds them from validated requests. Anything non-deterministic (tokens)
is chosen by the shell and passed in, so the engine stays a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IssueTicket:
    service: str
    priority_group: str | None
    device: str
    vote_token: str
    public_token: str
    slot_at: datetime | None = None  # a booking checked in: called at its slot, ahead of walk-ins
    booking: str | None = None
    remote: bool = False  # from a phone: waits in line but is called only after ConfirmArrival


@dataclass(frozen=True, slots=True)
class ConfirmArrival:
    """A remote ticket's holder is here (scanned at the kiosk, or seen by the counter)."""

    number: str


@dataclass(frozen=True, slots=True)
class ReprintTicket:
    number: str
    device: str


@dataclass(frozen=True, slots=True)
class RequeueTicket:
    number: str


@dataclass(frozen=True, slots=True)
class SignIn:
    counter: str
    staff: str


@dataclass(frozen=True, slots=True)
class SignOut:
    counter: str


@dataclass(frozen=True, slots=True)
class CallNext:
    counter: str


@dataclass(frozen=True, slots=True)
class CallTicket:
    counter: str
    number: str


@dataclass(frozen=True, slots=True)
class Recall:
    counter: str


@dataclass(frozen=True, slots=True)
class StartService:
    counter: str


@dataclass(frozen=True, slots=True)
class SkipNoShow:
    counter: str


@dataclass(frozen=True, slots=True)
class Finish:
    counter: str


@dataclass(frozen=True, slots=True)
class Transfer:
    counter: str
    to_service: str | None = None
    to_counter: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    counter: str
    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    counter: str


@dataclass(frozen=True, slots=True)
class CloseCounter:
    counter: str


@dataclass(frozen=True, slots=True)
class OpenService:
    service: str


@dataclass(frozen=True, slots=True)
class CloseService:
    service: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitVote:
    token: str
    level: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class VoteAtCounter:
    counter: str
    level: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SetNotice:
    text: str | None


@dataclass(frozen=True, slots=True)
class Reconfigure:
    document: dict  # the whole office configuration, as the TOML file's table
    by: str  # who asked (device; the web pages add the staff member)


@dataclass(frozen=True, slots=True)
class ReportDeviceStatus:
    device: str
    component: str
    state: str
    detail: str | None = None


Command = (
    IssueTicket | ReprintTicket | RequeueTicket | SignIn | SignOut | CallNext | CallTicket | Recall
    | StartService | SkipNoShow | Finish | Transfer | Pause | Resume | CloseCounter | OpenService
    | CloseService | SubmitVote | VoteAtCounter | SetNotice | Reconfigure | ConfirmArrival | ReportDeviceStatus
)
