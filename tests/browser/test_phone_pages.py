"""The phone pages in headless Chromium at a phone's size (390 x 844): take today's number, the ticket page
live from check-in to the call (vibration and sound asked for) and the vote, a booking with its QR, and
the ticket page polling without EventSource. The QR codes are read back from the screenshots with zbarimg.
Screenshots stay in the test's tmp dir (the docs keep copies in docs/img/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from motcua.client import DeviceClient
from motcua.clock import FakeClock
from tests.appointments.support import MONDAY, office, utc
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM
from tests.staff_support import PASSWORD, add_staff

CONFIG = office(office={**office().source["office"], "issue_outside_hours": True})
RECORDER = """
window.__vibrations = [];
window.__sounds = [];
navigator.vibrate = function (pattern) { window.__vibrations.push(pattern); return true; };
var play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__sounds.push(this.currentSrc || this.src); return play.call(this); };
"""


@pytest.fixture
def phone():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromium-driver are not installed: run ./setup.sh test (it installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
                "--lang=vi", "--no-first-run", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    yield driver
    driver.quit()


@pytest.fixture
def server(start_server):
    return start_server(cfg=CONFIG, clock=FakeClock(utc(MONDAY, 8, 0)))


def base(server) -> str:
    host, port = server.options.http_listen
    return f"http://{host}:{port}"


def wait(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout).until(condition)


def phase_is(driver, phase, timeout=20):
    wait(driver, lambda d: d.find_element(By.ID, "ticket").get_attribute("data-phase") == phase, timeout)


def shot(driver, path: Path) -> Path:
    driver.save_screenshot(str(path))
    return path


def full_shot(driver, path: Path) -> Path:
    """The whole page, however long (the QR may be below the fold)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": max(844, height), "deviceScaleFactor": 2,
                                                                 "mobile": True})
    try:
        return shot(driver, path)
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})


def qr_text(png: Path) -> str:
    zbar = shutil.which("zbarimg")
    if zbar is None:
        pytest.fail("zbarimg is not installed: run ./setup.sh test (it installs zbar-tools)")
    found = subprocess.run([zbar, "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def fits_the_screen(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def no_console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]


def test_a_number_from_the_phone_from_taking_it_to_the_call_and_the_vote(phone, server, tmp_path):
    phone.get(f"{base(server)}/booking")
    assert fits_the_screen(phone)
    shot(phone, tmp_path / "phone-1-office-page.png")
    phone.find_element(By.CSS_SELECTOR, 'input[name="service"][value="DD"]').click()
    phone.find_element(By.CSS_SELECTOR, '#number input[name="phone"]').send_keys("0912 345 678")
    phone.find_element(By.CSS_SELECTOR, '#number input[name="sms"]').click()
    phone.find_element(By.CSS_SELECTOR, '#number button[type="submit"]').click()
    phase_is(phone, "absent")
    assert "#v=" in phone.current_url
    token = phone.current_url.split("/t/")[1].split("#")[0]
    assert phone.find_element(By.CSS_SELECTOR, ".number").text == "2001"
    wait(phone, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "live")
    page = full_shot(phone, tmp_path / "phone-2-absent.png")
    assert qr_text(page) == f"{base(server)}/t/{token}"  # what the kiosk scans: no vote token in it
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-03") as counter:
        assert kiosk.request("ticket.arrive", public_token=token)["ok"]
        phase_is(phone, "waiting")
        assert phone.find_element(By.CSS_SELECTOR, '[data-show="waiting"] .big').text == "Bạn là người tiếp theo"
        phone.find_element(By.ID, "sound").click()  # the one tap a browser wants before it vibrates or plays
        shot(phone, tmp_path / "phone-3-waiting.png")
        counter.request("counter.sign_in", staff="nv03")
        assert counter.request("counter.next")["ticket"]["number"] == "2001"
        phase_is(phone, "called")
        assert phone.find_element(By.CSS_SELECTOR, '[data-show="called"] .where').text == "Quầy 3"
        vibrations = phone.execute_script("return window.__vibrations")
        assert len(vibrations) >= 2 and vibrations[-1] == [400, 150, 400, 150, 400]  # the tap, then the call
        assert phone.execute_script("return window.__sounds")[-1].endswith("/static/sounds/call.wav")
        assert phone.title.startswith("Mời số thứ tự 2001 đến Quầy 3")
        shot(phone, tmp_path / "phone-4-called.png")
        counter.request("counter.finish")
    phase_is(phone, "finished")
    wait(phone, lambda d: d.find_element(By.ID, "vote").is_displayed())
    shot(phone, tmp_path / "phone-5-vote.png")
    phone.find_element(By.CSS_SELECTOR, '#vote button[data-level="very_satisfied"]').click()
    wait(phone, lambda d: d.find_element(By.ID, "voted").is_displayed())
    assert phone.find_element(By.ID, "voted").text == "Cảm ơn bạn đã đánh giá." and "#v=" not in phone.current_url
    assert [e.device for e in server.store.events_after(0) if e.type == "VoteSubmitted"] == ["web-phone"]
    shot(phone, tmp_path / "phone-6-voted.png")
    assert fits_the_screen(phone) and no_console_errors(phone) == []


def test_a_booking_made_on_the_phone_shows_its_code_and_a_readable_qr(phone, server, tmp_path):
    phone.get(f"{base(server)}/booking")
    phone.find_element(By.LINK_TEXT, "Tư pháp - Hộ tịch").click()
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "label.slot"))
    assert fits_the_screen(phone)
    shot(phone, tmp_path / "booking-1-slots.png")
    phone.find_elements(By.CSS_SELECTOR, "label.slot:not(.full)")[1].click()
    phone.find_element(By.NAME, "phone").send_keys("0912345678")
    phone.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, ".ticket .code"))
    code = phone.find_element(By.CSS_SELECTOR, ".ticket .code").text
    assert len(code) == 9 and code[4] == "-" and "Đã đặt" in phone.page_source
    page = full_shot(phone, tmp_path / "booking-2-confirmed.png")
    assert qr_text(page) == f"{base(server)}/b/{code.replace('-', '')}"
    assert fits_the_screen(phone) and no_console_errors(phone) == []


def test_without_eventsource_the_ticket_page_polls_and_still_shows_the_call(phone, server, tmp_path):
    phone.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.EventSource;"})
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        ticket = kiosk.request("ticket.issue", service="HT")["ticket"]  # a paper ticket: its QR opens this page
        phone.get(f"{base(server)}/t/{ticket['public_token']}#v={ticket['vote_token']}")
        wait(phone, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "polling")
        phase_is(phone, "waiting")
        counter.request("counter.sign_in", staff="nv01")
        counter.request("counter.next")
        phase_is(phone, "called", timeout=30)
        assert phone.find_element(By.CSS_SELECTOR, '[data-show="called"] .where').text == "Quầy 1"
        shot(phone, tmp_path / "phone-polling-called.png")
    assert no_console_errors(phone) == []


def test_officials_see_the_days_booked_load_per_hour(browser, server, tmp_path):
    from queue_server.appointments import bookings, db
    from queue_server.appointments.holders import Holder, HolderKey
    from tests.appointments.support import local

    def book(i: int, service: str, hh: int) -> None:
        database = db.open_db(server.db_path)
        try:
            bookings.book(database, server.config, HolderKey.beside(server.db_path), service, local(MONDAY, hh),
                          Holder("phone", f"09123456{i:02d}"), local(MONDAY, 7), holidays=frozenset())
        finally:
            database.close()

    for i, (service, hh) in enumerate((("HT", 9), ("DD", 9), ("HT", 10))):
        book(i, service, hh)
    add_staff(server, "can-bo-ba", counters=("Q1",))
    browser.get(f"{base(server)}/booking/staff/load")  # to the login page, and back after it
    browser.find_element(By.NAME, "login").send_keys("can-bo-ba")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".booked-load"))
    def row(hour: int) -> str:  # read in the page: the script redraws the table (elements go stale)
        return browser.execute_script(f"var r = document.querySelector('.booked-load tr[data-hour=\"{hour}\"]'); "
                                      "return r ? r.innerText.replace(/\\s+/g, ' ') : ''")

    wait(browser, lambda d: row(9).startswith("09:00 2/"))
    book(3, "CT", 14)  # a phone booking while the page is open
    browser.execute_script("MotcuaBookedLoad.refresh()")
    wait(browser, lambda d: row(14).startswith("14:00 1/"))
    assert browser.find_element(By.CSS_SELECTOR, ".booked-load .totals").text.startswith("Cả ngày: 4 lịch hẹn, 0 đã đến")
    shot(browser, tmp_path / "staff-load.png")
    browser.get(f"{base(server)}/quay/Q1")  # the counter page carries the same panel, for its fields (HT)
    wait(browser, lambda d: row(9).startswith("09:00 1/"))  # the HT booking at 9, not the DD one
    assert browser.find_element(By.CSS_SELECTOR, ".booked-load .totals").text.startswith("Cả ngày: 2 lịch hẹn")
    browser.set_window_size(1280, 1200)
    shot(browser, tmp_path / "counter-with-load.png")
