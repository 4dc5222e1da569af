"""The server's payloads as the kiosk reads them: the one place that knows their keys.

Today the server publishes dicts (queue_server/views.py); the lead is moving them to typed
schemas in motcua/protocol.py. Each reader below takes the decoded dict and returns a small
kiosk value, so switching to the schemas changes this module only. Unknown keys are ignored and
missing ones get a harmless default: an older or newer server never crashes a kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    name_en: str = ""
    open: bool = True
    closed_reason: str | None = None
    waiting: int = 0
    wait_minutes: int | None = None


@dataclass(frozen=True)
class CounterSpec:
    id: str
    name: str
    services: tuple[str, ...] = ()
    priority_only: bool = False


@dataclass(frozen=True)
class Office:
    name: str = ""
    hours: str = ""
    services: tuple[Service, ...] = ()
    counters: tuple[CounterSpec, ...] = ()
    priority_groups: tuple[tuple[str, str], ...] = ()  # (code, name)
    vote_reasons: tuple[tuple[str, str, str], ...] = ()  # (code, name, name_en): the office's [[vote_reasons]]
    bookings: bool = False  # the office takes booked appointments: the home screen offers check-in

    def counters_for(self, service: str, priority: bool) -> list[CounterSpec]:
        """The counters that serve a field; priority-only counters only for a priority ticket."""
        return [c for c in self.counters if service in c.services and (priority or not c.priority_only)]


@dataclass(frozen=True)
class Finished:
    number: str
    finished_at: str
    voted: bool = False
    rate_until: str | None = None  # after this the server no longer applies vote.counter to it


@dataclass(frozen=True)
class CounterState:
    id: str
    name: str = ""
    status: str = "closed"
    serving: str | None = None          # the number being served (called or in service)
    serving_service: str | None = None
    last_finished: Finished | None = None


@dataclass(frozen=True)
class Ticket:
    number: str
    service: str
    service_name: str
    priority: bool = False
    priority_group_name: str | None = None
    ahead: int = 0
    wait_minutes: int | None = None
    issued_at: str | None = None
    office_name: str = ""
    public_token: str | None = None
    vote_token: str | None = None
    slot_at: str | None = None  # a booked ticket: called at this time (ISO, office time), not before
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def slot_time(self) -> str | None:
        """"09:30" for a booked ticket."""
        return self.slot_at[11:16] if self.slot_at and len(self.slot_at) >= 16 else None


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _int(value: Any, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def read_office(office: dict[str, Any], queue: dict[str, Any] | None = None) -> Office:
    """`state/office` merged with `state/queue` (waiting counts and estimates per field)."""
    per_service = (queue or {}).get("services") or {}
    services = []
    for s in office.get("services") or []:
        if not isinstance(s, dict) or not isinstance(s.get("code"), str):
            continue
        q = per_service.get(s["code"]) if isinstance(per_service.get(s["code"]), dict) else {}
        is_open = bool(s.get("open", True)) and bool(q.get("open", True))
        services.append(Service(
            code=s["code"], name=_text(s.get("name"), s["code"]), name_en=_text(s.get("name_en")),
            open=is_open, closed_reason=_text(s.get("closed_reason") or s.get("reason")) or None,
            waiting=_int(q.get("waiting"), 0) or 0, wait_minutes=_int(q.get("estimated_wait_minutes")),
        ))
    counters = tuple(
        CounterSpec(c["id"], _text(c.get("name"), c["id"]), tuple(c.get("services") or ()), bool(c.get("priority_only")))
        for c in office.get("counters") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)
    )
    groups = tuple(
        (g["code"], _text(g.get("name"), g["code"]))
        for g in office.get("priority_groups") or [] if isinstance(g, dict) and isinstance(g.get("code"), str)
    )
    reasons = tuple(
        (r["code"], _text(r.get("name"), r["code"]), _text(r.get("name_en")))
        for r in office.get("vote_reasons") or [] if isinstance(r, dict) and isinstance(r.get("code"), str)
    )
    return Office(_text(office.get("name")), _text(office.get("hours")), tuple(services), counters, groups, reasons,
                  bookings=bool(office.get("bookings")))


def read_counter(payload: dict[str, Any]) -> CounterState:
    """`state/counter/{id}`; `last_finished` is {number, finished_at, voted, rate_until} (protocol.FinishedTicket)."""
    last = payload.get("last_finished")
    finished = None
    if isinstance(last, dict) and isinstance(last.get("number"), str):
        finished = Finished(last["number"], _text(last.get("finished_at")), bool(last.get("voted")), _text(last.get("rate_until")) or None)
    return CounterState(
        id=_text(payload.get("counter")), name=_text(payload.get("name")), status=_text(payload.get("status"), "closed"),
        serving=payload.get("ticket") if isinstance(payload.get("ticket"), str) else None,
        serving_service=_text(payload.get("service_name")) or None, last_finished=finished,
    )


def read_ticket(reply: dict[str, Any]) -> Ticket:
    """The `ticket` of an ok `ticket.issue` or `booking.check_in` reply (with the tokens the issuing kiosk prints)."""
    t = reply["ticket"]
    return Ticket(
        number=str(t["number"]), service=_text(t.get("service")), service_name=_text(t.get("service_name")),
        priority=bool(t.get("priority")), priority_group_name=_text(t.get("priority_group_name")) or None,
        ahead=_int(t.get("ahead"), 0) or 0, wait_minutes=_int(t.get("estimated_wait_minutes")),
        issued_at=_text(t.get("issued_at")) or None, office_name=_text(t.get("office_name")),
        public_token=_text(t.get("public_token")) or None, vote_token=_text(t.get("vote_token")) or None,
        slot_at=_text(t.get("slot_at")) or None, raw=t,
    )


def error_of(reply: dict[str, Any]) -> tuple[str, dict[str, Any], str, str]:
    """(code, params, Vietnamese message, English message) of a refused request."""
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    params = error.get("params") if isinstance(error.get("params"), dict) else {}
    return _text(error.get("code"), "internal_error"), params, _text(error.get("message")), _text(error.get("message_en"))
