"""Read docs/glossary.toml and find the texts that break it (used by test_glossary.py).

A text is checked with the reader it is for: the rules that apply "everywhere", plus those for
"citizens" when citizens read it. A forbidden phrase matches whole words, case-insensitively,
in NFC text; a match that lies inside an allowed longer phrase is not a violation.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.toml"
SENTENCE_START = re.compile(r"(?:^|(?<=[.!?])\s+)(\S)")


@dataclass(frozen=True)
class Violation:
    where: str  # file, and catalog key or JSON path
    found: str
    rule: str  # the term to use instead, or the rule broken

    def __str__(self) -> str:
        return f"{self.where}: {self.found!r} -> use {self.rule!r}"


def _phrase(text: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(unicodedata.normalize("NFC", text)) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    term: str
    applies: str
    forbidden: tuple[re.Pattern[str], ...]
    regex: tuple[re.Pattern[str], ...]
    allowed: tuple[re.Pattern[str], ...]
    exact_case: bool
    sources: frozenset[str] | None

    @classmethod
    def from_toml(cls, raw: dict[str, Any]) -> Term:
        return cls(
            term=raw["term"], applies=raw.get("applies", "everywhere"),
            forbidden=tuple(_phrase(f) for f in raw.get("forbidden", [])),
            regex=tuple(re.compile(r) for r in raw.get("regex", [])),
            allowed=tuple(_phrase(a) for a in raw.get("allowed", [])),
            exact_case=raw.get("exact_case", False),
            sources=frozenset(raw["sources"]) if "sources" in raw else None,
        )

    def applies_to(self, audience: str, kind: str) -> bool:
        if self.sources is not None and kind not in self.sources:
            return False
        return self.applies == "everywhere" or self.applies == audience

    def breaches(self, text: str) -> Iterator[str]:
        """The forbidden variants found in one text."""
        allowed = [m.span() for a in self.allowed for m in a.finditer(text)]
        for pattern in (*self.forbidden, *self.regex):
            for m in pattern.finditer(text):
                if not any(start <= m.start() and m.end() <= end for start, end in allowed):
                    yield m.group(0)
        if self.exact_case:
            for m in _phrase(self.term).finditer(text):
                if m.group(0) not in (self.term, self.term.upper()):
                    yield m.group(0)


@dataclass
class Glossary:
    terms: list[Term]
    sources: list[dict[str, Any]]
    officials_keys: list[str]
    officials_paths: list[str]
    numeric_placeholders: frozenset[str]
    exempt: dict[str, str]

    @classmethod
    def load(cls, path: Path = GLOSSARY) -> Glossary:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        audiences = raw.get("audiences", {})
        return cls(
            terms=[Term.from_toml(t) for t in raw["term"]], sources=raw["source"],
            officials_keys=audiences.get("officials_keys", []), officials_paths=audiences.get("officials_paths", []),
            numeric_placeholders=frozenset(audiences.get("numeric_placeholders", [])),
            exempt={e["key"]: e["reason"] for e in raw.get("exempt", [])},
        )

    def key_audience(self, key: str, default: str) -> str:
        return "officials" if any(fnmatch.fnmatchcase(key, pattern) for pattern in self.officials_keys) else default

    def path_audience(self, relative: str, default: str) -> str:
        return "officials" if any(fnmatch.fnmatch(relative, pattern) for pattern in self.officials_paths) else default

    def check_text(self, text: str, audience: str, kind: str, where: str) -> list[Violation]:
        text = unicodedata.normalize("NFC", text)
        found = [Violation(where, hit, term.term) for term in self.terms if term.applies_to(audience, kind)
                 for hit in term.breaches(text)]
        if kind == "catalog" and audience == "citizens" and re.search(r"[.!?]", text):
            # A label such as "{count} bản" is not a sentence; a message with a full stop is.
            found += [Violation(where, start, "no sentence starts with a number") for start in self.numeric_starts(text)]
        return found

    def numeric_starts(self, text: str) -> list[str]:
        """Sentence openings that are a digit or a placeholder that renders as a number."""
        starts = []
        for m in SENTENCE_START.finditer(text):
            rest = text[m.start(1):]
            if rest[0].isdigit():
                starts.append(rest.split(" ", 1)[0])
            elif rest.startswith("{") and rest[1:].split("}", 1)[0].split("!")[0] in self.numeric_placeholders:
                starts.append(rest.split("}", 1)[0] + "}")
        return starts

    # --- the files -----------------------------------------------------------------------------

    def files(self, root: Path = ROOT) -> Iterator[tuple[dict[str, Any], Path]]:
        """Every file a [[source]] names, by glob, so files added later are checked too."""
        for source in self.sources:
            seen: set[Path] = set()
            for pattern in source["globs"]:
                for path in sorted(root.glob(pattern)):
                    if path.is_file() and path not in seen and ".venv" not in path.parts:
                        seen.add(path)
                        yield source, path

    def texts(self, root: Path = ROOT) -> Iterator[tuple[str, str, str, str, str | None]]:
        """(text, audience, kind, where, catalog key or None) for every checked text."""
        for source, path in self.files(root):
            relative = path.relative_to(root).as_posix()
            kind, default = source["kind"], self.path_audience(relative, source["audience"])
            raw = path.read_text(encoding="utf-8")
            if kind == "catalog":
                for key, value in json.loads(raw).items():
                    yield value, self.key_audience(key, default), kind, f"{relative} {key}", key
            elif path.suffix == ".json":
                for where, value in _strings(json.loads(raw), relative):
                    yield value, default, kind, where, None
            elif path.suffix == ".toml":
                for where, value in _strings(tomllib.loads(raw), relative):
                    yield value, default, kind, where, None
            else:
                yield raw, default, kind, relative, None

    def violations(self, root: Path = ROOT) -> tuple[list[Violation], dict[str, list[Violation]]]:
        """What breaks the glossary, and separately what the exempt keys break (key -> violations)."""
        found: list[Violation] = []
        exempted: dict[str, list[Violation]] = {key: [] for key in self.exempt}
        for text, audience, kind, where, key in self.texts(root):
            problems = self.check_text(text, audience, kind, where)
            if key in exempted:
                exempted[key] += problems
            else:
                found += problems
        return found, exempted


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
