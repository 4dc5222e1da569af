"""The two brokers a server can run itself, side by side, with authentication and ACLs on.

    .venv/bin/python bench/bench_brokers.py [--quick]

For Debian's Mosquitto (supervised by the server) and the embedded amqtt broker, each
configured exactly as `motcua server` configures it (credentials, ACL, client ids bound to
users): a raw echo round trip through that broker alone (1 and 20 clients), then with the
server running that broker itself: ticket.issue round trips (1 and 20 kiosks), sustained
durable tickets/s, and the RSS of the server plus its broker after start and after the run.
Prints the table and writes bench/results/brokers.md (run_all.py puts it in docs/performance.md).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_core import OFFICE, mosquitto_version, round_trips, throughput
from bench.support import (
    ROOT,
    bench_credentials,
    children_rss_mb,
    free_port,
    rss_mb,
    start_mosquitto,
    start_server,
    summary,
    wait_for_port,
    write_config,
)
from motcua.client import DeviceClient, RequestTimeout

KINDS = ("mosquitto", "embedded")


def standalone_broker(kind: str, config: Path, workdir: Path, credentials: Path) -> tuple[subprocess.Popen, int]:
    """The broker alone, configured as the server would configure it, for the echo baseline."""
    if kind == "mosquitto":
        return start_mosquitto(workdir, credentials)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "broker", "--config", str(config), "--listen", f"127.0.0.1:{port}",
                             "--credentials-dir", str(credentials)], cwd=ROOT, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return proc, port


def echo(port: int, n1: int, n20: int) -> tuple[dict, dict]:
    responder = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_responder.py"), "127.0.0.1", str(port), f"motcua/{OFFICE}"],
                                 stdout=subprocess.PIPE, text=True)
    try:
        assert responder.stdout.readline().strip() == "ready"
        return summary(round_trips(port, 1, n1, "echo")), summary(round_trips(port, 20, n20, "echo"))
    finally:
        responder.terminate()
        responder.wait()


def first_ticket(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with DeviceClient(f"mqtt://127.0.0.1:{port}", OFFICE, "bench-00") as client:
                if client.request("ticket.issue", timeout=1, retries=5, service="HT")["ok"]:
                    return
        except (OSError, RequestTimeout):
            time.sleep(0.05)
    raise TimeoutError("the server did not answer")


def measure(kind: str, config: Path, workdir: Path, credentials: Path, n1: int, n20: int, total: int) -> dict:
    result: dict = {"kind": kind}
    broker, port = standalone_broker(kind, config, workdir, credentials)
    try:
        result["echo_1"], result["echo_20"] = echo(port, n1, n20)
    finally:
        broker.terminate()
        broker.wait()
    port = free_port()
    server = start_server(config, workdir / f"data-{kind}", None, mqtt_port=port, credentials_dir=credentials, run_broker=kind)
    try:
        first_ticket(port)
        time.sleep(0.5)  # let start-up allocations settle before reading RSS
        result["rss_start"] = (rss_mb(server.pid), children_rss_mb(server.pid))
        result["issue_1"] = summary(round_trips(port, 1, n1, "ticket.issue", service="DD"))
        result["issue_20"] = summary(round_trips(port, 20, n20, "ticket.issue", service="XD"))
        result["throughput"] = throughput(port, total)
        result["rss_end"] = (rss_mb(server.pid), children_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait()
    return result


def render(results: list[dict], total: int, quick: bool) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.node() or 'this machine'}: Python {platform.python_version()}, "
        f"{mosquitto_version()}, amqtt 0.12.1 (patched, queue_server/broker_amqtt.py); passwords, ACL and client ids bound "
        "to users on both." + (" QUICK RUN (fewer samples)." if quick else ""),
        "",
        "| broker run by the server | echo p50, 1 client | issue p50, 1 kiosk | issue over echo | echo p50 / issue p99, 20 kiosks "
        f"| durable tickets/s | RSS server + broker after start | after {total:,} more tickets |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        (s0, b0), (s1, b1) = r["rss_start"], r["rss_end"]
        broker = lambda mb: f" + {mb:.1f}" if mb else ""  # noqa: E731 - the embedded broker is inside the server
        lines.append(
            f"| {r['kind']} | {r['echo_1']['p50']:.2f} ms | {r['issue_1']['p50']:.2f} ms | {r['issue_1']['p50'] - r['echo_1']['p50']:+.2f} ms "
            f"| {r['echo_20']['p50']:.2f} / {r['issue_20']['p99']:.2f} ms | {r['throughput']:.0f} "
            f"| {s0:.1f}{broker(b0)} MB | {s1:.1f}{broker(b1)} MB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not for the record)")
    args = parser.parse_args()
    n1, n20, total = (200, 30, 2000) if args.quick else (1000, 200, 10000)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-brokers-") as tmp:
        workdir = Path(tmp)
        config = write_config(workdir / "office.toml")
        credentials = bench_credentials(config, workdir)
        results = [measure(kind, config, workdir, credentials, n1, n20, total) for kind in KINDS]
    report = render(results, total, args.quick)
    print(report)
    out = ROOT / "bench" / "results" / "brokers.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
