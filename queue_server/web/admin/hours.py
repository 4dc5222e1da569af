"""Opening hours per weekday and the days the office is closed ([hours], [[holidays]])."""

from __future__ import annotations

import re
from datetime import date

from flask import Response, request

from queue_server.config import WEEKDAY_VI, WEEKDAYS
from queue_server.config_edit import add_holiday, remove_holiday, set_hours
from queue_server.web.admin.common import Form, bp, change_configuration, done, editors, local_now, page, viewers
from queue_server.web.support import office

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # what people type where the browser has no date picker


def form_date(form: Form, name: str, required: bool = True) -> str:
    """An ISO date from a date input ("2026-09-02") or typed by hand ("2/9/2026"), else an error next to the field."""
    text = str(form.get(name, "")).strip()
    if not text:
        if required:
            form.error(name, "admin.form.required")
        return ""
    match = _DMY.match(text)
    try:
        return (date(int(match[3]), int(match[2]), int(match[1])) if match else date.fromisoformat(text)).isoformat()
    except ValueError:
        form.error(name, "admin.form.date")
        return ""


def _hours_form() -> Form:
    source = office().config.source
    values = {day: (source.get("hours") or {}).get(day, "") for day in WEEKDAYS}
    values["issue_outside_hours"] = bool((source.get("office") or {}).get("issue_outside_hours", False))
    return Form(values)


def _page(hours: Form | None = None, holiday: Form | None = None, status: int = 200) -> Response:
    config = office().config
    today = local_now().date()
    holidays = [{"first": h.first, "last": h.last, "name": h.name, "past": h.last < today} for h in config.holidays]
    return page("hours.html", status, hours=hours or _hours_form(), holiday=holiday or Form(), days=list(zip(WEEKDAYS, WEEKDAY_VI, strict=True)),
                hours_text=config.hours_text(), holidays=holidays, always_open="issue_outside_hours" in config.overrides)


@bp.get("/hours")
@viewers
def hours() -> Response:
    return _page()


@bp.post("/hours")
@editors
def save_hours() -> Response:
    form = Form.posted()
    form.values["issue_outside_hours"] = request.form.get("issue_outside_hours") == "on"
    spans = {day: form.get(day) for day in WEEKDAYS}
    outside = form.values["issue_outside_hours"]
    if change_configuration(lambda doc: set_hours(doc, spans, outside), form, "hours"):
        return done("admin.hours")
    return _page(hours=form, status=400)


@bp.post("/holidays")
@editors
def add_holiday_view() -> Response:
    form = Form.posted()
    first = form_date(form, "date")
    last = form_date(form, "until", required=False)
    name = form.required("name")
    if form.ok and change_configuration(lambda doc: add_holiday(doc, first, last, name), form, "holidays"):
        return done("admin.hours")
    return _page(holiday=form, status=400)


@bp.post("/holidays/remove")
@editors
def remove_holiday_view() -> Response:
    form = Form.posted()
    first, name = form.get("date"), form.get("name")
    if change_configuration(lambda doc: remove_holiday(doc, first, name), form, "holidays"):
        return done("admin.hours", "removed")
    return _page(holiday=form, status=409)
