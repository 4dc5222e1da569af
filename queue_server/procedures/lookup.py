"""The kiosk's answer to a search: results, or what to tell the citizen when there are none.

`outcome` says which:
- "found": results, best first.
- "elsewhere": the query names a procedure another agency handles (elsewhere.json) and no procedure of
  this catalogue is named so; `elsewhere` tells where to go, and no unrelated procedure is shown.
- "not_found": nothing matches; the query is recorded (misses.py) so the synonyms can grow.
- "empty_catalogue": no active procedure at all; `hint` tells an administrator how to import one.
- "empty_query": nothing searchable was typed.
Messages come in Vietnamese (`message`) and English (`message_en`) from the catalogs.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from motcua import i18n
from queue_server.procedures import db as pdb
from queue_server.procedures import misses
from queue_server.procedures.elsewhere import ELSEWHERE, ElsewhereTable
from queue_server.procedures.folding import fold, fold_words
from queue_server.procedures.search import LEXICON, MAX_QUERY_CHARS, ProcedureSearch

log = logging.getLogger(__name__)

OUTCOMES = ("found", "elsewhere", "not_found", "empty_catalogue", "empty_query")


def _handled_here(results: list[dict[str, Any]], words: list[str], phrase: str, table: ElsewhereTable) -> bool:
    """A result names the phrase itself ("Ghi vào sổ việc ly hôn..."), or every other meaningful query
    word ("chứng thực" in "chứng thực bản sao căn cước"): then the office does handle what was asked."""
    phrase_words = set(phrase.split())
    rest = [w for w in words if w not in phrase_words and w not in table.generic and w not in LEXICON.stopwords]
    for result in results:
        name_words = fold(result["name"]).split()
        if f" {phrase} " in f" {' '.join(name_words)} ":
            return True
        if rest and all(any(n.startswith(w) for n in name_words) for w in rest):
            return True
    return False


def _said(outcome: str, **params: Any) -> dict[str, str]:
    message, message_en = i18n.pair(f"procedures.search.{outcome}", **params)
    return {"message": message, "message_en": message_en}


def answer(search: ProcedureSearch, text: str, limit: int = 10, service_name: Callable[[str | None], str | None] | None = None,
           today: str | None = None, table: ElsewhereTable = ELSEWHERE) -> dict[str, Any]:
    """The body of GET /api/procedures. With `today` (the office's local date), a query that found
    nothing is recorded for the administrator."""
    text = text or ""
    words = fold_words(text[:MAX_QUERY_CHARS])
    results = search.search(text, limit)
    body: dict[str, Any] = {"query": text, "revision": pdb.revision(search.db)}
    outcome = "found" if results else "not_found"
    hit = table.match(words)
    if hit and not _handled_here(results, words, hit[1], table):
        entry = hit[0]
        outcome, results = "elsewhere", []
        body["elsewhere"] = entry.as_dict()
        body.update(_said("elsewhere", name=entry.name, agency=entry.agency))
        body["message_en"] = i18n.text("procedures.search.elsewhere", "en", name=entry.name_en, agency=entry.agency_en)
    elif not results and not any(len(w) > 1 for w in words):
        outcome = "empty_query"
        body.update(_said("empty_query"))
    elif not results and pdb.count(search.db) == 0:
        outcome = "empty_catalogue"
        body.update(_said("empty_catalogue"))
        body["hint"], body["hint_en"] = i18n.pair("procedures.search.import_hint")
    elif not results:
        body.update(_said("not_found", query=text.strip()[:80]))
        if today:
            try:
                misses.record(search.db, text, today)
            except sqlite3.Error:  # a count lost is fine; the citizen's answer must not fail for it
                log.exception("could not record an unanswered procedure query")
    for r in results:
        r["service_name"] = service_name(r["service"]) if service_name else None
        r["url"] = f"/api/procedures/{r['code']}"
    body.update(outcome=outcome, count=len(results), results=results)
    return body
