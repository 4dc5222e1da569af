"""Dossier codes: turn whatever a barcode scanner typed into a canonical code, or a clear rejection.

Scanners act as keyboards: they add Enter, Tab, AIM symbology prefixes (]C0, ]Q1, ]E0),
GS separators; a QR code may wrap the code in a lookup URL. Anything that is not a
dossier code raises `CodeError`, never another exception.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

from motcua import i18n

MAX_INPUT_CHARS = 1024  # a lookup URL is a few hundred characters; longer input is junk, refused before any work
MAX_CODE_CHARS = 40

# Query keys that one-stop portals use to carry the code in a lookup URL.
URL_CODE_KEYS = ("ma", "mahoso", "ma_ho_so", "ma-ho-so", "code", "dossier", "hoso", "ho_so", "id", "q")

# Provincial one-stop systems: the agency's electronic identifier (QĐ 20/2020/QĐ-TTg: 000.17.22.H56),
# the receiving date YYMMDD and a daily sequence number.
PROVINCIAL = re.compile(r"(?P<agency>[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})-(?P<date>[0-9]{6})-(?P<seq>[0-9]{4,6})")
# The shortest provincial code, position by position (9: a digit, A: a letter): a proper prefix of it is a cut-off scan.
PROVINCIAL_TEMPLATE = "999.99.99.A99-999999-9999"
OFFICE = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?")
AIM_PREFIX = re.compile(r"\][A-Za-z][0-9A-Za-z]")


class CodeError(ValueError):
    """The input is not a dossier code; `reason` is stable, `message` is Vietnamese, `message_en` English."""

    def __init__(self, reason: str, message: str, message_en: str) -> None:
        super().__init__(f"{reason}: {message_en}")
        self.reason = reason
        self.message = message
        self.message_en = message_en


@dataclass(frozen=True)
class DossierCode:
    code: str
    kind: str  # "provincial" or "office"

    def __str__(self) -> str:
        return self.code


def _error(reason: str) -> CodeError:
    """The refusal for `reason`, worded by the catalog entry dossier.code.<reason>."""
    return CodeError(reason, *i18n.pair(f"dossier.code.{reason}", max_chars=MAX_CODE_CHARS))


def parse_code(raw: object) -> DossierCode:
    """Normalise scanner input (text, bytes or a lookup URL) into a canonical dossier code."""
    text = _as_text(raw)
    text = _strip_controls(text).strip()
    match = AIM_PREFIX.match(text)
    if match:
        if match.group(0)[1] in "Ee":  # ]E0..]E4: EAN/UPC symbology, a product
            raise _error("product_barcode")
        text = text[match.end():].strip()
    if not text:
        raise _error("empty")
    if re.match(r"(?i)https?://", text) or text.lower().startswith("www."):
        text = _code_from_url(text)
    code = text.upper()
    if len(code) > MAX_CODE_CHARS:
        raise _error("too_long")
    if PROVINCIAL.fullmatch(code):
        _check_date(PROVINCIAL.fullmatch(code).group("date"))  # type: ignore[union-attr]
        return DossierCode(code, "provincial")
    if _is_provincial_prefix(code):
        raise _error("partial")
    if re.fullmatch(r"[0-9]+", code):
        raise _error("product_barcode" if _is_gtin(code) else "invalid")
    if not OFFICE.fullmatch(code) or re.search(r"[._-]{2}", code):
        raise _error("partial" if re.fullmatch(r"[A-Z0-9._-]+", code) and code[-1] in "._-" else "invalid")
    if not (re.search(r"[A-Z]", code) and re.search(r"[0-9]", code)):
        raise _error("invalid")  # office codes carry letters and a number: "HELLO" or a word typed by mistake is not one
    return DossierCode(code, "office")


def try_parse(raw: object) -> DossierCode | None:
    """`parse_code`, or None for anything that is not a code."""
    try:
        return parse_code(raw)
    except CodeError:
        return None


def _as_text(raw: object) -> str:
    if raw is None:
        raise _error("empty")
    if isinstance(raw, bytes | bytearray | memoryview):
        raw = bytes(raw)
        if len(raw) > MAX_INPUT_CHARS * 4:
            raise _error("too_long")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _error("binary") from None
    if not isinstance(raw, str):
        raise _error("invalid")
    if len(raw) > MAX_INPUT_CHARS:
        raise _error("too_long")
    if "\ufffd" in raw or "\x00" in raw.strip("\x00"):
        raise _error("binary")  # replacement characters or NULs inside: bytes from a misread, not a keyboard
    return raw


def _strip_controls(text: str) -> str:
    # Cc: Enter, Tab, GS (0x1D) between GS1 fields; Cf: zero-width and direction marks that copy-paste adds.
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def _code_from_url(text: str) -> str:
    if text.lower().startswith("www."):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _error("bad_url") from None
    query = {k.lower(): v for k, v in parse_qs(parts.query, keep_blank_values=False).items()}
    for key in URL_CODE_KEYS:
        if query.get(key):
            return unquote(query[key][0]).strip()
    segments = [s for s in parts.path.split("/") if s]
    if segments:
        last = unquote(segments[-1]).strip()
        if re.search(r"[0-9]", last):  # ".../tra-cuu" alone names a page, not a dossier
            return last
    raise _error("bad_url")


def _is_provincial_prefix(code: str) -> bool:
    if len(code) >= len(PROVINCIAL_TEMPLATE) or "." not in code:
        return False  # without the first dot it is only digits, judged as a number below
    for ch, slot in zip(code, PROVINCIAL_TEMPLATE, strict=False):
        ok = ("0" <= ch <= "9") if slot == "9" else ("A" <= ch <= "Z") if slot == "A" else ch == slot
        if not ok:
            return False
    return True


def _check_date(yymmdd: str) -> None:
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise _error("bad_date") from None


def _is_gtin(digits: str) -> bool:
    """EAN-8, UPC-A, EAN-13 or GTIN-14 with a valid check digit (a product's barcode)."""
    if len(digits) not in (8, 12, 13, 14):
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check
