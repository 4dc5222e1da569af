"""Staff sign-in over real HTTP against a running server: sessions, CSRF, throttling, expiry,
security headers, the first-start setup link, and the audit trail in the event log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from motcua.clock import FakeClock
from queue_server.staff.setup import SETUP_FILE
from queue_server.web.auth import SESSION_IDLE, requires
from tests.staff_support import PASSWORD, WebSession, add_staff


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(start_server, fake_clock):
    return start_server(clock=fake_clock)


def events_of(server, *types: str) -> list:
    return [e for e in server.store.events_after(0, 10_000) if e.type in types]


def test_a_stranger_is_sent_to_the_login_page_and_back_after(server):
    add_staff(server, "lan-nt", counters=("Q1",), name="Nguyễn Thị Lan")
    web = WebSession(server)
    page = web.get("/nhan-vien")
    assert page.status == 302 and page.headers["Location"].startswith("/dang-nhap?next=/nhan-vien")
    signed_in = web.login("lan-nt", next_path="/nhan-vien")
    assert signed_in.status == 302 and signed_in.headers["Location"] == "/nhan-vien"
    home = web.get("/nhan-vien")
    assert home.status == 200 and "Nguyễn Thị Lan" in home.text and "Quầy 1" in home.text
    assert home.headers["Cache-Control"] == "no-store"
    logged = events_of(server, "StaffLoggedIn")
    assert [e.data["staff"] for e in logged] == ["lan-nt"]


def test_the_login_never_redirects_to_another_site(server):
    add_staff(server, "lan-nt")
    assert WebSession(server).login("lan-nt", next_path="//evil.example/x").headers["Location"] == "/nhan-vien"


def test_a_wrong_password_is_refused_and_logged_without_the_password(server):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    page = web.login("lan-nt", password="sai-mat-khau-123")
    assert page.status == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in page.text
    stranger = web.login("mat-khau-go-nham-o-day", password="x")
    assert stranger.status == 401
    failed = events_of(server, "StaffLoginFailed")
    assert [(e.data["staff"], e.data["reason"]) for e in failed] == [("lan-nt", "bad_password"), (None, "unknown_account")]
    log = " ".join(str(e.data) for e in server.store.events_after(0, 10_000))
    assert "sai-mat-khau" not in log and "mat-khau-go-nham" not in log and PASSWORD not in log
    assert web.cookie("motcua_staff") is None


def test_a_form_without_the_csrf_token_is_refused(server):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    web.login("lan-nt")
    refused = web.post("/dang-xuat", {})
    assert refused.status == 403 and "tải lại trang" in refused.text
    wrong = web.post("/dang-xuat", {"csrf_token": "x" * 43})
    assert wrong.status == 403
    assert web.get("/nhan-vien").status == 200  # still signed in: nothing happened
    assert web.post("/dang-xuat", {"csrf_token": web.csrf()}).status == 302
    assert web.get("/nhan-vien").status == 302
    assert len(events_of(server, "StaffLoggedOut")) == 1


def test_the_login_form_itself_needs_its_token(server):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    page = web.post("/dang-nhap", {"login": "lan-nt", "password": PASSWORD})
    assert page.status == 403 and web.cookie("motcua_staff") is None


def test_login_attempts_are_throttled_per_account_and_released_by_time(server, fake_clock):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    for _ in range(5):
        assert web.login("lan-nt", password="doan-mo-mat-khau").status == 401
    throttled = web.login("lan-nt")  # even the right password waits: the throttle comes first
    assert throttled.status == 429 and "Vui lòng thử lại sau 1 phút" in throttled.text
    assert int(throttled.headers["Retry-After"]) >= 1
    other = WebSession(server)
    add_staff(server, "binh-tv")
    assert other.login("binh-tv").status == 302  # another account from the same address still works
    fake_clock.advance(61)
    assert web.login("lan-nt").status == 302


def test_login_attempts_are_throttled_per_address(server):
    web = WebSession(server)
    statuses = [web.login(f"khong-co-{i}", password="x").status for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_a_session_expires_after_being_idle_and_says_so(server, fake_clock):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    web.login("lan-nt")
    fake_clock.advance(SESSION_IDLE.total_seconds() - 60)
    assert web.get("/nhan-vien").status == 200  # activity keeps it alive...
    fake_clock.advance(SESSION_IDLE.total_seconds() - 60)
    assert web.get("/nhan-vien").status == 200
    fake_clock.advance(SESSION_IDLE.total_seconds() + 1)  # ...idleness ends it
    page = web.get("/nhan-vien")
    assert page.status == 302
    login = web.get(page.headers["Location"])
    assert "Phiên làm việc đã hết hạn" in login.text


def test_a_session_ends_after_a_working_day_however_active(server, fake_clock):
    add_staff(server, "lan-nt")
    web = WebSession(server)
    web.login("lan-nt")
    for _ in range(25):  # 12.5 hours of a page used every half hour minus a minute
        fake_clock.advance(29 * 60)
        if web.get("/nhan-vien").status != 200:
            break
    assert web.get("/nhan-vien").status == 302


def test_disabling_an_account_ends_its_sessions_at_once(server):
    from queue_server.staff import accounts

    add_staff(server, "lan-nt")
    web = WebSession(server)
    web.login("lan-nt")
    change = accounts.edit_account("lan-nt", server.config.counters, active=False)
    server.record(lambda db, now: change.apply(db, now, by="admin01"))
    assert web.get("/nhan-vien").status == 302
    assert web.login("lan-nt").status == 401
    assert events_of(server, "StaffAccountChanged")[-1].data["change"] == "disabled"


@pytest.mark.parametrize("path", ["/dang-nhap", "/live", "/health", "/api/state", "/static/live.js"])
def test_every_response_has_the_security_headers(server, path):
    page = WebSession(server).get(path)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_no_page_has_an_inline_script():
    templates = Path(__file__).resolve().parents[2] / "queue_server" / "web" / "templates"
    for template in templates.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text(encoding="utf-8")):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template}: inline script {tag}"


def test_the_first_start_prints_a_one_time_setup_link(start_server, capfd):
    server = start_server()
    printed = capfd.readouterr().err
    match = re.search(r"http://127\.0\.0\.1:\d+(/thiet-lap/[A-Za-z0-9_-]{40,})", printed)
    assert match, printed
    assert (server.db_path.parent / SETUP_FILE).stat().st_mode & 0o077 == 0  # only the server's user reads it
    assert match.group(1).rsplit("/", 1)[1] not in (server.db_path.parent / SETUP_FILE).read_text()  # only its digest
    web = WebSession(server)
    form = web.get(match.group(1))
    assert form.status == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    made = web.post(match.group(1), {"csrf_token": form.field("csrf_token"), "login": "qt-an", "name": "Trần Văn An",
                                     "password": PASSWORD, "again": PASSWORD})
    assert made.status == 302
    assert "Trần Văn An" in web.get("/nhan-vien").text
    assert WebSession(server).get(match.group(1)).status == 404  # used once
    created = events_of(server, "StaffAccountChanged")
    assert [(e.data["staff"], e.data["by"], e.data["role"]) for e in created] == [("qt-an", "setup", "administrator")]


def test_an_office_with_an_administrator_prints_no_link(start_server, config, tmp_path, capfd):
    from queue_server.staff import accounts
    from queue_server.store import Store

    store = Store.in_dir(tmp_path / "data", config.id)  # as `motcua staff add` does on the console
    change = accounts.new_account("qt-an", "Trần Văn An", "administrator", [], PASSWORD, config.counters)
    accounts.apply_offline(store, config, change, by="console")
    store.close()
    capfd.readouterr()
    server = start_server(data_dir=tmp_path / "data")
    assert "/thiet-lap/" not in capfd.readouterr().err
    assert WebSession(server).login("qt-an").status == 302


def test_requires_marks_the_roles_it_allows():
    @requires("manager", "administrator")
    def report() -> str:
        return "ok"

    assert report.required_roles == ("manager", "administrator")
