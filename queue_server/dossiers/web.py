"""HTTP routes: the authenticated push from source systems, the public lookup, the results TV list.

The lookup limits come from the office configuration, table [dossier_lookup] (queue_server/config.py,
docs/dossiers.md).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import Flask, Response, jsonify, request

from motcua import i18n
from queue_server.dossiers import db as store
from queue_server.dossiers import sources
from queue_server.dossiers.lookup import LookupRefused, lookup, ready_list
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.dossiers.sync import MAX_ITEMS, ImportFileError, apply_updates, items_of

if TYPE_CHECKING:
    from queue_server.server import QueueServer

log = logging.getLogger(__name__)

MAX_PUSH_BYTES = 8 * 1024 * 1024
MAX_LOOKUP_BYTES = 4096  # a code and 4 digits; more is junk, refused before reading it


def _error(status: int, code: str, key: str, headers: dict[str, str] | None = None, **params: Any) -> Response:
    """An error reply whose messages are the catalog entry `key` (Vietnamese in message, English in message_en)."""
    message, message_en = i18n.pair(key, **params)
    response = jsonify({"ok": False, "error": {"code": code, "message": message, "message_en": message_en}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register(app: Flask, server: QueueServer) -> None:
    settings = server.config.dossier_lookup
    store.connect(server.db_path).close()  # migrate once, before any request thread opens its own connection
    limiter = TokenBucket(settings.per_minute, settings.burst, server.clock)
    local = threading.local()

    def db() -> sqlite_utils.Database:
        if getattr(local, "db", None) is None:
            local.db = store.open_db(server.db_path)
        return local.db

    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"  # no proxy or browser keeps a citizen's answer
        return response

    def refused(exc: LookupRefused) -> Response:
        response = jsonify(exc.as_dict())
        response.status_code = exc.status
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return private(response)

    def limited_lookup(raw_code: object, verify: object | None) -> Response:
        client = request.remote_addr or "?"
        wait = limiter.take(client)
        if wait:
            return private(_error(429, "rate_limited", "dossier.lookup.rate_limited", {"Retry-After": str(int(wait))}, seconds=int(wait)))
        try:
            return private(jsonify(lookup(db(), server.config, raw_code, server.clock.now(), verify)))
        except LookupRefused as exc:
            if exc.code == "not_found" and server.config.province.hub_url:
                # Citizens may hand a dossier in at any centre of the province: ask the hub (docs/province.md).
                from queue_server.province.lookup import province_fallback

                try:
                    return private(jsonify(province_fallback(server.config.province, raw_code)))
                except LookupRefused as elsewhere:
                    exc = elsewhere
            if exc.code in ("not_found", "bad_code"):
                limiter.charge(client, settings.not_found_cost - 1)  # guesses mostly miss: they pay more
            return refused(exc)

    def body() -> dict[str, Any]:
        request.max_content_length = MAX_LOOKUP_BYTES
        if (request.content_length or 0) > MAX_LOOKUP_BYTES:
            raise LookupRefused.worded(413, "too_large", "dossier.lookup.too_large")
        data = request.get_json(silent=True, force=True) if request.content_length else None
        return data if isinstance(data, dict) else {}

    @app.get("/api/dossiers/ready")
    def dossiers_ready() -> Any:
        try:
            limit = int(request.args.get("limit", 30))
        except ValueError:
            return _error(400, "bad_request", "dossier.ready.bad_limit")
        return private(jsonify({"ok": True, "dossiers": ready_list(db(), server.config, limit)}))

    @app.route("/api/dossiers/lookup", methods=["GET", "POST"])
    def dossier_lookup_query() -> Any:
        # POST keeps the digits out of URLs and access logs; GET ?code= accepts a scanned lookup URL whole.
        try:
            data = body() if request.method == "POST" else {}
        except LookupRefused as exc:
            return refused(exc)
        return limited_lookup(data.get("code", request.args.get("code")), data.get("verify", request.args.get("verify")))

    @app.route("/api/dossiers/<code>", methods=["GET", "POST"])
    def dossier_lookup(code: str) -> Any:
        try:
            data = body() if request.method == "POST" else {}
        except LookupRefused as exc:
            return refused(exc)
        return limited_lookup(code, data.get("verify", request.args.get("verify")))

    @app.post("/api/dossiers/sync")
    def dossier_sync() -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(401, "unauthorized", "dossier.sync.unauthorized", {"WWW-Authenticate": 'Bearer realm="motcua"'})
        source, problem = sources.authenticate(db(), token.strip())
        if source is None:
            code = "revoked_token" if problem == "revoked_token" else problem or "unknown_token"
            return _error(401, code, "dossier.sync.revoked_token" if code == "revoked_token" else "dossier.sync.unknown_token",
                          {"WWW-Authenticate": 'Bearer realm="motcua", error="invalid_token"'})
        request.max_content_length = MAX_PUSH_BYTES  # also stops a chunked body that gives no length
        if (request.content_length or 0) > MAX_PUSH_BYTES:
            return _error(413, "too_large", "dossier.sync.too_large", megabytes=MAX_PUSH_BYTES // 1024 // 1024)
        data = request.get_json(silent=True, force=True)
        try:
            items = items_of(data)
        except ImportFileError:
            return _error(400, "bad_request", "dossier.sync.bad_request")
        if len(items) > MAX_ITEMS:
            return _error(413, "too_many", "dossier.sync.too_many", max_items=MAX_ITEMS)
        now = server.clock.now()
        report = apply_updates(db(), items, source, now, server.config.tz, touch=True)
        # The reply leaves only after the commit inside apply_updates.
        return private(jsonify({"ok": True, "source": source, **report.as_dict()}))
