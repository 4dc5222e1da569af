"""Waiting-room devices benchmark: how fast a call reaches the loudspeaker and the LED board.

    .venv/bin/python bench/bench_displays.py [--calls N]

A queue server (its own process) on Debian's Mosquitto; a counter calls the next ticket N times.
(a) voice: from the counter's request, and from the call event's arrival at the voice box, to the
    first sample of the chime written to the audio sink (espeak-ng voice, memory sink; each call is
    made once the previous announcement is over). Target: at most 100 ms.
(b) LED: from the counter's request to the last byte of the counter board's frame read on the pty
    (line protocol). Target: p99 at most 50 ms.
Prints the numbers and writes bench/results/displays.md.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import LATENCY_HEADER, latency_row, run_line, start_mosquitto, start_server, summary, write_config, write_results
from display.led.boards import CounterBoard
from display.led.device import LedDevice
from display.led.link import SerialLink
from display.led.protocols import LineProtocol
from display.voice.device import VoiceDevice
from display.voice.settings import VoiceSettings
from display.voice.sinks import MemorySink
from display.voice.voices import EspeakVoice, Voices
from motcua.client import DeviceClient
from motcua.settings import OfficeRef

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "displays.md"
EXTRA_DEVICES = '\n[[devices]]\nid = "loa-01"\nrole = "voice"\n\n[[devices]]\nid = "led-q1"\nrole = "display"\n'


def wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        time.sleep(0.0005)


def bench_voice(office: OfficeRef, broker: str, counter: DeviceClient, calls: int) -> dict[str, dict[str, float]]:
    sink = MemorySink()
    settings = VoiceSettings(repeat=1)
    box = VoiceDevice(office, broker, "loa-01", settings, Voices(None, EspeakVoice(settings.espeak)), sink)
    arrivals: list[float] = []
    submit = box.announcer.submit
    box.announcer.submit = lambda call: (arrivals.append(time.perf_counter()), submit(call))[1]  # type: ignore[method-assign]
    box.start()
    from_request, from_event = [], []
    try:
        for i in range(calls):
            t0 = time.perf_counter()
            assert counter.request("counter.next")["ok"]
            wait(lambda i=i: len(sink.played) > i and sink.played[i].first_write is not None)
            first = sink.played[i].first_write
            from_request.append((first - t0) * 1000)
            from_event.append((first - arrivals[i]) * 1000)
            assert box.announcer.idle.wait(10)
    finally:
        box.stop()
    return {"request": summary(from_request), "event": summary(from_event)}


def bench_led(office: OfficeRef, broker: str, counter: DeviceClient, calls: int, workdir: Path) -> dict[str, float]:
    master, slave = os.openpty()
    link = SerialLink(os.ttyname(slave), 115200, retry_seconds=0.05)
    box = LedDevice(office, broker, "led-q1", CounterBoard("Q1"), LineProtocol(), link)
    box.start()
    buffer = b""

    def read_until(marker: bytes) -> None:
        nonlocal buffer
        deadline = time.monotonic() + 10
        while marker not in buffer:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"no frame {marker!r} on the pty")
            buffer += os.read(master, 4096)
        buffer = buffer[buffer.index(marker) + len(marker):]

    latencies = []
    try:
        wait(lambda: link.state == "ok")
        for _ in range(calls):
            t0 = time.perf_counter()
            reply = counter.request("counter.next")
            number = reply["ticket"]["number"]
            read_until(f"#00:1:{number}\r\n".encode())
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        box.stop()
        os.close(master)
        os.close(slave)
    return summary(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-displays-") as tmp:
        workdir = Path(tmp)
        config = write_config(workdir / "office.toml", kiosks=1)
        config.write_text(config.read_text(encoding="utf-8") + EXTRA_DEVICES, encoding="utf-8")
        mosquitto, port = start_mosquitto(workdir)
        broker = f"mqtt://127.0.0.1:{port}"
        server = start_server(config, workdir / "data", broker)
        office = OfficeRef("bench-office")
        try:
            with DeviceClient(broker, office.id, "bench-00") as kiosk, DeviceClient(broker, office.id, "quay-01") as counter:
                for _ in range(2 * args.calls + 1):
                    assert kiosk.request("ticket.issue", service="HT", timeout=15)["ok"]
                assert counter.request("counter.sign_in", staff="bench")["ok"]
                voice = bench_voice(office, broker, counter, min(args.calls, 50))
                led = bench_led(office, broker, counter, args.calls, workdir)
        finally:
            server.terminate()
            server.wait(10)
            mosquitto.terminate()
            mosquitto.wait(10)
    report(voice, led)


def report(voice: dict[str, dict[str, float]], led: dict[str, float]) -> None:
    write_results(RESULTS, [
        "## Waiting-room devices (bench/bench_displays.py)",
        "",
        f"{run_line('bench/bench_displays.py')} Server in its own process on Mosquitto; devices in the benchmark's process.",
        "",
        *LATENCY_HEADER,
        latency_row("Voice: counter request -> first chime sample written to the sink", voice["request"], "<= 100 ms"),
        latency_row("Voice: call event at the voice box -> first chime sample", voice["event"], "<= 100 ms"),
        latency_row("LED: counter request -> counter board frame read on the pty", led, "p99 <= 50 ms"),
        "",
        "The chime is written before the sentence is rendered (espeak-ng renders while the chime plays), so the",
        "first figure does not include speech synthesis. The LED figure includes the server's commit and the serial write.",
    ])


if __name__ == "__main__":
    main()
