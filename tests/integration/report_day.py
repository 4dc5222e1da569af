"""A known office day driven through the real Office and SQLite store, for the report tests."""

from __future__ import annotations

import itertools
import json
from typing import Any

from motcua.clock import FakeClock
from queue_server.office import Office

MINUTE = 60


class Day:
    """Send requests as devices would, moving a fake clock between them."""

    def __init__(self, office: Office, clock: FakeClock) -> None:
        self.office = office
        self.clock = clock
        self.t = 0.0  # minutes since the start
        self._ids = itertools.count(1)

    def at(self, minutes: float) -> Day:
        self.clock.advance((minutes - self.t) * MINUTE)
        self.t = minutes
        return self

    def ask(self, op: str, device: str = "console", **fields: Any) -> dict[str, Any]:
        payload = json.dumps({"id": f"r{next(self._ids)}", "op": op, **fields}).encode()
        out = self.office.handle_batch([(device, payload)])
        (reply,) = [o.payload for o in out if o.topic == self.office.topics.res(device)]
        assert reply["ok"], reply
        return reply

    def issue(self, service: str, **fields: Any) -> dict[str, Any]:
        return self.ask("ticket.issue", device="kiosk-01", service=service, **fields)["ticket"]

    def vote(self, ticket: dict[str, Any], level: str, *reasons: str) -> None:
        self.ask("vote.submit", device="kiosk-01", token=ticket["vote_token"], level=level, reasons=list(reasons))


def known_day(office: Office, clock: FakeClock) -> Day:
    """The day docs/reports.md's figures are checked against (times in minutes after 08:00 local).

    1001 (HT): waits 5, served 6-15 at Quầy 1 by nv-an, votes very satisfied (friendly, fast).
    1002 (HT): waits 20, called twice, skipped at 22: a no-show.
    2001 (DD): waits 5 at Quầy 3 (nv-binh), transferred to HT at 25; waits 5 more, served 30-40 at
               Quầy 1, votes unsatisfied (long_wait).
    C001 (CT): taken at 30, still waiting at 50; Quầy 2 (nv-chi) opens at 41 and stays idle.
    """
    day = Day(office, clock)
    day.ask("counter.sign_in", counter="Q1", staff="nv-an")
    day.ask("counter.sign_in", counter="Q3", staff="nv-binh")
    a, b, c = day.issue("HT"), day.issue("HT"), day.issue("DD")
    day.at(5).ask("counter.next", counter="Q1")
    day.ask("counter.next", counter="Q3")
    day.at(6).ask("counter.start", counter="Q1")
    day.at(15).ask("counter.finish", counter="Q1")
    day.vote(a, "very_satisfied", "friendly", "fast")
    assert day.at(20).ask("counter.next", counter="Q1")["ticket"]["number"] == b["number"]
    day.at(21).ask("counter.recall", counter="Q1")
    day.at(22).ask("counter.skip", counter="Q1")
    day.at(25).ask("counter.transfer", counter="Q3", to_service="HT")
    assert day.at(30).ask("counter.next", counter="Q1")["ticket"]["number"] == c["number"]
    day.issue("CT")
    day.at(40).ask("counter.finish", counter="Q1")
    day.vote(c, "unsatisfied", "long_wait")
    day.at(41).ask("counter.sign_in", counter="Q2", staff="nv-chi")
    day.at(50)
    return day
