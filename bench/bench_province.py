"""Province scale, measured on this machine (all three cluster nodes, PostgreSQL and every office on one box).

1. Throughput: 500 simulated offices, each a real office database written by the engine,
   each with its own forwarder and cluster connection (4 processes), through the 3-node NATS
   cluster into a `motcua hub` process and PostgreSQL 15: events/s end to end.
2. A week offline: one office with 70,000 events in its log and its queue server running;
   mid-replay a power cut at the office (kill -9 of the forwarder and the queue server, both
   restarted), then a full cluster restart. Counted at the hub: missing and duplicate rows,
   and the seconds from the cluster being back to the hub holding everything.

Run: .venv/bin/python bench/bench_province.py   (writes bench/results/province.md and .json)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.province_support import LocalPostgres, ProvinceCredentials, simulate_office, wait_until  # noqa: E402
from bench.support import free_port, summary  # noqa: E402
from motcua.broker_url import parse_broker_url  # noqa: E402
from queue_server import config as office_config  # noqa: E402
from queue_server.province.cluster import LocalCluster  # noqa: E402
from queue_server.province.topics import ProvinceTopics  # noqa: E402

OFFICES = int(os.environ.get("PROVINCE_OFFICES", 500))
EVENTS_PER_OFFICE = int(os.environ.get("PROVINCE_EVENTS_PER_OFFICE", 400))
WORKERS = 4
WEEK_EVENTS = int(os.environ.get("PROVINCE_WEEK_EVENTS", 70_000))
EXAMPLE = ROOT / "firmware_config" / "office.example.toml"
RESULTS = ROOT / "bench" / "results"


def office_file(workdir: Path, office: str, mqtt_urls: list[str], root: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace('id = "ubnd-huyen-demo"', f'id = "{office}"', 1)
    text = text.replace("issue_outside_hours = false", "issue_outside_hours = true")
    text += f"\n[province]\nbrokers = {json.dumps(mqtt_urls)}\ntopic_root = \"{root}\"\n"
    path = workdir / f"{office}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def credential_file(path: Path, username: str, password: str) -> Path:
    path.write_text(f'username = "{username}"\npassword = "{password}"\n')
    os.chmod(path, 0o600)
    return path


def start_hub(workdir: Path, pg: LocalPostgres, cluster: LocalCluster, creds: ProvinceCredentials, root: str) -> subprocess.Popen:
    conf = workdir / "hub.toml"
    conf.write_text(f'[hub]\ndatabase = "{pg.dsn}"\nbrokers = {json.dumps(cluster.mqtt_urls)}\n'
                    f'credentials = "{credential_file(workdir / "hub.credentials", creds.hub.username, creds.hub.password)}"\n'
                    f'client_id = "bench-hub"\ntopic_root = "{root}"\n', encoding="utf-8")
    log = open(workdir / "hub.log", "ab")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "motcua", "hub", "--config", str(conf), "--no-http", "--log-level", "WARNING"],
                            cwd=ROOT, env={**os.environ, **pg.env()}, stdout=log, stderr=log)


def make_offices(workdir: Path, n: int) -> list[tuple[str, Path]]:
    """One engine-written template day, copied per office with its own id and fresh event ids."""
    config = office_config.load(EXAMPLE).with_overrides(issue_outside_hours=True)
    template = workdir / "template"
    simulate_office(template, config, EVENTS_PER_OFFICE)
    out = []
    for i in range(n):
        office = f"xa-{i:03d}"
        data = workdir / "offices" / office
        data.mkdir(parents=True)
        shutil.copy(template / "motcua.db", data / "motcua.db")
        conn = sqlite3.connect(data / "motcua.db")
        conn.execute("UPDATE events SET office = ?, id = lower(hex(randomblob(16)))", [office])
        conn.execute("UPDATE meta SET value = ? WHERE key = 'office'", [office])
        conn.commit()
        conn.close()
        out.append((office, data / "motcua.db"))
    return out


def forwarder_worker(offices: list[tuple[str, str]], mqtt_urls: list[str], password: str, root: str, stop) -> None:
    from queue_server.province.credentials import Credential
    from queue_server.province.forwarder import Forwarder, ForwarderOptions
    from queue_server.province.outbox import OfficeLog

    config = office_config.load(EXAMPLE)
    brokers = [parse_broker_url(u) for u in mqtt_urls]
    flag = threading.Event()
    threads = []
    for i, (office, db) in enumerate(offices):
        cfg = config.with_overrides(id=office)
        # Spread the connections over the three nodes, as offices with different first nodes would.
        ordered = brokers[i % 3:] + brokers[: i % 3]
        fw = Forwarder(OfficeLog(db, cfg), office, f"Trung tâm xã {office}", ordered, Credential(office, password),
                       ProvinceTopics(root), ForwarderOptions(poll_seconds=0.5))
        t = threading.Thread(target=fw.run, args=(flag,), daemon=True)
        t.start()
        threads.append(t)
    stop.wait()
    flag.set()
    for t in threads:
        t.join(10)


def hub_total(pg: LocalPostgres) -> int:
    with psycopg.connect(pg.admin_dsn()) as conn:
        return conn.execute("SELECT COALESCE(sum(position), 0) FROM offices").fetchone()[0]


def throughput(workdir: Path, pg: LocalPostgres, cluster: LocalCluster, creds: ProvinceCredentials, root: str) -> dict:
    offices = make_offices(workdir, OFFICES)
    total = sum(sqlite3.connect(db).execute("SELECT max(seq) FROM events").fetchone()[0] for _, db in offices)
    stop = multiprocessing.Event()
    groups = [offices[i::WORKERS] for i in range(WORKERS)]
    start = time.monotonic()
    procs = [multiprocessing.Process(target=forwarder_worker, args=([(o, str(d)) for o, d in g], cluster.mqtt_urls,
                                                                      creds.shared_password, root, stop)) for g in groups]
    for p in procs:
        p.start()
    first = wait_until(lambda: hub_total(pg) > 0, 120, 0.05, "first events at the hub")
    elapsed = wait_until(lambda: hub_total(pg) >= total, 600, 0.1, "all events at the hub")  # from the first to the last
    wall = time.monotonic() - start
    stop.set()
    for p in procs:
        p.join(30)
    with psycopg.connect(pg.admin_dsn()) as conn:
        rows, distinct = conn.execute("SELECT count(*), count(DISTINCT (office, id)) FROM events").fetchone()
    return {"offices": OFFICES, "events": total, "seconds": round(elapsed, 2), "first_event_seconds": round(first, 2),
            "wall_seconds": round(wall, 2), "events_per_second_wall": round(total / wall),
            "events_per_second": round(total / elapsed), "hub_rows": rows, "hub_distinct": distinct}


def traffic(url: str, office: str, stop: threading.Event, counter: list[int], latencies: list[tuple[float, float]]) -> None:
    """A kiosk taking numbers while the office is replaying its week (requests to a dead server just time out)."""
    from motcua.client import DeviceClient, RequestTimeout

    while not stop.is_set():
        try:
            with DeviceClient(url, office, "kiosk-02") as client:
                while not stop.is_set():
                    sent = time.monotonic()
                    client.request("ticket.issue", timeout=1, retries=0, service="HT")
                    latencies.append((sent, (time.monotonic() - sent) * 1000))
                    counter[0] += 1
                    stop.wait(0.05)
        except (RequestTimeout, OSError, TimeoutError, RuntimeError):  # paho: RuntimeError when closing a dead link
            stop.wait(0.5)


def week_offline(workdir: Path, pg: LocalPostgres, cluster: LocalCluster, creds: ProvinceCredentials, root: str) -> dict:
    office = "xa-mot-tuan"
    data = workdir / office
    conf = office_file(workdir, office, cluster.mqtt_urls, root)
    config = office_config.load(conf)
    t0 = time.monotonic()
    simulate_office(data, config, WEEK_EVENTS)
    generated = time.monotonic() - t0
    db = data / "motcua.db"
    c = creds.office(office)
    cred_file = credential_file(workdir / "office.credentials", c.username, c.password)
    mqtt_port = free_port()

    def server() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "motcua", "server", "--config", str(conf), "--data", str(data),
                                 "--mqtt-listen", f"127.0.0.1:{mqtt_port}", "--no-http", "--log-level", "WARNING"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def forwarder() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "motcua", "forward", "--config", str(conf), "--data", str(data),
                                 "--credentials", str(cred_file), "--log-level", "WARNING"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def position() -> int:
        with psycopg.connect(pg.admin_dsn()) as conn:
            row = conn.execute("SELECT position FROM offices WHERE office = %s", [office]).fetchone()
        return row[0] if row else 0

    qs = server()
    stop, issued, latencies = threading.Event(), [0], []
    kiosk = threading.Thread(target=traffic, args=(f"mqtt://127.0.0.1:{mqtt_port}", office, stop, issued, latencies), daemon=True)
    kiosk.start()
    wait_until(lambda: len(latencies) >= 60, 60, 0.05, "the kiosk served before the replay")  # about 3 s of tickets
    fw = forwarder()
    start = time.monotonic()
    wait_until(lambda: position() >= WEEK_EVENTS * 0.25, 300, 0.02, "a quarter of the week at the hub")
    cut_at = position()
    before = [ms for at, ms in latencies if at < start]
    during = [ms for at, ms in latencies if at >= start]
    fw.send_signal(signal.SIGKILL)
    qs.send_signal(signal.SIGKILL)
    fw.wait(10)
    qs.wait(10)
    qs = server()
    fw = forwarder()
    wait_until(lambda: position() >= WEEK_EVENTS * 0.55, 300, 0.02, "over half of the week at the hub")
    restart_at = position()
    stopped = time.monotonic()
    cluster.stop()
    stop.set()  # the kiosk stops so that "caught up" has a fixed target
    kiosk.join(10)
    back = cluster.restart()
    with sqlite3.connect(db) as conn:
        last = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    caught_up = wait_until(lambda: position() >= last, 300, 0.1, "hub caught up after the cluster restart")
    since_stop = time.monotonic() - stopped
    total_time = time.monotonic() - start
    fw.terminate()
    qs.terminate()
    fw.wait(10)
    qs.wait(10)
    with sqlite3.connect(db) as conn:
        local = dict(conn.execute("SELECT seq, id FROM events"))
    with psycopg.connect(pg.admin_dsn()) as conn:
        hub = conn.execute("SELECT seq, id FROM events WHERE office = %s", [office]).fetchall()
    hub_map = dict(hub)
    missing = sum(1 for s in local if s not in hub_map)
    wrong = sum(1 for s, i in hub_map.items() if local.get(s) != i)
    duplicates = len(hub) - len({i for _, i in hub}) + wrong
    return {"events": len(local), "generated_seconds": round(generated, 1), "kiosk_tickets_during_replay": issued[0],
            "ticket_ms_before": summary(before) if before else None, "ticket_ms_during": summary(during) if during else None,
            "power_cut_at": cut_at, "cluster_restart_at": restart_at, "cluster_back_seconds": round(back, 1),
            "caught_up_after_cluster_back_seconds": round(caught_up, 1), "replay_seconds": round(total_time, 1),
            "caught_up_after_cluster_stop_seconds": round(since_stop, 1),
            "missing": missing, "duplicates": duplicates, "hub_rows": len(hub)}


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="motcua-province-bench-"))
    root = f"bench/{uuid.uuid4().hex[:6]}"
    creds = ProvinceCredentials(shared_password=uuid.uuid4().hex)
    for i in range(OFFICES):
        creds.office(f"xa-{i:03d}")
    creds.office("xa-mot-tuan")
    pg = LocalPostgres().start()
    cluster = LocalCluster(workdir / "nats", creds.users(), topics=ProvinceTopics("bench/*")).start()
    hub = start_hub(workdir, pg, cluster, creds, root)

    def hub_ready() -> bool:
        with psycopg.connect(pg.admin_dsn()) as conn:
            return conn.execute("SELECT to_regclass('offices') IS NOT NULL").fetchone()[0]

    try:
        wait_until(hub_ready, 60, 0.2, f"hub started (see {workdir}/hub.log)")
        print(f"== throughput: {OFFICES} offices x ~{EVENTS_PER_OFFICE} events", flush=True)
        a = throughput(workdir, pg, cluster, creds, root)
        print(json.dumps(a, indent=2), flush=True)
        print(f"== a week offline: {WEEK_EVENTS} events, power cut, full cluster restart", flush=True)
        b = week_offline(workdir, pg, cluster, creds, root)
        print(json.dumps(b, indent=2), flush=True)
    finally:
        hub.terminate()
        hub.wait(20)
        cluster.stop()
        pg.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "province.json").write_text(json.dumps({"throughput": a, "week_offline": b}, indent=2) + "\n")
    def ms(s: dict | None) -> str:
        return f"{s['p50']:.1f} / {s['p99']:.1f} ms ({s['n']} tickets)" if s else "-"

    md = (
        f"| measure | value |\n| --- | --- |\n"
        f"| offices (each its own forwarder and connection) | {a['offices']} |\n"
        f"| events through the 3-node NATS cluster into PostgreSQL | {a['events']:,} in {a['seconds']} s |\n"
        f"| **end to end, first to last event at the hub** | **{a['events_per_second']:,} events/s** |\n"
        f"| first event at the hub after the forwarders started (processes, {a['offices']} connections) | {a['first_event_seconds']} s |\n"
        f"| including that start: whole run | {a['wall_seconds']} s, {a['events_per_second_wall']:,} events/s |\n"
        f"| rows at the hub / distinct | {a['hub_rows']:,} / {a['hub_distinct']:,} |\n"
        f"| a week offline: events replayed (office kept issuing during it) | {b['events']:,} ({b['kiosk_tickets_during_replay']} tickets) |\n"
        f"| office's ticket.issue p50 / p99, before the replay | {ms(b['ticket_ms_before'])} |\n"
        f"| office's ticket.issue p50 / p99, during the replay (forwarder reading at full speed) | {ms(b['ticket_ms_during'])} |\n"
        f"| power cut (kill -9 forwarder and queue server) at hub position | {b['power_cut_at']:,} |\n"
        f"| full cluster restart at hub position; nodes back after | {b['cluster_restart_at']:,}; {b['cluster_back_seconds']} s |\n"
        f"| **hub caught up after the cluster was back** (all nodes healthy) | **{b['caught_up_after_cluster_back_seconds']} s** |\n"
        f"| hub caught up after the cluster was stopped (stop, restart, replay) | {b['caught_up_after_cluster_stop_seconds']} s |\n"
        f"| **missing / duplicate rows at the hub** | **{b['missing']} / {b['duplicates']}** |\n"
    )
    (RESULTS / "province.md").write_text(md)
    print(md)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
