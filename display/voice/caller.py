"""The announcer: one call at a time, in the order they came, a chime then the sentence, stale calls dropped.

Calls arrive on paho's thread and wait in a FIFO; one worker speaks them, so two announcements
never overlap and a burst is spoken in order. A call older than `max_age_seconds` when its turn
comes is dropped: the citizen has already seen it on the TV, and a late "mời số 1023" after
three other numbers only confuses the hall.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from display.payloads import Call, CounterName
from display.voice import audio as a
from display.voice.sentence import Sentence, build, merge_names
from display.voice.settings import VoiceSettings
from display.voice.sinks import AudioSink, SinkError
from display.voice.voices import Voice, VoiceError, Voices
from motcua.clock import Clock, SystemClock

log = logging.getLogger(__name__)

StatusCallback = Callable[[str, str | None], None]
_STOP = object()


@dataclass(frozen=True)
class Stamp:
    received: float   # clock.monotonic() when the call arrived
    late: float       # seconds it was already late on arrival (see CallAge)


class CallAge:
    """How old a call is, whether or not this box's clock agrees with the server's.

    A call's age is the time since it arrived (monotonic, immune to clock changes) plus how late it
    arrived. "Late" compares the server's `at` with this box's clock, minus the smallest such
    difference seen in the last `window` seconds: that minimum is the clock skew plus the usual
    delivery time, so a Raspberry Pi without a real-time clock or NTP still detects a backlog of old
    calls a broker delivers after an outage. A jump of the wall clock (NTP setting it) resets it.
    """

    def __init__(self, clock: Clock, window: float = 600.0) -> None:
        self.clock = clock
        self.window = window
        self._offsets: deque[tuple[float, float]] = deque()
        self._wall_minus_mono: float | None = None

    def stamp(self, call: Call) -> Stamp:
        mono, wall = self.clock.monotonic(), self.clock.now()
        drift = wall.timestamp() - mono
        if self._wall_minus_mono is not None and abs(drift - self._wall_minus_mono) > 2.0:
            self._offsets.clear()  # the wall clock was set: old offsets mean nothing now
        self._wall_minus_mono = drift
        if call.at is None:
            return Stamp(mono, 0.0)
        offset = (wall - call.at).total_seconds()
        while self._offsets and self._offsets[0][0] < mono - self.window:
            self._offsets.popleft()
        self._offsets.append((mono, offset))
        skew = min(o for _, o in self._offsets)
        return Stamp(mono, max(0.0, offset - skew))

    def age(self, stamp: Stamp) -> float:
        return self.clock.monotonic() - stamp.received + stamp.late


@dataclass
class Announcement:
    call: Call
    sentence: Sentence
    voice: str
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0


class Announcer:
    def __init__(self, settings: VoiceSettings, voices: Voices, sink: AudioSink, clock: Clock | None = None,
                 on_status: StatusCallback | None = None) -> None:
        self.settings = settings
        self.voices = voices
        self.sink = sink
        self.clock = clock or SystemClock()
        self.ages = CallAge(self.clock)
        self.on_status = on_status or (lambda state, detail: None)
        self.names: dict[str, CounterName] = dict(settings.counter_names)
        self.announced: list[Announcement] = []
        self.dropped: list[tuple[Call, float]] = []
        self.inbox: queue.Queue = queue.Queue()
        self._seen: deque[tuple] = deque(maxlen=256)
        self._chimes: dict[int, a.Audio] = {}
        self._worker: threading.Thread | None = None
        self.idle = threading.Event()
        self.idle.set()
        self._state: tuple[str, str | None] | None = None

    # --- what the MQTT side calls --------------------------------------------------

    def update_names(self, published: dict[str, CounterName]) -> None:
        self.names = merge_names(self.settings.counter_names, published)

    def submit(self, call: Call) -> bool:
        """Queue a call for announcement; False if this box does not serve its counter or it is a duplicate."""
        if not self.settings.serves(call.counter):
            return False
        if call.key in self._seen:  # a QoS 1 redelivery
            return False
        self._seen.append(call.key)
        self.idle.clear()
        self.inbox.put((call, self.ages.stamp(call)))
        return True

    def start(self) -> None:
        self.warm_up()
        self._worker = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self.inbox.put(_STOP)
        if self._worker:
            self._worker.join(30)

    def warm_up(self) -> None:
        """Find each voice's sample rate and build the chime now, so the first call is as quick as the others."""
        try:
            for voice in (self.voices.preferred, self.voices.fallback):
                if voice is not None:
                    self._chime(voice.rate())
        except (VoiceError, a.AudioFormatError, OSError) as exc:
            self._report("error", f"voice: {exc}")
            return
        self._report("ok", None)

    # --- the worker --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self.inbox.get()
            if item is _STOP:
                return
            call, stamp = item
            age = self.ages.age(stamp)
            if age > self.settings.max_age_seconds:
                log.warning("dropped the call of %s to %s: %.0f s old (max_age_seconds = %g)", call.number, call.counter,
                            age, self.settings.max_age_seconds)
                self.dropped.append((call, age))
            else:
                try:
                    self.announce(call)
                except (SinkError, VoiceError, a.AudioFormatError, OSError) as exc:
                    log.error("could not announce %s: %s", call.number, exc)
                    self._report("error", str(exc))
            if self.inbox.empty():
                self.idle.set()

    def sentence(self, call: Call) -> Sentence:
        template = self.settings.recall_template if call.recall else self.settings.call_template
        return build(call, template, self.settings.reading, self.names)

    def announce(self, call: Call) -> Announcement:
        """Speak one call now (blocking until it has been played): chime, sentence, repeats."""
        sentence = self.sentence(call)
        voice = self.voices.for_sentence(sentence)
        rate = voice.rate()
        done = Announcement(call, sentence, voice.name)
        stream = self.sink.open(rate, f"{call.number}_{call.counter}{'_recall' if call.recall else ''}")
        try:
            if self.settings.chime is not False:
                stream.write(self._chime(rate))  # first, before rendering: the hall hears the call at once
            speech = self._render(voice, sentence, rate)
            for i in range(self.settings.repeat):
                if i:
                    stream.write(a.silence(rate, self.settings.repeat_pause_ms))
                stream.write(speech)
        finally:
            stream.close()
        done.seconds = time.perf_counter() - done.started
        self.announced.append(done)
        log.info("announced %s (%s): %s", call.number, voice.name, sentence.text)
        self._report("ok", None)
        return done

    def _render(self, voice: Voice, sentence: Sentence, rate: int) -> a.Audio:
        try:
            speech = voice.render(sentence)
        except (a.AudioFormatError, VoiceError, OSError) as exc:
            if voice is self.voices.fallback:
                raise
            log.error("%s failed (%s); falling back to %s", voice.name, exc, self.voices.fallback.name)
            speech = self.voices.fallback.render(sentence)
        return speech if speech.rate == rate else a.resample(speech, rate)

    def _chime(self, rate: int) -> a.Audio:
        if rate not in self._chimes:
            chime = self.settings.chime
            sound = a.resample(a.read_wav(chime), rate) if not isinstance(chime, bool) else a.chime(rate)
            self._chimes[rate] = a.concat([sound, a.silence(rate, 250)])
        return self._chimes[rate]

    def _report(self, state: str, detail: str | None) -> None:
        if self._state != (state, detail):
            self._state = (state, detail)
            self.on_status(state, detail)
