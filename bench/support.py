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


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false", "max_inflight_messages 1000",
             "max_queued_messages 100000", "set_tcp_nodelay true"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return proc, port


def start_server(config: Path, data: Path, broker: str | None, mqtt_port: int | None = None, http_port: int | None = None) -> subprocess.Popen:
    http = ["--http-listen", f"127.0.0.1:{http_port}"] if http_port else ["--no-http"]
    args = [sys.executable, "-m", "motcua", "server", "--config", str(config), "--data", str(data), *http,
            "--log-level", "WARNING"]
    args += ["--broker", broker] if broker else ["--mqtt-listen", f"127.0.0.1:{mqtt_port}"]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{device}-{uuid.uuid4().hex[:6]}")
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
