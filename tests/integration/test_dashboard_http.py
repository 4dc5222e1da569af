"""The dashboard and report pages over real HTTP on a running server: only managers and administrators
see the manager's screen and the reports, the public room JSON names nobody, many screens cost one
computation, no page carries an inline script, a bad range is explained."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import weakref
from dataclasses import replace
from datetime import datetime, time
from html.parser import HTMLParser
from typing import Any

import pytest

from motcua.client import DeviceClient
from motcua.clock import FakeClock
from queue_server.web import reports as web_reports
from tests.staff_support import WebSession, add_staff

MONDAY_8 = (2026, 11, 23)


def monday(config, hour: int = 8) -> FakeClock:
    return FakeClock(datetime.combine(datetime(*MONDAY_8).date(), time(hour), config.tz))


_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # server -> its manager's session


def manager_session(server) -> WebSession:
    """The head of the section, signed in (one account and session per server)."""
    if server not in _SESSIONS:
        add_staff(server, "truong-bp", role="manager", name="Nguyễn Thị Hoa")
        session = WebSession(server)
        assert session.login("truong-bp").status == 302
        _SESSIONS[server] = session
    return _SESSIONS[server]


def get(server, path: str, signed_in: bool = True) -> tuple[int, Any, bytes]:
    """GET as the signed-in manager (or, with signed_in=False, as anyone on the LAN)."""
    if signed_in:
        page = manager_session(server).get(path)
        return page.status, page.headers, page.text.encode()
    host, port = server.options.http_listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(server, path: str, signed_in: bool = True) -> dict:
    status, _, body = get(server, path, signed_in)
    assert status == 200, body
    return json.loads(body)


def serve_one(server, staff: str = "nv01") -> str:
    """A citizen takes a number and Quầy 1 (signed in as `staff`) calls it, over MQTT."""
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        number = kiosk.request("ticket.issue", service="HT")["ticket"]["number"]
        counter.request("counter.sign_in", counter="Q1", staff=staff)
        assert counter.request("counter.next", counter="Q1")["ticket"]["number"] == number
        kiosk.request("ticket.issue", service="HT")  # someone is still waiting
    return number


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_anywhere(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(v) for v in value)) if value else set()
    return set()


def test_the_room_json_names_no_official_and_leaves_out_the_managers_figures(start_server, config):
    server = start_server(clock=monday(config))
    add_staff(server, "lan.tt", counters=("Q1",), name="Trần Thị Lan")
    serve_one(server, staff="lan.tt")
    manager = get_json(server, "/api/reports/dashboard")  # the manager reads names, the log keeps ids
    assert [(r["key"], r["name"]) for r in manager["by_official"]] == [("lan.tt", "Trần Thị Lan")]
    assert {c["counter"]: c["staff_name"] for c in manager["counters"]}["Q1"] == "Trần Thị Lan"
    status, headers, body = get(server, "/api/reports/room", signed_in=False)  # the TV in the room has no account
    room = json.loads(body)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert "lan.tt" not in body.decode() and "Trần Thị Lan" not in body.decode()
    assert not keys_anywhere(room) & {"staff", "by_official", "by_counter", "alerts", "ticket_id"}
    assert room["summary"]["issued"] == 2 and room["summary"]["waiting_now"] == 1
    assert room["longest_waiting"]["number"] and room["shows_officials"] is False
    assert {f["key"]: f["waiting"] for f in room["by_field"]}["HT"] == 1
    assert {c["counter"]: c["status"] for c in room["counters"]}["Q1"] == "serving"


def test_an_office_may_name_its_officials_on_the_room_screen(start_server, config):
    named = replace(config, reports=replace(config.reports, room_shows_officials=True))
    server = start_server(clock=monday(config), cfg=named)
    add_staff(server, "lan.tt", counters=("Q1",), name="Trần Thị Lan")
    serve_one(server, staff="lan.tt")
    room = get_json(server, "/api/reports/room", signed_in=False)
    assert room["shows_officials"] is True
    assert {c["counter"]: c.get("staff_name") for c in room["counters"]}["Q1"] == "Trần Thị Lan"
    assert "by_official" not in room and "alerts" not in room  # names at the counters, never their figures


@pytest.mark.parametrize("path", ["/api/reports/dashboard", "/api/reports?from=2026-11-23", "/api/reports/export?from=2026-11-23&format=csv"])
def test_the_managers_figures_are_for_managers_and_administrators_only(start_server, config, path):
    server = start_server(clock=monday(config))
    status, _, body = get(server, path, signed_in=False)
    assert status == 401 and json.loads(body)["error"]["code"] == "not_signed_in"
    add_staff(server, "nv-quay", role="official", counters=("Q1",))
    official = WebSession(server)
    assert official.login("nv-quay").status == 302
    refused = official.get(path)
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden"
    add_staff(server, "quan-tri", role="administrator")
    admin = WebSession(server)
    assert admin.login("quan-tri").status == 302
    assert admin.get(path).status == 200
    assert get(server, path)[0] == 200  # the manager


def test_the_pages_send_strangers_to_sign_in_except_the_room_screen(start_server, config):
    server = start_server(clock=monday(config))
    for path in ("/dashboard", "/reports?from=2026-11-23"):
        status, headers, _ = _no_redirect(server, path)
        assert status in (302, 303) and "/dang-nhap?next=" in headers["Location"], path
    status, headers, body = get(server, "/dashboard/room", signed_in=False)
    assert status == 200 and "Tình hình phục vụ hôm nay" in body.decode()
    assert "script-src 'self'" in headers["Content-Security-Policy"] and "'unsafe-inline'" not in headers["Content-Security-Policy"]
    home = manager_session(server).get("/nhan-vien").text  # the staff home links the manager to the pages
    assert 'href="/dashboard"' in home and 'href="/reports"' in home and 'href="/dashboard/room"' in home
    page = manager_session(server).get("/dashboard").text
    assert "Nguyễn Thị Hoa" in page and 'data-login="/dang-nhap?next=/dashboard' in page


def _no_redirect(server, path: str) -> tuple[int, Any, bytes]:
    page = WebSession(server).get(path)  # WebSession does not follow redirects
    return page.status, page.headers, page.text.encode()


def test_many_screens_asking_at_once_cost_one_computation(start_server, config, monkeypatch):
    computed = []
    real = web_reports.dashboard

    def counting(*args, **kwargs):
        computed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(web_reports, "dashboard", counting)
    server = start_server(clock=monday(config))
    answers: list[dict] = []

    manager_session(server)  # signed in before the crowd arrives

    def screen(path: str) -> None:
        answers.append(get_json(server, path, signed_in=path.endswith("dashboard")))

    threads = [threading.Thread(target=screen, args=("/api/reports/room" if i % 2 else "/api/reports/dashboard",)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 40 and len(computed) == 1
    assert len({a["live_seq"] for a in answers}) == 1

    monkeypatch.setattr(web_reports, "BOARD_MIN_SECONDS", 0.0)  # no pause between computations for this part
    before = answers[0]["live_seq"]
    serve_one(server)
    after = get_json(server, "/api/reports/dashboard")
    assert len(computed) == 2 and after["live_seq"] > before and after["summary"]["issued"] == 2
    assert get_json(server, "/api/reports/dashboard") == after and len(computed) == 2  # nothing changed since
    server.clock.advance(web_reports.BOARD_MAX_AGE_SECONDS)  # time passes with nothing happening: waits grow
    aged = get_json(server, "/api/reports/dashboard")
    assert len(computed) == 3 and aged["longest_waiting"]["waited_seconds"] > after["longest_waiting"]["waited_seconds"]


class Markup(HTMLParser):
    """What a strict Content-Security-Policy (script-src 'self'; style-src 'self') would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            if not names.get("src"):
                self.inline.append("<script> without src")
            else:
                self.scripts.append(names["src"] or "")
        if tag == "style":
            self.inline.append("<style>")
        self.inline += [f"{tag} {name}=" for name in names if name.startswith("on") or name == "style"]


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/room", "/reports", "/reports?from=2026-11-23&to=2026-11-23&period=week",
                                  "/dashboard?lang=en"])
def test_the_pages_carry_no_inline_script_or_style_and_their_assets_are_local(start_server, config, path):
    server = start_server(clock=monday(config))
    status, headers, body = get(server, path)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = Markup()
    page.feed(body.decode())
    assert not page.inline
    assert page.scripts and all(src.startswith("/static/") for src in page.scripts)
    for src in page.scripts:
        assert get(server, src)[0] == 200


def test_the_report_page_explains_a_bad_range_and_keeps_what_was_typed(start_server, config):
    server = start_server(clock=monday(config))
    status, _, body = get(server, "/reports?from=2026-11-30&to=2026-11-01&period=month")
    html = body.decode()
    assert status == 400
    assert "Khoảng thời gian không hợp lệ" in html and 'value="2026-11-30"' in html and 'value="2026-11-01"' in html
    assert '<option value="month" selected>' in html and "download-xlsx" not in html
    status, _, body = get(server, "/reports?from=h%C3%B4m-nay")
    assert status == 400 and "YYYY-MM-DD" in body.decode()


def test_the_report_page_shows_the_figures_with_the_official_terms(start_server, config):
    server = start_server(clock=monday(config, 10))
    add_staff(server, "minh.nv", counters=("Q1",), name="Nguyễn Văn Minh")
    serve_one(server, staff="minh.nv")
    status, _, body = get(server, "/reports?from=2026-11-23&to=2026-11-23&period=day")
    html = body.decode()
    assert status == 200
    for words in ("Nguyễn Văn Minh", "Đối chiếu chỉ tiêu", "Thời gian chờ trung bình mỗi lượt (mục tiêu 2025)",
                  "Tỷ lệ lượt chờ không quá 30 phút (mục tiêu 2022)",
                  "Theo lĩnh vực", "Tư pháp - Hộ tịch", "Năng suất cán bộ so với chỉ tiêu năm", "Tải về"):
        assert words in html, words
    assert 'href="/api/reports/export?from=2026-11-23&amp;to=2026-11-23&amp;period=day&amp;format=xlsx&amp;lang=vi"' in html
    english = get(server, "/reports?from=2026-11-23&to=2026-11-23&lang=en")[2].decode()
    assert "Against the targets" in english and "Download" in english
