"""Reading a hardware table of the kiosk's TOML ([printer], [scanner]) key by key, with errors that name the key.

Each setting has a check: `choice(...)`, `integer(low, high)`, `number(low, high)`, `text()`,
`boolean()`, `usb_id()`. `read_table` refuses unknown keys (a typo must not be ignored silently) and
builds the settings dataclass from the checked values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from motcua import i18n

Check = Callable[[Any], Any]  # returns the value to keep, or raises _Problem
T = TypeVar("T")


class SettingsError(ValueError):
    """A hardware setting that cannot work; `message` is Vietnamese, `message_en` English."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en

    @classmethod
    def worded(cls, catalog_key: str, **params: Any) -> SettingsError:
        return cls(*i18n.pair(catalog_key, **params))


class _Problem(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def read_table(cls: type[T], table: str, values: Mapping[str, Any] | None, checks: dict[str, Check]) -> T:
    """`cls(**checked values)`; SettingsError naming `[table] key` for an unknown key or a wrong value."""
    values = dict(values or {})
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known or key not in checks:
            raise SettingsError.worded("kiosk_print.settings.unknown_key", table=table, setting=key)
        try:
            checked[key] = checks[key](value)
        except _Problem as problem:
            vi, en = (i18n.text("kiosk_print.settings.bad_value", lang, table=table, setting=key,
                                problem=i18n.text(problem.key, lang, **problem.params)) for lang in i18n.LANGUAGES)
            raise SettingsError(vi, en) from None
    return cls(**checked)


def require(table: str, connection: str, settings: object, keys: tuple[str, ...]) -> None:
    """Fail unless every key the connection needs has a value."""
    for key in keys:
        if getattr(settings, key) in (None, ""):
            raise SettingsError.worded("kiosk_print.settings.missing", table=table, setting=key, connection=connection)


def choice(*choices: Any) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in choices:
            raise _Problem("kiosk_print.settings.choice", choices=", ".join(str(c) for c in choices))
        return value
    return check


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Problem("kiosk_print.settings.integer", low=low, high=high)
        return value
    return check


def number(low: float, high: float) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise _Problem("kiosk_print.settings.number", low=low, high=high)
        return float(value)
    return check


def text() -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _Problem("kiosk_print.settings.text")
        return value.strip()
    return check


def boolean() -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _Problem("kiosk_print.settings.boolean")
        return value
    return check


def usb_id() -> Check:
    """0x04b8 (TOML hex integer), "0x04b8", "04b8" or 1208."""
    def check(value: Any) -> int:
        try:
            found = int(value, 16) if isinstance(value, str) else value
        except ValueError:
            found = None
        if isinstance(found, bool) or not isinstance(found, int) or not 0 <= found <= 0xFFFF:
            raise _Problem("kiosk_print.settings.usb_id")
        return found
    return check


def problem(key: str, **params: Any) -> _Problem:
    """For a check written elsewhere: raise problem("kiosk_print.settings....", ...)."""
    return _Problem(key, **params)
