"""Frame encoders: what a board shows (a list of lines) -> the bytes its controller expects.

Two ship here (docs/led.md documents both byte for byte):
- `line`: the plain-ASCII line protocol of this project, for boards built on a microcontroller
  (one CR LF terminated line per row, an RS-485 address, an optional XOR checksum);
- `alpha`: the Alpha Sign Communications Protocol (Adaptive Micro Systems / Alpha-American),
  the documented protocol of Alpha and BetaBrite signs and of many compatible LED controllers:
  addressable on one RS-485 line, with hold and scroll modes done by the sign itself.

Another protocol is a class with `name`, `diacritics`, `encode(lines, scroll)` and a constructor
taking its options as keyword strings, registered under the `motcua.led_protocols` entry points
of any installed package (see docs/led.md, "Adding a protocol").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import ClassVar, Protocol

from display.led.text import board_text

ENTRY_POINTS = "motcua.led_protocols"


class LedProtocolError(ValueError):
    """An unknown protocol or a wrong protocol option; the message names it."""


class FrameEncoder(Protocol):
    name: ClassVar[str]
    diacritics: bool  # whether the board can show Vietnamese marks (else text is unaccented first)

    def encode(self, lines: Sequence[str], scroll: bool) -> bytes:
        """The whole content of the board: `lines` top to bottom; `scroll` for a main board."""
        ...


def _flag(value: str, name: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise LedProtocolError(f"{name}: must be true or false, got {value!r}")


class LineProtocol:
    """`#AA:R:TEXT\\r\\n` per row: AA the board's address (00 = every board), R the row (1-9), TEXT printable
    ASCII (or UTF-8 with encoding=utf-8). With checksum=true, `*HH` before CR LF: the XOR of every byte
    between '#' and '*', in two hex digits (as NMEA 0183 does). Every update sends every row, so a board
    that missed one is right again at the next."""

    name: ClassVar[str] = "line"

    def __init__(self, address: str = "00", encoding: str = "ascii", checksum: str = "false", rows: str = "0") -> None:
        if not re.fullmatch(r"\d{2}", address):
            raise LedProtocolError(f"address: two digits 00-99, got {address!r}")
        if encoding not in ("ascii", "utf-8"):
            raise LedProtocolError(f"encoding: ascii or utf-8, got {encoding!r}")
        if not rows.isdigit() or not 0 <= int(rows) <= 9:
            raise LedProtocolError(f"rows: 0-9 (0: as many as there are lines), got {rows!r}")
        self.address = address
        self.diacritics = encoding == "utf-8"
        self.checksum = _flag(checksum, "checksum")
        self.rows = int(rows)

    def encode(self, lines: Sequence[str], scroll: bool) -> bytes:
        rows = list(lines[:9])
        if self.rows:
            rows = (rows + [""] * self.rows)[:self.rows]
        out = b""
        for index, line in enumerate(rows or [""], start=1):
            text = board_text(line, self.diacritics)
            if self.checksum:
                text = text.replace("*", "x")
            body = f"{self.address}:{index}:{text}".encode("utf-8" if self.diacritics else "ascii")
            if self.checksum:
                xor = 0
                for byte in body:
                    xor ^= byte
                body += f"*{xor:02X}".encode("ascii")
            out += b"#" + body + b"\r\n"
        return out


class AlphaProtocol:
    """Alpha protocol "Write TEXT file" (command A) in a Standard Transmission Packet:

        NUL x5, SOH, type code, address (2 chars), STX, 'A', file label, ESC, position, mode, TEXT, [ETX, checksum], EOT

    Type 'Z' and address '00' reach every sign on the line. Position ' ' is the middle line, '0' fill.
    Mode 'b' holds the text (counter boards), 'a' rotates it right to left (main boards, all lines
    joined), 'c' flashes. The checksum, when on, is the sum of the bytes from STX to ETX in 4 hex digits.
    """

    name: ClassVar[str] = "alpha"
    diacritics = False  # the Alpha character set has no Vietnamese letters
    MODES: ClassVar[dict[str, bytes]] = {"rotate": b"a", "hold": b"b", "flash": b"c", "roll_up": b"e", "scroll": b"m",
                                         "wipe_left": b"k", "auto": b"o", "compressed_rotate": b"t"}
    POSITIONS: ClassVar[dict[str, bytes]] = {"middle": b" ", "top": b'"', "bottom": b"&", "fill": b"0"}

    def __init__(self, type: str = "Z", address: str = "00", label: str = "A", position: str = "fill",
                 mode: str = "rotate", counter_mode: str = "hold", checksum: str = "false", separator: str = "   ") -> None:
        if not re.fullmatch(r"[!-~]", type):
            raise LedProtocolError(f"type: one printable character (Z = every sign type), got {type!r}")
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", address):
            raise LedProtocolError(f"address: two hex digits 00-FF (00 = every sign), got {address!r}")
        if not re.fullmatch(r"[ -~]", label) or label in "0?":
            raise LedProtocolError(f"label: one printable character except 0 and ?, got {label!r}")
        for option, value, table in (("position", position, self.POSITIONS), ("mode", mode, self.MODES),
                                     ("counter_mode", counter_mode, self.MODES)):
            if value not in table:
                raise LedProtocolError(f"{option}: one of {', '.join(table)}, got {value!r}")
        self.header = b"\x00" * 5 + b"\x01" + type.encode() + address.upper().encode()
        self.label = label.encode()
        self.position = self.POSITIONS[position]
        self.mode, self.counter_mode = self.MODES[mode], self.MODES[counter_mode]
        self.checksum = _flag(checksum, "checksum")
        self.separator = separator

    def encode(self, lines: Sequence[str], scroll: bool) -> bytes:
        text = board_text(self.separator.join(line for line in lines if line) if scroll else (lines[0] if lines else ""), False)
        command = b"\x02A" + self.label + b"\x1b" + self.position + (self.mode if scroll else self.counter_mode) + text.encode("ascii")
        if self.checksum:
            command += b"\x03"
            command += f"{sum(command) & 0xFFFF:04X}".encode("ascii")
        return self.header + command + b"\x04"


BUILTIN: dict[str, type] = {"line": LineProtocol, "alpha": AlphaProtocol}


def available() -> dict[str, type]:
    """Built-in encoders plus those installed packages register under `motcua.led_protocols`."""
    found = dict(BUILTIN)
    for entry in entry_points(group=ENTRY_POINTS):
        found.setdefault(entry.name, entry)  # loaded only when chosen
    return found


def make_encoder(name: str, options: dict[str, str] | None = None) -> FrameEncoder:
    table = available()
    if name not in table:
        raise LedProtocolError(f"unknown LED protocol {name!r} (known: {', '.join(sorted(table))})")
    cls = table[name]
    if not isinstance(cls, type):
        cls = cls.load()
    try:
        return cls(**(options or {}))
    except TypeError as exc:
        raise LedProtocolError(f"{name}: {exc}") from None
