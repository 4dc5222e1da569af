"""The pure engine: commands in, events out, given a clock value. No I/O here."""

from queue_server.engine.engine import (
    Rejected,
    apply,
    apply_all,
    decide,
    estimated_wait_seconds,
    new_state,
    pick_next,
    place_in_line,
    position,
    replay,
    roll_day,
)

__all__ = [
    "Rejected", "apply", "apply_all", "decide", "estimated_wait_seconds", "new_state", "pick_next",
    "place_in_line", "position", "replay", "roll_day",
]
