"""Public, read-only HTTP for kiosks: search, one procedure, and its form files (served from local disk)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, send_from_directory

from queue_server.procedures import db as pdb
from queue_server.procedures import lookup
from queue_server.procedures.kiosk_api import register_kiosk_routes
from queue_server.procedures.model import CODE_RE, FORM_FILE_RE
from queue_server.procedures.search import MAX_LIMIT, ProcedureSearch
from queue_server.web.errors import ApiError
from queue_server.web.support import get_db, int_arg, json_response, office

bp = Blueprint("procedures", __name__)

DEFAULT_LIMIT = 10
# A form is a document to read and print: no script of an imported file runs with this site's rights.
FORM_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=300",
}


@bp.record_once
def _create_tables(state: Any) -> None:
    pdb.open_db(state.app.extensions["motcua"].db_path).close()  # before the first request, not in each


def _searcher() -> ProcedureSearch:
    return ProcedureSearch(get_db(), str(office().db_path))


def _service_name(code: str | None) -> str | None:
    service = office().config.services.get(code or "")
    return service.name if service else None


@bp.get("/api/procedures")
def procedure_search() -> Response:
    from flask import request

    text = request.args.get("q", "")
    limit = int_arg("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT, cap=True)
    # Kiosk answers (lookup.py): results, or "handled elsewhere", "not found" (recorded), "empty catalogue".
    server = office()
    today = server.clock.now().astimezone(server.config.tz).date().isoformat()
    return json_response(lookup.answer(_searcher(), text, limit, _service_name, today))


register_kiosk_routes(bp, get_db, lambda: {code: s.name for code, s in office().config.services.items()})


@bp.get("/api/procedures/<code>")
def procedure_detail(code: str) -> Response:
    procedure = pdb.get(get_db(), code) if CODE_RE.match(code) else None
    if procedure is None:
        raise ApiError(404, "not_found", "procedures.error.not_found", code=code[:64])
    procedure["service_name"] = _service_name(procedure.get("service"))
    for form in procedure.get("forms", []):
        form["url"] = f"/procedures/forms/{procedure['code']}/{form['file']}"
    return json_response(procedure)


@bp.get("/procedures/forms/<code>/<filename>")
def procedure_form(code: str, filename: str) -> Response:
    # Only names the catalogue lists are served; send_from_directory checks the path once more.
    procedure = pdb.get(get_db(), code) if CODE_RE.match(code) and FORM_FILE_RE.match(filename) else None
    if procedure is None or filename not in {f["file"] for f in procedure.get("forms", [])}:
        raise ApiError(404, "not_found", "procedures.error.form_not_found")
    response = send_from_directory(pdb.forms_dir(office().db_path) / procedure["code"], filename)
    response.headers.update(FORM_HEADERS)
    return response
