"""What each kind of board shows, from the contract's retained state and call events (no I/O here).

- A counter board (the number over one counter): the ticket that counter is calling or serving,
  blank when it has none (closed, paused, idle), from retained `state/counter/{id}`.
- A main board: one line per counter that is calling or serving, the latest call first
  ("1023 → Quầy 3"), from `event/call` and the retained counter states, so after a restart of the
  board, the server or the broker it shows the right lines again by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from display.payloads import Call, CounterShown

MAIN_FORMAT = "{number} → {counter_name}"
_EPOCH = datetime.min.replace(tzinfo=UTC)


class CounterBoard:
    scroll = False

    def __init__(self, counter: str, idle_text: str = "") -> None:
        self.counter = counter
        self.idle_text = idle_text
        self.number: str | None = None

    def on_counter(self, state: CounterShown) -> bool:
        if state.counter != self.counter:
            return False
        return self._set(state.ticket)

    def on_call(self, call: Call) -> bool:
        return call.counter == self.counter and self._set(call.number)

    def _set(self, number: str | None) -> bool:
        changed = number != self.number
        self.number = number
        return changed

    def lines(self) -> list[str]:
        return [self.number or self.idle_text]


@dataclass
class _Line:
    number: str
    counter_name: str
    at: datetime
    seq: int  # arrival order: calls within one second (the payload's precision) keep their order


class MainBoard:
    scroll = True

    def __init__(self, max_lines: int = 6, counters: tuple[str, ...] = (), line_format: str = MAIN_FORMAT) -> None:
        self.max_lines = max_lines
        self.counters = counters
        self.line_format = line_format
        self._lines: dict[str, _Line] = {}
        self._seq = 0

    def _put(self, counter: str, number: str, name: str, at: datetime) -> None:
        self._seq += 1
        self._lines[counter] = _Line(number, name, at, self._seq)

    def _serves(self, counter: str) -> bool:
        return not self.counters or counter in self.counters

    def on_call(self, call: Call) -> bool:
        if not self._serves(call.counter):
            return False
        at = call.at or datetime.now(UTC)
        old = self._lines.get(call.counter)
        if old and old.at > at:
            return False  # an older call delivered late
        self._put(call.counter, call.number, call.counter_name, at)
        return True

    def on_counter(self, state: CounterShown) -> bool:
        if not self._serves(state.counter):
            return False
        old = self._lines.get(state.counter)
        if state.ticket is None:
            return self._lines.pop(state.counter, None) is not None
        if old and old.number == state.ticket:
            return False
        self._put(state.counter, state.ticket, state.name, state.updated_at or _EPOCH)
        return True

    def lines(self) -> list[str]:
        ordered = sorted(self._lines.values(), key=lambda line: (line.at, line.seq), reverse=True)[:self.max_lines]
        return [self.line_format.format(number=line.number, counter_name=line.counter_name) for line in ordered]
