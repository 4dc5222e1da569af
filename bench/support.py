"""Shared pieces of the benchmarks: free ports, Mosquitto, server processes, RSS, percentiles."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from motcua import protocol as p
from motcua.client import disable_nagle
from motcua.credentials import CREDENTIALS_ENV, password_for

ROOT = Path(__file__).resolve().parent.parent
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

BENCH_CONFIG = """
[office]
id = "bench-office"
name = "Văn phòng đo hiệu năng"
issue_outside_hours = true

[[services]]
code = "HT"
name = "Tư pháp - Hộ tịch"
numbers = "100000-199999"

[[services]]
code = "DD"
name = "Đất đai - Môi trường"
numbers = "200000-299999"

[[services]]
code = "XD"
name = "Xây dựng"
numbers = "300000-399999"

[[services]]
code = "KD"
name = "Đăng ký kinh doanh"
numbers = "400000-499999"

[[counters]]
id = "Q1"
name = "Quầy 1"
services = ["HT"]

[[counters]]
id = "Q2"
name = "Quầy 2"
services = ["DD", "XD", "KD"]

[[devices]]
id = "quay-01"
role = "counter"
counter = "Q1"

[[devices]]
id = "tv-01"
role = "display"

[[devices]]
id = "console"
role = "admin"
"""


def write_config(path: Path, kiosks: int = 64) -> Path:
    # Benchmarks measure the server, not the per-kiosk issue limit: each bench kiosk has none.
    devices = "".join(f'\n[[devices]]\nid = "bench-{i:02d}"\nrole = "kiosk"\ntickets_per_minute = 0\ntickets_per_hour = 0\n' for i in range(kiosks))
    path.write_text(BENCH_CONFIG + devices, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.005)
    raise TimeoutError(f"nothing listens on port {port}")


def bench_credentials(config: Path, workdir: Path) -> Path:
    """Credentials for every device of the bench office, as in production; clients find theirs
    through MOTCUA_CREDENTIALS (set here for this process and the servers it starts)."""
    from queue_server.config import load
    from queue_server.credentials import ensure

    creds, _ = ensure(load(config), workdir / "credentials")
    os.environ[CREDENTIALS_ENV] = str(creds.secrets_file)
    return creds.directory


def start_mosquitto(workdir: Path, credentials_dir: Path | None = None) -> tuple[subprocess.Popen, int]:
    """Debian's Mosquitto configured as the server configures its own (passwords, ACL, nodelay).

    Without `credentials_dir`, those of the bench office in WORKDIR/office.toml (written if missing)."""
    from queue_server.broker_mosquitto import render_conf

    if credentials_dir is None:
        config = workdir / "office.toml"
        if not config.exists():
            write_config(config)
        credentials_dir = bench_credentials(config, workdir)

    port = free_port()
    conf = workdir / f"mosquitto-{port}.conf"
    conf.write_text(render_conf("127.0.0.1", port, credentials_dir / "mosquitto.passwd", credentials_dir / "mosquitto.acl",
                                run_as_root=os.geteuid() == 0))
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return proc, port


def seed_officials(config: Path, data: Path, *staff: str) -> None:
    """Official accounts allowed at every counter (counter.sign_in names a real account, issue 16)."""
    from motcua.clock import SystemClock
    from queue_server.config import load
    from queue_server.office import Office
    from queue_server.staff.accounts import ensure_officials
    from queue_server.store import Store

    office = load(config)
    store = Store.in_dir(data, office.id)
    try:
        work = ensure_officials({s: list(office.counters) for s in staff}, office.counters, by="bench")
        Office(office, store, SystemClock()).record(work)
    finally:
        store.close()


def start_server(config: Path, data: Path, broker: str | None, mqtt_port: int | None = None, credentials_dir: Path | None = None,
                 run_broker: str = "embedded", http_port: int | None = None) -> subprocess.Popen:
    """`motcua server` with an external broker (as motcua-server), or running its own broker of kind `run_broker`."""
    seed_officials(config, data, "bench")
    http = ["--http-listen", f"127.0.0.1:{http_port}"] if http_port else ["--no-http"]
    args = [sys.executable, "-m", "motcua", "server", "--config", str(config), "--data", str(data), *http,
            "--log-level", "WARNING"]
    if broker:
        args += ["--broker", _as_server(broker)]
    else:
        args += ["--mqtt-listen", f"127.0.0.1:{mqtt_port}", "--run-broker", run_broker]
        args += ["--credentials-dir", str(credentials_dir)] if credentials_dir else []
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _as_server(broker: str) -> str:
    """The server logs in as motcua-server (its password from MOTCUA_CREDENTIALS), as in production."""
    return broker if "@" in broker else broker.replace("mqtt://", "mqtt://motcua-server@", 1)


def children_rss_mb(pid: int) -> float:
    """RSS of the direct children of a process (the Mosquitto a server runs), in MB."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mb(int(child))
    return total


def start_http_server(config: Path, data: Path, mqtt_port: int, http_port: int) -> subprocess.Popen:
    """`motcua server` on an external broker (a Mosquitto of start_mosquitto) with HTTP; returns when HTTP answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "motcua", "server", "--config", str(config), "--data", str(data),
         "--broker", _as_server(f"mqtt://127.0.0.1:{mqtt_port}"), "--http-listen", f"127.0.0.1:{http_port}", "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(http_port, 30)
    return server


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50": percentile(values_ms, 50),
        "p99": percentile(values_ms, 99),
        "mean": statistics.fmean(values_ms),
    }


class Pipeline:
    """Many requests in flight from one connection; counts replies (for throughput)."""

    def __init__(self, host: str, port: int, office: str, device: str, window: int = 64) -> None:
        self.topics = p.Topics(office)
        self.device = device
        self.window = threading.Semaphore(window)
        self.done = threading.Event()
        self.replies = 0
        self.errors = 0
        self.expected = 0
        self.lock = threading.Lock()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        client.username_pw_set(device, password_for(device))
        client.max_inflight_messages_set(window * 2)
        subscribed = threading.Event()
        client.on_connect = lambda c, *_: (disable_nagle(c), c.subscribe(self.topics.res(device), qos=1))
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = self._on_message
        client.connect(host, port)
        client.loop_start()
        if not subscribed.wait(10):
            raise TimeoutError("pipeline client could not subscribe")
        self.client = client

    def _on_message(self, client, userdata, msg) -> None:
        if msg.topic != self.topics.res(self.device):
            return  # amqtt 0.12.1 may deliver unrelated retained messages to a new subscriber
        ok = b'"ok":true' in msg.payload
        with self.lock:
            self.replies += 1
            self.errors += not ok
            finished = self.replies >= self.expected
        self.window.release()
        if finished:
            self.done.set()

    def run(self, count: int, op: str = "ticket.issue", **fields) -> None:
        self.expected = count
        topic = self.topics.req(self.device)
        for _ in range(count):
            self.window.acquire()
            self.client.publish(topic, p.dumps({"id": uuid.uuid4().hex, "op": op, **fields}), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- the result tables of the device benchmarks --------------------------------------

LATENCY_HEADER = ["| Measure | p50 | p99 | mean | target |", "|---|---|---|---|---|"]


def latency_row(name: str, s: dict[str, float], target: str) -> str:
    """One line of a latency table from `summary()`."""
    return f"| {name} ({s['n']}) | {s['p50']:.1f} ms | {s['p99']:.1f} ms | {s['mean']:.1f} ms | {target} |"


def run_line(script: str) -> str:
    """When and where a benchmark ran, as each result table says it."""
    import platform
    from datetime import UTC, datetime

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Run {now} on {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; `{script}`."


def write_results(path: Path, lines: list[str]) -> None:
    """bench/results/<name>.md, which run_all.py puts into docs/performance.md; printed too."""
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)
