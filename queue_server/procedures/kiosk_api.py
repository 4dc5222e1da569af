"""HTTP for kiosks that keep a local copy of the catalogue: the revision, and the whole export.

A kiosk polls GET /api/procedures/revision (a few bytes) and downloads GET /api/procedures/export
only when the revision changed; both carry the same ETag, so `If-None-Match` gets a 304 as well.
The export holds every active procedure in full, the service names and the elsewhere table, so
lookup keeps working while the server is unreachable. Routes go on a Flask app or blueprint.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from flask import Flask, Response, request

from queue_server.procedures import db as pdb
from queue_server.procedures.elsewhere import ELSEWHERE

EXPORT_VERSION = 1


@dataclass(frozen=True)
class Snapshot:
    revision: int
    etag: str
    count: int
    body: bytes


class CatalogueExport:
    """The export body, built once per catalogue revision (imports bump it) and kept in memory."""

    def __init__(self, services: Callable[[], dict[str, str]]) -> None:
        self.services = services  # read each time: the office configuration may change at run time
        self._cached: tuple[int, dict[str, str], Snapshot] | None = None
        self._lock = threading.Lock()

    def current(self, db: sqlite_utils.Database) -> Snapshot:
        revision, services = pdb.revision(db), self.services()
        cached = self._cached
        if cached and cached[:2] == (revision, services):
            return cached[2]
        with self._lock:
            if not self._cached or self._cached[:2] != (revision, services):
                self._cached = (revision, services, self._build(db, revision, services))
            return self._cached[2]

    def _build(self, db: sqlite_utils.Database, revision: int, services: dict[str, str]) -> Snapshot:
        procedures = pdb.active_procedures(db)
        for p in procedures:
            p["service_name"] = services.get(p.get("service") or "")
            for form in p.get("forms", []):
                form["url"] = f"/procedures/forms/{p['code']}/{form['file']}"
        content = {"version": EXPORT_VERSION, "revision": revision, "count": len(procedures), "services": services,
                   "elsewhere": ELSEWHERE.as_list(), "procedures": procedures}
        body = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
        # The revision alone would miss a changed service name or elsewhere table: the hash covers them.
        etag = f'"r{revision}-{hashlib.sha256(body).hexdigest()[:16]}"'
        return Snapshot(revision, etag, len(procedures), body)


def register_kiosk_routes(target: Flask | Any, db: Callable[[], sqlite_utils.Database], services: Callable[[], dict[str, str]]) -> None:
    """Add /api/procedures/revision and /api/procedures/export to `target` (an app or a blueprint)."""
    export = CatalogueExport(services)

    @target.get("/api/procedures/revision")
    def procedure_revision() -> Response:
        snapshot = export.current(db())
        summary = json.dumps({"revision": snapshot.revision, "etag": snapshot.etag, "count": snapshot.count})
        return Response(summary, mimetype="application/json", headers={"Cache-Control": "no-store"})

    @target.get("/api/procedures/export")
    def procedure_export() -> Response:
        snapshot = export.current(db())
        unchanged = snapshot.etag.strip('"') in request.if_none_match  # werkzeug keeps the tags unquoted
        response = Response(status=304) if unchanged else Response(snapshot.body, mimetype="application/json")
        response.headers["ETag"] = snapshot.etag
        response.headers["Cache-Control"] = "no-cache"  # keep it, but ask each time whether it changed
        return response
