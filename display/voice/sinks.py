"""Where announcements go: the sound card, a directory of WAV files (tests, offices feeding a PA), or memory.

An announcement is one stream: `open(rate, label)`, then `write()` the chime, the sentence and
its repeats as they are ready, then `close()`, which returns once the sound has been played.
The chime is written before the sentence is rendered, so the hall hears the call at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
import wave
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from display.voice.audio import Audio


class SinkError(RuntimeError):
    """The audio output failed (no sound card, player missing, disk full)."""


class AudioStream(Protocol):
    def write(self, audio: Audio) -> None: ...

    def close(self) -> None: ...


class AudioSink(Protocol):
    description: str

    def open(self, rate: int, label: str) -> AudioStream: ...


PLAYERS = {
    "aplay": lambda rate: ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(rate), "-"],
    "play": lambda rate: ["play", "-q", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", str(rate), "-"],
}


class _PlayerStream:
    def __init__(self, argv: list[str]) -> None:
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as exc:
            raise SinkError(f"cannot start {argv[0]}: {exc}") from None
        self.seconds = 0.0

    def write(self, audio: Audio) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(audio.to_bytes())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SinkError(f"the player stopped: {self._stderr()}") from None
        self.seconds += audio.seconds

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=self.seconds + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SinkError("the player hung") from None
        if code != 0:
            raise SinkError(f"the player failed ({code}): {self._stderr()}")

    def _stderr(self) -> str:
        try:
            return (self.proc.stderr.read() if self.proc.stderr else b"").decode(errors="replace").strip()[:200]
        except (OSError, ValueError):
            return ""


class SpeakerSink:
    """The sound card, through ALSA's aplay or sox's play (whichever is installed, or as configured)."""

    def __init__(self, player: str = "auto") -> None:
        names = ("aplay", "play") if player == "auto" else (player,)
        found = next((n for n in names if shutil.which(n)), None)
        if found is None:
            raise SinkError(f"no audio player found ({' or '.join(names)}); apt install alsa-utils or sox")
        self.player = found
        self.description = f"speaker ({found})"

    def open(self, rate: int, label: str) -> AudioStream:
        return _PlayerStream(PLAYERS[self.player](rate))


class _WavStream:
    def __init__(self, final: Path, rate: int) -> None:
        self.final = final
        self.partial = final.with_suffix(".wav.part")  # a PA feeder picking up *.wav never sees half a file
        try:
            self.w = wave.open(str(self.partial), "wb")  # noqa: SIM115 - closed in close()
            self.w.setnchannels(1)
            self.w.setsampwidth(2)
            self.w.setframerate(rate)
        except OSError as exc:
            raise SinkError(f"cannot write {self.partial}: {exc}") from None

    def write(self, audio: Audio) -> None:
        try:
            self.w.writeframes(audio.to_bytes())
        except OSError as exc:
            raise SinkError(f"cannot write {self.partial}: {exc}") from None

    def close(self) -> None:
        try:
            self.w.close()
            os.replace(self.partial, self.final)
        except OSError as exc:
            raise SinkError(f"cannot write {self.final}: {exc}") from None


class WavDirSink:
    """One WAV file per announcement, named by time and label: 20261123-081502-123_1023_Q3.wav."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.description = f"WAV files in {self.directory}"
        self.written: list[Path] = []

    def open(self, rate: int, label: str) -> AudioStream:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
        path = self.directory / f"{stamp}_{safe}.wav"
        self.written.append(path)
        return _WavStream(path, rate)


class FileSink:
    """Exactly one WAV file (for `motcua announce --wav FILE`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"WAV file {self.path}"

    def open(self, rate: int, label: str) -> AudioStream:
        return _WavStream(self.path, rate)


@dataclass
class Played:
    label: str
    rate: int
    chunks: list[Audio] = field(default_factory=list)
    first_write: float | None = None   # time.perf_counter() of the first write: the benchmark's end point
    closed: bool = False

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.chunks)


class MemorySink:
    """The fake: keeps every announcement in memory (`--simulate`, tests, benchmarks).

    `gate`, when given, is waited on before each write: a test holds an announcement "playing"
    as long as it likes, to see what queues up behind it.
    """

    description = "memory (simulated)"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.played: list[Played] = []
        self.gate = gate
        self.changed = threading.Condition()

    def open(self, rate: int, label: str) -> AudioStream:
        item = Played(label, rate)
        with self.changed:
            self.played.append(item)
            self.changed.notify_all()
        sink = self

        class _Stream:
            def write(self, audio: Audio) -> None:
                if sink.gate is not None:
                    sink.gate.wait()
                with sink.changed:
                    if item.first_write is None:
                        item.first_write = time.perf_counter()
                    item.chunks.append(audio)
                    sink.changed.notify_all()

            def close(self) -> None:
                with sink.changed:
                    item.closed = True
                    sink.changed.notify_all()

        return _Stream()

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.played), timeout)


def make_sink(output: str, player: str = "auto") -> AudioSink:
    if output == "speaker":
        return SpeakerSink(player)
    if output == "memory":
        return MemorySink()
    if output == "null":
        return NullSink()
    if output.startswith("wav:"):
        return WavDirSink(output[4:])
    raise ValueError(f"unknown output {output!r}: speaker, wav:DIRECTORY, memory or null")


class NullSink:
    """Discards the sound (`--simulate`: the announcements are logged, not played)."""

    description = "nothing (simulated)"

    def open(self, rate: int, label: str) -> AudioStream:
        class _Stream:
            def write(self, audio: Audio) -> None:
                pass

            def close(self) -> None:
                pass

        return _Stream()
