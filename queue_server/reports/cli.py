"""`motcua report`, `motcua simulate` and `motcua plan` (registered through motcua.commands entry points)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from motcua.cli import config_option
from queue_server.cli import _existing_db, load_config


def _date(ctx: Any, param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r}: use YYYY-MM-DD or dd/mm/yyyy")


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True, help="The server's data directory.")
@click.option("--from", "start", callback=_date, default=None, help="First business day (YYYY-MM-DD or dd/mm/yyyy). Default: today.")
@click.option("--to", "end", callback=_date, default=None, help="Last business day, inclusive. Default: the --from day.")
@click.option("--period", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="day", show_default=True,
              help="Rows of the per-period table.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf", "json"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="File to write. Default: bao-cao-FROM-TO.FORMAT")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--rebuild", is_flag=True, help="Derive the visit rows again from the whole event log first.")
@click.option("--dashboard", is_flag=True, help="Print today's dashboard figures (JSON) instead of a report.")
def report(config_path: str | None, data_dir: str, start: date | None, end: date | None, period: str, fmt: str, output: str | None,
           lang: str, rebuild: bool, dashboard: bool) -> None:
    """Report the office's figures for a date range: waits, service, satisfaction, dossiers, productivity.

    Example: motcua report --from 2026-01-01 --to 2026-03-31 --period month --format pdf
    """
    from queue_server.reports.export import write
    from queue_server.reports.report import build
    from queue_server.reports.visits import ReportDB

    config = load_config(config_path)
    now = datetime.now(UTC)
    rdb = ReportDB(_existing_db(data_dir), config)
    try:
        if rebuild:
            click.echo(f"rebuilt the visit rows from {rdb.rebuild()} events", err=True)
        if dashboard:
            from queue_server.reports.dashboard import dashboard as today

            click.echo(json.dumps(today(rdb, now), ensure_ascii=False, indent=2))
            return
        start = start or date.fromisoformat(config.business_day(now))
        end = end or start
        try:
            data = build(rdb, start, end, period=period, now=now)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if fmt == "json" and output is None:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        path = Path(output or f"bao-cao-{start}-{end}.{fmt}")
        if fmt == "json":
            path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            write(data, path, fmt, config.tz, lang)
        click.echo(f"{path}", err=False)
    finally:
        rdb.close()


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Data directory of the simulated office (a new temporary one if not given). Report on it afterwards.")
@click.option("--day", "first_day", callback=_date, default=None, help="First simulated business day. Default: next Monday.")
@click.option("--days", default=1, show_default=True, help="Number of consecutive days.")
@click.option("--speed", default=0.0, show_default=True, help="Simulated seconds per real second (60: an hour a minute); 0: as fast as possible.")
@click.option("--numbers", default=450.0, show_default=True, help="Numbers taken on an ordinary weekday.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same day.")
@click.option("--broker", default=None, help="Use this broker (e.g. a test Mosquitto) instead of an embedded one.")
@click.option("--http-listen", default=None, help="Serve the simulated office's HTTP (dashboard JSON) here, e.g. 127.0.0.1:8081.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's statistics as JSON.")
def simulate(config_path: str | None, data_dir: str | None, first_day: date | None, days: int, speed: float, numbers: float, seed: int,
             broker: str | None, http_listen: str | None, as_json: bool) -> None:
    """Simulate citizens and officials in a running office over MQTT, on a clock the simulation controls.

    Example: motcua simulate --day 2026-11-23 --days 5 --data /tmp/sim && motcua report --data /tmp/sim --from 2026-11-23 --to 2026-11-27
    """
    import tempfile
    from datetime import timedelta

    from motcua.broker_url import parse_listen
    from motcua.cli import parse_broker_option
    from queue_server.reports.profile import district_profile
    from queue_server.reports.simulate import simulate_office

    config = load_config(config_path)
    if first_day is None:
        today = date.today()
        first_day = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    directory = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="motcua-sim-"))
    try:
        stats = simulate_office(config, district_profile(config, numbers), first_day, days, data_dir=directory, seed=seed, speed=speed,
                                broker=parse_broker_option(broker), http_listen=parse_listen(http_listen, 8081) if http_listen else None,
                                log=lambda line: click.echo(line, err=True))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"data": str(directory), **stats.__dict__}, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{stats.days} day(s) from {first_day}: {stats.issued} numbers, {stats.served} served, {stats.no_shows} no-shows, "
        f"{stats.transfers} transfers, {stats.votes} votes; {stats.requests} requests in {stats.wall_seconds:.1f} s\n"
        f"data: {directory}\nreport: motcua report --data {directory} --from {first_day} --to {first_day + timedelta(days=days - 1)}"
    )


@click.command()
def plan() -> None:
    """Plan the counters to open (see docs/planner.md)."""
    raise click.ClickException("not built yet")
