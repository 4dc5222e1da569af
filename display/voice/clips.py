"""Recorded clips: an office's own voice, phrases and number words joined without gaps or clicks.

A clip directory holds one mono 16-bit PCM WAV per phrase or word, all at one sample rate,
named by the Telex spelling of its text (the way every Vietnamese typist writes without
diacritics: "mười" -> muwowif.wav, "xin mời công dân có số thứ tự" ->
xin-mowif-coong-daan-cos-soos-thuws-tuwj.wav); an optional clips.toml maps texts to other file
names. A sentence is covered greedily by the longest recorded phrases, so an office may
record "xin mời công dân có số thứ tự" in one breath and the numbers word by word.
See docs/voice.md for the list of clips an office records.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

from display.voice.audio import Audio, AudioFormatError, concat, crossfade_join, fade, read_wav, silence, trim
from display.voice.sentence import PAUSE, STOP, Sentence

MANIFEST = "clips.toml"
MAX_PHRASE_WORDS = 10

_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_SHAPES = {"\u0302": lambda b: b + b, "\u0306": lambda b: b + "w", "\u031b": lambda b: b + "w"}


def telex(text: str) -> str:
    """The Telex spelling of a text, words joined by '-': "quầy số" -> "quaayf-soos"."""
    words = []
    for word in unicodedata.normalize("NFC", text).lower().split():
        letters, tone = [], ""
        for ch in word:
            if ch == "đ":
                letters.append("dd")
                continue
            base, *marks = unicodedata.normalize("NFD", ch)
            for mark in marks:
                if mark in _TONES:
                    tone = _TONES[mark]
                elif mark in _SHAPES:
                    base = _SHAPES[mark](base)
            letters.append(base)
        words.append("".join(letters) + tone)
    return "-".join(w for w in ("".join(c for c in w if c.isascii() and (c.isalnum())) for w in words) if w)


class MissingClips(LookupError):
    """The clip directory cannot say these words; the caller falls back to espeak-ng."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(", ".join(words))
        self.words = words


class ClipVoice:
    """The preferred voice: an office's recorded clips (or the demo set made with espeak-ng)."""

    name = "clips"

    def __init__(self, directory: str | Path, crossfade_ms: float = 10, pause_ms: float = 300, stop_ms: float = 450) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"clip directory {self.directory} does not exist")
        self.crossfade_ms, self.pause_ms, self.stop_ms = crossfade_ms, pause_ms, stop_ms
        self.files = {p.stem.lower(): p for p in self.directory.glob("*.wav")}
        self.named: dict[str, Path] = {}
        self.demo = False
        manifest = self.directory / MANIFEST
        if manifest.exists():
            try:
                data = tomllib.loads(manifest.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise AudioFormatError(f"{manifest}: not valid TOML: {exc}") from None
            self.demo = data.get("demo") is True
            for text, file in (data.get("files") or {}).items():
                self.named[_key(text)] = self.directory / str(file)
        self._cache: dict[Path, Audio] = {}
        self._rate: int | None = None

    def path_for(self, text: str) -> Path | None:
        key = _key(text)
        if key in self.named:
            return self.named[key]
        return self.files.get(telex(key)) or self.files.get(key.replace(" ", "-"))

    def plan(self, sentence: Sentence) -> list[Path | str]:
        """Clip files and pause marks that say the sentence, longest phrases first; MissingClips if it cannot."""
        tokens, out, missing, i = sentence.tokens, [], [], 0
        while i < len(tokens):
            if tokens[i] in (PAUSE, STOP):
                out.append(tokens[i])
                i += 1
                continue
            end = i
            while end < len(tokens) and end - i < MAX_PHRASE_WORDS and tokens[end] not in (PAUSE, STOP):
                end += 1
            for j in range(end, i, -1):
                path = self.path_for(" ".join(tokens[i:j]))
                if path is not None and path.exists():
                    out.append(path)
                    i = j
                    break
            else:
                missing.append(tokens[i])
                i += 1
        if missing:
            raise MissingClips(list(dict.fromkeys(missing)))
        return out

    def can_say(self, sentence: Sentence) -> bool:
        try:
            self.plan(sentence)
        except MissingClips:
            return False
        return True

    def clip(self, path: Path) -> Audio:
        if path not in self._cache:
            audio = trim(read_wav(path))
            if self._rate is None:
                self._rate = audio.rate
            elif audio.rate != self._rate:
                raise AudioFormatError(f"{path}: {audio.rate} Hz, other clips are {self._rate} Hz; record every clip at one rate")
            if not audio.samples:
                raise AudioFormatError(f"{path}: silent clip")
            self._cache[path] = audio
        return self._cache[path]

    def rate(self) -> int:
        if self._rate is None:
            first = next(iter(sorted(self.files.values())), None)
            if first is None:
                raise AudioFormatError(f"{self.directory}: no clips")
            self.clip(first)
        assert self._rate is not None
        return self._rate

    def render(self, sentence: Sentence) -> Audio:
        rate = self.rate()
        pieces: list[Audio] = []
        run: list[Audio] = []

        def flush() -> None:
            if run:
                # Fades at the edges of a run: it starts and ends on zero, so a pause never clicks.
                pieces.append(fade(crossfade_join(run, self.crossfade_ms), in_ms=3, out_ms=3))
                run.clear()

        for item in self.plan(sentence):
            if isinstance(item, Path):
                run.append(self.clip(item))
            else:
                flush()
                pieces.append(silence(rate, self.pause_ms if item == PAUSE else self.stop_ms))
        flush()
        return concat(pieces)


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())
