"""The live demo page in headless Chromium: a call made over MQTT appears, and the page recovers by itself
after the server restarts (and without EventSource, by polling). Screenshots stay in the test's tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench.support import free_port
from motcua.client import DeviceClient
from queue_server.server import QueueServer, ServerOptions
from tests.staff_support import seed_data_dir


@pytest.fixture
def options(tmp_path: Path, config) -> ServerOptions:
    seed_data_dir(tmp_path / "data", config)  # the official who signs in at Quầy 1 has an account (issue 16)
    return ServerOptions(data_dir=tmp_path / "data", mqtt_listen=("127.0.0.1", free_port()), http_listen=("127.0.0.1", free_port()))


def call_next(server: QueueServer, service: str = "HT") -> str:
    """A citizen takes a number at the kiosk and Quầy 1 calls it, both over MQTT."""
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        number = kiosk.request("ticket.issue", service=service)["ticket"]["number"]
        counter.request("counter.sign_in", counter="Q1", staff="nv01")
        assert counter.request("counter.next", counter="Q1")["ticket"]["number"] == number
    return number


def status_is(browser, state: str, timeout: float = 20) -> None:
    WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == state)


def shows_call(browser, number: str, timeout: float = 20) -> None:
    WebDriverWait(browser, timeout).until(lambda b: b.find_elements(By.CSS_SELECTOR, f'#calls li[data-number="{number}"]'))


def test_a_call_appears_live_and_the_page_recovers_after_a_restart(browser, config, options, tmp_path):
    server = QueueServer(config, options)
    server.start()
    try:
        url = f"http://{options.http_listen[0]}:{options.http_listen[1]}/live"
        browser.get(url)
        status_is(browser, "live")
        assert browser.find_element(By.CSS_SELECTOR, '#queue tr[data-service="HT"]').text.endswith("0 người chờ")
        first = call_next(server)
        shows_call(browser, first)
        row = browser.find_element(By.CSS_SELECTOR, '#counters tr[data-counter="Q1"]')
        WebDriverWait(browser, 10).until(lambda b: first in row.text)
        assert "Quầy 1" in row.text
        assert browser.find_element(By.CSS_SELECTOR, "#calls li").text == f"{first} → Quầy 1"
        browser.save_screenshot(str(tmp_path / "live-1-called.png"))
        font = browser.execute_script("return document.fonts.check('700 48px \"Noto Sans\"', 'Quầy Đất đai ặ ẫ ờ ữ')")
        assert font, "the page's own Noto Sans did not load"
    finally:
        server.stop()
    status_is(browser, "offline")
    browser.save_screenshot(str(tmp_path / "live-2-offline.png"))

    server = QueueServer(config, options)  # same data and ports: a restart after a power cut
    server.start()
    try:
        status_is(browser, "live", timeout=40)  # backoff is at most a few seconds after so short an outage
        WebDriverWait(browser, 10).until(lambda b: first in b.find_element(By.CSS_SELECTOR, '#counters tr[data-counter="Q1"]').text)
        second = call_next(server)
        shows_call(browser, second)
        browser.save_screenshot(str(tmp_path / "live-3-recovered.png"))
    finally:
        server.stop()


def test_without_eventsource_the_page_polls(browser, config, options, tmp_path):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.EventSource;"})
    server = QueueServer(config, options)
    server.start()
    try:
        browser.get(f"http://{options.http_listen[0]}:{options.http_listen[1]}/live")
        status_is(browser, "polling")
        number = call_next(server)
        shows_call(browser, number)  # the call event came with a poll, not only the new state
        browser.save_screenshot(str(tmp_path / "live-polling.png"))
    finally:
        server.stop()
