"""The hub's configuration file (TOML), validated, with errors that name the key.

[hub]
name = "Trung tâm Phục vụ hành chính công tỉnh ..."
database = "postgresql://motcua_hub@127.0.0.1:5432/motcua_hub"   # password: ~/.pgpass or PGPASSWORD, not here
brokers = ["mqtt://nats-1:1883", "mqtt://nats-2:1883", "mqtt://nats-3:1883"]
credentials = "/etc/motcua/hub.credentials"                       # or MOTCUA_HUB_USERNAME / _PASSWORD
client_id = "motcua-hub-1"                                         # one per hub process
http_listen = "0.0.0.0:8090"

[targets]
wait_minutes = 15
satisfaction_percent = 95

[lookup]                                                           # the province-wide dossier lookup
per_minute = 600
burst = 100
not_found_cost = 3
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.province.topics import DEFAULT_ROOT


class HubConfigError(ValueError):
    """The hub configuration is wrong; the message names the key."""


@dataclass(frozen=True)
class Targets:
    wait_minutes: float = 15.0  # Sóc Trăng plan 2021-2025: at most 15 minutes on average per visit
    satisfaction_percent: float = 95.0  # at least 95% satisfied by 2025


@dataclass(frozen=True)
class LookupLimits:
    """Per client address; an office's server asks for all its kiosks, so the defaults are larger than an office's."""

    per_minute: float = 600.0
    burst: int = 100
    not_found_cost: float = 3.0


@dataclass(frozen=True)
class HubConfig:
    database: str
    brokers: tuple[str, ...]
    name: str = "Trung tâm Phục vụ hành chính công tỉnh"
    credentials: str | None = None
    client_id: str = "motcua-hub-1"
    topic_root: str = DEFAULT_ROOT
    http_listen: str = "127.0.0.1:8090"
    timezone: str = "Asia/Ho_Chi_Minh"
    targets: Targets = field(default_factory=Targets)
    lookup: LookupLimits = field(default_factory=LookupLimits)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load(path: str | Path) -> HubConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HubConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise HubConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse(raw)
    except HubConfigError as exc:
        raise HubConfigError(f"{path}: {exc}") from None


def _known(table: dict[str, Any], where: str, keys: tuple[str, ...]) -> None:
    for key in table:
        if key not in keys:
            raise HubConfigError(f"{where}.{key}: unknown key (known: {', '.join(keys)})")


def _number(table: dict[str, Any], where: str, key: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise HubConfigError(f"{where}.{key}: must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def parse(raw: dict[str, Any]) -> HubConfig:
    hub = raw.get("hub")
    if not isinstance(hub, dict):
        raise HubConfigError("[hub]: missing table")
    _known(hub, "hub", ("name", "database", "brokers", "credentials", "client_id", "topic_root", "http_listen", "timezone"))
    _known(raw, "", ("hub", "targets", "lookup"))
    database = hub.get("database")
    if not isinstance(database, str) or not database.startswith(("postgresql://", "postgres://")):
        raise HubConfigError('hub.database: required, a URL like "postgresql://motcua_hub@127.0.0.1:5432/motcua_hub"')
    if re.match(r"postgres(ql)?://[^/@]*:[^/@]*@", database):
        raise HubConfigError("hub.database: put the password in ~/.pgpass or PGPASSWORD, not in the file")
    brokers = hub.get("brokers")
    if not isinstance(brokers, list) or not brokers or not all(isinstance(b, str) and b for b in brokers):
        raise HubConfigError('hub.brokers: required, a list like ["mqtt://nats-1:1883", ...]')
    if any("@" in b for b in brokers):
        raise HubConfigError("hub.brokers: no user name in the URL; put the credential in hub.credentials")
    timezone = hub.get("timezone", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HubConfigError(f"hub.timezone: unknown time zone {timezone!r}") from None
    client_id = hub.get("client_id", "motcua-hub-1")
    if not isinstance(client_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", client_id):
        raise HubConfigError("hub.client_id: letters, digits, '-' and '_' (one per hub process)")
    targets = raw.get("targets", {})
    lookup = raw.get("lookup", {})
    if not isinstance(targets, dict) or not isinstance(lookup, dict):
        raise HubConfigError("[targets] and [lookup] must be tables")
    _known(targets, "targets", ("wait_minutes", "satisfaction_percent"))
    _known(lookup, "lookup", ("per_minute", "burst", "not_found_cost"))
    return HubConfig(
        database=database,
        brokers=tuple(brokers),
        name=str(hub.get("name", HubConfig.name)),
        credentials=hub.get("credentials"),
        client_id=client_id,
        topic_root=str(hub.get("topic_root", DEFAULT_ROOT)),
        http_listen=str(hub.get("http_listen", "127.0.0.1:8090")),
        timezone=timezone,
        targets=Targets(
            wait_minutes=_number(targets, "targets", "wait_minutes", 15, 1, 240),
            satisfaction_percent=_number(targets, "targets", "satisfaction_percent", 95, 1, 100),
        ),
        lookup=LookupLimits(
            per_minute=_number(lookup, "lookup", "per_minute", 600, 0, 100_000),
            burst=int(_number(lookup, "lookup", "burst", 100, 1, 10_000)),
            not_found_cost=_number(lookup, "lookup", "not_found_cost", 3, 1, 100),
        ),
    )
