"""The `motcua` command group and the device-side commands (ticket, call, send, contract).

Each role package adds its own commands through the `motcua.commands` entry-point group
(see pyproject.toml), so this shared module never imports a role: the server's commands
live in queue_server/cli.py, the kiosk's in kiosk/, and so on. Each command calls one
library function; --help is its documentation.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from importlib.metadata import entry_points
from typing import Any

import click

from motcua.broker_url import parse_broker_url
from motcua.settings import DEFAULT_CONFIG, OfficeRef, SettingsError, office_ref

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
COMMAND_GROUP = "motcua.commands"


def load_office_ref(path: str | None) -> OfficeRef:
    try:
        return office_ref(path)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def parse_broker_option(url: str | None) -> Any:
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


credentials_option = click.option(
    "--credentials", type=click.Path(dir_okay=False), default=None,
    help="The device's broker credentials file (from `motcua devices credentials`). Default: the file named by "
         "MOTCUA_CREDENTIALS, else the password in MOTCUA_BROKER_PASSWORD.",
)


def device_login(url: Any, device: str, credentials: str | None) -> Any:
    """The broker URL with this device's user and password filled in (from the file or the environment)."""
    from dataclasses import replace

    from motcua.credentials import CredentialsError, password_for

    user = url.username or device
    try:
        return replace(url, username=user, password=password_for(user, credentials))
    except CredentialsError as exc:
        raise click.ClickException(str(exc)) from None


def client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the commands that act as a device over MQTT; `broker` arrives with the device's login."""

    @config_option
    @click.option("--broker", default=DEFAULT_BROKER, show_default=True, help="MQTT broker URL, mqtt://host:port (no password: see --credentials).")
    @credentials_option
    @click.option("--device", default="console", show_default=True, help="Device id to act as (declared in the configuration).")
    @click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each try.")
    @click.option("--json", "as_json", is_flag=True, help="Print the whole reply as JSON.")
    @wraps(func)
    def wrapper(config_path: str | None, broker: str, credentials: str | None, device: str, timeout: float, as_json: bool,
                **kwargs: Any) -> Any:
        office = load_office_ref(config_path)
        login = device_login(parse_broker_option(broker), device, credentials)
        return func(office=office, broker=login, device=device, timeout=timeout, as_json=as_json, **kwargs)

    return wrapper


def _request(office: OfficeRef, broker: Any, device: str, timeout: float, op: str, **fields: Any) -> dict[str, Any]:
    from motcua.client import BrokerRefused, DeviceClient, RequestTimeout

    try:
        with DeviceClient(broker, office.id, device, office.topic_prefix) as client:
            return client.request(op, timeout=timeout, **fields)
    except BrokerRefused as exc:
        raise click.ClickException(str(exc)) from None
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
            detail = (error.get("params") or {}).get("detail")  # what exactly was wrong: for the person at the console
            click.echo(f"Lỗi [{error['code']}]: {error['message']}" + (f" ({detail})" if detail else ""), err=True)
        sys.exit(1)


@click.group()
@click.version_option(package_name="motcua")
def cli() -> None:
    """Một Cửa QMS: the queue server and tools of a one-stop section."""


@cli.command()
@client_options
@click.option("--service", required=True, help="Service (field of work) code, e.g. HT.")
@click.option("--priority", is_flag=True, help="A priority ticket (elderly, disability, pregnant, small child...).")
@click.option("--group", default=None, help="Priority group code, e.g. elderly.")
def ticket(office: OfficeRef, broker: Any, device: str, timeout: float, as_json: bool, service: str, priority: bool, group: str | None) -> None:
    """Take a ticket as a kiosk would, and print it.

    Example: motcua ticket --service HT
    """
    fields: dict[str, Any] = {"service": service, "priority": priority or bool(group)}
    if group:
        fields["priority_group"] = group
    reply = _request(office, broker, device, timeout, "ticket.issue", **fields)

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
def call(office: OfficeRef, broker: Any, device: str, timeout: float, as_json: bool, counter: str) -> None:
    """Call the next ticket at a counter (as its keypad would).

    Example: motcua call --counter Q1
    """
    reply = _request(office, broker, device, timeout, "counter.next", counter=counter)
    _print_reply(reply, as_json, lambda r: f"{r['ticket']['number']} -> {r['counter']['name']} ({r['ticket']['service_name']})")


@cli.command()
@client_options
@click.argument("op")
@click.argument("fields", nargs=-1)
def send(office: OfficeRef, broker: Any, device: str, timeout: float, as_json: bool, op: str, fields: tuple[str, ...]) -> None:
    """Send any contract operation with key=value fields (values parsed as JSON when they can be).

    Example: motcua send counter.sign_in counter=Q1 staff=nv-lan
    """
    values: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use key=value", param_hint="FIELDS")
        values[key] = _field_value(raw)
    reply = _request(office, broker, device, timeout, op, **values)
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


@cli.command()
def contract() -> None:
    """Print the MQTT contract reference (Markdown), generated from motcua/protocol.py."""
    from motcua.contract_doc import render

    click.echo(render(), nl=False)


def add_role_commands(group: click.Group) -> None:
    """Add the commands that installed role packages declare under the `motcua.commands` entry points."""
    for entry in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            command = entry.load()
        except ImportError as exc:  # a role whose extras are not installed on this box
            command = _missing_role(entry.name, exc)
        group.add_command(command, entry.name)


def _missing_role(name: str, exc: ImportError) -> click.Command:
    @click.command(name, help=f"(not installed on this box: {exc.name or exc})", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def missing(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"`motcua {name}` needs a package this box does not have ({exc}); install its role extra")

    return missing


def main() -> None:
    add_role_commands(cli)
    cli()
