"""Queue server benchmark, one run on this machine with Mosquitto (and the embedded broker for RSS/start).

    .venv/bin/python bench/bench_core.py [--quick]

(a) issue round trip p50/p99 with 1 and 20 concurrent kiosks, beside a raw MQTT echo
    measured in the same run through the same broker;
(b) call latency: counter.next sent -> event/call received by a display;
(c) sustained issue throughput, every ticket committed (synchronous=FULL) before its reply;
(d) server RSS after start and after 10,000 tickets, with the embedded broker;
(e) cold start (process spawn) to the first ticket printed, with the embedded broker.
Prints the numbers and writes bench/results/core.md (run_all.py puts it in docs/performance.md).
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
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (
    MOSQUITTO,
    ROOT,
    Pipeline,
    bench_credentials,
    free_port,
    rss_mb,
    start_mosquitto,
    start_server,
    summary,
    wait_for_port,
    write_config,
)
from motcua.client import DeviceClient, RequestTimeout

OFFICE = "bench-office"
TARGETS = {"issue_p50_over_echo_ms": 3.0, "issue_p99_20_ms": 25.0, "throughput": 600, "rss_mb": 80, "cold_start_s": 1.5}


def round_trips(port: int, clients: int, per_client: int, op: str, **fields) -> list[float]:
    """Sequential request/reply per client, clients in parallel; milliseconds per round trip."""
    results: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients)

    def one(index: int) -> None:
        with DeviceClient(f"mqtt://127.0.0.1:{port}", OFFICE, f"bench-{index:02d}") as client:
            for _ in range(10):  # warm up the connection and the server's caches
                client.request(op, **fields)
            ready.wait()
            mine = []
            for _ in range(per_client):
                t0 = time.perf_counter()
                reply = client.request(op, **fields)
                mine.append((time.perf_counter() - t0) * 1000)
                assert reply.get("ok", True), reply
            with lock:
                results.extend(mine)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def call_latency(port: int, calls: int) -> list[float]:
    url = f"mqtt://127.0.0.1:{port}"
    heard: dict[str, float] = {}
    arrived = threading.Condition()

    def on_call(topic: str, payload: bytes) -> None:
        with arrived:
            heard[json.loads(payload)["number"]] = time.perf_counter()
            arrived.notify_all()

    latencies = []
    with DeviceClient(url, OFFICE, "console") as console, DeviceClient(url, OFFICE, "tv-01") as tv, \
            DeviceClient(url, OFFICE, "quay-01") as counter:
        tv.subscribe(tv.topics.event_call, on_call)
        for _ in range(calls + 10):
            console.request("ticket.issue", service="HT")
        console.request("counter.sign_in", counter="Q1", staff="bench")
        for i in range(calls + 10):
            t0 = time.perf_counter()
            reply = counter.request("counter.next")
            number = reply["ticket"]["number"]
            with arrived:
                arrived.wait_for(lambda n=number: n in heard, timeout=10)
            if i >= 10:
                latencies.append((heard[number] - t0) * 1000)
    return latencies


def throughput(port: int, total: int, clients: int = 8, window: int = 32) -> float:
    pipes = [Pipeline("127.0.0.1", port, OFFICE, f"bench-{40 + i:02d}", window) for i in range(clients)]
    services = ["HT", "DD", "XD", "KD"]
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=pipe.run, args=(total // clients,), kwargs={"service": services[i % 4]})
        for i, pipe in enumerate(pipes)
    ]
    for t in threads:
        t.start()
    for pipe in pipes:
        if not pipe.done.wait(300):
            raise TimeoutError("throughput run did not finish")
    elapsed = time.perf_counter() - t0
    errors = sum(pipe.errors for pipe in pipes)
    for pipe in pipes:
        pipe.close()
    if errors:
        raise RuntimeError(f"{errors} requests failed during the throughput run")
    return (total // clients) * clients / elapsed


def cold_start(config: Path, workdir: Path, credentials: Path) -> float:
    """Spawn `motcua server` (embedded broker) and take a ticket as soon as it answers."""
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(config, workdir / f"cold-{port}", None, mqtt_port=port, credentials_dir=credentials)
    try:
        while True:
            try:
                with DeviceClient(f"mqtt://127.0.0.1:{port}", OFFICE, "bench-00") as client:
                    if client.request("ticket.issue", timeout=0.5, retries=20, service="HT")["ok"]:
                        return time.perf_counter() - t0
            except (OSError, RequestTimeout):
                time.sleep(0.01)
            if time.perf_counter() - t0 > 30:
                raise TimeoutError("server did not start in 30 s")
    finally:
        proc.terminate()
        proc.wait()


def embedded_rss(config: Path, workdir: Path, tickets: int, credentials: Path) -> tuple[float, float, float]:
    port = free_port()
    proc = start_server(config, workdir / "rss", None, mqtt_port=port, credentials_dir=credentials)
    try:
        wait_for_port(port)
        with DeviceClient(f"mqtt://127.0.0.1:{port}", OFFICE, "bench-00") as client:
            client.request("ticket.issue", timeout=5, service="HT")
        time.sleep(0.5)  # let start-up allocations settle before reading RSS
        after_start = rss_mb(proc.pid)
        rate = throughput(port, tickets)
        after = rss_mb(proc.pid)
        return after_start, after, rate
    finally:
        proc.terminate()
        proc.wait()


def mosquitto_version() -> str:
    text = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True).stdout
    return text.splitlines()[0] if text else "mosquitto"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not for the record)")
    args = parser.parse_args()
    n1, n20, calls, total = (200, 50, 100, 2000) if args.quick else (1000, 200, 500, 10000)

    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        workdir = Path(tmp)
        config = write_config(workdir / "office.toml")
        credentials = bench_credentials(config, workdir)  # every client and server logs in, as in production
        mosq, port = start_mosquitto(workdir, credentials)
        results: dict = {}
        try:
            echo = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_responder.py"), "127.0.0.1", str(port), f"motcua/{OFFICE}"],
                                    stdout=subprocess.PIPE, text=True)
            assert echo.stdout.readline().strip() == "ready"
            results["echo_1"] = summary(round_trips(port, 1, n1, "echo"))
            results["echo_20"] = summary(round_trips(port, 20, n20, "echo"))
            echo.terminate()
            echo.wait()

            server = start_server(config, workdir / "data", f"mqtt://motcua-server@127.0.0.1:{port}")
            try:
                with DeviceClient(f"mqtt://127.0.0.1:{port}", OFFICE, "bench-00") as client:
                    client.request("ticket.issue", timeout=10, service="HT")
                results["issue_1"] = summary(round_trips(port, 1, n1, "ticket.issue", service="DD"))
                results["issue_20"] = summary(round_trips(port, 20, n20, "ticket.issue", service="XD"))
                results["call"] = summary(call_latency(port, calls))
                results["throughput"] = throughput(port, total)
            finally:
                server.terminate()
                server.wait()
        finally:
            mosq.terminate()
            mosq.wait()
        results["rss_start"], results["rss_10k"], results["throughput_embedded"] = embedded_rss(config, workdir, total, credentials)
        starts = [cold_start(config, workdir, credentials) for _ in range(3 if args.quick else 5)]
        results["cold_start"] = statistics.median(starts)
        results["cold_start_all"] = starts

    report = render(results, quick=args.quick)
    print(report)
    out = ROOT / "bench" / "results" / "core.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    (out.with_suffix(".json")).write_text(json.dumps(results, indent=2))


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(r: dict, quick: bool) -> str:
    over = r["issue_1"]["p50"] - r["echo_1"]["p50"]
    over20 = r["issue_20"]["p50"] - r["echo_20"]["p50"]
    rows = [
        ("raw MQTT echo, 1 client", r["echo_1"]),
        ("raw MQTT echo, 20 clients", r["echo_20"]),
        ("ticket.issue, 1 kiosk", r["issue_1"]),
        ("ticket.issue, 20 kiosks", r["issue_20"]),
        ("counter.next -> event/call at a display", r["call"]),
    ]
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.node() or 'this machine'}: "
        f"Python {platform.python_version()}, {mosquitto_version()}, {_cores()} cores."
        + (" QUICK RUN (fewer samples)." if quick else ""),
        "",
        "| measurement | n | p50 ms | p99 ms | mean ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {s['n']} | {s['p50']:.2f} | {s['p99']:.2f} | {s['mean']:.2f} |" for name, s in rows]
    t = TARGETS
    lines += [
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        f"| issue p50 at most {t['issue_p50_over_echo_ms']:.0f} ms above the raw echo (1 client) | {over:+.2f} ms (20 clients: {over20:+.2f} ms) "
        f"| {verdict(over <= t['issue_p50_over_echo_ms'])} |",
        f"| issue p99 with 20 kiosks at most {t['issue_p99_20_ms']:.0f} ms | {r['issue_20']['p99']:.2f} ms "
        f"| {verdict(r['issue_20']['p99'] <= t['issue_p99_20_ms'])} |",
        f"| at least {t['throughput']} durable tickets/s with Mosquitto | {r['throughput']:.0f} tickets/s "
        f"(embedded broker: {r['throughput_embedded']:.0f}/s) | {verdict(r['throughput'] >= t['throughput'])} |",
        f"| RSS at most {t['rss_mb']} MB with the embedded broker | {r['rss_start']:.1f} MB after start, {r['rss_10k']:.1f} MB after 10,000 tickets "
        f"| {verdict(max(r['rss_start'], r['rss_10k']) <= t['rss_mb'])} |",
        f"| cold start to first ticket under {t['cold_start_s']} s | {r['cold_start']:.2f} s (median of {len(r['cold_start_all'])}: "
        f"{', '.join(f'{s:.2f}' for s in r['cold_start_all'])}) | {verdict(r['cold_start'] < t['cold_start_s'])} |",
        "",
    ]
    return "\n".join(lines)


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
