"""Procedures handled elsewhere: a small table of what citizens ask a one-stop section for that another
agency does (residence → commune police, divorce → regional court...), read from elsewhere.json.

Used by lookup.py: a query naming one of these is answered "not here, go to ..." instead of with an
unrelated procedure that merely mentions the words (birth registration lists the identity card among
its papers; that does not make it the identity card procedure).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_server.procedures.folding import fold

TABLE_FILE = Path(__file__).with_name("elsewhere.json")


@dataclass(frozen=True)
class Elsewhere:
    topic: str
    name: str
    name_en: str
    agency: str
    agency_en: str
    phrases: tuple[str, ...]  # folded

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "name": self.name, "name_en": self.name_en, "agency": self.agency, "agency_en": self.agency_en}


@dataclass(frozen=True)
class ElsewhereTable:
    entries: tuple[Elsewhere, ...]
    generic: frozenset[str]

    @classmethod
    def load(cls, path: Path = TABLE_FILE) -> ElsewhereTable:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(
            Elsewhere(e["topic"], e["name"], e.get("name_en", e["name"]), e["agency"], e.get("agency_en", e["agency"]),
                      tuple(p for p in (fold(x) for x in e.get("phrases", [])) if p))
            for e in data.get("entries", [])
        )
        return cls(entries, frozenset(fold(w) for w in data.get("generic", []) if fold(w)))

    def match(self, words: list[str]) -> tuple[Elsewhere, str] | None:
        """The entry whose phrase the query holds as whole words (the longest phrase wins), and that phrase."""
        padded = f" {' '.join(words)} "
        found = [(len(p), e, p) for e in self.entries for p in e.phrases if f" {p} " in padded]
        if not found:
            return None
        _, entry, phrase = max(found, key=lambda item: item[0])
        return entry, phrase

    def as_list(self) -> list[dict[str, Any]]:
        """For the kiosk's offline cache (the export): each entry with its folded phrases."""
        return [{**e.as_dict(), "phrases": list(e.phrases)} for e in self.entries]


ELSEWHERE = ElsewhereTable.load()
