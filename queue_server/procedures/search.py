"""Kiosk search over the procedure catalogue: folded text, FTS5 with bm25, then typo correction.

1. The query is folded (folding.py) into at most MAX_TERMS words; every word becomes a quoted
   FTS5 prefix term, so no user input is ever read as FTS syntax.
2. All words must match (any column, any order). If that finds few procedures, each word the
   catalogue does not know also accepts its close spellings from the catalogue's own vocabulary
   (edit distance 1, 2 for long words, swapped letters count as 1) and glued words are split
   ("dangky" -> "dang ky").
3. Unless enough names hold every word, procedures matching only some words join the list.
Ranking, best first: every query word in the name (name matches rank above document matches), then
the query as a phrase elsewhere (a document), then more query words in the name, all words found
somewhere, the name is / starts with the query, shorter names, and bm25 with the name weighted highest.
"""

from __future__ import annotations

import bisect
import logging
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from queue_server.procedures import db as pdb
from queue_server.procedures.folding import fold_words

log = logging.getLogger(__name__)

FEW = 3  # fewer results than this (or than the limit) tries the next, looser stage
MAX_QUERY_CHARS = 400  # a kiosk query is a few words; the rest of a pasted page is ignored
MAX_TERMS = 8
MAX_WORD = 32
CANDIDATES = 150  # best bm25 rows re-ranked per stage
MAX_LIMIT = 50
MAX_CORRECTIONS = 3


def max_distance(word: str) -> int:
    """How many typing mistakes a word may have: none below 3 letters, 1 up to 5, 2 beyond."""
    if len(word) <= 2 or any(ch.isdigit() for ch in word):
        return 0
    return 1 if len(word) <= 5 else 2


def osa_distance(a: str, b: str, limit: int) -> int:
    """Edit distance where swapping two neighbouring letters counts as one edit; > limit is cut short."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` letters (the symmetric-delete spelling index)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))} - found
        found |= frontier
    return found


class Vocabulary:
    """The folded words of the active catalogue, with an index to find close spellings fast."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.sorted = sorted(counts)
        self.index: dict[str, list[str]] = {}
        for word in counts:
            if max_distance(word) == 0 and len(word) < 2:
                continue
            for variant in _deletes(word, 2 if len(word) >= 4 else 1):
                self.index.setdefault(variant, []).append(word)

    @classmethod
    def from_db(cls, db: sqlite_utils.Database) -> Vocabulary:
        counts: Counter[str] = Counter()
        for row in db.execute("SELECT name, field, agency, documents, steps FROM procedure_search"):
            for text in row:
                counts.update(text.split())
        return cls(counts)

    def known(self, word: str) -> bool:
        """A catalogue word, or the beginning of one (the kiosk user may still be typing)."""
        if word in self.counts:
            return True
        i = bisect.bisect_left(self.sorted, word)
        return i < len(self.sorted) and self.sorted[i].startswith(word)

    def corrections(self, word: str) -> list[str]:
        """Catalogue words within max_distance of `word`, closest and most frequent first."""
        limit = max_distance(word)
        if limit == 0:
            return []
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates.update(self.index.get(variant, ()))
        candidates.discard(word)
        scored = [(osa_distance(word, c, limit), -self.counts[c], c) for c in candidates]
        return [c for d, _, c in sorted(scored) if d <= limit][:MAX_CORRECTIONS]

    def splits(self, word: str) -> list[str]:
        """'dangky' -> ['dang ky']: two catalogue words typed without the space."""
        if len(word) < 4 or word in self.counts:
            return []
        pairs = [(word[:i], word[i:]) for i in range(2, len(word) - 1)]
        return [f"{a} {b}" for a, b in pairs if a in self.counts and b in self.counts][:MAX_CORRECTIONS]


# Vocabularies are shared by all threads of a process, keyed by database and catalogue revision.
_vocabularies: dict[str, tuple[int, Vocabulary]] = {}
_vocabulary_lock = threading.Lock()


@dataclass(frozen=True)
class Alternative:
    text: str  # folded word, or two words for a split
    prefix: bool  # the word as typed matches longer words too; corrections match whole words

    def fts(self) -> str:
        # Folded text has only letters and digits, so a quoted string is always a literal term.
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + "*" if self.prefix and " " not in self.text else quoted

    def in_name(self, name: str, name_words: list[str]) -> bool:
        if " " in self.text:
            return f" {self.text} " in f" {name} "
        if self.prefix:
            return any(w.startswith(self.text) for w in name_words)
        return self.text in name_words


Group = list[Alternative]  # the ways one query word may match


class ProcedureSearch:
    """Search one database; one instance per thread (it holds that thread's connection)."""

    def __init__(self, db: sqlite_utils.Database, cache_key: str) -> None:
        self.db = db
        self.cache_key = cache_key

    def vocabulary(self) -> Vocabulary:
        current = pdb.revision(self.db)
        cached = _vocabularies.get(self.cache_key)
        if cached and cached[0] == current:
            return cached[1]
        with _vocabulary_lock:
            cached = _vocabularies.get(self.cache_key)
            if not cached or cached[0] != current:
                cached = (current, Vocabulary.from_db(self.db))
                _vocabularies[self.cache_key] = cached
        return cached[1]

    def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Summaries of the best matching active procedures, best first; [] for an empty or garbage query."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        text = (text or "")[:MAX_QUERY_CHARS]
        words = [w[:MAX_WORD] for w in fold_words(text)][:MAX_TERMS]
        if not words:
            return []
        try:
            ids = self._ranked_ids(text, words, limit)
        except sqlite3.OperationalError:
            # Terms are always quoted, so this is not the user's input; log it, the kiosk gets no results.
            log.exception("procedure search failed for %r", text)
            return []
        rows = pdb.summaries(self.db, ids)
        return [rows[i] for i in ids if i in rows]

    def _ranked_ids(self, text: str, words: list[str], limit: int) -> list[int]:
        by_code = pdb.find_code(self.db, text)
        if by_code is not None:
            return [by_code]  # a clerk or a printed leaflet gave the exact code
        groups: list[Group] = [[Alternative(w, prefix=True)] for w in words]
        ranked = self._stage(groups, require_all=True)
        if len(ranked) < min(limit, FEW):
            vocabulary = self.vocabulary()
            widened = [self._widen(group, vocabulary) for group in groups]
            if widened != groups:
                groups = widened
                ranked = self._stage(groups, require_all=True)  # a superset of the first try, ranked again
        whole_name = sum(1 for _, key in ranked if key[0] == 0)
        if len(groups) > 1 and whole_name < limit:
            # Procedures matching only some words may still name more of them than an all-words match does
            # ('xin giay phep xay nha': the building permit lacks 'xin' but names the rest).
            found = {rowid for rowid, _ in ranked}
            ranked += [(rowid, key) for rowid, key in self._stage(groups, require_all=False) if rowid not in found]
        ranked.sort(key=lambda item: item[1])
        return [rowid for rowid, _ in ranked[:limit]]

    @staticmethod
    def _widen(group: Group, vocabulary: Vocabulary) -> Group:
        """Add close spellings of a word the catalogue does not know (known words are left as typed)."""
        word = group[0].text
        if vocabulary.known(word):
            return group
        extra = [Alternative(c, prefix=False) for c in vocabulary.corrections(word)]
        extra += [Alternative(s, prefix=False) for s in vocabulary.splits(word)]
        return group + extra

    def _phrase_ids(self, groups: list[Group]) -> set[int]:
        """Procedures holding the query as a phrase in any column ('giay chung sinh' among the documents)."""
        if len(groups) < 2:
            return set()
        words = [next((a.text for a in g[1:] if not a.prefix), g[0].text) if len(g) > 1 else g[0].text for g in groups]
        phrase = '"' + " ".join(words) + '"*'
        return {row[0] for row in self.db.execute("SELECT rowid FROM procedure_search WHERE procedure_search MATCH ?", [phrase])}

    def _stage(self, groups: list[Group], require_all: bool) -> list[tuple[int, RankKey]]:
        if require_all:
            match = " AND ".join("(" + " OR ".join(a.fts() for a in g) + ")" for g in groups)
        else:
            # Single letters would match nearly everything once any word may match.
            match = " OR ".join(a.fts() for g in groups for a in g if len(a.text) > 1)
            if not match:
                return []
        weights = ", ".join(str(w) for w in pdb.SEARCH_WEIGHTS)
        rows = self.db.execute(
            f"SELECT rowid, name, bm25(procedure_search, {weights}) AS score FROM procedure_search "
            "WHERE procedure_search MATCH ? ORDER BY score LIMIT ?",
            [match, CANDIDATES],
        ).fetchall()
        phrases = self._phrase_ids(groups) if rows else set()
        return [(row[0], _rank_key(groups, row[1], row[2], require_all, row[0] in phrases)) for row in rows]


RankKey = tuple[int, int, int, int, int, int, float]


def _rank_key(groups: list[Group], name: str, score: float, matched_all: bool, phrase_anywhere: bool) -> RankKey:
    """Sort key, smallest first: every query word in the name, else the query as a phrase in another
    column; then more query words in the name; every word found somewhere; the name is the query;
    the name starts with it; fewer other words in the name; bm25."""
    name_words = name.split()
    chosen: list[str] = []
    for group in groups:
        hit = next((a for a in group if a.in_name(name, name_words)), None)
        if hit is not None:
            chosen.append(hit.text)
    covered = len(chosen)
    phrase = " ".join(chosen) if covered == len(groups) else ""
    position = f" {name}".find(f" {phrase}") if phrase else -1
    # Every name word begun by the query, in order: the citizen typed (the start of) this very name.
    exact = position == 0 and len(name_words) == len(phrase.split())
    tier = 0 if covered == len(groups) else 1 if phrase_anywhere else 2
    return (tier, -covered, 0 if matched_all else 1, 0 if exact else 1, 0 if position == 0 else 1 if position > 0 else 2,
            len(name_words), score)


def search_text(db: sqlite_utils.Database, cache_key: str, text: str, limit: int = 10) -> list[dict[str, Any]]:
    """One-off search (CLI); the web keeps a ProcedureSearch per thread."""
    return ProcedureSearch(db, cache_key).search(text, limit)
