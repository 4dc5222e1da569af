"""Office configuration: read a TOML file into frozen dataclasses, or fail naming the key.

The dataclasses are plain data the engine reads; parsing here has no side effects,
so the engine may import this module. Only `load()` touches the file system.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from motcua.protocol import DEFAULT_PREFIX, DEVICE_ID_RE, ROLES

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

# The groups Vietnamese law serves first (Luật Người cao tuổi, Luật Người khuyết tật,
# and the rules on pregnant women and people with small children); offices may add more.
GENERAL_PRIORITY = "general"  # a priority ticket whose group the kiosk did not ask
DEFAULT_PRIORITY_GROUPS = {
    GENERAL_PRIORITY: "Đối tượng ưu tiên khác",
    "elderly": "Người cao tuổi",
    "disability": "Người khuyết tật",
    "pregnant": "Phụ nữ mang thai",
    "small_child": "Người nuôi con nhỏ dưới 36 tháng tuổi",
    "merit": "Người có công với cách mạng",
}


class ConfigError(ValueError):
    """The office configuration is wrong; the message names the key."""


@dataclass(frozen=True)
class Numbering:
    """Either a block of plain numbers (first..last) or a letter prefix with digits."""

    first: int
    last: int
    prefix: str = ""
    digits: int = 0

    def format(self, seq: int) -> str:
        if self.prefix:
            return f"{self.prefix}{seq:0{self.digits}d}"
        return str(seq)

    def seq_of(self, number: str) -> int | None:
        """The sequence number behind a ticket number of this scheme, or None if not ours."""
        if self.prefix:
            digits = number[len(self.prefix):]
            if number.startswith(self.prefix) and len(digits) == self.digits and digits.isdigit():
                return int(digits)
            return None
        if number.isdigit() and self.first <= int(number) <= self.last:
            return int(number)
        return None

    @property
    def capacity(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    numbering: Numbering
    name_en: str = ""


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    priority_only: bool = False


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    counter: str | None = None


@dataclass(frozen=True)
class CallingRules:
    priority_mode: str = "ratio"  # "strict" or "ratio"
    ratio_regular: int = 2
    ratio_priority: int = 1
    calls_before_no_show: int = 2
    requeue: str = "front"  # "front": a returning no-show regains its place; "back": joins the end
    default_service_minutes: float = 10.0
    estimate_window: int = 20


@dataclass(frozen=True)
class DossierLookup:
    """Limits on the public dossier lookup ([dossier_lookup]; docs/dossiers.md).

    Per client address, a token bucket of `per_minute` lookups a minute holding at most `burst`
    (per_minute = 0 turns it off); a not-found or garbage code costs `not_found_cost` lookups.
    A dossier refuses every verification for `verify_window_minutes` after `max_verify_failures`
    wrong sets of digits in that window, and for the rest of a day after `max_verify_failures_per_day`
    (so 4 digits cannot be guessed by patience: 480 tries a day would otherwise be allowed).
    """

    per_minute: float = 20.0
    burst: int = 10
    not_found_cost: float = 3.0
    max_verify_failures: int = 5
    verify_window_minutes: int = 15
    max_verify_failures_per_day: int = 10


@dataclass(frozen=True)
class ProvinceLink:
    """How this office reaches the province ([province]; docs/province.md). Empty: a stand-alone office.

    `brokers`: the central cluster's MQTT listeners (mqtt://host:port, no password: the
    forwarder's credential comes from `credentials` or the environment). `hub_url`: where a
    dossier lookup that finds nothing here asks next.
    """

    brokers: tuple[str, ...] = ()
    topic_root: str = "motcua-province"
    credentials: str | None = None
    hub_url: str | None = None
    lookup_timeout_seconds: float = 3.0


@dataclass(frozen=True)
class OfficeConfig:
    id: str
    name: str
    services: dict[str, Service]
    counters: dict[str, Counter]
    devices: dict[str, Device]
    timezone: str = "Asia/Ho_Chi_Minh"
    day_reset: time = time(0, 0)
    topic_prefix: str = DEFAULT_PREFIX
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    issue_outside_hours: bool = False
    rules: CallingRules = field(default_factory=CallingRules)
    priority_groups: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITY_GROUPS))
    province: ProvinceLink = field(default_factory=ProvinceLink)
    dossier_lookup: DossierLookup = field(default_factory=DossierLookup)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def business_day(self, now: datetime) -> str:
        """The business day (ISO date) of an instant: local date, shifted by the reset time."""
        local = now.astimezone(self.tz)
        shifted = local - timedelta(hours=self.day_reset.hour, minutes=self.day_reset.minute)
        return shifted.date().isoformat()

    def is_open(self, now: datetime) -> bool:
        if self.issue_outside_hours or not self.hours:
            return True
        local = now.astimezone(self.tz)
        t = local.time()
        return any(start <= t < end for start, end in self.hours.get(local.weekday(), ()))

    def hours_text(self) -> str:
        """'Thứ Hai - Thứ Sáu: 07:00-11:30, 13:00-17:00; Thứ Bảy: 07:00-11:30' (runs of equal days joined)."""
        runs: list[list[Any]] = []  # [first day, last day, spans]
        for day, spans in sorted(self.hours.items()):
            if spans and runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
                runs[-1][1] = day
            elif spans:
                runs.append([day, day, spans])
        parts = []
        for first, last, spans in runs:
            days = WEEKDAY_VI[first] if first == last else f"{WEEKDAY_VI[first]} - {WEEKDAY_VI[last]}"
            parts.append(f"{days}: " + ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans))
        return "; ".join(parts)

    def counters_serving(self, service: str) -> list[Counter]:
        return [c for c in self.counters.values() if service in c.services]

    def with_overrides(self, **changes: Any) -> OfficeConfig:
        return replace(self, **changes)


def load(path: str | Path) -> OfficeConfig:
    """Read and validate an office configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse(raw: dict[str, Any]) -> OfficeConfig:
    """Validate a parsed TOML document."""
    office = _table(raw, "office")
    office_id = _str(office, "office.id")
    if not DEVICE_ID_RE.match(office_id):
        raise ConfigError("office.id: use only letters, digits, '-' and '_' (it is part of MQTT topics)")
    timezone = office.get("timezone", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"office.timezone: unknown time zone {timezone!r}") from None

    services = _services(raw.get("services"))
    counters = _counters(raw.get("counters"), services)
    devices = _devices(raw.get("devices"), counters)
    groups = dict(DEFAULT_PRIORITY_GROUPS)
    for i, g in enumerate(_list(raw, "priority_groups")):
        groups[_str(g, f"priority_groups[{i}].code")] = _str(g, f"priority_groups[{i}].name")

    return OfficeConfig(
        id=office_id,
        name=_str(office, "office.name"),
        timezone=timezone,
        day_reset=_clock_time(office.get("day_reset", "00:00"), "office.day_reset"),
        topic_prefix=office.get("topic_prefix", DEFAULT_PREFIX),
        issue_outside_hours=_bool(office, "issue_outside_hours", False, "office"),
        hours=_hours(raw.get("hours", {})),
        services=services,
        counters=counters,
        devices=devices,
        rules=_rules(raw.get("calling", {})),
        priority_groups=groups,
        province=_province(raw.get("province", {})),
        dossier_lookup=_dossier_lookup(raw.get("dossier_lookup", {})),
    )


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}]: missing table")
    return value


def _list(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{key}: must be an array of tables ([[{key}]])")
    return value


def _str(table: dict[str, Any], dotted: str) -> str:
    key = dotted.rsplit(".", 1)[-1]
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{dotted}: required, must be a non-empty string")
    return value.strip()


def _ident(table: dict[str, Any], dotted: str, seen: dict[str, Any], what: str) -> str:
    """An id that becomes part of MQTT topics: restricted characters, unique in its list."""
    value = _str(table, dotted)
    if not DEVICE_ID_RE.match(value):
        raise ConfigError(f"{dotted}: use only letters, digits, '-' and '_' (it is part of MQTT topics)")
    if value in seen:
        raise ConfigError(f"{dotted}: duplicate {what} {value!r}")
    return value


def _bool(table: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: must be true or false")
    return value


def _clock_time(value: Any, where: str) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        raise ConfigError(f"{where}: must be a time like \"07:30\", got {value!r}")
    hour, minute = map(int, value.split(":"))
    if hour > 23 or minute > 59:
        raise ConfigError(f"{where}: {value!r} is not a time of day")
    return time(hour, minute)


def _hours(raw: Any) -> dict[int, tuple[tuple[time, time], ...]]:
    if not isinstance(raw, dict):
        raise ConfigError("[hours]: must be a table like mon = \"07:30-11:30, 13:30-17:00\"")
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, spans in raw.items():
        if day not in WEEKDAYS:
            raise ConfigError(f"hours.{day}: unknown day, use one of {', '.join(WEEKDAYS)}")
        if not isinstance(spans, str):
            raise ConfigError(f"hours.{day}: must be a string like \"07:30-11:30, 13:30-17:00\"")
        parsed = []
        for span in filter(None, (s.strip() for s in spans.split(","))):
            start, _, end = span.partition("-")
            a, b = _clock_time(start.strip(), f"hours.{day}"), _clock_time(end.strip(), f"hours.{day}")
            if b <= a:
                raise ConfigError(f"hours.{day}: {span!r} ends before it starts")
            parsed.append((a, b))
        hours[WEEKDAYS.index(day)] = tuple(parsed)
    return hours


def _services(raw: Any) -> dict[str, Service]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("services: at least one [[services]] table is required")
    services: dict[str, Service] = {}
    blocks: list[tuple[int, int, str]] = []
    prefixes: dict[str, str] = {}
    for i, s in enumerate(raw):
        where = f"services[{i}]"
        if not isinstance(s, dict):
            raise ConfigError(f"{where}: must be a table")
        code = _ident(s, f"{where}.code", services, "service code")
        numbering = _numbering(s, where)
        if numbering.prefix:
            if numbering.prefix in prefixes:
                raise ConfigError(f"{where}.prefix: {numbering.prefix!r} is already used by {prefixes[numbering.prefix]}")
            prefixes[numbering.prefix] = code
        else:
            for first, last, other in blocks:
                if numbering.first <= last and first <= numbering.last:
                    raise ConfigError(f"{where}.numbers: {numbering.first}-{numbering.last} overlaps {other} ({first}-{last}); numbers must be unique in a day")
            blocks.append((numbering.first, numbering.last, code))
        services[code] = Service(code=code, name=_str(s, f"{where}.name"), numbering=numbering, name_en=s.get("name_en", ""))
    return services


def _numbering(s: dict[str, Any], where: str) -> Numbering:
    if "prefix" in s:
        prefix = s["prefix"]
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z]{1,2}", prefix):
            raise ConfigError(f"{where}.prefix: must be one or two capital letters, got {prefix!r}")
        digits = s.get("digits", 3)
        if not isinstance(digits, int) or not 2 <= digits <= 4:
            raise ConfigError(f"{where}.digits: must be 2, 3 or 4")
        return Numbering(first=1, last=10**digits - 1, prefix=prefix, digits=digits)
    numbers = s.get("numbers")
    match = re.fullmatch(r"\s*(\d{1,6})\s*-\s*(\d{1,6})\s*", numbers) if isinstance(numbers, str) else None
    if not match:
        raise ConfigError(f"{where}: give either numbers = \"1001-1999\" (a block) or prefix = \"A\" (letter and digits)")
    first, last = int(match[1]), int(match[2])
    if first < 1 or last <= first:
        raise ConfigError(f"{where}.numbers: {numbers!r} must go from a positive number up to a larger one")
    return Numbering(first=first, last=last)


def _counters(raw: Any, services: dict[str, Service]) -> dict[str, Counter]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("counters: at least one [[counters]] table is required")
    counters: dict[str, Counter] = {}
    for i, c in enumerate(raw):
        where = f"counters[{i}]"
        cid = _ident(c, f"{where}.id", counters, "counter id")
        served = c.get("services")
        if not isinstance(served, list) or not served or not all(isinstance(x, str) for x in served):
            raise ConfigError(f"{where}.services: must list at least one service code")
        for code in served:
            if code not in services:
                raise ConfigError(f"{where}.services: unknown service {code!r} (known: {', '.join(services)})")
        counters[cid] = Counter(id=cid, name=_str(c, f"{where}.name"), services=tuple(served), priority_only=_bool(c, "priority_only", False, where))
    return counters


def _devices(raw: Any, counters: dict[str, Counter]) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    for i, d in enumerate(raw or []):
        where = f"devices[{i}]"
        did = _ident(d, f"{where}.id", devices, "device id")
        role = _str(d, f"{where}.role")
        if role not in ROLES:
            raise ConfigError(f"{where}.role: {role!r} is not one of {', '.join(ROLES)}")
        counter = d.get("counter")
        if role == "counter":
            if counter not in counters:
                raise ConfigError(f"{where}.counter: a counter device needs the id of its counter (known: {', '.join(counters)})")
        elif counter is not None:
            raise ConfigError(f"{where}.counter: only devices with role \"counter\" are bound to a counter")
        devices[did] = Device(id=did, role=role, counter=counter)
    return devices


def _rules(raw: Any) -> CallingRules:
    if not isinstance(raw, dict):
        raise ConfigError("[calling]: must be a table")
    mode = raw.get("priority", "ratio")
    if mode not in ("strict", "ratio"):
        raise ConfigError(f"calling.priority: must be \"strict\" or \"ratio\", got {mode!r}")
    ratio = raw.get("ratio", "2:1")
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", ratio) if isinstance(ratio, str) else None
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ConfigError(f"calling.ratio: must look like \"2:1\" (regular:priority), got {ratio!r}")
    calls = raw.get("calls_before_no_show", 2)
    if not isinstance(calls, int) or not 1 <= calls <= 10:
        raise ConfigError("calling.calls_before_no_show: must be a whole number from 1 to 10")
    requeue = raw.get("requeue", "front")
    if requeue not in ("front", "back"):
        raise ConfigError(f"calling.requeue: must be \"front\" or \"back\", got {requeue!r}")
    minutes = raw.get("default_service_minutes", 10)
    if not isinstance(minutes, int | float) or not 0 < minutes <= 240:
        raise ConfigError("calling.default_service_minutes: must be a number of minutes from 0 to 240")
    window = raw.get("estimate_window", 20)
    if not isinstance(window, int) or not 1 <= window <= 500:
        raise ConfigError("calling.estimate_window: must be a whole number from 1 to 500")
    return CallingRules(
        priority_mode=mode,
        ratio_regular=int(match[1]),
        ratio_priority=int(match[2]),
        calls_before_no_show=calls,
        requeue=requeue,
        default_service_minutes=float(minutes),
        estimate_window=window,
    )


def _dossier_lookup(raw: Any) -> DossierLookup:
    if not isinstance(raw, dict):
        raise ConfigError("[dossier_lookup]: must be a table")
    defaults = DossierLookup()
    known = ("per_minute", "burst", "not_found_cost", "max_verify_failures", "verify_window_minutes", "max_verify_failures_per_day")
    for key in raw:
        if key not in known:
            # A misspelt limit silently left at its default would be a security setting nobody applied.
            raise ConfigError(f"dossier_lookup.{key}: unknown key (known: {', '.join(known)})")

    def number(key: str, low: float, high: float, whole: bool) -> Any:
        value = raw.get(key, getattr(defaults, key))
        kinds = int if whole else int | float
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"dossier_lookup.{key}: must be {kind} from {low:g} to {high:g}, got {value!r}")
        return value

    return DossierLookup(
        per_minute=float(number("per_minute", 0, 6000, whole=False)),
        burst=number("burst", 1, 1000, whole=True),
        not_found_cost=float(number("not_found_cost", 1, 100, whole=False)),
        max_verify_failures=number("max_verify_failures", 1, 20, whole=True),
        verify_window_minutes=number("verify_window_minutes", 1, 1440, whole=True),
        max_verify_failures_per_day=number("max_verify_failures_per_day", 1, 100, whole=True),
    )


def _province(raw: Any) -> ProvinceLink:
    if not isinstance(raw, dict):
        raise ConfigError("[province]: must be a table")
    known = ("brokers", "topic_root", "credentials", "hub_url", "lookup_timeout_seconds")
    for key in raw:
        if key not in known:
            raise ConfigError(f"province.{key}: unknown key (known: {', '.join(known)})")
    brokers = raw.get("brokers", [])
    if not isinstance(brokers, list) or not all(isinstance(b, str) and b.strip() for b in brokers):
        raise ConfigError('province.brokers: must be a list like ["mqtt://nats-1.example:1883", ...]')
    for b in brokers:
        if "@" in b:
            # A password in the office file would be readable by everything that reads the file.
            raise ConfigError(f"province.brokers: {b!r} carries a user name; put the credential in province.credentials")
    root = raw.get("topic_root", "motcua-province")
    if not isinstance(root, str) or not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", root):
        raise ConfigError("province.topic_root: letters, digits, '-', '_' and '/' between levels")
    hub_url = raw.get("hub_url")
    if hub_url is not None and (not isinstance(hub_url, str) or not re.match(r"https?://[^/\s]+", hub_url)):
        raise ConfigError(f"province.hub_url: must be an http:// or https:// address, got {hub_url!r}")
    credentials = raw.get("credentials")
    if credentials is not None and (not isinstance(credentials, str) or not credentials.strip()):
        raise ConfigError("province.credentials: must be the path of the forwarder's credential file")
    timeout = raw.get("lookup_timeout_seconds", 3.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.1 <= timeout <= 30:
        raise ConfigError("province.lookup_timeout_seconds: must be a number of seconds from 0.1 to 30")
    return ProvinceLink(brokers=tuple(b.strip() for b in brokers), topic_root=root, credentials=credentials,
                        hub_url=hub_url.rstrip("/") if hub_url else None, lookup_timeout_seconds=float(timeout))
