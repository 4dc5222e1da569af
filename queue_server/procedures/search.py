"""Kiosk search over the procedure catalogue: folded text, kiosk words, FTS5 with bm25, then typo correction.

1. The query is folded (folding.py) into at most MAX_TERMS words and read against a small table of
   kiosk words (synonyms.json): colloquial phrases become alternatives in the catalogue's own terms
   ('so do' -> 'giay chung nhan quyen su dung dat'), filler phrases are dropped ('o dau', 'cho con'),
   filler words stay optional ('xin', 'lam'). Every word becomes a quoted FTS5 prefix term, every
   phrase a quoted FTS5 phrase, so no user input is ever read as FTS syntax. A query without a word
   of two letters or more ('a') finds nothing.
2. Every required word must match (any column, any order), and a meaningful one in the name, field
   or documents: the steps and agency alone (boilerplate) never bring a procedure in.
3. If that finds few procedures, each word the catalogue does not know also accepts its split into
   catalogue words ('dangkykhaisinh' -> 'dang ky khai sinh') and its close spellings (edit distance 1,
   2 for long words, swapped letters count as 1); a word with neither is ignored. Still nothing: the
   start of a catalogue word is corrected too, then a whole catalogue word, kept only where the name
   holds every word with one correction at most. A known word is never dropped: rather no result
   than an unrelated one.
Ranking, best first: every query word in the name (name matches rank above document matches), then
the query as a phrase elsewhere (a document), then more query words in the name, fewer spelling
corrections, the name is the query, the name holds the query as a phrase, the name is no variant the
query did not ask for ('lai', 'gia han', 'dieu chinh'...), more optional words in the name, the name
starts with the query, fewer name words the query lacks, and bm25 with the name weighted highest.
"""

from __future__ import annotations

import bisect
import json
import logging
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.procedures import db as pdb
from queue_server.procedures.folding import fold, fold_words

log = logging.getLogger(__name__)

FEW = 3  # fewer results than this (or than the limit) tries spelling corrections
MAX_QUERY_CHARS = 400  # a kiosk query is a few words; the rest of a pasted page is ignored
MAX_TERMS = 12  # spoken-style queries carry filler words ('toi muon xin ... o dau')
MAX_WORD = 32
CANDIDATES = 150  # best bm25 rows re-ranked per stage
MAX_LIMIT = 50
MAX_CORRECTIONS = 3
MAX_PIECE = 10  # longest catalogue word tried when splitting run-together words
FLOOR_COLUMNS = "{name field documents}"  # where at least one query word must be found
LEXICON_FILE = Path(__file__).with_name("synonyms.json")


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
        """'dangkykhaisinh' -> ['dang ky khai sinh']: catalogue words (2 letters or more) typed without
        spaces; the split into the fewest words, then the most frequent ones. [] when there is none."""
        if len(word) < 4 or word in self.counts:
            return []
        # best[i]: (pieces, -frequency, words) for word[:i]; dynamic programming over the end positions.
        best: list[tuple[int, int, tuple[str, ...]] | None] = [None] * (len(word) + 1)
        best[0] = (0, 0, ())
        for start in range(len(word) - 1):
            here = best[start]
            if here is None:
                continue
            for end in range(start + 2, min(len(word), start + MAX_PIECE) + 1):
                piece = word[start:end]
                count = self.counts.get(piece)
                if not count:
                    continue
                candidate = (here[0] + 1, here[1] - count, here[2] + (piece,))
                if best[end] is None or candidate[:2] < best[end][:2]:
                    best[end] = candidate
        found = best[-1]
        return [" ".join(found[2])] if found and found[0] >= 2 else []


@dataclass(frozen=True)
class Lexicon:
    """Kiosk words (synonyms.json), all folded."""

    synonyms: dict[str, tuple[str, ...]]
    stop_phrases: frozenset[str]  # two words or more: dropped from the query
    stopwords: frozenset[str]  # one word: kept, but optional
    variants: tuple[str, ...]
    longest: int  # words in the longest synonym or stop phrase

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        data = json.loads(path.read_text(encoding="utf-8"))
        synonyms = {fold(k): tuple(fold(v) for v in vs) for k, vs in data.get("synonyms", {}).items()}
        stops = {fold(s) for s in data.get("stopwords", [])}
        phrases = frozenset(s for s in stops if " " in s)
        return cls(
            synonyms={k: v for k, v in synonyms.items() if k and v},
            stop_phrases=phrases,
            stopwords=frozenset(s for s in stops if s and " " not in s),
            variants=tuple(fold(v) for v in data.get("variants", []) if fold(v)),
            longest=max((len(p.split()) for p in [*synonyms, *phrases]), default=1),
        )


LEXICON = Lexicon.load()

# Vocabularies are shared by all threads of a process, keyed by database and catalogue revision.
_vocabularies: dict[str, tuple[int, Vocabulary]] = {}
_vocabulary_lock = threading.Lock()


@dataclass(frozen=True)
class Alternative:
    text: str  # folded word, or several words for a split or a synonym
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


@dataclass(frozen=True)
class Term:
    """One query word or phrase and the ways it may match."""

    alternatives: tuple[Alternative, ...]
    optional: bool = False  # a filler word: never required, ranks names holding it higher
    fixed: bool = False  # a synonym: no spelling variants

    @property
    def text(self) -> str:
        return self.alternatives[0].text

    @property
    def meaningful(self) -> bool:
        """Required, and more than one letter: it may be what brings a procedure in (see the floor)."""
        return not self.optional and (self.fixed or len(self.text) > 1)

    def fts(self) -> str:
        return "(" + " OR ".join(a.fts() for a in self.alternatives) + ")"


def analyse(words: list[str], lexicon: Lexicon = LEXICON) -> list[Term]:
    """The terms of a folded query: synonyms (longest first), filler phrases dropped, filler words
    optional. A query of filler only is searched as typed; [] when no term is meaningful (two letters
    or more: 'a', 'o' or 'd' alone mean nothing, though 'nha o' needs its 'o')."""
    terms = _terms(words, lexicon, fillers=True)
    if not any(t.meaningful for t in terms):
        terms = _terms(words, lexicon, fillers=False)
    return terms if any(t.meaningful for t in terms) else []


def _terms(words: list[str], lexicon: Lexicon, fillers: bool) -> list[Term]:
    terms: list[Term] = []
    i = 0
    while i < len(words):
        for n in range(min(lexicon.longest, len(words) - i), 0, -1):
            key = " ".join(words[i:i + n])
            expansions = lexicon.synonyms.get(key)
            if expansions:
                alternatives = (Alternative(key, prefix=n == 1), *(Alternative(e, prefix=False) for e in expansions))
                terms.append(Term(alternatives, fixed=True))
                i += n
                break
            if fillers and n > 1 and key in lexicon.stop_phrases:
                i += n
                break
        else:
            word = words[i]
            optional = fillers and word in lexicon.stopwords
            terms.append(Term((Alternative(word, prefix=True),), optional=optional))
            i += 1
    return terms


class ProcedureSearch:
    """Search one database; one instance per thread (it holds that thread's connection)."""

    def __init__(self, db: sqlite_utils.Database, cache_key: str, lexicon: Lexicon = LEXICON) -> None:
        self.db = db
        self.cache_key = cache_key
        self.lexicon = lexicon

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
        """Summaries of the best matching active procedures, best first; [] for an empty, garbage or
        one-letter query, and when no procedure matches the meaningful words."""
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
        terms = analyse(words, self.lexicon)
        if not terms:
            return []
        ranked = self._stage(terms)
        if len(ranked) < min(limit, FEW):
            vocabulary = self.vocabulary()
            widened = [w for w in (self._widen(t, vocabulary) for t in terms) if w is not None]
            if widened != terms:
                terms = widened
                # A superset of the first try (unknown words that stay unknown are left out), ranked again.
                ranked = self._stage(terms) if any(t.meaningful for t in terms) else []
            if not ranked:
                # Still nothing: a typo may have made the start of a longer catalogue word ('bin' for
                # 'bien', not a word itself); such words accept their close spellings too.
                widened = [self._widen(t, vocabulary, known="prefix") or t for t in terms]
                if widened != terms:
                    terms = widened
                    ranked = self._stage(terms)
            if not ranked:
                # Or another whole word ('tang' for 'trang'): trusted only where the name then holds every
                # word with one correction at most, so 'the bao hiem y te' does not become 'thu ... hien ...'.
                widened = [self._widen(t, vocabulary, known="word") or t for t in terms]
                if widened != terms:
                    ranked = [item for item in self._stage(widened) if item[1][0] == 0 and item[1][2] <= 1]
        ranked.sort(key=lambda item: item[1])
        return [rowid for rowid, _ in ranked[:limit]]

    @staticmethod
    def _widen(term: Term, vocabulary: Vocabulary, known: str = "") -> Term | None:
        """Add the split and close spellings of a word the catalogue does not know; None for an unknown word
        without either: it is ignored. Synonyms, optional and widened words are left as they are, and known
        words too, except the beginnings of catalogue words with known="prefix" and whole catalogue words
        with known="word"."""
        if term.fixed or term.optional or len(term.alternatives) > 1:
            return term
        word = term.text
        if vocabulary.known(word):
            if known != ("word" if word in vocabulary.counts else "prefix"):
                return term
            extra = [Alternative(c, prefix=False) for c in vocabulary.corrections(word)]
            return Term(term.alternatives + tuple(extra)) if extra else term
        extra = [Alternative(s, prefix=False) for s in vocabulary.splits(word)]
        extra += [Alternative(c, prefix=False) for c in vocabulary.corrections(word)]
        return Term(term.alternatives + tuple(extra)) if extra else None

    def _phrase_ids(self, required: list[Term]) -> set[int]:
        """Procedures holding the query as a phrase in any column ('giay chung sinh' among the documents)."""
        if len(required) < 2:
            return set()
        words = [t.text if t.fixed else next((a.text for a in t.alternatives[1:]), t.text) for t in required]
        phrase = '"' + " ".join(words) + '"*'
        return {row[0] for row in self.db.execute("SELECT rowid FROM procedure_search WHERE procedure_search MATCH ?", [phrase])}

    def _stage(self, terms: list[Term]) -> list[tuple[int, RankKey]]:
        required = [t for t in terms if not t.optional]
        # Every required term anywhere, and a meaningful one where a procedure says what it is about.
        about = " OR ".join(a.fts() for t in required if t.meaningful for a in t.alternatives)
        match = " AND ".join(t.fts() for t in required) + f" AND {FLOOR_COLUMNS} : ({about})"
        weights = ", ".join(str(w) for w in pdb.SEARCH_WEIGHTS)
        rows = self.db.execute(
            f"SELECT rowid, name, bm25(procedure_search, {weights}) AS score FROM procedure_search "
            "WHERE procedure_search MATCH ? ORDER BY score LIMIT ?",
            [match, CANDIDATES],
        ).fetchall()
        if not rows:
            return []
        phrases = self._phrase_ids(required)
        query_words = {w for t in terms for a in t.alternatives for w in a.text.split()}
        # Variant words the query does not hold: a name with one is not the basic procedure asked for.
        variants = [f" {v} " for v in self.lexicon.variants if not set(v.split()) <= query_words]
        return [(row[0], _rank_key(terms, row[1], row[2], row[0] in phrases, query_words, variants)) for row in rows]


RankKey = tuple[int, int, int, int, int, int, int, int, int, float]


def _rank_key(terms: list[Term], name: str, score: float, phrase_anywhere: bool, query_words: set[str],
              variants: list[str]) -> RankKey:
    """Sort key, smallest first: every required term in the name, else the query as a phrase in another
    column; then more terms in the name; fewer spelling corrections needed for them; the name is the query; the name holds the query as a phrase; the
    name is no variant the query did not ask for; more optional words in the name; the name starts with
    the query; fewer name words the query lacks; bm25."""
    name_words = name.split()
    padded = f" {name} "
    required = [t for t in terms if not t.optional]
    chosen: list[str] = []
    corrected = 0
    for term in required:
        hit = next((a for a in term.alternatives if a.in_name(name, name_words)), None)
        if hit is not None:
            chosen.append(hit.text)
            corrected += not term.fixed and hit is not term.alternatives[0]
    covered = len(chosen)
    phrase = " ".join(chosen) if covered == len(required) else ""
    position = f" {name}".find(f" {phrase}") if phrase else -1
    # Every name word begun by the query, in order: the citizen typed (the start of) this very name.
    exact = position == 0 and len(name_words) == len(phrase.split())
    tier = 0 if covered == len(required) else 1 if phrase_anywhere else 2
    variant = any(v in padded for v in variants)
    optional = sum(1 for t in terms if t.optional and f" {t.text} " in padded)
    extra = sum(1 for w in name_words if w not in query_words)
    return (tier, -covered, corrected, 0 if exact else 1, 0 if position >= 0 else 1, 1 if variant else 0, -optional,
            0 if position == 0 else 1, extra, score)

