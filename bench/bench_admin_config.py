"""Configuration change benchmark: how long a change made in the admin page takes to reach the devices.

    .venv/bin/python bench/bench_admin_config.py [--changes N]

A queue server (its own process) on Debian's Mosquitto, seeded with each example office (the
commune centre and the provincial centre). The admin device sends `office.configure` N times,
each time the whole document with one counter's spoken name changed (what the counters page
sends); a kiosk follows the retained `state/office`. Measured: from the request to the reply
(validation of the whole document, the safety checks against today's tickets, the commit), and
to the kiosk holding the changed OfficeInfo. The page adds its HTTP round trip on top.
Prints the numbers and writes bench/results/admin_config.md.
"""

from __future__ import annotations

import argparse
import copy
import platform
import sys
import tempfile
import threading
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import bench_credentials, start_mosquitto, start_server, summary
from motcua import protocol as p
from motcua.client import DeviceClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "admin_config.md"
OFFICES = {"commune": ROOT / "firmware_config" / "office.example.toml", "province": ROOT / "firmware_config" / "office.province.example.toml"}


def bench_office(seed: Path, changes: int, workdir: Path, broker_port: int) -> dict[str, object]:
    document = tomllib.loads(seed.read_text(encoding="utf-8"))
    office_id = document["office"]["id"]
    admin = next(d["id"] for d in document["devices"] if d["role"] == "admin")
    kiosk_id = next(d["id"] for d in document["devices"] if d["role"] == "kiosk")
    broker = f"mqtt://127.0.0.1:{broker_port}"
    server = start_server(seed, workdir / office_id, broker)
    seen: dict[str, float] = {}
    arrived = threading.Condition()

    def on_office(topic: str, payload: bytes) -> None:
        info = p.OfficeInfo.from_payload(p.decode_json(payload))
        with arrived:
            seen.setdefault(info.counters[0].spoken_name, time.perf_counter())
            arrived.notify_all()

    try:
        with DeviceClient(broker, office_id, admin) as console, DeviceClient(broker, office_id, kiosk_id) as kiosk:
            console.request("office.notice", timeout=30)  # the server is up and answering
            kiosk.subscribe(kiosk.topics.state_office, on_office)
            to_reply, to_kiosk = [], []
            for i in range(changes):
                changed = copy.deepcopy(document)
                spoken = f"quầy đo số {i}"
                changed["counters"][0]["spoken_name"] = spoken
                t0 = time.perf_counter()
                reply = console.request("office.configure", document=changed)
                t1 = time.perf_counter()
                assert reply["ok"], reply
                with arrived:
                    assert arrived.wait_for(lambda s=spoken: s in seen, 10), "the kiosk never saw the change"
                to_reply.append((t1 - t0) * 1000)
                to_kiosk.append((seen[spoken] - t0) * 1000)
        return {"counters": len(document["counters"]), "devices": len(document["devices"]),
                "bytes": len(p.dumps({"document": document})), "reply": summary(to_reply), "kiosk": summary(to_kiosk)}
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    results = {}
    for name, seed in OFFICES.items():  # one broker per office: its credentials and topic rules are the office's
        with tempfile.TemporaryDirectory() as tmp:
            broker, port = start_mosquitto(Path(tmp), bench_credentials(seed, Path(tmp)))
            try:
                results[name] = bench_office(seed, args.changes, Path(tmp), port)
            finally:
                broker.terminate()
                broker.wait(10)
    lines = [
        f"Configuration changes through the engine ({args.changes} per office; {platform.node()}, "
        f"{datetime.now(UTC):%Y-%m-%d}; `python bench/bench_admin_config.py`):",
        "",
        "| office | counters | devices | document bytes | to reply p50 / p99 ms | to kiosk's state/office p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        reply, kiosk = r["reply"], r["kiosk"]
        lines.append(f"| {name} | {r['counters']} | {r['devices']} | {r['bytes']} | {reply['p50']:.1f} / {reply['p99']:.1f} | "
                     f"{kiosk['p50']:.1f} / {kiosk['p99']:.1f} |")
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
