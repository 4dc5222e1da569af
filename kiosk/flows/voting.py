"""Rating the service: at the entrance by scanning the ticket's QR, or at the counter right after service.

Entrance: the QR carries the vote token after `#v=` (motcua.protocol.ticket_qr_url); the kiosk
sends `vote.submit {token, level, reasons}`. Counter-facing screen (device role `rating`, bound to
a counter): when the counter's retained state shows a newly finished ticket, the screen asks that
citizen and sends `vote.counter {level, reasons}`; the server applies it to that ticket. One vote
per served ticket, whichever device casts it (the server refuses a second with `already_voted`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.flows.outcome import Problem, offline, refused
from kiosk.link import ServerLink
from kiosk.payloads import CounterState
from motcua import protocol as p
from motcua.client import RequestTimeout

# Why a citizen rated as they did: codes from the office's [[vote_reasons]], published in state/office.


@dataclass(frozen=True)
class Voted:
    ok: bool
    problem: Problem | None = None


@dataclass(frozen=True)
class Ballot:
    """One vote being cast: the same request id for every try of the same choice."""

    level: str
    reasons: tuple[str, ...] = ()
    request_id: str = ""

    def __post_init__(self) -> None:
        if self.level not in p.VOTE_LEVELS:
            raise ValueError(f"vote level {self.level!r}")
        if not self.request_id:
            object.__setattr__(self, "request_id", uuid.uuid4().hex)


def vote_token_of(scanned: str) -> str | Problem:
    """The vote token of a scanned ticket QR, or what to tell the citizen."""
    parsed = p.parse_ticket_qr(scanned)
    if parsed is None:
        return Problem("not_a_ticket", "kiosk.vote.not_a_ticket")
    _, vote = parsed
    return vote if vote else Problem("no_vote_token", "kiosk.vote.no_token")


def _cast(link: ServerLink, op: str, ballot: Ballot, timeout: float, **fields: object) -> Voted:
    try:
        reply = link.request(op, ballot.request_id, timeout=timeout, level=ballot.level, reasons=list(ballot.reasons), **fields)
    except RequestTimeout:
        return Voted(False, offline())
    return Voted(True) if reply.get("ok") else Voted(False, refused(reply))


def submit_ticket_vote(link: ServerLink, vote_token: str, ballot: Ballot, timeout: float = 2.0) -> Voted:
    return _cast(link, "vote.submit", ballot, timeout, token=vote_token)


def submit_counter_vote(link: ServerLink, ballot: Ballot, timeout: float = 2.0) -> Voted:
    return _cast(link, "vote.counter", ballot, timeout)


class CounterWatch:
    """Decides, from each retained counter state, whether the counter screen asks for a rating now.

    A ticket finished while this screen was off (older than `fresh_seconds` by its finished_at,
    or already there at the first state after start) is not asked about: its citizen has gone.
    Nor is one already rated (from the rating box, say) or past its `rate_until`.
    """

    def __init__(self, fresh_seconds: float = 120.0) -> None:
        self.fresh_seconds = fresh_seconds
        self.asked: str | None = None  # "number@finished_at" of the last finished ticket seen
        self._first = True

    def should_ask(self, state: CounterState, now: datetime | None = None) -> bool:
        last = state.last_finished
        first, self._first = self._first, False
        if last is None:
            return False
        key = f"{last.number}@{last.finished_at}"
        if key == self.asked:
            return False
        self.asked = key
        now = now or datetime.now(UTC)
        if last.voted or (last.rate_until and (until := _instant(last.rate_until)) is not None and now > until):
            return False
        if not first:
            return True
        at = _instant(last.finished_at)
        return at is not None and abs((now - at).total_seconds()) <= self.fresh_seconds


def _instant(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
