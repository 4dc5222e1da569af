"""Backups with rotation, restore, and every fault `motcua doctor` claims to detect, staged for real:
a real Mosquitto, a real server, real SQLite files (one corrupted on purpose), real old files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from bench.support import free_port
from motcua.client import DeviceClient
from queue_server import backups
from queue_server.store import DB_FILENAME, StoreError
from tests.conftest import EXAMPLE_CONFIG, run_cli

pytestmark = pytest.mark.mosquitto
MOTCUA = str(Path(sys.executable).with_name("motcua"))


def doctor(mosquitto, data: Path, *more: str) -> tuple[int, list[dict]]:
    out = subprocess.run([MOTCUA, "doctor", "--config", str(EXAMPLE_CONFIG), "--broker", f"mqtt://127.0.0.1:{mosquitto.port}",
                          "--data", str(data), "--json", *more], capture_output=True, text=True, timeout=60)
    return out.returncode, json.loads(out.stdout)


def lines(checks: list[dict], name: str, subject: str | None = None) -> list[dict]:
    return [c for c in checks if c["check"] == name and (subject is None or c["subject"] == subject)]


@pytest.fixture
def office(start_server, mosquitto, tmp_path):
    server = start_server(broker=mosquitto.server_url(), data_dir=tmp_path / "data")
    kiosk = DeviceClient(mosquitto.url("kiosk-01"), server.config.id, "kiosk-01").connect()
    yield server, kiosk
    kiosk.close()


def test_rotation_keeps_the_newest(office, tmp_path):
    server, _ = office
    out = tmp_path / "backups"
    out.mkdir()
    (out / "pre-upgrade-20260101-000000.db").write_bytes(b"kept: not a rotated name")
    written = [backups.rotate(server.db_path, out, keep=3, now=datetime(2026, 11, day, 2, 30))[0] for day in range(1, 6)]
    left = sorted(p.name for p in out.iterdir())
    assert left == ["motcua-20261103-023000.db", "motcua-20261104-023000.db", "motcua-20261105-023000.db",
                    "pre-upgrade-20260101-000000.db"]
    assert backups.check(written[-1]) >= 1
    result = run_cli("backup", "--data", str(tmp_path / "data"), "--rotate", str(out), "--keep", "2")
    assert result.returncode == 0, result.stderr
    assert len([p for p in out.iterdir() if backups.BACKUP_NAME.match(p.name)]) == 2


def test_backup_under_load_restores_every_acknowledged_ticket(office, mosquitto, tmp_path):
    server, _ = office
    acked: list[tuple[float, str]] = []
    stop = threading.Event()

    def issue() -> None:
        with DeviceClient(mosquitto.url("console"), server.config.id, "console") as console:
            while not stop.is_set():
                reply = console.request("ticket.issue", service="HT")
                assert reply["ok"], reply
                acked.append((time.monotonic(), reply["ticket"]["number"]))

    worker = threading.Thread(target=issue)
    worker.start()
    deadline = time.monotonic() + 20
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    dest, _, _ = backups.rotate(server.db_path, tmp_path / "backups", keep=5)
    stop.set()
    worker.join(10)
    before = {tid for at, tid in acked if at < started}
    assert len(before) >= 30 and len(acked) > len(before) - 1
    restored = tmp_path / "restored"
    result = run_cli("restore", "--data", str(restored), str(dest))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(restored / DB_FILENAME)
    tickets = {row[0] for row in conn.execute("SELECT number FROM tickets")}
    ids = {row[0] for row in conn.execute("SELECT id FROM tickets")}
    issued = [row[0] for row in conn.execute("SELECT data FROM events WHERE type = 'TicketIssued'")]
    assert before <= tickets
    # The snapshot is one transaction: no ticket without its event, no event without its ticket.
    assert len(tickets) == len(issued) and all(any(tid in data for data in issued) for tid in ids)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _healthy(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_restore_refuses_a_running_server_unless_forced(mosquitto, credentials, tmp_path):
    data = tmp_path / "data"
    http = free_port()
    proc = subprocess.Popen([MOTCUA, "server", "--config", str(EXAMPLE_CONFIG), "--data", str(data), "--always-open",
                             "--broker", f"mqtt://motcua-server@127.0.0.1:{mosquitto.port}", "--http-listen", f"127.0.0.1:{http}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(http):  # serving: its tables exist (the -shm file alone comes before them)
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.1)
        good = tmp_path / "good.db"
        backups.rotate(data / DB_FILENAME, tmp_path, keep=1)
        os.replace(next(tmp_path.glob("motcua-*.db")), good)
        assert backups.in_use(data / DB_FILENAME)
        refused = run_cli("restore", "--data", str(data), str(good))
        assert refused.returncode != 0 and "running server" in refused.stderr
        forced = run_cli("restore", "--data", str(data), "--force", str(good))
        assert forced.returncode == 0, forced.stderr
    finally:
        proc.terminate()
        proc.wait(20)
    assert not backups.in_use(data / DB_FILENAME)  # the server is gone: nothing holds the lock any more
    again = run_cli("restore", "--data", str(data), str(good))
    assert again.returncode == 0 and "previous database" in again.stdout


def test_restore_refuses_a_corrupt_backup(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    result = run_cli("restore", "--data", str(tmp_path / "data"), str(bad))
    assert result.returncode != 0 and "bad.db" in result.stderr
    assert not (tmp_path / "data" / DB_FILENAME).exists()
    with pytest.raises(StoreError):
        backups.check(tmp_path / "missing.db")


def test_doctor_all_green_lines_and_a_declared_device_offline(office, mosquitto, tmp_path):
    server, _kiosk = office
    backups.rotate(server.db_path, tmp_path / "data" / "backups", keep=3)
    code, checks = doctor(mosquitto, tmp_path / "data")
    assert code == 1  # every declared device but kiosk-01 is offline
    status = {c["check"]: c["status"] for c in checks if c["check"] in ("broker", "database", "backup", "disk")}
    assert status == {"broker": "OK", "database": "OK", "backup": "OK", "disk": "OK"}
    assert lines(checks, "device", "kiosk-01")[0]["status"] == "OK"
    assert lines(checks, "device", "quay-03")[0]["status"] == "FAIL"
    assert [c["status"] for c in checks if c["check"] == "clock" and not c["subject"]] == ["OK"]
    human = subprocess.run([MOTCUA, "doctor", "--config", str(EXAMPLE_CONFIG), "--broker", f"mqtt://127.0.0.1:{mosquitto.port}",
                            "--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert human.returncode == 1
    assert any(line.startswith("OK    broker") for line in human.stdout.splitlines())
    assert any(line.startswith("FAIL  device") and "quay-03" in line for line in human.stdout.splitlines())


def test_doctor_printer_out_of_paper(office, mosquitto, tmp_path):
    _, kiosk = office
    assert kiosk.request("device.status", state="no_paper", component="printer", detail="hết giấy")["ok"]
    code, checks = doctor(mosquitto, tmp_path / "data")
    printer = lines(checks, "printer", "kiosk-01")
    assert code == 1 and printer and printer[0]["status"] == "FAIL" and "out of paper" in printer[0]["detail"]


def test_doctor_broker_unreachable_and_refused(mosquitto, tmp_path, monkeypatch):
    code, checks = doctor(mosquitto, tmp_path, "--broker", f"mqtt://127.0.0.1:{free_port()}")
    assert code == 1 and lines(checks, "broker")[0]["status"] == "FAIL" and "cannot reach" in lines(checks, "broker")[0]["detail"]
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[credentials]\nconsole = "not-the-password"\n')
    code, checks = doctor(mosquitto, tmp_path, "--credentials", str(wrong))
    assert code == 1 and "refused" in lines(checks, "broker")[0]["detail"]


def test_doctor_corrupt_database_old_backup_full_disk_skewed_clock(office, mosquitto, tmp_path):
    server, _ = office
    data = tmp_path / "data"
    old = data / "backups" / "motcua-20200101-023000.db"
    old.parent.mkdir(exist_ok=True)
    backups.rotate(server.db_path, old.parent, keep=3)
    next(old.parent.glob("motcua-*.db")).rename(old)
    os.utime(old, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    code, checks = doctor(mosquitto, data, "--min-free-mb", str(10**12), "--clock-offset", "600")
    assert lines(checks, "backup")[0]["status"] == "WARN" and "72" in lines(checks, "backup")[0]["detail"]
    assert lines(checks, "disk")[0]["status"] == "FAIL"
    clock = next(c for c in checks if c["check"] == "clock" and not c["subject"])
    # The retained state/clock is a few seconds old when read: the skew is the offset plus that age.
    assert clock["status"] == "FAIL" and "s ahead of the server" in clock["detail"]
    assert 595 <= int(clock["detail"].split()[3]) <= 640
    # A database corrupted on purpose: a copy whose pages in the middle are overwritten.
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    copy = bad_dir / DB_FILENAME
    backups.rotate(server.db_path, bad_dir, keep=1)
    next(bad_dir.glob("motcua-*.db")).rename(copy)
    raw = bytearray(copy.read_bytes())
    page = 4096
    for n in range(2, len(raw) // page):
        raw[n * page + 8: n * page + 200] = os.urandom(192)
    copy.write_bytes(bytes(raw))
    code, checks = doctor(mosquitto, bad_dir)
    assert code == 1 and lines(checks, "database")[0]["status"] == "FAIL"
