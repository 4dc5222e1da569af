"""The voice caller's settings: the `[voice]` table of the office TOML, read by the voice box itself.

Like motcua/settings.py reads `[office]`, this reads only what a voice box needs: `[voice]`,
an optional `[voice.devices.<device id>]` table that overrides any key for one box (a box per
floor serves only its counters), and each counter's `id`, `name` and `spoken_name` from
`[[counters]]`. Every key is documented in docs/voice.md; a wrong one stops the program with
a message naming it.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from display.payloads import CounterName
from motcua import i18n
from motcua.settings import DEFAULT_CONFIG
from motcua.speech import LETTERS, PREFIX_STYLES, REGIONS, Reading

PLACEHOLDERS = frozenset({"number", "counter", "n", "service"})
VOICES = ("auto", "clips", "espeak", "pyttsx3")
ESPEAK_VOICES = {"north": "vi", "south": "vi-vn-x-south"}


class VoiceSettingsError(ValueError):
    """The [voice] table is wrong; the message names the key."""


@dataclass(frozen=True)
class VoiceSettings:
    reading: Reading = field(default_factory=Reading)
    call: str = ""        # templates; "" means the catalog's default (voice.call / voice.recall)
    recall: str = ""
    repeat: int = 2
    repeat_pause_ms: int = 700
    chime: bool | Path = True
    max_age_seconds: float = 60.0
    counters: tuple[str, ...] = ()  # empty: every counter of the office
    voice: str = "auto"
    clips: Path | None = None
    espeak_voice: str = ""
    espeak_speed: int = 150
    output: str = "speaker"
    player: str = "auto"
    pause_ms: int = 300       # a comma or a colon
    stop_ms: int = 450        # a full stop
    crossfade_ms: int = 10
    counter_names: dict[str, CounterName] = field(default_factory=dict)

    @property
    def call_template(self) -> str:
        return self.call or i18n.text("voice.call")

    @property
    def recall_template(self) -> str:
        return self.recall or i18n.text("voice.recall")

    @property
    def espeak(self) -> str:
        return self.espeak_voice or ESPEAK_VOICES[self.reading.region]

    def serves(self, counter: str) -> bool:
        return not self.counters or counter in self.counters


KNOWN = ("region", "four", "five", "digits", "prefix_style", "letters", "call", "recall", "repeat", "repeat_pause_ms",
         "chime", "max_age_seconds", "counters", "voice", "clips", "espeak_voice", "espeak_speed", "output", "player",
         "pause_ms", "stop_ms", "crossfade_ms", "devices")


def load_voice_settings(path: str | Path | None = None, device: str | None = None) -> VoiceSettings:
    """Read [voice] (and [voice.devices.<device>]) and the counters' names from an office TOML file."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VoiceSettingsError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise VoiceSettingsError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_voice_settings(raw, device, base=path.parent)
    except VoiceSettingsError as exc:
        raise VoiceSettingsError(f"{path}: {exc}") from None


def parse_voice_settings(raw: dict[str, Any], device: str | None = None, base: Path = Path(".")) -> VoiceSettings:
    voice = raw.get("voice", {})
    if not isinstance(voice, dict):
        raise VoiceSettingsError("[voice]: must be a table")
    table = {k: v for k, v in voice.items() if k != "devices"}
    devices = voice.get("devices", {})
    if not isinstance(devices, dict):
        raise VoiceSettingsError("voice.devices: must be a table of [voice.devices.<device id>] tables")
    if device and device in devices:
        override = devices[device]
        if not isinstance(override, dict):
            raise VoiceSettingsError(f"voice.devices.{device}: must be a table")
        _check_known(override, f"voice.devices.{device}")
        table.update(override)
    _check_known(table, "voice")
    return _build(table, _counter_names(raw), base)


def _check_known(table: dict[str, Any], where: str) -> None:
    for key in table:
        if key not in KNOWN or (key == "devices" and where != "voice"):
            raise VoiceSettingsError(f"{where}.{key}: unknown key (known: {', '.join(k for k in KNOWN if k != 'devices')})")


def _counter_names(raw: dict[str, Any]) -> dict[str, CounterName]:
    names: dict[str, CounterName] = {}
    counters = raw.get("counters", [])
    for item in counters if isinstance(counters, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            spoken = item.get("spoken_name")
            if spoken is not None and (not isinstance(spoken, str) or not spoken.strip()):
                raise VoiceSettingsError(f"counters: spoken_name of {item['id']} must be a non-empty text")
            names[item["id"]] = CounterName(item["id"], str(item.get("name") or item["id"]), spoken.strip() if spoken else None)
    return names


def _choice(t: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = t.get(key, default)
    if value not in allowed:
        raise VoiceSettingsError(f"voice.{key}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _whole(t: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise VoiceSettingsError(f"voice.{key}: must be a whole number from {low} to {high}, got {value!r}")
    return value


def _template(t: dict[str, Any], key: str) -> str:
    value = t.get(key, "")
    if not isinstance(value, str):
        raise VoiceSettingsError(f"voice.{key}: must be a text")
    try:
        names = {name for _, name, spec, conv in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise VoiceSettingsError(f"voice.{key}: {exc} (write {{ and }} as {{{{ and }}}})") from None
    unknown = names - PLACEHOLDERS
    if unknown:
        raise VoiceSettingsError(f"voice.{key}: unknown placeholder {{{sorted(unknown)[0]}}} (known: {', '.join(sorted('{' + p + '}' for p in PLACEHOLDERS))})")
    if value and "number" not in names:
        raise VoiceSettingsError(f"voice.{key}: must contain {{number}}")
    return value


def _build(t: dict[str, Any], counter_names: dict[str, CounterName], base: Path) -> VoiceSettings:
    letters = dict(LETTERS)
    extra = t.get("letters", {})
    if not isinstance(extra, dict) or not all(isinstance(k, str) and len(k) == 1 and isinstance(v, str) and v.strip() for k, v in extra.items()):
        raise VoiceSettingsError("voice.letters: must be a table of one letter = \"how it is said\", e.g. C = \"xê\"")
    letters.update({k.upper(): v.strip() for k, v in extra.items()})
    digits = t.get("digits", False)
    if not isinstance(digits, bool):
        raise VoiceSettingsError("voice.digits: must be true or false")
    try:
        reading = Reading(
            region=_choice(t, "region", REGIONS, "north"),  # type: ignore[arg-type]
            four=_choice(t, "four", ("tư", "bốn"), "tư"),
            five=_choice(t, "five", ("lăm", "nhăm"), "lăm"),
            digit_by_digit=digits,
            prefix_style=_choice(t, "prefix_style", PREFIX_STYLES, "digits"),  # type: ignore[arg-type]
            letters=letters,
        )
    except ValueError as exc:
        raise VoiceSettingsError(f"voice: {exc}") from None
    counters = t.get("counters", [])
    if not isinstance(counters, list) or not all(isinstance(c, str) for c in counters):
        raise VoiceSettingsError("voice.counters: must be a list of counter ids, e.g. [\"Q1\", \"Q2\"]")
    unknown = [c for c in counters if counter_names and c not in counter_names]
    if unknown:
        raise VoiceSettingsError(f"voice.counters: unknown counter {unknown[0]!r} (known: {', '.join(counter_names)})")
    chime = t.get("chime", True)
    if isinstance(chime, str) and chime.strip():
        chime = base / chime
    elif not isinstance(chime, bool):
        raise VoiceSettingsError("voice.chime: true (the built-in chime), false, or the path of a WAV file")
    clips = t.get("clips")
    if clips is not None and (not isinstance(clips, str) or not clips.strip()):
        raise VoiceSettingsError("voice.clips: must be the path of a clip directory")
    output = t.get("output", "speaker")
    if not isinstance(output, str) or not (output == "speaker" or (output.startswith("wav:") and len(output) > 4)):
        raise VoiceSettingsError(f"voice.output: \"speaker\" or \"wav:DIRECTORY\", got {output!r}")
    if output.startswith("wav:"):
        output = "wav:" + str(base / output[4:])
    age = t.get("max_age_seconds", 60)
    if isinstance(age, bool) or not isinstance(age, int | float) or not 1 <= age <= 3600:
        raise VoiceSettingsError(f"voice.max_age_seconds: must be a number of seconds from 1 to 3600, got {age!r}")
    espeak_voice = t.get("espeak_voice", "")
    if not isinstance(espeak_voice, str):
        raise VoiceSettingsError("voice.espeak_voice: must be an espeak-ng voice name such as \"vi\"")
    return VoiceSettings(
        reading=reading,
        call=_template(t, "call"),
        recall=_template(t, "recall"),
        repeat=_whole(t, "repeat", 2, 1, 5),
        repeat_pause_ms=_whole(t, "repeat_pause_ms", 700, 0, 5000),
        chime=chime,
        max_age_seconds=float(age),
        counters=tuple(counters),
        voice=_choice(t, "voice", VOICES, "auto"),
        clips=base / clips if clips else None,
        espeak_voice=espeak_voice,
        espeak_speed=_whole(t, "espeak_speed", 150, 80, 400),
        output=output,
        player=_choice(t, "player", ("auto", "aplay", "play"), "auto"),
        pause_ms=_whole(t, "pause_ms", 300, 0, 3000),
        stop_ms=_whole(t, "stop_ms", 450, 0, 3000),
        crossfade_ms=_whole(t, "crossfade_ms", 10, 0, 50),
        counter_names=counter_names,
    )
