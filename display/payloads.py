"""What the waiting-room devices read from the contract, each payload parsed in ONE function.

Today's payloads are the dicts of queue_server/views.py (`call_view`, `counter_view`, `office_view`);
when motcua/protocol.py gets its typed schemas, only these functions change. Unknown keys are
ignored and missing optional ones get defaults, so an older or newer server keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from motcua import protocol as p


class PayloadError(ValueError):
    """A message the device cannot use (logged and skipped; the device keeps running)."""


@dataclass(frozen=True)
class Call:
    """One `event/call`: a ticket called (or recalled) to a counter."""

    number: str
    counter: str
    counter_name: str
    recall: bool = False
    calls: int = 1
    at: datetime | None = None
    service: str = ""
    service_name: str = ""
    announce_words: str = ""  # the server's own sentence, for devices that build none

    @property
    def key(self) -> tuple[str, str, int, str]:
        """Identity of one call: a QoS 1 duplicate has the same key, a recall has a new one."""
        return (self.number, self.counter, self.calls, self.at.isoformat() if self.at else "")


@dataclass(frozen=True)
class CounterShown:
    """One retained `state/counter/{id}`: what a counter shows now."""

    counter: str
    name: str
    status: str
    ticket: str | None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CounterName:
    id: str
    name: str
    spoken_name: str | None = None


@dataclass(frozen=True)
class OfficeInfo:
    """The parts of retained `state/office` the displays need."""

    name: str
    counters: dict[str, CounterName] = field(default_factory=dict)


def _text(data: dict, key: str, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if required:
        raise PayloadError(f"'{key}' missing or not a text")
    return ""


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else None  # a naive time cannot be compared with ours


def _decode(payload: bytes | str) -> dict:
    try:
        return p.decode_json(payload)
    except p.ProtocolError as exc:
        raise PayloadError(f"not a contract message ({exc.code})") from None


def parse_call(payload: bytes | str) -> Call:
    data = _decode(payload)
    calls = data.get("calls", 1)
    return Call(
        number=_text(data, "number"),
        counter=_text(data, "counter"),
        counter_name=_text(data, "counter_name", required=False) or _text(data, "counter"),
        recall=data.get("recall") is True,
        calls=calls if isinstance(calls, int) and not isinstance(calls, bool) else 1,
        at=_time(data.get("at")),
        service=_text(data, "service", required=False),
        service_name=_text(data, "service_name", required=False),
        announce_words=_text(data, "announce_words", required=False),
    )


def parse_counter_state(payload: bytes | str) -> CounterShown:
    data = _decode(payload)
    ticket = data.get("ticket")
    return CounterShown(
        counter=_text(data, "counter"),
        name=_text(data, "name", required=False) or _text(data, "counter"),
        status=_text(data, "status", required=False) or "closed",
        ticket=str(ticket) if isinstance(ticket, str | int) and not isinstance(ticket, bool) and str(ticket) else None,
        updated_at=_time(data.get("updated_at")),
    )


def parse_office(payload: bytes | str) -> OfficeInfo:
    data = _decode(payload)
    counters: dict[str, CounterName] = {}
    for item in data.get("counters") or []:
        if not isinstance(item, dict):
            continue
        try:
            cid = _text(item, "id")
        except PayloadError:
            continue
        spoken = item.get("spoken_name")  # added by the lead's schema work; absent from older servers
        counters[cid] = CounterName(cid, _text(item, "name", required=False) or cid,
                                    spoken.strip() if isinstance(spoken, str) and spoken.strip() else None)
    return OfficeInfo(name=_text(data, "name", required=False), counters=counters)
