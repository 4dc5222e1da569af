"""`motcua dossier ...`: source tokens, imports, and the same lookup a kiosk makes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from motcua import i18n
from motcua.clock import SystemClock

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True, help="Directory of the SQLite database."
)
config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="Office configuration (TOML). Default: firmware_config/office.example.toml",
)


def _vi(key: str, **params: Any) -> str:
    return i18n.text(key, "vi", **params)


def _both(key: str, separator: str = " / ", **params: Any) -> str:
    """A catalog entry in both languages, Vietnamese first."""
    return separator.join(i18n.pair(key, **params))


def database_of(tables: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding --config and --data and opening the office database with the tables of
    `tables` (a module with `connect(path)`, e.g. "queue_server.dossiers.db") brought up to date."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @config_option
        @data_option
        @wraps(func)
        def wrapper(config_path: str | None, data_dir: str, **kwargs: Any) -> Any:
            import importlib

            from queue_server.cli import load_config as _load_config
            from queue_server.store import Store, StoreError

            config = _load_config(config_path)
            try:
                core = Store.in_dir(data_dir, config.id)  # creates the database and checks it belongs to this office
            except StoreError as exc:
                raise click.ClickException(str(exc)) from None
            path = core.path
            core.close()
            db = importlib.import_module(tables).connect(path)
            try:
                return func(config=config, db=db, **kwargs)
            finally:
                db.close()

        return wrapper

    return decorate


with_database = database_of("queue_server.dossiers.db")  # the dossier tables


@click.group()
def dossier() -> None:
    """Dossiers (hồ sơ): sync sources, imports, status lookup."""


def source_group(table: str, use: str, database: Callable[..., Any], help: str) -> click.Group:
    """`source add | list | revoke` for the integrators of an area whose tokens live in `table`
    (queue_server/dossiers/sources.py); `use` is the endpoint the token is for, `database` the
    decorator that opens the office database with the area's tables."""
    from queue_server.dossiers import sources

    @click.group("source", help=help)
    def group() -> None:
        pass

    @group.command("add")
    @database
    @click.argument("name")
    def source_add(config: Any, db: Any, name: str) -> None:
        """Create a source and print its token (shown only this once).

        Example: motcua dossier source add mot-cua-tinh
        """
        try:
            token = sources.add(db, name, SystemClock().now(), table=table)
        except sources.SourceError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(token)
        created, created_en = i18n.pair("dossier.cli.source_created", name=name)
        click.echo(f"{created}\n{created_en}\n{_both('dossier.cli.use')}: Authorization: Bearer <token>  ->  {use}", err=True)

    @group.command("list")
    @database
    def source_list(config: Any, db: Any) -> None:
        """List the sources, when each was created and last used, and whether it is revoked."""
        rows = sources.list_all(db, table=table)
        if not rows:
            click.echo(f"{_both('dossier.cli.no_sources')} (source add NAME).")
            return
        for s in rows:
            state = f"{_both('dossier.cli.revoked')} {s.revoked_at[:19]}" if s.revoked_at else _both("dossier.cli.active")
            last = s.last_used_at[:19] if s.last_used_at else "-"
            click.echo(f"{s.name:<24} {state:<40} {_both('dossier.cli.created', separator='/')} {s.created_at[:19]}  "
                       f"{_both('dossier.cli.last_push', separator='/')} {last}")

    @group.command("revoke")
    @database
    @click.argument("name")
    def source_revoke(config: Any, db: Any, name: str) -> None:
        """Revoke a source's token: its requests are refused from now on."""
        try:
            sources.revoke(db, name, SystemClock().now(), table=table)
        except sources.SourceError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{_both('dossier.cli.source_revoked', name=name)}.")

    return group


dossier.add_command(source_group("dossier_sources", "POST /api/dossiers/sync", with_database,
                                 "Source systems (the electronic one-stop software) allowed to push dossiers."))


@dossier.command("import")
@with_database
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", "source_name", default="import", show_default=True, help="Source name recorded on the dossiers.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def import_file(config: Any, db: Any, file: str, source_name: str, as_json: bool) -> None:
    """Import dossiers from a CSV (header row) or JSON file; same rules as the push endpoint.

    Example: motcua dossier import export-2026-11-23.csv --source mot-cua-tinh
    """
    from queue_server.dossiers.sync import ImportFileError, apply_in_chunks, read_import_file

    try:
        items = read_import_file(file)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    report = apply_in_chunks(db, items, source_name, SystemClock().now(), config.tz)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(", ".join(f"{_both('dossier.cli.' + name)}: {getattr(report, name)}"
                             for name in ("accepted", "duplicate", "ignored_older", "rejected")))
        for item in report.items:
            if item["result"] == "rejected":
                reason = item["reason"]
                where = f"{_both('dossier.cli.item', separator='/')} {item['index'] + 1}"
                click.echo(f"  {where} {item.get('code') or ''}: [{reason['code']}] {reason['message']}", err=True)
    if report.rejected:
        sys.exit(1)


@dossier.command("status")
@with_database
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as the HTTP API gives it.")
@click.option("--verify", default=None, metavar="DIGITS", help="Last 4 digits of the applicant's personal identification number or phone: show everything.")
def status(config: Any, db: Any, code: str, as_json: bool, verify: str | None) -> None:
    """Look a dossier up as a citizen would (the public answer, or everything with --verify).

    Example: motcua dossier status 000.17.22.H56-210531-0001
    """
    from queue_server.dossiers.lookup import LookupRefused, lookup

    try:
        answer = lookup(db, config, code, SystemClock().now(), verify)
    except LookupRefused as exc:
        if as_json:
            click.echo(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2))
        else:
            click.echo(_vi("dossier.cli.error", code=exc.code, message=exc.message), err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    click.echo(describe(answer["dossier"]))


@dossier.command("unlock")
@with_database
@click.argument("code")
def unlock(config: Any, db: Any, code: str) -> None:
    """Let a dossier be verified online again, after checking the citizen's ID at the counter.

    Example: motcua dossier unlock 000.17.22.H56-210531-0001
    """
    from queue_server.dossiers import db as store
    from queue_server.dossiers.lookup import LookupRefused, code_or_refuse

    try:
        canonical = code_or_refuse(code)
    except LookupRefused as exc:
        raise click.ClickException(exc.message) from None
    click.echo(_both("dossier.cli.unlocked", code=canonical, failures=store.unlock_verification(db, canonical)))


def describe(d: dict[str, Any]) -> str:
    """A lookup answer as lines of Vietnamese text."""
    procedure = d["procedure"]["name"] or d["procedure"]["code"]
    lines = [
        _vi("dossier.describe.code", code=d["code"]),
        _vi("dossier.describe.procedure", procedure=procedure),
        _vi("dossier.describe.received", received=d["received_text"]),
        _vi("dossier.describe.due", due=d["due_text"] or _vi("dossier.describe.no_due")),
        _vi("dossier.describe.status", status=d["status_text"]),
    ]
    if d["timeliness_text"]:
        lines.append(_vi("dossier.describe.timeliness", timeliness=d["timeliness_text"]))
    lines.append(_vi("dossier.describe.applicant", applicant=d["applicant_name"] if d["verified"] else d["applicant"] or "-"))
    if d["verified"]:
        if d["missing_documents"]:
            lines.append(_vi("dossier.describe.missing_documents"))
            lines += [f"  - {doc}" for doc in d["missing_documents"]]
        if d["rejection_reason"]:
            lines.append(_vi("dossier.describe.rejection_reason", reason=d["rejection_reason"]))
        lines.append(_vi("dossier.describe.history"))
        lines += [f"  {h['at_text']}  {h['status_text']}" for h in d["history"]]
    return "\n".join(lines)


