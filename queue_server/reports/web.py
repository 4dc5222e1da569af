"""JSON endpoints behind the dashboard and report pages, and the export download.

GET /api/reports/dashboard                 today so far, alerts, chart data (for a page polling or pushed)
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
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from motcua import i18n
from queue_server.reports.dashboard import dashboard, live_counters
from queue_server.reports.export import FORMATS, write
from queue_server.reports.periods import PERIOD_NAMES
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB

if TYPE_CHECKING:
    from queue_server.server import QueueServer

MAX_RANGE_DAYS = 3 * 366
MIME = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


class BadRange(ValueError):
    pass


def _range() -> tuple[date, date, str]:
    try:
        start = date.fromisoformat(request.args["from"])
        end = date.fromisoformat(request.args.get("to", request.args["from"]))
    except (KeyError, ValueError):
        raise BadRange("from/to: YYYY-MM-DD") from None
    period = request.args.get("period", "day")
    if period not in PERIOD_NAMES:
        raise BadRange(f"period: {', '.join(PERIOD_NAMES)}")
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise BadRange(f"to >= from, at most {MAX_RANGE_DAYS} days")
    return start, end, period


def _bad(detail: str) -> Response:
    vi, en = i18n.pair("report.error.bad_range", detail=detail)
    response = jsonify({"ok": False, "error": {"code": "bad_request", "message": vi, "message_en": en}})
    response.status_code = 400
    return response


def register(app: Flask, server: QueueServer) -> None:
    holder: dict[str, ReportDB] = {}
    lock = threading.Lock()

    def reports() -> ReportDB:
        if "db" not in holder:
            holder["db"] = ReportDB(server.db_path, server.config)
        return holder["db"]

    @app.get("/api/reports/dashboard")
    def reports_dashboard() -> Any:
        snapshot = server.current_snapshot()
        with lock:
            return jsonify(dashboard(reports(), server.clock.now(), live_counters(snapshot)))

    @app.get("/api/reports")
    def reports_json() -> Any:
        try:
            start, end, period = _range()
        except BadRange as exc:
            return _bad(str(exc))
        with lock:
            return jsonify(build(reports(), start, end, period=period, now=server.clock.now()))

    @app.get("/api/reports/export")
    def reports_export() -> Any:
        try:
            start, end, period = _range()
        except BadRange as exc:
            return _bad(str(exc))
        fmt = request.args.get("format", "xlsx")
        lang = request.args.get("lang", "vi")
        if fmt not in FORMATS or lang not in i18n.LANGUAGES:
            return _bad(f"format: {', '.join(FORMATS)}; lang: {', '.join(i18n.LANGUAGES)}")
        with lock:
            data = build(reports(), start, end, period=period, now=server.clock.now())
        with tempfile.TemporaryDirectory() as tmp:
            path = write(data, Path(tmp) / f"report.{fmt}", fmt, server.config.tz, lang)
            body = path.read_bytes()
        response = Response(body, mimetype=MIME[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{start}-{end}.{fmt}"'
        return response
