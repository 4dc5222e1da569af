"""The MQTT contract, version 1: topics, operations, payload schemas and error codes.

This module is the single definition of the contract. The server, every device and
the (future) conformance kit import it; nothing else formats a topic string or
decides what a valid request looks like. Unknown payload keys are ignored so that
older devices keep working when fields are added.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin

CONTRACT_VERSION = 1
DEFAULT_PREFIX = "motcua"
MAX_PAYLOAD_BYTES = 64 * 1024
# Deeper JSON than any contract message needs makes json.loads recurse until RecursionError
# (issue 14: a 4 KB payload 1,000 levels deep once escaped the batch path). Every JSON the
# server parses, MQTT or HTTP, goes through decode_json and this bound.
MAX_JSON_DEPTH = 32
MAX_ID_LENGTH = 64
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SERVER_DEVICE_ID = "queue_server"

ONLINE = "online"
OFFLINE = "offline"

# Stable error codes. The code is the contract; the text lives in motcua/i18n.
ERROR_CODES = (
    "bad_request",
    "payload_too_large",
    "unknown_op",
    "unknown_device",
    "not_authorized",
    "unknown_service",
    "unknown_counter",
    "unknown_ticket",
    "unknown_priority_group",
    "service_closed",
    "office_closed",
    "numbers_exhausted",
    "counter_closed",
    "counter_paused",
    "counter_busy",
    "counter_not_paused",
    "no_current_ticket",
    "no_ticket_waiting",
    "ticket_not_waiting",
    "ticket_not_no_show",
    "not_called_enough",
    "invalid_transfer",
    "unknown_vote_token",
    "vote_not_allowed",
    "already_voted",
    "unknown_vote_reason",
    "internal_error",
)

Role = Literal["kiosk", "counter", "display", "voice", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

DEVICE_STATES = ("ok", "paper_low", "no_paper", "cover_open", "offline", "unknown", "error")
VOTE_LEVELS = ("very_satisfied", "satisfied", "unsatisfied")
COUNTER_STATUSES = ("idle", "serving", "paused", "closed")


class ProtocolError(Exception):
    """A request that does not follow the contract; carries a stable error code."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Topics:
    """Every topic of one office. Only this class formats topic strings."""

    office: str
    prefix: str = DEFAULT_PREFIX

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.office}"

    def req(self, device: str) -> str:
        return f"{self.base}/req/{device}"

    def res(self, device: str) -> str:
        return f"{self.base}/res/{device}"

    @property
    def state_office(self) -> str:
        return f"{self.base}/state/office"

    @property
    def state_queue(self) -> str:
        return f"{self.base}/state/queue"

    def state_counter(self, counter: str) -> str:
        return f"{self.base}/state/counter/{counter}"

    @property
    def event_call(self) -> str:
        return f"{self.base}/event/call"

    def status(self, device: str) -> str:
        return f"{self.base}/status/{device}"

    def state_device(self, device: str) -> str:
        return f"{self.base}/state/device/{device}"

    @property
    def all_requests(self) -> str:
        return f"{self.base}/req/+"

    @property
    def all_status(self) -> str:
        return f"{self.base}/status/+"

    def device_of(self, topic: str, kind: str = "req") -> str | None:
        """The device id at the end of a req/status topic of this office, or None."""
        head = f"{self.base}/{kind}/"
        if not topic.startswith(head):
            return None
        device = topic[len(head):]
        return device if DEVICE_ID_RE.match(device) else None


# --- operations ---------------------------------------------------------------
# One dataclass per op. Field types drive validation (see parse_request); a field
# named "counter" is optional for a counter device (bound to one counter by the
# office configuration) and required for an admin device.


@dataclass(frozen=True)
class TicketIssue:
    service: str
    priority: bool = False
    priority_group: str | None = None


@dataclass(frozen=True)
class TicketReprint:
    number: str


@dataclass(frozen=True)
class TicketRequeue:
    number: str


@dataclass(frozen=True)
class CounterSignIn:
    staff: str
    counter: str | None = None


@dataclass(frozen=True)
class CounterOnly:
    counter: str | None = None


@dataclass(frozen=True)
class CounterCall:
    number: str
    counter: str | None = None


@dataclass(frozen=True)
class CounterTransfer:
    to_service: str | None = None
    to_counter: str | None = None
    counter: str | None = None


@dataclass(frozen=True)
class CounterPause:
    reason: str
    counter: str | None = None


@dataclass(frozen=True)
class ServiceOnly:
    service: str


@dataclass(frozen=True)
class VoteSubmit:
    token: str
    level: Literal["very_satisfied", "satisfied", "unsatisfied"]
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceStatus:
    state: Literal["ok", "paper_low", "no_paper", "cover_open", "offline", "unknown", "error"]
    component: str = "printer"
    detail: str | None = None


OPS: dict[str, type] = {
    "ticket.issue": TicketIssue,
    "ticket.reprint": TicketReprint,
    "ticket.requeue": TicketRequeue,
    "counter.sign_in": CounterSignIn,
    "counter.sign_out": CounterOnly,
    "counter.next": CounterOnly,
    "counter.call": CounterCall,
    "counter.recall": CounterOnly,
    "counter.start": CounterOnly,
    "counter.skip": CounterOnly,
    "counter.finish": CounterOnly,
    "counter.transfer": CounterTransfer,
    "counter.pause": CounterPause,
    "counter.resume": CounterOnly,
    "counter.close": CounterOnly,
    "service.open": ServiceOnly,
    "service.close": ServiceOnly,
    "vote.submit": VoteSubmit,
    "device.status": DeviceStatus,
}

_COUNTER_OPS = frozenset(op for op in OPS if op.startswith("counter."))

# What each role may ask for. The server enforces this whatever the broker allows.
ROLE_OPS: dict[str, frozenset[str]] = {
    # No reprint for kiosks: a reply carries the ticket's vote token, and anyone can type a
    # number. A kiosk whose print failed re-sends its request id and gets the same reply.
    "kiosk": frozenset({"ticket.issue", "vote.submit", "device.status"}),
    "counter": _COUNTER_OPS | {"ticket.requeue", "ticket.reprint", "vote.submit", "device.status"},
    "display": frozenset({"device.status"}),
    "voice": frozenset({"device.status"}),
    "admin": frozenset(OPS),
}

# Short-text limits keep a 64 KiB payload from becoming a 64 KiB database row.
_MAX_TEXT = 200
_MAX_LIST = 20


@dataclass(frozen=True)
class Request:
    id: str
    op: str
    body: Any


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit` (brackets in strings do not count)."""
    if text.count("[") + text.count("{") <= limit:  # C-speed shortcut for every ordinary message
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def decode_json_value(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode any JSON value within size and depth bounds, or raise ProtocolError."""
    if len(payload) > max_bytes:
        raise ProtocolError("payload_too_large", limit=max_bytes)
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        raise ProtocolError("bad_request", detail="payload is not UTF-8 JSON") from None
    if json_depth_exceeds(text, max_depth):
        raise ProtocolError("bad_request", detail=f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a backstop, the depth check comes first
        raise ProtocolError("bad_request", detail="payload is not UTF-8 JSON") from None


def decode_json(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """Decode a payload into a JSON object within size and depth bounds, or raise ProtocolError."""
    data = decode_json_value(payload, max_bytes, max_depth)
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", detail="payload must be a JSON object")
    return data


def request_id_of(data: dict[str, Any]) -> str | None:
    """The request id if it is usable as an idempotency key, else None."""
    rid = data.get("id")
    if isinstance(rid, str) and 0 < len(rid) <= MAX_ID_LENGTH and rid.isprintable():
        return rid
    return None


def parse_request(payload: bytes) -> Request:
    """Validate a request payload against the contract. Raises ProtocolError."""
    data = decode_json(payload)
    rid = request_id_of(data)
    if rid is None:
        raise ProtocolError("bad_request", detail=f"'id' must be a string of 1-{MAX_ID_LENGTH} characters")
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError("unknown_op", op=str(op)[:40])
    body = _build(OPS[op], data)
    if isinstance(body, TicketIssue) and body.priority_group and not body.priority:
        body = TicketIssue(service=body.service, priority=True, priority_group=body.priority_group)
    return Request(id=rid, op=op, body=body)


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data or data[f.name] is None:
            if _has_default(f):
                continue
            raise ProtocolError("bad_request", detail=f"missing field '{f.name}'")
        values[f.name] = _check(f.name, hints[f.name], data[f.name])
    return cls(**values)


def _has_default(f: Any) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _check(name: str, tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return _check(name, inner, value)
    if origin is Literal:
        if value not in get_args(tp):
            allowed = ", ".join(get_args(tp))
            raise ProtocolError("bad_request", detail=f"'{name}' must be one of: {allowed}")
        return value
    if origin is list:
        if not isinstance(value, list) or len(value) > _MAX_LIST:
            raise ProtocolError("bad_request", detail=f"'{name}' must be a list of at most {_MAX_LIST} items")
        return [_check(name, get_args(tp)[0], v) for v in value]
    if tp is bool:
        if not isinstance(value, bool):
            raise ProtocolError("bad_request", detail=f"'{name}' must be true or false")
        return value
    if tp is str:
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
            raise ProtocolError("bad_request", detail=f"'{name}' must be a text of 1-{_MAX_TEXT} characters")
        if not value.isprintable():
            raise ProtocolError("bad_request", detail=f"'{name}' contains control characters")
        return value.strip()
    raise TypeError(f"unsupported field type {tp!r}")  # a bug in this module, not bad input


def ok_reply(rid: str, **result: Any) -> dict[str, Any]:
    return {"id": rid, "ok": True, **result}


def error_reply(rid: str | None, code: str, message: str, message_en: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rid,
        "ok": False,
        "error": {"code": code, "message": message, "message_en": message_en, "params": params},
    }


def dumps(payload: dict[str, Any]) -> bytes:
    """The one JSON encoding used on the wire: UTF-8, no ASCII escapes, compact."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- what a ticket's QR code carries --------------------------------------------
# The phone page of the ticket (live position) and, after the fragment, the ticket's
# vote token. Browsers never send the fragment to the server, so the token stays on the
# paper and in the holder's phone; the entrance kiosk reads it from the scanned code to
# let the holder vote once. Never the number alone: the number is public, on every TV.

TICKET_PATH = "/t/"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def ticket_qr_url(base_url: str, public_token: str, vote_token: str) -> str:
    """The text of a ticket's QR code, e.g. http://10.0.0.2:8080/t/<public>#v=<vote>."""
    return f"{base_url.rstrip('/')}{TICKET_PATH}{public_token}#v={vote_token}"


def parse_ticket_qr(text: str) -> tuple[str, str | None] | None:
    """(public_token, vote_token or None) from a scanned ticket QR, or None if it is not one."""
    text = text.strip()
    head, _, fragment = text.partition("#")
    _, found, public = head.rpartition(TICKET_PATH)
    if not found or not _TOKEN_RE.match(public):
        return None
    vote = fragment[2:] if fragment.startswith("v=") else None
    return public, vote if vote and _TOKEN_RE.match(vote) else None
