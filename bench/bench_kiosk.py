"""Kiosk benchmark under Xvfb: touch on a field button to the number on screen, and start to home screen.

    .venv/bin/python bench/bench_kiosk.py [--quick]

Runs Mosquitto and `motcua server` (SQLite, synchronous=FULL), an Xvfb display, and the real kiosk
app. Touch to number: a simulated touch on a field button (no priority step), timed from the touch
to the first frame flipped with the number on it; the server round trip inside it is reported too.
Start: `motcua kiosk --simulate` spawned, timed to the line it prints when the home screen is drawn.
Targets (issue 15): touch to number p99 <= 150 ms, start <= 3 s. Writes bench/results/kiosk.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import ROOT, start_mosquitto, start_server, summary, write_config
from motcua.client import DeviceClient

OFFICE = "bench-office"
TARGET_TOUCH_P99_MS = 150
TARGET_START_S = 3.0


def start_xvfb(width: int = 1920, height: int = 1080) -> tuple[subprocess.Popen, str]:
    """An X display of our own; -displayfd tells which number it took."""
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


# --- inside the kiosk process -------------------------------------------------------------


def inside(args_file: str) -> None:
    args = json.loads(Path(args_file).read_text())
    from kiosk.ui import boot

    boot.prepare(Path(args["state_dir"]), size=tuple(args["size"]), fullscreen=False)
    from kiosk.adapters import open_printer
    from kiosk.bootstrap import build
    from kiosk.settings import KioskSettings
    from kiosk.ui.app import KioskApp
    from kiosk.ui.touch_driver import Driver
    from motcua.broker_url import parse_broker_url
    from motcua.settings import OfficeRef

    settings = KioskSettings(device="bench-01", server_url="http://127.0.0.1:9", state_dir=Path(args["state_dir"]), priority_step=False)
    parts = build(settings, OfficeRef(OFFICE), parse_broker_url(args["broker"]), simulate=True,
                  printer=open_printer({}, True, Path(args["state_dir"]) / "printed"))
    app = KioskApp(parts)
    app.measure_frames = True
    samples: list[dict] = []
    issue = parts.take_number.issue

    def timed_issue(*a, **k):  # the worker's share: from its start to the reply, for the breakdown
        app.events.append(("worker_start", time.perf_counter()))
        try:
            return issue(*a, **k)
        finally:
            app.events.append(("worker_done", time.perf_counter()))

    parts.take_number.issue = timed_issue

    def script(d: Driver):
        yield d.until(lambda: app.kiosk.link.online and app.kiosk.link.office.services, 15, "online")
        for i in range(args["touches"] + 3):
            d.tap(d.button(screen_id="take_number"))
            yield d.on("services")
            yield 0.6  # a citizen reads the buttons before touching one: the screen is drawn and idle by then
            before = len(app.events)
            touched = d.tap(d.button(key="HT"))
            yield d.until(lambda b=before: any(e == "number_shown" for e, _ in app.events[b:]), 10, "number shown")
            shown = next(t for e, t in app.events[before:] if e == "number_shown")
            screen = app.screen("ticket")
            yield d.until(lambda s=screen: s.printed is not None, 10, "printed")
            if i >= 3:  # the first touches warm up Kivy's caches (textures of the glyphs)
                marks = [(e, round((t - touched) * 1000, 1)) for e, t in app.events[before:]]
                samples.append({"touch_to_number_ms": (shown - touched) * 1000, "round_trip_ms": screen.issued.round_trip_ms,
                                "number": screen.issued.ticket.number, "marks": marks,
                                "reply_on_ui_ms": dict(marks).get("number_set")})
            d.tap(d.button(screen_id="done"))
            yield d.on("home")

    driver = Driver(app)
    if os.environ.get("KIOSK_BENCH_FLIPS"):  # diagnosis: when each frame reached the screen
        from kivy.clock import Clock
        from kivy.core.window import Window

        Window.bind(on_flip=lambda *_: app.events.append(("flip", time.perf_counter())))
        Clock.schedule_interval(lambda dt: app.events.append(("tick", time.perf_counter())), 0)
    app.bind(on_start=lambda *_: driver.start(script))
    app.run()
    if driver.report["error"]:
        raise SystemExit(driver.report["error"])
    Path(args["out"]).write_text(json.dumps(samples))


# --- the orchestration ------------------------------------------------------------------------


def touch_to_number(workdir: Path, broker: str, display: str, touches: int, size: tuple[int, int]) -> list[dict]:
    out = workdir / f"touch-{size[0]}x{size[1]}.json"
    args = {"broker": broker, "state_dir": str(workdir / f"kiosk-{size[0]}"), "out": str(out), "touches": touches, "size": list(size)}
    args_file = workdir / "touch-args.json"
    args_file.write_text(json.dumps(args))
    env = {**os.environ, "DISPLAY": display}
    subprocess.run([sys.executable, __file__, "--inside", str(args_file)], check=True, env=env, cwd=ROOT, timeout=600,
                   stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def start_to_home(workdir: Path, broker: str, display: str, config: Path, index: int) -> float:
    env = {**os.environ, "DISPLAY": display}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "kiosk", "--config", str(config), "--broker", broker, "--device", "bench-02",
                             "--server", "http://127.0.0.1:9", "--simulate", "--window", "800x480",
                             "--state-dir", str(workdir / f"start-{index}")],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if " ready: home screen shown" in line:
                return time.perf_counter() - t0
        raise RuntimeError(f"the kiosk exited ({proc.wait()}) without showing its home screen")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not for the record)")
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.inside)
        return
    touches, starts = (40, 3) if args.quick else (200, 7)
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="motcua-kiosk-bench-") as tmp:
        workdir = Path(tmp)
        config = write_config(workdir / "office.toml")
        mosq, port = start_mosquitto(workdir)
        broker = f"mqtt://127.0.0.1:{port}"
        xvfb, display = start_xvfb()
        server = start_server(config, workdir / "data", broker)
        try:
            with DeviceClient(broker, OFFICE, "bench-00") as client:  # wait until the server answers
                client.request("ticket.issue", timeout=10, service="DD")
            for size in ((1920, 1080), (800, 480)):
                samples = touch_to_number(workdir, broker, display, touches, size)
                results[f"touch_{size[0]}x{size[1]}"] = summary([s["touch_to_number_ms"] for s in samples])
                results[f"rtt_{size[0]}x{size[1]}"] = summary([s["round_trip_ms"] for s in samples])
                results[f"ui_{size[0]}x{size[1]}"] = summary([s["reply_on_ui_ms"] for s in samples])
            all_starts = [start_to_home(workdir, broker, display, config, i) for i in range(starts)]
            results["start_s"] = {"median": statistics.median(all_starts), "max": max(all_starts), "all": all_starts}
        finally:
            for proc in (server, xvfb, mosq):
                proc.terminate()
                proc.wait(10)
    results["load_after"] = os.getloadavg()[0]
    report = render(results, args.quick)
    print(report)
    out = ROOT / "bench" / "results" / "kiosk.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))


def render(r: dict, quick: bool) -> str:
    def ok(value: float, limit: float) -> str:
        return "met" if value <= limit else "**missed**"

    lines = ["### Kiosk (Kivy under Xvfb, Mosquitto, server with SQLite synchronous=FULL)" + (" (quick run)" if quick else ""), "",
             f"Run {r.get('started', '?')} on {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
             f"load average {r.get('load_before', 0):.1f} before, {r.get('load_after', 0):.1f} after; `bench/bench_kiosk.py`.", "",
             "| measure | n | p50 | p99 | target |", "| --- | --- | --- | --- | --- |"]
    for size in ("1920x1080", "800x480"):
        t, rtt, ui = r[f"touch_{size}"], r[f"rtt_{size}"], r[f"ui_{size}"]
        lines.append(f"| touch on a field button to the number on screen, {size} | {t['n']} | {t['p50']:.1f} ms | {t['p99']:.1f} ms | "
                     f"p99 <= {TARGET_TOUCH_P99_MS} ms: {ok(t['p99'], TARGET_TOUCH_P99_MS)} |")
        lines.append(f"| of which the ticket.issue round trip, {size} | {rtt['n']} | {rtt['p50']:.1f} ms | {rtt['p99']:.1f} ms | |")
        lines.append(f"| of which touch to reply on the UI thread (the rest: drawing the frame), {size} | {ui['n']} | {ui['p50']:.1f} ms | "
                     f"{ui['p99']:.1f} ms | |")
    s = r["start_s"]
    lines.append(f"| `motcua kiosk` start to home screen drawn | {len(s['all'])} | {s['median']:.2f} s (median) | {s['max']:.2f} s (max) | "
                 f"<= {TARGET_START_S} s: {ok(s['max'], TARGET_START_S)} |")
    lines += ["", "\"On screen\" is the first frame after the reply, flipped and finished (glFinish): under Xvfb, Mesa's software",
              "renderer draws every pixel on the CPU, so a 1920x1080 frame costs tens of milliseconds on this 2-core box and most",
              "of the touch-to-number time is that one frame; a Raspberry Pi draws it on its GPU. Printing runs after the number",
              "is shown and is not part of it."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
