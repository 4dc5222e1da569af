"""What a counter box reads from files: its pin map, and which counter its device id belongs to.

The pin map is `firmware_config/counter-pins.example.toml` (tables [keypad] and [rating]); the
counter comes from the office file's [[devices]] table (the same file the server reads), read
here as plain TOML so that the box needs no server code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua.protocol import VOTE_LEVELS

DEFAULT_PINS = Path("firmware_config/counter-pins.example.toml")
KEYPAD_BUTTONS = ("next", "recall", "skip", "finish")


class PinMapError(ValueError):
    """The pin map or the office file cannot drive this box; the message names the key."""


@dataclass(frozen=True)
class KeypadPins:
    next: str
    recall: str
    skip: str
    finish: str
    status_led: str
    debounce: float = 0.03
    hold: float = 1.5

    def button(self, name: str) -> str:
        return getattr(self, name)


@dataclass(frozen=True)
class RatingPins:
    levels: dict[str, tuple[str, str]]  # level -> (button pin, LED pin), in the scale's order
    debounce: float = 0.03


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PinMapError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PinMapError(f"{path}: not valid TOML: {exc}") from None


def _pin(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"GPIO{value}"
    if not isinstance(value, str) or not value.strip():
        raise PinMapError(f"{where}.{key}: give a pin such as \"GPIO17\"")
    return value.strip()


def _seconds(table: dict[str, Any], key: str, default: float, scale: float, where: str) -> float:
    value = table.get(key, default / scale)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise PinMapError(f"{where}.{key}: must be a positive number")
    return float(value) * scale


def _no_shared_pins(pins: list[str], where: str) -> None:
    seen = [p for p in pins if pins.count(p) > 1]
    if seen:
        raise PinMapError(f"{where}: pin {seen[0]} is used twice")


def keypad_pins(path: Path = DEFAULT_PINS) -> KeypadPins:
    table = _read(path).get("keypad")
    if not isinstance(table, dict):
        raise PinMapError(f"{path}: no [keypad] table")
    where = f"{path}: keypad"
    pins = {name: _pin(table, name, where) for name in (*KEYPAD_BUTTONS, "status_led")}
    _no_shared_pins(list(pins.values()), where)
    return KeypadPins(**pins, debounce=_seconds(table, "debounce_ms", 0.03, 0.001, where),
                      hold=_seconds(table, "hold_seconds", 1.5, 1.0, where))


def rating_pins(path: Path = DEFAULT_PINS) -> RatingPins:
    table = _read(path).get("rating")
    if not isinstance(table, dict):
        raise PinMapError(f"{path}: no [rating] table")
    where = f"{path}: rating"
    levels: dict[str, tuple[str, str]] = {}
    for level in VOTE_LEVELS:
        entry = table.get(level)
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise PinMapError(f"{where}.{level}: give {{ button = \"GPIO5\", led = \"GPIO6\" }}")
        levels[level] = (_pin(entry, "button", f"{where}.{level}"), _pin(entry, "led", f"{where}.{level}"))
    unknown = [k for k, v in table.items() if isinstance(v, dict) and k not in VOTE_LEVELS]
    if unknown:
        raise PinMapError(f"{where}.{unknown[0]}: not a level of the scale ({', '.join(VOTE_LEVELS)})")
    if len(levels) < 2:
        raise PinMapError(f"{where}: wire at least two levels of the scale ({', '.join(VOTE_LEVELS)})")
    _no_shared_pins([p for pair in levels.values() for p in pair], where)
    return RatingPins(levels, debounce=_seconds(table, "debounce_ms", 0.03, 0.001, where))


def counter_of(office_file: Path, device: str) -> str:
    """The counter a device is bound to in the office file's [[devices]] table."""
    devices = _read(office_file).get("devices")
    for entry in devices if isinstance(devices, list) else []:
        if isinstance(entry, dict) and entry.get("id") == device:
            counter = entry.get("counter")
            if isinstance(counter, str) and counter:
                return counter
            raise PinMapError(f"{office_file}: device {device} has no counter; bind it with counter = \"Q1\"")
    raise PinMapError(f"{office_file}: no device {device} in [[devices]] (or give --counter)")
