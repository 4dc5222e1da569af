"""Live push to browsers: 200+ Server-Sent Event streams on a real server, push latency and memory.

    python bench/bench_live_push.py [--connections 200] [--tickets 50]      end to end (writes bench/results/live_push.md)
    python bench/bench_live_push.py --compare [--connections 200]            uvicorn (asyncio) vs waitress (a thread per stream)

End to end: `motcua server` (uvicorn) on Debian's Mosquitto; N pages follow `queue`; a kiosk
issues tickets one at a time over MQTT; for each page and ticket we time from just before the
request is sent to the arrival of the `queue` change showing it. The commit comes after the
send, so this is an upper bound of "commit to page". RSS of the server process is read
before and after the pages connect.

--compare: the same hub fed by a timer in a child process (no broker, no database), served
by uvicorn through queue_server.web.asgi_app, then by waitress with a WSGI generator per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import ROOT, free_port, percentile, rss_mb, start_http_server, start_mosquitto, wait_for_port, write_config

RESULTS = ROOT / "bench" / "results"


class Page:
    """One page's stream: a raw asyncio connection reading SSE frames (cheap enough for hundreds)."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, dict]] = []
        self.snapshot = asyncio.Event()

    async def follow(self, port: int, topics: str, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(f"GET /api/live?topics={topics} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        await writer.drain()
        event = ""
        try:
            while not stop.is_set():
                line = await reader.readline()
                if not line:
                    return
                text = line.decode().rstrip("\r\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: "):
                    if event == "snapshot":
                        self.snapshot.set()
                    elif event == "change":
                        self.changes.append((time.time(), json.loads(text[6:])))
        finally:
            writer.close()


async def open_pages(port: int, count: int, topics: str, stop: asyncio.Event) -> tuple[list[Page], list[asyncio.Task]]:
    pages = [Page() for _ in range(count)]
    tasks = []
    for page in pages:
        tasks.append(asyncio.create_task(page.follow(port, topics, stop)))
        await asyncio.sleep(0.002)  # do not overflow the listen backlog
    await asyncio.wait_for(asyncio.gather(*(p.snapshot.wait() for p in pages)), 60)
    return pages, tasks


def end_to_end(connections: int, tickets: int) -> dict:
    from motcua.client import DeviceClient

    work = Path(tempfile.mkdtemp(prefix="bench-live-"))
    broker, mqtt_port = start_mosquitto(work)
    http_port = free_port()
    config = write_config(work / "office.toml", kiosks=2)
    server = start_http_server(config, work / "data", mqtt_port, http_port)
    try:
        kiosk = DeviceClient(f"mqtt://127.0.0.1:{mqtt_port}", "bench-office", "bench-00").connect()
        kiosk.request("ticket.issue", service="HT")  # warm up every path once
        time.sleep(0.5)
        before = rss_mb(server.pid)
        sent: list[float] = []

        async def run() -> list[Page]:
            stop = asyncio.Event()
            pages, tasks = await open_pages(http_port, connections, "queue", stop)
            await asyncio.sleep(1.0)
            sent.append(rss_mb(server.pid))
            for _ in range(tickets):
                started = time.time()
                await asyncio.to_thread(kiosk.request, "ticket.issue", service="DD")
                sent.append(started)
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            stop.set()
            for task in tasks:
                task.cancel()
            return pages

        pages = asyncio.run(run())
        after, starts = sent[0], sent[1:]
        kiosk.close()
        latencies = []
        missing = 0
        for page in pages:
            by_waiting = {}
            for at, change in page.changes:
                waiting = change["payload"]["services"]["DD"]["waiting"]
                by_waiting.setdefault(waiting, at)
            for k, started in enumerate(starts, start=1):
                if k in by_waiting:
                    latencies.append((by_waiting[k] - started) * 1000)
                else:
                    missing += 1
        return {
            "connections": connections, "tickets": tickets, "pushes": len(latencies), "missing": missing,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99), "max_ms": max(latencies),
            "rss_before_mb": before, "rss_after_mb": after, "rss_per_connection_kb": (after - before) * 1024 / connections,
        }
    finally:
        server.terminate()
        server.wait(20)
        broker.terminate()
        broker.wait(10)


# --- --compare: the same hub behind two servers -------------------------------------------------------------


def synthetic_server(kind: str, port: int, interval: float) -> None:
    """Child process: a hub publishing {"t": time} every `interval` seconds, served by `kind`."""
    from queue_server.live import LiveHub, TopicFilter, snapshot_json, sse_frame

    hub = LiveHub("motcua/bench")

    class Item:
        topic = "motcua/bench/state/queue"
        retain = True

        def __init__(self) -> None:
            self.payload = json.dumps({"t": time.time()}).encode()

        def encoded(self) -> bytes:
            return self.payload

    def tick() -> None:
        while True:
            time.sleep(interval)
            hub.publish([Item()])

    hub.publish([Item()])
    threading.Thread(target=tick, daemon=True).start()
    if kind == "uvicorn":
        import uvicorn
        from flask import Flask

        from queue_server.web import asgi_app

        uvicorn.run(asgi_app(Flask(__name__), hub), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        import queue

        import waitress

        def app(environ, start_response):
            inbox: queue.Queue = queue.Queue()
            sub, state = hub.subscribe(inbox.put_nowait)
            wanted = TopicFilter.parse("queue")
            start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])

            def frames():
                try:
                    yield sse_frame("snapshot", snapshot_json(hub.boot, hub.seq, state))
                    while True:
                        change = inbox.get()
                        if wanted(change.topic):
                            yield sse_frame("change", change.as_json())
                finally:
                    hub.unsubscribe(sub)

            return frames()

        waitress.serve(app, host="127.0.0.1", port=port, threads=CONNECTIONS_MAX + 8, connection_limit=CONNECTIONS_MAX + 100,
                       _quiet=True)


CONNECTIONS_MAX = 1000


def compare_one(kind: str, connections: int, seconds: float = 5.0) -> dict:
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve-synthetic", kind, "--port", str(port)], cwd=ROOT)
    try:
        wait_for_port(port, 30)
        time.sleep(0.5)
        before = rss_mb(child.pid)

        async def run() -> tuple[list[Page], float]:
            stop = asyncio.Event()
            pages, tasks = await open_pages(port, connections, "queue", stop)
            await asyncio.sleep(1.0)
            connected = rss_mb(child.pid)
            for page in pages:
                page.changes.clear()
            await asyncio.sleep(seconds)
            stop.set()
            for task in tasks:
                task.cancel()
            return pages, connected

        pages, after = asyncio.run(run())
        latencies = [(at - change["payload"]["t"]) * 1000 for page in pages for at, change in page.changes]
        return {"server": kind, "connections": connections, "pushes": len(latencies), "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99), "rss_before_mb": before, "rss_after_mb": after,
                "rss_per_connection_kb": (after - before) * 1024 / connections}
    finally:
        child.terminate()
        child.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--serve-synthetic", choices=("uvicorn", "waitress"))
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve_synthetic:
        synthetic_server(args.serve_synthetic, args.port, 0.1)
        return
    if args.compare:
        rows = [compare_one(kind, args.connections) for kind in ("uvicorn", "waitress")]
        lines = ["| server | streams | pushes | p50 ms | p99 ms | RSS before MB | RSS with streams MB | per stream KB |",
                 "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['server']} | {r['connections']} | {r['pushes']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                  f"{r['rss_before_mb']:.1f} | {r['rss_after_mb']:.1f} | {r['rss_per_connection_kb']:.1f} |" for r in rows]
        out = RESULTS / "live_push_compare.md"
    else:
        r = end_to_end(args.connections, args.tickets)
        lines = [
            f"{r['connections']} pages following `queue` on `motcua server` (uvicorn, Mosquitto), {r['tickets']} tickets "
            "issued one at a time; latency from just before each request was sent to the change arriving at each page.",
            "",
            "| pages | pushes | missing | p50 ms | p99 ms | max ms | server RSS before MB | with pages MB | per page KB |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {r['connections']} | {r['pushes']} | {r['missing']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
            f"{r['rss_before_mb']:.1f} | {r['rss_after_mb']:.1f} | {r['rss_per_connection_kb']:.1f} |",
        ]
        out = RESULTS / "live_push.md"
    text = "\n".join(lines) + "\n"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
