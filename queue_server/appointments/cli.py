"""`motcua booking ...`: integrators' tokens, a day's slots and bookings, the day's booked load."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from motcua import i18n
from motcua.clock import SystemClock
from queue_server.dossiers.cli import database_of, source_group

with_database = database_of("queue_server.appointments.db")  # --config, --data, the appointment tables


def _day(value: str | None, config: Any) -> date:
    if value is None:
        return SystemClock().now().astimezone(config.tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23", param_hint="--day") from None


day_option = click.option("--day", default=None, metavar="YYYY-MM-DD", help="The day (default: today).")


@click.group()
def booking() -> None:
    """Appointments (lịch hẹn): integrators' tokens, slots, the day's bookings and booked load."""


booking.add_command(source_group(
    "booking_sources", "POST /api/appointments/bookings", with_database,
    "Systems allowed to book through the API: the one-stop software, or the counter pages booking for callers."))


@booking.command("slots")
@with_database
@click.option("--service", required=True, help="Service code (field of work), e.g. HT.")
@day_option
def slots(config: Any, db: Any, service: str, day: str | None) -> None:
    """The slots of a field on a day with their places left.

    Example: motcua booking slots --service HT --day 2026-11-24
    """
    from queue_server.appointments.bookings import free_places

    if service not in config.services:
        raise click.BadParameter(f"unknown service {service!r} (known: {', '.join(config.services)})", param_hint="--service")
    places = free_places(db, config, service, _day(day, config), SystemClock().now())
    if not places:
        click.echo(i18n.text("booking.page.no_slots", "vi"))
    for slot, left in places:
        click.echo(f"{slot.start:%H:%M}-{slot.end:%H:%M}  {left}/{slot.capacity}")


@booking.command("list")
@with_database
@day_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per booking.")
def list_day(config: Any, db: Any, day: str | None, as_json: bool) -> None:
    """The day's bookings: time, code, field, status, last 4 digits of the phone or ID number.

    Example: motcua booking list --day 2026-11-24
    """
    from queue_server.appointments.bookings import day_bookings

    now = SystemClock().now()
    for b in day_bookings(db, _day(day, config).isoformat()):
        row = b.as_dict(config, now)
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{row['slot_start'][11:16]}  {row['code_text']}  {b.service:<4} {i18n.text('booking.status.' + row['status'], 'vi'):<20} "
                       f"…{row['contact_last4'] or '----'}  {row['ticket'] or ''}")


@booking.command("load")
@with_database
@day_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer of GET /api/appointments/load.")
def load(config: Any, db: Any, day: str | None, as_json: bool) -> None:
    """The day's booked load per hour: places, booked, checked in, did not come, cancelled.

    Example: motcua booking load --day 2026-11-24
    """
    from queue_server.appointments.bookings import day_load

    answer = day_load(db, config, _day(day, config), SystemClock().now())
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    t = lambda key, **kw: i18n.text(key, "vi", **kw)  # noqa: E731
    click.echo(f"{t('booking.load.hour'):<6} {t('booking.load.booked'):>12} {t('booking.load.checked_in'):>8} "
               f"{t('booking.load.missed'):>12} {t('booking.load.cancelled'):>8}")
    for h in answer["hours"]:
        click.echo(f"{h['hour']:02d}:00  {h['booked']:>6}/{h['places']:<5} {h['checked_in']:>8} {h['missed']:>12} {h['cancelled']:>8}")
    totals = answer["totals"]
    click.echo(t("booking.load.totals", booked=totals["booked"], checked_in=totals["checked_in"], missed=totals["missed"],
                 no_show=totals["no_show_at_counter"]))
