"""Vietnamese words for numbers, so voices (espeak-ng reads digits poorly) say them right."""

from __future__ import annotations

import re

_UNITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")
_LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "O": "o", "P": "pê", "Q": "quy",
    "R": "e-rờ", "S": "ét-sì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích-xì", "Y": "i dài", "Z": "dét",
}


def _three(n: int, full: bool) -> list[str]:
    """Words for 0..999; `full` reads the hundreds even when zero (inside a larger number)."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if full or h:
        words += [_UNITS[h], "trăm"]
    if t == 0:
        if u:
            if full or h:
                words.append("linh")
            words.append(_UNITS[u])
    elif t == 1:
        words.append("mười")
        if u:
            words.append("lăm" if u == 5 else _UNITS[u])
    else:
        words += [_UNITS[t], "mươi"]
        if u:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(u, _UNITS[u]))
    return words


def number_words(n: int) -> str:
    """1001 -> 'một nghìn không trăm linh một'."""
    if n < 0:
        return "âm " + number_words(-n)
    if n == 0:
        return "không"
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(_SCALES):
        raise ValueError("number too large to read")
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        leading = index == len(groups) - 1
        words += _three(group, full=not leading)
        if _SCALES[index]:
            words.append(_SCALES[index])
    return " ".join(words)


def ticket_words(number: str) -> str:
    """How to say a ticket number: plain numbers as a whole, 'A012' letter then digits."""
    if number.isdigit():
        return number_words(int(number))
    letters = "".join(ch for ch in number if not ch.isdigit())
    digits = number[len(letters):]
    spoken = [_LETTERS.get(ch.upper(), ch) for ch in letters]
    spoken += [_UNITS[int(d)] for d in digits]
    return " ".join(spoken)


def speakable(sentence: str) -> str:
    """Replace every run of digits in a sentence by its Vietnamese words."""
    return re.sub(r"\d+", lambda m: number_words(int(m.group())), sentence)
