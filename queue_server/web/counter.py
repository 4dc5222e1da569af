"""The counter page: an official calls, serves and hands on citizens from a browser (issue 16).

    GET  /quay                         the counters this official may serve at
    GET  /quay/<counter>               the page (static/counter.js follows the live state)
    POST /api/quay/<counter>/<action>  {"id": "<request id>", ...}: one action, through the engine

Each action is the contract's operation, made by `QueueServer.request` as the counter's web
device `web-<counter>` carrying the signed-in person: the same authorisation, engine,
durability and idempotency (a re-sent id gets the first answer) as a keypad over MQTT. The
page acts only for counters the account may serve at (403 otherwise) and only while its
person holds the counter (the office answers `counter_taken` after a colleague took over).
The page's state comes from the live push, never from these answers alone, so a change made
at the keypad or in another tab shows within the push's latency.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, url_for

from motcua import protocol as p
from queue_server.staff.store import StaffStore
from queue_server.web.auth import acting_device, current_staff, requires
from queue_server.web.errors import ApiError
from queue_server.web.pages import render_page
from queue_server.web.support import get_db, json_body, json_response, office

bp = Blueprint("counter", __name__)

MAX_BODY = 2048
REASON_MAX = 200
# The page's buttons -> (contract op, fields taken from the body). The counter is never taken from
# the body: it is the page's own, from the URL, checked against the account.
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sign_in": ("counter.sign_in", ()),
    "sign_out": ("counter.sign_out", ()),
    "next": ("counter.next", ()),
    "call": ("counter.call", ("number",)),
    "recall": ("counter.recall", ()),
    "start": ("counter.start", ()),
    "skip": ("counter.skip", ()),
    "finish": ("counter.finish", ()),
    "transfer": ("counter.transfer", ("to_service", "to_counter", "reason")),
    "pause": ("counter.pause", ("reason",)),
    "resume": ("counter.resume", ()),
    "requeue": ("ticket.requeue", ("number",)),
}
PAUSE_REASONS = ("break", "meeting", "dossiers", "other")  # counter_screen.pause.<code>
TRANSFER_REASONS = ("other_field", "needs_specialist", "missing_documents", "other")  # counter_screen.transfer.<code>


def _allowed_counter(counter: str) -> str:
    """The counter of the URL, if it exists and this account may serve at it."""
    staff = current_staff()
    assert staff is not None
    if counter not in office().config.counters:
        raise ApiError(404, "unknown_counter", "counter_screen.error.unknown_counter", counter=counter[:16])
    if not staff.may_serve(counter):
        raise ApiError(403, "forbidden", "counter_screen.error.not_your_counter", counter=office().config.counters[counter].name)
    return counter


@bp.get("/quay")
@requires()
def choose() -> Any:
    staff = current_staff()
    assert staff is not None
    counters = [c for c in staff.counters if c in office().config.counters]
    if len(counters) == 1:
        return redirect(url_for("counter.page", counter=counters[0]))
    return redirect(url_for("auth.home"))


@bp.get("/quay/<counter>")
@requires()
def page(counter: str) -> Any:
    staff = current_staff()
    config = office().config
    assert staff is not None
    if counter not in config.counters:
        abort(404)
    if not staff.may_serve(counter):
        from queue_server.web.auth import message_page

        return message_page("counter_screen.error.not_your_counter", 403, counter=config.counters[counter].name)
    spec = config.counters[counter]
    setup = {
        "counter": counter,
        "me": staff.id,
        "api": url_for("counter.act", counter=counter, action="ACTION"),
        "services": list(spec.services),
        "service_names": {code: s.name for code, s in config.services.items()},
        "counters": [{"id": c.id, "name": c.name} for c in config.counters.values() if c.id != counter],
        "calls_before_no_show": config.rules.calls_before_no_show,
        "names": StaffStore(get_db()).names(),
        "pause_reasons": list(PAUSE_REASONS),
        "transfer_reasons": list(TRANSFER_REASONS),
    }
    return render_page("counter/page.html", counter=spec, setup=setup, texts=_texts())


def _texts() -> dict[str, str]:
    from motcua import i18n
    from queue_server.web.pages import page_language

    lang = page_language()
    parts = ("js.", "pause.", "transfer.", "status.", "ok.")
    keys = [k for k in i18n.catalog(lang) if k.startswith("counter_screen.") and k.split(".", 1)[1].startswith(parts)]
    return {k.split(".", 1)[1]: i18n.text(k, lang) for k in keys}


@bp.post("/api/quay/<counter>/<action>")
@requires()
def act(counter: str, action: str) -> Response:
    counter = _allowed_counter(counter)
    if action not in ACTIONS:
        raise ApiError(404, "unknown_action", "counter_screen.error.unknown_action", action=action[:20])
    body = json_body(MAX_BODY, required=False) or {}
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "web.error.bad_json", detail="a JSON object")
    op, names = ACTIONS[action]
    fields: dict[str, Any] = {name: body[name] for name in names if body.get(name) not in (None, "")}
    if action == "sign_in":
        fields["staff"] = current_staff().id  # type: ignore[union-attr]  # always the person signed in here
    request_id = p.request_id_of(body)
    if body.get("id") is not None and request_id is None:
        raise ApiError(400, "bad_request", "web.error.bad_json", detail=f"'id' must be a text of 1-{p.MAX_ID_LENGTH} characters")
    reply = office().server.request(acting_device("counter", counter), op, request_id=request_id, **fields)
    status = 200 if reply.get("ok") else 403 if reply["error"]["code"] in ("not_authorized", "counter_taken") else 409
    return json_response(reply, status, {"Cache-Control": "no-store"})
