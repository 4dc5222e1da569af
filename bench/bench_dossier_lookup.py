"""Dossier lookup benchmark: 100,000 dossiers in a temporary office database.

    .venv/bin/python bench/bench_dossier_lookup.py [--dossiers N]

(a) filling the database through the import path (1,000 per transaction);
(b) lookup latency p50/p99 as a library call, hits and misses;
(c) lookup latency p50/p99 over HTTP through a running server (keep-alive, rate limiter off);
(d) sync throughput: dossier updates per second through POST /api/dossiers/sync in batches of 100,
    each batch one transaction committed with synchronous=FULL before its reply.
Prints the numbers and writes bench/results/dossier_lookup.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_server import config as office_config
from queue_server.dossiers import db as store
from queue_server.dossiers import sources
from queue_server.dossiers.lookup import LookupRefused, lookup
from queue_server.dossiers.sync import apply_in_chunks
from queue_server.server import QueueServer, ServerOptions
from queue_server.store import DB_FILENAME, Store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "dossier_lookup.md"
PER_DAY = 1000
STATUSES = ["received", "processing", "needs_documents", "result_ready", "returned", "rejected"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quốc Dũng", "Hoàng Thị Én"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def code_of(n: int) -> str:
    day = date(2026, 1, 1) + timedelta(days=n // PER_DAY)
    return f"000.17.22.H56-{day:%y%m%d}-{n % PER_DAY + 1:04d}"


def item(n: int, updated: datetime, status: str) -> dict[str, Any]:
    received = datetime(2026, 1, 1, 1, 0, tzinfo=UTC) + timedelta(days=n // PER_DAY)
    return {
        "code": code_of(n), "updated_at": updated.isoformat(), "status": status,
        "procedure_code": f"1.00{n % 90 + 10}", "procedure_name": "Đăng ký khai sinh",
        "received_at": received.isoformat(), "due_at": (received + timedelta(days=3)).date().isoformat(),
        "applicant_name": NAMES[n % len(NAMES)], "applicant_id_number": f"0010990{n:05d}", "applicant_phone": f"09{n:08d}",
        "return_counter": f"Q{n % 5 + 1}", "missing_documents": ["Tờ khai"] if status == "needs_documents" else [],
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


def bench_library(db: Any, config: Any, now: datetime, count: int, total: int) -> dict[str, dict[str, float]]:
    rng = random.Random(1)
    hits, misses = [], []
    for i in range(count):
        code = code_of(rng.randrange(total)) if i % 10 else f"HS-2099-{rng.randrange(10**6):06d}"
        start = time.perf_counter()
        try:
            lookup(db, config, code, now)
            hits.append((time.perf_counter() - start) * 1000)
        except LookupRefused:
            misses.append((time.perf_counter() - start) * 1000)
    return {"hit": percentiles(hits), "miss": percentiles(misses)}


def bench_http(port: int, count: int, total: int) -> dict[str, float]:
    rng = random.Random(2)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    samples = []
    for i in range(count + 50):
        start = time.perf_counter()
        conn.request("GET", f"/api/dossiers/{code_of(rng.randrange(total))}")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"lookup answered {response.status}")
        if i >= 50:  # the first requests open connections and warm caches
            samples.append((time.perf_counter() - start) * 1000)
    conn.close()
    return percentiles(samples)


def bench_sync(port: int, token: str, updates: int, total: int) -> dict[str, float]:
    rng = random.Random(3)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = datetime(2026, 6, 1, tzinfo=UTC)
    batches = []
    for b in range(updates // 100):
        stamp = base + timedelta(seconds=b)
        batch = [item(rng.randrange(total), stamp, STATUSES[(b + i) % len(STATUSES)]) for i in range(100)]
        batches.append(json.dumps(batch, ensure_ascii=False).encode())
    accepted = 0
    latencies = []
    start = time.perf_counter()
    for body in batches:
        t0 = time.perf_counter()
        conn.request("POST", "/api/dossiers/sync", body=body, headers=headers)
        response = conn.getresponse()
        reply = json.loads(response.read())
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status != 200:
            raise RuntimeError(f"sync answered {response.status}: {reply}")
        accepted += reply["accepted"] + reply["duplicate"]
    elapsed = time.perf_counter() - start
    conn.close()
    return {"updates": len(batches) * 100, "seconds": elapsed, "per_second": len(batches) * 100 / elapsed,
            "accepted": accepted, "batch_p50_ms": statistics.median(latencies), "batch_p99_ms": percentiles(latencies)["p99"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--updates", type=int, default=20_000)
    args = parser.parse_args()
    config = office_config.load(ROOT / "firmware_config" / "office.example.toml").with_overrides(
        issue_outside_hours=True, dossier_lookup=office_config.DossierLookup(per_minute=0))  # measure the lookup, not the limiter
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-dossier-") as tmp:
        data = Path(tmp) / "data"
        Store.in_dir(data, config.id).close()
        db = store.connect(data / DB_FILENAME)
        print(f"filling {args.dossiers:,} dossiers ...", flush=True)
        start = time.perf_counter()
        stamp = datetime(2026, 5, 1, tzinfo=UTC)
        items = [item(n, stamp, STATUSES[n % len(STATUSES)]) for n in range(args.dossiers)]
        report = apply_in_chunks(db, items, "bench", now, config.tz)
        fill_seconds = time.perf_counter() - start
        assert report.accepted == args.dossiers, report.as_dict()["items"][:3]
        token = sources.add(db, "bench", now)
        size_mb = (data / DB_FILENAME).stat().st_size / 1e6
        print(f"  {fill_seconds:.1f} s ({args.dossiers / fill_seconds:,.0f}/s), database {size_mb:.0f} MB", flush=True)

        library = bench_library(db, config, now, args.lookups, args.dossiers)
        db.close()
        print(f"library lookup: hit p50 {library['hit']['p50']:.3f} ms p99 {library['hit']['p99']:.3f} ms; "
              f"miss p50 {library['miss']['p50']:.3f} ms p99 {library['miss']['p99']:.3f} ms", flush=True)

        server = QueueServer(config, ServerOptions(data_dir=data, mqtt_listen=("127.0.0.1", free_port()),
                                                   http_listen=("127.0.0.1", free_port())))
        server.start()
        try:
            port = server.options.http_listen[1]
            over_http = bench_http(port, args.lookups, args.dossiers)
            print(f"HTTP lookup: p50 {over_http['p50']:.2f} ms p99 {over_http['p99']:.2f} ms", flush=True)
            sync = bench_sync(port, token, args.updates, args.dossiers)
            print(f"sync: {sync['per_second']:,.0f} updates/s ({sync['updates']:,} in {sync['seconds']:.1f} s, "
                  f"batch of 100 p50 {sync['batch_p50_ms']:.1f} ms p99 {sync['batch_p99_ms']:.1f} ms)", flush=True)
        finally:
            server.stop()
    write_results(args, fill_seconds, size_mb, library, over_http, sync)


def write_results(args: Any, fill_seconds: float, size_mb: float, library: dict, over_http: dict, sync: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    RESULTS.write_text(
        "## Dossier lookup and sync (bench/bench_dossier_lookup.py)\n\n"
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; `bench/bench_dossier_lookup.py`.\n"
        f"{args.dossiers:,} dossiers in a temporary office database (WAL, synchronous=FULL), {size_mb:.0f} MB.\n\n"
        "| Measure | Result |\n|---|---|\n"
        f"| Fill through the import path (1,000 per transaction) | {fill_seconds:.1f} s ({args.dossiers / fill_seconds:,.0f} dossiers/s) |\n"
        f"| Library lookup, found ({library['hit']['n']:,}) | p50 {library['hit']['p50']:.3f} ms, p99 {library['hit']['p99']:.3f} ms |\n"
        f"| Library lookup, not found ({library['miss']['n']:,}) | p50 {library['miss']['p50']:.3f} ms, p99 {library['miss']['p99']:.3f} ms |\n"
        f"| HTTP `GET /api/dossiers/<code>` ({over_http['n']:,}, keep-alive, limiter off) | "
        f"p50 {over_http['p50']:.2f} ms, p99 {over_http['p99']:.2f} ms |\n"
        f"| Sync `POST /api/dossiers/sync`, batches of 100 ({sync['updates']:,} updates) | {sync['per_second']:,.0f} updates/s; "
        f"batch p50 {sync['batch_p50_ms']:.1f} ms, p99 {sync['batch_p99_ms']:.1f} ms |\n\n"
        "Lookups are one primary-key read; the HTTP figure is mostly the WSGI server (werkzeug, a thread per\n"
        "connection, each with its own SQLite connection). Each sync batch is one transaction with an fsync before the reply.\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
