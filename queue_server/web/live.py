"""The live pages' side of Flask: the polling fallback and the demo page `/live`.

The stream itself (`GET /api/live`) is served natively on ASGI by queue_server/web/stream.py;
`GET /api/live/snapshot` answers the same snapshot for pages without EventSource.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from motcua import i18n
from queue_server.live import TopicFilter, snapshot_json
from queue_server.web.errors import ApiError
from queue_server.web.support import int_arg, office, private

bp = Blueprint("live", __name__)


@bp.get("/api/live/snapshot")
def snapshot() -> Response:
    """{"boot", "seq", "topics": {...}, "events": [...]}: events after `after` if `boot` is this server's."""
    try:
        wanted = TopicFilter.parse(request.args.get("topics"))
    except ValueError:
        raise ApiError(400, "bad_request", "web.error.bad_topics") from None
    hub = office().hub
    after = int_arg("after", 0) if request.args.get("boot") == hub.boot else None
    snap = hub.snapshot(wanted, after)
    body = snapshot_json(snap["boot"], snap["seq"], snap["topics"], snap["events"])
    return private(Response(body, mimetype="application/json"))


@bp.get("/live")
def demo() -> Any:
    """The demo page: called numbers and the queue, live (the pattern every page follows)."""
    lang = request.args.get("lang", "vi") if request.args.get("lang") in i18n.LANGUAGES else "vi"
    return render_template("live/demo.html", t=lambda key, **kw: i18n.text(key, lang, **kw), lang=lang,
                           office_name=office().config.name)
