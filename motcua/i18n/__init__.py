"""Message catalogs: Vietnamese first, English second, keyed by stable codes.

A language's catalog is `{lang}.json` (the core) plus every `{lang}/*.json` (one file per
area: kiosk, tv, counter...), merged; a key defined twice is a bug and fails loudly.
"""

from __future__ import annotations

import json
import string
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@cache
def catalog(lang: str) -> dict[str, str]:
    """The whole catalog of one language."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for language {lang!r}")
    root = resources.files(__package__)
    merged: dict[str, str] = json.loads(root.joinpath(f"{lang}.json").read_text(encoding="utf-8"))
    area_dir = root.joinpath(lang)
    areas = sorted((f for f in area_dir.iterdir() if f.name.endswith(".json")), key=lambda f: f.name) if area_dir.is_dir() else []
    for area in areas:
        for key, value in json.loads(area.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"catalog {lang}: key {key!r} is defined twice (again in {area.name})")
            merged[key] = value
    return merged


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """Render a catalog entry; missing params show as their name rather than failing."""
    template = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    values = {name: params.get(name, f"{{{name}}}") for name in placeholders(template)}
    return template.format(**values)


def error_text(code: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    return text(f"error.{code}", lang, **params)


def pair(key: str, **params: Any) -> tuple[str, str]:
    """The Vietnamese and the English rendering of one entry, for replies that carry both."""
    return text(key, "vi", **params), text(key, "en", **params)
