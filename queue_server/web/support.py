"""What every blueprint uses: the office it serves, the request's database connection, bounded input.

flaskr's shape: `get_db()` opens one connection per request on `g`, and the app's
teardown closes it. Every numeric query parameter goes through `int_arg` and every
JSON body through `json_body` (motcua.protocol.decode_json_value: size and depth bounds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import Response, current_app, g, json, request

from motcua import protocol as p
from queue_server.store import open_connection
from queue_server.web.errors import ApiError

if TYPE_CHECKING:
    from motcua.clock import Clock
    from queue_server.config import OfficeConfig
    from queue_server.live import LiveHub

EXTENSION = "motcua"
_INTEGER = re.compile(r"^[+-]?[0-9]{1,19}$")  # no exponent, no fraction, no 1e23
MAX_INTEGER = 2**63 - 1  # SQLite's integer range


@dataclass(frozen=True)
class WebContext:
    """What the pages need from the running server (tests may hand in a stand-in)."""

    server: Any  # queue_server.server.QueueServer: current_snapshot(), config, clock, db_path, hub

    @property
    def config(self) -> OfficeConfig:
        return self.server.config

    @property
    def clock(self) -> Clock:
        return self.server.clock

    @property
    def db_path(self) -> Path:
        return self.server.db_path

    @property
    def hub(self) -> LiveHub:
        return self.server.hub


def office() -> WebContext:
    return current_app.extensions[EXTENSION]


def get_db() -> sqlite_utils.Database:
    """This request's connection to the office database (WAL: it reads while the worker writes)."""
    if "db" not in g:
        g.db = sqlite_utils.Database(open_connection(office().db_path))
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def int_arg(name: str, default: int, minimum: int = 0, maximum: int = MAX_INTEGER, cap: bool = False) -> int:
    """A whole-number query parameter within [minimum, maximum], or a 400 naming the range.

    With `cap`, a value above the maximum is lowered to it (a limit is a maximum anyway);
    below the minimum, a fraction, an exponent or text is always refused.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if _INTEGER.match(raw) else None
    if value is not None and value > maximum and cap:
        return maximum
    if value is None or not minimum <= value <= maximum:
        raise ApiError(400, "bad_request", "web.error.bad_number", name=name, minimum=minimum, maximum=maximum)
    return value


def json_body(max_bytes: int, required: bool = True) -> Any:
    """The request's JSON body, bounded in size and depth; only `application/json`.

    Refusing other content types keeps cross-site HTML forms out: a form can send only
    text/plain, urlencoded or multipart, and a cross-site script that sets
    application/json must pass a CORS preflight that this server never grants.
    """
    if not request.content_length and request.headers.get("Transfer-Encoding", "").lower() != "chunked":
        if required:
            raise ApiError(400, "bad_request", "web.error.no_body")
        return None
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "web.error.unsupported_media_type")
    if (request.content_length or 0) > max_bytes:
        raise ApiError(413, "too_large", "web.error.too_large_limit", limit=max_bytes)
    request.max_content_length = max_bytes  # also stops a chunked body that announces no length
    try:
        return p.decode_json_value(request.get_data(cache=False), max_bytes=max_bytes)
    except p.ProtocolError as exc:
        if exc.code == "payload_too_large":
            raise ApiError(413, "too_large", "web.error.too_large_limit", limit=max_bytes) from None
        raise ApiError(400, "bad_request", "web.error.bad_json", detail=exc.params.get("detail", "")) from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = current_app.response_class(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def private(response: Response) -> Response:
    """No proxy or browser keeps the answer (a citizen's dossier, live state)."""
    response.headers["Cache-Control"] = "no-store"
    return response
