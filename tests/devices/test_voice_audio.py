"""Voices and audio against the real parts: espeak-ng writing WAVs, sox measuring them, clips joined."""

from __future__ import annotations

import math
import re
import subprocess
from array import array
from pathlib import Path

import pytest

from display.payloads import Call
from display.voice import audio as a
from display.voice.caller import Announcer
from display.voice.clips import ClipVoice, MissingClips, telex
from display.voice.phrases import clip_list, make_demo_clips
from display.voice.sentence import Sentence, build, tokens_of
from display.voice.settings import load_voice_settings
from display.voice.sinks import MemorySink
from display.voice.voices import EspeakVoice, Pyttsx3Voice, Voices
from tests.conftest import EXAMPLE_CONFIG

RATE = 22050


def sox_stat(path: Path) -> dict[str, float]:
    """`sox FILE -n stat`, as a technician would measure a WAV."""
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return {m[1].strip(): float(m[2]) for m in re.finditer(r"^([A-Za-z ()]+):\s+(-?[\d.]+)", out, re.M)}


def tone(seconds: float, freq: float = 440.0, amp: int = 10000, phase: float = 0.0, pad: float = 0.0) -> a.Audio:
    pad_n = int(RATE * pad)
    samples = array("h", bytes(2 * pad_n))
    samples.extend(int(amp * math.sin(2 * math.pi * freq * i / RATE + phase)) for i in range(int(RATE * seconds)))
    samples.extend(array("h", bytes(2 * pad_n)))
    return a.Audio(RATE, samples)


def quiet_runs_ms(samples: array, level: int = 200) -> list[float]:
    runs, current = [], 0
    for s in samples:
        if abs(s) < level:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    return [1000 * r / RATE for r in [*runs, current]]


def max_step(samples: array) -> int:
    return max(abs(samples[i + 1] - samples[i]) for i in range(len(samples) - 1))


@pytest.fixture(scope="module")
def settings():
    return load_voice_settings(EXAMPLE_CONFIG, "loa-01")


@pytest.fixture(scope="module")
def demo_clips(tmp_path_factory, settings) -> Path:
    directory = tmp_path_factory.mktemp("demo-clips")
    make_demo_clips(directory, settings)
    return directory


def test_clips_are_joined_without_gaps_to_the_expected_length(tmp_path):
    # Recordings padded with 120 ms of silence each, as a person records them.
    for word, freq in (("một", 440.0), ("hai", 550.0), ("ba", 660.0)):
        a.write_wav(tmp_path / f"{telex(word)}.wav", tone(0.3, freq, pad=0.12))
    voice = ClipVoice(tmp_path, crossfade_ms=10, pause_ms=300, stop_ms=450)
    out = voice.render(Sentence("Một hai, ba.", tokens_of("Một hai, ba.")))
    trimmed = {w: len(voice.clip(tmp_path / f"{telex(w)}.wav").samples) for w in ("một", "hai", "ba")}
    assert all(n < RATE * 0.33 for n in trimmed.values())  # the padding was cut
    overlap = int(RATE * 0.010)
    expected = trimmed["một"] + trimmed["hai"] - overlap + int(RATE * 0.3) + trimmed["ba"] + int(RATE * 0.45)
    assert len(out.samples) == expected
    speech = out.samples[:trimmed["một"] + trimmed["hai"] - overlap]
    assert max(quiet_runs_ms(speech)) < 20  # no gap where "một" meets "hai" (only the few ms of kept margin)
    a.write_wav(tmp_path / "joined.wav", out)
    stat = sox_stat(tmp_path / "joined.wav")
    assert stat["Length (seconds)"] == pytest.approx(expected / RATE, abs=0.001)


def test_a_join_has_no_click_even_between_clips_that_end_loud(tmp_path):
    # "up" ends at +peak, "down" starts at -peak: butted together they would click (a 20000 step).
    a.write_wav(tmp_path / "up.wav", tone(0.2, 440, phase=math.pi / 2 - 2 * math.pi * 440 * (0.2 - 1 / RATE)))
    a.write_wav(tmp_path / "down.wav", tone(0.2, 440, phase=-math.pi / 2))
    pieces = [a.read_wav(tmp_path / "up.wav"), a.read_wav(tmp_path / "down.wav")]
    assert max_step(a.concat(pieces).samples) > 15000
    joined = a.crossfade_join(pieces, crossfade_ms=10)
    assert max_step(joined.samples) < 2500  # a 440 Hz tone of 10000 moves up to ~1250 per sample by itself
    assert len(joined.samples) == len(pieces[0].samples) + len(pieces[1].samples) - int(RATE * 0.010)


def test_the_demo_clip_set_says_the_default_sentence_gap_free(demo_clips, settings, tmp_path):
    assert "demo = true" in (demo_clips / "clips.toml").read_text()
    assert len(list(demo_clips.glob("*.wav"))) == len(clip_list(settings))
    voice = ClipVoice(demo_clips, settings.crossfade_ms, settings.pause_ms, settings.stop_ms)
    assert voice.demo
    sentence = build(Call("1023", "Q3", "Quầy 3"), settings.call_template, settings.reading, settings.counter_names)
    plan = voice.plan(sentence)
    assert plan[0].name == "xin-mowif-coong-daan-cos-soos-thuws-tuwj.wav"  # the whole phrase, not word by word
    out = voice.render(sentence)
    # Expected length: the trimmed clips, less one crossfade per join inside a run, plus exact pauses.
    overlap = int(voice.rate() * settings.crossfade_ms / 1000)
    expected, run = 0, 0
    for item in [*plan, "end"]:
        if isinstance(item, Path):
            expected += len(voice.clip(item).samples)
            run += 1
            continue
        expected -= max(0, run - 1) * overlap
        run = 0
        if item != "end":
            expected += int(voice.rate() * (settings.pause_ms if item == "," else settings.stop_ms) / 1000)
    assert len(out.samples) == expected
    path = tmp_path / "demo.wav"
    a.write_wav(path, out)
    stat = sox_stat(path)
    assert stat["RMS     amplitude"] > 0.02 and stat["Length (seconds)"] > 3


def test_clips_that_cannot_say_a_word_name_it(demo_clips, settings):
    voice = ClipVoice(demo_clips)
    with pytest.raises(MissingClips) as missing:
        voice.plan(Sentence("Mời số một đến phòng họp.", tokens_of("Mời số một đến phòng họp.")))
    assert "phòng" in missing.value.words and "họp" in missing.value.words


def test_espeak_ng_writes_a_non_silent_vietnamese_wav(tmp_path, settings):
    sentence = build(Call("1023", "Q3", "Quầy 3"), settings.call_template, settings.reading, settings.counter_names)
    out = EspeakVoice("vi").render(sentence)
    path = tmp_path / "espeak.wav"
    a.write_wav(path, out)
    stat = sox_stat(path)
    assert stat["Length (seconds)"] > 3.0
    assert stat["RMS     amplitude"] > 0.02


def test_the_pyttsx3_driver_speaks_too(tmp_path):
    out = Pyttsx3Voice("vi").render(Sentence("Xin mời công dân", tokens_of("Xin mời công dân")))
    path = tmp_path / "pyttsx3.wav"
    a.write_wav(path, out)
    assert sox_stat(path)["RMS     amplitude"] > 0.02


def test_the_chime_starts_and_ends_silent_and_never_clicks():
    chime = a.chime(RATE)
    s = chime.samples
    second_note = int(RATE * 0.45)
    # Each note fades in and out: the samples where a note starts or stops are all near zero.
    for edge in (0, second_note, len(s)):
        assert max(abs(v) for v in s[max(0, edge - 4):edge + 4]) < 300, edge
    # And nowhere a jump a smooth bell tone cannot make (its second difference stays near A * w^2, ~1250 here).
    assert max(abs(s[i + 1] - 2 * s[i] + s[i - 1]) for i in range(1, len(s) - 1)) < 1800
    assert 1.0 < chime.seconds < 1.5


def test_an_announcement_is_chime_first_then_the_sentence_as_often_as_configured(settings, demo_clips):
    from dataclasses import replace

    sink = MemorySink()
    s = replace(settings, clips=demo_clips)
    announcer = Announcer(s, Voices(ClipVoice(demo_clips), EspeakVoice(s.espeak)), sink)
    done = announcer.announce(Call("1023", "Q3", "Quầy 3"))
    assert done.voice == "clips"
    chunks = sink.played[0].chunks
    assert len(chunks) == 1 + 2 * s.repeat - 1  # chime, sentence, pause, sentence
    assert chunks[0].samples[:100] == a.chime(chunks[0].rate).samples[:100]
    assert chunks[1].samples == chunks[3].samples and len(chunks[1].samples) > RATE
    # A sentence the clips cannot say (a word never recorded) is spoken by espeak-ng instead.
    odd = replace(s, call="Mời số {number} đến phòng họp.")
    done = Announcer(odd, Voices(ClipVoice(demo_clips), EspeakVoice(s.espeak)), sink).announce(Call("7", "Q3", "Quầy 3"))
    assert done.voice == "espeak-ng"


def test_a_failing_sound_card_is_reported_and_the_caller_keeps_going(monkeypatch, settings):
    import shutil
    from dataclasses import replace

    from display.voice.sinks import SinkError, SpeakerSink

    assert shutil.which("play"), "sox's play is needed (apt install sox)"
    monkeypatch.setenv("AUDIODEV", "motcua-no-such-device")  # a sound card that is not there, on any machine
    states: list[tuple[str, str | None]] = []
    s = replace(settings, repeat=1)
    announcer = Announcer(s, Voices(None, EspeakVoice(s.espeak)), SpeakerSink("play"), on_status=lambda *st: states.append(st))
    announcer.start()
    try:
        with pytest.raises(SinkError, match="player"):
            announcer.announce(Call("1001", "Q1", "Quầy 1"))
        assert announcer.submit(Call("1002", "Q1", "Quầy 1", calls=1))
        assert announcer.idle.wait(20)
        assert states[0] == ("ok", None) and states[-1][0] == "error" and "player" in (states[-1][1] or "")
        announcer.sink = MemorySink()  # the technician plugs the speaker back in
        assert announcer.submit(Call("1003", "Q1", "Quầy 1"))
        assert announcer.idle.wait(20)
        assert states[-1] == ("ok", None) and [a.call.number for a in announcer.announced] == ["1003"]
    finally:
        announcer.stop()
