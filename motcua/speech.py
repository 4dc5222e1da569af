"""Vietnamese words for numbers and ticket numbers, so voices (espeak-ng reads digits poorly) say them right.

One definition for the whole project: the voice caller (display/voice) reads numbers with the
office's `[voice]` settings; the server keeps filling the legacy `announce_words` field of
`event/call` with the defaults. Rules (issue 22, "What the loudspeaker says"):

- 10 is "mười", 20..90 take "mươi": 15 "mười lăm", 21 "hai mươi mốt", 24 "hai mươi tư", 25 "hai mươi lăm";
  11 stays "mười một", 14 "mười bốn", 105 "một trăm linh năm" (mốt, tư and lăm only after a ten).
- A zero ten before a unit is "linh" (north) or "lẻ" (south): 105, 1005 "... không trăm linh năm".
- Inside a larger number the hundreds are read even when zero: 1023 "một nghìn không trăm hai mươi ba".
- 1000 is "nghìn" (north) or "ngàn" (south).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from motcua import i18n

UNITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
REGIONS = ("north", "south")
PREFIX_STYLES = ("digits", "number")

# How letters of a ticket prefix are said (C015 -> "xê ..."); an office may override them in [voice.letters].
LETTERS: Mapping[str, str] = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài", "Z": "dét",
}

# Letters whose names a citizen cannot tell apart across a noisy hall: they share a rhyme and
# differ only by one soft consonant ("bê, xê, dê, đê, giê, pê, tê, vê"; "e lờ, em mờ, en nờ, e rờ"...).
SOUND_ALIKE: tuple[frozenset[str], ...] = (
    frozenset("BCDĐGPTV"),
    frozenset("LMNR"),
    frozenset("SX"),
    frozenset("IY"),
)


@dataclass(frozen=True)
class Reading:
    """How an office reads numbers aloud ([voice] region, four, five, digits, prefix_style, letters)."""

    region: Literal["north", "south"] = "north"
    four: str = "tư"                # 24: "hai mươi tư" (or "bốn")
    five: str = "lăm"               # 25: "hai mươi lăm" (or "nhăm", northern speech)
    digit_by_digit: bool = False    # 1023: "một không hai ba"
    prefix_style: Literal["digits", "number"] = "digits"  # C015: "xê không một năm" or "xê mười lăm"
    letters: Mapping[str, str] = field(default_factory=lambda: dict(LETTERS))

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, got {self.region!r}")
        if self.four not in ("tư", "bốn"):
            raise ValueError(f"four must be \"tư\" or \"bốn\", got {self.four!r}")
        if self.five not in ("lăm", "nhăm"):
            raise ValueError(f"five must be \"lăm\" or \"nhăm\", got {self.five!r}")
        if self.prefix_style not in PREFIX_STYLES:
            raise ValueError(f"prefix_style must be one of {', '.join(PREFIX_STYLES)}, got {self.prefix_style!r}")

    @property
    def thousand(self) -> str:
        return "nghìn" if self.region == "north" else "ngàn"

    @property
    def odd(self) -> str:
        """The word for a zero ten before a unit (105: một trăm linh/lẻ năm)."""
        return "linh" if self.region == "north" else "lẻ"

    def scales(self) -> tuple[str, ...]:
        return ("", self.thousand, "triệu", "tỷ")


DEFAULT_READING = Reading()


def _three(n: int, full: bool, r: Reading) -> list[str]:
    """Words for 0..999; `full` reads the hundreds even when zero (inside a larger number)."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if full or h:
        words += [UNITS[h], "trăm"]
    if t == 0:
        if u:
            if full or h:
                words.append(r.odd)
            words.append(UNITS[u])
    elif t == 1:
        words.append("mười")
        if u:
            words.append("lăm" if u == 5 else UNITS[u])
    else:
        words += [UNITS[t], "mươi"]
        if u:
            words.append({1: "mốt", 4: r.four, 5: r.five}.get(u, UNITS[u]))
    return words


def number_words(n: int, reading: Reading = DEFAULT_READING) -> str:
    """1001 -> 'một nghìn không trăm linh một' (north) or 'một ngàn không trăm lẻ một' (south)."""
    if n < 0:
        return "âm " + number_words(-n, reading)
    if n == 0:
        return "không"
    scales = reading.scales()
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(scales):
        raise ValueError("number too large to read")
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        words += _three(group, full=index != len(groups) - 1, r=reading)
        if scales[index]:
            words.append(scales[index])
    return " ".join(words)


def digit_words(digits: str) -> str:
    """'015' -> 'không một năm'."""
    return " ".join(UNITS[int(d)] for d in digits if d.isdigit())


def letter_words(letters: str, reading: Reading = DEFAULT_READING) -> str:
    return " ".join(reading.letters.get(ch.upper(), ch.lower()) for ch in letters)


def ticket_words(number: str, reading: Reading = DEFAULT_READING) -> str:
    """How to say a ticket number: 1023 as a whole number (or digit by digit), C015 in the office's prefix style."""
    number = unicodedata.normalize("NFC", number.strip())
    if number.isdigit():
        # A leading zero (0012) is not a quantity: say what is written.
        if reading.digit_by_digit or (len(number) > 1 and number[0] == "0"):
            return digit_words(number)
        return number_words(int(number), reading)
    match = re.fullmatch(r"([^\W\d_]+)[\s-]*(\d*)", number)
    if not match:
        return speakable(number, reading)
    letters, digits = match.groups()
    spoken = [letter_words(letters, reading)]
    if digits:
        number_part = digits.lstrip("0") or "0"
        spoken.append(digit_words(digits) if reading.prefix_style == "digits" else number_words(int(number_part), reading))
    return " ".join(spoken)


_DASHES = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*")


def speakable(sentence: str, reading: Reading = DEFAULT_READING) -> str:
    """Digits to words, and a spaced dash ("Quầy 6 - Ưu tiên") to a comma: a dash is never read aloud."""
    sentence = _DASHES.sub(", ", sentence)
    return re.sub(r"\d+", lambda m: number_words(int(m.group()), reading), sentence)


def counter_number(*names: str | None) -> int | None:
    """The first number written in a counter's spoken name, displayed name or id ("Quầy 6 - Ưu tiên" -> 6)."""
    for name in names:
        found = re.search(r"\d+", name or "")
        if found:
            return int(found.group())
    return None


def counter_words(counter_id: str, name: str, spoken_name: str | None = None, reading: Reading = DEFAULT_READING) -> str:
    """How a counter is said after "đến": its spoken name if the office gave one, else "quầy số N", else its
    displayed name without punctuation. Never "Quầy 6 - Ưu tiên" with the dash."""
    if spoken_name and spoken_name.strip():
        return speakable(spoken_name.strip(), reading)
    n = counter_number(name, counter_id)
    if n is not None:
        return i18n.text("voice.counter", n=number_words(n, reading))
    return speakable(name, reading).lower()


def counter_phrase(counter_id: str, name: str, spoken_name: str | None = None) -> str:
    """The same phrase as counter_words with its digits kept, for text: "quầy số 6"."""
    if spoken_name and spoken_name.strip():
        return spoken_name.strip()
    n = counter_number(name, counter_id)
    return i18n.text("voice.counter", n=str(n)) if n is not None else _DASHES.sub(", ", name)


def prefix_conflicts(prefixes: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(warnings, errors) about service prefixes ({service code: prefix}) that citizens would confuse.

    An error: two prefixes equal once Đ is written D (LED boards without diacritics show them alike).
    A warning: two prefixes of equal length whose letters pairwise sound alike (B and P: "bê", "pê").
    """
    warnings: list[str] = []
    errors: list[str] = []
    items = sorted(prefixes.items())
    for i, (code_a, a) in enumerate(items):
        for code_b, b in items[i + 1:]:
            if a == b:
                continue
            params = {"a": a, "b": b, "service_a": code_a, "service_b": code_b,
                      "spoken_a": letter_words(a), "spoken_b": letter_words(b)}
            if a.replace("Đ", "D") == b.replace("Đ", "D"):
                errors.append(i18n.text("voice.prefix_d_dd", **params))
            elif len(a) == len(b) and all(x == y or _alike(x, y) for x, y in zip(a, b, strict=True)):
                warnings.append(i18n.text("voice.prefix_sound_alike", **params))
    return warnings, errors


def _alike(x: str, y: str) -> bool:
    return any(x in group and y in group for group in SOUND_ALIKE)


def words_of(texts: Iterable[str]) -> list[str]:
    """The distinct lowercase words of some spoken texts, in first-seen order (for a clip list)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", text).lower()):
            seen.setdefault(word, None)
    return list(seen)
