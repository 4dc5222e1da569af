"""What one kiosk box needs to know: its device id, mode, the server's HTTP address, printer and scanner.

Read from the `[kiosk]`, `[printer]` and `[scanner]` tables of the TOML file given with `--config`
(the same file carries `[office]`, read by motcua.settings), then overridden by command-line options.
A box without those tables runs with the defaults below.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from motcua.i18n import LANGUAGES
from motcua.protocol import DEVICE_ID_RE
from motcua.settings import DEFAULT_CONFIG, SettingsError

Mode = Literal["entrance", "counter"]
MODES: tuple[str, ...] = ("entrance", "counter")
DEFAULT_STATE_DIR = Path("/var/lib/motcua-kiosk")


@dataclass(frozen=True)
class KioskSettings:
    device: str = "kiosk-01"
    mode: Mode = "entrance"
    counter: str | None = None          # counter mode: the counter this screen faces
    server_url: str = "http://127.0.0.1:8080"  # the queue server's HTTP: procedures, dossiers, the ticket QR
    public_url: str | None = None       # what the ticket QR points phones to, if not server_url
    language: str = "vi"
    idle_seconds: float = 60.0          # back to the home screen after this long untouched
    thanks_seconds: float = 6.0         # how long "thank you" screens stay
    priority_step: bool = True          # ask "do you belong to a priority group?" before the ticket
    resume_seconds: float = 120.0       # a ticket request left by a crash is re-sent if younger than this
    request_timeout: float = 2.0        # seconds per try of an MQTT request (DeviceClient re-sends the same id)
    state_dir: Path = DEFAULT_STATE_DIR
    font: str | None = None             # a TTF with full Vietnamese coverage; default: DejaVu Sans, then Noto Sans
    printer: dict[str, Any] = field(default_factory=dict)
    scanner: dict[str, Any] = field(default_factory=dict)

    @property
    def qr_base(self) -> str:
        return self.public_url or self.server_url

    def with_overrides(self, **changes: Any) -> KioskSettings:
        changes = {k: v for k, v in changes.items() if v is not None}
        return check(replace(self, **changes))


_FIELDS = {
    "device": str, "mode": str, "counter": str, "server_url": str, "public_url": str, "language": str,
    "idle_seconds": float, "thanks_seconds": float, "priority_step": bool, "resume_seconds": float,
    "request_timeout": float, "state_dir": Path, "font": str,
}


def load(path: str | Path | None = None) -> KioskSettings:
    """The kiosk settings of a TOML file (tables [kiosk], [printer], [scanner]); defaults where absent."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    table = raw.get("kiosk", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [kiosk] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = _FIELDS.get(key)
        if kind is None:
            raise SettingsError(f"{path}: kiosk.{key}: unknown key (known: {', '.join(sorted(_FIELDS))})")
        values[key] = _convert(path, key, kind, value)
    for name in ("printer", "scanner"):
        sub = raw.get(name, {})
        if not isinstance(sub, dict):
            raise SettingsError(f"{path}: [{name}] must be a table")
        values[name] = dict(sub)
    try:
        return check(KioskSettings(**values))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def _convert(path: Path, key: str, kind: type, value: Any) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{path}: kiosk.{key} must be true or false")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SettingsError(f"{path}: kiosk.{key} must be a positive number of seconds")
        return float(value)
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{path}: kiosk.{key} must be a non-empty text")
    return Path(value) if kind is Path else value


def check(settings: KioskSettings) -> KioskSettings:
    """Refuse settings that cannot work, naming the key."""
    if not DEVICE_ID_RE.match(settings.device):
        raise SettingsError(f"kiosk.device {settings.device!r}: use only letters, digits, '-' and '_'")
    if settings.mode not in MODES:
        raise SettingsError(f"kiosk.mode {settings.mode!r}: one of {', '.join(MODES)}")
    if settings.mode == "counter" and not (settings.counter and DEVICE_ID_RE.match(settings.counter)):
        raise SettingsError("kiosk.counter: a counter-facing screen needs the id of its counter (e.g. Q1)")
    if settings.language not in LANGUAGES:
        raise SettingsError(f"kiosk.language {settings.language!r}: one of {', '.join(LANGUAGES)}")
    for name in ("server_url", "public_url"):
        url = getattr(settings, name)
        if url is not None and not url.startswith(("http://", "https://")):
            raise SettingsError(f"kiosk.{name} {url!r}: an http:// address, e.g. http://10.0.0.2:8080")
    return settings
