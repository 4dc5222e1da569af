"""The admin pages in headless Chromium at an office PC's 1366x768, against a running server.

An administrator adds a field and a counter, changes the hours, adds a holiday, sets the notice,
imports a catalogue with a bad row and watches a device go offline; a connected kiosk (over
MQTT, reading `state/office` with OfficeInfo.from_payload) and a TV page (the live push) follow
every change with no restart. A manager sees the pages but cannot change them; a POST without the
session's CSRF token is refused. Screenshots of every page stay in the test's tmp dir.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from bench.support import free_port
from motcua import protocol as p
from motcua.client import DeviceClient
from motcua.clock import FakeClock
from queue_server import config as office_config
from queue_server.server import QueueServer, ServerOptions
from tests.browser.admin_accounts import make_account, sign_in
from tests.conftest import EXAMPLE_CONFIG
from tests.live_client import LiveStream
from tests.staff_support import seed_data_dir

OFFICE_PC = (1366, 768)


@pytest.fixture
def server(tmp_path: Path, credentials) -> Iterator[QueueServer]:
    """The example office as it is configured (hours and all), at Monday 23/11/2026 08:00 local."""
    config = office_config.load(EXAMPLE_CONFIG)
    options = ServerOptions(data_dir=tmp_path / "data", mqtt_listen=("127.0.0.1", free_port()), http_listen=("127.0.0.1", free_port()),
                            credentials_dir=credentials.directory)
    seed_data_dir(options.data_dir, config)  # the officials the counters sign in with over MQTT
    qs = QueueServer(config, options, clock=FakeClock())
    qs.start()
    assert qs.connected.wait(10)
    make_account(qs, "quantri", "administrator")
    make_account(qs, "truongbp", "manager")
    yield qs
    qs.stop()


@pytest.fixture
def admin(browser, server) -> Any:
    browser.set_window_size(*OFFICE_PC)
    sign_in(browser, base(server), "quantri")
    return browser


def base(server: QueueServer) -> str:
    host, port = server.options.http_listen
    return f"http://{host}:{port}"


class Kiosk:
    """A kiosk as a device maker writes one: it follows the retained `state/office` and reads it with the schema."""

    def __init__(self, server: QueueServer, device: str = "kiosk-01") -> None:
        self.client = DeviceClient(server.broker_url, server.config.id, device)
        self.office: p.OfficeInfo | None = None
        self.changed = threading.Condition()
        self.client.connect()
        self.client.subscribe(self.client.topics.state_office, self._on_office)

    def _on_office(self, topic: str, payload: bytes) -> None:
        with self.changed:
            self.office = p.OfficeInfo.from_payload(p.decode_json(payload))
            self.changed.notify_all()

    def until(self, predicate: Any, timeout: float = 10) -> p.OfficeInfo:
        with self.changed:
            assert self.changed.wait_for(lambda: self.office is not None and predicate(self.office), timeout), self.office
            return self.office  # type: ignore[return-value]

    def close(self) -> None:
        self.client.close()


def shot(browser, tmp_path: Path, name: str) -> Path:
    """What an office PC shows (admin-NAME.png), and the whole page below it (admin-NAME-full.png)."""
    path = tmp_path / f"admin-{name}.png"
    browser.save_screenshot(str(path))
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    full = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    (tmp_path / f"admin-{name}-full.png").write_bytes(base64.b64decode(full["data"]))
    return path


def wait_for(browser, css: str, timeout: float = 10) -> Any:
    return WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.CSS_SELECTOR, css))


def fill(browser, form: str, **values: str) -> None:
    for name, value in values.items():
        element = browser.find_element(By.CSS_SELECTOR, f'{form} [name="{name}"]')
        element.clear()
        element.send_keys(value)


def submit(browser, form: str, confirm: bool = False) -> None:
    browser.find_element(By.CSS_SELECTOR, f'{form} button[type="submit"]').click()
    if confirm:
        WebDriverWait(browser, 10).until(ec.alert_is_present())
        browser.switch_to.alert.accept()


def done_line(browser) -> str:
    return wait_for(browser, "p.done").text


def test_a_change_in_the_admin_page_reaches_a_kiosk_and_a_tv_without_a_restart(admin, server, tmp_path):
    boot = server.hub.boot
    kiosk = Kiosk(server)
    tv_window = admin.current_window_handle
    admin.switch_to.new_window("window")
    tv = admin.current_window_handle
    admin.get(base(server) + "/live")  # the TV: a page on the live push
    WebDriverWait(admin, 20).until(lambda b: b.find_element(By.ID, "status").get_attribute("data-state") == "live")
    stream = LiveStream(*server.options.http_listen, topics="office")
    try:
        assert stream.until(lambda ev: ev.event == "snapshot").data["topics"]["office"]["notice"] is None
        admin.switch_to.window(tv_window)
        root = base(server)

        # A new field of work with its own numbers.
        admin.get(root + "/admin/services")
        fill(admin, "#add-service", code="TN", name="Tài nguyên nước", numbers="6001-6999")
        submit(admin, "#add-service")
        assert "Đã lưu" in done_line(admin)
        assert "Tài nguyên nước" in admin.find_element(By.CSS_SELECTOR, 'tr[data-service="TN"]').text
        shot(admin, tmp_path, "services")
        info = kiosk.until(lambda o: "TN" in [s.code for s in o.services])
        assert next(s for s in info.services if s.code == "TN").name == "Tài nguyên nước"

        # A counter for it, with what the loudspeaker calls it.
        admin.get(root + "/admin/counters")
        fill(admin, "#add-counter", id="Q7", name="Quầy 7 - Tài nguyên", spoken_name="quầy số bảy")
        admin.find_element(By.CSS_SELECTOR, '#add-counter input[name="services"][value="TN"]').click()
        submit(admin, "#add-counter")
        assert "Đã lưu" in done_line(admin)
        row = admin.find_element(By.CSS_SELECTOR, 'tr[data-counter="Q7"]').text
        assert "Quầy 7 - Tài nguyên" in row and "quầy số bảy" in row
        shot(admin, tmp_path, "counters")
        info = kiosk.until(lambda o: "Q7" in [c.id for c in o.counters])
        q7 = next(c for c in info.counters if c.id == "Q7")
        assert q7.spoken_name == "quầy số bảy" and q7.services == ["TN"]

        # Saturday becomes a day off.
        admin.get(root + "/admin/hours")
        admin.find_element(By.ID, "f-sat").clear()
        submit(admin, "#hours")
        assert "Đã lưu" in done_line(admin)
        assert "Thứ Bảy" not in admin.find_element(By.ID, "hours-text").text
        info = kiosk.until(lambda o: "Thứ Bảy" not in o.hours)
        assert info.hours == "Thứ Hai đến Thứ Sáu: sáng 07:00-11:30, chiều 13:00-17:00"

        # The notice line.
        admin.get(root + "/admin")
        fill(admin, "form.wide", text="Chiều nay Bộ phận Một cửa tiếp nhận hồ sơ đến 16:00.")
        submit(admin, "form.wide")
        assert "dòng thông báo" in done_line(admin)
        shot(admin, tmp_path, "overview")
        assert kiosk.until(lambda o: o.notice is not None).notice == "Chiều nay Bộ phận Một cửa tiếp nhận hồ sơ đến 16:00."
        pushed = stream.until(lambda ev: ev.event == "change" and ev.data["topic"] == "office" and ev.data["payload"]["notice"])
        assert pushed.data["payload"]["notice"].startswith("Chiều nay")

        # The TV page shows the new field and the new counter, pushed: it was never reloaded.
        admin.switch_to.window(tv)
        WebDriverWait(admin, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#queue tr[data-service="TN"]'))
        assert "Tài nguyên nước" in admin.find_element(By.CSS_SELECTOR, '#queue tr[data-service="TN"]').text
        WebDriverWait(admin, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#counters tr[data-counter="Q7"]'))
        shot(admin, tmp_path, "tv-after-change")

        # The new field works at once: the kiosk issues its first number, Q7 calls it.
        ticket = kiosk.client.request("ticket.issue", service="TN")
        assert ticket["ok"] and ticket["ticket"]["number"] == "6001"
        assert ticket["ticket"]["serving_counter_names"] == ["Quầy 7 - Tài nguyên"]
        assert server.hub.boot == boot  # the same server process throughout
        changes = [e for e in server.store.events_after(0, 10_000) if e.type == "OfficeReconfigured"]
        assert len(changes) == 3 and {e.data["by"] for e in changes} == {"quantri"}  # the log names the administrator
    finally:
        stream.close()
        kiosk.close()


def test_a_refused_change_is_shown_next_to_the_field_it_names(admin, server, tmp_path):
    root = base(server)
    admin.get(root + "/admin/services")
    fill(admin, "#add-service", code="TN", name="Tài nguyên nước", numbers="1500-2500")  # overlaps HT's 1001-1999
    submit(admin, "#add-service")
    error = wait_for(admin, "#add-service #e-numbers").text
    assert "services[6].numbers" in error and "overlaps HT" in error and error.startswith("Cấu hình mới không hợp lệ")
    assert admin.find_element(By.CSS_SELECTOR, '#add-service [name="name"]').get_attribute("value") == "Tài nguyên nước"  # nothing lost
    shot(admin, tmp_path, "services-refused")
    assert "TN" not in server.config.services

    # A form mistake is caught before the engine, in Vietnamese.
    admin.get(root + "/admin/devices")
    fill(admin, "#add-device", id="quay bảy")
    Select(admin.find_element(By.ID, "f-role")).select_by_value("counter")
    submit(admin, "#add-device")
    assert "Chỉ dùng chữ không dấu" in wait_for(admin, "#add-device #e-id").text
    assert "phải gắn với một quầy" in admin.find_element(By.CSS_SELECTOR, "#add-device #e-counter").text

    # An open counter cannot be removed: the engine says why, on top of the form.
    with DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        assert counter.request("counter.sign_in", staff="nv01")["ok"]
    admin.get(root + "/admin/devices/quay-01")
    submit(admin, 'form.danger', confirm=True)
    assert "Đã xoá" in done_line(admin)
    admin.get(root + "/admin/devices/danhgia-01")
    submit(admin, 'form.danger', confirm=True)
    admin.get(root + "/admin/counters/Q1")
    submit(admin, "form.danger", confirm=True)
    refusal = wait_for(admin, ".form-errors").text
    assert refusal.startswith("Chưa thể áp dụng cấu hình mới") and "Q1 is open" in refusal
    shot(admin, tmp_path, "counter-refused")
    assert "Q1" in server.config.counters


def test_a_holiday_added_in_the_admin_page_is_told_to_the_citizen_at_the_kiosk(admin, server, tmp_path):
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ok"]  # Monday 08:00: open
        admin.get(base(server) + "/admin/hours")
        # Typed by hand, as on an old browser without a date picker.
        admin.execute_script("document.getElementById('f-date').type = 'text'; document.getElementById('f-until').type = 'text';")
        fill(admin, "#add-holiday", date="23/11/2026", until="24/11/2026", name="Nghỉ bù")
        submit(admin, "#add-holiday")
        assert "Đã lưu" in done_line(admin)
        assert "23/11/2026 – 24/11/2026" in admin.find_element(By.ID, "holidays").text
        shot(admin, tmp_path, "hours")
        refused = kiosk.request("ticket.issue", service="HT")
    assert refused["error"]["code"] == "office_holiday"
    assert refused["error"]["message"].startswith("Hôm nay Bộ phận Một cửa nghỉ: Nghỉ bù. Vui lòng quay lại từ ngày 25/11/2026")
    assert server.config.holidays[0].name == "Nghỉ bù"
    admin.get(base(server) + "/admin")
    assert "Ngày nghỉ: Nghỉ bù" in admin.find_element(By.CSS_SELECTOR, ".cards").text


def test_the_admin_sees_a_device_come_and_go_and_its_printer_run_out_live(admin, server, tmp_path):
    admin.get(base(server) + "/admin/devices")
    cell = 'tr[data-device="kiosk-02"] .presence-cell'
    assert admin.find_element(By.CSS_SELECTOR, cell).text == "Chưa kết nối"
    WebDriverWait(admin, 10).until(lambda b: b.find_element(By.ID, "live-status").get_attribute("data-state") == "live")
    kiosk = DeviceClient(server.broker_url, server.config.id, "kiosk-02").connect()
    try:
        WebDriverWait(admin, 15).until(lambda b: b.find_element(By.CSS_SELECTOR, cell).text == "Đang kết nối")
        assert kiosk.request("device.status", state="no_paper", detail="ngăn giấy trống")["ok"]
        parts = 'tr[data-device="kiosk-02"] .components-cell'
        WebDriverWait(admin, 10).until(lambda b: "Hết giấy" in b.find_element(By.CSS_SELECTOR, parts).text)
        assert admin.find_element(By.CSS_SELECTOR, parts).text == "Máy in: Hết giấy (ngăn giấy trống)"
        shot(admin, tmp_path, "devices")
    finally:
        kiosk.close()
    WebDriverWait(admin, 15).until(lambda b: b.find_element(By.CSS_SELECTOR, cell).text == "Mất kết nối")
    shot(admin, tmp_path, "devices-offline")
    admin.get(base(server) + "/admin")
    problems = admin.find_element(By.CSS_SELECTOR, ".problems").text
    assert "kiosk-02: Mất kết nối" in problems and "kiosk-02 · Máy in: Hết giấy" in problems


def test_a_catalogue_file_with_a_bad_row_is_imported_and_the_row_named(admin, server, tmp_path):
    catalogue = tmp_path / "danh-muc-xa.csv"
    catalogue.write_text(
        "Mã TTHC,Tên thủ tục,Lĩnh vực,Quầy\n"
        "XA-001,Đăng ký khai sinh,Hộ tịch,HT\n"
        "XA-002,Cấp bản sao trích lục hộ tịch,Hộ tịch,ZZ\n"
        ",Thủ tục không có mã,Hộ tịch,HT\n",
        encoding="utf-8",
    )
    admin.get(base(server) + "/admin/procedures")
    admin.find_element(By.ID, "f-file").send_keys(str(catalogue))
    submit(admin, "#import")
    report = wait_for(admin, "#report")
    assert "'danh-muc-xa.csv' (csv): 3 thủ tục; thêm mới 1" in report.text and "bị từ chối 2" in report.text
    rows = [r.text for r in admin.find_elements(By.CSS_SELECTOR, "#rejected tbody tr")]
    assert rows[0].startswith("dòng 3 XA-002") and "'ZZ'" in rows[0]
    assert rows[1].startswith("dòng 4")
    shot(admin, tmp_path, "procedures")
    found = server.request(server.config.devices["console"], "ticket.issue", service="HT")  # the office still works
    assert found["ok"]
    import urllib.request

    with urllib.request.urlopen(base(server) + "/api/procedures?q=khai+sinh") as answer:
        assert b"XA-001" in answer.read()
    with urllib.request.urlopen(base(server) + "/api/procedures?q=giay+phep+nuoi+ong") as answer:  # a search that finds nothing
        answer.read()
    admin.get(base(server) + "/admin/procedures/misses")
    assert "giay phep nuoi ong" in admin.find_element(By.ID, "misses").text
    shot(admin, tmp_path, "misses")


def test_closing_every_counter_at_the_end_of_the_day(admin, server, tmp_path):
    with DeviceClient(server.broker_url, server.config.id, "quay-02") as q2, DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as q1:
        assert q1.request("counter.sign_in", staff="nv01")["ok"]  # open, nobody at it: it closes
        assert q2.request("counter.sign_in", staff="nv02")["ok"]
        assert kiosk.request("ticket.issue", service="HT")["ok"]
        assert q2.request("counter.next")["ok"]  # Quầy 2 serves someone: it must stay open
    admin.get(base(server) + "/admin/day")
    admin.find_element(By.CSS_SELECTOR, 'form[action$="/day/services/close"] input[name="reason"]').send_keys("Đã hết giờ lấy số hôm nay")
    submit(admin, 'form[action$="/day/services/close"]', confirm=True)
    assert "Đã thực hiện" in done_line(admin)
    assert "Đã hết giờ lấy số hôm nay" in admin.find_element(By.CSS_SELECTOR, '#day-services tr[data-service="HT"]').text
    submit(admin, 'form[action$="/day/counters/close"]', confirm=True)
    refusal = wait_for(admin, ".form-errors").text
    assert refusal == "Quầy 2 đang phục vụ số 1001. Hãy kết thúc hoặc chuyển số này trước."  # the engine's counter_busy
    assert "Đã đóng" in admin.find_element(By.CSS_SELECTOR, '#day-counters tr[data-counter="Q1"]').text
    assert server.office is not None and not server.office.state.counters["Q1"].open
    shot(admin, tmp_path, "day")
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["error"]["code"] == "service_closed"


def test_an_administrator_adds_an_official_who_may_then_sign_in_at_their_counter(admin, server, tmp_path):
    admin.get(base(server) + "/admin/staff")
    fill(admin, "#add-staff", id="lan.nt", name="Nguyễn Thị Lan", password="ngắn", again="ngắn")
    admin.find_element(By.CSS_SELECTOR, '#add-staff input[name="counters"][value="Q3"]').click()
    submit(admin, "#add-staff")
    assert "Mật khẩu cần từ 10" in wait_for(admin, "#add-staff #e-password").text
    assert admin.find_element(By.CSS_SELECTOR, '#add-staff [name="password"]').get_attribute("value") == ""  # never sent back
    assert admin.find_element(By.CSS_SELECTOR, '#add-staff input[value="Q3"]').is_selected()  # what was typed is kept
    fill(admin, "#add-staff", password="đủ-dài-và-khác-1", again="đủ-dài-và-khác-1")
    submit(admin, "#add-staff")
    assert "Đã lưu" in done_line(admin)
    row = admin.find_element(By.CSS_SELECTOR, 'tr[data-staff="lan.nt"]').text
    assert "Nguyễn Thị Lan" in row and "Cán bộ" in row and "Quầy 3" in row
    shot(admin, tmp_path, "staff")
    with DeviceClient(server.broker_url, server.config.id, "quay-03") as q3, DeviceClient(server.broker_url, server.config.id, "quay-01") as q1:
        assert q3.request("counter.sign_in", staff="lan.nt")["ok"]
        assert q1.request("counter.sign_in", staff="lan.nt")["error"]["code"] == "staff_not_allowed"
        assert q3.request("counter.sign_out")["ok"]
        admin.get(base(server) + "/admin/staff/lan.nt")
        admin.find_element(By.CSS_SELECTOR, '#edit-staff input[name="active"]').click()  # lock the account
        submit(admin, "#edit-staff")
        assert "Đã lưu" in done_line(admin)
        assert "đã khóa" in admin.find_element(By.CSS_SELECTOR, 'tr[data-staff="lan.nt"]').text
        assert q3.request("counter.sign_in", staff="lan.nt")["ok"] is False
    audit = [e.data for e in server.store.events_after(0, 10_000) if e.type == "StaffAccountChanged" and e.data["staff"] == "lan.nt"]
    assert [(a["change"], a["by"]) for a in audit] == [("created", "quantri"), ("disabled", "quantri")]


def test_a_manager_sees_the_pages_but_cannot_change_them(browser, server, tmp_path):
    browser.set_window_size(*OFFICE_PC)
    sign_in(browser, base(server), "truongbp")
    browser.get(base(server) + "/admin/services")
    assert "chỉ quản trị viên được thay đổi" in browser.find_element(By.CSS_SELECTOR, ".readonly").text
    assert not browser.find_elements(By.ID, "add-service")
    browser.get(base(server) + "/admin/services/HT")
    assert not browser.find_elements(By.CSS_SELECTOR, "#edit-service button")
    assert browser.find_element(By.ID, "f-name").get_attribute("disabled") == "true"
    shot(browser, tmp_path, "manager-service")
    # Even a hand-made POST with the manager's own valid token is refused.
    status = post_from_page(browser, "/admin/services/HT", {"name": "Đổi tên", "kind": "block", "numbers": "1001-1999"}, with_token=True)
    assert status == 403
    assert server.config.services["HT"].name == "Tư pháp - Hộ tịch"


def test_a_forged_post_without_the_csrf_token_is_refused(admin, server, tmp_path):
    admin.get(base(server) + "/admin")
    status = post_from_page(admin, "/admin/notice", {"text": "Giả mạo"}, with_token=False)
    assert status == 403
    status = post_from_page(admin, "/admin/notice", {"text": "Thật"}, with_token=True)
    assert status == 200  # the redirect after the change, followed
    office = server.office
    assert office is not None and office.state.notice == "Thật"


def post_from_page(browser, path: str, fields: dict[str, str], with_token: bool) -> int:
    """POST as a script on the page would (fetch with the session cookie), with or without the page's CSRF token."""
    script = """
      var done = arguments[arguments.length - 1], body = new URLSearchParams(arguments[1]);
      if (arguments[2]) { body.set("csrf_token", document.querySelector('input[name="csrf_token"]').value); }
      fetch(arguments[0], {method: "POST", body: body, credentials: "same-origin"}).then(function (r) { done(r.status); });
    """
    return browser.execute_async_script(script, path, fields, with_token)


PAGES = ["", "/day", "/services", "/services/HT", "/counters", "/counters/Q6", "/staff", "/staff/quantri", "/devices", "/devices/kiosk-01",
         "/hours", "/procedures", "/procedures/misses"]


def test_every_admin_page_fits_an_office_pc_and_shows_its_vietnamese(admin, server, tmp_path):
    for path in PAGES:
        admin.get(base(server) + "/admin" + path)
        wait_for(admin, ".admin-main h1")
        width = admin.execute_script("return document.documentElement.scrollWidth")
        assert width <= OFFICE_PC[0], f"/admin{path} is {width}px wide"
        assert admin.execute_script("return document.fonts.check('700 16px \"Noto Sans\"', 'Lĩnh vực ặ ẫ ờ ữ')")
        text = admin.find_element(By.TAG_NAME, "body").text
        assert "Quản trị" in text and "{" not in text, f"/admin{path} shows a placeholder"
        shot(admin, tmp_path, "page" + (path.replace("/", "-") or "-overview"))
    admin.get(base(server) + "/admin/config.toml")  # a download: the browser keeps it, the page stays
    import tomllib
    import urllib.request

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in admin.get_cookies())
    request = urllib.request.Request(base(server) + "/admin/config.toml", headers={"Cookie": cookies})
    with urllib.request.urlopen(request) as answer:
        assert "attachment" in answer.headers["Content-Disposition"]
        exported = tomllib.loads(answer.read().decode("utf-8"))
    assert office_config.parse(exported).services.keys() == server.config.services.keys()
