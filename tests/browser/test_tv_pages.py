"""The waiting-room TV pages in headless Chromium against a running server (issue 18).

A call made over MQTT appears; the page recovers by itself after a server restart; the clock is
the server's; the notice scrolls; the results page pages through the ready dossiers and shows this
month's counts; the rotation shows notices, procedures, images and a video, and a call comes
first; a configuration change reaches the TVs without a restart. Screenshots of every page at
1920x1080, 1280x720 and portrait 1080x1920, with 40 counters, are kept in the test's tmp dir
(`pytest --basetemp DIR` to choose it) and printed.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench.support import free_port
from motcua.client import DeviceClient
from motcua.clock import FakeClock
from queue_server.config import Device
from queue_server.server import QueueServer, ServerOptions
from tests import tv_scene as scene
from tests.browser.test_live_page import call_next
from tests.staff_support import seed_data_dir

ADMIN = Device(id="console", role="admin")
SIZES = ((1920, 1080), (1280, 720), (1080, 1920))
MID_MONTH = datetime(2026, 11, 20, 3, 4, tzinfo=UTC)  # 10:04 in Hà Nội, a Friday


@pytest.fixture
def options(tmp_path: Path, config, credentials) -> ServerOptions:
    seed_data_dir(tmp_path / "data", config)  # the officials who sign in have accounts (issue 16)
    return ServerOptions(data_dir=tmp_path / "data", mqtt_listen=("127.0.0.1", free_port()), http_listen=("127.0.0.1", free_port()),
                         credentials_dir=credentials.directory)


def url(options: ServerOptions, path: str) -> str:
    return f"http://{options.http_listen[0]}:{options.http_listen[1]}{path}"


def viewport(browser, width: int, height: int) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def screenshot(browser, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]))
    print(f"screenshot: {path}")
    return path


def until(browser, predicate, timeout: float = 20, message: str = ""):
    return WebDriverWait(browser, timeout).until(lambda b: predicate(b), message)


def status_is(browser, state: str, timeout: float = 20) -> None:
    until(browser, lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == state, timeout, f"status {state}")


def tile_number(browser, counter: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'.tv-tile[data-counter="{counter}"] .tv-tile-number').text


def admin(server: QueueServer, op: str, **fields) -> dict:
    reply = server.request(ADMIN, op, **fields)
    assert reply["ok"], (op, fields, reply["error"])
    return reply


def test_a_call_through_mqtt_appears_and_the_page_recovers_after_a_restart(browser, config, options, tmp_path):
    config = scene.with_tv(config, call_seconds=3)
    server = QueueServer(config, options)
    server.start()
    try:
        viewport(browser, 1920, 1080)
        browser.get(url(options, "/tv/calls"))
        status_is(browser, "live")
        assert tile_number(browser, "Q1") == "Đã đóng"
        first = call_next(server)
        until(browser, lambda b: tile_number(b, "Q1") == first, 10, "the number at Quầy 1")
        overlay = browser.find_element(By.ID, "call")
        assert overlay.is_displayed()  # the call has the screen first
        assert overlay.find_element(By.CSS_SELECTOR, ".tv-call-main").get_attribute("data-number") == first
        assert overlay.text.split("\n")[:3] == ["Xin mời công dân có số thứ tự", first, "đến Quầy 1"]
        newest = browser.find_element(By.CSS_SELECTOR, "#recent .tv-newest")
        assert newest.get_attribute("data-number") == first and "Quầy 1" in newest.text
        screenshot(browser, tmp_path / "tv" / "calls-1-call.png")
        until(browser, lambda b: not b.find_element(By.ID, "call").is_displayed(), 10, "the call gives the screen back")
        waiting = browser.find_element(By.CSS_SELECTOR, '#waiting tr[data-service="HT"]')
        assert waiting.text.startswith("Tư pháp - Hộ tịch 0")
        assert browser.execute_script("return document.fonts.check('700 48px \"Noto Sans\"', 'Quầy Đất đai ặ ẫ ờ ữ')")
    finally:
        server.stop()
    status_is(browser, "offline")
    assert tile_number(browser, "Q1") == first  # the last state stays on screen while the server is away
    screenshot(browser, tmp_path / "tv" / "calls-2-offline.png")

    server = QueueServer(config, options)  # same data and ports: a restart after a power cut
    server.start()
    try:
        status_is(browser, "live", timeout=40)
        assert tile_number(browser, "Q1") == first
        second = call_next(server)
        until(browser, lambda b: tile_number(b, "Q1") == second, 10, "a call after the restart")
        recent = [li.get_attribute("data-number") for li in browser.find_elements(By.CSS_SELECTOR, "#recent li")]
        assert recent[:2] == [second, first]  # state/calls came back with the restart
        screenshot(browser, tmp_path / "tv" / "calls-3-recovered.png")
    finally:
        server.stop()


def test_the_clock_is_the_servers_and_the_notice_scrolls(browser, config, options, tmp_path):
    server = QueueServer(config, options, clock=FakeClock(MID_MONTH))  # a box whose clock is not the browser's
    server.start()
    try:
        viewport(browser, 1280, 720)
        browser.get(url(options, "/tv/calls"))
        status_is(browser, "live")
        until(browser, lambda b: b.find_element(By.ID, "clock").text == "10:04", 10, "the server's time")
        assert browser.find_element(By.ID, "date").text == "Thứ Sáu, 20/11/2026"
        assert not browser.find_element(By.ID, "notice").is_displayed()
        with DeviceClient(server.broker_url, server.config.id, "console") as console:
            assert console.request("office.notice", text=scene.NOTICE_TEXT)["ok"]
        line = until(browser, lambda b: b.find_element(By.ID, "notice-text") if b.find_element(By.ID, "notice").is_displayed() else None)
        assert line.text == scene.NOTICE_TEXT
        first = browser.execute_script("return arguments[0].getBoundingClientRect().left", line)
        until(browser, lambda b: b.execute_script("return arguments[0].getBoundingClientRect().left", line) < first - 60, 10, "scrolls")
        screenshot(browser, tmp_path / "tv" / "calls-notice-720p.png")
        with DeviceClient(server.broker_url, server.config.id, "console") as console:
            assert console.request("office.notice", text="Tạm dừng tiếp nhận lúc 11:00.")["ok"]  # short: it stands still
        until(browser, lambda b: b.find_element(By.ID, "notice-text").text == "Tạm dừng tiếp nhận lúc 11:00.")
        assert browser.find_element(By.ID, "notice").get_attribute("data-scrolling") is None
    finally:
        server.stop()


def test_the_results_page_pages_through_the_ready_dossiers_and_shows_this_months_counts(browser, config, options, tmp_path):
    config = scene.with_tv(config, results_page_seconds=3)
    expected = scene.seed_dossiers(scene.data_store(options.data_dir, config), config, MID_MONTH)
    server = QueueServer(config, options, clock=FakeClock(MID_MONTH))
    server.start()
    try:
        viewport(browser, 1280, 720)
        browser.get(url(options, "/tv/results"))
        status_is(browser, "live")
        page = until(browser, lambda b: b.find_element(By.ID, "page") if b.find_element(By.ID, "page").get_attribute("data-pages") else None)
        pages = int(page.get_attribute("data-pages"))
        assert pages >= 3  # 36 dossiers in six fields do not fit 720p at a readable size
        seen: dict[int, list[str]] = {}
        texts = []
        generation = None
        for _ in range(4 * pages):
            number, codes, text, cut = browser.execute_script(  # in one go: the page may turn between two reads
                "var p = document.getElementById('page'); return [Number(p.getAttribute('data-page')),"
                " Array.prototype.map.call(document.querySelectorAll('#ready .tv-row[data-code]'), function (r) { return r.getAttribute('data-code'); }),"
                " document.getElementById('ready').innerText, p.getAttribute('data-generation')];")
            if cut != generation:  # cut into pages again (the fonts arrived, the figures panel grew): start over
                generation, seen, texts = cut, {}, []
                pages = int(browser.find_element(By.ID, "page").get_attribute("data-pages"))
            seen.setdefault(number, codes)
            texts.append(text)
            if number == 1 and 1 not in {p for p in seen if p != 1}:
                screenshot(browser, tmp_path / "tv" / "results-720p-page1.png")
            if len(seen) == pages:
                break
            until(browser, lambda b, n=number: b.find_element(By.ID, "page").get_attribute("data-page") != str(n), 10, "the next page")
        assert sorted(seen) == list(range(1, pages + 1))
        shown = [code for codes in seen.values() for code in codes]
        assert len(shown) == len(set(shown)) == expected["ready"]  # every ready dossier once, none twice
        assert all(code.startswith("…-00") for code in shown)  # masked: the daily sequence only
        text = "\n".join(texts)
        assert "Nguyễn V. A." in text and "Nguyễn Văn An" not in text and "Trần T. B." in text
        for key in ("received", "settled_on_time", "settled_late", "overdue", "needs_documents"):
            value = browser.find_element(By.CSS_SELECTOR, f'#figures [data-figure="{key}"] .tv-figure-value').text
            assert value == str(expected[key]), key
        assert "tháng 11/2026" in browser.find_element(By.CSS_SELECTOR, "#figures h3").text
    finally:
        server.stop()


def test_the_rotation_shows_notices_procedures_images_and_videos_and_a_call_comes_first(browser, config, options, tmp_path):
    config = scene.with_tv(config, slide_seconds=3, call_seconds=2, slides=[
        {"kind": "notice", "title": "Lịch tiếp công dân", "text": "Chủ tịch Ủy ban nhân dân xã tiếp công dân sáng thứ Năm hằng tuần."},
        {"kind": "procedure", "codes": ["MAU-HT-001", "KHONG-CO-MA-NAY"]},
        {"kind": "media"},
    ])
    db_path = scene.data_store(options.data_dir, config)
    scene.seed_catalogue(db_path)
    media = options.data_dir / "tv"
    media.mkdir()
    scene.write_image(media / "01-anh.png", "Dịch vụ công trực tuyến")
    (media / "02-thong-bao.txt").write_text("Nghỉ lễ\nBộ phận Một cửa nghỉ ngày 02/9.\n", encoding="utf-8")
    scene.record_video(browser, media / "03-video.webm", seconds=5)
    (media / ".hidden.png").write_bytes(b"not shown")
    server = QueueServer(config, options)
    server.start()
    try:
        viewport(browser, 1920, 1080)
        browser.get(url(options, "/tv/calls"))
        status_is(browser, "live")

        def kind_is(kind: str):
            def shown(b):
                info = b.find_element(By.ID, "info")
                drawn = kind in ("image", "video") or info.text.strip() != ""
                return info if info.get_attribute("data-kind") == kind and drawn else None
            return until(browser, shown, 30, f"a {kind} slide")

        info = kind_is("procedure")
        assert "Đăng ký khai sinh" in info.text and "Luật Hộ tịch số 60/2014/QH13" in info.text
        screenshot(browser, tmp_path / "tv" / "slide-procedure.png")
        image = kind_is("image").find_element(By.TAG_NAME, "img")
        until(browser, lambda b: b.execute_script("return arguments[0].naturalWidth", image) == 1280, 10, "the image loads")
        screenshot(browser, tmp_path / "tv" / "slide-image.png")
        until(browser, lambda b: "Bộ phận Một cửa nghỉ ngày 02/9." in b.find_element(By.ID, "info").text, 20, "the .txt notice")
        video = kind_is("video").find_element(By.TAG_NAME, "video")
        until(browser, lambda b: b.execute_script("return arguments[0].currentTime", video) > 0.5, 10, "the video plays")
        assert browser.execute_script("return arguments[0].muted", video)  # the loudspeaker is the voice box's
        number = call_next(server)
        until(browser, lambda b: b.find_element(By.ID, "call").is_displayed(), 5, "the call takes the screen")
        assert browser.execute_script("return arguments[0].paused", video)
        screenshot(browser, tmp_path / "tv" / "call-over-video.png")
        assert browser.find_element(By.CSS_SELECTOR, "#call .tv-call-main").get_attribute("data-number") == number
        until(browser, lambda b: not b.find_element(By.ID, "call").is_displayed(), 10, "the call ends")
        at = browser.execute_script("return arguments[0].currentTime", video)
        until(browser, lambda b: b.execute_script("return arguments[0].currentTime", video) > at + 0.3, 10, "the video goes on")
        kind_is("notice")  # the rotation goes round again after the video's end
        with urllib.request.urlopen(url(options, "/api/live/snapshot?topics=tv/rotation"), timeout=10) as answer:
            rotation = json.loads(answer.read())["topics"]["tv/rotation"]
        assert rotation["problems"] == [{"slide": "1", "problem": "unknown_procedure", "detail": "KHONG-CO-MA-NAY"}]
        assert [s.get("name") for s in rotation["slides"] if s["kind"] in ("image", "video")] == ["01-anh.png", "03-video.webm"]
    finally:
        server.stop()


def test_a_configuration_change_reaches_the_tvs_without_a_restart(browser, config, options):
    server = QueueServer(config, options)
    server.start()
    try:
        browser.get(url(options, "/tv/calls"))
        status_is(browser, "live")
        until(browser, lambda b: "tiếp công dân vào sáng thứ Năm" in b.find_element(By.ID, "info").text, 10, "the example's rotation")
        document = {**server.config.source, "tv": {"slides": [{"kind": "notice", "text": "Hôm nay Trung tâm làm việc đến 17:00."}]}}
        with DeviceClient(server.broker_url, server.config.id, "console") as console:
            assert console.request("office.configure", document=document)["ok"]
        until(browser, lambda b: "Hôm nay Trung tâm làm việc đến 17:00." in b.find_element(By.ID, "info").text, 15, "the new slide")
        assert browser.find_element(By.CSS_SELECTOR, "#info .tv-slide-title").text == "THÔNG BÁO"  # uppercased by the page's style
    finally:
        server.stop()


def test_screenshots_of_every_page_at_three_sizes_and_forty_counters_fit(browser, config, options, tmp_path):
    config = scene.with_tv(scene.with_counters(config, 40), call_seconds=30)
    seed_data_dir(options.data_dir, config, tuple(f"nv-{counter.lower()}" for counter in config.counters))  # one official per counter
    db_path = scene.data_store(options.data_dir, config)
    scene.seed_dossiers(db_path, config, MID_MONTH)
    scene.seed_catalogue(db_path)
    server = QueueServer(config, options, clock=FakeClock(MID_MONTH))
    server.start()
    try:
        services = list(config.services)
        for i in range(90):
            admin(server, "ticket.issue", service=services[i % len(services)])
        for counter in list(config.counters)[:39]:  # Quầy 40 stays closed
            admin(server, "counter.sign_in", counter=counter, staff=f"nv-{counter}")
            admin(server, "counter.next", counter=counter)
        admin(server, "office.notice", text=scene.NOTICE_TEXT)
        shots = []
        for width, height in SIZES:
            viewport(browser, width, height)
            browser.get(url(options, "/tv/calls"))
            status_is(browser, "live")
            until(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".tv-tile")) == 40 and tile_number(b, "Q39") != "Đã đóng")
            time.sleep(0.5)  # let the fonts settle before measuring (document.fonts.ready has fired)
            boxes = browser.execute_script("""
                return Array.prototype.map.call(document.querySelectorAll('.tv-tile'), function (t) {
                  var r = t.getBoundingClientRect(), n = t.querySelector('.tv-tile-number'), m = t.querySelector('.tv-tile-name');
                  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, size: parseFloat(getComputedStyle(n).fontSize),
                          fits: n.scrollWidth <= t.clientWidth && m.scrollWidth <= m.clientWidth + 1, name: m.textContent,
                          serving: t.getAttribute('data-status') === 'serving'};
                });""")
            assert all(b["top"] >= 0 and b["bottom"] <= height and b["left"] >= 0 and b["right"] <= width for b in boxes), (width, height)
            assert all(b["fits"] for b in boxes), [b["name"] for b in boxes if not b["fits"]]
            # Numbers at least 4.5 % of the short side: about 25 mm tall on a 42" screen at 1080p.
            assert sum(b["serving"] for b in boxes) == 39
            assert min(b["size"] for b in boxes if b["serving"]) >= 0.045 * min(width, height), (width, height, boxes[0]["size"])
            shots.append(screenshot(browser, tmp_path / "tv" / f"calls-40-counters-{width}x{height}.png"))
            browser.get(url(options, "/tv/results"))
            status_is(browser, "live")
            until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#ready .tv-row[data-code]"))
            time.sleep(0.5)
            rows = browser.find_elements(By.CSS_SELECTOR, "#ready .tv-row, #ready .tv-group")
            assert rows[-1].rect["y"] + rows[-1].rect["height"] <= browser.find_element(By.ID, "ready").rect["y"] + \
                browser.find_element(By.ID, "ready").rect["height"] + 1  # a page holds only what fits
            shots.append(screenshot(browser, tmp_path / "tv" / f"results-{width}x{height}.png"))
            browser.get(url(options, "/tv/calls"))
            status_is(browser, "live")
            admin(server, "counter.recall", counter="Q7")
            until(browser, lambda b: b.find_element(By.ID, "call").is_displayed(), 10, "the recall")
            assert browser.find_element(By.CSS_SELECTOR, ".tv-call-invite").text == "Xin nhắc lại: mời công dân có số thứ tự"
            number = browser.find_element(By.CSS_SELECTOR, ".tv-call-number")
            assert number.rect["x"] >= 0 and number.rect["x"] + number.rect["width"] <= width
            shots.append(screenshot(browser, tmp_path / "tv" / f"call-{width}x{height}.png"))
        assert len(shots) == 9
    finally:
        server.stop()


def test_a_page_on_older_files_reloads_itself_once_and_never_loops(browser, config, options):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "sessionStorage.setItem('loads', String(Number(sessionStorage.getItem('loads') || 0) + 1));"})
    server = QueueServer(config, options)
    server.start()
    try:
        browser.get(url(options, "/tv/calls"))
        status_is(browser, "live")
        loads = lambda b: int(b.execute_script("return sessionStorage.getItem('loads')"))  # noqa: E731
        assert loads(browser) == 1
        with urllib.request.urlopen(url(options, "/api/live/snapshot?topics=tv/rotation"), timeout=10) as answer:
            rotation = json.loads(answer.read())["topics"]["tv/rotation"]
        upgraded = {**rotation, "version": "0123456789ab"}  # what a server after an upgrade would send
        server.hub.publish_page_state("tv/rotation", json.dumps(upgraded).encode())
        until(browser, lambda b: loads(b) == 2, 10, "the page reloads")
        status_is(browser, "live")
        marked = {**upgraded, "slides": [{"kind": "notice", "title": "", "text": "Đã tải lại.", "seconds": 30}]}
        server.hub.publish_page_state("tv/rotation", json.dumps(marked).encode())
        until(browser, lambda b: "Đã tải lại." in b.find_element(By.ID, "info").text, 10, "the page took the next change")
        assert loads(browser) == 2  # the same mismatch again: no second reload within ten minutes
    finally:
        server.stop()
