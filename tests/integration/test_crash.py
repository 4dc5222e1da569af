"""Power cut: kill -9 the server during a burst of 2,000 tickets from 20 kiosks, then restart.

After the restart every acknowledged ticket is in the store with the number the kiosk
printed, no number was issued twice that day, issuing continues from the right next
number, and the event log's sequence has no gap and no repeat.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from motcua.client import DeviceClient
from queue_server.broker_acl import SERVER_USER
from queue_server.config import load
from queue_server.credentials import ensure
from tests.conftest import EXAMPLE_CONFIG, ROOT, Mosquitto

KIOSKS = 20
PER_KIOSK = 100
KILL_AFTER_ACKS = 600
SERVICES = ["HT", "DD", "XD", "KD", "LD"]


def office_with_kiosks(tmp_path: Path) -> Path:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text += "".join(f'\n[[devices]]\nid = "burst-{i:02d}"\nrole = "kiosk"\ntickets_per_minute = 0\ntickets_per_hour = 0\n' for i in range(KIOSKS))
    path = tmp_path / "office.toml"
    path.write_text(text, encoding="utf-8")
    return path


def start_server(config: Path, data: Path, broker_url: str) -> subprocess.Popen:
    # The server finds its password through MOTCUA_CREDENTIALS (set by the `credentials` fixture).
    return subprocess.Popen(
        [sys.executable, "-m", "motcua", "server", "--config", str(config), "--data", str(data),
         "--broker", broker_url, "--no-http", "--always-open", "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.mosquitto
@pytest.mark.slow
def test_no_acknowledged_ticket_is_lost_when_the_server_is_killed(tmp_path, credentials, request):
    config = office_with_kiosks(tmp_path)
    creds, _ = ensure(load(config), credentials.directory)  # one credential per burst kiosk too
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    mosquitto = Mosquitto(workdir, creds).start()
    request.addfinalizer(mosquitto.stop)
    data = tmp_path / "data"
    broker_url = f"mqtt://{SERVER_USER}@127.0.0.1:{mosquitto.port}"
    device_url = mosquitto.url()
    office_id = "ubnd-huyen-demo"

    acked: dict[str, tuple[str, str]] = {}  # request id -> (number, service) the kiosk would print
    progress = threading.Condition()
    failures: list[BaseException] = []

    def kiosk(index: int) -> None:
        service = SERVICES[index % len(SERVICES)]
        try:
            with DeviceClient(device_url, office_id, f"burst-{index:02d}") as client:
                for n in range(PER_KIOSK):
                    rid = f"k{index:02d}-{n:03d}"
                    # A kiosk that times out re-sends the same id (many times: the server is down a while).
                    reply = client.request("ticket.issue", request_id=rid, timeout=2.0, retries=30, service=service)
                    assert reply["ok"], reply
                    with progress:
                        acked[rid] = (reply["ticket"]["number"], service)
                        progress.notify_all()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            with progress:
                progress.notify_all()

    server = start_server(config, data, broker_url)
    threads = [threading.Thread(target=kiosk, args=(i,), daemon=True) for i in range(KIOSKS)]
    for t in threads:
        t.start()
    with progress:
        assert progress.wait_for(lambda: len(acked) >= KILL_AFTER_ACKS or failures, timeout=120)
    assert not failures, failures
    server.send_signal(signal.SIGKILL)  # the power cut: no shutdown code runs
    server.wait()
    acked_before_kill = dict(acked)
    assert len(acked_before_kill) < KIOSKS * PER_KIOSK, "the burst ended before the kill; raise PER_KIOSK"

    server = start_server(config, data, broker_url)
    try:
        for t in threads:
            t.join(timeout=300)
        assert not failures, failures
        assert len(acked) == KIOSKS * PER_KIOSK

        with DeviceClient(device_url, office_id, "console") as console:
            after = {s: console.request("ticket.issue", service=s)["ticket"]["number"] for s in SERVICES}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    db = sqlite3.connect(data / "motcua.db")
    stored = dict(db.execute("SELECT number, service FROM tickets"))
    # Every acknowledged ticket is stored with the number the kiosk printed and its service.
    for rid, (number, service) in acked.items():
        assert stored.get(number) == service, (rid, number)
    # No number twice: 2,000 distinct acknowledged numbers, and nothing stored that nobody was given.
    numbers = [number for number, _ in acked.values()]
    assert len(set(numbers)) == len(numbers) == KIOSKS * PER_KIOSK
    assert len(stored) == KIOSKS * PER_KIOSK + len(SERVICES)
    # Issuing continued from the right next number in each block.
    for service in SERVICES:
        issued = sorted(int(n) for n, s in acked.values() if s == service)
        assert issued == list(range(issued[0], issued[0] + len(issued))), f"{service} numbers have a gap"
        assert int(after[service]) == issued[-1] + 1
    # The event log: gap-free, no repeat, one TicketIssued per stored ticket.
    seqs = [row[0] for row in db.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert db.execute("SELECT COUNT(*) FROM events WHERE type = 'TicketIssued'").fetchone()[0] == len(stored)
    assert db.execute("SELECT COUNT(DISTINCT id) FROM events").fetchone()[0] == len(seqs)
    # The durability settings are those of the live file: WAL in the header.
    assert (data / "motcua.db").read_bytes()[18:20] == b"\x02\x02"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
