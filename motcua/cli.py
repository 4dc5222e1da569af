"""The `motcua` command. Each command calls one library function; --help is its documentation."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from motcua.broker_url import parse_broker_url, parse_listen

DEFAULT_CONFIG = Path("firmware_config/office.example.toml")
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def _load_config(path: str | None, always_open: bool = False) -> Any:
    from queue_server.config import ConfigError, load

    config_path = Path(path) if path else DEFAULT_CONFIG
    try:
        config = load(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return config.with_overrides(issue_outside_hours=True) if always_open else config


def _broker(url: str | None) -> Any:
    if url is None:
        return None
    try:
        return parse_broker_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--broker") from None


config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help=f"Office configuration (TOML). Default: {DEFAULT_CONFIG}",
)


def client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the commands that act as a device over MQTT."""

    @config_option
    @click.option("--broker", default=DEFAULT_BROKER, show_default=True, help="MQTT broker URL, mqtt://user:pass@host:port")
    @click.option("--device", default="console", show_default=True, help="Device id to act as (declared in the configuration).")
    @click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each try.")
    @click.option("--json", "as_json", is_flag=True, help="Print the whole reply as JSON.")
    @wraps(func)
    def wrapper(config_path: str | None, broker: str, device: str, timeout: float, as_json: bool, **kwargs: Any) -> Any:
        config = _load_config(config_path)
        return func(config=config, broker=_broker(broker), device=device, timeout=timeout, as_json=as_json, **kwargs)

    return wrapper


def _request(config: Any, broker: Any, device: str, timeout: float, op: str, **fields: Any) -> dict[str, Any]:
    from motcua.client import DeviceClient, RequestTimeout

    try:
        with DeviceClient(broker, config.id, device, config.topic_prefix) as client:
            return client.request(op, timeout=timeout, **fields)
    except (RequestTimeout, OSError) as exc:
        raise click.ClickException(f"{exc} (is `motcua server` running at {broker}?)") from None


def _print_reply(reply: dict[str, Any], as_json: bool, describe: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        click.echo(json.dumps(reply, ensure_ascii=False, indent=2))
    elif reply.get("ok"):
        click.echo(describe(reply))
    if not reply.get("ok"):
        if not as_json:
            error = reply["error"]
            click.echo(f"Lỗi [{error['code']}]: {error['message']}", err=True)
        sys.exit(1)


@click.group()
@click.version_option(package_name="motcua")
def cli() -> None:
    """Một Cửa QMS: the queue server and tools of a one-stop section."""


@cli.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True, help="Directory of the SQLite database.")
@click.option("--broker", default=None, help="External broker mqtt://user:pass@host:port. Default: run the embedded broker.")
@click.option("--mqtt-listen", default="127.0.0.1:1883", show_default=True, help="Embedded broker address (0.0.0.0:1883 for the office LAN).")
@click.option("--http-listen", default="127.0.0.1:8080", show_default=True, help="HTTP address for /health, /api and /metrics.")
@click.option("--no-http", is_flag=True, help="Do not serve HTTP.")
@click.option("--always-open", is_flag=True, help="Issue tickets outside the configured opening hours (demos, tests).")
@click.option("--log-level", default="INFO", show_default=True)
def server(config_path: str | None, data_dir: str, broker: str | None, mqtt_listen: str, http_listen: str,
           no_http: bool, always_open: bool, log_level: str) -> None:
    """Run the queue server of one office.

    Example: motcua server --config office.toml --data /var/lib/motcua
    """
    config = _load_config(config_path, always_open)
    _run_server(config, data_dir, _broker(broker), mqtt_listen, None if no_http else http_listen, log_level)


def _run_server(config: Any, data_dir: str, broker: Any, mqtt_listen: str, http_listen: str | None,
                log_level: str, on_ready: Callable[[Any], None] | None = None) -> None:
    from queue_server.server import QueueServer, ServerOptions
    from queue_server.store import StoreError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = ServerOptions(
        data_dir=Path(data_dir),
        broker=broker,
        mqtt_listen=parse_listen(mqtt_listen, 1883),
        http_listen=parse_listen(http_listen, 8080) if http_listen else None,
    )
    qs = QueueServer(config, options)
    try:
        qs.start()
    except (StoreError, OSError) as exc:
        qs.stop()
        raise click.ClickException(str(exc)) from None
    signal.signal(signal.SIGTERM, lambda *_: qs.stopping.set())
    http = f"http://{options.http_listen[0]}:{options.http_listen[1]}" if options.http_listen else "off"
    click.echo(
        f"motcua server: office {config.id} ({config.name})\n"
        f"  MQTT: {qs.broker_url}{' (embedded broker)' if broker is None else ''}\n"
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


@cli.command()
@client_options
@click.option("--service", required=True, help="Service (field of work) code, e.g. HT.")
@click.option("--priority", is_flag=True, help="A priority ticket (elderly, disability, pregnant, small child...).")
@click.option("--group", default=None, help="Priority group code, e.g. elderly.")
def ticket(config: Any, broker: Any, device: str, timeout: float, as_json: bool, service: str, priority: bool, group: str | None) -> None:
    """Take a ticket as a kiosk would, and print it.

    Example: motcua ticket --service HT
    """
    fields: dict[str, Any] = {"service": service, "priority": priority or bool(group)}
    if group:
        fields["priority_group"] = group
    reply = _request(config, broker, device, timeout, "ticket.issue", **fields)

    def describe(r: dict[str, Any]) -> str:
        t = r["ticket"]
        wait = t.get("estimated_wait_minutes")
        lines = [f"Số thứ tự: {t['number']}", f"Lĩnh vực: {t['service_name']}", f"Số người chờ trước: {t.get('ahead', 0)}"]
        if t.get("priority_group_name"):
            lines.append(f"Ưu tiên: {t['priority_group_name']}")
        if wait is None:
            lines.append("Thời gian chờ dự kiến: chưa có quầy mở")
        else:
            lines.append("Thời gian chờ dự kiến: được phục vụ ngay" if wait == 0 else f"Thời gian chờ dự kiến: khoảng {wait} phút")
        return "\n".join(lines)

    _print_reply(reply, as_json, describe)


@cli.command()
@client_options
@click.option("--counter", required=True, help="Counter id, e.g. Q1.")
def call(config: Any, broker: Any, device: str, timeout: float, as_json: bool, counter: str) -> None:
    """Call the next ticket at a counter (as its keypad would).

    Example: motcua call --counter Q1
    """
    reply = _request(config, broker, device, timeout, "counter.next", counter=counter)
    _print_reply(reply, as_json, lambda r: f"{r['ticket']['number']} -> {r['counter']['name']} ({r['ticket']['service_name']})")


@cli.command()
@client_options
@click.argument("op")
@click.argument("fields", nargs=-1)
def send(config: Any, broker: Any, device: str, timeout: float, as_json: bool, op: str, fields: tuple[str, ...]) -> None:
    """Send any contract operation with key=value fields (values parsed as JSON when they can be).

    Example: motcua send counter.sign_in counter=Q1 staff=nv-lan
    """
    values: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use key=value", param_hint="FIELDS")
        values[key] = _field_value(raw)
    reply = _request(config, broker, device, timeout, op, **values)
    _print_reply(reply, as_json, lambda r: json.dumps(r, ensure_ascii=False))


def _field_value(raw: str) -> Any:
    """true/false/null, lists and objects as JSON; everything else, numbers included, as text:
    ticket numbers like 1014 and staff ids like 12345 are texts in the contract."""
    if raw in ("true", "false", "null") or raw[:1] in ("[", "{"):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw


def _existing_db(data_dir: str) -> Path:
    """Commands that read the office database must not create an empty one somewhere else."""
    from queue_server.store import DB_FILENAME

    path = Path(data_dir) / DB_FILENAME
    if not path.exists():
        raise click.ClickException(f"no office database at {path}; give the server's --data directory")
    return path


@cli.command()
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


@cli.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.argument("destination", type=click.Path(dir_okay=False))
def backup(config_path: str | None, data_dir: str, destination: str) -> None:
    """Copy the live database to FILE, consistently, while the server keeps serving.

    Example: motcua backup /media/usb/motcua-2026-11-23.db
    """
    from queue_server.store import StoreError
    from queue_server.store import backup as do_backup

    source = _existing_db(data_dir)
    try:
        pages = do_backup(source, destination)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {destination} ({pages} pages, integrity ok)")


@cli.command()
@click.option("--listen", default="127.0.0.1:1883", show_default=True)
def broker(listen: str) -> None:
    """Run only the embedded MQTT broker (for tests and small setups without Mosquitto)."""
    from queue_server.broker import EmbeddedBroker

    host, port = parse_listen(listen, 1883)
    b = EmbeddedBroker(host, port)
    b.start()
    click.echo(f"embedded MQTT broker on {host}:{port}", err=True)
    stop = signal.SIGTERM
    signal.signal(stop, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        b.stop()


@cli.command()
def contract() -> None:
    """Print the MQTT contract reference (Markdown), generated from motcua/protocol.py."""
    from motcua.contract_doc import render

    click.echo(render(), nl=False)


@cli.command("mosquitto-acl")
@config_option
@click.option("--server-user", default="motcua-server", show_default=True, help="Broker user of the queue server.")
def mosquitto_acl(config_path: str | None, server_user: str) -> None:
    """Print a Mosquitto ACL that lets each device use only its own topics.

    Example: motcua mosquitto-acl --config office.toml > /etc/mosquitto/motcua.acl
    """
    from queue_server.mosquitto_acl import render

    click.echo(render(_load_config(config_path), server_user), nl=False)


@cli.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False))
def check_config(path: str) -> None:
    """Validate an office configuration file and summarise it."""
    config = _load_config(path)
    click.echo(
        f"{config.id}: {config.name}\n  {len(config.services)} services, {len(config.counters)} counters, "
        f"{len(config.devices)} devices\n  hours: {config.hours_text() or 'always open'}"
    )


@cli.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True)
@click.option("--mqtt-listen", default="127.0.0.1:1883", show_default=True)
@click.option("--http-listen", default="127.0.0.1:8080", show_default=True)
@click.option("--traffic/--no-traffic", default=True, show_default=True, help="Simulate citizens and officials.")
def demo(config_path: str | None, data_dir: str, mqtt_listen: str, http_listen: str, traffic: bool) -> None:
    """Run a whole office on this machine: embedded broker, SQLite, simulated kiosks and counters.

    Example: motcua demo
    """
    from motcua.demo import start_traffic

    config = _load_config(config_path, always_open=True)
    mqtt_listen = _free_or_other(mqtt_listen, 1883)
    http_listen = _free_or_other(http_listen, 8080)

    yours = next(iter(config.counters))
    service = config.counters[yours].services[0]

    def ready(qs: Any) -> None:
        broker = f" --broker {qs.broker_url}" if qs.broker_url.port != 1883 else ""
        simulated = (f"Simulated kiosks issue tickets and simulated officials serve every counter but {yours}.\n"
                     if traffic else "")
        click.echo(
            f"\nThe office is running. {simulated}"
            f"{config.counters[yours].name} ({yours}) is yours. In another terminal (source .venv/bin/activate first):\n"
            f"  motcua ticket --service {service}{broker}\n"
            f"  motcua send counter.sign_in counter={yours} staff=toi{broker}\n"
            f"  motcua call --counter {yours}{broker}\n"
            f"  motcua send counter.recall counter={yours}{broker}       (also: counter.finish, counter.skip, counter.pause ...)\n"
            f"  curl http://{http_listen}/api/state\n"
            f"  motcua events --data {data_dir}\n"
            "Stop with Ctrl+C.\n",
            err=True,
        )
        if traffic:
            start_traffic(config, qs.broker_url, qs.stopping, leave=yours)

    _run_server(config, data_dir, None, mqtt_listen, http_listen, "WARNING", on_ready=ready)


def _add_feature_commands() -> None:
    from queue_server import features

    for feature in features.modules():
        for command in feature.commands:
            cli.add_command(command)


_add_feature_commands()


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


def main() -> None:
    cli()
