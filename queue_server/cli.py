"""The server's commands: server, demo, events, backup, broker, devices, check-config, mosquitto-acl.

Registered with the `motcua` group through the `motcua.commands` entry points
(pyproject.toml), so the shared motcua package never imports the server.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from motcua import credentials as device_credentials
from motcua.broker_url import parse_listen
from motcua.cli import config_option, credentials_option
from motcua.cli import parse_broker_option as _broker
from motcua.settings import DEFAULT_CONFIG
from queue_server.broker import DEFAULT_MAX_CONNECTIONS
from queue_server.brokers import KINDS


def load_config(path: str | None, always_open: bool = False) -> Any:
    """The full office configuration, validated, or a click error naming the key."""
    from queue_server.config import ConfigError, load

    config_path = Path(path) if path else DEFAULT_CONFIG
    try:
        config = load(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return config.with_overrides(issue_outside_hours=True) if always_open else config


_load_config = load_config


def _credential_errors() -> tuple[type[Exception], ...]:
    from queue_server import broker_acl, credentials

    return (device_credentials.CredentialsError, credentials.CredentialsError, broker_acl.AccessError)


_CREDENTIAL_ERRORS = _credential_errors()


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True, help="Directory of the SQLite database.")
@click.option("--broker", default=None, help="External broker mqtt://[user@]host:port (user default motcua-server). Default: run a broker here.")
@credentials_option
@click.option("--run-broker", type=click.Choice(KINDS), default="auto", show_default=True,
              help="Without --broker: run Debian's Mosquitto (supervised) or the embedded broker; auto takes Mosquitto when installed.")
@click.option("--credentials-dir", type=click.Path(file_okay=False), default=None,
              help="Without --broker: where the broker credentials are generated and kept. Default: DATA/credentials.")
@click.option("--mqtt-listen", default="127.0.0.1:1883", show_default=True, help="Address of the broker run here (0.0.0.0:1883 for the office LAN).")
@click.option("--max-connections", default=DEFAULT_MAX_CONNECTIONS, show_default=True,
              help="Connections the broker run here accepts; more are refused, logged and counted in /metrics.")
@click.option("--http-listen", default="127.0.0.1:8080", show_default=True, help="HTTP address for /health, /api and /metrics.")
@click.option("--no-http", is_flag=True, help="Do not serve HTTP.")
@click.option("--always-open", is_flag=True, help="Issue tickets outside the configured opening hours (demos, tests).")
@click.option("--log-level", default="INFO", show_default=True)
def server(config_path: str | None, data_dir: str, broker: str | None, credentials: str | None, run_broker: str,
           credentials_dir: str | None, mqtt_listen: str, max_connections: int, http_listen: str, no_http: bool,
           always_open: bool, log_level: str) -> None:
    """Run the queue server of one office.

    Without --broker it runs the office's broker too, with a credential per device
    generated from the configuration into DATA/credentials (copy devices/<id>.toml to each
    device). With --broker it logs in as motcua-server with the password from --credentials,
    MOTCUA_CREDENTIALS or MOTCUA_BROKER_PASSWORD (never from the command line).

    Example: motcua server --config office.toml --data /var/lib/motcua --mqtt-listen 0.0.0.0:1883
    """
    config = _load_config(config_path, always_open)
    options = _server_options(data_dir, _broker(broker), mqtt_listen, None if no_http else http_listen, run_broker=run_broker,
                              credentials_dir=credentials_dir, credentials_file=credentials, max_connections=max_connections)
    _run_server(config, options, log_level)


def _server_options(data_dir: str, broker: Any, mqtt_listen: str, http_listen: str | None, **more: Any) -> Any:
    from queue_server.server import ServerOptions

    for key in ("credentials_dir", "credentials_file"):
        more[key] = Path(more[key]) if more.get(key) else None
    return ServerOptions(
        data_dir=Path(data_dir),
        broker=broker,
        mqtt_listen=parse_listen(mqtt_listen, 1883),
        http_listen=parse_listen(http_listen, 8080) if http_listen else None,
        **more,
    )


def _run_server(config: Any, options: Any, log_level: str, on_ready: Callable[[Any], None] | None = None) -> None:
    from queue_server.bootstrap import bootstrap
    from queue_server.store import StoreError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    qs = bootstrap(config, options, start=False)
    try:
        qs.start()
    except (StoreError, OSError, *_CREDENTIAL_ERRORS) as exc:
        qs.stop()
        raise click.ClickException(str(exc)) from None
    signal.signal(signal.SIGTERM, lambda *_: qs.stopping.set())
    http = f"http://{options.http_listen[0]}:{options.http_listen[1]}" if options.http_listen else "off"
    own = f" ({qs.broker.kind} broker run by the server; credentials in {qs.credentials_dir})" if qs.broker else ""
    click.echo(
        f"motcua server: office {config.id} ({config.name})\n"
        f"  MQTT: {qs.broker_url}{own}\n"
        f"  HTTP: {http}\n  data: {qs.db_path}",
        err=True,
    )
    if on_ready:
        on_ready(qs)
    try:
        qs.wait()
    except KeyboardInterrupt:
        pass
    finally:
        qs.stop()


def _existing_db(data_dir: str) -> Path:
    """Commands that read the office database must not create an empty one somewhere else."""
    from queue_server.store import DB_FILENAME

    path = Path(data_dir) / DB_FILENAME
    if not path.exists():
        raise click.ClickException(f"no office database at {path}; give the server's --data directory")
    return path


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.option("--after", default=0, show_default=True, help="Print events with a sequence number above this.")
@click.option("--limit", default=0, help="At most this many events (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def events(config_path: str | None, data_dir: str, after: int, limit: int, as_json: bool) -> None:
    """Read the event log in order from a sequence number (resume where you stopped).

    Example: motcua events --after 120 --json
    """
    from datetime import datetime

    from queue_server.store import Store

    config = _load_config(config_path)
    store = Store(_existing_db(data_dir), config.id)
    for count, event in enumerate(store.iter_events(after), start=1):
        if as_json:
            click.echo(json.dumps(event.public(), ensure_ascii=False))
        else:
            local = datetime.fromisoformat(event.at).astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{event.seq:>8} {local} {event.type:<22} {json.dumps(event.public()['data'], ensure_ascii=False)}")
        if limit and count >= limit:
            break
    store.close()


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.option("--rotate", "rotate_dir", type=click.Path(file_okay=False), default=None,
              help="Write DIR/motcua-YYYYmmdd-HHMMSS.db and keep only the newest --keep of them (the nightly timer's form).")
@click.option("--keep", default=14, show_default=True, help="With --rotate: how many backups to keep.")
@click.argument("destination", type=click.Path(dir_okay=False), required=False)
def backup(config_path: str | None, data_dir: str, rotate_dir: str | None, keep: int, destination: str | None) -> None:
    """Copy the live database to FILE, consistently, while the server keeps serving.

    Examples: motcua backup /media/usb/motcua-2026-11-23.db
              motcua backup --data /var/lib/motcua --rotate /var/lib/motcua/backups --keep 14
    """
    from queue_server.backups import rotate
    from queue_server.store import StoreError
    from queue_server.store import backup as do_backup

    if bool(rotate_dir) == bool(destination):
        raise click.UsageError("give either a DESTINATION file or --rotate DIR")
    source = _existing_db(data_dir)
    try:
        if rotate_dir:
            written, pages, removed = rotate(source, rotate_dir, keep)
            destination = str(written)
        else:
            pages, removed = do_backup(source, destination), []
    except (StoreError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    gone = f"; removed {len(removed)} older" if removed else ""
    click.echo(f"backup written to {destination} ({pages} pages, integrity ok){gone}")


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.option("--force", is_flag=True, help="Restore even while a server has the database open (restart it at once afterwards).")
@click.argument("backup_file", type=click.Path(dir_okay=False))
def restore(data_dir: str, force: bool, backup_file: str) -> None:
    """Put a backup in place of the office database, after checking its integrity.

    Refused while the server runs (stop it first: systemctl stop motcua-server). The database
    it replaces is kept beside it as motcua.db.before-restore-DATE.

    Example: motcua restore --data /var/lib/motcua /var/lib/motcua/backups/motcua-20261123-023000.db
    """
    from queue_server.backups import check
    from queue_server.backups import restore as do_restore
    from queue_server.store import DB_FILENAME, StoreError

    try:
        kept = do_restore(backup_file, Path(data_dir) / DB_FILENAME, force)
        version = check(Path(data_dir) / DB_FILENAME)
    except (StoreError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    before = f"; the previous database is {kept}" if kept else ""
    click.echo(f"restored {backup_file} to {Path(data_dir) / DB_FILENAME} (schema {version}, integrity ok){before}")


@click.command()
@config_option
@click.option("--listen", default="127.0.0.1:1883", show_default=True)
@click.option("--credentials-dir", type=click.Path(file_okay=False), default="data/credentials", show_default=True,
              help="Generated (or updated) here, as `motcua devices credentials --out` does.")
@click.option("--max-connections", default=DEFAULT_MAX_CONNECTIONS, show_default=True)
def broker(config_path: str | None, listen: str, credentials_dir: str, max_connections: int) -> None:
    """Run only the embedded MQTT broker, with the office's credentials and topic rules.

    For tests and for small setups where Mosquitto cannot be installed.

    Example: motcua broker --config office.toml --listen 0.0.0.0:1883 --credentials-dir /var/lib/motcua/credentials
    """
    from queue_server.broker import EmbeddedBroker
    from queue_server.broker_acl import access_rules

    config = _load_config(config_path)
    creds = _ensure_credentials(config, credentials_dir)
    host, port = parse_listen(listen, 1883)
    b = EmbeddedBroker(host, port, creds.password_file, access_rules(config), max_connections)
    try:
        b.start()
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"embedded MQTT broker on {host}:{port}, credentials in {credentials_dir}", err=True)
    stop = signal.SIGTERM
    signal.signal(stop, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        b.stop()


def _ensure_credentials(config: Any, directory: str | Path, **kwargs: Any) -> Any:
    from queue_server.credentials import ensure

    try:
        return ensure(config, directory, **kwargs)[0]
    except (OSError, *_CREDENTIAL_ERRORS) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def devices() -> None:
    """The office's devices: broker credentials."""


@devices.command("credentials")
@config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Directory to write (created 0700).")
@click.option("--rotate", multiple=True, metavar="USER", help="Give this user (device id, or motcua-server) a new secret. Repeatable.")
@click.option("--rotate-all", is_flag=True, help="New secrets for everyone.")
@click.option("--group", default=None, help="Make the broker files 0640 for this group (mosquitto, for Debian's Mosquitto service).")
def credentials_command(config_path: str | None, out_dir: str, rotate: tuple[str, ...], rotate_all: bool, group: str | None) -> None:
    """Write a broker credential per device, Mosquitto's password file and ACL.

    Idempotent: existing secrets are kept, new devices get one, removed devices lose
    theirs. No secret is printed: give each device its own file from DIR/devices/.

    Example: motcua devices credentials --config /etc/motcua/office.toml --out /etc/motcua/credentials
    """
    from queue_server.broker_acl import access_rules
    from queue_server.credentials import ensure

    config = _load_config(config_path)
    users = [rule.user for rule in access_rules(config)] if rotate_all else list(rotate)
    try:
        creds, changes = ensure(config, out_dir, rotate=users, group=group)
    except (OSError, *_CREDENTIAL_ERRORS) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Broker credentials of office {config.id} in {creds.directory}: {changes.summary()}.\n"
        f"  {creds.secrets_file.name:<17} every secret (keep it here)\n"
        f"  devices/USER.toml  one per device: copy to that device only, then --credentials FILE or MOTCUA_CREDENTIALS=FILE\n"
        f"  {creds.password_file.name:<17} and {creds.acl_file.name}: for Mosquitto (password_file, acl_file)\n"
        "Restart the server (or send Mosquitto SIGHUP) to apply changes."
    )


@click.command("mosquitto-acl")
@config_option
@click.option("--server-user", default="motcua-server", show_default=True, help="Broker user of the queue server.")
def mosquitto_acl(config_path: str | None, server_user: str) -> None:
    """Print a Mosquitto ACL that lets each device use only its own topics.

    Example: motcua mosquitto-acl --config office.toml > /etc/mosquitto/motcua.acl
    """
    from queue_server.mosquitto_acl import render

    click.echo(render(_load_config(config_path), server_user), nl=False)


@click.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False))
def check_config(path: str) -> None:
    """Validate an office configuration file and summarise it; warn about prefixes that sound alike."""
    from motcua.speech import prefix_conflicts

    config = _load_config(path)
    click.echo(
        f"{config.id}: {config.name}\n  {len(config.services)} services, {len(config.counters)} counters, "
        f"{len(config.devices)} devices\n  hours: {config.hours_text() or 'always open'}"
    )
    click.echo(appointments_summary(config))
    # Issue 22: a citizen who hears "pê" for "bê" across a noisy hall walks to the wrong counter.
    warnings, errors = prefix_conflicts({s.code: s.numbering.prefix for s in config.services.values() if s.numbering.prefix})
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    if errors:
        raise click.ClickException("\n".join(errors))


def appointments_summary(config: Any) -> str:
    """The line check-config prints about bookings: the slot length and each field's places per slot."""
    from queue_server.appointments.slots import capacity

    if not config.appointments.enabled or not config.hours:
        return "  appointments: off" + ("" if config.hours else " (no [hours])")
    places = ", ".join(f"{code} {capacity(config, code)}" for code in config.services if config.appointments.offers(code))
    return f"  appointments: {config.appointments.slot_minutes}-minute slots; bookings per slot: {places}"


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.option("--mqtt-listen", default="127.0.0.1:1883", show_default=True)
@click.option("--http-listen", default="127.0.0.1:8080", show_default=True)
@click.option("--run-broker", type=click.Choice(KINDS), default="auto", show_default=True, help="As for `motcua server`.")
@click.option("--traffic/--no-traffic", default=True, show_default=True, help="Simulate citizens and officials.")
@click.option("--kiosk", "kiosk_window", type=click.Choice(["auto", "window", "off"]), default="auto", show_default=True,
              help="The touchscreen kiosk in a window (simulated printer and scanner); auto: when there is a screen ($DISPLAY).")
def demo(config_path: str | None, data_dir: str, mqtt_listen: str, http_listen: str, run_broker: str, traffic: bool,
         kiosk_window: str) -> None:
    """Run a whole office on this machine: broker, SQLite, simulated kiosks and counters, the kiosk app.

    The broker credentials of every device are generated into DATA/credentials.

    Example: motcua demo
    """
    from motcua.demo import start_traffic
    from queue_server.config import IssuingLimits

    # Open at any hour; the simulated kiosk issues about 10 numbers a minute all day, past a real kiosk's limit.
    config = _load_config(config_path, always_open=True).with_overrides(issuing=IssuingLimits(per_minute=60, per_hour=0))
    mqtt_listen = _free_or_other(mqtt_listen, 1883)
    http_listen = _free_or_other(http_listen, 8080)

    yours = next(iter(config.counters))
    service = config.counters[yours].services[0]
    # The kiosk the person touches: its own device, so the simulated kiosks never push it off the broker.
    touch = next((d.id for d in reversed(list(config.devices.values())) if d.role == "kiosk"), None)
    window = kiosk_window == "window" or (kiosk_window == "auto" and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")))

    def ready(qs: Any) -> None:
        password = _demo_accounts(qs, yours)
        _demo_catalogue(qs)
        broker = f" --broker {qs.broker_url}" if qs.broker_url.port != 1883 else ""
        kiosk_line = ""
        if touch is not None:
            command = _demo_kiosk_command(qs, touch, data_dir, http_listen)
            if window:
                _start_demo_kiosk(qs, command, touch)
                kiosk_line = f"  the kiosk ({touch}) is open in a window; printed tickets go to {data_dir}/kiosk-{touch}/printed/\n"
            else:
                kiosk_line = (f"  the kiosk, on a machine with a screen (or under xvfb-run):\n"
                              f"    MOTCUA_CREDENTIALS={_device_credential(qs, touch)} {' '.join(command)}\n")
        simulated = (f"Simulated kiosks issue tickets and simulated officials serve every counter but {yours}.\n"
                     if traffic else "")
        console = (qs.credentials_dir / "devices" / "console.toml").resolve()
        click.echo(
            f"\nThe office is running. {simulated}"
            f"{config.counters[yours].name} ({yours}) is yours. In another terminal (source .venv/bin/activate first):\n"
            f"  export MOTCUA_CREDENTIALS={console}     # the console's broker credential\n"
            f"  motcua ticket --service {service}{broker}\n"
            f"  motcua send counter.sign_in counter={yours} staff=toi{broker}\n"
            f"  motcua call --counter {yours}{broker}\n"
            f"  motcua send counter.recall counter={yours}{broker}       (also: counter.finish, counter.skip, counter.pause ...)\n"
            f"  counter page: http://{http_listen}/quay/{yours}  (user name toi, password {password}: made for this demo)\n"
            f"  curl http://{http_listen}/api/state\n"
            f"  waiting-room TVs: http://{http_listen}/tv/calls and http://{http_listen}/tv/results\n"
            f"  manager's dashboard: http://{http_listen}/dashboard  (sign in as an administrator: see above)\n"
            f"{kiosk_line}"
            f"  motcua events --data {data_dir}\n"
            "Stop with Ctrl+C.\n",
            err=True,
        )
        if traffic:
            start_traffic(config, qs.broker_url, qs.stopping, leave=yours, credentials=qs.credentials_dir / "secrets.toml",
                          spare={touch} if touch else set())

    options = _server_options(data_dir, None, mqtt_listen, http_listen, run_broker=run_broker)
    _run_server(config, options, "WARNING", on_ready=ready)


def _demo_catalogue(qs: Any) -> None:
    """The sample procedure catalogue, so the kiosk's search has something to find (only into an empty one)."""
    from queue_server.procedures import db as pdb
    from queue_server.procedures.importer import import_file

    sample = Path(__file__).parent / "procedures" / "sample" / "catalogue.json"
    db = pdb.open_db(qs.db_path)
    try:
        if pdb.count(db) == 0 and sample.exists():
            report = import_file(db, sample, services=set(qs.config.services), forms_root=pdb.forms_dir(qs.db_path))
            click.echo(f"[demo] imported the sample procedure catalogue: {len(report.created)} procedures", err=True)
    finally:
        db.close()


def _device_credential(qs: Any, device: str) -> Path:
    return (qs.credentials_dir / "devices" / f"{device}.toml").resolve()


def _demo_kiosk_command(qs: Any, device: str, data_dir: str, http_listen: str) -> list[str]:
    motcua = Path(sys.executable).with_name("motcua")
    return [str(motcua if motcua.exists() else "motcua"), "kiosk", "--simulate", "--window", "1280x800",
            "--broker", f"mqtt://{qs.broker_url.host}:{qs.broker_url.port}", "--server", f"http://{http_listen}",
            "--device", device, "--state-dir", str(Path(data_dir) / f"kiosk-{device}")]


def _start_demo_kiosk(qs: Any, command: list[str], device: str) -> None:
    """The kiosk app beside the demo office, stopped with it; its broker password comes from its own file."""
    import subprocess
    import threading

    env = {**os.environ, "MOTCUA_CREDENTIALS": str(_device_credential(qs, device))}
    try:
        proc = subprocess.Popen(command, env=env)
    except OSError as exc:
        click.echo(f"the kiosk did not start ({exc}); run it yourself: {' '.join(command)}", err=True)
        return

    def stop_with_the_office() -> None:
        qs.stopping.wait()
        proc.terminate()

    def say_if_it_dies() -> None:
        code = proc.wait()
        if not qs.stopping.is_set():
            click.echo(f"[demo] the kiosk window closed (exit {code}); the office keeps running. Open it again with:\n"
                       f"  ./setup.sh kiosk {' '.join(command[2:])}", err=True)

    threading.Thread(target=stop_with_the_office, name="demo-kiosk", daemon=True).start()
    threading.Thread(target=say_if_it_dies, name="demo-kiosk-exit", daemon=True).start()


def _demo_accounts(qs: Any, yours: str) -> str:
    """The demo's officials: one per simulated counter (as motcua.demo names them) and `toi` for the person
    trying it, with a fresh random password (never a default one). Returns that password."""
    import secrets

    from queue_server.staff import accounts

    others = [cid for cid in qs.config.counters if cid != yours]
    officials = {f"can-bo-{i + 1:02d}": [cid] for i, cid in enumerate(others)} | {"toi": [yours]}
    qs.record(accounts.ensure_officials(officials, qs.config.counters, by="demo"))
    password = secrets.token_urlsafe(9)
    change = accounts.edit_account("toi", qs.config.counters, password=password)
    qs.record(lambda db, now: change.apply(db, now, by="demo"))
    return password


def _free_or_other(address: str, default_port: int) -> str:
    """The demo must start even where Mosquitto or another web server holds the usual port."""
    import socket

    host, port = parse_listen(address, default_port)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return f"{host}:{port}"
        except OSError:
            probe.bind((host, 0))
            other = probe.getsockname()[1]
    click.echo(f"{host}:{port} is in use; the demo uses {host}:{other} instead", err=True)
    return f"{host}:{other}"




@click.group("config")
def config_group() -> None:
    """The office configuration the server runs on: export it as TOML, or replace it while it runs.

    The TOML file seeds a new office; changes made at run time (admin pages, `config import`)
    are kept in the office database and win over the file at the next start.
    """


@config_group.command("export")
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.argument("destination", type=click.Path(dir_okay=False), default="-")
def config_export(config_path: str | None, data_dir: str, destination: str) -> None:
    """Write the configuration in force (TOML) to FILE, or to standard output.

    Example: motcua config export --data /var/lib/motcua office-now.toml
    """
    from queue_server.config_export import document_in_force, to_toml
    from queue_server.store import Store

    seed = load_config(config_path)
    store = Store(_existing_db(data_dir), seed.id)
    try:
        text = to_toml(document_in_force(store, seed))
    finally:
        store.close()
    if destination == "-":
        click.echo(text, nl=False)
    else:
        Path(destination).write_text(text, encoding="utf-8")
        click.echo(f"configuration written to {destination}", err=True)


@config_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--broker", default="mqtt://127.0.0.1:1883", show_default=True, help="The office broker.")
@click.option("--device", default="console", show_default=True, help="An admin device of the configuration.")
@click.option("--timeout", default=10.0, show_default=True)
def config_import(path: str, broker: str, device: str, timeout: float) -> None:
    """Replace the running configuration with FILE, through the server (checked, logged, durable).

    Example: motcua config import office.toml
    """
    import tomllib

    from motcua.client import DeviceClient, RequestTimeout

    load_config(path)  # the same validation the server applies, with the key named, before sending
    document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    office = document["office"]
    try:
        with DeviceClient(_broker(broker), office["id"], device, office.get("topic_prefix", "motcua")) as client:
            reply = client.request("office.configure", timeout=timeout, document=document)
    except (RequestTimeout, OSError) as exc:
        raise click.ClickException(f"{exc} (is `motcua server` running at {broker}?)") from None
    if not reply["ok"]:
        raise click.ClickException(f"[{reply['error']['code']}] {reply['error']['message']}")
    click.echo(f"the office now runs on {path}")
