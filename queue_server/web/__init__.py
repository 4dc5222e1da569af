"""The office's web side: a Flask app factory, one blueprint per area, the live stream.

    create_app(server) -> Flask     every page and JSON endpoint (WSGI)
    asgi_app(flask_app, hub)        the live stream natively, everything else to Flask
    serve(server, host, port)       uvicorn in a thread of the server process

Adding an area (counter, tv, admin, reports, phone): write `queue_server/web/<area>.py`
with `bp = Blueprint("<area>", __name__)` and add its module name to BLUEPRINTS below;
templates go in `templates/<area>/`, assets in `static/`. docs/web.md has the details.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from queue_server.web.errors import ApiError, http_error
from queue_server.web.serve import asgi_app, serve
from queue_server.web.support import EXTENSION, WebContext, close_db, json_response

__all__ = ["BLUEPRINTS", "asgi_app", "create_app", "serve"]

log = logging.getLogger(__name__)

# One module per area, each exposing `bp`. Order matters only for clashing URLs (there are none).
BLUEPRINTS: list[str] = [
    "queue_server.web.api",
    "queue_server.web.live",
    "queue_server.web.procedures",
    "queue_server.web.dossiers",
    "queue_server.web.reports",
    "queue_server.web.auth",  # staff sign-in, CSRF and the security headers of every response (issue 16)
    "queue_server.web.counter",  # the counter page (issue 16)
    "queue_server.web.admin",  # the administrator's pages (issue 16)
    "queue_server.web.dashboard",
    "queue_server.web.tv",
    "queue_server.web.booking",
    "queue_server.web.phone",
]


def create_app(server: Any, blueprints: list[str] | None = None) -> Flask:
    """The WSGI app for one running server (anything with config, clock, db_path, hub, current_snapshot())."""
    app = Flask(__name__)
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a default for every body; endpoints that take more say so
    app.extensions[EXTENSION] = WebContext(server)
    app.teardown_appcontext(close_db)
    for name in BLUEPRINTS if blueprints is None else blueprints:
        app.register_blueprint(importlib.import_module(name).bp)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Any:
        return json_response(error.body(), error.status, {"Cache-Control": "no-store", **error.headers})

    @app.errorhandler(HTTPException)
    def http_errors_are_json_under_api(error: HTTPException) -> Any:
        # Kiosks and integrators parse /api answers: never hand them Flask's HTML error page.
        if not request.path.startswith("/api/"):
            return error
        return api_error(http_error(error.code or 500))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return api_error(http_error(500))

    @app.after_request
    def count_errors(response: Any) -> Any:
        from queue_server import metrics

        if response.status_code >= 400:
            metrics.http_error(response.status_code)
        return response

    return app
