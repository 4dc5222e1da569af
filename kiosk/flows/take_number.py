"""Take a number: choose the request id, keep it on disk, send, print only after `"ok": true`.

    flow = TakeNumber(link, PendingStore(dir), printer, settings)
    issued = flow.issue("HT", priority_group=None)     # blocking; call it off the UI thread
    issued = flow.check_in("K7M2Q9XA")                  # a booking's code: its ticket, called at its time
    if issued.ticket: shown = flow.print(issued)       # the number is on screen before this returns

Crash or timeout: the pending record keeps the request id, `resume()` (at start) or `issue()` again
(the "try again" button) re-sends that same id and the server answers with the same ticket.
A refusal is final for its id (the server remembers it), so the record is dropped and the next
touch gets a new id. A print failure still leaves the number on screen; the printer's state goes
to the server as `device.status`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk.adapters import Printer, PrinterError, render_ticket
from kiosk.flows.outcome import Problem, offline, refused
from kiosk.link import ServerLink
from kiosk.payloads import Ticket, read_ticket
from kiosk.pending import PendingIssue, PendingStore, new_request_id
from kiosk.settings import KioskSettings
from motcua import protocol as p
from motcua.client import RequestTimeout

log = logging.getLogger(__name__)

PRINTER_FAULTS = ("paper_low", "no_paper", "cover_open", "offline", "error")


@dataclass(frozen=True)
class Issued:
    ticket: Ticket | None = None
    problem: Problem | None = None
    request_id: str | None = None
    round_trip_ms: float | None = None  # the server's share of touch-to-number (bench/)

    @property
    def retryable(self) -> bool:
        """Unanswered: "try again" re-sends the same request id."""
        return self.problem is not None and self.problem.code == "offline"


@dataclass(frozen=True)
class Printed:
    ok: bool
    state: str = "ok"  # a motcua.protocol.DEVICE_STATES value


class PrinterReporter:
    """Sends the printer's state to the server when it changes (an unknown state is a state too)."""

    def __init__(self, link: ServerLink, timeout: float = 2.0) -> None:
        self.link = link
        self.timeout = timeout
        self.reported: str | None = None
        self.last_state = "unknown"
        self._lock = threading.Lock()

    def report(self, state: str, detail: str | None = None) -> bool:
        state = state if state in p.DEVICE_STATES else "unknown"
        with self._lock:
            self.last_state = state
            if state == self.reported:
                return True
            try:
                fields: dict[str, Any] = {"state": state, "component": "printer"}
                if detail:
                    fields["detail"] = detail[:200]
                reply = self.link.request("device.status", uuid.uuid4().hex, timeout=self.timeout, **fields)
            except RequestTimeout:
                log.info("printer state %s not reported yet: server unreachable", state)
                return False
            if reply.get("ok"):
                self.reported = state
            return bool(reply.get("ok"))

    def poll(self, printer: Printer) -> str:
        """Ask the printer and report; called every little while by the app."""
        try:
            state = printer.status()
        except PrinterError as exc:
            state = exc.state
        except Exception as exc:  # a backend's surprise is "unknown", not a crash
            log.warning("printer status failed: %s", exc)
            state = "unknown"
        self.report(state)
        return self.last_state


class TakeNumber:
    def __init__(self, link: ServerLink, store: PendingStore, printer: Printer, settings: KioskSettings,
                 reporter: PrinterReporter | None = None) -> None:
        self.link = link
        self.store = store
        self.printer = printer
        self.settings = settings
        self.reporter = reporter or PrinterReporter(link, settings.request_timeout)
        self._lock = threading.RLock()  # one ticket request at a time: a stuck button cannot stack them

    # --- issue ---------------------------------------------------------------------

    def prepare(self, service: str, priority_group: str | None, booking: str | None = None) -> PendingIssue:
        """The pending request for this choice: the one on disk if it is the same choice (unanswered, or
        answered and not yet printed: a stuck button gets the same ticket), else a new id."""
        with self._lock:
            return self._prepare(service, priority_group, booking)

    def _prepare(self, service: str, priority_group: str | None, booking: str | None = None) -> PendingIssue:
        pending = self.store.load()
        if pending and (pending.service, pending.priority_group, pending.booking) == (service, priority_group, booking):
            return pending
        pending = PendingIssue(new_request_id(self.settings.device), service, priority_group, booking=booking)
        self.store.save(pending, sync=False)  # in the file before it is sent: a crash after sending re-sends this id
        threading.Thread(target=self.store.sync, name="pending-fsync", daemon=True).start()  # alongside the request
        return pending

    def issue(self, service: str, priority_group: str | None = None) -> Issued:
        with self._lock:
            return self.send(self.prepare(service, priority_group))

    def check_in(self, code: str) -> Issued:
        """A booked citizen is here: the booking's code (protocol.parse_booking_code) becomes a ticket, called
        at the booking's time. The same care as a number: the id is on disk first, a re-send gets the same ticket."""
        with self._lock:
            return self.send(self.prepare("", None, booking=code))

    def send(self, pending: PendingIssue) -> Issued:
        with self._lock:
            if pending.reply is not None:
                return Issued(read_ticket(pending.reply), request_id=pending.request_id)
            started = time.perf_counter()
            try:
                reply = self.link.request(pending.op, pending.request_id, timeout=self.settings.request_timeout, **pending.fields())
            except RequestTimeout:
                log.info("ticket request %s unanswered; kept to re-send", pending.request_id)
                return Issued(problem=offline(), request_id=pending.request_id)
            rtt = (time.perf_counter() - started) * 1000
            if not reply.get("ok"):
                self.store.clear()
                return Issued(problem=refused(reply), request_id=pending.request_id, round_trip_ms=rtt)
            # Kept in memory only: after a crash, re-sending the id gets this same reply from the server.
            pending.reply = reply
            return Issued(read_ticket(reply), request_id=pending.request_id, round_trip_ms=rtt)

    def resume(self) -> Issued | None:
        """At start: a request a crash left behind is re-sent (same id, same number) if still recent."""
        pending = self.store.load()
        if pending is None:
            return None
        age = time.time() - pending.created_at
        if age > self.settings.resume_seconds or age < -60:
            log.info("dropped ticket request %s left %.0f s ago: the citizen has gone", pending.request_id, age)
            self.store.clear()
            return None
        return self.send(pending)

    def abandon(self) -> None:
        """The citizen left the ticket screen: nothing of this request is printed later."""
        self.store.clear()

    # --- print ---------------------------------------------------------------------

    def qr_text(self, ticket: Ticket) -> str:
        if ticket.public_token and ticket.vote_token:
            return p.ticket_qr_url(self.settings.qr_base, ticket.public_token, ticket.vote_token)
        return self.settings.qr_base  # never the number alone (the number is public on every TV)

    def print(self, issued: Issued, office_name: str = "") -> Printed:
        """Print an issued ticket; the pending record goes once it is printed (or shown instead)."""
        ticket = issued.ticket
        if ticket is None:
            raise ValueError("nothing to print without an ok reply")
        try:
            width = getattr(self.printer, "width_dots", None) or int(self.settings.printer.get("width_dots", 576))
            image = render_ticket(ticket.raw, office_name or ticket.office_name, self.qr_text(ticket), width)
            self.printer.print_ticket(image)
        except PrinterError as exc:
            state = exc.state if exc.state in p.DEVICE_STATES else "error"
            log.warning("ticket %s not printed: printer %s", ticket.number, state)
            self.store.clear()  # the number is on screen; printing it minutes later would give it to someone else
            self.reporter.report(state)
            return Printed(False, state)
        except Exception as exc:
            log.exception("ticket %s not printed", ticket.number)
            self.store.clear()
            self.reporter.report("error", str(exc))
            return Printed(False, "error")
        self.store.clear()
        threading.Thread(target=self.reporter.poll, args=(self.printer,), daemon=True).start()
        return Printed(True)
