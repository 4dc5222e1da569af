"""Drive the pure engine as the shell does (roll the day, decide, apply), keeping every event."""

from __future__ import annotations

import itertools
from typing import Any

from motcua.clock import FakeClock
from queue_server import config as cfg
from queue_server.engine import apply_all, decide, new_state, roll_day
from queue_server.engine import commands as c
from queue_server.engine import events as e


def small_office(**calling: Any) -> cfg.OfficeConfig:
    """Two services (a block and a prefix), a shared counter and a priority-only counter."""
    raw = {
        "office": {"id": "test-office", "name": "Bộ phận Một cửa thử nghiệm", "issue_outside_hours": True},
        "calling": {"priority": "ratio", "ratio": "2:1", "calls_before_no_show": 2, **calling},
        "services": [
            {"code": "HT", "name": "Tư pháp - Hộ tịch", "numbers": "1001-1999"},
            {"code": "CT", "name": "Chứng thực", "prefix": "C", "digits": 3},
        ],
        "counters": [
            {"id": "Q1", "name": "Quầy 1", "services": ["HT"]},
            {"id": "Q2", "name": "Quầy 2", "services": ["HT", "CT"]},
            {"id": "Q3", "name": "Quầy 3 - Ưu tiên", "services": ["HT", "CT"], "priority_only": True},
        ],
        "devices": [{"id": "kiosk-01", "role": "kiosk", "tickets_per_minute": 0, "tickets_per_hour": 0}],
    }
    return cfg.parse(raw)


class Harness:
    def __init__(self, config: cfg.OfficeConfig | None = None, clock: FakeClock | None = None) -> None:
        self.config = config or small_office()
        self.clock = clock or FakeClock()
        self.state = new_state(self.config)
        self.events: list[e.Event] = []
        self._tokens = itertools.count(1)

    def run(self, cmd: c.Command) -> list[e.Event]:
        """Apply one command; raises Rejected exactly as the shell would see it."""
        now = self.clock.now()
        rollover = roll_day(self.state, self.config, now)
        apply_all(self.state, self.config, rollover)
        self.events += rollover
        out = decide(self.state, self.config, cmd, now)
        apply_all(self.state, self.config, out)
        self.events += out
        return out

    def issue(self, service: str = "HT", group: str | None = None) -> str:
        n = next(self._tokens)
        out = self.run(c.IssueTicket(service, group, "kiosk-01", f"vote-{n}", f"public-{n}"))
        return out[-1].number

    def open_counter(self, counter: str, staff: str = "nv") -> None:
        self.run(c.SignIn(counter, staff))

    def next(self, counter: str) -> str:
        out = self.run(c.CallNext(counter))
        return [ev for ev in out if isinstance(ev, e.TicketCalled)][-1].number

    def ticket(self, number: str):
        return self.state.ticket_by_number(number)
