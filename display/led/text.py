"""Text for LED boards: most controllers have an ASCII font only, so Vietnamese loses its marks there."""

from __future__ import annotations

import unicodedata

# Symbols the main board's lines use, in the nearest ASCII.
_ASCII = {"→": "->", "←": "<-", "–": "-", "—": "-", "…": "...", "“": '"', "”": '"', "‘": "'", "’": "'"}


def unaccented(text: str) -> str:
    """'Quầy 3 → 1023' -> 'Quay 3 -> 1023'. Đ/đ are letters of their own (NFD does not split them)."""
    text = "".join(_ASCII.get(ch, ch) for ch in unicodedata.normalize("NFC", text))
    text = text.replace("Đ", "D").replace("đ", "d")
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return "".join(ch if " " <= ch <= "~" else "?" for ch in stripped if ch.isprintable())


def board_text(text: str, diacritics: bool, width: int = 0) -> str:
    """What a board can show: NFC Vietnamese, or unaccented ASCII; control characters removed; cut to `width`."""
    text = unicodedata.normalize("NFC", text) if diacritics else unaccented(text)
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:width] if width > 0 else text
