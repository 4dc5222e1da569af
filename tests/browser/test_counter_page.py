"""The counter page in headless Chromium: an official signs in, takes Quầy 1 and works a morning with the
buttons and the keyboard; what the keypad does over MQTT shows on the page; a colleague taking over
stops the old tab. Screenshots of the login and counter pages at tablet and desktop sizes are kept in
the test's tmp dir (and copied to docs/img/ by hand when they change)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from motcua.client import DeviceClient
from tests.staff_support import PASSWORD, WebSession, add_staff

TABLET = (1024, 768)  # a cheap 10" tablet, landscape
TABLET_PORTRAIT = (800, 1280)
DESKTOP = (1366, 768)  # the office PC


def base(server) -> str:
    host, port = server.options.http_listen
    return f"http://{host}:{port}"


def shoot(browser, path: Path, size: tuple[int, int]) -> None:
    browser.set_window_size(*size)
    browser.save_screenshot(str(path))


def sign_in(browser, server, staff_id: str, path: str = "/quay/Q1") -> None:
    browser.get(base(server) + path)
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "login-form"))
    browser.find_element(By.ID, "login").send_keys(staff_id)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "counter-status"))


def text_of(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def until(browser, condition, timeout: float = 10) -> None:
    try:
        WebDriverWait(browser, timeout).until(lambda b: condition())
    except TimeoutException:
        messages = browser.find_elements(By.ID, "message")
        raise AssertionError(f"timed out; the page says: {messages[0].text if messages else '(no message)'}") from None


def press(browser, key: str) -> None:
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def issue(server, service: str, count: int) -> list[str]:
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        return [kiosk.request("ticket.issue", service=service)["ticket"]["number"] for _ in range(count)]


def logged(server, *types: str) -> list:
    return [e for e in server.store.events_after(0, 10_000) if e.type in types]


@pytest.fixture
def server(start_server):
    server = start_server()
    add_staff(server, "lan-nt", counters=("Q1", "Q2"), name="Nguyễn Thị Lan")
    return server


def test_the_login_page_looks_right(browser, server, tmp_path):
    browser.get(base(server) + "/dang-nhap")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Đăng nhập dành cho cán bộ"
    shoot(browser, tmp_path / "login-tablet.png", TABLET_PORTRAIT)
    shoot(browser, tmp_path / "login-desktop.png", DESKTOP)
    browser.find_element(By.ID, "login").send_keys("lan-nt")
    browser.find_element(By.ID, "password").send_keys("sai-mat-khau-1")
    browser.find_element(By.ID, "submit").click()
    until(browser, lambda: browser.find_elements(By.ID, "error"))
    assert text_of(browser, "error") == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert browser.find_element(By.ID, "login").get_attribute("value") == "lan-nt"
    shoot(browser, tmp_path / "login-error.png", DESKTOP)
    font = browser.execute_script("return document.fonts.check('700 24px \"Noto Sans\"', 'Đăng nhập dành cho cán bộ')")
    assert font


def test_an_official_works_a_morning_at_the_counter(browser, server, tmp_path):
    browser.set_window_size(*DESKTOP)
    issued = issue(server, "HT", 4)
    sign_in(browser, server, "lan-nt")
    until(browser, lambda: text_of(browser, "live") == "Cập nhật trực tiếp")
    assert "Quầy đang đóng" in text_of(browser, "holder")
    assert browser.find_element(By.ID, "btn-next").get_attribute("disabled") is not None
    browser.find_element(By.ID, "btn-sign-in").click()
    until(browser, lambda: text_of(browser, "counter-status") == "Sẵn sàng")
    until(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#waiting .chip")) == 4)
    assert [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#waiting .chip")] == issued

    press(browser, "n")  # keyboard: call the next number
    until(browser, lambda: text_of(browser, "current-number") == issued[0])
    assert text_of(browser, "message") == f"Đã gọi số {issued[0]}."
    until(browser, lambda: ":" in text_of(browser, "timer"))
    shoot(browser, tmp_path / "counter-desktop.png", DESKTOP)
    shoot(browser, tmp_path / "counter-tablet.png", TABLET)
    shoot(browser, tmp_path / "counter-tablet-portrait.png", TABLET_PORTRAIT)
    browser.set_window_size(*DESKTOP)

    # The citizen does not come: call again, then mark the no-show (the button needs two calls).
    assert browser.find_element(By.ID, "btn-skip").get_attribute("disabled") is not None
    browser.find_element(By.ID, "btn-recall").click()
    until(browser, lambda: "Đã gọi 2 lần" in text_of(browser, "current-calls"))
    press(browser, "v")
    until(browser, lambda: text_of(browser, "current-number") == "–")
    # ...who comes back: typed and put back in line with X.
    browser.find_element(By.ID, "call-number").send_keys(issued[0])
    browser.execute_script("document.activeElement.blur()")  # shortcuts work outside the field
    press(browser, "x")
    until(browser, lambda: text_of(browser, "message") == f"Đã xếp lại hàng số {issued[0]}.")

    # Call a number out of order by clicking it in the waiting list; start; finish with K.
    browser.find_element(By.CSS_SELECTOR, f'#waiting .chip[data-number="{issued[2]}"]').click()
    browser.find_element(By.ID, "btn-call").click()
    until(browser, lambda: text_of(browser, "current-number") == issued[2])
    press(browser, "b")
    until(browser, lambda: text_of(browser, "current-state") == "Đang phục vụ")
    press(browser, "k")
    until(browser, lambda: text_of(browser, "served-today") == "1")
    assert text_of(browser, "last-finished").startswith(issued[2])

    # Transfer the next one to another field, with a reason.
    press(browser, "n")
    until(browser, lambda: text_of(browser, "current-number") == issued[0])  # requeued at the front
    press(browser, "c")
    until(browser, lambda: browser.find_element(By.ID, "transfer-dialog").is_displayed())
    Select(browser.find_element(By.ID, "transfer-target")).select_by_value("service:CT")
    Select(browser.find_element(By.ID, "transfer-reason")).select_by_value("other_field")
    browser.find_element(By.ID, "transfer-detail").send_keys("chứng thực bản sao")
    shoot(browser, tmp_path / "counter-transfer-dialog.png", DESKTOP)
    browser.find_element(By.ID, "transfer-send").click()
    until(browser, lambda: text_of(browser, "message") == f"Đã chuyển số {issued[0]}.")
    transfer = logged(server, "TicketTransferred")[-1].data
    assert (transfer["to_service"], transfer["staff"]) == ("CT", "lan-nt")
    assert transfer["reason"] == "Hồ sơ thuộc lĩnh vực khác: chứng thực bản sao"

    # Pause for a break with T, resume with T.
    press(browser, "t")
    until(browser, lambda: browser.find_element(By.ID, "pause-dialog").is_displayed())
    Select(browser.find_element(By.ID, "pause-reason")).select_by_value("break")
    browser.find_element(By.ID, "pause-send").click()
    until(browser, lambda: text_of(browser, "counter-status") == "Tạm dừng")
    assert "Nghỉ giữa giờ" in text_of(browser, "holder")
    assert browser.find_element(By.ID, "btn-next").get_attribute("disabled") is not None
    press(browser, "t")
    until(browser, lambda: text_of(browser, "counter-status") == "Sẵn sàng")

    calls = logged(server, "TicketCalled", "TicketFinished", "TicketSkipped")
    assert calls and {e.data["staff"] for e in calls} == {"lan-nt"}  # every act carries the official


def test_what_the_keypad_does_shows_on_the_page_at_once(browser, server):
    browser.set_window_size(*TABLET)
    issued = issue(server, "HT", 2)
    sign_in(browser, server, "lan-nt")
    browser.find_element(By.ID, "btn-sign-in").click()
    until(browser, lambda: text_of(browser, "counter-status") == "Sẵn sàng")
    with DeviceClient(server.broker_url, server.config.id, "quay-01") as keypad:
        assert keypad.request("counter.next")["ok"]  # the hardware keypad of Quầy 1
        until(browser, lambda: text_of(browser, "current-number") == issued[0], timeout=5)
        assert keypad.request("counter.finish")["ok"]
        until(browser, lambda: text_of(browser, "current-number") == "–", timeout=5)
    assert text_of(browser, "served-today") == "1"
    assert logged(server, "TicketFinished")[-1].data["staff"] == "lan-nt"


def test_a_colleague_taking_the_counter_over_stops_the_old_tab(browser, server, tmp_path):
    add_staff(server, "binh-tv", counters=("Q1",), name="Trần Văn Bình")
    issue(server, "HT", 2)
    browser.set_window_size(*DESKTOP)
    sign_in(browser, server, "lan-nt")
    browser.find_element(By.ID, "btn-sign-in").click()
    until(browser, lambda: text_of(browser, "counter-status") == "Sẵn sàng")
    colleague = WebSession(server)
    colleague.login("binh-tv")
    csrf = colleague.csrf("/quay/Q1")
    assert colleague.post_json("/api/quay/Q1/sign_in", {"id": "take-1"}, csrf).json["ok"]
    until(browser, lambda: "Trần Văn Bình" in text_of(browser, "holder"))
    assert browser.find_element(By.ID, "btn-next").get_attribute("disabled") is not None
    shoot(browser, tmp_path / "counter-held-by-colleague.png", DESKTOP)
    # Even a request sent by hand from the old tab's session is refused by the office.
    lan = WebSession(server)
    lan.login("lan-nt")
    refused = lan.post_json("/api/quay/Q1/next", {"id": "old-tab-1"}, lan.csrf("/quay/Q1"))
    assert refused.status == 403 and refused.json["error"]["code"] == "counter_taken"
    assert colleague.post_json("/api/quay/Q1/next", {"id": "next-1"}, csrf).json["ticket"]["number"] == "1001"
    assert logged(server, "TicketCalled")[-1].data["staff"] == "binh-tv"


def test_the_page_of_a_counter_one_may_not_serve_is_refused(browser, server):
    add_staff(server, "chi-lt", counters=("Q3",))
    sign_in(browser, server, "chi-lt", path="/quay/Q3")
    browser.get(base(server) + "/quay/Q1")
    assert "không được phân công làm việc tại Quầy 1" in text_of(browser, "message")
    web = WebSession(server)
    web.login("chi-lt")
    csrf = web.csrf("/quay/Q3")
    refused = web.post_json("/api/quay/Q1/next", {"id": "x-1"}, csrf)
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden"
    assert not logged(server, "CounterSignedIn")


def test_the_counter_api_refuses_a_request_without_the_csrf_header(server):
    web = WebSession(server)
    web.login("lan-nt")
    refused = web.post_json("/api/quay/Q1/sign_in", {"id": "no-csrf"}, csrf=None)
    assert refused.status == 403 and refused.json["error"]["code"] == "csrf_failed"
    assert web.post_json("/api/quay/Q1/sign_in", {"id": "with-csrf"}, web.csrf()).json["ok"]


def test_a_resent_request_id_acts_once(server):
    issue(server, "HT", 2)
    web = WebSession(server)
    web.login("lan-nt")
    csrf = web.csrf()
    web.post_json("/api/quay/Q1/sign_in", {"id": "in-1"}, csrf)
    first = web.post_json("/api/quay/Q1/next", {"id": "n-1"}, csrf).json
    again = web.post_json("/api/quay/Q1/next", {"id": "n-1"}, csrf).json  # the tablet's Wi-Fi dropped the answer
    assert first == again and first["ticket"]["number"] == "1001"
    assert len(logged(server, "TicketCalled")) == 1


def test_keyboard_shortcuts_do_nothing_while_typing(browser, server):
    issue(server, "HT", 1)
    sign_in(browser, server, "lan-nt")
    browser.find_element(By.ID, "btn-sign-in").click()
    until(browser, lambda: text_of(browser, "counter-status") == "Sẵn sàng")
    field = browser.find_element(By.ID, "call-number")
    field.send_keys("n")  # typed into the number field: no call
    field.send_keys(Keys.ESCAPE)
    assert text_of(browser, "current-number") == "–"
    assert not logged(server, "TicketCalled")
