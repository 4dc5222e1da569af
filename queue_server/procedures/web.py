"""Public, read-only HTTP for kiosks: search, one procedure, and its form files (served from local disk)."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import Flask, Response, request, send_from_directory

from motcua import i18n
from queue_server.procedures import db as pdb
from queue_server.procedures import lookup
from queue_server.procedures.kiosk_api import register_kiosk_routes
from queue_server.procedures.model import CODE_RE, FORM_FILE_RE
from queue_server.procedures.search import MAX_LIMIT, ProcedureSearch
from queue_server.store import open_connection

if TYPE_CHECKING:
    from queue_server.server import QueueServer

DEFAULT_LIMIT = 10
# A form is a document to read and print: no script of an imported file runs with this site's rights.
FORM_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=300",
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _vi(key: str, **params: Any) -> str:
    return i18n.text(key, "vi", **params)


def register_web(app: Flask, server: QueueServer) -> None:
    """Add /api/procedures, /api/procedures/<code> and /procedures/forms/<code>/<file> to the app."""
    pdb.open_db(server.db_path).close()  # create the tables before the first request
    forms_root = pdb.forms_dir(server.db_path)
    local = threading.local()

    def searcher() -> ProcedureSearch:
        # One read connection per HTTP thread, as queue_server/web.py does; WAL lets it read during imports.
        if getattr(local, "search", None) is None:
            local.search = ProcedureSearch(sqlite_utils.Database(open_connection(server.db_path)), str(server.db_path))
        return local.search

    def service_name(code: str | None) -> str | None:
        service = server.config.services.get(code or "")
        return service.name if service else None

    @app.get("/api/procedures")
    def procedure_search() -> Response:
        text = request.args.get("q", "")
        try:
            limit = int(request.args.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return _error(400, "bad_request", "{} ({})".format(*i18n.pair("procedures.error.bad_limit")))
        limit = max(1, min(limit, MAX_LIMIT))
        # Kiosk answers (lookup.py): results, or "handled elsewhere", "not found" (recorded), "empty catalogue".
        today = server.clock.now().astimezone(server.config.tz).date().isoformat()
        return _json(lookup.answer(searcher(), text, limit, service_name, today))

    register_kiosk_routes(app, lambda: searcher().db, {code: s.name for code, s in server.config.services.items()})

    @app.get("/api/procedures/<code>")
    def procedure_detail(code: str) -> Response:
        procedure = pdb.get(searcher().db, code) if CODE_RE.match(code) else None
        if procedure is None:
            return _error(404, "not_found", _vi("procedures.error.not_found", code=code))
        procedure["service_name"] = service_name(procedure.get("service"))
        for form in procedure.get("forms", []):
            form["url"] = f"/procedures/forms/{procedure['code']}/{form['file']}"
        return _json(procedure)

    @app.get("/procedures/forms/<code>/<filename>")
    def procedure_form(code: str, filename: str) -> Response:
        # Only names the catalogue lists are served; send_from_directory checks the path once more.
        procedure = pdb.get(searcher().db, code) if CODE_RE.match(code) and FORM_FILE_RE.match(filename) else None
        if procedure is None or filename not in {f["file"] for f in procedure.get("forms", [])}:
            return _error(404, "not_found", _vi("procedures.error.form_not_found"))
        response = send_from_directory(forms_root / procedure["code"], filename)
        response.headers.update(FORM_HEADERS)
        return response
