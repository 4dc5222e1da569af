"""The clips an office records: every phrase of its templates, every number word, every letter name.

`motcua voice-clips list` prints this list with the file name of each clip; `voice-clips demo DIR`
makes the demo set from it with espeak-ng (clearly marked, so nobody mistakes it for a real voice).
"""

from __future__ import annotations

import re
import shutil
import string
import subprocess
from pathlib import Path

from display.voice.clips import MANIFEST, telex
from display.voice.settings import ESPEAK_VOICES, VoiceSettings
from motcua import i18n
from motcua.speech import UNITS, speakable

# Every word a number can be read with, in both regional settings.
NUMBER_WORDS = (*UNITS, "mười", "mươi", "mốt", "tư", "lăm", "nhăm", "trăm", "nghìn", "ngàn", "linh", "lẻ", "triệu", "tỷ")


def template_phrases(template: str) -> list[str]:
    """The fixed phrases of a template, split at placeholders and punctuation: one clip each."""
    phrases = []
    for literal, *_ in string.Formatter().parse(template):
        for part in re.split(r"[,;:.!?]", literal):
            words = " ".join(re.findall(r"[^\W\d_]+", part.lower()))
            if words:
                phrases.append(words)
    return phrases


def clip_texts(settings: VoiceSettings, prefixes: tuple[str, ...] = ()) -> list[str]:
    """Everything the office's voice may say, as the texts of the clips to record, without repeats."""
    texts = template_phrases(settings.call_template) + template_phrases(settings.recall_template)
    texts += template_phrases(i18n.text("voice.counter", n="{n}"))
    for name in settings.counter_names.values():
        if name.spoken_name:
            texts += template_phrases(speakable(name.spoken_name, settings.reading))
    texts += list(NUMBER_WORDS)
    letters = prefixes or tuple(settings.reading.letters)
    texts += [settings.reading.letters[ch] for ch in letters if ch in settings.reading.letters]
    return list(dict.fromkeys(texts))


def clip_list(settings: VoiceSettings, prefixes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(text, file name) of every clip."""
    return [(text, telex(text) + ".wav") for text in clip_texts(settings, prefixes)]


DEMO_README = """DEMO CLIP SET - made by `motcua voice-clips demo` with espeak-ng ({voice}), not a recorded voice.

It exists so the clip joiner is exercised out of the box. An office replaces it with clips
recorded by a real person: same file names, mono 16-bit PCM WAV, one sample rate for all
(docs/voice.md lists the phrases). Delete clips.toml's `demo = true` line when you do.
"""


def make_demo_clips(directory: str | Path, settings: VoiceSettings, timeout: float = 10.0) -> list[Path]:
    """Write one espeak-ng clip per text into `directory`, plus clips.toml marking the set as a demo."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise FileNotFoundError("espeak-ng is not installed (apt install espeak-ng)")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    voice = settings.espeak_voice or ESPEAK_VOICES[settings.reading.region]
    written = []
    for text, name in clip_list(settings):
        path = out / name
        subprocess.run([binary, "-v", voice, "-s", str(settings.espeak_speed), "-w", str(path), "--", text],
                       check=True, capture_output=True, timeout=timeout)
        written.append(path)
    (out / MANIFEST).write_text(
        "# DEMO clip set made with espeak-ng: not a recorded voice. See README.txt.\n"
        "demo = true\n\n[files]\n# \"text as said\" = \"file.wav\"   (only for files not named by their Telex spelling)\n",
        encoding="utf-8")
    (out / "README.txt").write_text(DEMO_README.format(voice=voice), encoding="utf-8")
    return written
