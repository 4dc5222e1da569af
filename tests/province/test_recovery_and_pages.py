"""A forwarder killed mid-batch, the big screen in headless Chromium, the province-wide dossier lookup."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from bench.province_support import simulate_office, wait_until
from bench.support import free_port
from motcua.clock import SystemClock
from queue_server import config as oc
from queue_server.dossiers import db as dossier_db
from queue_server.dossiers.sync import apply_updates
from queue_server.province.outbox import ensure_migrated
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.province.conftest import hub_rows

pytestmark = [pytest.mark.province, pytest.mark.slow]

OFFICE = "ubnd-huyen-demo"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def office_toml(tmp_path: Path, cluster, topics, hub_url: str | None = None, office_id: str = OFFICE) -> Path:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace('id = "ubnd-huyen-demo"', f'id = "{office_id}"', 1)
    text += "\n[province]\n" + f"brokers = {json.dumps(cluster.mqtt_urls)}\n" + f'topic_root = "{topics.root}"\n'
    if hub_url:
        text += f'hub_url = "{hub_url}"\nlookup_timeout_seconds = 2\n'
    path = tmp_path / f"{office_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_forwarder_killed_mid_batch_resumes_without_loss(tmp_path, office_db, start_hub, database, cluster, topics, province_credentials):
    db = office_db(8000)
    with sqlite3.connect(db) as conn:
        total = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    start_hub()
    creds = tmp_path / "province.credentials"
    c = province_credentials.office(OFFICE)
    creds.write_text(f'username = "{c.username}"\npassword = "{c.password}"\n')
    os.chmod(creds, 0o600)
    config = office_toml(tmp_path, cluster, topics)
    command = [sys.executable, "-m", "motcua", "forward", "--config", str(config), "--data", str(db.parent),
               "--credentials", str(creds), "--log-level", "WARNING"]
    assert c.password not in " ".join(command)  # the secret is never on the command line
    log = open(tmp_path / "forward.log", "ab")  # noqa: SIM115 - closed at the end of the test
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    wait_until(lambda: hub_rows(database, OFFICE)[3] >= 1000, 60, interval=0.02, what="first events at the hub")
    proc.send_signal(signal.SIGKILL)  # a power cut: no goodbye, chunks in flight
    proc.wait(10)
    stored = hub_rows(database, OFFICE)[3]
    assert 1000 <= stored < total, "killed too late to be mid-replay"
    again = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until(lambda: hub_rows(database, OFFICE)[3] == total, 90, what="hub caught up after the restart")
    finally:
        again.terminate()
        again.wait(10)
        log.close()
    with sqlite3.connect(db) as conn:
        local = dict(conn.execute("SELECT seq, id FROM events"))
    with psycopg.connect(database) as conn:
        hub = dict(conn.execute("SELECT seq, id FROM events WHERE office = %s", [OFFICE]).fetchall())
    assert hub == local  # 0 missing, 0 duplicated, nothing under the wrong number


DOSSIER = {
    "code": "000.17.22.H56-261120-0042", "updated_at": "2026-11-20T09:00:00+07:00", "status": "result_ready",
    "status_at": "2026-11-20T09:00:00+07:00", "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"},
    "received_at": "2026-11-18T08:15:00+07:00", "due_at": "2026-11-25", "return_counter": "Q2",
    "applicant": {"name": "Nguyễn Văn An", "id_number": "001099012345", "phone": "0912345678"},
    "missing_documents": ["Bản sao giấy chứng sinh"],
}


def test_a_dossier_received_at_another_office_is_found_through_the_hub(tmp_path, office_db, office_config, start_hub, database,
                                                                      cluster, topics, run_forwarder, start_server):
    # Office A holds the dossier and forwards it.
    other = oc.load(office_toml(tmp_path, cluster, topics, office_id="xa-an-binh")).with_overrides(issue_outside_hours=True)
    simulate_office(tmp_path / "xa-an-binh", other, 50)
    db = tmp_path / "xa-an-binh" / "motcua.db"
    conn = dossier_db.connect(db)
    ensure_migrated(db)
    report = apply_updates(conn, [DOSSIER], "mot-cua-tinh", SystemClock().now(), other.tz)
    conn.close()
    assert report.accepted == 1
    hub_port = free_port()
    hub = start_hub(http=("127.0.0.1", hub_port))
    run_forwarder(db, config=other)
    with psycopg.connect(database) as pg:
        wait_until(lambda: pg.execute("SELECT count(*) FROM dossiers").fetchone()[0] == 1 and pg.commit() is None, 60,
                   what="dossier at the hub")
        stored = pg.execute("SELECT row_to_json(d)::text FROM dossiers d").fetchone()[0]
    assert "0912345678" not in stored and "2345" not in stored and "5678" not in stored  # no digits left the office
    assert "Nguyễn V. A." in stored and "Nguyễn Văn An" not in stored and "giấy chứng sinh" not in stored
    wait_until(lambda: hub.stored_events >= 50, 60, what="the office's events at the hub")  # they may come after the dossier

    # Office B's kiosk looks it up: not here, found at the province, with the same public view.
    cfg_b = oc.load(office_toml(tmp_path, cluster, topics, hub_url=f"http://127.0.0.1:{hub_port}")).with_overrides(
        issue_outside_hours=True)
    server = start_server(cfg=cfg_b, data_dir=tmp_path / "office-b")
    base = f"http://127.0.0.1:{server.options.http_listen[1]}"
    with urllib.request.urlopen(f"{base}/api/dossiers/{DOSSIER['code']}") as r:
        answer = json.loads(r.read())
    assert answer["ok"] and answer["source"] == "province"
    assert answer["found_at"]["office"] == "xa-an-binh" and answer["found_at"]["name"] == other.name
    d = answer["dossier"]
    assert d["status"] == "result_ready" and d["applicant"] == "Nguyễn V. A." and d["verified"] is False
    assert "Quầy 2" in d["status_text"]

    def refused(url: str) -> dict:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url)
        assert info.value.code == 404
        return json.loads(info.value.read())["error"]

    error = refused(f"{base}/api/dossiers/000.17.22.H56-261120-0999")
    assert error["province"] == "not_found" and "các nơi khác trong tỉnh" in error["message"]
    # The hub goes away: the kiosk is told the province could not be searched, not that the dossier does not exist.
    hub.http.shutdown()
    error = refused(f"{base}/api/dossiers/000.17.22.H56-261120-0998")
    assert error["province"] == "unreachable" and "chưa kết nối được hệ thống của tỉnh" in error["message"]


def test_the_big_screen_ranks_offices_live_in_chromium(tmp_path, office_db, office_config, start_hub, run_forwarder, database,
                                                      cluster, topics):
    assert CHROMIUM, "chromium is not installed: run ./setup.sh test"
    dbs = []
    for office, seed in (("ubnd-huyen-demo", 1), ("xa-an-binh", 2), ("xa-tan-phu", 3)):
        cfg = oc.load(office_toml(tmp_path, cluster, topics, office_id=office)).with_overrides(issue_outside_hours=True)
        cfg = cfg.with_overrides(name={"ubnd-huyen-demo": "Trung tâm Phục vụ hành chính công xã Châu Thành",
                                       "xa-an-binh": "Trung tâm Phục vụ hành chính công xã An Bình",
                                       "xa-tan-phu": "Trung tâm Phục vụ hành chính công xã Tân Phú"}[office])
        # Today in the province's time zone: the board shows today's figures.
        morning = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(hour=8, minute=0, second=0, microsecond=0)
        simulate_office(tmp_path / office, cfg, 600 * seed, seed=seed, start=morning)
        ensure_migrated(tmp_path / office / "motcua.db")
        dbs.append((tmp_path / office / "motcua.db", cfg))
    port = free_port()
    hub = start_hub(http=("127.0.0.1", port))
    for db, cfg in dbs:
        run_forwarder(db, config=cfg)
    wait_until(lambda: len([o for o in hub.board()["offices"] if o["issued"] > 0]) == 3, 60, what="board with three offices")
    url = f"http://127.0.0.1:{port}/"
    shot = tmp_path / "province-board.png"
    run = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                          "--window-size=1920,1080", "--timeout=6000", url],
                         capture_output=True, text=True, timeout=90)
    assert shot.exists(), run.stderr[-500:]
    dom = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--timeout=6000",
                          "--dump-dom", url], capture_output=True, text=True, timeout=90).stdout
    assert "Chất lượng phục vụ các Trung tâm Phục vụ hành chính công" in dom
    assert dom.count('class="num rank"') == 3  # the script rendered a row per office
    ranked = [o["short_name"] for o in hub.board()["offices"]]
    assert ranked[0].startswith("Xã ")
    positions = [dom.index(name) for name in ranked]
    assert positions == sorted(positions)  # in the hub's ranking order
    assert "Trực tiếp" in dom  # the live feed connected
    assert shot.stat().st_size > 20_000  # a picture, not a blank page (docs/img/province-board.png is one, looked at)


def test_a_hub_killed_mid_batch_loses_nothing_and_counts_nothing_twice(tmp_path, office_db, run_forwarder, database, cluster,
                                                                      topics, province_credentials, postgres, hub_config):
    db = office_db(6000)
    with sqlite3.connect(db) as conn:
        local = dict(conn.execute("SELECT seq, id FROM events"))
        issued = conn.execute("SELECT count(*) FROM events WHERE type = 'TicketIssued'").fetchone()[0]
    creds = tmp_path / "hub.credentials"
    creds.write_text(f'username = "{province_credentials.hub.username}"\npassword = "{province_credentials.hub.password}"\n')
    os.chmod(creds, 0o600)
    conf = tmp_path / "hub.toml"
    conf.write_text(f'[hub]\ndatabase = "{database}"\nbrokers = {json.dumps(cluster.mqtt_urls)}\ncredentials = "{creds}"\n'
                    f'client_id = "{hub_config.client_id}"\ntopic_root = "{topics.root}"\n', encoding="utf-8")
    command = [sys.executable, "-m", "motcua", "hub", "--config", str(conf), "--no-http", "--log-level", "WARNING"]
    env = {**os.environ, "PGPASSWORD": postgres.password}
    log = open(tmp_path / "hub.log", "ab")  # noqa: SIM115 - closed at the end of the test
    hub = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)

    def tables_exist() -> bool:
        with psycopg.connect(database) as conn:
            return conn.execute("SELECT to_regclass('offices') IS NOT NULL").fetchone()[0]

    try:
        wait_until(tables_exist, 60, what="the hub created its tables")
        run_forwarder(db)
        wait_until(lambda: hub_rows(database, OFFICE)[3] >= 500, 60, interval=0.02, what="first events at the hub")
        hub.send_signal(signal.SIGKILL)  # between a commit and its MQTT acks, or inside a transaction
        hub.wait(10)
        assert hub_rows(database, OFFICE)[3] < len(local), "killed too late to be mid-stream"
        hub = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
        wait_until(lambda: hub_rows(database, OFFICE)[3] == len(local), 120, what="hub caught up after its restart")
        with psycopg.connect(database) as conn:
            stored = dict(conn.execute("SELECT seq, id FROM events WHERE office = %s", [OFFICE]).fetchall())
            wait_until(lambda: conn.execute("SELECT COALESCE(sum(issued), 0) FROM daily_stats WHERE office = %s",
                                            [OFFICE]).fetchone()[0] == issued and conn.commit() is None, 30, what="aggregates")
        assert stored == local
    finally:
        hub.terminate()
        hub.wait(20)
        log.close()
