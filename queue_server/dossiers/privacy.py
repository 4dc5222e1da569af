"""What public screens may show of a person or a code, and the digits kept for the second factor."""

from __future__ import annotations

import re
import unicodedata

from queue_server.dossiers.codes import PROVINCIAL


def mask_name(name: str | None) -> str:
    """Keep the family name, reduce the other words to initials: "Nguyễn Văn An" -> "Nguyễn V. A."."""
    if not name:
        return ""
    words = unicodedata.normalize("NFC", name).split()
    if not words:
        return ""
    if len(words) == 1:
        return f"{words[0][0].upper()}."  # a single word may be the given name: never show it whole
    return " ".join([words[0], *(f"{w[0].upper()}." for w in words[1:])])


def mask_code(code: str) -> str:
    """A code as the results TV shows it: enough for its owner to recognise, not enough to look it up.

    The agency part of a provincial code is the same for the whole office, so showing the date
    and sequence gave the whole code away (issue 14); the sequence alone, beside the masked name
    and the procedure, is what a citizen recognises.
    """
    match = PROVINCIAL.fullmatch(code)
    if match:
        return f"…-{match.group('seq')}"
    return "…" + code[-min(4, len(code) // 3 or 1):]  # at most a third of an office code, at most its last 4 characters


def last_digits(value: str | None, count: int = 4) -> str | None:
    """The last `count` digits of an ID number or phone (all that the second factor needs)."""
    if not value:
        return None
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", str(value)))
    return digits[-count:] if len(digits) >= count else None
