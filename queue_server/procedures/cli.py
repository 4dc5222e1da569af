"""`motcua procedures import|search|show`: the catalogue from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from motcua import i18n
from queue_server.procedures import db as pdb
from queue_server.procedures.model import document_kind_name, level_name

EXIT_REJECTED = 2  # the import ran, but some rows were rejected


def _vi(key: str, **params: Any) -> str:
    return i18n.text(key, "vi", **params)


# The same --config/--data as `motcua events`.
config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                             help="Office configuration (TOML). Default: firmware_config/office.example.toml")
data_option = click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True,
                           help="Directory of the SQLite database.")


@contextmanager
def _catalogue(config_path: str | None, data_dir: str) -> Iterator[tuple[Any, sqlite_utils.Database, Path]]:
    """The office config and a connection to its database, created and migrated if needed."""
    from queue_server.cli import load_config as _load_config
    from queue_server.store import Store, StoreError

    config = _load_config(config_path)
    try:
        store = Store.in_dir(data_dir, config.id)  # core tables first, and refuses another office's database
        store.close()
        db = pdb.open_db(store.path)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield config, db, store.path
    finally:
        db.close()


@click.group("procedures")
def procedures() -> None:
    """Administrative procedures (thủ tục hành chính): import a catalogue, search, show one."""


@procedures.command("import")
@config_option
@data_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "national"]), default=None,
              help="File format; guessed by default (.csv is csv; JSON with MaTTHC keys is 'national').")
@click.option("--retire-missing/--no-retire-missing", default=True, show_default=True,
              help="Stop showing this source's procedures that the file no longer lists (the file is the whole catalogue); "
                   "they are kept, hidden, and shown again if a later file lists them.")
@click.option("--source", default=None, help="Source name; default: the one the JSON file declares, else the file name.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_command(config_path: str | None, data_dir: str, file: str, fmt: str | None, retire_missing: bool,
                   source: str | None, as_json: bool) -> None:
    """Import a procedure catalogue: native JSON, CSV, or the national database's JSON.

    Run again with a corrected file: only changed procedures are written. Exit code 2: some
    rows were rejected (the report names them, in Vietnamese, for the office).

    Example: motcua procedures import queue_server/procedures/sample/catalogue.json
    """
    from queue_server.procedures.formats import ImportFailed
    from queue_server.procedures.importer import import_file

    with _catalogue(config_path, data_dir) as (config, db, db_path):
        try:
            report = import_file(db, file, fmt, source, retire_missing, services=set(config.services),
                                 forms_root=pdb.forms_dir(db_path))
        except ImportFailed as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())
        if report.retired:
            click.echo(_vi("procedures.cli.retired", codes=", ".join(report.retired)))
        for problem in report.rejected:
            click.echo(_vi("procedures.cli.rejected", problem=problem.line()), err=True)
        for problem in report.warnings:
            click.echo(_vi("procedures.cli.warning", problem=problem.line()), err=True)
    if report.rejected:
        raise SystemExit(EXIT_REJECTED)


@procedures.command("search")
@config_option
@data_option
@click.argument("text")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 50), help="At most this many results.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def search_command(config_path: str | None, data_dir: str, text: str, limit: int, as_json: bool) -> None:
    """Search procedures, with or without diacritics; best match first.

    Example: motcua procedures search "dang ky khai sinh"
    """
    from queue_server.procedures import lookup
    from queue_server.procedures.search import ProcedureSearch

    with _catalogue(config_path, data_dir) as (config, db, db_path):
        services = {code: service.name for code, service in config.services.items()}
        # As the kiosk is answered (outcome, "handled elsewhere"...), without recording the query: this is a test.
        body = lookup.answer(ProcedureSearch(db, str(db_path)), text, limit, services.get)
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if body["outcome"] != "found":
        click.echo(body["message"])
        if body.get("hint"):
            click.echo(body["hint"])
        return
    for r in body["results"]:
        service = f"  [{r['service']}]" if r["service"] else ""
        click.echo(f"{r['code']:<22} {r['name']}{service}")


@procedures.command("misses")
@config_option
@data_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000), help="At most this many queries.")
@click.option("--clear", is_flag=True, help="Empty the list (after adding synonyms for them).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def misses_command(config_path: str | None, data_dir: str, limit: int, clear: bool, as_json: bool) -> None:
    """Kiosk searches that found no procedure, most asked first.

    Use them to add synonyms to queue_server/procedures/synonyms.json. Only the folded query, its
    count and its first and last day are kept; runs of 3 or more digits become #.

    Example: motcua procedures misses --limit 20
    """
    from queue_server.procedures import misses

    with _catalogue(config_path, data_dir) as (_, db, _path):
        if clear:
            click.echo(_vi("procedures.cli.misses_cleared", count=misses.clear(db)))
            return
        rows = misses.listing(db, limit)
    if as_json:
        click.echo(json.dumps({"misses": rows}, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo("{} ({}).".format(*i18n.pair("procedures.cli.misses_none")))
    else:
        click.echo(_vi("procedures.cli.misses_header"))
        for row in rows:
            click.echo(f"{row['count']:>6}  {row['last_day']}  {row['query']}")


def describe(p: dict[str, Any], service_name: str | None = None, counters: list[str] | None = None) -> str:
    """A procedure as text for a terminal (Vietnamese)."""
    lines = [f"{p['name']}", _vi("procedures.describe.code", code=p["code"])]
    if not p.get("active", True):
        lines.append(_vi("procedures.describe.retired", retired_at=p.get("retired_at")))
    if p.get("sample"):
        lines.append(_vi("procedures.describe.sample"))
    for label, value in (("field", p.get("field")), ("agency", p.get("agency")), ("level", level_name(p.get("level"))),
                         ("processing_time", p.get("processing_time")), ("result", p.get("result"))):
        if value:
            lines.append(f"{_vi('procedures.describe.' + label)}: {value}")
    if p.get("service"):
        # Citizens know counters and fields of work, not the office's internal service codes.
        lines.append(_vi("procedures.describe.service", counters=", ".join(counters or []) or "-",
                         service=service_name or p["service"]))
    if p.get("steps"):
        lines.append(_vi("procedures.describe.steps"))
        lines += [f"  {i}. {s}" for i, s in enumerate(p["steps"], 1)]
    if p.get("documents"):
        lines.append(_vi("procedures.describe.documents"))
        for d in p["documents"]:
            note = f" - {d['note']}" if d.get("note") else ""
            lines.append(f"  - {d['name']} ({document_kind_name(d['kind'])}: {d['count']}){note}")
    if p.get("fees"):
        lines.append(_vi("procedures.describe.fees"))
        lines += [f"  - {f['name']}: {f['amount']}" for f in p["fees"]]
    if p.get("legal_basis"):
        lines.append(_vi("procedures.describe.legal_basis"))
        lines += [f"  - {b}" for b in p["legal_basis"]]
    if p.get("forms"):
        lines.append(_vi("procedures.describe.forms"))
        lines += [f"  - {f['name']}: /procedures/forms/{p['code']}/{f['file']}" for f in p["forms"]]
    return "\n".join(lines)


@procedures.command("show")
@config_option
@data_option
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the whole procedure as JSON.")
def show_command(config_path: str | None, data_dir: str, code: str, as_json: bool) -> None:
    """Show one procedure by its code (in Vietnamese, as the kiosk shows it).

    Example: motcua procedures show MAU-HT-001
    """
    with _catalogue(config_path, data_dir) as (config, db, _):
        procedure = pdb.get(db, code)
    if procedure is None:
        raise click.ClickException("{} ({})".format(*i18n.pair("procedures.cli.not_found", code=code)))
    if as_json:
        click.echo(json.dumps(procedure, ensure_ascii=False, indent=2))
        return
    service = config.services.get(procedure.get("service") or "")
    counters = [c.name for c in config.counters_serving(service.code) if not c.priority_only] if service else []
    click.echo(describe(procedure, service.name if service else None, counters))
