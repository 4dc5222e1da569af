"""The ticket on the phone: `/t/<public token>`, what the QR printed on every ticket opens (docs/phone.md).

    GET  /t/<token>                 the page: position, people ahead, estimated wait, the counter once called
    GET  /api/ticket/<token>        the same view as JSON (and the page's way back after a server restart)
    POST /api/ticket/<token>/vote   {token, level, reasons}: the vote, with the token from the link's #v=

The page follows `ticket/<token>` on the live stream (static/live.js), which only a client naming
that exact topic receives (queue_server/live.py); the view is computed in the worker
(queue_server/appointments/watch.py). Phone votes act as the server's device `web-phone` (role
phone), through the engine as a kiosk's `vote.submit` would; the event log records that device.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from motcua import protocol as p
from queue_server.appointments.desk import PHONE_DEVICE
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.web.booking import lang, page, translator
from queue_server.web.errors import ApiError
from queue_server.web.qr import qr_svg
from queue_server.web.support import json_body, json_response, office, private

bp = Blueprint("phone", __name__)

VIEWS_PER_MINUTE, VIEWS_BURST = 60, 20  # per address: a page that reloads, a poll after a restart
VOTES_PER_MINUTE, VOTES_BURST = 6, 5
MAX_VOTE_BYTES = 2048


class _Limits:
    def __init__(self, clock: Any) -> None:
        self.views = TokenBucket(VIEWS_PER_MINUTE, VIEWS_BURST, clock)
        self.votes = TokenBucket(VOTES_PER_MINUTE, VOTES_BURST, clock)


@bp.record_once
def _setup(state: Any) -> None:
    state.app.extensions["motcua.phone"] = _Limits(state.app.extensions["motcua"].clock)


def _take(bucket: TokenBucket) -> None:
    wait = bucket.take(request.remote_addr or "?")
    if wait:
        raise ApiError(429, "rate_limited", "booking.error.rate_limited", {"Retry-After": str(int(wait))},
                       {"retry_after_seconds": int(wait)}, seconds=int(wait))


def _view(token: str) -> dict[str, Any] | None:
    """The ticket's view now, followed from now on (None: no ticket of today has this token)."""
    _take(current_app.extensions["motcua.phone"].views)
    server = office().server
    desk = server.appointments
    view = server.in_worker(lambda o: desk.follow(o, token))
    return None if view is None else view.to_payload()


@bp.get("/t/<token>")
def ticket_page(token: str) -> Response:
    view = _view(token) if len(token) <= 64 else None
    if view is None:
        return page("phone/missing.html", 404)
    checkin = f"{request.url_root.rstrip('/')}{p.TICKET_PATH}{token}"  # what the kiosk reads to check in: no vote token
    return page("phone/ticket.html", view=view, phase=view["phase"], token=token, checkin_qr=qr_svg(checkin, view["number"]),
                texts=_texts())


def _texts() -> dict[str, str]:
    """What phone.js writes on the page, in the page's language."""
    t = translator(lang())
    keys = ("phone.live", "phone.offline", "phone.polling", "phone.connecting", "phone.ahead", "phone.ahead_none",
            "phone.wait", "phone.wait_unknown", "phone.called_title", "phone.voted", "phone.vote_failed", "phone.sound_on",
            "phone.sound_off")
    return {key.split(".", 1)[1]: t(key) for key in keys}


@bp.get("/api/ticket/<token>")
def ticket_json(token: str) -> Response:
    view = _view(token) if len(token) <= 64 else None
    if view is None:
        raise ApiError(404, "unknown_ticket", "phone.unknown_ticket")
    return private(json_response({"ok": True, "topic": f"ticket/{token}", "ticket": view}))


@bp.post("/api/ticket/<token>/vote")
def vote(token: str) -> Response:
    _take(current_app.extensions["motcua.phone"].votes)
    data = json_body(MAX_VOTE_BYTES)
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        raise ApiError(400, "bad_request", "phone.bad_vote")
    reasons = data.get("reasons") or []
    reply = office().server.request(PHONE_DEVICE, "vote.submit", token=data["token"], level=data.get("level"), reasons=reasons)
    if not reply.get("ok"):
        error = reply["error"]
        return private(json_response({"ok": False, "error": {"code": error["code"], "message": error["message"],
                                                             "message_en": error["message_en"]}}, 409))
    return private(json_response({"ok": True}))
