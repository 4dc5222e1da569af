"""The office service: turns a batch of MQTT requests into engine commands, commits, answers.

Order of work for a batch (the first two promises of ARCHITECTURE.md):
1. validate each request, check the acting device's role, answer re-sent ids from
   memory (the batch) or the store, decide and apply each command in turn;
2. commit the whole batch in one SQLite transaction (events, rows, replies);
3. only then build the outbound messages: replies, call events, retained state.
If the commit fails, the in-memory state is rebuilt from the store and every request
of the batch gets `internal_error` (nothing was acknowledged, so nothing is lost).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from motcua import i18n
from motcua import protocol as p
from motcua.clock import Clock
from queue_server import metrics
from queue_server.config import GENERAL_PRIORITY, OfficeConfig
from queue_server.engine import Rejected, apply_all, decide, roll_day
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.store import Pending, Store
from queue_server.views import call_view, counter_view, device_view, office_view, queue_view, ticket_view

log = logging.getLogger(__name__)
_LEADING_ID = re.compile(rb'\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_.:-]{1,64})"')


@dataclass(frozen=True)
class Outbound:
    topic: str
    payload: dict[str, Any] | str
    retain: bool = False
    qos: int = 1

    def encoded(self) -> bytes:
        return self.payload.encode() if isinstance(self.payload, str) else p.dumps(self.payload)


def new_token() -> str:
    """128 random bits, URL-safe: unguessable and unrelated to the ticket number."""
    return secrets.token_urlsafe(16)


class Office:
    """Engine + store + authorisation for one office. Not thread-safe: one worker calls it."""

    def __init__(self, config: OfficeConfig, store: Store, clock: Clock, token: Callable[[], str] = new_token) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.token = token
        self.topics = p.Topics(config.id, config.topic_prefix)
        self.state = store.load_state(config)
        self.presence: dict[str, str] = {}

    # --- entry points -----------------------------------------------------------

    def handle_batch(self, messages: Iterable[tuple[str, bytes]]) -> list[Outbound]:
        """Handle (device, payload) requests as one transaction; return what to publish."""
        now = self.clock.now()
        pending: list[Pending] = []
        answers: list[tuple[str, dict[str, Any], bool]] = []  # (device, reply, new in this batch)
        in_batch: dict[tuple[str, str], dict[str, Any]] = {}
        rollover = roll_day(self.state, self.config, now)
        if rollover:
            apply_all(self.state, self.config, rollover)
            pending.append(Pending(rollover, None, None, None))
        for device, payload in messages:
            reply, item = self._handle_one(device, payload, now, in_batch)
            answers.append((device, reply, item is not None))
            if item is not None:
                pending.append(item)
                if item.request_id:
                    in_batch[(device, item.request_id)] = reply
        if pending:
            try:
                with metrics.COMMIT_SECONDS.time():
                    self.store.commit(self.state, pending, now)
                if rollover:
                    self.store.forget_old_requests(now)  # a server may run for months without a restart
            except Exception:
                log.exception("commit failed; rebuilding state from the store")
                self.state = self.store.load_state(self.config)
                self.store.reset_sequence()
                return [
                    Outbound(self.topics.res(d), self._error(r.get("id"), "internal_error") if new else r)
                    for d, r, new in answers
                ]
        out = [Outbound(self.topics.res(device), reply) for device, reply, _ in answers]
        out += self._publications([ev for item in pending for ev in item.events], now)
        return out

    def tick(self) -> list[Outbound]:
        """Periodic work: close the business day at the reset time even if nobody asks."""
        return self.handle_batch([]) if roll_day(self.state, self.config, self.clock.now()) else []

    def retained_state(self) -> list[Outbound]:
        """Everything retained, for a (re)connect: the embedded broker forgets it on restart."""
        now = self.clock.now()
        out = [
            Outbound(self.topics.state_office, office_view(self.state, self.config), retain=True),
            Outbound(self.topics.state_queue, queue_view(self.state, self.config, now), retain=True),
        ]
        out += [
            Outbound(self.topics.state_counter(cid), counter_view(self.state, self.config, counter), retain=True)
            for cid, counter in self.state.counters.items()
        ]
        out += [
            Outbound(self.topics.state_device(device), device_view(self.state, self.config, device), retain=True)
            for device in sorted({dev for dev, _ in self.state.devices})
        ]
        return out

    def note_presence(self, device: str, payload: bytes) -> None:
        text = payload.decode("utf-8", "replace").strip()[:20]
        self.presence[device] = text if text in (p.ONLINE, p.OFFLINE) else "unknown"

    # --- one request ----------------------------------------------------------------

    def _handle_one(
        self, device: str, payload: bytes, now: datetime, in_batch: dict[tuple[str, str], dict[str, Any]]
    ) -> tuple[dict[str, Any], Pending | None]:
        try:
            request = p.parse_request(payload)
        except p.ProtocolError as err:
            rid = self._salvage_id(payload)
            log.warning("bad request from %s: %s %s", device, err.code, err.params)
            return self._error(rid, err.code, **err.params), None
        spec = self.config.devices.get(device)
        if spec is None:
            log.warning("request from undeclared device %s", device)
            return self._error(request.id, "unknown_device", device=device), None
        earlier = in_batch.get((device, request.id)) or self.store.find_reply(device, request.id)
        if earlier is not None:
            return earlier, None
        try:
            command = self._command(spec, request)
            events = decide(self.state, self.config, command, now)
        except Rejected as refusal:
            log.info("%s %s refused: %s %s", device, request.op, refusal.code, refusal.params)
            reply = self._error(request.id, refusal.code, **refusal.params)
            return reply, Pending([], device, request.id, reply)
        apply_all(self.state, self.config, events)
        reply = p.ok_reply(request.id, **self._result(request, command, events))
        return reply, Pending(events, device, request.id, reply)

    @staticmethod
    def _salvage_id(payload: bytes) -> str | None:
        """The id of a refused request, so the device can match the error to what it sent."""
        if len(payload) > p.MAX_PAYLOAD_BYTES:
            # Never parse an oversized payload; a device puts "id" first, so look only there.
            match = _LEADING_ID.match(payload[:200])
            return match.group(1).decode() if match else None
        try:
            return p.request_id_of(p.decode_json(payload))
        except p.ProtocolError:
            return None

    def _error(self, rid: str | None, code: str, **params: Any) -> dict[str, Any]:
        def render(lang: str) -> str:
            # A refusal's `reason` is a code; its words come from the catalog of each language.
            extra = {"reason_text": i18n.text(f"reason.{params['reason']}", lang)} if "reason" in params else {}
            return i18n.error_text(code, lang, **params, **extra)

        metrics.request_error(code)
        return p.error_reply(rid, code, render("vi"), render("en"), params)

    def _command(self, device: Any, request: p.Request) -> c.Command:
        """Authorise by the device's role and build the engine command."""
        if request.op not in p.ROLE_OPS[device.role]:
            raise Rejected("not_authorized", device=device.id, op=request.op)
        body = request.body
        counter = getattr(body, "counter", None)
        if request.op.startswith("counter."):
            if device.role == "counter":
                if counter not in (None, device.counter):
                    raise Rejected("not_authorized", device=device.id, op=request.op)
                counter = device.counter
            elif counter is None:
                raise Rejected("bad_request", detail="'counter' is required for this device")
        match request.op:
            case "ticket.issue":
                group = body.priority_group or (GENERAL_PRIORITY if body.priority else None)
                return c.IssueTicket(body.service, group, device.id, self.token(), self.token())
            case "ticket.reprint":
                return c.ReprintTicket(body.number, device.id)
            case "ticket.requeue":
                return c.RequeueTicket(body.number)
            case "counter.sign_in":
                return c.SignIn(counter, body.staff)
            case "counter.sign_out":
                return c.SignOut(counter)
            case "counter.next":
                return c.CallNext(counter)
            case "counter.call":
                return c.CallTicket(counter, body.number)
            case "counter.recall":
                return c.Recall(counter)
            case "counter.start":
                return c.StartService(counter)
            case "counter.skip":
                return c.SkipNoShow(counter)
            case "counter.finish":
                return c.Finish(counter)
            case "counter.transfer":
                return c.Transfer(counter, body.to_service, body.to_counter)
            case "counter.pause":
                return c.Pause(counter, body.reason)
            case "counter.resume":
                return c.Resume(counter)
            case "counter.close":
                return c.CloseCounter(counter)
            case "service.open":
                return c.OpenService(body.service)
            case "service.close":
                return c.CloseService(body.service)
            case "vote.submit":
                return c.SubmitVote(body.token, body.level, tuple(body.reasons))
            case "device.status":
                return c.ReportDeviceStatus(device.id, body.component, body.state, body.detail)
        raise Rejected("unknown_op", op=request.op)  # pragma: no cover - OPS and this match agree

    def _result(self, request: p.Request, command: c.Command, events: list[e.Event]) -> dict[str, Any]:
        result: dict[str, Any] = {"op": request.op}
        # The ticket the request was about: the last one an event names (a "done, next" finish
        # of the previous ticket does not count), else the one the command names.
        subject = next(
            (ev.ticket_id for ev in reversed(events) if getattr(ev, "ticket_id", None) and not getattr(ev, "implicit", False)),
            None,
        ) or self._subject_of(command)
        if subject:
            # The issuing kiosk and the serving counter may print or bind the tokens.
            result["ticket"] = ticket_view(self.state, self.config, self.state.tickets[subject], secrets=True)
        finished = [ev for ev in events if isinstance(ev, e.TicketFinished) and ev.implicit]
        if finished:
            result["finished"] = self.state.tickets[finished[0].ticket_id].number
        counter_id = getattr(command, "counter", None)
        if counter_id in self.state.counters:
            result["counter"] = counter_view(self.state, self.config, self.state.counters[counter_id])
        return result

    def _subject_of(self, command: Any) -> str | None:
        number = getattr(command, "number", None)
        ticket = self.state.ticket_by_number(number) if number else None
        return ticket.id if ticket else None

    # --- what to publish after a commit ----------------------------------------------

    def _publications(self, events: list[e.Event], now: datetime) -> list[Outbound]:
        if not events:
            return []
        out: list[Outbound] = []
        counters: set[str] = set()
        devices: set[str] = set()
        office_changed = False
        for ev in events:
            if isinstance(ev, e.TicketCalled):
                out.append(Outbound(self.topics.event_call, call_view(self.state, self.config, ev)))
            if isinstance(ev, e.DeviceStatusReported):
                devices.add(ev.device)
            if isinstance(ev, e.ServiceOpened | e.ServiceClosed | e.BusinessDayStarted):
                office_changed = True
            if isinstance(ev, e.BusinessDayStarted | e.TicketExpired):
                counters.update(self.state.counters)
            counter = getattr(ev, "counter", None)
            if counter in self.state.counters:
                counters.add(counter)
        if office_changed:
            out.append(Outbound(self.topics.state_office, office_view(self.state, self.config), retain=True))
        if not all(isinstance(ev, e.DeviceStatusReported | e.TicketReprinted) for ev in events):
            out.append(Outbound(self.topics.state_queue, queue_view(self.state, self.config, now), retain=True))
        out += [
            Outbound(self.topics.state_counter(cid), counter_view(self.state, self.config, self.state.counters[cid]), retain=True)
            for cid in sorted(counters)
        ]
        out += [
            Outbound(self.topics.state_device(d), device_view(self.state, self.config, d), retain=True)
            for d in sorted(devices)
        ]
        return out
