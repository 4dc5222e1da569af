"""Fold Vietnamese text for search: no diacritics, đ -> d, lowercase, words split on punctuation."""

from __future__ import annotations

import re
import unicodedata

# Đ/đ are letters of their own in Unicode, not D plus a mark, so NFD leaves them alone.
# Ð (U+00D0, Icelandic eth) stands in for Đ in text typed with old Vietnamese keyboards.
_STROKES = str.maketrans({"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"})
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits; everything else separates words


def fold(text: str) -> str:
    """The search form of a text: 'Đăng ký khai sinh!' -> 'dang ky khai sinh'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(bare.lower()))


def fold_words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return fold(text).split()
