"""The MQTT contract, version 1.1: topics, operations, payload schemas and error codes.

This module is the single definition of the contract. The server, every device and
the (future) conformance kit import it; nothing else formats a topic string or
decides what a valid request looks like. Unknown payload keys are ignored so that
older devices keep working when fields are added.
"""

from __future__ import annotations

import hashlib
import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin

CONTRACT_VERSION = 1
CONTRACT_MINOR = 4  # 1.1: typed outbound schemas, state/calls, state/clock, counter figures, rating devices;
# 1.2: counter.sign_in names a staff account allowed at the counter; a transfer may give its reason;
# 1.3: booked appointments (booking.check_in), numbers taken from a phone (ticket.take_remote, role phone);
# 1.4: state/office says whether the office takes bookings (kiosks then offer check-in)
DEFAULT_PREFIX = "motcua"
MAX_PAYLOAD_BYTES = 64 * 1024
# Deeper JSON than any contract message needs makes json.loads recurse until RecursionError
# (issue 14: a 4 KB payload 1,000 levels deep once escaped the batch path). Every JSON the
# server parses, MQTT or HTTP, goes through decode_json and this bound.
MAX_JSON_DEPTH = 32
MAX_ID_LENGTH = 64
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SERVER_DEVICE_ID = "queue_server"
CLOCK_SECONDS = 15  # how often the server refreshes `state/clock`

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
    "office_holiday",
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
    "no_ticket_to_rate",
    "request_id_reused",
    "issue_rate_limited",
    "too_many_components",
    "invalid_config",
    "config_in_use",
    "unknown_vote_reason",
    "unknown_staff",
    "staff_not_allowed",
    "counter_taken",
    "unknown_booking",
    "booking_cancelled",
    "booking_used",
    "booking_not_today",
    "booking_too_early",
    "phone_queue_closed",
    "phone_queue_full",
    "phone_limit_reached",
    "internal_error",
)

# Literals: one definition each; the tuples are derived from them.
# "phone" is no device of the LAN: it is the server's own phone pages (queue_server/web/booking.py).
Role = Literal["kiosk", "counter", "rating", "display", "voice", "admin", "phone"]
DeviceState = Literal["ok", "paper_low", "no_paper", "cover_open", "offline", "unknown", "error"]
VoteLevel = Literal["very_satisfied", "satisfied", "unsatisfied"]
CounterStatus = Literal["idle", "serving", "paused", "closed"]
TicketStatus = Literal["waiting", "called", "serving", "finished", "no_show", "expired"]
ROLES: tuple[str, ...] = get_args(Role)
DEVICE_STATES: tuple[str, ...] = get_args(DeviceState)
VOTE_LEVELS: tuple[str, ...] = get_args(VoteLevel)
COUNTER_STATUSES: tuple[str, ...] = get_args(CounterStatus)
TICKET_STATUSES: tuple[str, ...] = get_args(TicketStatus)
BOUND_ROLES = frozenset({"counter", "rating"})  # roles bound to one counter by the office configuration
SERVER_ROLES = frozenset({"phone"})  # roles only the server's own pages act in; no configured device has them


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
    def state_calls(self) -> str:
        return f"{self.base}/state/calls"

    @property
    def state_clock(self) -> str:
        return f"{self.base}/state/clock"

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
class TicketArrive:
    """The holder of a ticket taken from a phone is here: by the QR's public token (kiosk) or number (counter)."""

    public_token: str | None = None
    number: str | None = None


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
    reason: str | None = None  # why (1.2): kept in the log for the office, never shown to citizens


@dataclass(frozen=True)
class CounterPause:
    reason: str
    counter: str | None = None


@dataclass(frozen=True)
class ServiceOnly:
    service: str


@dataclass(frozen=True)
class ServiceClose:
    service: str
    reason: str | None = None  # shown to citizens at the kiosk beside the closed field


@dataclass(frozen=True)
class VoteSubmit:
    token: str
    level: VoteLevel
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VoteAtCounter:
    """A rating device's vote for the ticket its counter finished last (no token needed)."""

    level: VoteLevel
    reasons: list[str] = field(default_factory=list)
    counter: str | None = None


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    component: str = field(default="printer", metadata={"max": 32})
    detail: str | None = None


@dataclass(frozen=True)
class OfficeConfigure:
    """Replace the running office configuration (the TOML file's content as a JSON object)."""

    document: dict[str, Any]


@dataclass(frozen=True)
class OfficeNotice:
    """The notice line TVs and LED boards show; no text (or null) clears it."""

    text: str | None = field(default=None, metadata={"max": 500})


@dataclass(frozen=True)
class BookingCheckIn:
    """A booked citizen is here: the code typed at the kiosk or read from the booking's QR
    (parse_booking_code). The reply carries the ticket, as `ticket.issue` does."""

    code: str = field(metadata={"max": 300})  # a scanned URL is longer than the code in it


@dataclass(frozen=True)
class TicketTakeRemote:
    """Today's number taken from a phone (role phone: the server's own page). `holder` is the keyed
    hash of the phone number the page was given, so the server counts numbers per phone."""

    service: str
    holder: str = field(metadata={"max": 64})


OPS: dict[str, type] = {
    "ticket.issue": TicketIssue,
    "ticket.reprint": TicketReprint,
    "ticket.requeue": TicketRequeue,
    "ticket.arrive": TicketArrive,
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
    "service.close": ServiceClose,
    "vote.submit": VoteSubmit,
    "vote.counter": VoteAtCounter,
    "device.status": DeviceStatus,
    "office.notice": OfficeNotice,
    "office.configure": OfficeConfigure,
    "booking.check_in": BookingCheckIn,
    "ticket.take_remote": TicketTakeRemote,
}

_COUNTER_OPS = frozenset(op for op in OPS if op.startswith("counter."))

# What each role may ask for. The server enforces this whatever the broker allows.
# Vote tokens reach only the kiosk that printed the ticket (its reply) and the citizen
# (the QR): a counter or an official can never vote in a citizen's name. Kiosks may not
# reprint (anyone can type a number); a kiosk whose print failed re-sends its request id.
ROLE_OPS: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"ticket.issue", "ticket.arrive", "booking.check_in", "vote.submit", "device.status"}),
    "counter": _COUNTER_OPS | {"ticket.requeue", "ticket.reprint", "ticket.arrive", "booking.check_in", "device.status"},
    "rating": frozenset({"vote.counter", "device.status"}),
    "display": frozenset({"device.status"}),
    "voice": frozenset({"device.status"}),
    "admin": frozenset(OPS),
    # The server's phone pages: take today's number, and vote with the token the ticket's link carries.
    "phone": frozenset({"ticket.take_remote", "vote.submit"}),
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
        values[f.name] = _check(f.name, hints[f.name], data[f.name], f.metadata.get("max", _MAX_TEXT))
    return cls(**values)


def request_digest(request: Request) -> str:
    """What a request asks, independent of key order and spacing: a re-sent id must carry
    the same digest, else it is a different request under a known id (request_id_reused)."""
    body = {f.name: getattr(request.body, f.name) for f in fields(request.body)}
    canonical = json.dumps({"op": request.op, **body}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _has_default(f: Any) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _check(name: str, tp: Any, value: Any, max_text: int = _MAX_TEXT) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return _check(name, inner, value, max_text)
    if origin is Literal:
        if value not in get_args(tp):
            allowed = ", ".join(get_args(tp))
            raise ProtocolError("bad_request", detail=f"'{name}' must be one of: {allowed}")
        return value
    if origin is list:
        if not isinstance(value, list) or len(value) > _MAX_LIST:
            raise ProtocolError("bad_request", detail=f"'{name}' must be a list of at most {_MAX_LIST} items")
        return [_check(name, get_args(tp)[0], v, max_text) for v in value]
    if origin is dict:  # a whole document (office.configure): bounded by the payload's size and depth
        if not isinstance(value, dict):
            raise ProtocolError("bad_request", detail=f"'{name}' must be a JSON object")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ProtocolError("bad_request", detail=f"'{name}' must be true or false")
        return value
    if tp is str:
        if not isinstance(value, str) or not value.strip() or len(value) > max_text:
            raise ProtocolError("bad_request", detail=f"'{name}' must be a text of 1-{max_text} characters")
        if not value.isprintable():
            raise ProtocolError("bad_request", detail=f"'{name}' contains control characters")
        return value.strip()
    raise TypeError(f"unsupported field type {tp!r}")  # a bug in this module, not bad input


# --- outbound payloads -----------------------------------------------------------
# Everything the server sends is one of these schemas. The server builds them
# (queue_server/views.py); devices read them with `from_payload`, which ignores keys it
# does not know, so a device written for 1.0 keeps working when 1.1 adds fields. Every
# field is always present in a payload (null when it has no value).


class Schema:
    """A typed outbound payload: `to_payload()` for the wire, `from_payload()` to read it."""

    def to_payload(self) -> dict[str, Any]:
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Any:
        if not isinstance(data, dict):
            raise ProtocolError("bad_request", detail=f"{cls.__name__} payload must be a JSON object")
        hints = typing.get_type_hints(cls)
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                values[f.name] = _decode(hints[f.name], data[f.name])
            elif not _has_default(f):
                raise ProtocolError("bad_request", detail=f"{cls.__name__}: missing field '{f.name}'")
        return cls(**values)


def _encode(value: Any) -> Any:
    if isinstance(value, Schema):
        return value.to_payload()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return _decode(inner, value)
    if isinstance(tp, type) and issubclass(tp, Schema):
        return tp.from_payload(value)
    if origin is list and isinstance(value, list):
        return [_decode(get_args(tp)[0], v) for v in value]
    if origin is dict and isinstance(value, dict):
        return {k: _decode(get_args(tp)[1], v) for k, v in value.items()}
    return value


def undeclared_fields(schema: type, payload: Any, path: str = "") -> list[str]:
    """Keys of a payload that its schema does not declare, as dotted paths (the contract test)."""
    if not isinstance(payload, dict):
        return []
    hints = typing.get_type_hints(schema)
    found = [f"{path}{key}" for key in payload if key not in hints]
    for name, tp in hints.items():
        if name in payload:
            found += _undeclared_in(tp, payload[name], f"{path}{name}.")
    return found


def _undeclared_in(tp: Any, value: Any, path: str) -> list[str]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _undeclared_in(inner[0], value, path) if value is not None else []
    if isinstance(tp, type) and issubclass(tp, Schema):
        return undeclared_fields(tp, value, path)
    if origin is list and isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _undeclared_in(get_args(tp)[0], v, f"{path}{i}.")]
    if origin is dict and isinstance(value, dict) and get_args(tp)[1] is not Any:
        return [f for k, v in value.items() for f in _undeclared_in(get_args(tp)[1], v, f"{path}{k}.")]
    return []


@dataclass(frozen=True)
class TicketView(Schema):
    """A ticket as a device sees it. Tokens only in the issuing kiosk's reply."""

    number: str
    service: str
    service_name: str
    status: TicketStatus
    business_day: str
    issued_at: str
    office_name: str
    priority: bool = False
    priority_group: str | None = None
    priority_group_name: str | None = None
    counter: str | None = None
    counter_name: str | None = None
    target_counter: str | None = None
    calls: int = 0
    ahead: int | None = None  # waiting tickets only
    estimated_wait_seconds: int | None = None
    estimated_wait_minutes: int | None = None
    serving_counter_names: list[str] = field(default_factory=list)  # where the citizen will be called
    vote_token: str | None = None
    public_token: str | None = None
    slot_at: str | None = None  # a booked ticket: called at this time, not before
    remote: bool = False  # taken from a phone
    arrived: bool = True  # a remote ticket is called only once its holder is here


@dataclass(frozen=True)
class ErrorBody(Schema):
    code: str
    message: str
    message_en: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterRef(Schema):
    id: str
    name: str


@dataclass(frozen=True)
class FinishedTicket(Schema):
    """The ticket a counter finished last: what its rating screen or button box votes for."""

    number: str
    service: str
    service_name: str
    finished_at: str
    voted: bool
    rate_until: str  # after this instant vote.counter no longer applies to it


@dataclass(frozen=True)
class CounterView(Schema):
    """`state/counter/{counter}` (retained)."""

    counter: str
    name: str
    spoken_name: str
    services: list[str]
    status: CounterStatus
    status_text: str
    ticket: str | None = None
    ticket_status: TicketStatus | None = None
    service: str | None = None
    service_name: str | None = None
    staff: str | None = None
    paused_reason: str | None = None
    updated_at: str | None = None
    called_at: str | None = None  # of the current ticket (its last call)
    started_at: str | None = None
    calls: int = 0
    served_today: int = 0
    mean_service_seconds: int | None = None
    last_finished: FinishedTicket | None = None


@dataclass(frozen=True)
class Reply(Schema):
    """The answer on `res/{device}` to a request, after the commit."""

    id: str | None
    ok: bool
    op: str | None = None
    ticket: TicketView | None = None
    counter: CounterView | None = None
    finished: str | None = None  # the number a "done, next" finished on the way
    error: ErrorBody | None = None


@dataclass(frozen=True)
class ServiceQueue(Schema):
    name: str
    open: bool
    waiting: int
    waiting_priority: int
    estimated_wait_seconds: int | None = None
    estimated_wait_minutes: int | None = None
    waiting_numbers: list[str] = field(default_factory=list)  # in calling order within each class, at most 50
    closed_reason: str | None = None


@dataclass(frozen=True)
class QueueState(Schema):
    """`state/queue` (retained)."""

    business_day: str | None
    total_waiting: int
    services: dict[str, ServiceQueue]
    updated_at: str


@dataclass(frozen=True)
class ServiceInfo(Schema):
    code: str
    name: str
    name_en: str
    open: bool
    closed_reason: str | None = None


@dataclass(frozen=True)
class CounterInfo(Schema):
    id: str
    name: str
    spoken_name: str  # what the loudspeaker says, if the office set it; empty: "quầy số N" (motcua.speech.counter_words)
    services: list[str]
    priority_only: bool = False


@dataclass(frozen=True)
class PriorityGroupInfo(Schema):
    code: str
    name: str


@dataclass(frozen=True)
class VoteReasonInfo(Schema):
    """A reason a citizen may give with a vote (the office's [[vote_reasons]]); votes carry the code."""

    code: str
    name: str
    name_en: str = ""


@dataclass(frozen=True)
class OfficeInfo(Schema):
    """`state/office` (retained)."""

    contract_version: int
    office: str
    name: str
    business_day: str | None
    hours: str
    services: list[ServiceInfo]
    counters: list[CounterInfo]
    priority_groups: list[PriorityGroupInfo]
    contract_minor: int = 0
    timezone: str = "Asia/Ho_Chi_Minh"
    notice: str | None = None
    vote_reasons: list[VoteReasonInfo] = field(default_factory=list)
    bookings: bool = False  # booked appointments are on: a kiosk offers "I have a booking" (booking.check_in)


@dataclass(frozen=True)
class ComponentState(Schema):
    state: DeviceState
    detail: str | None
    at: str


@dataclass(frozen=True)
class DeviceView(Schema):
    """`state/device/{device}` (retained)."""

    device: str
    components: dict[str, ComponentState]


@dataclass(frozen=True)
class CallEvent(Schema):
    """`event/call` (not retained): what displays show and voices say."""

    number: str
    service: str
    service_name: str
    counter: str
    counter_name: str
    recall: bool
    calls: int
    at: str
    announce: str
    announce_words: str  # numbers already in Vietnamese words (1.0 voices read this)
    announce_en: str
    spoken_counter_name: str = ""  # the counter in words, as said by the server's default voice
    priority: bool = False


@dataclass(frozen=True)
class RecentCalls(Schema):
    """`state/calls` (retained): the last calls of the day, newest first, so a reloaded TV shows them."""

    calls: list[CallEvent]
    business_day: str | None = None


@dataclass(frozen=True)
class ClockState(Schema):
    """`state/clock` (retained, refreshed every few seconds): the server's time for displays without one."""

    server_time: str
    business_day: str | None
    timezone: str


# The retained topic each schema is published on, for device makers and the contract page.
RETAINED_SCHEMAS: dict[str, type[Schema]] = {
    "state/office": OfficeInfo,
    "state/queue": QueueState,
    "state/counter/{counter}": CounterView,
    "state/device/{device}": DeviceView,
    "state/calls": RecentCalls,
    "state/clock": ClockState,
}
EVENT_SCHEMAS: dict[str, type[Schema]] = {"event/call": CallEvent}


def ok_reply(rid: str, op: str, **result: Any) -> dict[str, Any]:
    return Reply(id=rid, ok=True, op=op, **result).to_payload()


def error_reply(rid: str | None, code: str, message: str, message_en: str, params: dict[str, Any]) -> dict[str, Any]:
    return Reply(id=rid, ok=False, error=ErrorBody(code, message, message_en, params)).to_payload()


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


# --- what a booking's QR code carries ------------------------------------------------------
# The booking's page on the office network; the kiosk reads the code from it (or the citizen
# types the code, printed beside the QR as XXXX-XXXX). Codes use Crockford's base32 (no I, L,
# O, U), so a typed O is a zero and an I or L a one.

BOOKING_PATH = "/b/"
BOOKING_CODE_LENGTH = 8
BOOKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def booking_qr_url(base_url: str, code: str) -> str:
    """The text of a booking's QR code, e.g. http://10.0.0.2:8080/b/K7M2Q9XA."""
    return f"{base_url.rstrip('/')}{BOOKING_PATH}{code}"


def parse_booking_code(text: str) -> str | None:
    """The booking code in a scanned QR or a typed code (spaces, dashes, case ignored), or None."""
    text = text.strip()
    _, found, tail = text.rpartition(BOOKING_PATH)
    candidate = tail.split("?", 1)[0].split("#", 1)[0] if found else text
    code = re.sub(r"[\s-]", "", candidate).upper().translate(_TYPED)
    if len(code) == BOOKING_CODE_LENGTH and all(ch in BOOKING_ALPHABET for ch in code):
        return code
    return None


def format_booking_code(code: str) -> str:
    """A code as printed for people: K7M2-Q9XA."""
    return f"{code[:4]}-{code[4:]}"
