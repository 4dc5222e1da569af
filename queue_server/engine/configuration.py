"""Changing the office configuration while the office runs: a command, checks, one event.

The administrator's pages (and `motcua config import`) send the whole configuration
document (the TOML file's content as a table). The engine parses it with the same
validator as the file, checks that the change is safe for today's tickets, and records
`OfficeReconfigured` with the document: the event log says who changed what and when, a
restart loads the last document from the store, and the TOML file is only the seed of a
new office (and the format of the export).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from queue_server.config import ConfigError, OfficeConfig, parse
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.engine.state import WAITING, CounterState, OfficeState

# Settings a running office cannot change: they name its topics and its business day.
_FIXED = (("id", "office.id"), ("topic_prefix", "office.topic_prefix"), ("timezone", "office.timezone"), ("day_reset", "office.day_reset"))


class ReconfigureRefused(Exception):
    """Why a new configuration cannot replace the running one (becomes Rejected in the engine)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params


def decide_reconfigure(state: OfficeState, config: OfficeConfig, cmd: c.Reconfigure, now: datetime) -> list[e.Event]:
    try:
        json.dumps(cmd.document)  # stored as JSON in the log: TOML dates have no place here
        new = parse(cmd.document)
    except (ConfigError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ReconfigureRefused("invalid_config", detail=str(exc)) from None
    for attr, key in _FIXED:
        if getattr(new, attr) != getattr(config, attr):
            raise ReconfigureRefused("invalid_config", detail=f"{key} cannot change while the office runs")
    for counter_id in set(config.counters) - set(new.counters):
        if state.counters[counter_id].open:
            raise ReconfigureRefused("config_in_use", detail=f"counter {counter_id} is open; close it before removing it")
    for ticket in state.tickets.values():
        # Today's tickets keep their field (screens, votes and reports name it): remove it after the reset.
        if ticket.service not in new.services:
            raise ReconfigureRefused("config_in_use", detail=f"service {ticket.service} has tickets today; remove it after the day reset")
        if ticket.target_counter and ticket.status == WAITING and ticket.target_counter not in new.counters:
            raise ReconfigureRefused("config_in_use", detail=f"ticket {ticket.number} waits for counter {ticket.target_counter}")
    _check_numbering(state, config, new)
    return [e.OfficeReconfigured(at=now, document=cmd.document, by=cmd.by)]


def _check_numbering(state: OfficeState, old: OfficeConfig, new: OfficeConfig) -> None:
    """Numbers stay unique in a day: a numbering may change only for a field that issued none
    today, and no new scheme may contain a number already issued today."""
    issued = [t.number for t in state.tickets.values()]
    for code, service in new.services.items():
        before = old.services.get(code)
        if before is not None and before.numbering == service.numbering:
            continue
        if code in state.next_seq:
            raise ReconfigureRefused("config_in_use", detail=f"service {code} issued numbers today; change its numbering after the day reset")
        taken = next((n for n in issued if service.numbering.seq_of(n) is not None), None)
        if taken:
            raise ReconfigureRefused("config_in_use", detail=f"service {code}: number {taken} was already issued today")


def apply_reconfigured(state: OfficeState, config: OfficeConfig, ev: e.OfficeReconfigured) -> None:
    """Counters follow the new document; the office swaps its configuration after applying."""
    new = parse(ev.document)
    for counter_id in list(state.counters):
        if counter_id not in new.counters:
            del state.counters[counter_id]
    for counter_id in new.counters:
        state.counters.setdefault(counter_id, CounterState(id=counter_id))
