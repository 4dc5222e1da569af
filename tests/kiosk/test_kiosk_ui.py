"""The kiosk app under Xvfb, driven by simulated touches: every screen in Vietnamese and English,
at 1920x1080, at the Pi's 800x480 and in portrait, against a real server and Mosquitto.

Screenshots stay in this test's tmp directory (pytest keeps the last runs); the path is printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.http_api import HttpApi
from queue_server.dossiers import db as dossier_db
from queue_server.dossiers import sources
from tests.integration.dossier_http import CODE, call, dossier
from tests.kiosk.conftest import device_broker_url

ROOT = Path(__file__).resolve().parents[2]
XVFB_RUN = shutil.which("xvfb-run")

ENTRANCE_SCREENS = {
    "home", "services", "priority", "ticket", "message_refused", "procedures_fields", "procedures_search", "procedure",
    "procedures_not_found", "dossier", "dossier_result", "verify", "dossier_details", "vote_scan", "dossier_not_found",
    "rate", "reasons", "thanks", "message_already_voted", "booking", "booking_bad_code", "ticket_booked",
}
SIZES = {"landscape": (1920, 1080), "pi": (800, 480), "portrait": (1080, 1920)}


def broker_url(office, user: str) -> str:
    return device_broker_url(office, user)


def drive(tmp_path: Path, office, label: str, size: tuple[int, int], script: str, mode: str = "entrance", device: str = "kiosk-01",
          broker: str | None = None, **extra) -> dict:
    if XVFB_RUN is None:
        pytest.fail("xvfb-run is not installed: run ./setup.sh test (it installs xvfb and xauth)")
    out = tmp_path / "screens"
    args = {
        "out": str(out), "label": label, "size": list(size), "script": script, "mode": mode, "device": device,
        "server": office.http, "broker": broker or broker_url(office, device), "console_broker": broker_url(office, "console"),
        "office": office.ref.id, "prefix": office.ref.topic_prefix, "state_dir": str(tmp_path / f"state-{label}"),
        "dossier_code": CODE, "export": HttpApi(office.http).export_procedures(None).ok, **extra,
    }
    path = tmp_path / f"args-{label}.json"
    path.write_text(json.dumps(args))
    screen = f"-screen 0 {max(size)}x{max(size)}x24"
    proc = subprocess.run([XVFB_RUN, "-a", "-s", screen, sys.executable, "-m", "tests.kiosk.ui_driver", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    report_file = out / f"report-{label}.json"
    assert report_file.exists(), f"the driver wrote no report (exit {proc.returncode}): {proc.stderr[-3000:]}"
    report = json.loads(report_file.read_text())
    assert report["error"] is None, report["error"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(f"screenshots of {label}: {out}")
    for shot in report["screens"]:
        image = Image.open(out / shot["file"])
        assert image.size == tuple(size), (shot["file"], image.size)
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 3, f"{shot['file']} looks blank"
    return report


def shots(report: dict) -> dict[str, set[str]]:
    by_lang: dict[str, set[str]] = {"vi": set(), "en": set()}
    for shot in report["screens"]:
        by_lang[shot["lang"]].add(shot["name"])
    return by_lang


@pytest.fixture
def ui_office(office):
    with office.console() as console:
        assert console.request("service.close", service="LD")["ok"]
    db = dossier_db.open_db(office.server.db_path)
    try:
        token = sources.add(db, "mot-cua-tinh", office.server.clock.now())
    finally:
        db.close()
    assert call(office.server, "POST", "/api/dossiers/sync", dossier(), token=token).status == 200
    return office


def seed_bookings(office, count: int = 2) -> list[str]:
    """Bookings for now (one per language walk), as the booking page writes them: a check-in at any hour works."""
    from queue_server.appointments import bookings
    from queue_server.appointments import db as tables
    from queue_server.dossiers.db import ts

    config, now = office.server.config, office.server.clock.now().replace(second=0, microsecond=0)
    db = tables.open_db(office.server.db_path)
    codes = []
    try:
        for _ in range(count):
            code = bookings.new_code(db)
            db.execute(
                "INSERT INTO bookings (code, service, day, slot_at, slot_minutes, status, channel, holder_kind, created_at, updated_at) "
                "VALUES (?, 'DD', ?, ?, 30, ?, 'counter', 'phone', ?, ?)",  # DD: its numbers do not shift the HT ones
                [code, config.business_day(now), ts(now), bookings.BOOKED, ts(now), ts(now)])
            codes.append(code)
        db.conn.commit()
    finally:
        db.close()
    return codes


@pytest.mark.parametrize("label", ["landscape", "pi", "portrait"])
def test_every_entrance_screen_in_both_languages_by_touch_alone(tmp_path, ui_office, label):
    vi, en = seed_bookings(ui_office)
    report = drive(tmp_path, ui_office, label, SIZES[label], "entrance", idle_seconds=6, bookings={"vi": vi, "en": en})
    seen = shots(report)
    assert seen["vi"] == ENTRANCE_SCREENS and seen["en"] == ENTRANCE_SCREENS
    assert report["numbers"] == ["1001", "1002"]  # one number per touch, the English pass a priority ticket
    assert report["idle_home"] is True
    assert report["checks"] > 60
    assert all(not s["banner"] for s in report["screens"]), "no warning while server, broker and printer are fine"


def test_server_unreachable_shows_a_clear_banner_and_the_kiosk_keeps_working(tmp_path, ui_office):
    from bench.support import free_port

    report = drive(tmp_path, ui_office, "offline", SIZES["pi"], "offline", broker=f"mqtt://127.0.0.1:{free_port()}")
    seen = shots(report)
    assert seen["vi"] == seen["en"] == {"home_offline", "services_offline", "ticket_unanswered", "procedures_offline"}
    banners = {s["lang"]: s["banner"] for s in report["screens"]}
    assert banners["vi"].startswith("Mất kết nối với máy chủ") and banners["en"].startswith("No connection")


def test_counter_facing_screen_shows_the_number_served_and_asks_for_a_rating(tmp_path, ui_office):
    report = drive(tmp_path, ui_office, "counter", SIZES["pi"], "counter", mode="counter", device="kiosk-02", counter="Q1")
    seen = shots(report)
    assert seen["vi"] == seen["en"] == {"counter_serving", "counter_rate"}
    assert report["counter_number"] == "1001"
