"""Voices behind one small interface: `rate()`, `can_say(sentence)`, `render(sentence) -> Audio`.

- ClipVoice (display/voice/clips.py): an office's recorded clips; the natural, preferred voice.
- EspeakVoice: `espeak-ng -v vi -w FILE TEXT` in a subprocess with a timeout; works out of the
  box on Debian (`apt install espeak-ng`) and says anything, so it is the fallback.
- Pyttsx3Voice: the optional pyttsx3 driver (extra `motcua[pyttsx3]`), same engine underneath.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Protocol

from display.voice.audio import Audio, read_wav
from display.voice.clips import ClipVoice, MissingClips
from display.voice.sentence import Sentence
from display.voice.settings import VoiceSettings

log = logging.getLogger(__name__)


class VoiceError(RuntimeError):
    """A voice could not speak (engine missing, timed out, wrote nothing)."""


class Voice(Protocol):
    name: str

    def rate(self) -> int: ...

    def can_say(self, sentence: Sentence) -> bool: ...

    def render(self, sentence: Sentence) -> Audio: ...


class EspeakVoice:
    name = "espeak-ng"

    def __init__(self, voice: str = "vi", speed: int = 150, timeout: float = 10.0, binary: str | None = None) -> None:
        self.voice, self.speed, self.timeout = voice, speed, timeout
        self.binary = binary or shutil.which("espeak-ng")
        self._rate: int | None = None

    def can_say(self, sentence: Sentence) -> bool:
        return self.binary is not None

    def rate(self) -> int:
        if self._rate is None:
            self._rate = self.render(Sentence("a", ("a",))).rate
        return self._rate

    def render(self, sentence: Sentence) -> Audio:
        if self.binary is None:
            raise VoiceError("espeak-ng is not installed (apt install espeak-ng)")
        with tempfile.TemporaryDirectory(prefix="motcua-espeak-") as tmp:
            out = Path(tmp) / "say.wav"
            try:
                done = subprocess.run([self.binary, "-v", self.voice, "-s", str(self.speed), "-w", str(out), "--", sentence.text],
                                      capture_output=True, timeout=self.timeout, check=False)
            except subprocess.TimeoutExpired:
                raise VoiceError(f"espeak-ng did not finish in {self.timeout:g} s") from None
            if done.returncode != 0 or not out.exists():
                raise VoiceError(f"espeak-ng failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()[:200]}")
            audio = read_wav(out)
        self._rate = audio.rate
        return audio


class Pyttsx3Voice:
    """pyttsx3's espeak driver. Its save_to_file can return before the file is written (RECIPES):
    wait for a complete WAV with a deadline instead of trusting runAndWait()."""

    name = "pyttsx3"

    def __init__(self, voice: str = "vi", speed: int = 150, timeout: float = 10.0) -> None:
        import pyttsx3  # optional extra: motcua[pyttsx3]

        self.engine = pyttsx3.init("espeak")
        ids = [v.id for v in self.engine.getProperty("voices")]
        chosen = next((i for i in ids if i == voice or i.endswith("/" + voice)), None)
        if chosen is None:
            raise VoiceError(f"pyttsx3 has no voice {voice!r}")
        self.engine.setProperty("voice", chosen)
        self.engine.setProperty("rate", speed)
        self.timeout = timeout
        self._lock = threading.Lock()  # one engine, one utterance at a time
        self._rate: int | None = None

    def can_say(self, sentence: Sentence) -> bool:
        return True

    def rate(self) -> int:
        if self._rate is None:
            self._rate = self.render(Sentence("a", ("a",))).rate
        return self._rate

    def render(self, sentence: Sentence) -> Audio:
        with self._lock, tempfile.TemporaryDirectory(prefix="motcua-pyttsx3-") as tmp:
            out = Path(tmp) / "say.wav"
            self.engine.save_to_file(sentence.text, str(out))
            self.engine.runAndWait()
            deadline = time.monotonic() + self.timeout
            last = -1
            while time.monotonic() < deadline:
                size = out.stat().st_size if out.exists() else 0
                if size > 44 and size == last:
                    break
                last = size
                time.sleep(0.05)
            else:
                raise VoiceError(f"pyttsx3 wrote no audio in {self.timeout:g} s")
            audio = read_wav(out)
        self._rate = audio.rate
        return audio


class Voices:
    """The preferred voice and the fallback: a sentence the clips cannot say is spoken by espeak-ng."""

    def __init__(self, preferred: Voice | None, fallback: Voice) -> None:
        self.preferred = preferred
        self.fallback = fallback
        self._warned: set[str] = set()

    def for_sentence(self, sentence: Sentence) -> Voice:
        if self.preferred is None:
            return self.fallback
        if isinstance(self.preferred, ClipVoice):
            try:
                self.preferred.plan(sentence)
                return self.preferred
            except MissingClips as exc:
                new = [w for w in exc.words if w not in self._warned]
                if new:
                    self._warned.update(new)
                    log.warning("no clip for %s in %s: this sentence is spoken by %s", ", ".join(new),
                                self.preferred.directory, self.fallback.name)
                return self.fallback
        return self.preferred if self.preferred.can_say(sentence) else self.fallback


def make_voices(settings: VoiceSettings) -> Voices:
    espeak = EspeakVoice(settings.espeak, settings.espeak_speed)
    choice = settings.voice
    if choice == "espeak":
        return Voices(None, espeak)
    if choice == "pyttsx3":
        return Voices(Pyttsx3Voice(settings.espeak, settings.espeak_speed), espeak)
    if settings.clips is None or not settings.clips.is_dir():
        if choice == "clips":
            raise FileNotFoundError(f"voice = \"clips\" but the clip directory {settings.clips} does not exist")
        return Voices(None, espeak)
    clips = ClipVoice(settings.clips, settings.crossfade_ms, settings.pause_ms, settings.stop_ms)
    if clips.demo:
        log.warning("%s is the DEMO clip set made with espeak-ng, not a recorded voice (docs/voice.md)", settings.clips)
    return Voices(clips, espeak)
