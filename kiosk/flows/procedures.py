"""Procedure lookup: search as citizens type, browse by field, details; a local copy for when the server is away.

Search asks the server first (`/api/procedures`: its folding, kiosk words, typo correction, and it
records queries that found nothing). When the server does not answer, the kiosk searches its local
copy of the catalogue (the export endpoint, refreshed by revision) with plain folded prefixes, and
says that it is offline. Browsing by field always reads the local copy.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.http_api import HttpApi, Unreachable
from motcua.folding import fold, fold_words

log = logging.getLogger(__name__)

MAX_RESULTS = 12


@dataclass(frozen=True)
class Notice:
    """A line the server adds to an answer ("this office does not handle that", "the catalogue is empty")."""

    vi: str
    en: str = ""

    def text(self, lang: str) -> str:
        return (self.en if lang == "en" else self.vi) or self.vi


@dataclass(frozen=True)
class SearchAnswer:
    query: str
    results: list[dict[str, Any]] = field(default_factory=list)
    notice: Notice | None = None
    offline: bool = False
    empty_catalogue: bool = False


def _notice_of(body: dict[str, Any]) -> Notice | None:
    """The server's words for an answer that is not a plain list: "handled elsewhere" (where to go),
    "not found" (the query is recorded for the administrator), "empty catalogue" (how to import one)."""
    parts = [(body.get(k), body.get(f"{k}_en")) for k in ("message", "hint")]
    vi = "\n".join(v for v, _ in parts if isinstance(v, str) and v.strip())
    en = "\n".join(e for _, e in parts if isinstance(e, str) and e.strip())
    return Notice(vi, en) if vi else None


class ProcedureCache:
    """The kiosk's copy of the catalogue: `{revision, procedures}` in one JSON file in the state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "procedures.json"
        self.revision: int | None = None
        self.etag: str | None = None
        self.procedures: list[dict[str, Any]] = []
        self._folded: list[tuple[set[str], dict[str, Any]]] = []
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._set(data.get("revision"), data.get("procedures") or [], data.get("etag"))
        except FileNotFoundError:
            return
        except (ValueError, AttributeError) as exc:
            log.warning("procedure copy %s unreadable (%s): waiting for a fresh one", self.path, exc)

    def _set(self, revision: Any, procedures: list[Any], etag: Any = None) -> None:
        self.revision = revision if isinstance(revision, int) else None
        self.etag = etag if isinstance(etag, str) else None
        self.procedures = [p for p in procedures if isinstance(p, dict) and isinstance(p.get("code"), str) and p.get("active", True)]
        self._folded = []
        for proc in self.procedures:
            docs = " ".join(d.get("name", "") if isinstance(d, dict) else str(d) for d in proc.get("documents") or [])
            self._folded.append((set(fold_words(f"{proc.get('name', '')} {proc.get('field', '')} {docs}")), proc))

    def refresh(self, http: HttpApi) -> bool:
        """Fetch the catalogue unless the server says (304, by ETag) the copy is current; True when replaced."""
        reply = http.export_procedures(self.etag if self.procedures else None)
        if reply.status == 304 or not reply.ok or not isinstance(reply.body, dict):
            if reply.status != 304 and not reply.ok:
                log.info("procedure export answered %s: keeping the copy of revision %s", reply.status, self.revision)
            return False
        procedures = reply.body.get("procedures")
        if not isinstance(procedures, list):
            return False
        self._set(reply.body.get("revision"), procedures, reply.headers.get("ETag"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        document = {"revision": self.revision, "etag": self.etag, "procedures": self.procedures}
        tmp.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)
        return True

    def fields(self) -> list[tuple[str, int]]:
        """(field name, how many procedures), in the catalogue's own order of first appearance."""
        counts = Counter(p.get("field") or "" for p in self.procedures)
        order = list(dict.fromkeys(p.get("field") or "" for p in self.procedures))
        return [(f, counts[f]) for f in order if f]

    def in_field(self, name: str) -> list[dict[str, Any]]:
        return sorted((p for p in self.procedures if (p.get("field") or "") == name), key=lambda p: fold(p.get("name", "")))

    def search(self, text: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
        """Every folded query word is the start of a word of the name, field or documents; names first."""
        words = fold_words(text)[:12]
        if not words or all(len(w) < 2 for w in words):
            return []
        hits = []
        for vocabulary, proc in self._folded:
            if all(any(v.startswith(w) for v in vocabulary) for w in words):
                name = set(fold_words(proc.get("name", "")))
                in_name = sum(any(v.startswith(w) for v in name) for w in words)
                hits.append((-in_name, len(name), fold(proc.get("name", "")), proc))
        hits.sort(key=lambda h: h[:3])
        return [h[3] for h in hits[:limit]]

    def get(self, code: str) -> dict[str, Any] | None:
        return next((p for p in self.procedures if p.get("code") == code), None)


class ProcedureLookup:
    def __init__(self, http: HttpApi, cache: ProcedureCache) -> None:
        self.http = http
        self.cache = cache

    def search(self, text: str) -> SearchAnswer:
        text = text.strip()
        if not text:
            return SearchAnswer(text)
        try:
            reply = self.http.search_procedures(text, MAX_RESULTS)
        except Unreachable:
            return SearchAnswer(text, self.cache.search(text), offline=True, empty_catalogue=not self.cache.procedures)
        body = reply.body if isinstance(reply.body, dict) else {}
        results = [r for r in body.get("results") or [] if isinstance(r, dict) and isinstance(r.get("code"), str)]
        empty = body.get("outcome") == "empty_catalogue"
        return SearchAnswer(text, results, _notice_of(body), empty_catalogue=empty)

    def detail(self, code: str) -> tuple[dict[str, Any] | None, bool]:
        """(procedure, offline): the server's current text, else the local copy's."""
        try:
            reply = self.http.procedure(code)
        except Unreachable:
            return self.cache.get(code), True
        return (reply.body if reply.ok and isinstance(reply.body, dict) else self.cache.get(code)), False

    def refresh_cache(self) -> bool:
        try:
            return self.cache.refresh(self.http)
        except Unreachable:
            return False
