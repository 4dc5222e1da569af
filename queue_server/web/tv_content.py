"""What the waiting-room TVs show besides the queue: the rotation, the ready dossiers, this month's counts.

Plain functions of the configuration, the data folder and the office database; the TV feed
(tv_feed.py) calls them from its own thread and pushes the documents to the pages through the
live hub (`tv/rotation`, `tv/results`, `tv/figures`), so a page never asks the database.
docs/tv.md shows each document.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from queue_server.config import TV_FILE_RE, TV_IMAGE_TYPES, TV_MEDIA_TYPES, TV_VIDEO_TYPES, OfficeConfig, TvSlide
from queue_server.dossiers.lookup import READY_LIST_MAX, ready_list
from queue_server.procedures import db as pdb
from queue_server.procedures.model import level_name
from queue_server.reports.dossier_figures import dossier_figures, has_dossiers

log = logging.getLogger(__name__)

MEDIA_DIRNAME = "tv"  # <data>/tv/: the office's images, short videos and .txt notices
MAX_NOTICE_FILE_BYTES = 4096
MAX_LEGAL_BASIS = 5
LEGAL_NUMBER = re.compile(r"\d+/\d{4}/[A-ZĐ0-9][A-ZĐ0-9-]*")  # 60/2014/QH13, 123/2015/NĐ-CP, 04/2020/TT-BTP
FIGURES = ("received", "settled", "settled_on_time", "settled_late", "overdue", "needs_documents")


@dataclass(frozen=True)
class MediaFile:
    name: str
    kind: str  # image, video, text
    mtime_ns: int
    size: int

    @property
    def url(self) -> str:
        return f"/tv/media/{self.name}?v={self.mtime_ns:x}"  # a changed file gets a new URL: no stale cache


def media_dir(data_dir: Path) -> Path:
    return data_dir / MEDIA_DIRNAME


def media_kind(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix in TV_IMAGE_TYPES:
        return "image"
    if suffix in TV_VIDEO_TYPES:
        return "video"
    return "text" if suffix in TV_MEDIA_TYPES else None


def media_files(folder: Path) -> list[MediaFile]:
    """The files a TV may show from the folder, in name order; anything else there is ignored."""
    found = []
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return []  # no folder: nothing to show
    for path in entries:
        kind = media_kind(path.name)
        if kind is None or not TV_FILE_RE.match(path.name):
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            found.append(MediaFile(path.name, kind, stat.st_mtime_ns, stat.st_size))
    return found


def assets_version(paths: list[Path]) -> str:
    """A short digest of the TV pages' own files: a page running older ones reloads itself."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- the rotation ------------------------------------------------------------------------


def rotation_document(config: OfficeConfig, folder: Path, procedures_db: Any, version: str) -> dict[str, Any]:
    """The slides of [tv] slides, resolved: procedures from the catalogue, files from the folder.

    What cannot be shown (a code not in the catalogue, a missing file) is left out and listed
    in `problems`, for the technician (docs/tv.md).
    """
    tv = config.tv
    files = media_files(folder)
    slides: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = []
    for index, slide in enumerate(tv.slides):
        seconds = slide.seconds or tv.slide_seconds
        if slide.kind == "notice":
            slides.append({"kind": "notice", "title": slide.title, "text": slide.text, "seconds": seconds})
        elif slide.kind == "hours":
            if config.hours:
                slides.append({"kind": "hours", "text": config.hours_text(), "seconds": seconds})
        elif slide.kind == "figures":
            slides.append({"kind": "figures", "seconds": seconds})
        elif slide.kind == "procedure":
            for code in slide.codes:
                found = _procedure(procedures_db, config, code)
                if found is None:
                    problems.append({"slide": str(index), "problem": "unknown_procedure", "detail": code})
                else:
                    slides.append({**found, "seconds": seconds})
        elif slide.kind == "media":
            chosen = [f for f in files if f.name == slide.file] if slide.file else files
            if slide.file and not chosen:
                problems.append({"slide": str(index), "problem": "missing_file", "detail": slide.file})
            for media in chosen:
                shown = _media_slide(folder, media, slide.seconds or tv.slide_seconds, tv.max_video_seconds, slide)
                if shown is None:
                    problems.append({"slide": str(index), "problem": "unreadable_file", "detail": media.name})
                else:
                    slides.append(shown)
    return {
        "version": version,
        "settings": {"layout": tv.layout, "call_seconds": tv.call_seconds, "recent_calls": tv.recent_calls,
                     "results_page_seconds": tv.results_page_seconds},
        "slides": slides,
        "problems": problems,
    }


def _media_slide(folder: Path, media: MediaFile, seconds: int, max_video: int, slide: TvSlide) -> dict[str, Any] | None:
    if media.kind == "image":
        return {"kind": "image", "url": media.url, "name": media.name, "seconds": seconds}
    if media.kind == "video":
        # A video plays to its end (muted: the loudspeaker is the voice box's); `seconds` is the most it may take.
        return {"kind": "video", "url": media.url, "name": media.name, "seconds": slide.seconds or max_video}
    notice = read_notice_file(folder / media.name)
    return None if notice is None else {"kind": "notice", **notice, "seconds": seconds}


def read_notice_file(path: Path) -> dict[str, str] | None:
    """A .txt notice: the first line is its title, the rest its text (UTF-8); None if unreadable or too long."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_NOTICE_FILE_BYTES:
            log.warning("TV notice %s is over %d bytes: not shown", path, MAX_NOTICE_FILE_BYTES)
            return None
        text = unicodedata.normalize("NFC", raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        log.warning("TV notice %s is not readable UTF-8 text: not shown", path)
        return None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return None
    title, body = lines[0], "\n".join(lines[1:]).strip()
    return {"title": title, "text": body} if body else {"title": "", "text": title}


def _procedure(db: Any, config: OfficeConfig, code: str) -> dict[str, Any] | None:
    data = pdb.get(db, code)
    if data is None or not data.get("active", True):
        return None
    service = config.services.get(data.get("service") or "")
    return {
        "kind": "procedure",
        "code": data["code"],
        "name": data["name"],
        "field": service.name if service else data.get("field", ""),
        "agency": data.get("agency", ""),
        "level": level_name(data.get("level")),
        "processing_time": data.get("processing_time", ""),
        "documents": len(data.get("documents", [])),
        "legal_basis": [legal_title(text) for text in data.get("legal_basis", [])[:MAX_LEGAL_BASIS]],
        "legal_basis_more": max(0, len(data.get("legal_basis", [])) - MAX_LEGAL_BASIS),
    }


def legal_title(text: str) -> str:
    """'Nghị định số 123/2015/NĐ-CP quy định chi tiết...' -> 'Nghị định số 123/2015/NĐ-CP': what a TV has room for.

    The catalogue keeps the whole title (the kiosk shows it); a text without a document number stays whole.
    """
    match = LEGAL_NUMBER.search(text)
    return text[: match.end()].rstrip(" ,;") if match else text


# --- dossiers ------------------------------------------------------------------------------


def results_document(db: Any, config: OfficeConfig, limit: int = READY_LIST_MAX) -> dict[str, Any]:
    """The ready dossiers (masked, as /api/dossiers/ready gives them) grouped by field in the office's order."""
    rows = ready_list(db, config, limit) if has_dossiers(db) else []
    order = {code: i for i, code in enumerate(config.services)}
    groups: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        service = row["service"] if row["service"] in config.services else None
        group = groups.setdefault(service, {"service": service, "name": row["service_name"], "dossiers": []})
        group["dossiers"].append({k: row[k] for k in ("code", "applicant", "procedure_name", "counter")})
    ordered = sorted(groups.values(), key=lambda g: order.get(g["service"], len(order)))
    return {"total": len(rows), "limit": limit, "groups": ordered}


def figures_document(db: Any, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    """This month's counts the section publishes: settled on time and late, overdue, returned for more documents.

    The caller refreshes the day counts first (ReportDB.refresh_dossiers); `available` is false for an
    office that sends no dossiers to this appliance, so its TVs show no row of zeros.
    """
    today = date.fromisoformat(config.business_day(now))
    start = today.replace(day=1)
    used = has_dossiers(db) and db.execute("SELECT EXISTS (SELECT 1 FROM dossiers)").fetchone()[0]
    data = dossier_figures(db, config, start, today, now)
    summary = data["summary"]
    return {
        "available": bool(used and data["available"]),
        "month": today.month,
        "year": today.year,
        "from": start.isoformat(),
        "to": today.isoformat(),
        **{key: summary[key] for key in FIGURES},
        "on_time_share": summary["on_time_share"],
    }
