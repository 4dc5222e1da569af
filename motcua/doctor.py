"""`motcua doctor`: one line per thing a technician checks, OK / WARN / FAIL, exit 1 on any FAIL.

Checks (docs/technician.md, "When something is red", has what to do for each):
  broker     the office's MQTT broker is reachable and accepts this box's credential
  device     every device declared in office.toml is online (its retained presence)
  printer    no device reports a fault (no paper, cover open, error; paper low is a WARN)
  disk       free space where the data lives
  clock      this box's clock against the server's retained state/clock, and chrony's sync state
  database   the office database passes SQLite's integrity check (on the server box)
  backup     the newest backup is recent enough (on the server box)
Everything it reads over MQTT is retained, so one short connection sees the whole office.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
import time
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from motcua import protocol as p
from motcua.broker_url import apply_tls, parse_broker_url
from motcua.credentials import CREDENTIALS_ENV, CredentialsError, password_for
from motcua.settings import DEFAULT_CONFIG

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"
FAULTS = {"no_paper": "out of paper", "cover_open": "cover open", "error": "error", "offline": "offline"}
DEFAULT_DATA = Path("/var/lib/motcua")
SERVER_CREDENTIALS = Path("/etc/motcua/credentials/devices")
ENV_FILE = Path("/etc/motcua/motcua.env")  # what the installer wrote: where this box finds the server


def box_settings(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines of the box's environment file (no secrets there), as systemd reads them."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip().strip('"') for key, value in pairs}


@dataclass(frozen=True)
class Check:
    check: str
    status: str
    detail: str
    subject: str = ""


@dataclass
class Options:
    config: Path
    broker: str = "mqtt://127.0.0.1:1883"
    user: str = "console"
    credentials: Path | None = None
    data: Path = DEFAULT_DATA
    backups: Path | None = None
    backup_max_age_hours: float = 36.0
    min_free_mb: float = 500.0
    max_skew_seconds: float = 30.0
    clock_offset_seconds: float = 0.0  # added to this box's clock (tests stage a skewed clock with it)
    timeout: float = 5.0
    collect_seconds: float = 1.0


def run_checks(opts: Options) -> list[Check]:
    office = tomllib.loads(opts.config.read_text(encoding="utf-8"))
    topics = p.Topics(office["office"]["id"], office["office"].get("topic_prefix", p.DEFAULT_PREFIX))
    devices = [d for d in office.get("devices", []) if d.get("role") != "admin"]  # admin: the CLI, not a box
    checks: list[Check] = []
    retained, broker_check = _read_retained(opts, topics)
    checks.append(broker_check)
    if broker_check.status == OK:
        checks += _device_checks(devices, topics, retained)
        checks.append(_clock_check(opts, topics, retained))
    checks.append(_chrony_check())
    checks.append(_disk_check(opts))
    db = opts.data / "motcua.db"
    if db.exists():
        checks.append(_database_check(db))
        checks.append(_backup_check(opts))
    return [c for c in checks if c.status != SKIP]


def _read_retained(opts: Options, topics: p.Topics) -> tuple[dict[str, bytes], Check]:
    import paho.mqtt.client as mqtt

    url = parse_broker_url(opts.broker)
    user = url.username or opts.user
    try:
        password = password_for(user, opts.credentials)
    except CredentialsError as exc:
        return {}, Check("broker", FAIL, str(exc))
    retained: dict[str, bytes] = {}
    connected = threading.Event()
    outcome: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user)
    client.username_pw_set(user, password)
    apply_tls(client, url)

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        outcome.append("refused: " + str(reason) if reason.is_failure else "ok")
        if not reason.is_failure:
            c.subscribe([(topics.all_status, 1), (f"{topics.base}/state/#", 1)])
        connected.set()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if msg.retain:
            retained[msg.topic] = msg.payload

    client.on_connect, client.on_message = on_connect, on_message
    try:
        client.connect(url.host, url.port, keepalive=10)
    except OSError as exc:  # ssl.SSLError (a certificate the CA did not sign) is an OSError too
        return {}, Check("broker", FAIL, f"cannot reach {url.host}:{url.port}: {exc}")
    client.loop_start()
    try:
        if not connected.wait(opts.timeout):
            return {}, Check("broker", FAIL, f"{url.host}:{url.port} did not answer the MQTT login within {opts.timeout:g} s")
        if outcome[0] != "ok":
            return {}, Check("broker", FAIL, f"{url.host}:{url.port} {outcome[0]} for user {user} (wrong or missing credential)")
        time.sleep(opts.collect_seconds)  # retained messages arrive right after the subscription; no event says "all sent"
    finally:
        client.disconnect()
        client.loop_stop()
    # The broker closes a connection whose user has no right to subscribe only on MQTT 5; with 3.1.1 nothing arrives.
    return retained, Check("broker", OK, f"connected to {url.host}:{url.port} as {user}")


def _device_checks(devices: list[dict[str, Any]], topics: p.Topics, retained: dict[str, bytes]) -> list[Check]:
    checks = []
    for device in devices:
        dev = device["id"]
        presence = retained.get(topics.status(dev), b"").decode(errors="replace")
        if presence == p.ONLINE:
            checks.append(Check("device", OK, f"{dev} ({device.get('role')}) online", dev))
        else:
            seen = "offline" if presence else "never seen"
            checks.append(Check("device", FAIL, f"{dev} ({device.get('role')}) {seen}", dev))
        view = retained.get(f"{topics.base}/state/device/{dev}")
        if not view:
            continue
        try:
            components = json.loads(view).get("components", {})
        except ValueError:
            continue
        for name, comp in components.items():
            state = comp.get("state")
            detail = f"{dev} {name}: {FAULTS.get(state, state)}" + (f" ({comp['detail']})" if comp.get("detail") else "")
            if state in FAULTS:
                checks.append(Check("printer", FAIL, detail, dev))
            elif state == "paper_low":
                checks.append(Check("printer", WARN, f"{dev} {name}: paper low", dev))
    return checks


def _clock_check(opts: Options, topics: p.Topics, retained: dict[str, bytes]) -> Check:
    raw = retained.get(topics.state_clock)
    if not raw:
        return Check("clock", WARN, "the server publishes no state/clock (is the queue server running?)")
    try:
        server_time = datetime.fromisoformat(json.loads(raw)["server_time"])
    except (ValueError, KeyError, TypeError):
        return Check("clock", WARN, "unreadable state/clock")
    here = datetime.now(UTC) + timedelta(seconds=opts.clock_offset_seconds)
    skew = (here - server_time).total_seconds()
    text = f"this box is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the server"
    return Check("clock", FAIL if abs(skew) > opts.max_skew_seconds else OK, text)


def _chrony_check() -> Check:
    chronyc = shutil.which("chronyc")
    if not chronyc:
        return Check("clock", SKIP, "")
    try:
        out = subprocess.run([chronyc, "-c", "tracking"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return Check("clock", WARN, "chronyc did not answer (is chrony running?)", "chrony")
    fields = out.stdout.strip().split(",")
    if out.returncode != 0 or len(fields) < 14:
        return Check("clock", WARN, "chrony is not running", "chrony")
    if fields[13].strip() == "Not synchronised":
        return Check("clock", WARN, "chrony is not synchronised with any time source", "chrony")
    return Check("clock", OK, f"chrony synchronised to {fields[1] or fields[0]} (offset {float(fields[4]) * 1000:.1f} ms)", "chrony")


def _disk_check(opts: Options) -> Check:
    where = opts.data if opts.data.exists() else Path("/")
    free_mb = shutil.disk_usage(where).free / 1e6
    status = FAIL if free_mb < opts.min_free_mb else WARN if free_mb < 2 * opts.min_free_mb else OK
    return Check("disk", status, f"{free_mb:,.0f} MB free on {where} (minimum {opts.min_free_mb:,.0f} MB)")


def _database_check(db: Path) -> Check:
    try:
        conn = sqlite3.connect(f"file:{db.resolve()}?mode=ro", uri=True, timeout=5)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Check("database", FAIL, f"{db}: {exc}")
    if result != ["ok"]:
        return Check("database", FAIL, f"{db}: integrity check failed: {'; '.join(result[:3])}")
    return Check("database", OK, f"{db}: integrity ok")


def _backup_check(opts: Options) -> Check:
    directory = opts.backups or opts.data / "backups"
    files = [f for f in directory.glob("*.db") if f.is_file()] if directory.is_dir() else []
    if not files:
        return Check("backup", FAIL, f"no backup in {directory} (is motcua-backup.timer enabled?)")
    latest = max(files, key=lambda f: f.stat().st_mtime)
    age_h = (time.time() - latest.stat().st_mtime) / 3600
    status = WARN if age_h > opts.backup_max_age_hours else OK
    return Check("backup", status, f"newest {latest.name}, {age_h:.1f} h old (limit {opts.backup_max_age_hours:g} h)")


def render(checks: list[Check]) -> str:
    width = max((len(c.check) for c in checks), default=6)
    return "\n".join(f"{c.status:<4}  {c.check:<{width}}  {c.detail}" for c in checks)


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=str(DEFAULT_CONFIG), show_default=True)
@click.option("--broker", default=None, envvar="MOTCUA_BROKER",
              help=f"The office broker. Default: MOTCUA_BROKER, else the one in {ENV_FILE}, else mqtt://127.0.0.1:1883.")
@click.option("--device", "user", default=None,
              help="Broker user to log in as (a device of the office). Default: console, or this box's only device credential.")
@click.option("--credentials", type=click.Path(dir_okay=False), default=None,
              help=f"Credentials file. Default: {CREDENTIALS_ENV}, else {SERVER_CREDENTIALS}/USER.toml on the server box.")
@click.option("--data", type=click.Path(file_okay=False), default=str(DEFAULT_DATA), show_default=True, help="The server's data directory.")
@click.option("--backups", type=click.Path(file_okay=False), default=None, help="Backup directory. Default: DATA/backups.")
@click.option("--backup-max-age", default=36.0, show_default=True, help="Hours before the newest backup is too old.")
@click.option("--min-free-mb", default=500.0, show_default=True, help="Free disk space below this is a FAIL (below twice this a WARN).")
@click.option("--max-skew", default=30.0, show_default=True, help="Seconds of clock difference with the server that are a FAIL.")
@click.option("--clock-offset", default=0.0, hidden=True, help="Seconds added to this box's clock (to stage a skewed clock).")
@click.option("--timeout", default=5.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of {check, status, detail, subject}.")
def doctor(config_path: str, broker: str | None, user: str | None, credentials: str | None, data: str, backups: str | None, backup_max_age: float,
           min_free_mb: float, max_skew: float, clock_offset: float, timeout: float, as_json: bool) -> None:
    """Check this box and the office: broker, devices, printers, disk, clock, database, backups.

    Exit status 1 when any line is FAIL. Example: sudo motcua doctor --config /etc/motcua/office.toml
    """
    import os

    from motcua.broker_url import CA_ENV

    box = box_settings()
    broker = broker or box.get("MOTCUA_BROKER") or "mqtt://127.0.0.1:1883"
    if box.get(CA_ENV) and not os.environ.get(CA_ENV):
        os.environ[CA_ENV] = box[CA_ENV]
    if user is None:  # a device box holds only its own credential file: log in as that device
        own = sorted(SERVER_CREDENTIALS.glob("*.toml")) if SERVER_CREDENTIALS.is_dir() else []
        user = own[0].stem if len(own) == 1 and not (SERVER_CREDENTIALS / "console.toml").exists() else "console"
    cred = Path(credentials) if credentials else None
    if cred is None and not os.environ.get(CREDENTIALS_ENV) and (SERVER_CREDENTIALS / f"{user}.toml").exists():
        cred = SERVER_CREDENTIALS / f"{user}.toml"
    opts = Options(Path(config_path), broker, user, cred, Path(data), Path(backups) if backups else None, backup_max_age,
                   min_free_mb, max_skew, clock_offset, timeout)
    checks = run_checks(opts)
    click.echo(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=1) if as_json else render(checks))
    raise SystemExit(1 if any(c.status == FAIL for c in checks) else 0)
