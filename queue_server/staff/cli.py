"""`motcua staff`: staff accounts from the server's console (works while the server runs).

Each command opens the office database of `--data`, makes one change through the same path
the server's worker uses (account row and audit event in one transaction) and prints what
it did. Passwords are asked on the console (twice, hidden) or read from standard input with
`--password-stdin`; never from the command line, where `ps` and the shell history would keep them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from motcua.cli import config_option

data_option = click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True,
                           help="The server's data directory (its SQLite database).")
password_option = click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")


@contextmanager
def _office(config_path: str | None, data_dir: str) -> Iterator[tuple[Any, Any]]:
    from queue_server.cli import _existing_db, load_config
    from queue_server.store import Store, StoreError

    config = load_config(config_path)
    try:
        store = Store(_existing_db(data_dir), config.id)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield config, store
    finally:
        store.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


def _apply(config: Any, store: Any, change: Any) -> Any:
    from queue_server.staff.accounts import apply_offline
    from queue_server.staff.model import StaffError

    try:
        return apply_offline(store, config, change, by="console")
    except StaffError as exc:
        raise click.ClickException(exc.message_en) from None


def _counters(value: str | None, config: Any) -> list[str] | None:
    if value is None:
        return None
    if value.strip().lower() == "all":
        return list(config.counters)
    return [c.strip() for c in value.split(",") if c.strip()]


def _describe(member: Any) -> str:
    counters = ",".join(member.counters) or "-"
    return f"{member.id:<16} {member.role:<14} {'active' if member.active else 'disabled':<9} {counters:<20} {member.name}"


@click.group()
def staff() -> None:
    """Staff accounts: administrators, managers (reports) and officials (counters).

    The first administrator of a new office comes from the one-time link the server prints
    at its first start, or from `motcua staff add ID --role administrator` here.
    """


@staff.command("add")
@config_option
@data_option
@click.argument("staff_id")
@click.option("--name", required=True, help="The person's full name, as pages show it.")
@click.option("--role", type=click.Choice(["administrator", "manager", "official"]), default="official", show_default=True)
@click.option("--counters", default="", help="Counters this person may serve at, e.g. Q1,Q2 (or all).")
@password_option
def add(config_path: str | None, data_dir: str, staff_id: str, name: str, role: str, counters: str, password_stdin: bool) -> None:
    """Create an account; asks for its password.

    Example: motcua staff add nv-lan --name "Nguyen Thi Lan" --counters Q1,Q2
    """
    from queue_server.staff.accounts import new_account
    from queue_server.staff.model import StaffError

    with _office(config_path, data_dir) as (config, store):
        try:
            change = new_account(staff_id, name, role, _counters(counters, config) or [], _password(password_stdin), config.counters)
        except StaffError as exc:
            raise click.ClickException(exc.message_en) from None
        member = _apply(config, store, change)
    click.echo(f"created {member.id} ({member.role})")


@staff.command("passwd")
@config_option
@data_option
@click.argument("staff_id")
@password_option
def passwd(config_path: str | None, data_dir: str, staff_id: str, password_stdin: bool) -> None:
    """Set a new password for an account (its open sessions end).

    Example: motcua staff passwd nv-lan
    """
    from queue_server.staff.accounts import new_password
    from queue_server.staff.model import StaffError

    with _office(config_path, data_dir) as (config, store):
        try:
            change = new_password(staff_id, _password(password_stdin))
        except StaffError as exc:
            raise click.ClickException(exc.message_en) from None
        member = _apply(config, store, change)
    click.echo(f"new password set for {member.id}")


@staff.command("set")
@config_option
@data_option
@click.argument("staff_id")
@click.option("--name", default=None)
@click.option("--role", type=click.Choice(["administrator", "manager", "official"]), default=None)
@click.option("--counters", default=None, help="Replace the counters, e.g. Q1,Q3 (all; or '' for none).")
@click.option("--enable/--disable", "active", default=None, help="Let the account sign in, or stop it (its sessions end).")
def set_account(config_path: str | None, data_dir: str, staff_id: str, name: str | None, role: str | None,
                counters: str | None, active: bool | None) -> None:
    """Change an account's name, role, counters or whether it may sign in.

    Example: motcua staff set nv-lan --counters Q1,Q3
    """
    from queue_server.staff.accounts import edit_account
    from queue_server.staff.model import StaffError

    with _office(config_path, data_dir) as (config, store):
        try:
            change = edit_account(staff_id, config.counters, name=name, role=role, counters=_counters(counters, config), active=active)
        except StaffError as exc:
            raise click.ClickException(exc.message_en) from None
        member = _apply(config, store, change)
    click.echo(_describe(member))


@staff.command("list")
@config_option
@data_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
def list_accounts(config_path: str | None, data_dir: str, as_json: bool) -> None:
    """List the accounts (never their passwords).

    Example: motcua staff list
    """
    from queue_server.staff.store import StaffStore

    with _office(config_path, data_dir) as (_config, store):
        members = StaffStore(store.db).migrate().all()
    for member in members:
        if as_json:
            click.echo(json.dumps({"id": member.id, "name": member.name, "role": member.role, "counters": list(member.counters),
                                   "active": member.active}, ensure_ascii=False))
        else:
            click.echo(_describe(member))


@staff.command("setup-link")
@config_option
@data_option
@click.option("--url", "base_url", default="http://127.0.0.1:8080", show_default=True, help="How browsers reach the server.")
def setup_link(config_path: str | None, data_dir: str, base_url: str) -> None:
    """Print a new one-time link to create the first administrator (the old link stops working).

    Example: motcua staff setup-link --url http://10.0.0.2:8080
    """
    from queue_server.staff.setup import SETUP_HOURS, SETUP_PATH, issue_setup_token
    from queue_server.staff.store import StaffStore

    with _office(config_path, data_dir) as (_config, store):
        if StaffStore(store.db).migrate().active_administrators():
            raise click.ClickException("this office has an administrator already; they create the other accounts")
        token = issue_setup_token(Path(store.path).parent, datetime.now(UTC))
    click.echo(f"{base_url.rstrip('/')}{SETUP_PATH}{token}  (works once, for {SETUP_HOURS} hours)")
