"""Reading an ESC/POS printer's real-time status (DLE EOT n) into one of protocol.DEVICE_STATES.

Each query is three bytes, `DLE EOT n`, answered at once with one status byte even while the printer
is busy, by printers with a bidirectional link (most Epson-compatible serial, network and USB
printers; not the cheapest USB ones, and never through a write-only device node). Every answer has
bit 1 and bit 4 set and bits 0 and 7 clear, which tells a status byte from line noise.

  n = 1 printer status:   bit 3 offline
  n = 2 offline cause:    bit 2 cover open, bit 5 printing stopped at paper end, bit 6 error
  n = 4 roll paper sensor: bits 2-3 paper near its end, bits 5-6 paper end
"""

from __future__ import annotations

DLE_EOT = b"\x10\x04"
PRINTER = 1
OFFLINE_CAUSE = 2
PAPER = 4
QUERIES = (PRINTER, OFFLINE_CAUSE, PAPER)

# States in which nothing can be printed: print_ticket refuses before sending the ticket.
BLOCKING = frozenset({"no_paper", "cover_open", "offline", "error"})


def query(n: int) -> bytes:
    return DLE_EOT + bytes((n,))


def is_status_byte(value: int) -> bool:
    return value & 0b1001_0011 == 0b0001_0010


def decode(replies: dict[int, int | None]) -> str | None:
    """The state from the answers to QUERIES (None where a query got no valid answer), or None when
    the printer did not answer at all (the caller decides between "offline" and "unknown")."""
    valid = {n: b for n, b in replies.items() if b is not None and is_status_byte(b)}
    if not valid:
        return None
    cause = valid.get(OFFLINE_CAUSE, 0)
    paper = valid.get(PAPER, 0)
    if cause & 0x04:
        return "cover_open"
    if paper & 0x60 or cause & 0x20:
        return "no_paper"
    if cause & 0x40:
        return "error"
    if valid.get(PRINTER, 0) & 0x08:
        return "offline"
    if paper & 0x0C:
        return "paper_low"
    return "ok"


def reply_for(state: str, n: int) -> int:
    """The byte a printer in `state` answers to DLE EOT n (for simulated printers and test ptys)."""
    byte = 0x12
    if n == PRINTER and state in ("cover_open", "no_paper", "offline", "error"):
        byte |= 0x08
    elif n == OFFLINE_CAUSE:
        byte |= {"cover_open": 0x04, "no_paper": 0x20, "error": 0x40}.get(state, 0)
    elif n == PAPER:
        byte |= {"no_paper": 0x6C, "paper_low": 0x0C}.get(state, 0)
    return byte
