"""The hub's HTTP side: the province big screen, its live feed, positions, the province-wide dossier lookup.

The page and its feed read the board snapshot the hub refreshes in memory, never the database
per request; only the dossier lookup and the office detail query PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, render_template, request

from motcua import i18n
from queue_server.dossiers.lookup import LookupRefused, code_or_refuse
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.province import hubdb
from queue_server.province.lookup import hub_answer

if TYPE_CHECKING:
    from queue_server.province.hub import Hub

KEEPALIVE_SECONDS = 15.0


def _catalog(lang: str) -> dict[str, str]:
    return {k: v for k, v in i18n.catalog(lang).items() if k.startswith("province.board.")}


def create_app(hub: Hub) -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False
    limits = hub.config.lookup
    limiter = TokenBucket(limits.per_minute, limits.burst, hub.clock)
    local = threading.local()

    def db() -> Any:
        if getattr(local, "db", None) is None or local.db.closed:
            local.db = hubdb.connect(hub.config.database)
        return local.db

    @app.get("/")
    def board_page() -> Any:
        lang = request.args.get("lang", "vi")
        lang = lang if lang in i18n.LANGUAGES else "vi"
        board = hub.board()
        text = _catalog(lang)
        return render_template("board.html", lang=lang, board=board, text=text,
                               text_json=json.dumps(text, ensure_ascii=False), board_json=json.dumps(board, ensure_ascii=False))

    @app.get("/api/board")
    def board_json() -> Any:
        return jsonify(hub.board())

    @app.get("/api/board/stream")
    def board_stream() -> Response:
        def events() -> Iterator[str]:
            last = None
            while not hub.stopping.is_set():
                board = hub.board()
                if board is not last:
                    last = board
                    yield f"event: board\ndata: {json.dumps(board, ensure_ascii=False)}\n\n"
                else:
                    yield ": keepalive\n\n"
                with hub.board_changed:
                    hub.board_changed.wait(KEEPALIVE_SECONDS)

        return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/offices/<office>")
    def office(office: str) -> Any:
        found = [p for p in hubdb.positions(db(), [office])]
        if not found:
            return jsonify({"ok": False, "error": {"code": "unknown_office"}}), 404
        day = hub.clock.now().astimezone(hub.config.tz).date()
        rows = hubdb.daily(db(), office, day)
        for row in rows:
            row["day"] = row["day"].isoformat()
        return jsonify({"ok": True, "office": office, "seq": found[0].seq, "dossiers": found[0].dossiers, "today": rows})

    @app.get("/api/dossiers/<code>")
    def dossier(code: str) -> Any:
        client = request.remote_addr or "?"
        wait = limiter.take(client)
        if wait:
            exc = LookupRefused.worded(429, "rate_limited", "dossier.lookup.rate_limited", retry_after=int(wait), seconds=int(wait))
            return _refused(exc)
        try:
            canonical = code_or_refuse(code)
            answer = hub_answer(hubdb.find_dossiers(db(), canonical), canonical, hub.config.tz, hub.clock.now())
        except LookupRefused as exc:
            if exc.code in ("not_found", "bad_code"):
                limiter.charge(client, limits.not_found_cost - 1)
            return _refused(exc)
        response = jsonify(answer)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/health")
    def health() -> Any:
        ok = hub.connected.is_set()
        return jsonify({"ok": ok, "broker_connected": ok, "stored_events": hub.stored_events}), 200 if ok else 503

    return app


def _refused(exc: LookupRefused) -> Response:
    response = jsonify(exc.as_dict())
    response.status_code = exc.status
    response.headers["Cache-Control"] = "no-store"
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


HUB_WSGI_THREADS = 32  # each open big-screen stream holds one (the board is a Flask generator)


def serve(hub: Hub, host: str, port: int) -> Any:
    """The hub's pages on the same production server as an office's (uvicorn, queue_server/web/serve.py)."""
    from a2wsgi import WSGIMiddleware

    from queue_server.web.serve import HttpServer

    wsgi = WSGIMiddleware(create_app(hub), workers=HUB_WSGI_THREADS)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # nothing to start; a2wsgi itself speaks only HTTP
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await wsgi(scope, receive, send)

    def close_streams() -> None:  # the board streams end at once instead of at their next keepalive
        with hub.board_changed:
            hub.board_changed.notify_all()

    app.close_streams = close_streams  # type: ignore[attr-defined]
    return HttpServer(app, host, port).start()
