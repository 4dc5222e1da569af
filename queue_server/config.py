"""Office configuration: read a TOML file into frozen dataclasses, or fail naming the key.

The dataclasses are plain data the engine reads; parsing here has no side effects,
so the engine may import this module. Only `load()` touches the file system.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from motcua.protocol import BOUND_ROLES, DEFAULT_PREFIX, DEVICE_ID_RE, ROLES, SERVER_ROLES
from queue_server.procedures.model import CODE_RE  # the catalogue's own rule for procedure codes

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


def _span_text(start: time, end: time) -> str:
    """'sáng 07:00-11:30', 'chiều 13:00-17:00'; a span across midday keeps no part-of-day word."""
    span = f"{start:%H:%M}-{end:%H:%M}"
    if end <= time(12, 30):
        return f"sáng {span}"
    if start >= time(18, 0):
        return f"tối {span}"
    if start >= time(12, 0):
        return f"chiều {span}"
    return span
# Why a citizen rated as they did (issue 19): votes carry codes from this list, so reports can
# count them; an office replaces the list with its own [[vote_reasons]].
DEFAULT_VOTE_REASONS = {
    "friendly": ("Cán bộ tận tình, chu đáo", "Friendly, helpful official"),
    "fast": ("Giải quyết nhanh", "Quick service"),
    "clear_guidance": ("Hướng dẫn rõ ràng, dễ hiểu", "Clear guidance"),
    "long_wait": ("Thời gian chờ lâu", "Long wait"),
    "unclear_guidance": ("Hướng dẫn chưa rõ ràng", "Unclear guidance"),
    "attitude": ("Thái độ phục vụ chưa tốt", "Poor attitude"),
    "more_documents": ("Phải bổ sung giấy tờ nhiều lần", "Asked for more documents again and again"),
    "facilities": ("Cơ sở vật chất chưa đáp ứng", "Poor facilities"),
}
VOTE_REASON_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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
    spoken_name: str = ""  # what the loudspeaker says; empty: "quầy số N" (motcua.speech.counter_words)


@dataclass(frozen=True)
class Holiday:
    """Days the office is closed whatever [hours] says ([[holidays]]): a public holiday, Tết."""

    first: date
    last: date
    name: str

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


MAX_HOLIDAYS = 200  # a few years of announced holidays; old ones may stay in the file
MAX_HOLIDAY_DAYS = 31


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    counter: str | None = None
    # Issue limits of this device (None: the office's [issuing] limits for its role).
    tickets_per_minute: int | None = None
    tickets_per_hour: int | None = None
    # The signed-in person a page acts for (requests made inside the server, never from the
    # configuration): the office checks it against the counter and records it (issue 16).
    staff: str | None = None


@dataclass(frozen=True)
class IssuingLimits:
    """How many tickets one kiosk may issue ([issuing]); stops a stuck button or a script
    from emptying a field's numbers (issue 14). 0 turns a limit off."""

    per_minute: int = 10
    per_hour: int = 200

    def for_device(self, device: Device) -> tuple[int, int]:
        if device.role != "kiosk":
            return 0, 0  # officials' and admin devices issue on a citizen's behalf, rarely
        minute = self.per_minute if device.tickets_per_minute is None else device.tickets_per_minute
        hour = self.per_hour if device.tickets_per_hour is None else device.tickets_per_hour
        return minute, hour


@dataclass(frozen=True)
class CallingRules:
    priority_mode: str = "ratio"  # "strict" or "ratio"
    ratio_regular: int = 2
    ratio_priority: int = 1
    calls_before_no_show: int = 2
    requeue: str = "front"  # "front": a returning no-show regains its place; "back": joins the end
    default_service_minutes: float = 10.0
    estimate_window: int = 20
    remote_grace_minutes: int = 15  # a phone ticket whose turn passed longer ago goes to the end on arrival


@dataclass(frozen=True)
class DossierLookup:
    """Limits on the public dossier lookup ([dossier_lookup]; docs/dossiers.md).

    Per client address, a token bucket of `per_minute` lookups a minute holding at most `burst`
    (per_minute = 0 turns it off); a not-found or garbage code costs `not_found_cost` lookups.
    Wrong digits are counted per dossier and per client (an address, or a browser that verified
    the dossier before): a client is refused for `verify_window_minutes` after `max_verify_failures`
    wrong entries and for a day after `max_verify_failures_per_day`, so a stranger locks out only
    himself; all clients that never verified share `max_verify_failures_total` wrong entries over
    the dossier's life, which bounds guessing however many addresses one has (docs/dossiers.md).
    """

    per_minute: float = 20.0
    burst: int = 10
    not_found_cost: float = 3.0
    max_verify_failures: int = 5
    verify_window_minutes: int = 15
    max_verify_failures_per_day: int = 10
    max_verify_failures_total: int = 30


# Dossiers received a year per official, by the kind of office (Sóc Trăng plan 2021-2025).
YEARLY_DOSSIER_TARGETS = {"provincial": 1600, "rural": 1200, "remote": 800}


@dataclass(frozen=True)
class ReportSettings:
    """Targets the reports judge against ([reports]; docs/reports.md)."""

    area: str = "rural"  # "provincial" centre, "rural" or "remote" office: sets the yearly target
    yearly_dossiers_per_official: int = YEARLY_DOSSIER_TARGETS["rural"]
    wait_target_minutes: float = 15.0  # 2025: mean wait at most 15 minutes per visit
    wait_limit_minutes: float = 30.0  # 2022: no visit waits more than 30 minutes
    satisfaction_target: float = 0.95  # very satisfied + satisfied over all votes, by 2025
    idle_alert_minutes: float = 3.0  # a counter idle this long while its fields have people waiting
    room_shows_officials: bool = False  # the public screen in the room names who sits at each counter (docs/reports.md)


# What a waiting-room TV may show from <data>/tv/ ([tv] slides of kind "media"; docs/tv.md).
TV_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}
TV_VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}
TV_TEXT_TYPES = {".txt": "text/plain; charset=utf-8"}  # a notice: first line the title, the rest its text
TV_MEDIA_TYPES = {**TV_IMAGE_TYPES, **TV_VIDEO_TYPES, **TV_TEXT_TYPES}
TV_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")  # a plain name in that folder: no path, no hidden file
TV_LAYOUTS = ("auto", "landscape", "portrait")
TV_SLIDE_KINDS = ("notice", "procedure", "media", "hours", "figures")
TV_SLIDE_KEYS = {"notice": ("title", "text"), "procedure": ("codes",), "media": ("file",), "hours": (), "figures": ()}


@dataclass(frozen=True)
class TvSlide:
    """One item of the TVs' rotation between calls ([[tv.slides]]).

    notice: a title and a text; procedure: the catalogue's procedures with these codes, one
    slide each; media: one file of <data>/tv/, or (no file) every image, video and .txt there
    in name order; hours: the opening hours; figures: this month's dossier counts.
    """

    kind: str
    title: str = ""
    text: str = ""
    codes: tuple[str, ...] = ()
    file: str = ""
    seconds: int | None = None  # None: [tv] slide_seconds (a video plays to its end, at most max_video_seconds)


DEFAULT_TV_SLIDES = (TvSlide("hours"), TvSlide("media"), TvSlide("figures"))


@dataclass(frozen=True)
class TvSettings:
    """The waiting-room TV pages ([tv]; docs/tv.md). Changed at run time, the TVs follow within seconds."""

    layout: str = "auto"  # "landscape", "portrait", or "auto" by the screen's aspect ratio (a page's ?layout= wins)
    call_seconds: int = 8  # how long a call fills the screen
    recent_calls: int = 5  # latest calls listed
    slide_seconds: int = 15
    max_video_seconds: int = 120
    results_page_seconds: int = 15  # each page of the results screen
    results_refresh_seconds: int = 30  # how often the server reads the ready dossiers and this month's counts
    slides: tuple[TvSlide, ...] = DEFAULT_TV_SLIDES


# --- appointments, numbers taken from a phone, notifications (issue 20; docs/appointments.md) ---


@dataclass(frozen=True)
class Closure:
    """Days (or hours of them) without bookings for some or all fields ([[appointments.closures]])."""

    first: date
    last: date
    services: tuple[str, ...] = ()  # empty: every field
    start: time | None = None  # None: the whole day
    end: time | None = None
    reason: str = ""

    def covers(self, service: str, day: date, start: time, end: time) -> bool:
        """Whether a slot [start, end) of `service` on `day` falls in this closure."""
        if not self.first <= day <= self.last or (self.services and service not in self.services):
            return False
        if self.start is None or self.end is None:
            return True
        return start < self.end and self.start < end


@dataclass(frozen=True)
class AppointmentSettings:
    """Booked appointments ([appointments]). Capacity per slot is derived from the counters serving
    a field unless `capacity` names it (queue_server/appointments/slots.py has the formula)."""

    enabled: bool = True
    services: tuple[str, ...] = ()  # fields that take bookings; empty: all
    slot_minutes: int = 30
    share: float = 0.5  # of a field's counter time that bookings may take: the rest is for walk-ins
    capacity: dict[str, int] = field(default_factory=dict)  # bookings per slot, by field (overrides the formula)
    days_ahead: int = 14  # how far ahead a slot may be booked
    min_notice_minutes: int = 30  # a slot closes for booking this long before it starts
    early_minutes: int = 60  # check-in opens this long before the slot (an early citizen then waits for it)
    grace_minutes: int = 15  # after the slot; a later check-in becomes a walk-in ticket
    per_holder_per_day: int = 2  # bookings per phone or ID number per day
    per_holder_open: int = 4  # bookings one phone or ID number may hold at once
    closures: tuple[Closure, ...] = ()

    def offers(self, service: str) -> bool:
        return self.enabled and (not self.services or service in self.services)


@dataclass(frozen=True)
class PhoneQueueSettings:
    """Today's number taken from a phone ([phone_queue]): called only once its holder is here."""

    enabled: bool = True
    services: tuple[str, ...] = ()  # empty: all
    per_phone_per_day: int = 1

    def offers(self, service: str) -> bool:
        return self.enabled and (not self.services or service in self.services)


NOTIFICATION_KINDS = ("near", "called")
NOTIFICATION_PLACEHOLDERS = frozenset({"number", "service", "ahead", "counter", "office", "minutes"})
GATEWAYS = ("log", "modem", "http")


@dataclass(frozen=True)
class ModemSettings:
    """An SMS modem (GSM/3G/4G USB stick) answering AT commands on a serial port."""

    port: str = "/dev/ttyUSB0"
    baudrate: int = 115200
    encoding: str = "ucs2"  # "ucs2": Vietnamese with diacritics (70 characters a part); "gsm": without them (160)
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class HttpGatewaySettings:
    """An SMS provider's HTTP API: POST {to_field: phone, text_field: text} as JSON with a bearer token
    read from `token_file` (never from this document, which the event log keeps)."""

    url: str = ""
    token_file: str = ""
    to_field: str = "to"
    text_field: str = "text"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class NotificationSettings:
    """SMS to citizens who asked for them ([notifications]); wording in `templates` (else the catalogs)."""

    gateway: str = "log"
    near_places: int = 3  # "your turn is near" when this many people or fewer are ahead
    templates: dict[str, str] = field(default_factory=dict)  # kind -> Vietnamese text with {placeholders}
    modem: ModemSettings = field(default_factory=ModemSettings)
    http: HttpGatewaySettings = field(default_factory=HttpGatewaySettings)


@dataclass(frozen=True)
class VoteReason:
    code: str
    name: str
    name_en: str = ""


def _default_vote_reasons() -> dict[str, VoteReason]:
    return {code: VoteReason(code, vi, en) for code, (vi, en) in DEFAULT_VOTE_REASONS.items()}


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
    issuing: IssuingLimits = field(default_factory=IssuingLimits)
    counter_vote_minutes: int = 5  # a rating device may vote for its counter's last ticket this long after it finished
    # The document this was parsed from (for the export) and the settings a command line
    # forced on top of it (--always-open), which a configuration change at run time keeps.
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    overrides: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    vote_reasons: dict[str, VoteReason] = field(default_factory=_default_vote_reasons)
    reports: ReportSettings = field(default_factory=ReportSettings)
    holidays: tuple[Holiday, ...] = ()
    tv: TvSettings = field(default_factory=TvSettings)
    appointments: AppointmentSettings = field(default_factory=AppointmentSettings)
    phone_queue: PhoneQueueSettings = field(default_factory=PhoneQueueSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def business_day(self, now: datetime) -> str:
        """The business day (ISO date) of an instant: local date, shifted by the reset time."""
        local = now.astimezone(self.tz)
        shifted = local - timedelta(hours=self.day_reset.hour, minutes=self.day_reset.minute)
        return shifted.date().isoformat()

    def is_open(self, now: datetime) -> bool:
        """Whether kiosks may issue now: not on a holiday, and within [hours] (if any).
        `issue_outside_hours` (--always-open) opens holidays too."""
        if self.issue_outside_hours:
            return True
        if self.holiday_on(now) is not None:
            return False
        if not self.hours:
            return True
        local = now.astimezone(self.tz)
        t = local.time()
        return any(start <= t < end for start, end in self.hours.get(local.weekday(), ()))

    def holiday_on(self, now: datetime) -> Holiday | None:
        """The holiday covering the local date of `now`, if any."""
        day = now.astimezone(self.tz).date()
        return next((h for h in self.holidays if h.covers(day)), None)

    def next_open_day(self, now: datetime) -> date | None:
        """The first local date after today with opening hours and no holiday (None: none within 60 days)."""
        day = now.astimezone(self.tz).date()
        for _ in range(60):
            day += timedelta(days=1)
            if any(h.covers(day) for h in self.holidays):
                continue
            if not self.hours or self.hours.get(day.weekday()):
                return day
        return None

    def hours_text(self) -> str:
        """The hours as people say them: 'Thứ Hai đến Thứ Sáu: sáng 07:00-11:30, chiều 13:00-17:00; Thứ Bảy: sáng 07:00-11:30'.

        Runs of days with equal hours are joined; no colon precedes the days, so a message can
        embed the text without a double colon (issue 22).
        """
        runs: list[list[Any]] = []  # [first day, last day, spans]
        for day, spans in sorted(self.hours.items()):
            if spans and runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
                runs[-1][1] = day
            elif spans:
                runs.append([day, day, spans])
        parts = []
        for first, last, spans in runs:
            days = WEEKDAY_VI[first] if first == last else f"{WEEKDAY_VI[first]} đến {WEEKDAY_VI[last]}"
            parts.append(f"{days}: " + ", ".join(_span_text(a, b) for a, b in spans))
        return "; ".join(parts)

    def counters_serving(self, service: str) -> list[Counter]:
        return [c for c in self.counters.values() if service in c.services]

    def with_overrides(self, **changes: Any) -> OfficeConfig:
        return replace(self, **changes, overrides={**self.overrides, **changes})


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
        issuing=_issuing(raw.get("issuing", {})),
        counter_vote_minutes=_whole(raw.get("votes", {}), "counter_vote_minutes", 5, 1, 120, "votes"),
        source=raw,
        vote_reasons=_vote_reasons(raw),
        reports=_reports(raw.get("reports", {})),
        holidays=_holidays(raw),
        tv=_tv(raw.get("tv", {})),
        appointments=_appointments(raw.get("appointments", {}), services),
        phone_queue=_phone_queue(raw.get("phone_queue", {}), services),
        notifications=_notifications(raw.get("notifications", {})),
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


def _iso_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        # A TOML date literal cannot travel in the JSON of a configuration change: keep dates as text.
        raise ConfigError(f'{where}: write the date in quotes, like "{value.isoformat()}"')
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ConfigError(f'{where}: must be a date like "2026-09-02", got {value!r}')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date") from None


def _holidays(raw: dict[str, Any]) -> tuple[Holiday, ...]:
    """[[holidays]]: date = "2026-09-02", optional until = "2026-09-03" (inclusive), name."""
    items = _list(raw, "holidays")
    if len(items) > MAX_HOLIDAYS:
        raise ConfigError(f"holidays: at most {MAX_HOLIDAYS} entries (remove past years)")
    holidays = []
    for i, h in enumerate(items):
        where = f"holidays[{i}]"
        for key in h:
            if key not in ("date", "until", "name"):
                raise ConfigError(f"{where}.{key}: unknown key (known: date, until, name)")
        first = _iso_date(h.get("date"), f"{where}.date")
        last = _iso_date(h["until"], f"{where}.until") if "until" in h else first
        if last < first:
            raise ConfigError(f"{where}.until: {last.isoformat()} is before the date {first.isoformat()}")
        if (last - first).days >= MAX_HOLIDAY_DAYS:
            raise ConfigError(f"{where}.until: a holiday lasts at most {MAX_HOLIDAY_DAYS} days")
        name = _str(h, f"{where}.name")
        if len(name) > 100:
            raise ConfigError(f"{where}.name: at most 100 characters")
        holidays.append(Holiday(first, last, name))
    return tuple(sorted(holidays, key=lambda h: h.first))


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
        spoken = c.get("spoken_name", "")
        if not isinstance(spoken, str):
            raise ConfigError(f"{where}.spoken_name: must be a string")
        counters[cid] = Counter(
            id=cid, name=_str(c, f"{where}.name"), services=tuple(served),
            priority_only=_bool(c, "priority_only", False, where), spoken_name=spoken.strip(),
        )
    return counters


def _devices(raw: Any, counters: dict[str, Counter]) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    for i, d in enumerate(raw or []):
        where = f"devices[{i}]"
        did = _ident(d, f"{where}.id", devices, "device id")
        role = _str(d, f"{where}.role")
        if role not in ROLES or role in SERVER_ROLES:
            raise ConfigError(f"{where}.role: {role!r} is not one of {', '.join(r for r in ROLES if r not in SERVER_ROLES)}")
        counter = d.get("counter")
        if role in BOUND_ROLES:
            if counter not in counters:
                raise ConfigError(f"{where}.counter: a {role} device needs the id of its counter (known: {', '.join(counters)})")
        elif counter is not None:
            raise ConfigError(f"{where}.counter: only devices with role \"counter\" or \"rating\" are bound to a counter")
        limits = {key: _whole(d, key, None, 0, 10_000, where) for key in ("tickets_per_minute", "tickets_per_hour")}
        devices[did] = Device(id=did, role=role, counter=counter, **limits)
    return devices


def _whole(table: Any, key: str, default: Any, low: int, high: int, where: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}]: must be a table")
    value = table.get(key, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}.{key}: must be a whole number from {low} to {high}, got {value!r}")
    return value


def _issuing(raw: Any) -> IssuingLimits:
    if not isinstance(raw, dict):
        raise ConfigError("[issuing]: must be a table")
    for key in raw:
        if key not in ("per_minute", "per_hour"):
            raise ConfigError(f"issuing.{key}: unknown key (known: per_minute, per_hour)")
    defaults = IssuingLimits()
    return IssuingLimits(
        per_minute=_whole(raw, "per_minute", defaults.per_minute, 0, 10_000, "issuing"),
        per_hour=_whole(raw, "per_hour", defaults.per_hour, 0, 100_000, "issuing"),
    )


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
    grace = raw.get("remote_grace_minutes", 15)
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 240:
        raise ConfigError("calling.remote_grace_minutes: must be a whole number of minutes from 0 to 240")
    return CallingRules(
        remote_grace_minutes=grace,
        priority_mode=mode,
        ratio_regular=int(match[1]),
        ratio_priority=int(match[2]),
        calls_before_no_show=calls,
        requeue=requeue,
        default_service_minutes=float(minutes),
        estimate_window=window,
    )


def _vote_reasons(raw: dict[str, Any]) -> dict[str, VoteReason]:
    """[[vote_reasons]] replaces the default list: codes a vote may carry, with their words."""
    if "vote_reasons" not in raw:
        return _default_vote_reasons()
    reasons: dict[str, VoteReason] = {}
    for i, r in enumerate(_list(raw, "vote_reasons")):
        where = f"vote_reasons[{i}]"
        code = _str(r, f"{where}.code")
        if not VOTE_REASON_RE.match(code):
            raise ConfigError(f"{where}.code: use lower-case letters, digits and '_' (at most 40), got {code!r}")
        if code in reasons:
            raise ConfigError(f"{where}.code: duplicate vote reason {code!r}")
        name_en = r.get("name_en", "")
        if not isinstance(name_en, str):
            raise ConfigError(f"{where}.name_en: must be a string")
        reasons[code] = VoteReason(code, _str(r, f"{where}.name"), name_en.strip())
    return reasons


def _reports(raw: Any) -> ReportSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[reports]: must be a table")
    known = ("area", "yearly_dossiers_per_official", "wait_target_minutes", "wait_limit_minutes", "satisfaction_target", "idle_alert_minutes",
             "room_shows_officials")
    for key in raw:
        if key not in known:
            raise ConfigError(f"reports.{key}: unknown key (known: {', '.join(known)})")
    area = raw.get("area", "rural")
    if area not in YEARLY_DOSSIER_TARGETS:
        raise ConfigError(f"reports.area: must be one of {', '.join(YEARLY_DOSSIER_TARGETS)}, got {area!r}")

    def number(key: str, default: float, low: float, high: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(f"reports.{key}: must be a number from {low:g} to {high:g}, got {value!r}")
        return value

    target = number("yearly_dossiers_per_official", YEARLY_DOSSIER_TARGETS[area], 1, 100_000)
    shows_officials = raw.get("room_shows_officials", False)
    if not isinstance(shows_officials, bool):
        raise ConfigError(f"reports.room_shows_officials: must be true or false, got {shows_officials!r}")
    return ReportSettings(
        area=area,
        yearly_dossiers_per_official=int(target),
        wait_target_minutes=float(number("wait_target_minutes", 15, 1, 240)),
        wait_limit_minutes=float(number("wait_limit_minutes", 30, 1, 480)),
        satisfaction_target=float(number("satisfaction_target", 0.95, 0, 1)),
        idle_alert_minutes=float(number("idle_alert_minutes", 3, 0.5, 120)),
        room_shows_officials=shows_officials,
    )


def _dossier_lookup(raw: Any) -> DossierLookup:
    if not isinstance(raw, dict):
        raise ConfigError("[dossier_lookup]: must be a table")
    defaults = DossierLookup()
    known = ("per_minute", "burst", "not_found_cost", "max_verify_failures", "verify_window_minutes", "max_verify_failures_per_day",
             "max_verify_failures_total")
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
        max_verify_failures_total=number("max_verify_failures_total", 1, 500, whole=True),
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
def _tv(raw: Any) -> TvSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[tv]: must be a table")
    defaults = TvSettings()
    numbers = {"call_seconds": (2, 60), "recent_calls": (1, 12), "slide_seconds": (3, 600), "max_video_seconds": (5, 1800),
               "results_page_seconds": (3, 600), "results_refresh_seconds": (5, 3600)}
    _known_keys(raw, "tv", ("layout", *numbers, "slides"))
    layout = raw.get("layout", defaults.layout)
    if layout not in TV_LAYOUTS:
        raise ConfigError(f"tv.layout: must be one of {', '.join(TV_LAYOUTS)}, got {layout!r}")
    values = {key: _whole(raw, key, getattr(defaults, key), low, high, "tv") for key, (low, high) in numbers.items()}
    slides = raw.get("slides", DEFAULT_TV_SLIDES)
    if slides is not DEFAULT_TV_SLIDES:
        if not isinstance(slides, list) or len(slides) > 200 or not all(isinstance(x, dict) for x in slides):
            raise ConfigError("tv.slides: must be an array of at most 200 tables ([[tv.slides]] with kind = ...)")
        slides = tuple(_tv_slide(x, f"tv.slides[{i}]") for i, x in enumerate(slides))
    return TvSettings(layout=layout, slides=slides, **values)


def _tv_slide(raw: dict[str, Any], where: str) -> TvSlide:
    kind = raw.get("kind")
    if kind not in TV_SLIDE_KINDS:
        raise ConfigError(f"{where}.kind: must be one of {', '.join(TV_SLIDE_KINDS)}, got {kind!r}")
    allowed = ("kind", "seconds", *TV_SLIDE_KEYS[kind])
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: not a key of slides of kind {kind!r} (known: {', '.join(allowed)})")
    seconds = _whole(raw, "seconds", None, 3, 1800, where)
    if kind == "notice":
        title = raw.get("title", "")
        if not isinstance(title, str) or len(title) > 120:
            raise ConfigError(f"{where}.title: must be a text of at most 120 characters")
        text = _str(raw, f"{where}.text")
        if len(text) > 1000:
            raise ConfigError(f"{where}.text: at most 1000 characters (a TV is read from afar), got {len(text)}")
        return TvSlide(kind, title=unicodedata.normalize("NFC", title.strip()), text=unicodedata.normalize("NFC", text), seconds=seconds)
    if kind == "procedure":
        codes = raw.get("codes")
        if not isinstance(codes, list) or not codes or len(codes) > 100 or not all(isinstance(c, str) and CODE_RE.match(c) for c in codes):
            raise ConfigError(f"{where}.codes: must list 1-100 procedure codes of the catalogue, e.g. [\"1.001193\"]")
        return TvSlide(kind, codes=tuple(codes), seconds=seconds)
    if kind == "media":
        name = raw.get("file", "")
        if name and (not isinstance(name, str) or not TV_FILE_RE.match(name) or Path(name).suffix.lower() not in TV_MEDIA_TYPES):
            raise ConfigError(f"{where}.file: a file name in <data>/tv/ ending in {', '.join(TV_MEDIA_TYPES)}, got {name!r}")
        return TvSlide(kind, file=name, seconds=seconds)
    return TvSlide(kind, seconds=seconds)
# --- [appointments], [phone_queue], [notifications] (issue 20) -------------------------------


def _known_keys(raw: dict[str, Any], where: str, known: tuple[str, ...]) -> None:
    # A misspelt key silently left at its default would be a setting nobody applied.
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key (known: {', '.join(known)})")


def _service_list(raw: dict[str, Any], where: str, services: dict[str, Service]) -> tuple[str, ...]:
    value = raw.get("services", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.services: must list service codes")
    for code in value:
        if code not in services:
            raise ConfigError(f"{where}.services: unknown service {code!r} (known: {', '.join(services)})")
    return tuple(value)


def _closures(raw: Any, services: dict[str, Service]) -> tuple[Closure, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ConfigError("appointments.closures: must be an array of tables ([[appointments.closures]])")
    closures = []
    for i, c in enumerate(raw):
        where = f"appointments.closures[{i}]"
        _known_keys(c, where, ("date", "until", "services", "from", "to", "reason"))
        first = _iso_date(c.get("date"), f"{where}.date")
        last = _iso_date(c["until"], f"{where}.until") if "until" in c else first
        if last < first:
            raise ConfigError(f"{where}.until: {last.isoformat()} is before the date {first.isoformat()}")
        start = _clock_time(c["from"], f"{where}.from") if "from" in c else None
        end = _clock_time(c["to"], f"{where}.to") if "to" in c else None
        if (start is None) != (end is None) or (start is not None and end is not None and end <= start):
            raise ConfigError(f"{where}: give both from and to (from before to), or neither for the whole day")
        reason = c.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 200:
            raise ConfigError(f"{where}.reason: must be a text of at most 200 characters")
        closures.append(Closure(first, last, _service_list(c, where, services), start, end, reason.strip()))
    return tuple(closures)


def _appointments(raw: Any, services: dict[str, Service]) -> AppointmentSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[appointments]: must be a table")
    known = ("enabled", "services", "slot_minutes", "share", "capacity", "days_ahead", "min_notice_minutes", "early_minutes",
             "grace_minutes", "per_holder_per_day", "per_holder_open", "closures")
    _known_keys(raw, "appointments", known)
    d = AppointmentSettings()
    slot = _whole(raw, "slot_minutes", d.slot_minutes, 5, 240, "appointments")
    share = raw.get("share", d.share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ConfigError(f"appointments.share: must be a number above 0 and at most 1, got {share!r}")
    capacity = raw.get("capacity", {})
    if not isinstance(capacity, dict):
        raise ConfigError("appointments.capacity: must be a table like HT = 4 (bookings per slot)")
    for code in capacity:
        if code not in services:
            raise ConfigError(f"appointments.capacity.{code}: unknown service (known: {', '.join(services)})")
        _whole(capacity, code, None, 0, 1000, "appointments.capacity")
    return AppointmentSettings(
        enabled=_bool(raw, "enabled", d.enabled, "appointments"),
        services=_service_list(raw, "appointments", services),
        slot_minutes=slot,
        share=float(share),
        capacity=dict(capacity),
        days_ahead=_whole(raw, "days_ahead", d.days_ahead, 0, 366, "appointments"),
        min_notice_minutes=_whole(raw, "min_notice_minutes", d.min_notice_minutes, 0, 7 * 24 * 60, "appointments"),
        early_minutes=_whole(raw, "early_minutes", d.early_minutes, 0, 12 * 60, "appointments"),
        grace_minutes=_whole(raw, "grace_minutes", d.grace_minutes, 0, 240, "appointments"),
        per_holder_per_day=_whole(raw, "per_holder_per_day", d.per_holder_per_day, 1, 100, "appointments"),
        per_holder_open=_whole(raw, "per_holder_open", d.per_holder_open, 1, 1000, "appointments"),
        closures=_closures(raw.get("closures", []), services),
    )


def _phone_queue(raw: Any, services: dict[str, Service]) -> PhoneQueueSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[phone_queue]: must be a table")
    _known_keys(raw, "phone_queue", ("enabled", "services", "per_phone_per_day"))
    d = PhoneQueueSettings()
    return PhoneQueueSettings(
        enabled=_bool(raw, "enabled", d.enabled, "phone_queue"),
        services=_service_list(raw, "phone_queue", services),
        per_phone_per_day=_whole(raw, "per_phone_per_day", d.per_phone_per_day, 1, 20, "phone_queue"),
    )


def notification_template_problem(text: Any) -> str | None:
    """Why a notification template cannot be used, or None (also for the admin page's check)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 320:
        return "must be a text of 1-320 characters"
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        return f"unbalanced braces ({exc}); write {{{{ and }}}} for a literal brace"
    unknown = sorted(names - NOTIFICATION_PLACEHOLDERS)
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(NOTIFICATION_PLACEHOLDERS))})"
    return None


def _notifications(raw: Any) -> NotificationSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[notifications]: must be a table")
    _known_keys(raw, "notifications", ("gateway", "near_places", "templates", "modem", "http"))
    d = NotificationSettings()
    gateway = raw.get("gateway", d.gateway)
    if gateway not in GATEWAYS:
        raise ConfigError(f"notifications.gateway: must be one of {', '.join(GATEWAYS)}, got {gateway!r}")
    templates = raw.get("templates", {})
    if not isinstance(templates, dict):
        raise ConfigError("[notifications.templates]: must be a table like near = \"...\"")
    for kind, text in templates.items():
        if kind not in NOTIFICATION_KINDS:
            raise ConfigError(f"notifications.templates.{kind}: unknown message (known: {', '.join(NOTIFICATION_KINDS)})")
        problem = notification_template_problem(text)
        if problem:
            raise ConfigError(f"notifications.templates.{kind}: {problem}")
    modem = raw.get("modem", {})
    if not isinstance(modem, dict):
        raise ConfigError("[notifications.modem]: must be a table")
    _known_keys(modem, "notifications.modem", ("port", "baudrate", "encoding", "timeout_seconds"))
    encoding = modem.get("encoding", "ucs2")
    if encoding not in ("ucs2", "gsm"):
        raise ConfigError(f"notifications.modem.encoding: must be \"ucs2\" (with diacritics) or \"gsm\" (without), got {encoding!r}")
    http = raw.get("http", {})
    if not isinstance(http, dict):
        raise ConfigError("[notifications.http]: must be a table")
    _known_keys(http, "notifications.http", ("url", "token_file", "to_field", "text_field", "timeout_seconds"))
    url = http.get("url", "")
    if not isinstance(url, str) or (url and not re.match(r"^https?://[^\s/]+", url)):
        raise ConfigError(f"notifications.http.url: must be an http:// or https:// address, got {url!r}")
    if gateway == "http" and not url:
        raise ConfigError("notifications.http.url: required with gateway = \"http\"")
    for key in ("token_file", "to_field", "text_field"):
        if not isinstance(http.get(key, ""), str):
            raise ConfigError(f"notifications.http.{key}: must be a text")
    for table, where in ((modem, "notifications.modem"), (http, "notifications.http")):
        seconds = table.get("timeout_seconds", 30.0 if table is modem else 10.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 300:
            raise ConfigError(f"{where}.timeout_seconds: must be a number of seconds from 0 to 300")
    port = modem.get("port", ModemSettings.port)
    if not isinstance(port, str) or not port.strip():
        raise ConfigError("notifications.modem.port: must be a device path like \"/dev/ttyUSB2\"")
    return NotificationSettings(
        gateway=gateway,
        near_places=_whole(raw, "near_places", d.near_places, 1, 50, "notifications"),
        templates={kind: unicodedata.normalize("NFC", text.strip()) for kind, text in templates.items()},
        modem=ModemSettings(port=port.strip(), baudrate=_whole(modem, "baudrate", 115200, 1200, 4_000_000, "notifications.modem"),
                            encoding=encoding, timeout_seconds=float(modem.get("timeout_seconds", 30.0))),
        http=HttpGatewaySettings(url=url, token_file=http.get("token_file", ""), to_field=http.get("to_field", "to") or "to",
                                 text_field=http.get("text_field", "text") or "text",
                                 timeout_seconds=float(http.get("timeout_seconds", 10.0))),
    )
