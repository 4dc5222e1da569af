"""The waiting-room TV pages: calls (`/tv/calls`) and results of dossier processing (`/tv/results`).

Both are thin: everything they show comes over the live stream (static/live.js), the queue's
retained state from the engine and the TV feed's documents (tv_feed.py), so a TV recovers by
itself after a server restart, a broker restart, a Wi-Fi drop or a reload. Query parameters
and the [tv] table: docs/tv.md. Files of <data>/tv/ are served from `/tv/media/<name>`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, send_from_directory

from motcua import i18n
from queue_server.config import TV_FILE_RE, TV_LAYOUTS, TV_MEDIA_TYPES
from queue_server.web.errors import ApiError
from queue_server.web.support import EXTENSION, int_arg, office
from queue_server.web.tv_content import assets_version, media_dir
from queue_server.web.tv_feed import TvFeed

bp = Blueprint("tv", __name__)

WEB_DIR = Path(__file__).resolve().parent
# The files a TV page runs on: when any changes (an upgrade), pages on an older copy reload themselves.
PAGE_FILES = [WEB_DIR / "static" / name for name in ("tv.js", "tv.css", "live.js", "motcua.css")] + sorted(
    (WEB_DIR / "templates" / "tv").glob("*.html"))
_IDS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MEDIA_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}


@bp.record_once
def _start_feed(state: Any) -> None:
    ctx = state.app.extensions[EXTENSION]
    version = assets_version(PAGE_FILES)
    state.app.extensions["motcua.tv"] = TvFeed(ctx.server, version).start()


def _feed() -> TvFeed:
    from flask import current_app

    return current_app.extensions["motcua.tv"]


def _ids(name: str) -> list[str]:
    """A comma-separated list of ids from the query (counters=Q1,Q2); anything malformed is dropped."""
    return [part for part in (request.args.get(name) or "").split(",") if _IDS.match(part)][:64]


def _page(template: str, **extra: Any) -> str:
    lang = request.args.get("lang") if request.args.get("lang") in i18n.LANGUAGES else "vi"
    layout = request.args.get("layout")
    options = {
        "lang": lang,
        "layout": layout if layout in TV_LAYOUTS else None,  # None: [tv] layout
        "version": _feed().version,
        "text": {key: value for key, value in i18n.catalog(lang).items() if key.startswith("tv.")},
        **extra,
    }
    return render_template(template, t=lambda key, **kw: i18n.text(key, lang, **kw), lang=lang,
                           office_name=office().config.name, options=options)


@bp.get("/tv")
def index() -> Response:
    return redirect("/tv/calls", 302)


@bp.get("/tv/calls")
def calls() -> str:
    """Numbers being served at each counter, the latest calls, waiting per field, the rotation, the notice."""
    return _page("tv/calls.html", counters=_ids("counters"), fields=_ids("fields"), info=request.args.get("info") != "0")


@bp.get("/tv/results")
def results() -> str:
    """Dossiers whose results are ready, by field, paged; this month's counts."""
    seconds = int_arg("page_seconds", 0, minimum=3, maximum=600)  # 0: [tv] results_page_seconds
    return _page("tv/results.html", fields=_ids("fields"), page_seconds=seconds or None)


@bp.get("/tv/media/<name>")
def media(name: str) -> Response:
    """An image, video or notice of <data>/tv/ (a plain name of an allowed type; no path, no hidden file)."""
    suffix = Path(name).suffix.lower()
    if not TV_FILE_RE.match(name) or suffix not in TV_MEDIA_TYPES:
        raise ApiError(404, "not_found", "web.error.not_found")
    response = send_from_directory(media_dir(Path(office().db_path).parent), name, mimetype=TV_MEDIA_TYPES[suffix])
    response.headers.update(MEDIA_HEADERS)
    return response
