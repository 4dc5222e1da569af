"""JSON endpoints behind the dashboard and report pages, and the export download.

GET /api/reports/dashboard                 today so far, alerts, chart data
GET /api/reports?from=D&to=D&period=month  a report as JSON
GET /api/reports/export?from=D&to=D&format=csv|xlsx|pdf   the same as a file
One ReportDB (one connection, one lock) serves every request thread, so catching up never
folds an event twice and never makes the queue's worker wait for more than one short batch.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from motcua import i18n
from queue_server.reports.dashboard import dashboard, live_counters
from queue_server.reports.export import FORMATS, write
from queue_server.reports.periods import PERIOD_NAMES
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB
from queue_server.web.errors import ApiError
from queue_server.web.support import office

bp = Blueprint("reports", __name__)

MAX_RANGE_DAYS = 3 * 366
MIME = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


class _Reports:
    """The one report database of the app, opened on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._db: ReportDB | None = None

    def db(self) -> ReportDB:
        if self._db is None:
            self._db = ReportDB(office().db_path, office().config)
        return self._db


@bp.record_once
def _setup(state: Any) -> None:
    state.app.extensions["motcua.reports"] = _Reports()


def _reports() -> _Reports:
    return current_app.extensions["motcua.reports"]


def _bad(detail: str) -> ApiError:
    return ApiError(400, "bad_request", "report.error.bad_range", detail=detail)


def _range() -> tuple[date, date, str]:
    try:
        start = date.fromisoformat(request.args["from"])
        end = date.fromisoformat(request.args.get("to", request.args["from"]))
    except (KeyError, ValueError):
        raise _bad("from/to: YYYY-MM-DD") from None
    period = request.args.get("period", "day")
    if period not in PERIOD_NAMES:
        raise _bad(f"period: {', '.join(PERIOD_NAMES)}")
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise _bad(f"to >= from, at most {MAX_RANGE_DAYS} days")
    return start, end, period


@bp.get("/api/reports/dashboard")
def reports_dashboard() -> Any:
    ctx, reports = office(), _reports()
    with reports.lock:
        return jsonify(dashboard(reports.db(), ctx.clock.now(), live_counters(ctx.server.current_snapshot())))


@bp.get("/api/reports")
def reports_json() -> Any:
    start, end, period = _range()
    ctx, reports = office(), _reports()
    with reports.lock:
        return jsonify(build(reports.db(), start, end, period=period, now=ctx.clock.now()))


@bp.get("/api/reports/export")
def reports_export() -> Any:
    start, end, period = _range()
    fmt = request.args.get("format", "xlsx")
    lang = request.args.get("lang", "vi")
    if fmt not in FORMATS or lang not in i18n.LANGUAGES:
        raise _bad(f"format: {', '.join(FORMATS)}; lang: {', '.join(i18n.LANGUAGES)}")
    ctx, reports = office(), _reports()
    with reports.lock:
        data = build(reports.db(), start, end, period=period, now=ctx.clock.now())
    with tempfile.TemporaryDirectory() as tmp:
        body = write(data, Path(tmp) / f"report.{fmt}", fmt, ctx.config.tz, lang).read_bytes()
    response = Response(body, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{start}-{end}.{fmt}"'
    return response
