"""The sentence a call is announced with, built on the voice box from the call's number and counter.

The office's template (`[voice] call` / `recall`, default in the catalog `voice.call`) has
placeholders: {number} the ticket number in words, {counter} how the counter is said
("quầy số ba", or its spoken name), {n} the counter's number in words, {service} the field's
name. A comma or colon is a short pause, a full stop a longer one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from display.payloads import Call, CounterName
from motcua.speech import Reading, counter_number, counter_words, number_words, speakable, ticket_words

PAUSE = ","
STOP = "."
_TOKEN = re.compile(r"[^\W\d_]+|[,;:.!?]")


@dataclass(frozen=True)
class Sentence:
    text: str                  # what a TTS engine reads and `announce --dry-run` prints
    tokens: tuple[str, ...]    # lowercase words, PAUSE and STOP: what the clip voice joins

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(t for t in self.tokens if t not in (PAUSE, STOP))


def tokens_of(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text).lower()):
        mark = PAUSE if token in ",;:" else STOP if token in ".!?" else token
        if mark in (PAUSE, STOP) and out and out[-1] in (PAUSE, STOP):
            out[-1] = STOP if STOP in (mark, out[-1]) else PAUSE  # ", ." is one stop
        elif mark in (PAUSE, STOP) and not out:
            continue
        else:
            out.append(mark)
    return tuple(out)


def merge_names(configured: Mapping[str, CounterName], published: Mapping[str, CounterName]) -> dict[str, CounterName]:
    """Counter names from the retained state/office win, but a spoken name from the TOML is kept
    until the server publishes one (older servers publish none)."""
    merged = dict(configured)
    for cid, name in published.items():
        own = configured.get(cid)
        merged[cid] = name if name.spoken_name or own is None else CounterName(cid, name.name, own.spoken_name)
    return merged


def render(template: str, number: str, counter: CounterName, reading: Reading, service_name: str = "") -> Sentence:
    n = counter_number(counter.spoken_name, counter.name, counter.id)
    said_counter = counter_words(counter.id, counter.name, counter.spoken_name, reading)
    text = template.format(
        number=ticket_words(number, reading),
        counter=said_counter,
        n=number_words(n, reading) if n is not None else said_counter,
        service=speakable(service_name, reading).lower(),
    )
    text = speakable(re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip(), reading)
    text = re.sub(r"\s+([,;:.!?])", r"\1", text)
    return Sentence(text=text[:1].upper() + text[1:], tokens=tokens_of(text))


def build(call: Call, template: str, reading: Reading, names: Mapping[str, CounterName]) -> Sentence:
    counter = names.get(call.counter) or CounterName(call.counter, call.counter_name)
    return render(template, call.number, counter, reading, call.service_name)
