"""The core JSON endpoints: health, current state, Prometheus metrics (open on the LAN), the event log (managers)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from queue_server import metrics
from queue_server.store import read_events
from queue_server.web.auth import requires
from queue_server.web.support import get_db, int_arg, json_response, office

bp = Blueprint("api", __name__)

EVENTS_DEFAULT_LIMIT = 500
EVENTS_MAX_LIMIT = 5000


@bp.get("/health")
def health() -> Any:
    # 503 whenever requests cannot be served (broker gone, session or subscriptions lost, worker stuck).
    snap = office().server.current_snapshot()
    ok = snap["healthy"]
    body = {"ok": ok, "office": snap["office"], "broker_connected": snap["broker_connected"], "last_seq": snap["last_seq"],
            "problem": snap["problem"]}
    return json_response(body, 200 if ok else 503)


@bp.get("/api/state")
def state() -> Any:
    return json_response(office().server.current_snapshot())


@bp.get("/api/events")
@requires("manager", "administrator")
def events() -> Any:
    # Who signed in from where, who served whom, every vote: for the office's managers, not the LAN
    # (tokens are left out even for them; the box's own tools read the database).
    after = int_arg("after", 0)
    limit = int_arg("limit", EVENTS_DEFAULT_LIMIT, minimum=1, maximum=EVENTS_MAX_LIMIT, cap=True)
    rows = [e.public() for e in read_events(get_db(), after, limit)]
    return json_response({"events": rows, "last_seq": rows[-1]["seq"] if rows else after})


@bp.get("/metrics")
def prometheus() -> Response:
    ctx = office()
    body, content_type = metrics.exposition(ctx.server.current_snapshot(), ctx.hub)
    return Response(body, content_type=content_type)
