"""Dossier HTTP: the authenticated push from source systems, the public lookup, the results TV list.

The lookup limits come from the office configuration, table [dossier_lookup] (queue_server/config.py,
docs/dossiers.md). Bodies are JSON only (`application/json`): a cross-site form cannot drive these.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from queue_server.dossiers import db as store
from queue_server.dossiers import sources, trusted
from queue_server.dossiers.lookup import Client, LookupRefused, code_or_refuse, lookup, ready_list
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.dossiers.sync import MAX_ITEMS, ImportFileError, apply_updates, items_of
from queue_server.web.errors import ApiError
from queue_server.web.support import get_db, int_arg, json_body, json_response, office, private

bp = Blueprint("dossiers", __name__)

MAX_PUSH_BYTES = 8 * 1024 * 1024
MAX_LOOKUP_BYTES = 4096  # a code and 4 digits; more is junk, refused before reading it
READY_PER_MINUTE = 12  # a results TV refreshes every 10 s or less often; a harvester gets no more
READY_BURST = 6


class _Limiters:
    def __init__(self, ctx: Any) -> None:
        settings = ctx.config.dossier_lookup
        self.lookup = TokenBucket(settings.per_minute, settings.burst, ctx.clock)
        self.ready = TokenBucket(READY_PER_MINUTE if settings.per_minute else 0, READY_BURST, ctx.clock)


@bp.record_once
def _setup(state: Any) -> None:
    ctx = state.app.extensions["motcua"]
    store.connect(ctx.db_path).close()  # migrate once, before the first request opens its own connection
    state.app.extensions["motcua.dossiers"] = _Limiters(ctx)


def _limiters() -> _Limiters:
    return current_app.extensions["motcua.dossiers"]


def _refused(exc: LookupRefused) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    return private(json_response(exc.as_dict(), exc.status, headers))


def _take(bucket: TokenBucket, key: str = "dossier.lookup.rate_limited") -> None:
    wait = bucket.take(request.remote_addr or "?")
    if wait:
        raise ApiError(429, "rate_limited", key, {"Retry-After": str(int(wait))}, {"retry_after_seconds": int(wait)},
                       seconds=int(wait))


def _client(code: str) -> Client:
    """A browser that verified this dossier before counts apart (queue_server/dossiers/trusted.py)."""
    device = trusted.check(get_db(), code, request.cookies.get(trusted.cookie_name(code)))
    return Client(f"device:{device}", trusted=True) if device else Client(f"addr:{request.remote_addr or '?'}")


def _limited_lookup(raw_code: object, verify: object | None) -> Response:
    client_addr = request.remote_addr or "?"
    _take(_limiters().lookup)
    ctx = office()
    try:
        code = code_or_refuse(raw_code)
        client = _client(code)
        answer = lookup(get_db(), ctx.config, code, ctx.clock.now(), verify, client)
    except LookupRefused as exc:
        if exc.code == "not_found" and ctx.config.province.hub_url:
            # Citizens may hand a dossier in at any centre of the province: ask the hub (docs/province.md).
            from queue_server.province.lookup import province_fallback

            try:
                return private(json_response(province_fallback(ctx.config.province, raw_code)))
            except LookupRefused as elsewhere:
                exc = elsewhere
        if exc.code in ("not_found", "bad_code"):
            _limiters().lookup.charge(client_addr, ctx.config.dossier_lookup.not_found_cost - 1)  # guesses mostly miss
        return _refused(exc)
    response = private(json_response(answer))
    if answer["dossier"]["verified"] and not client.trusted:
        response.set_cookie(trusted.cookie_name(code), trusted.issue(get_db(), code), max_age=trusted.MAX_AGE_SECONDS,
                            path=trusted.COOKIE_PATH, httponly=True, samesite="Strict")
    return response


def _lookup_body() -> dict[str, Any]:
    if request.method != "POST":
        if request.args.get("verify"):
            # Digits only in a JSON POST: a GET can be fired by any page (an <img>), and would spend
            # the dossier's budget of wrong entries from visitors' browsers.
            raise ApiError(400, "bad_request", "dossier.lookup.verify_post_only")
        return {}
    try:
        data = json_body(MAX_LOOKUP_BYTES)
    except ApiError as exc:
        if exc.status == 413:  # worded as the lookup always worded it
            raise ApiError(413, "too_large", "dossier.lookup.too_large") from None
        raise
    return data if isinstance(data, dict) else {}


@bp.get("/api/dossiers/ready")
def dossiers_ready() -> Any:
    _take(_limiters().ready, "dossier.ready.rate_limited")
    limit = int_arg("limit", 30, minimum=1, maximum=100, cap=True)
    return private(json_response({"ok": True, "dossiers": ready_list(get_db(), office().config, limit)}))


@bp.route("/api/dossiers/lookup", methods=["GET", "POST"])
def dossier_lookup_query() -> Any:
    # POST keeps the digits out of URLs and access logs; GET ?code= accepts a scanned lookup URL whole.
    data = _lookup_body()
    return _limited_lookup(data.get("code", request.args.get("code")), data.get("verify"))


@bp.route("/api/dossiers/<code>", methods=["GET", "POST"])
def dossier_lookup(code: str) -> Any:
    data = _lookup_body()
    return _limited_lookup(code, data.get("verify"))


@bp.post("/api/dossiers/sync")
def dossier_sync() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "dossier.sync.unauthorized", {"WWW-Authenticate": 'Bearer realm="motcua"'})
    source, problem = sources.authenticate(get_db(), token.strip())
    if source is None:
        code = "revoked_token" if problem == "revoked_token" else problem or "unknown_token"
        raise ApiError(401, code, "dossier.sync.revoked_token" if code == "revoked_token" else "dossier.sync.unknown_token",
                       {"WWW-Authenticate": 'Bearer realm="motcua", error="invalid_token"'})
    try:
        data = json_body(MAX_PUSH_BYTES)
    except ApiError as exc:
        if exc.status == 413:
            raise ApiError(413, "too_large", "dossier.sync.too_large", megabytes=MAX_PUSH_BYTES // 1024 // 1024) from None
        if exc.status == 400:
            raise ApiError(400, "bad_request", "dossier.sync.bad_request") from None
        raise
    try:
        items = items_of(data)
    except ImportFileError:
        raise ApiError(400, "bad_request", "dossier.sync.bad_request") from None
    if len(items) > MAX_ITEMS:
        raise ApiError(413, "too_many", "dossier.sync.too_many", max_items=MAX_ITEMS)
    ctx = office()
    report = apply_updates(get_db(), items, source, ctx.clock.now(), ctx.config.tz, touch=True)
    # The reply leaves only after the commit inside apply_updates.
    return private(json_response({"ok": True, "source": source, **report.as_dict()}))
