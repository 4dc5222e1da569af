"""Mono 16-bit PCM in memory: WAV files in and out, trimming, gap-free joins, the chime.

Pure Python (the standard library's `wave` and `array`): a sentence is a few seconds of
22 kHz audio, and a voice box is a Raspberry Pi without numpy. Joins overlap neighbouring
clips by a short crossfade, so there is neither a gap nor a click where two clips meet.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

FULL_SCALE = 32767


class AudioFormatError(ValueError):
    """A WAV file the voice cannot use (not mono 16-bit PCM, or another sample rate)."""


@dataclass
class Audio:
    rate: int
    samples: array  # typecode "h": signed 16-bit, mono

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def to_bytes(self) -> bytes:
        return _le(self.samples).tobytes()


def _le(samples: array) -> array:
    """Samples in little-endian order, as WAV and raw S16_LE want them."""
    if sys.byteorder == "little":
        return samples
    swapped = array("h", samples)
    swapped.byteswap()
    return swapped


def read_wav(path: str | Path) -> Audio:
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise AudioFormatError(
                    f"{path}: {w.getnchannels()} channel(s), {8 * w.getsampwidth()}-bit; clips must be mono 16-bit PCM "
                    f"(convert: sox IN.wav -c 1 -b 16 -r {w.getframerate()} OUT.wav)")
            samples = array("h")
            samples.frombytes(w.readframes(w.getnframes()))
            return Audio(w.getframerate(), _le(samples))
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a PCM WAV file ({exc})") from None


def write_wav(path: str | Path, audio: Audio) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.rate)
        w.writeframes(audio.to_bytes())


def silence(rate: int, ms: float) -> Audio:
    return Audio(rate, array("h", bytes(2 * int(rate * ms / 1000))))


def peak(audio: Audio) -> int:
    return max((abs(s) for s in audio.samples), default=0)


def trim(audio: Audio, threshold: float = 0.02, margin_ms: float = 8) -> Audio:
    """Cut the silence a recording starts and ends with (below `threshold` of the clip's peak), keeping a
    few ms of margin so a soft onset is not clipped. A join of trimmed clips has no gap in it."""
    level = max(64, int(peak(audio) * threshold))
    s = audio.samples
    start = next((i for i, v in enumerate(s) if abs(v) > level), len(s))
    end = next((i for i in range(len(s) - 1, -1, -1) if abs(s[i]) > level), -1) + 1
    if start >= end:
        return Audio(audio.rate, array("h"))
    margin = int(audio.rate * margin_ms / 1000)
    return Audio(audio.rate, s[max(0, start - margin):min(len(s), end + margin)])


def fade(audio: Audio, in_ms: float = 0, out_ms: float = 0) -> Audio:
    s = array("h", audio.samples)
    for length, forward in ((int(audio.rate * in_ms / 1000), True), (int(audio.rate * out_ms / 1000), False)):
        length = min(length, len(s))
        for i in range(length):
            gain = i / length
            j = i if forward else len(s) - 1 - i
            s[j] = int(s[j] * gain)
    return Audio(audio.rate, s)


def crossfade_join(pieces: list[Audio], crossfade_ms: float) -> Audio:
    """Join clips end to start, each overlapping the next by `crossfade_ms` (equal-power curves):
    the result is sum(lengths) - (len(pieces) - 1) * overlap samples long."""
    if not pieces:
        raise ValueError("nothing to join")
    rate = pieces[0].rate
    for piece in pieces:
        if piece.rate != rate:
            raise AudioFormatError(f"clips at {rate} Hz and {piece.rate} Hz cannot be joined; record every clip at one rate")
    out = array("h", pieces[0].samples)
    for piece in pieces[1:]:
        n = min(int(rate * crossfade_ms / 1000), len(out), len(piece.samples))
        head = len(out) - n
        for i in range(n):
            t = (i + 0.5) / n
            mixed = out[head + i] * math.cos(t * math.pi / 2) + piece.samples[i] * math.sin(t * math.pi / 2)
            out[head + i] = max(-FULL_SCALE - 1, min(FULL_SCALE, int(mixed)))
        out.extend(piece.samples[n:])
    return Audio(rate, out)


def concat(pieces: list[Audio]) -> Audio:
    out = array("h")
    for piece in pieces:
        out.extend(piece.samples)
    return Audio(pieces[0].rate if pieces else 22050, out)


def resample(audio: Audio, rate: int) -> Audio:
    """Linear interpolation; good enough for a chime, not used for speech clips (those must match)."""
    if audio.rate == rate or not audio.samples:
        return Audio(rate, audio.samples)
    s = audio.samples
    count = int(len(s) * rate / audio.rate)
    step = audio.rate / rate
    out = array("h", bytes(2 * count))
    for i in range(count):
        x = i * step
        j = int(x)
        frac = x - j
        nxt = s[j + 1] if j + 1 < len(s) else s[j]
        out[i] = int(s[j] * (1 - frac) + nxt * frac)
    return Audio(rate, out)


def chime(rate: int, volume: float = 0.45) -> Audio:
    """A two-note "ding-dong" (E5 then C5, bell-like partials, decaying): the hall's cue to listen."""
    samples = array("h")
    for freq, length in ((659.25, 0.45), (523.25, 0.75)):
        count = int(rate * length)
        for i in range(count):
            t = i / rate
            # 5 ms attack and 15 ms release: neither note starts or stops with a click.
            envelope = math.exp(-4.0 * t) * min(1.0, t / 0.005, (count - i) / (0.015 * rate))
            value = (math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(4 * math.pi * freq * t)
                     + 0.12 * math.sin(6 * math.pi * freq * t)) / 1.47
            samples.append(int(FULL_SCALE * volume * envelope * value))
    return Audio(rate, samples)
