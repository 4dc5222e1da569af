"""The procedure catalogue: import a file (the same importer as `motcua procedures import`), and the
kiosk searches that found nothing (`motcua procedures misses`).

A catalogue whose procedures have form files is uploaded as a ZIP of the catalogue file and its
forms (paths as the catalogue writes them); a lone CSV or JSON file imports the same way but its
forms are skipped with a warning, as the command line does for a missing file.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from flask import Response, request
from werkzeug.utils import secure_filename

from queue_server.procedures import db as pdb
from queue_server.procedures import misses as procedure_misses
from queue_server.procedures.formats import FORMATS, ImportFailed
from queue_server.procedures.importer import import_file
from queue_server.web.admin.common import Form, bp, done, editors, page, t, viewers
from queue_server.web.support import get_db, office

MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_UNZIPPED_BYTES = 128 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
CATALOGUE_SUFFIXES = (".csv", ".tsv", ".json")


class UploadRefused(Exception):
    """The upload is not a catalogue this page can read; the message is for the administrator."""


def _stats() -> dict[str, Any]:
    db = get_db()
    sources = db.execute("SELECT source, SUM(active), COUNT(*) FROM procedures GROUP BY source ORDER BY source").fetchall()
    return {"active": pdb.count(db), "total": pdb.count(db, active_only=False),
            "sources": [{"source": s, "active": a, "total": n} for s, a, n in sources]}


def _page(form: Form | None = None, report: dict[str, Any] | None = None, status: int = 200) -> Response:
    return page("procedures.html", status, stats=_stats(), form=form or Form({"retire_missing": True, "format": ""}),
                formats=FORMATS, report=report, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))


@bp.get("/procedures")
@viewers
def procedures() -> Response:
    return _page()


def _unzip(archive: Path, into: Path) -> Path:
    """Extract a catalogue ZIP safely (no path outside `into`, bounded size); the catalogue file in it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_ENTRIES or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                raise UploadRefused(t("admin.import.zip_unpacked_limit", max_mb=MAX_UNZIPPED_BYTES // (1024 * 1024)))
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    continue  # never written; the importer then reports the form as missing
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "xb") as out:
                    out.write(src.read(MAX_UNZIPPED_BYTES + 1))
    except zipfile.BadZipFile:
        raise UploadRefused(t("admin.import.bad_zip")) from None
    found = sorted(p for p in into.iterdir() if p.is_file() and p.suffix.lower() in CATALOGUE_SUFFIXES)
    if len(found) != 1:
        raise UploadRefused(t("admin.import.zip_catalogue"))
    return found[0]


def _saved(upload: Any, into: Path) -> Path:
    """The uploaded file on disk under its own (safe) name, which names the catalogue's source."""
    original = upload.filename or ""
    suffix = Path(original).suffix.lower()
    if suffix not in (*CATALOGUE_SUFFIXES, ".zip"):
        raise UploadRefused(t("admin.import.suffix"))
    name = secure_filename(original) or f"danh-muc{suffix}"
    path = into / name
    upload.save(path)
    if suffix == ".zip":
        unpacked = into / "zip"
        unpacked.mkdir()
        return _unzip(path, unpacked)
    return path


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A catalogue is larger than the app's default body limit. Flask runs URL value preprocessors before
    every before_request function, so the limit is raised before anything (the CSRF check) reads the form."""
    if endpoint == "admin.import_catalogue":
        request.max_content_length = MAX_UPLOAD_BYTES


@bp.post("/procedures/import")
@editors
def import_catalogue() -> Response:
    form = Form.posted()
    form.values["retire_missing"] = request.form.get("retire_missing") == "on"
    upload = request.files.get("file")
    fmt = form.get("format") or None
    if upload is None or not upload.filename:
        form.error("file", "admin.form.required")
    if fmt is not None and fmt not in FORMATS:
        form.error("format", "admin.form.required")
    if not form.ok:
        return _page(form, status=400)
    server = office()
    with tempfile.TemporaryDirectory(prefix="motcua-import-") as tmp:
        try:
            path = _saved(upload, Path(tmp))
            report = import_file(get_db(), path, fmt, form.get("source") or None, form.get("retire_missing"),
                                 services=set(server.config.services), forms_root=pdb.forms_dir(server.db_path))
        except (UploadRefused, ImportFailed) as exc:
            form.errors["file"] = str(exc).replace(str(Path(tmp)) + "/", "")  # the file's name, not our temporary folder
            return _page(form, status=400)
    body = report.as_dict()
    body["summary"] = report.summary()
    body["rejected_lines"] = [{"where": p.where(), "code": p.code, "reason": p.reason} for p in report.rejected]
    body["warning_lines"] = [{"where": p.where(), "code": p.code, "reason": p.reason} for p in report.warnings]
    return _page(form, body)


@bp.get("/procedures/misses")
@viewers
def misses() -> Response:
    return page("misses.html", rows=procedure_misses.listing(get_db(), limit=200))


@bp.post("/procedures/misses/clear")
@editors
def clear_misses() -> Response:
    procedure_misses.clear(get_db())
    return done("admin.misses", "cleared")
