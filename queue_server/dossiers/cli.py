"""`motcua dossier ...`: source tokens, imports, and the same lookup a kiosk makes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from motcua.clock import SystemClock

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True, help="Directory of the SQLite database."
)
config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="Office configuration (TOML). Default: firmware_config/office.example.toml",
)


def with_database(func: Callable[..., Any]) -> Callable[..., Any]:
    """--config and --data, opened as the office database with the dossier tables migrated."""

    @config_option
    @data_option
    @wraps(func)
    def wrapper(config_path: str | None, data_dir: str, **kwargs: Any) -> Any:
        from motcua.cli import _load_config  # here, not at import: motcua.cli imports the features
        from queue_server.dossiers import db as store
        from queue_server.store import Store, StoreError

        config = _load_config(config_path)
        try:
            core = Store.in_dir(data_dir, config.id)  # creates the database and checks it belongs to this office
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        path = core.path
        core.close()
        db = store.connect(path)
        try:
            return func(config=config, db=db, **kwargs)
        finally:
            db.close()

    return wrapper


@click.group()
def dossier() -> None:
    """Dossiers (hồ sơ): sync sources, imports, status lookup."""


@dossier.group()
def source() -> None:
    """Source systems (the electronic one-stop software) allowed to push dossiers."""


@source.command("add")
@with_database
@click.argument("name")
def source_add(config: Any, db: Any, name: str) -> None:
    """Create a source and print its token (shown only this once).

    Example: motcua dossier source add mot-cua-tinh
    """
    from queue_server.dossiers import sources

    try:
        token = sources.add(db, name, SystemClock().now())
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(
        f"Nguồn {name!r} đã được tạo. Mã xác thực ở trên chỉ hiển thị một lần: hãy lưu lại ngay.\n"
        f"Source {name!r} created. The token above is shown only once: store it now.\n"
        "Dùng / use: Authorization: Bearer <token>  ->  POST /api/dossiers/sync",
        err=True,
    )


@source.command("list")
@with_database
def source_list(config: Any, db: Any) -> None:
    """List the sources, when each was created and last pushed, and whether it is revoked."""
    from queue_server.dossiers import sources

    rows = sources.list_all(db)
    if not rows:
        click.echo("Chưa có nguồn nào / no sources yet (motcua dossier source add NAME).")
        return
    for s in rows:
        state = f"đã thu hồi / revoked {s.revoked_at[:19]}" if s.revoked_at else "đang hoạt động / active"
        last = s.last_used_at[:19] if s.last_used_at else "-"
        click.echo(f"{s.name:<24} {state:<40} tạo/created {s.created_at[:19]}  gửi gần nhất/last push {last}")


@source.command("revoke")
@with_database
@click.argument("name")
def source_revoke(config: Any, db: Any, name: str) -> None:
    """Revoke a source's token: its pushes are refused from now on."""
    from queue_server.dossiers import sources

    try:
        sources.revoke(db, name, SystemClock().now())
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã thu hồi mã xác thực của nguồn {name!r} / revoked the token of {name!r}.")


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
        click.echo(
            f"Đã nhận / accepted: {report.accepted}, trùng / duplicate: {report.duplicate}, "
            f"cũ hơn, bỏ qua / ignored as older: {report.ignored_older}, từ chối / rejected: {report.rejected}"
        )
        for item in report.items:
            if item["result"] == "rejected":
                reason = item["reason"]
                click.echo(f"  dòng/item {item['index'] + 1} {item.get('code') or ''}: [{reason['code']}] {reason['message']}", err=True)
    if report.rejected:
        sys.exit(1)


@dossier.command("status")
@with_database
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as the HTTP API gives it.")
@click.option("--verify", default=None, metavar="DIGITS", help="Last 4 digits of the applicant's ID number or phone: show everything.")
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
            click.echo(f"Lỗi [{exc.code}]: {exc.message}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    click.echo(describe(answer["dossier"]))


def describe(d: dict[str, Any]) -> str:
    """A lookup answer as lines of Vietnamese text."""
    procedure = d["procedure"]["name"] or d["procedure"]["code"]
    lines = [
        f"Mã hồ sơ: {d['code']}",
        f"Thủ tục: {procedure}",
        f"Ngày tiếp nhận: {d['received_text']}",
        f"Hẹn trả kết quả: {d['due_text'] or 'không có'}",
        f"Trạng thái: {d['status_text']}",
    ]
    if d["timeliness_text"]:
        lines.append(f"Tiến độ: {d['timeliness_text']}")
    lines.append(f"Người nộp: {d['applicant_name'] if d['verified'] else d['applicant'] or '-'}")
    if d["verified"]:
        if d["missing_documents"]:
            lines.append("Giấy tờ cần bổ sung:")
            lines += [f"  - {doc}" for doc in d["missing_documents"]]
        if d["rejection_reason"]:
            lines.append(f"Lý do từ chối: {d['rejection_reason']}")
        lines.append("Lịch sử:")
        lines += [f"  {h['at_text']}  {h['status_text']}" for h in d["history"]]
    return "\n".join(lines)


commands = [dossier]
