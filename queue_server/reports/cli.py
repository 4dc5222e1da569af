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


def _staffing(value: str | None) -> dict[str, int] | int | None:
    """--staff "HT=2,DD=1" (counters per field) or "6" (six counters shared by every field)."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value)
    out: dict[str, int] = {}
    for part in value.split(","):
        code, sep, n = part.partition("=")
        if not sep or not n.strip().isdigit():
            raise click.BadParameter(f"{part!r}: use FIELD=COUNTERS, e.g. HT=2,DD=1, or a number of shared counters", param_hint="--staff")
        out[code.strip()] = int(n)
    return out


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help="Plan from the visits recorded in this data directory.")
@click.option("--from", "start", callback=_date, default=None, help="First recorded day to learn from (with --data).")
@click.option("--to", "end", callback=_date, default=None, help="Last recorded day to learn from (with --data).")
@click.option("--weekday", type=click.Choice(["mon", "tue", "wed", "thu", "fri", "sat"]), default=None,
              help="Learn only from this weekday (with --data); a profile day is Monday unless this says otherwise.")
@click.option("--numbers", default=450.0, show_default=True, help="Without --data: numbers taken on a weekday in the default profile.")
@click.option("--target", "target_minutes", default=None, type=float, help="Mean wait target in minutes. Default: [reports] wait_target_minutes (15).")
@click.option("--staff", default=None, help="A proposed staffing to evaluate: FIELD=COUNTERS,... (one field per counter) or N shared counters.")
@click.option("--days", "sim_days", default=30, show_default=True, help="Simulated days that check the proposed staffing.")
@click.option("--json", "as_json", is_flag=True)
def plan(config_path: str | None, data_dir: str | None, start: date | None, end: date | None, weekday: str | None, numbers: float,
         target_minutes: float | None, staff: str | None, sim_days: int, as_json: bool) -> None:
    """Counters to open per hour and field to meet the wait target; what a proposed staffing would give.

    Example: motcua plan --data /var/lib/motcua --from 2026-09-01 --to 2026-11-30 --weekday mon --staff HT=2,CT=1,DD=2,XD=1,KD=1,LD=1
    """
    from queue_server.config import WEEKDAYS
    from queue_server.reports import planner as pl
    from queue_server.reports.profile import district_profile
    from queue_server.reports.visits import ReportDB

    config = load_config(config_path)
    target = target_minutes or config.reports.wait_target_minutes
    staffing = _staffing(staff)
    if isinstance(staffing, dict):
        unknown = set(staffing) - set(config.services)
        if unknown:
            raise click.BadParameter(f"unknown field(s) {', '.join(sorted(unknown))} (known: {', '.join(config.services)})", param_hint="--staff")
    day_index = WEEKDAYS.index(weekday) if weekday else None
    if data_dir:
        rdb = ReportDB(_existing_db(data_dir), config)
        try:
            rdb.catch_up()
            first = (start or date(1970, 1, 1)).isoformat()
            last = (end or date(2199, 12, 31)).isoformat()
            demand = pl.demand_from_history(rdb.db, config, first, last, day_index)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            rdb.close()
    else:
        monday = date(2026, 11, 23)
        demand = pl.demand_from_profile(district_profile(config, numbers), config, monday if day_index is None else monday.replace(day=23 + day_index))
    rows = pl.plan(demand, target)
    result: dict[str, Any] = {"source": demand.source, "target_minutes": target, "plan": rows}
    if staffing is not None:
        result["formula"] = pl.evaluate(demand, staffing, target)
        services = sorted({s for per in demand.rates.values() for s in per})
        layout = pl.layout_of(staffing, services)
        missing = [s for s in services if not any(s in c for c in layout)]
        if missing:
            raise click.ClickException(f"no counter serves {', '.join(missing)} in --staff")
        result["simulation"] = pl.compare_routing(demand, {"proposed": layout}, days=sim_days, target_minutes=target)["proposed"]
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    _print_plan(result, config, staffing)


def _minutes(value: float | None) -> str:
    return "quá tải" if value is None else f"{value:.1f} phút"


def _print_plan(result: dict[str, Any], config: Any, staffing: Any) -> None:
    services = sorted({r["service"] for r in result["plan"]})
    click.echo(f"Số quầy cần mở để thời gian chờ trung bình ≤ {result['target_minutes']:g} phút (nguồn: {result['source']})")
    click.echo("Giờ   " + "".join(f"{s:>6}" for s in services) + "   Tổng")
    by_hour: dict[int, dict[str, int]] = {}
    for r in result["plan"]:
        by_hour.setdefault(r["hour"], {})[r["service"]] = r["counters"]
    for hour, per in sorted(by_hour.items()):
        click.echo(f"{hour:02d}h  " + "".join(f"{per.get(s, 0):>6}" for s in services) + f"   {sum(per.values()):>4}")
    if staffing is not None:
        f, sim = result["formula"], result["simulation"]
        click.echo(f"\nĐề xuất {staffing}: chờ TB theo công thức {_minutes(f['mean_wait_minutes'])}, "
                   f"{f['within_target_share'] * 100:.1f}% trong {result['target_minutes']:g} phút")
        click.echo(f"  theo mô phỏng ({sim['visits']:.0f} lượt/ngày): chờ TB {sim['mean_wait_minutes']:.1f} phút, "
                   f"P90 {sim['p90_wait_minutes']:.1f} phút, {sim['within_target_share'] * 100:.1f}% trong {result['target_minutes']:g} phút")
        for h in f["hours"]:
            click.echo(f"  {h['hour']:02d}h: {h['arrivals']:.0f} lượt, chờ TB {_minutes(h['mean_wait_minutes'])}")
