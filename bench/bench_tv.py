"""Waiting-room TV benchmark: a call sent by a counter, to the number in the TV page's DOM.

    .venv/bin/python bench/bench_tv.py [--calls N]

A queue server (its own process, HTTP on) on Debian's Mosquitto; the TV calls page /tv/calls open in
headless Chromium at 1920x1080 (Debian's chromium + chromium-driver, through selenium). A counter
device calls the next ticket N times over MQTT. A MutationObserver in the page notes when each new
number is first in the DOM: in the counter's tile (from `counter/Q1`), in the call that fills the
screen (from `event/call`), and at the next animation frame after the tile (the frame it is painted
in). Each is measured from just before the counter's request is published; the page's clock and
this process's are the same wall clock. Target: p99 at most 100 ms (issue 18).
Prints the numbers and writes bench/results/tv.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import LATENCY_HEADER, free_port, latency_row, run_line, start_mosquitto, start_server, summary, wait_for_port, write_config, write_results
from motcua.client import DeviceClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tv.md"
WATCH = """
window.__tv = {tile: {}, call: {}, frame: {}};
var seen = window.__tv, now = function () { return performance.timeOrigin + performance.now(); };
new MutationObserver(function () {
  var at = now(), tile = document.querySelector('.tv-tile[data-counter="Q1"] .tv-tile-number');
  var call = document.querySelector('#call .tv-call-main');
  var number = tile && tile.textContent;
  if (number && !(number in seen.tile)) {
    seen.tile[number] = at;
    requestAnimationFrame(function () { seen.frame[number] = now(); });
  }
  var called = call && call.getAttribute('data-number');
  if (called && !(called in seen.call)) { seen.call[called] = at; }
}).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
"""


def browser(width: int = 1920, height: int = 1080):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--no-first-run", "--lang=vi"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def wait(predicate, timeout: float = 10.0, step: float = 0.002):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        time.sleep(step)


def measure(driver, counter: DeviceClient, calls: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"tile": [], "call": [], "frame": [], "reply": []}
    for _ in range(calls):
        t0 = time.time() * 1000
        reply = counter.request("counter.next")
        replied = time.time() * 1000
        number = reply["ticket"]["number"]
        seen = wait(lambda n=number: driver.execute_script(
            "var s = window.__tv, n = arguments[0]; return s.tile[n] && s.call[n] && s.frame[n] ? [s.tile[n], s.call[n], s.frame[n]] : null;",
            n), timeout=10)
        out["tile"].append(seen[0] - t0)
        out["call"].append(seen[1] - t0)
        out["frame"].append(seen[2] - t0)
        out["reply"].append(replied - t0)
        time.sleep(0.05)  # calls a few tenths apart at most in a real hall; keep the page's work apart too
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-tv-") as tmp:
        workdir = Path(tmp)
        config = write_config(workdir / "office.toml", kiosks=1)
        mosquitto, port = start_mosquitto(workdir)
        broker = f"mqtt://127.0.0.1:{port}"
        http = free_port()
        server = start_server(config, workdir / "data", broker, http_port=http)
        driver = None
        try:
            wait_for_port(http, 30)
            with DeviceClient(broker, "bench-office", "bench-00") as kiosk, DeviceClient(broker, "bench-office", "quay-01") as counter:
                for _ in range(args.calls + 10):  # the warm-up calls too
                    assert kiosk.request("ticket.issue", service="HT", timeout=15)["ok"]
                assert counter.request("counter.sign_in", staff="bench")["ok"]
                driver = browser()
                driver.get(f"http://127.0.0.1:{http}/tv/calls")
                wait(lambda: driver.execute_script("return document.getElementById('status').getAttribute('data-state') === 'live' "
                                                   "&& !!document.querySelector('.tv-tile[data-counter=\"Q1\"]')"), 30, 0.05)
                driver.execute_script(WATCH)
                measure(driver, counter, 5)  # warm-up: fonts, first layout, the JIT
                results = measure(driver, counter, args.calls)
        finally:
            if driver is not None:
                driver.quit()
            server.terminate()
            server.wait(10)
            mosquitto.terminate()
            mosquitto.wait(10)
    report({name: summary(values) for name, values in results.items()})


def report(s: dict[str, dict[str, float]]) -> None:
    def row(name: str, key: str, target: str) -> str:
        return latency_row(name, s[key], target)

    verdict = "met" if s["tile"]["p99"] <= 100 else "NOT met"
    write_results(RESULTS, [
        "## Waiting-room TV (bench/bench_tv.py)",
        "",
        f"{run_line('bench/bench_tv.py')} "
        "Server in its own process on Mosquitto; /tv/calls in headless Chromium at 1920x1080 on the same machine.",
        "",
        *LATENCY_HEADER,
        row("Counter request -> its reply (commit included)", "reply", ""),
        row("Counter request -> number in the counter's tile (DOM)", "tile", f"p99 <= 100 ms: {verdict}"),
        row("Counter request -> number in the call filling the screen (DOM)", "call", "p99 <= 100 ms"),
        row("Counter request -> next animation frame after the tile", "frame", ""),
        "",
        "The path: MQTT request, the server's engine and commit, the live hub, the Server-Sent Events stream, live.js, tv.js.",
    ])


if __name__ == "__main__":
    main()
