"""The dashboard pages: the manager's screen, the big screen in the room, and the report page.

GET /dashboard            the manager's screen: today's figures per field, counter and official, alerts, charts
GET /dashboard/room       the big screen in the waiting room: a few huge numbers (public, no personal data)
GET /api/reports/room     the room's JSON: the dashboard without officials, per-counter figures or alerts
GET /reports              pick a range and a period, see the figures, download CSV/XLSX/PDF
The manager's screen and the reports are for signed-in manager and administrator accounts
(queue_server/web/auth.py); the room's screen and its JSON are public, read-only.

The pages are thin: static/dashboard.js draws them from /api/reports/dashboard (or the room's
JSON) and refreshes when the live stream says the queue, a counter or the clock changed, at most
once every few seconds; static/charts.js draws the charts as SVG. The report page is rendered
here from the same `build()` as /api/reports and the exports, laid out by reports/tables.py.
Why the room screen is public and what it leaves out: docs/reports.md, "The pages".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for

from motcua import i18n
from queue_server.reports.dashboard import room_view
from queue_server.reports.export import FORMATS
from queue_server.reports.pdf import vi_number
from queue_server.reports.periods import PERIOD_NAMES
from queue_server.reports.report import build
from queue_server.reports.tables import Minutes, Share, tables
from queue_server.web.auth import add_home_link, current_staff, requires
from queue_server.web.errors import ApiError
from queue_server.web.reports import REPORT_ROLES, range_args, shared_reports
from queue_server.web.support import office, private

bp = Blueprint("dashboard", __name__)
add_home_link("dashboard.manager", "dashboard.title", *REPORT_ROLES)
add_home_link("dashboard.report_page", "report.title", *REPORT_ROLES)
add_home_link("dashboard.room", "dashboard.nav.room", *REPORT_ROLES)

REFRESH_SECONDS = 5  # a page asks for the figures at most this often, however busy the office is


def _lang() -> str:
    lang = request.args.get("lang", i18n.DEFAULT_LANGUAGE)
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def _translator(lang: str) -> Any:
    return lambda key, **kw: i18n.text(key, lang, **kw)


def _chart_hours(now: datetime) -> tuple[int, int]:
    """The hours the charts span today: the office's opening hours (7-17 when it has none)."""
    config = office().config
    spans = config.hours.get(now.astimezone(config.tz).weekday(), ()) if config.hours else ()
    if not spans:
        return 7, 17
    last = spans[-1][1]
    return spans[0][0].hour, last.hour - (1 if last.minute == 0 else 0)


def _page_text(lang: str) -> dict[str, str]:
    """Every word dashboard.js writes, from the catalogs (the script holds no text of its own)."""
    keys = [k for k in i18n.catalog(lang) if k.startswith("dashboard.js.")]
    text = {k[len("dashboard.js."):]: i18n.text(k, lang) for k in keys}
    for name in ("live", "connecting", "offline", "polling"):
        text["status." + name] = i18n.text(f"web.live.{name}", lang)
    return text


def _board_page(template: str, view: str) -> str:
    lang = _lang()
    ctx = office()
    first, last = _chart_hours(ctx.clock.now())
    return render_template(
        template, t=_translator(lang), lang=lang, office_name=ctx.config.name, view=view, staff=current_staff(),
        board_url="/api/reports/room" if view == "room" else "/api/reports/dashboard", refresh_seconds=REFRESH_SECONDS,
        chart_hours=f"{first},{last}", page_text=_page_text(lang), targets=ctx.config.reports,
        login_url=url_for("auth.login", next=request.full_path.rstrip("?"), expired=1),
        shows_officials=view == "manager" or ctx.config.reports.room_shows_officials,
    )


@bp.get("/dashboard")
@requires(*REPORT_ROLES)
def manager() -> Any:
    """The manager's screen (Trưởng bộ phận): dense, every figure of today, live."""
    return private(Response(_board_page("dashboard/manager.html", "manager"), mimetype="text/html"))


@bp.get("/dashboard/room")
def room() -> Any:
    """The big screen in the waiting room: readable from 6 m, no official's name unless the office turns it on."""
    return private(Response(_board_page("dashboard/room.html", "room"), mimetype="text/html"))


@bp.get("/api/reports/room")
def room_json() -> Any:
    shows = office().config.reports.room_shows_officials
    body = shared_reports().board("room", lambda board: room_view(board, shows))
    return private(Response(body, mimetype="application/json"))


# --- the report page ---------------------------------------------------------------------


def _cell(value: Any, verdicts: dict[str, bool]) -> dict[str, Any]:
    """A table cell for the page: its text in Vietnamese numbers, whether it is a number (right-aligned),
    and for a verdict ("Đạt" / "Chưa đạt") which one, so the page can add its icon."""
    text = vi_number(value)
    return {"text": text, "numeric": isinstance(value, int | float | Minutes | Share) and not isinstance(value, bool),
            "met": verdicts.get(text) if isinstance(value, str) else None}


def _default_range(today: date) -> dict[str, str]:
    """This month so far, by day."""
    return {"from": today.replace(day=1).isoformat(), "to": today.isoformat(), "period": "day"}


@bp.get("/reports")
@requires(*REPORT_ROLES)
def report_page() -> Any:
    lang = _lang()
    ctx = office()
    now = ctx.clock.now()
    asked = {k: request.args[k] for k in ("from", "to", "period") if request.args.get(k)}
    form = {**_default_range(now.astimezone(ctx.config.tz).date()), **asked}
    error = report = None
    status = 200
    if "from" in asked:
        try:
            start, end, period = range_args()
        except ApiError as exc:
            error, status = exc.message if lang == "vi" else exc.message_en, 400
        else:
            reports = shared_reports()
            with reports.lock:
                report = build(reports.db(), start, end, period=period, now=now)
    laid_out = []
    if report is not None:
        verdicts = {i18n.text("report.met", lang): True, i18n.text("report.not_met", lang): False}
        for table in tables(report, ctx.config.tz, lang):
            judged = verdicts if table.key == "targets" else {}
            laid_out.append({"key": table.key, "title": table.title, "columns": table.columns, "note": table.note,
                             "rows": [[_cell(v, judged) for v in row] for row in table.rows]})
    query = urlencode({k: form[k] for k in ("from", "to", "period")})
    html = render_template(
        "dashboard/report.html", t=_translator(lang), lang=lang, office_name=ctx.config.name, form=form, error=error,
        report=report, tables=laid_out, periods=PERIOD_NAMES, formats=FORMATS, query=query,
        charts=None if report is None else _report_charts(report), page_text=_page_text(lang), staff=current_staff(),
    )
    return private(Response(html, status=status, mimetype="text/html"))


def _report_charts(report: dict[str, Any]) -> dict[str, Any]:
    """What static/charts.js needs to draw the report's three charts (kept in a data attribute, no inline script)."""
    hours = [h["hour"] for h in report["hourly"]]
    return {
        "hours": [min(hours, default=7), max(hours, default=17)],
        "hourly": report["hourly"],
        "wait_distribution": report["wait_distribution"],
        "by_period": [{"label": r["label"], "mean_wait_seconds": r["mean_wait_seconds"]} for r in report["by_period"][-60:]],
        "target_minutes": report["targets"]["wait_target_minutes"],
    }
