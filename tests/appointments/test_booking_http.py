"""The booking page and the appointments API through a running server: book, see, cancel and reschedule with
the code; a cross-site form cannot; integrators need their token; a kiosk checks in over MQTT."""

from __future__ import annotations

import re
from datetime import timedelta

from motcua.client import DeviceClient
from queue_server.appointments import db as tables
from tests.appointments.http_support import api, call, form, slot_values
from tests.appointments.support import office
from tests.conftest import run_cli
from tests.staff_support import WebSession, add_staff

CONFIG = office(office={**office().source["office"], "issue_outside_hours": True}, appointments={"capacity": {"HT": 2}})


def book_through_the_page(server, phone="0912 345 678", **extra):
    page = call(server, "GET", "/booking/slots?service=HT")
    slot = slot_values(page.text)[1]  # 09:00 (08:30 is the first one may still book at 08:00)
    reply = form(server, "/booking", {"service": "HT", "day": slot[:10], "slot": slot, "phone": phone, **extra})
    assert reply.status == 303, reply.text
    return reply.location.rsplit("/", 1)[1], slot


def test_the_office_page_offers_booking_and_todays_number(server):
    page = call(server, "GET", "/booking")
    assert page.status == 200 and "Trung tâm Phục vụ hành chính công xã Hòa Thuận" in page.text
    assert "Đặt lịch hẹn" in page.text and "Lấy số thứ tự từ xa" in page.text
    assert 'href="/booking/slots?service=HT"' in page.text
    assert page.headers["Cache-Control"] == "no-store" and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in page.text  # no inline script on any page of this area


def test_the_pages_speak_english_when_asked_and_keep_the_language_through_a_booking(server):
    page = call(server, "GET", "/booking?lang=en")
    assert page.status == 200 and "Book an appointment" in page.text and "number from your phone" in page.text
    assert 'href="/booking/slots?service=HT&amp;lang=en"' in page.text and 'lang="vi">Tiếng Việt</a>' in page.text
    slots = call(server, "GET", "/booking/slots?service=HT&lang=en").text
    slot = slot_values(slots)[0]
    made = form(server, "/booking", {"service": "HT", "day": slot[:10], "slot": slot, "phone": "0912345678", "lang": "en"})
    assert made.location.endswith("?lang=en") and "Your appointment" in call(server, "GET", made.location).text


def test_a_citizen_books_sees_reschedules_and_cancels_with_the_code(server):
    code, slot = book_through_the_page(server, sms="1")
    shown = call(server, "GET", f"/booking/{code}")
    assert shown.status == 200 and f"{code[:4]}-{code[4:]}" in shown.text and '<svg class="qr"' in shown.text
    assert "Tư pháp - Hộ tịch" in shown.text and slot[11:16] in shown.text and "…5678" in shown.text
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert call(server, "GET", f"/b/{code}").location == f"/booking/{code}"  # what the QR opens
    assert call(server, "GET", f"/booking/find?code={code[:4].lower()}-{code[4:].lower()}").location == f"/booking/{code}"
    options = call(server, "GET", f"/booking/{code}/reschedule").text
    later = slot_values(options)[5]
    moved = form(server, f"/booking/{code}/reschedule", {"slot": later, "day": later[:10]})
    assert moved.status == 303 and later[11:16] in call(server, "GET", f"/booking/{code}").text
    assert form(server, f"/booking/{code}/cancel", {"confirm": "1"}).status == 303
    page = call(server, "GET", f"/booking/{code}").text
    assert "Đã hủy" in page and "Hủy lịch hẹn</button>" not in page


def test_a_wrong_phone_is_explained_and_the_form_keeps_what_was_typed(server):
    slot = slot_values(call(server, "GET", "/booking/slots?service=HT").text)[0]
    reply = form(server, "/booking", {"service": "HT", "day": slot[:10], "slot": slot, "phone": "09123", "id_number": ""})
    assert reply.status == 400 and "Số điện thoại chưa đúng: cần đủ 10 chữ số, bắt đầu bằng số 0." in reply.text
    assert 'value="09123"' in reply.text
    none = form(server, "/booking", {"service": "HT", "day": slot[:10], "slot": slot})
    assert none.status == 400 and "Vui lòng nhập số điện thoại hoặc số định danh cá nhân." in none.text


def test_a_full_slot_is_shown_full_and_refused(server):
    for phone in ("0912345678", "0987654321"):
        book_through_the_page(server, phone)
    page = call(server, "GET", "/booking/slots?service=HT").text
    slot = re.findall(r'name="slot" value="([^"]+)" required disabled>', page)
    assert slot and "hết chỗ" in page
    reply = form(server, "/booking", {"service": "HT", "day": slot[0][:10], "slot": slot[0], "phone": "0911111111"})
    assert reply.status == 409 and "Khung giờ này vừa hết chỗ" in reply.text


def test_a_form_posted_from_another_site_books_nothing(server):
    slot = slot_values(call(server, "GET", "/booking/slots?service=HT").text)[0]
    reply = form(server, "/booking", {"service": "HT", "slot": slot, "phone": "0912345678"}, from_origin="http://evil.example")
    assert reply.status == 403 and "không đến từ trang đặt lịch" in reply.text
    database = tables.open_db(server.db_path)
    try:
        assert database.execute("SELECT COUNT(*) FROM bookings").fetchone() == (0,)
    finally:
        database.close()


def test_guessing_codes_runs_out_of_tries(server):
    answers = [call(server, "GET", f"/booking/AAAAAA{i:02d}").status for i in range(10)]
    assert answers[0] == 404 and 429 in answers


def test_integrators_book_with_their_token_which_only_its_hash_is_stored(server, tmp_path):
    created = run_cli("booking", "source", "add", "mot-cua-tinh", "--data", str(server.options.data_dir))
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    database = tables.open_db(server.db_path)
    stored = database.execute("SELECT token_sha256 FROM booking_sources").fetchall()
    database.close()
    assert len(stored) == 1 and token not in stored[0][0]
    body = {"service": "HT", "slot_start": "2026-11-24T09:00", "phone": "0912345678", "sms": True}
    assert api(server, "POST", "/api/appointments/bookings", body).status == 401
    assert api(server, "POST", "/api/appointments/bookings", body, token="wrong").json["error"]["code"] == "unknown_token"
    made = api(server, "POST", "/api/appointments/bookings", body, token=token)
    assert made.status == 201, made.text
    booking = made.json["booking"]
    assert booking["slot_start"] == "2026-11-24T09:00+07:00" and booking["channel"] == "api" and booking["sms"]
    assert made.json["qr_text"].endswith(f"/b/{booking['code']}")
    assert api(server, "GET", f"/api/appointments/bookings/{booking['code']}").json["booking"]["status"] == "booked"
    moved = api(server, "POST", f"/api/appointments/bookings/{booking['code']}/reschedule", {"slot_start": "2026-11-24T10:00+07:00"})
    assert moved.json["booking"]["slot_start"] == "2026-11-24T10:00+07:00"
    day = api(server, "GET", "/api/appointments/day?day=2026-11-24", token=token).json["bookings"]
    assert [b["code"] for b in day] == [booking["code"]] and day[0]["contact_last4"] == "5678"
    assert api(server, "GET", "/api/appointments/day?day=2026-11-24").status == 401  # the day's list is for officials
    cancelled = api(server, "POST", f"/api/appointments/bookings/{booking['code']}/cancel", {})
    assert cancelled.json["booking"]["status"] == "cancelled"
    again = api(server, "POST", f"/api/appointments/bookings/{booking['code']}/cancel", {})
    assert again.status == 409 and again.json["error"]["message"] == "Lịch hẹn này đã bị hủy."
    form_post = call(server, "POST", f"/api/appointments/bookings/{booking['code']}/cancel", b"x=1",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert form_post.status == 415  # JSON only: no cross-site form reaches the API
    assert run_cli("booking", "source", "revoke", "mot-cua-tinh", "--data", str(server.options.data_dir)).returncode == 0
    assert api(server, "POST", "/api/appointments/bookings", body, token=token).json["error"]["code"] == "revoked_token"


def test_free_places_are_public_and_the_booked_load_is_for_staff(server, clock):
    _, slot = book_through_the_page(server)
    slots = api(server, "GET", "/api/appointments/slots?service=HT").json
    assert slots["day"] == "2026-11-23" and {"start": slot[:16] + "+07:00", "end": "2026-11-23T09:30+07:00", "capacity": 2, "left": 1} \
        in slots["slots"]
    assert api(server, "GET", "/api/appointments/load").json["error"]["code"] == "unauthorized"
    add_staff(server, "can-bo-mot", counters=("Q1",))
    official = WebSession(server)
    assert official.login("can-bo-mot").status == 302
    load = official.get("/api/appointments/load").json
    nine = next(h for h in load["hours"] if h["hour"] == 9)
    assert nine["booked"] == 1 and nine["services"]["HT"]["booked"] == 1 and load["totals"]["booked"] == 1
    page = official.get("/booking/staff/load")
    assert page.status == 200 and "Lịch hẹn trong ngày" in page.text and 'data-hour="9"' in page.text
    assert call(server, "GET", "/booking/staff/load").status == 302  # strangers go to the login page
    counter_page = official.get("/quay/Q1")
    assert counter_page.status == 200 and 'data-booked-load="/api/appointments/load"' in counter_page.text


def test_a_signed_in_official_books_for_a_caller_on_the_page_or_through_the_api(server):
    add_staff(server, "can-bo-hai", counters=("Q2",))
    official = WebSession(server)
    official.login("can-bo-hai")
    slots = official.get("/booking/slots?service=HT")
    slot = slot_values(slots.text)[0]
    fields = {"service": "HT", "day": slot[:10], "slot": slot, "phone": "0912345678"}
    assert official.post("/booking", fields).status == 403  # a signed-in browser must send its CSRF token
    made = official.post("/booking", {**fields, "csrf_token": slots.field("csrf_token")})
    assert made.status == 303
    code = made.headers["Location"].rsplit("/", 1)[1]
    csrf = official.csrf()
    body = {"service": "HT", "slot_start": "2026-11-24T09:00", "id_number": "001099012345"}
    by_api = official.post_json("/api/appointments/bookings", body, csrf)
    assert by_api.status == 201, by_api.text
    day = official.get("/api/appointments/day").json["bookings"]
    assert [(b["code"], b["channel"]) for b in day] == [(code, "official")]
    database = tables.open_db(server.db_path)
    try:
        sources_of = dict(database.execute("SELECT code, source FROM bookings").fetchall())
    finally:
        database.close()
    assert sources_of == {code: "can-bo-hai", by_api.json["booking"]["code"]: "can-bo-hai"}
    assert official.post_json("/api/appointments/bookings", body, None).status == 403


def test_a_kiosk_checks_a_booking_in_over_mqtt_and_gets_a_ticket_to_print(server, clock):
    code, _ = book_through_the_page(server)
    clock.advance(timedelta(minutes=50).total_seconds())  # 08:50, within an hour of 09:00
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        reply = kiosk.request("booking.check_in", code=f"http://10.0.0.2:8080/b/{code}")  # as scanned from the QR
        assert reply["ok"], reply
        ticket = reply["ticket"]
        assert ticket["slot_at"] == "2026-11-23T09:00:00+07:00" and ticket["vote_token"] and ticket["public_token"]
        again = kiosk.request("booking.check_in", code=code)
        assert again["error"]["code"] == "booking_used" and ticket["number"] in again["error"]["message"]
    page = call(server, "GET", f"/booking/{code}").text
    assert "Đã xác nhận có mặt" in page and ticket["number"] in page


def test_check_config_says_how_many_bookings_each_slot_takes():
    from tests.conftest import EXAMPLE_CONFIG

    shown = run_cli("check-config", str(EXAMPLE_CONFIG))
    assert shown.returncode == 0, shown.stderr
    assert "appointments: 30-minute slots; bookings per slot: HT 1, DD 1, XD 1, KD 1, LD 1, CT 1" in shown.stdout
