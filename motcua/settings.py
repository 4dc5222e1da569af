"""What a device needs to know about its office: the office id and the topic prefix.

Devices never import the server's configuration code; they read only the `[office]`
table of the same TOML file (or take the values on the command line), so a kiosk box
does not need the server's package to find its topics.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from motcua.protocol import DEFAULT_PREFIX, DEVICE_ID_RE

DEFAULT_CONFIG = Path("firmware_config/office.example.toml")


class SettingsError(ValueError):
    """The office file cannot tell a device its office id."""


@dataclass(frozen=True)
class OfficeRef:
    id: str
    topic_prefix: str = DEFAULT_PREFIX
    name: str = ""


def office_ref(path: str | Path | None = None) -> OfficeRef:
    """Read `[office] id`, `topic_prefix` and `name` from an office TOML file."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    office = raw.get("office")
    office_id = office.get("id") if isinstance(office, dict) else None
    if not isinstance(office_id, str) or not DEVICE_ID_RE.match(office_id):
        raise SettingsError(f"{path}: office.id is missing or not a valid id")
    prefix = office.get("topic_prefix", DEFAULT_PREFIX)
    if not isinstance(prefix, str) or not prefix:
        raise SettingsError(f"{path}: office.topic_prefix must be a non-empty string")
    return OfficeRef(id=office_id, topic_prefix=prefix, name=str(office.get("name", "")))
