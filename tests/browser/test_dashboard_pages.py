"""The dashboard pages in headless Chromium against a running server driven over MQTT (and by the
simulator): figures appear and follow the queue live, alerts appear when the server's clock says a
number waited too long, the report page downloads an XLSX that reads back. Screenshots of both
layouts and the report page stay in the test's tmp dir (look at them; docs/img/ has copies)."""

from __future__ import annotations

import time as systime
from dataclasses import replace
from datetime import datetime, time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from motcua.client import DeviceClient
from motcua.clock import FakeClock
from queue_server.office import Office
from queue_server.reports.profile import district_profile
from queue_server.reports.simulate import Simulation
from queue_server.store import Store
from tests.integration.report_day import known_day
from tests.staff_support import PASSWORD, add_staff, seed_officials

MONDAY = datetime(2026, 11, 23).date()


@pytest.fixture(autouse=True)
def quick_clock_ticks(monkeypatch):
    """The server publishes its clock every 15 s; here every half second, so time moved by the test reaches the page soon."""
    monkeypatch.setattr("queue_server.server.TICK_SECONDS", 0.5)


def at(config, hour: int, minute: int = 0) -> FakeClock:
    return FakeClock(datetime.combine(MONDAY, time(hour, minute), config.tz))


def url(server, path: str) -> str:
    host, port = server.options.http_listen
    return f"http://{host}:{port}{path}"


def viewport(browser, width: int, height: int) -> None:
    """The page's own size (the window's outer size differs by its frame)."""
    browser.set_window_size(width, height)
    inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    browser.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def sign_in(browser, server, path: str) -> None:
    """The head of the section signs in on the page the dashboard sent them to, and comes back to `path`."""
    add_staff(server, "truong-bp", role="manager", name="Nguyễn Thị Hoa")
    browser.get(url(server, path))
    WebDriverWait(browser, 10).until(lambda b: "/dang-nhap" in b.current_url)  # nobody signed in yet
    browser.find_element(By.ID, "login").send_keys("truong-bp")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url == url(server, path))


def ready(browser, element: str = "board", timeout: float = 20) -> None:
    WebDriverWait(browser, timeout).until(lambda b: b.execute_script(
        f"var e = document.getElementById('{element}'); return e && e.getAttribute('data-ready') === 'true'"))


def kpi(browser, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'[data-kpi="{name}"] .v').text


def until_kpi(browser, name: str, value: str, timeout: float = 20) -> None:
    WebDriverWait(browser, timeout).until(lambda b: kpi(b, name) == value, f"{name} never showed {value}")


def row(browser, table: str, key: str) -> list[str]:
    cells = browser.find_elements(By.CSS_SELECTOR, f'table[data-rows="{table}"] tr[data-key="{key}"] > *')
    return [c.text for c in cells]


def page_errors(browser) -> list[str]:
    """Console errors other than the favicon the pages do not have: a CSP refusal or a script error shows here."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]


class Devices:
    """The office's devices over MQTT: the kiosk and Quầy 1's counter device."""

    def __init__(self, server) -> None:
        self.kiosk = DeviceClient(server.broker_url, server.config.id, "kiosk-01").connect()
        self.counter = DeviceClient(server.broker_url, server.config.id, "quay-01").connect()

    def issue(self, service: str = "HT") -> str:
        reply = self.kiosk.request("ticket.issue", service=service)
        assert reply["ok"], reply
        return reply["ticket"]["number"]

    def ask(self, op: str, **fields) -> dict:
        reply = self.counter.request(op, counter="Q1", **fields)
        assert reply["ok"], reply
        return reply

    def close(self) -> None:
        self.kiosk.close()
        self.counter.close()


@pytest.fixture
def devices():
    opened: list[Devices] = []

    def make(server) -> Devices:
        opened.append(Devices(server))
        return opened[-1]

    yield make
    for o in opened:
        o.close()


def test_the_managers_screen_follows_the_queue_and_raises_alerts_on_the_servers_clock(browser, start_server, config, devices, tmp_path):
    clock = at(config, 8)
    server = start_server(clock=clock)
    office = devices(server)
    viewport(browser, 1366, 768)
    sign_in(browser, server, "/dashboard")
    ready(browser)
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == "live")
    assert browser.find_element(By.ID, "person").text == "Nguyễn Thị Hoa"
    assert kpi(browser, "issued") == "0" and kpi(browser, "waiting_now") == "0"
    assert browser.find_element(By.CSS_SELECTOR, "#alerts li.no-alerts").text == "Không có cảnh báo."
    assert "Ngày 23/11/2026" in browser.find_element(By.ID, "day").text

    first = office.issue()  # a citizen takes a number: the figures change without a reload
    until_kpi(browser, "issued", "1")
    assert kpi(browser, "waiting_now") == "1"
    WebDriverWait(browser, 10).until(lambda b: row(b, "by_field", "HT")[1:3] == ["1", "1"])  # issued, waiting

    office.ask("counter.sign_in", staff="nv01")
    assert office.ask("counter.next")["ticket"]["number"] == first
    until_kpi(browser, "waiting_now", "0")
    WebDriverWait(browser, 10).until(lambda b: row(b, "by_counter", "Q1")[1:3] == ["Đang phục vụ", "nv01"])
    clock.advance(6 * 60)
    office.ask("counter.finish")
    second = office.issue()
    until_kpi(browser, "served", "1")
    assert kpi(browser, "waiting_now") == "1" and kpi(browser, "mean_wait") == "0,0"
    mean_wait = browser.find_element(By.CSS_SELECTOR, '[data-kpi="mean_wait"]')
    assert mean_wait.get_attribute("data-verdict") == "met" and mean_wait.find_element(By.CLASS_NAME, "verdict").text == "Đạt"
    assert browser.find_elements(By.CSS_SELECTOR, '[data-kpi="mean_wait"] .verdict svg.icon-met')  # an icon, not colour alone

    clock.advance(16 * 60)  # nobody does anything; the server's clock moves and the page sees it
    alert = f'#alerts li[data-kind="wait_over_target"][data-number="{second}"]'
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, alert), "no alert for the long wait")
    assert browser.find_element(By.CSS_SELECTOR, alert).text == \
        f"Số thứ tự {second} (Tư pháp - Hộ tịch) đã chờ 16 phút, quá mục tiêu 15 phút."
    idle = browser.find_element(By.CSS_SELECTOR, '#alerts li[data-kind="counter_idle"][data-counter="Q1"]').text
    assert idle == "Quầy 1 đã rảnh 16 phút trong khi có 1 người đang chờ mà quầy này có thể mời."
    assert kpi(browser, "longest") == "16"
    assert browser.find_element(By.CSS_SELECTOR, '[data-kpi="longest"] .kpi-note').text == f"Số thứ tự {second} · Tư pháp - Hộ tịch"
    browser.save_screenshot(str(tmp_path / "manager-alerts.png"))
    assert not page_errors(browser)


def test_the_page_asks_for_figures_at_most_once_per_pause_however_busy_the_office(browser, start_server, config, devices):
    clock = at(config, 9)
    server = start_server(clock=clock)
    office = devices(server)
    sign_in(browser, server, "/dashboard")
    ready(browser)
    pause = float(browser.find_element(By.ID, "board").get_attribute("data-refresh-seconds"))
    before = browser.execute_script("return MotcuaDashboard.refreshes")
    started = systime.monotonic()
    for _ in range(12):  # a burst: 12 numbers, each a change of the queue the page hears about
        clock.advance(10)  # within the kiosk's issuing limit per minute
        office.issue()
    until_kpi(browser, "issued", "12", timeout=30)
    elapsed = systime.monotonic() - started
    fetched = browser.execute_script("return MotcuaDashboard.refreshes") - before
    # One fetch per pause at most (plus the one that may be due at once): not one per change.
    assert 1 <= fetched <= 1 + int(elapsed / pause) + 1, (fetched, elapsed)
    assert fetched < 12


def test_the_room_screen_is_public_readable_and_names_no_official(browser, start_server, config, devices, tmp_path):
    server = start_server(clock=at(config, 10))
    office = devices(server)
    office.ask("counter.sign_in", staff="nv-lan")
    office.issue()
    office.ask("counter.next")
    office.issue("DD")
    viewport(browser, 1920, 1080)
    browser.get(url(server, "/dashboard/room"))  # nobody signs in on the TV
    ready(browser)
    until_kpi(browser, "waiting_now", "1")
    assert "nv-lan" not in browser.page_source
    assert not browser.find_elements(By.ID, "alerts") and not browser.find_elements(By.CSS_SELECTOR, "table")
    fields = {li.get_attribute("data-key"): li.text for li in browser.find_elements(By.CSS_SELECTOR, "#fields li")}
    assert fields["DD"].startswith("Đất đai") and "1 người chờ" in fields["DD"]
    assert browser.find_element(By.ID, "counters-working").text == "1/6 quầy đang làm việc"
    assert browser.find_element(By.ID, "clock").text == "10:00"
    # Readable from 6 m: the big numbers are at least a tenth of the screen's height, nothing scrolls.
    size = browser.execute_script("return parseFloat(getComputedStyle(document.querySelector('[data-kpi=waiting_now] .v')).fontSize)")
    assert size >= 100
    assert browser.execute_script("return document.documentElement.scrollHeight <= window.innerHeight + 1")
    assert browser.execute_script("return document.fonts.check('700 48px \"Noto Sans\"', 'Đang chờ Tỷ lệ hài lòng')")
    browser.save_screenshot(str(tmp_path / "room.png"))
    assert not page_errors(browser)


def test_an_office_that_names_its_officials_shows_them_on_the_room_screen(browser, start_server, config, devices):
    named = replace(config, reports=replace(config.reports, room_shows_officials=True))
    server = start_server(clock=at(config, 10), cfg=named)
    add_staff(server, "lan.tt", counters=("Q1",), name="Trần Thị Lan")
    office = devices(server)
    office.ask("counter.sign_in", staff="lan.tt")
    browser.get(url(server, "/dashboard/room"))
    ready(browser)
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#counters li[data-counter="Q1"]'))
    assert browser.find_element(By.CSS_SELECTOR, '#counters li[data-counter="Q1"]').text.split("\n") == ["Quầy 1", "Sẵn sàng", "Trần Thị Lan"]


def test_the_report_page_shows_a_range_and_downloads_an_xlsx_that_reads_back(browser, start_server, config, tmp_path):
    from openpyxl import load_workbook

    data = tmp_path / "data"
    store, day_clock = Store(data / "motcua.db", config.id), FakeClock()
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts
    known_day(Office(config, store, day_clock), day_clock)  # the day docs/reports.md's figures are checked against
    store.close()
    server = start_server(clock=FakeClock(datetime.combine(MONDAY.replace(day=24), time(9), config.tz)), data_dir=data)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    viewport(browser, 1366, 768)
    sign_in(browser, server, "/reports")
    assert browser.find_element(By.ID, "from").get_attribute("value") == "2026-11-01"  # this month so far, by default
    browser.execute_script("document.getElementById('from').value = '2026-11-23'; document.getElementById('to').value = '2026-11-23';")
    browser.find_element(By.ID, "show").click()
    ready(browser, "report")
    summary = browser.find_elements(By.CSS_SELECTOR, '[data-table="summary"] tbody tr > *')
    assert [c.text for c in summary][:6] == ["Từ ngày 23/11/2026 đến ngày 23/11/2026", "4", "2", "1", "1", "8,8"]
    verdicts = [c.text for c in browser.find_elements(By.CSS_SELECTOR, '[data-table="targets"] td.verdict-cell')]
    assert verdicts[:3] == ["Đạt", "Đạt", "Chưa đạt"]  # 8.8 min mean, nobody over 30 min, 1 of 2 satisfied
    assert browser.find_elements(By.CSS_SELECTOR, '[data-table="targets"] td.verdict-cell svg.icon-not-met')
    bars = browser.find_elements(By.CSS_SELECTOR, '[data-chart="distribution"] rect.bar[data-value]')
    assert sum(float(b.get_attribute("data-value")) for b in bars) == 4  # four visits called
    browser.save_screenshot(str(tmp_path / "report.png"))

    browser.find_element(By.ID, "download-xlsx").click()
    target = downloads / "bao-cao-2026-11-23-2026-11-23.xlsx"
    WebDriverWait(browser, 30).until(lambda b: target.exists() and not list(downloads.glob("*.crdownload")))
    book = load_workbook(target)
    assert "Theo lĩnh vực" in book.sheetnames and "Đối chiếu chỉ tiêu" in book.sheetnames
    rows = {r[0]: r for r in book["Theo lĩnh vực"].iter_rows(min_row=4, values_only=True)}
    assert rows["Tư pháp - Hộ tịch"][1:3] == (2, 2) and rows["Tư pháp - Hộ tịch"][5] == 10.0
    assert not page_errors(browser)


def test_screenshots_of_a_simulated_morning(browser, start_server, config, tmp_path):
    """A district office at 9:40 after a busy start, driven by the simulator over MQTT: both layouts at
    1920x1080 and 1366x768 and the report page, each checked against the JSON it was drawn from."""
    clock = at(config, 6, 50)
    server = start_server(clock=clock)
    sim = Simulation(config, district_profile(config, 450), server.broker_url, clock=clock, seed=7)
    try:
        stats = sim.run(MONDAY, until=datetime.combine(MONDAY, time(9, 40), config.tz))
    finally:
        sim.close()
    assert stats.issued > 150 and clock.now().hour == 9
    shots = tmp_path / "screenshots"
    shots.mkdir()
    sign_in(browser, server, "/reports")
    for path, name in (("/dashboard", "manager"), ("/dashboard/room", "room")):
        for width, height in ((1920, 1080), (1366, 768)):
            viewport(browser, width, height)
            browser.get(url(server, path))
            ready(browser)
            board = browser.execute_script("return MotcuaDashboard.board")
            assert kpi(browser, "waiting_now") == str(board["summary"]["waiting_now"])
            assert kpi(browser, "served") == str(board["summary"]["served"])
            if name == "manager":
                bars = browser.find_elements(By.CSS_SELECTOR, '[data-chart="arrivals"] rect.bar[data-value]')
                assert sum(float(b.get_attribute("data-value")) for b in bars) == board["summary"]["issued"]
                assert len(browser.find_elements(By.CSS_SELECTOR, "#alerts li")) == len(board["alerts"])
            else:
                assert browser.execute_script("return document.documentElement.scrollHeight <= window.innerHeight + 1")
                lists = browser.find_element(By.CSS_SELECTOR, "[data-fit]")
                assert browser.execute_script("return arguments[0].scrollHeight <= arguments[0].clientHeight + 1", lists)
            browser.save_screenshot(str(shots / f"{name}-{width}x{height}.png"))
            assert not page_errors(browser)
    viewport(browser, 1366, 768)
    browser.get(url(server, "/reports?from=2026-11-23&to=2026-11-23&period=day"))
    ready(browser, "report")
    browser.save_screenshot(str(shots / "report-1366x768.png"))
    assert len(list(shots.glob("*.png"))) == 5
    assert all(p.stat().st_size > 30_000 for p in shots.glob("*.png"))
