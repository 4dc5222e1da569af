"""The office service: turns a batch of MQTT requests into engine commands, commits, answers.

Order of work for a batch (the first two promises of ARCHITECTURE.md):
1. validate each request, authorise it by the acting device's role, answer re-sent ids
   from memory (the batch, recent refusals) or the store, decide and apply each command;
2. commit the whole batch in one SQLite transaction (events, rows, replies);
3. only then build the outbound messages: replies, call events, retained state.

Memory and disk never disagree (promise 10). `handle_batch` is where that holds for ANY
exception, not only the ones we thought of. A batch runs in two phases:
- up to and including the commit: if anything raises, nothing of the batch is on disk, the
  in-memory state (and the refusals decided against it) is thrown away and rebuilt from the
  store, and the batch is handled again one request at a time, each in its own transaction.
  A request that was committed is then answered from the store (its reply is kept with its
  id); the one that raises again gets `internal_error`, which is not kept, so its re-send is
  handled as new, once;
- after the commit (forgetting old ids, extensions, call events, retained state): every step
  is guarded, and a failure there costs a publication, never the committed answers.
If the store cannot even be read back, memory is not trusted: every request is answered
`internal_error` (and nothing decided) until a rebuild succeeds. Every request gets exactly
one answer, and `ok` only once it is durable.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from motcua import i18n
from motcua import protocol as p
from motcua.clock import Clock
from queue_server import metrics
from queue_server.config import GENERAL_PRIORITY, Device, OfficeConfig
from queue_server.config import parse as parse_config
from queue_server.engine import Rejected, apply_all, decide, roll_day
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.state import OfficeState, RecentCall
from queue_server.staff.store import StaffStore
from queue_server.store import Pending, Store, write_transaction
from queue_server.views import (
    call_view,
    clock_view,
    counter_view,
    device_view,
    office_view,
    queue_view,
    recent_calls_view,
    ticket_view,
)

log = logging.getLogger(__name__)
_LEADING_ID = re.compile(rb'\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_.:-]{1,64})"')
PRESENCE_VALUES = (p.ONLINE, p.OFFLINE)


@dataclass(frozen=True)
class Outbound:
    topic: str
    payload: dict[str, Any] | str
    retain: bool = False
    qos: int = 1
    request: int | None = None  # the index in its batch of the request this replies to

    def encoded(self) -> bytes:
        return self.payload.encode() if isinstance(self.payload, str) else p.dumps(self.payload)


def new_token() -> str:
    """128 random bits, URL-safe: unguessable and unrelated to the ticket number."""
    return secrets.token_urlsafe(16)


def _device_id(device: str | Device) -> str:
    return device.id if isinstance(device, Device) else device


class RefusalMemory:
    """Recent refusals by (device, request id), in memory and bounded.

    A re-sent id gets its first answer, but refusals are not written to disk: they change
    nothing, and a stranger's thousand wrong guesses must not fill the disk (issue 14).
    After a restart a re-sent refused request is simply decided again.
    """

    def __init__(self, per_device: int = 256, total: int = 20_000) -> None:
        self.per_device, self.total = per_device, total
        self._items: OrderedDict[tuple[str, str], tuple[dict[str, Any], str]] = OrderedDict()
        self._counts: dict[str, int] = {}

    def get(self, device: str, rid: str) -> tuple[dict[str, Any], str] | None:
        return self._items.get((device, rid))

    def remember(self, device: str, rid: str, reply: dict[str, Any], digest: str) -> None:
        key = (device, rid)
        if key in self._items:
            return
        if self._counts.get(device, 0) >= self.per_device:
            self._drop(next(k for k in self._items if k[0] == device))
        if len(self._items) >= self.total:
            self._drop(next(iter(self._items)))
        self._items[key] = (reply, digest)
        self._counts[device] = self._counts.get(device, 0) + 1

    def _drop(self, key: tuple[str, str]) -> None:
        del self._items[key]
        self._counts[key[0]] -= 1

    def __len__(self) -> int:
        return len(self._items)


Builder = Callable[["Office", Device, Any, str | None], c.Command]

# One builder per op: request body (already validated by protocol.parse_request) -> command.
# The counter argument is the one `authorise` settled on for counter-bound ops.
_BUILDERS: dict[str, Builder] = {
    "ticket.issue": lambda o, d, b, k: c.IssueTicket(
        b.service, b.priority_group or (GENERAL_PRIORITY if b.priority else None), d.id, o.token(), o.token()
    ),
    "ticket.reprint": lambda o, d, b, k: c.ReprintTicket(b.number, d.id),
    "ticket.requeue": lambda o, d, b, k: c.RequeueTicket(b.number),
    "ticket.arrive": lambda o, d, b, k: c.ConfirmArrival(o.number_for(d, b)),
    "counter.sign_in": lambda o, d, b, k: c.SignIn(k, o.official(d, b.staff, k)),
    "counter.sign_out": lambda o, d, b, k: c.SignOut(k),
    "counter.next": lambda o, d, b, k: c.CallNext(k),
    "counter.call": lambda o, d, b, k: c.CallTicket(k, b.number),
    "counter.recall": lambda o, d, b, k: c.Recall(k),
    "counter.start": lambda o, d, b, k: c.StartService(k),
    "counter.skip": lambda o, d, b, k: c.SkipNoShow(k),
    "counter.finish": lambda o, d, b, k: c.Finish(k),
    "counter.transfer": lambda o, d, b, k: c.Transfer(k, b.to_service, b.to_counter, b.reason),
    "counter.pause": lambda o, d, b, k: c.Pause(k, b.reason),
    "counter.resume": lambda o, d, b, k: c.Resume(k),
    "counter.close": lambda o, d, b, k: c.CloseCounter(k),
    "service.open": lambda o, d, b, k: c.OpenService(b.service),
    "service.close": lambda o, d, b, k: c.CloseService(b.service, b.reason),
    "vote.submit": lambda o, d, b, k: c.SubmitVote(b.token, b.level, tuple(b.reasons)),
    "vote.counter": lambda o, d, b, k: c.VoteAtCounter(k, b.level, tuple(b.reasons)),
    "device.status": lambda o, d, b, k: c.ReportDeviceStatus(d.id, b.component, b.state, b.detail),
    "office.notice": lambda o, d, b, k: c.SetNotice(b.text),
    "office.configure": lambda o, d, b, k: c.Reconfigure(b.document, d.staff or d.id),  # the person, when a page asks
}
_COUNTER_BOUND_OPS = frozenset(op for op in p.OPS if op.startswith("counter.")) | {"vote.counter"}


class Extension(Protocol):
    """A feature that adds ops to the office and follows its commits (queue_server/appointments is one).

    `builders` turn its ops into engine commands (and may raise Rejected, reading the feature's own
    tables); `write` runs for every event inside the batch's transaction, so the feature's rows commit
    with the events or not at all; `committed` runs after the commit (it must be quick, and what it
    raises is logged, never undoes the batch); `reset` forgets what was staged for a batch that failed.
    """

    builders: Mapping[str, Builder]

    def write(self, conn: sqlite3.Connection, state: OfficeState, event: e.Event) -> None: ...

    def committed(self, office: Office, events: list[e.Event], now: datetime) -> None: ...

    def reset(self) -> None: ...


def authorise(device: Device, request: p.Request) -> str | None:
    """Check the op against the device's role; return the counter the op acts on, if any."""
    if request.op not in p.ROLE_OPS[device.role]:
        raise Rejected("not_authorized", device=device.id, op=request.op)
    if request.op not in _COUNTER_BOUND_OPS:
        return None
    counter = getattr(request.body, "counter", None)
    if device.role in p.BOUND_ROLES:
        if counter not in (None, device.counter):
            raise Rejected("not_authorized", device=device.id, op=request.op)
        return device.counter
    if counter is None:
        raise Rejected("bad_request", detail="'counter' is required for this device")
    return counter


class Office:
    """Engine + store + authorisation for one office. Not thread-safe: one worker calls it."""

    def __init__(self, config: OfficeConfig, store: Store, clock: Clock, token: Callable[[], str] = new_token,
                 extensions: Sequence[Extension] = ()) -> None:
        self.store = store
        self.extensions = list(extensions)
        self._builders = {op: b for ext in self.extensions for op, b in ext.builders.items()} | _BUILDERS
        self.config = store.current_config(config)  # the TOML file seeds a new office; later changes live in the store
        self.clock = clock
        self.token = token
        self.topics = p.Topics(config.id, config.topic_prefix)
        self.state = store.load_state(self.config)
        self.staff = StaffStore(store.db).migrate()  # counter.sign_in names an account (issue 16)
        self.presence: dict[str, str] = {}
        self.refusals = RefusalMemory()
        self._published_counters = set(self.state.counters)
        self.failures = 0  # batches that raised and were handled again one by one (see module docstring)
        self.stale = False  # memory could not be rebuilt from the store after a failure: act on nothing

    # --- entry points -----------------------------------------------------------

    def handle_batch(self, messages: Iterable[tuple[str | Device, bytes]]) -> list[Outbound]:
        """Handle (device, payload) requests as one transaction; return what to publish. Never raises.

        A device is its id (looked up in the configuration) or, for requests made inside the
        server (web pages), a Device the caller vouches for. Replies carry the index of the
        request they answer."""
        batch = list(messages)
        if self.stale and not self._resync():
            return self._all_failed(batch, 0)
        try:
            return self._handle_batch(batch)
        except Exception:
            log.exception("a batch of %d requests failed; rebuilding state from the store and retrying one by one", len(batch))
            self.failures += 1
            if not self._resync():
                return self._all_failed(batch, 0)
        out: list[Outbound] = []
        for index, message in enumerate(batch):
            try:
                out += [replace(o, request=index) if o.request is not None else o for o in self._handle_batch([message])]
            except Exception:
                log.exception("request from %s failed on its own; answered internal_error", _device_id(message[0]))
                out.append(replace(self._internal_error(*message), request=index))
                if not self._resync():
                    return out + self._all_failed(batch[index + 1:], index + 1)
        return out + (self._guarded(self.retained_state, "retained state") or [])

    def _all_failed(self, batch: list[tuple[str | Device, bytes]], first: int) -> list[Outbound]:
        """Memory could not be rebuilt from the store: decide nothing, answer every request internal_error."""
        return [replace(self._internal_error(*message), request=first + i) for i, message in enumerate(batch)]

    def _guarded(self, publish: Callable[[], list[Outbound] | None], what: str) -> list[Outbound] | None:
        """A step after the commit: its failure is logged (None), never turned into a wrong answer."""
        try:
            return publish() or []
        except Exception:
            log.exception("could not do the %s after a commit", what)
            self.failures += 1
            return None

    def tick(self) -> list[Outbound]:
        """Periodic work: close the business day at the reset time even if nobody asks; the clock."""
        now = self.clock.now()
        out = self.handle_batch([]) if roll_day(self.state, self.config, now) else []
        return [*out, self._clock(now)]

    def retained_state(self) -> list[Outbound]:
        """Everything retained, for a (re)connect: a broker may forget it on restart."""
        now = self.clock.now()
        out = [
            self._retained(self.topics.state_office, office_view(self.state, self.config)),
            self._retained(self.topics.state_queue, queue_view(self.state, self.config, now)),
            self._retained(self.topics.state_calls, recent_calls_view(self.state, self.config)),
            self._clock(now),
        ]
        out += [
            self._retained(self.topics.state_counter(cid), counter_view(self.state, self.config, counter))
            for cid, counter in self.state.counters.items()
        ]
        out += [
            self._retained(self.topics.state_device(device), device_view(self.state, self.config, device))
            for device in sorted({dev for dev, _ in self.state.devices})
        ]
        return out

    def note_presence(self, device: str, payload: bytes) -> bool:
        """Record a declared device's online/offline; returns whether anything changed.

        Only devices of the configuration get an entry: anyone may write `status/<id>`,
        and a stranger must not grow the table (issue 14)."""
        if device not in self.config.devices:
            return False
        text = payload.decode("utf-8", "replace").strip()[:20]
        value = text if text in PRESENCE_VALUES else "unknown"
        changed = self.presence.get(device) != value
        self.presence[device] = value
        return changed

    # --- one batch --------------------------------------------------------------

    def _handle_batch(self, batch: list[tuple[str | Device, bytes]]) -> list[Outbound]:
        now = self.clock.now()
        pending: list[Pending] = []
        answers: list[tuple[str, dict[str, Any]]] = []  # (device id, reply) in request order
        seen: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}  # this batch's answers by (device, id)
        refused: list[tuple[str, str, dict[str, Any], str]] = []  # remembered only once the batch stands
        rollover = roll_day(self.state, self.config, now)
        if rollover:
            apply_all(self.state, self.config, rollover)
            pending.append(Pending(rollover, None, None, None))
        try:
            for device, payload in batch:
                reply, item, refusal = self._handle_one(device, payload, now, seen)
                answers.append((_device_id(device), reply))
                if item is not None:
                    pending.append(item)
                if refusal is not None:
                    refused.append(refusal)
            if pending:
                with metrics.COMMIT_SECONDS.time():
                    self.store.commit(self.state, pending, now, side_effects=[ext.write for ext in self.extensions])
        finally:
            for ext in self.extensions:  # what a builder staged for a request the engine refused, or a failed commit
                ext.reset()
        # Durable from here on: nothing below may turn a committed answer into an error.
        for refusal in refused:
            self.refusals.remember(*refusal)
        out = [Outbound(self.topics.res(device), reply, request=i) for i, (device, reply) in enumerate(answers)]
        if not pending:
            return out
        events = [ev for item in pending for ev in item.events]
        if rollover:
            self._guarded(lambda: self.store.forget_old_requests(now), "forgetting of old request ids")  # months without a restart
        self._tell_extensions(events, now)
        published = self._guarded(lambda: self._publications(events, now), "publications")
        if published is None:  # a view failed: at least everything retained, which the pages and devices rebuild from
            published = self._guarded(self.retained_state, "retained state")
        return out + (published or [])

    def _tell_extensions(self, events: list[e.Event], now: datetime) -> None:
        for ext in self.extensions:
            try:
                ext.committed(self, events, now)
            except Exception:  # a feature's follow-up (a phone view, an SMS) must not undo a committed batch
                log.exception("%s failed after a commit", type(ext).__name__)

    def _resync(self) -> bool:
        """Trust the database, not memory: whatever was applied but not committed is gone. False, and
        `stale` set, when the store cannot be read back: then memory must not be acted on."""
        with contextlib.suppress(Exception):  # nothing to roll back, or the connection is gone: load_state will say
            self.store.db.conn.rollback()  # a transaction left open by a failed commit
        try:
            for ext in self.extensions:
                ext.reset()
            config = self.store.current_config(self.config)
            state = self.store.load_state(config)
            self.store.reset_sequence()
        except Exception:
            log.exception("cannot rebuild the office from the store: answering internal_error until it can")
            self.stale = True
            return False
        self.config, self.state, self.stale = config, state, False
        return True

    def _internal_error(self, device: str, payload: bytes) -> Outbound:
        try:
            rid = self._salvage_id(payload)
        except Exception:
            rid = None
        return Outbound(self.topics.res(device), self._error(rid, "internal_error"))

    # --- one request ----------------------------------------------------------------

    def _handle_one(
        self, who: str | Device, payload: bytes, now: datetime, seen: dict[tuple[str, str], tuple[dict[str, Any], str]]
    ) -> tuple[dict[str, Any], Pending | None, tuple[str, str, dict[str, Any], str] | None]:
        """The reply, what to commit, and a refusal to remember once the batch stands."""
        device = _device_id(who)
        try:
            request = p.parse_request(payload)
        except p.ProtocolError as err:
            log.warning("bad request from %s: %s %s", device, err.code, err.params)
            return self._error(self._salvage_id(payload), err.code, **err.params), None, None
        spec = who if isinstance(who, Device) else self.config.devices.get(device)
        if spec is None:
            log.warning("request from undeclared device %s", device)
            return self._error(request.id, "unknown_device", device=device), None, None
        digest = p.request_digest(request)
        earlier = seen.get((device, request.id)) or self.refusals.get(device, request.id) or self.store.find_reply(device, request.id)
        if earlier is not None:
            reply, asked = earlier
            if asked is not None and asked != digest:
                # Same id, different request: never the first reply (a pre-seeded id would make the
                # real press fail for 7 days), never act either. The device must choose a new id.
                log.warning("%s re-used request id %s for a different request", device, request.id)
                return self._error(request.id, "request_id_reused", request_id=request.id), None, None
            return reply, None, None
        try:
            counter = authorise(spec, request)
            self._check_person(spec, request.op, counter)
            command = self._builders[request.op](self, spec, request.body, counter)
            events = decide(self.state, self.config, command, now)
        except Rejected as refusal:
            log.info("%s %s refused: %s %s", device, request.op, refusal.code, refusal.params)
            reply = self._error(request.id, refusal.code, **refusal.params)
            seen[(device, request.id)] = (reply, digest)
            return reply, None, (device, request.id, reply, digest)
        apply_all(self.state, self.config, events)
        self._follow_configuration(events)
        reply = p.ok_reply(request.id, request.op, **self._result(request, command, events, now))
        seen[(device, request.id)] = (reply, digest)
        return reply, Pending(events, device, request.id, reply, digest), None

    def _follow_configuration(self, events: list[e.Event]) -> None:
        """After OfficeReconfigured the office runs on the new document (command-line overrides kept)."""
        changes = [ev for ev in events if isinstance(ev, e.OfficeReconfigured)]
        if changes:
            self.config = parse_config(changes[-1].document).with_overrides(**self.config.overrides)

    @staticmethod
    def _salvage_id(payload: bytes) -> str | None:
        """The id of a refused request, so the device can match the error to what it sent."""
        if len(payload) <= p.MAX_PAYLOAD_BYTES:
            try:
                return p.request_id_of(p.decode_json(payload))
            except p.ProtocolError:
                pass
        # Never parse an oversized or too deep payload; a device puts "id" first, so look only there.
        match = _LEADING_ID.match(payload[:200])
        return match.group(1).decode() if match else None

    def _error(self, rid: str | None, code: str, **params: Any) -> dict[str, Any]:
        def render(lang: str) -> str:
            # A refusal's `reason` is a code; its words come from the catalog of each language.
            extra = {"reason_text": i18n.text(f"reason.{params['reason']}", lang)} if "reason" in params else {}
            return i18n.error_text(code, lang, **params, **extra)

        metrics.request_error(code)
        return p.error_reply(rid, code, render("vi"), render("en"), params)

    def _result(self, request: p.Request, command: c.Command, events: list[e.Event], now: datetime) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # The ticket the request was about: the last one an event names (a "done, next" finish
        # of the previous ticket does not count), else the one the command names.
        subject = next(
            (ev.ticket_id for ev in reversed(events) if getattr(ev, "ticket_id", None) and not getattr(ev, "implicit", False)),
            None,
        ) or self._subject_of(command)
        if subject:
            # Tokens go only to the kiosk that prints the ticket for the citizen (issue 14):
            # a counter or a reprint never sees them, so nobody votes in the citizen's name.
            secret = isinstance(command, c.IssueTicket)
            result["ticket"] = ticket_view(self.state, self.config, self.state.tickets[subject], now, secrets=secret)
        finished = [ev for ev in events if isinstance(ev, e.TicketFinished) and ev.implicit]
        if finished:
            result["finished"] = self.state.tickets[finished[0].ticket_id].number
        counter_id = getattr(command, "counter", None)
        if counter_id in self.state.counters:
            result["counter"] = counter_view(self.state, self.config, self.state.counters[counter_id])
        return result

    def official(self, device: Device, staff: str, counter: str | None) -> str:
        """The account a `counter.sign_in` names, if it exists, is active and may serve at the
        counter: per-official reports count real people, not free text (issue 16). A page that
        acts for a signed-in person may sign in only that person."""
        staff = staff.strip().lower()  # ids are lowercase (queue_server/staff/model.py); a keypad may send "NV01"
        if device.staff is not None and staff != device.staff:
            raise Rejected("not_authorized", device=device.id, op="counter.sign_in")
        member = self.staff.get(staff)
        if member is None or not member.active:
            raise Rejected("unknown_staff", staff=staff)
        if counter is None or not member.may_serve(counter):
            name = self.config.counters[counter].name if counter in self.config.counters else counter
            raise Rejected("staff_not_allowed", staff=staff, counter=counter, counter_name=name)
        return member.id

    def _check_person(self, device: Device, op: str, counter: str | None) -> None:
        """A page acting for a person works only at the counter that person signed in at: when a
        colleague took the counter over, the old tab's buttons must not act in the colleague's name.
        An administrator's page (role admin) supervises every counter: it closes them at the end of the day."""
        if device.staff is None or device.role != "counter" or counter is None or op == "counter.sign_in":
            return
        held = self.state.counters.get(counter)
        if held is not None and held.staff != device.staff:
            name = self.config.counters[counter].name if counter in self.config.counters else counter
            raise Rejected("counter_taken", counter=counter, counter_name=name, staff=held.staff or "")

    def record(self, work: Callable[[Any, datetime], tuple[Any, list[e.Event]]], device: str | None = None) -> Any:
        """Run `work(db, now)` (a change to the staff tables, say) and commit the audit events it returns
        in the same transaction: the account and its line in the log are written together or not at all.
        Only audit events: they change no engine state, so memory and disk cannot disagree."""
        now = self.clock.now()
        try:
            with write_transaction(self.store.db):  # IMMEDIATE: work may read before it writes
                result, events = work(self.store.db, now)
                if not all(isinstance(ev, e.AUDIT_EVENTS) for ev in events):
                    raise TypeError("Office.record takes audit events only")
                if events:
                    self.store.commit(self.state, [Pending(events, device, None, None)], now)
        except BaseException:
            self.store.reset_sequence()  # the commit's sequence numbers were rolled back with it
            raise
        return result

    def number_for(self, device: Device, body: p.TicketArrive) -> str:
        """The ticket a `ticket.arrive` names: kiosks by the QR's public token (anyone can type a
        number), counters and admin by number too."""
        if body.public_token:
            found = self.state.ticket_by_public_token(body.public_token)
            if found is None:
                raise Rejected("unknown_ticket", number="")
            return found.number
        if body.number and device.role != "kiosk":
            return body.number
        raise Rejected("bad_request", detail="give the ticket's public_token" + ("" if device.role == "kiosk" else " or number"))

    def _subject_of(self, command: Any) -> str | None:
        number = getattr(command, "number", None)
        ticket = self.state.ticket_by_number(number) if number else None
        return ticket.id if ticket else None

    # --- what to publish after a commit ----------------------------------------------

    def _retained(self, topic: str, schema: p.Schema) -> Outbound:
        return Outbound(topic, schema.to_payload(), retain=True)

    def _clock(self, now: datetime) -> Outbound:
        return self._retained(self.topics.state_clock, clock_view(self.state, self.config, now))

    def _publications(self, events: list[e.Event], now: datetime) -> list[Outbound]:
        if not events:
            return []
        out: list[Outbound] = []
        counters: set[str] = set()
        devices: set[str] = set()
        office_changed = called = False
        removed: set[str] = set()
        for ev in events:
            if isinstance(ev, e.OfficeReconfigured):
                office_changed = True
                counters.update(self.state.counters)
                removed |= {cid for cid in self._published_counters if cid not in self.state.counters}
            if isinstance(ev, e.TicketCalled):
                call = RecentCall(ev.ticket_id, ev.counter, ev.at, ev.recall)
                out.append(Outbound(self.topics.event_call, call_view(self.state, self.config, call).to_payload()))
                called = True
            if isinstance(ev, e.DeviceStatusReported):
                devices.add(ev.device)
            if isinstance(ev, e.ServiceOpened | e.ServiceClosed | e.BusinessDayStarted | e.NoticeChanged):
                office_changed = True
            if isinstance(ev, e.BusinessDayStarted | e.TicketExpired):
                counters.update(self.state.counters)
            counter = getattr(ev, "counter", None)
            if counter in self.state.counters:
                counters.add(counter)
        if office_changed:
            out.append(self._retained(self.topics.state_office, office_view(self.state, self.config)))
        if called or any(isinstance(ev, e.BusinessDayStarted) for ev in events):
            out.append(self._retained(self.topics.state_calls, recent_calls_view(self.state, self.config)))
        if not all(isinstance(ev, e.DeviceStatusReported | e.TicketReprinted | e.NoticeChanged | e.VoteSubmitted) for ev in events):
            out.append(self._retained(self.topics.state_queue, queue_view(self.state, self.config, now)))
        out += [
            self._retained(self.topics.state_counter(cid), counter_view(self.state, self.config, self.state.counters[cid]))
            for cid in sorted(counters)
        ]
        out += [Outbound(self.topics.state_counter(cid), "", retain=True) for cid in sorted(removed)]  # clears it
        self._published_counters = set(self.state.counters)
        out += [self._retained(self.topics.state_device(d), device_view(self.state, self.config, d)) for d in sorted(devices)]
        return out
