"""JSON endpoints behind the dashboard and report pages, and the export download.

GET /api/reports/dashboard                 today so far, alerts, chart data
GET /api/reports?from=D&to=D&period=month  a report as JSON
GET /api/reports/export?from=D&to=D&format=csv|xlsx|pdf   the same as a file
All three for signed-in manager and administrator accounts (they name officials); the room
screen's reduced JSON is public (queue_server/web/dashboard.py).
One ReportDB (one connection, one lock) serves every request thread, so catching up never
folds an event twice and never makes the queue's worker wait for more than one short batch.

The dashboard is computed at most once per change of the live state (and at most once every
BOARD_MIN_SECONDS of wall time under a steady load), however many screens ask: 200 TVs that
refresh on the same change cost one computation and 199 copies of the same bytes. Each board
says which live `seq` it saw (`live_seq`), so a page that asked too early asks again.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from motcua import i18n
from queue_server.live import TopicFilter
from queue_server.reports.dashboard import dashboard, live_counters
from queue_server.reports.export import FORMATS, write
from queue_server.reports.periods import PERIOD_NAMES
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB
from queue_server.staff.model import ADMINISTRATOR, MANAGER
from queue_server.web.auth import requires
from queue_server.web.errors import ApiError
from queue_server.web.support import office, private

bp = Blueprint("reports", __name__)

MAX_RANGE_DAYS = 3 * 366
BOARD_MIN_SECONDS = 2.0  # wall time between two computations while the state keeps changing
BOARD_MAX_AGE_SECONDS = 10.0  # of the server's clock: waits grow even when nothing happens
COUNTERS = TopicFilter(["counter/*"])
REPORT_ROLES = (MANAGER, ADMINISTRATOR)  # the figures name officials: for these accounts only
MIME = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


class _Reports:
    """The one report database of the app, opened on first use, and the last dashboard computed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._db: ReportDB | None = None
        self._board: _Board | None = None

    def db(self) -> ReportDB:
        if self._db is None:
            self._db = ReportDB(office().db_path, office().config)
        return self._db

    def board(self, view: str = "manager", shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> bytes:
        """Today's dashboard as JSON bytes; `view` names a `shape` of it (the public room screen's), kept with it."""
        ctx = office()
        with self.lock:
            board = self._board
            if board is None or board.stale(ctx.hub, ctx.clock.now()):
                # Read the live state before the figures: everything up to `seq` is committed, so a
                # board is never older than the seq it claims.
                snap = ctx.hub.snapshot(COUNTERS)
                counters = live_counters({"counters": [json.loads(c.data) for c in snap["topics"].values()]})
                now = ctx.clock.now()
                data = dashboard(self.db(), now, counters)
                data["live_boot"], data["live_seq"] = snap["boot"], snap["seq"]
                board = self._board = _Board(snap["boot"], snap["seq"], now, time.monotonic(), data)
            if view not in board.encoded:
                board.encoded[view] = json.dumps((shape or (lambda d: d))(board.data), ensure_ascii=False).encode()
            return board.encoded[view]


class _Board:
    """One computed dashboard and its encodings per view."""

    def __init__(self, boot: str, seq: int, now: datetime, made: float, data: dict[str, Any]) -> None:
        self.boot, self.seq, self.now, self.made, self.data = boot, seq, now, made, data
        self.encoded: dict[str, bytes] = {}

    def stale(self, hub: Any, now: datetime) -> bool:
        if (now - self.now).total_seconds() >= BOARD_MAX_AGE_SECONDS or now < self.now:
            return True
        changed = hub.boot != self.boot or hub.seq != self.seq
        return changed and time.monotonic() - self.made >= BOARD_MIN_SECONDS


@bp.record_once
def _setup(state: Any) -> None:
    state.app.extensions["motcua.reports"] = _Reports()


def shared_reports() -> _Reports:
    return current_app.extensions["motcua.reports"]


def _bad(detail: str) -> ApiError:
    return ApiError(400, "bad_request", "report.error.bad_range", detail=detail)


def range_args() -> tuple[date, date, str]:
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
@requires(*REPORT_ROLES)
def reports_dashboard() -> Any:
    return private(Response(shared_reports().board(), mimetype="application/json"))


@bp.get("/api/reports")
@requires(*REPORT_ROLES)
def reports_json() -> Any:
    start, end, period = range_args()
    ctx, reports = office(), shared_reports()
    with reports.lock:
        return jsonify(build(reports.db(), start, end, period=period, now=ctx.clock.now()))


@bp.get("/api/reports/export")
@requires(*REPORT_ROLES)
def reports_export() -> Any:
    start, end, period = range_args()
    fmt = request.args.get("format", "xlsx")
    lang = request.args.get("lang", "vi")
    if fmt not in FORMATS or lang not in i18n.LANGUAGES:
        raise _bad(f"format: {', '.join(FORMATS)}; lang: {', '.join(i18n.LANGUAGES)}")
    ctx, reports = office(), shared_reports()
    with reports.lock:
        data = build(reports.db(), start, end, period=period, now=ctx.clock.now())
    with tempfile.TemporaryDirectory() as tmp:
        body = write(data, Path(tmp) / f"report.{fmt}", fmt, ctx.config.tz, lang).read_bytes()
    response = Response(body, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{start}-{end}.{fmt}"'
    return response
