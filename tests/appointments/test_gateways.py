"""The SMS gateways against real parts: a modem on a pty that answers AT commands (and decodes the PDUs it
is given), a provider's HTTP API on a loopback port."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from queue_server.config import HttpGatewaySettings, ModemSettings, NotificationSettings
from queue_server.notify import GatewayError, make_gateway
from queue_server.notify.http_gateway import HttpGateway
from queue_server.notify.modem import ModemGateway, gsm_parts, semi_octets, ucs2_pdus, without_diacritics
from queue_server.notify.modem_emulator import ModemEmulator, decode_pdu

CALLED = "Mời công dân có số thứ tự 1005 đến quầy số 1."
LONG = ("Trung tâm Phục vụ hành chính công xã Hòa Thuận: số thứ tự 1005 (Tư pháp - Hộ tịch) sắp đến lượt. "
        "Vui lòng có mặt gần khu vực quầy; nếu chưa xác nhận có mặt, vui lòng quét mã tại máy lấy số.")


@pytest.fixture
def modem():
    with ModemEmulator() as emulator:
        yield emulator


def test_a_vietnamese_message_goes_out_in_pdu_mode_with_its_diacritics(modem):
    gateway = ModemGateway(modem.port, timeout=5)
    gateway.send("0912345678", CALLED)
    assert modem.wait_for(1) == [("84912345678", CALLED)]
    assert modem.commands[:3] == ["AT", "ATE0", "AT+CMGF=0"] and modem.commands[3].startswith("AT+CMGS=")
    gateway.close()


def test_a_long_message_is_sent_in_parts_the_phone_joins_again(modem):
    assert len(LONG) > 70
    gateway = ModemGateway(modem.port, timeout=5)
    gateway.send("0912345678", LONG)
    assert modem.wait_for(1) == [("84912345678", LONG)]
    parts = [c for c in modem.commands if c.startswith("AT+CMGS=")]
    assert len(parts) == len(ucs2_pdus("0912345678", LONG)) == 3  # 67 characters a part
    gateway.close()


def test_gsm_mode_sends_plain_text_without_diacritics(modem):
    gateway = ModemGateway(modem.port, encoding="gsm", timeout=5)
    gateway.send("0912345678", CALLED)
    assert modem.wait_for(1) == [("0912345678", "Moi cong dan co so thu tu 1005 den quay so 1.")]
    assert "AT+CMGF=1" in modem.commands and 'AT+CSCS="GSM"' in modem.commands
    gateway.close()


def test_a_refused_message_is_an_error_and_the_next_one_goes_out(modem):
    gateway = ModemGateway(modem.port, timeout=5)
    modem.fail_next(1)
    with pytest.raises(GatewayError, match=r"\+CMS ERROR: 38"):
        gateway.send("0912345678", CALLED)
    gateway.send("0912345678", CALLED)  # the port is opened again
    assert modem.wait_for(1) == [("84912345678", CALLED)]
    gateway.close()


def test_a_missing_or_silent_modem_is_a_clear_error(tmp_path):
    with pytest.raises(GatewayError, match="cannot open the modem"):
        ModemGateway(str(tmp_path / "ttyUSB9"), timeout=1).send("0912345678", CALLED)
    master, slave = os.openpty()  # a serial port where nothing answers
    try:
        with pytest.raises(GatewayError, match="did not answer"):
            ModemGateway(os.ttyname(slave), timeout=0.5).send("0912345678", CALLED)
    finally:
        os.close(slave)
        os.close(master)


def test_pdus_follow_the_standard():
    assert semi_octets("84912345678") == "4819325476F8"
    [(length, pdu)] = ucs2_pdus("0912345678", "Mời")
    # no SMSC, SMS-SUBMIT, MR 0, 11 digits international, PID 0, UCS-2, 6 bytes: "M" "ờ" "i"
    assert pdu == "00" + "01" + "00" + "0B91" + "4819325476F8" + "00" + "08" + "06" + "004D" + "1EDD" + "0069"
    assert length == len(pdu) // 2 - 1
    assert decode_pdu(pdu) == ("84912345678", "Mời", None)
    parts = ucs2_pdus("0912345678", LONG, reference=7)
    assert [decode_pdu(pdu)[2] for _, pdu in parts] == [(7, 3, 1), (7, 3, 2), (7, 3, 3)]
    assert all(length <= 140 + 13 for length, _ in parts)


def test_text_without_diacritics_keeps_its_words():
    assert without_diacritics("Đến quầy số 3, Trung tâm Phục vụ hành chính công") == "Den quay so 3, Trung tam Phuc vu hanh chinh cong"
    assert all(len(part) <= 160 for part in gsm_parts(LONG * 2)) and len(gsm_parts(LONG * 2)) == 3


class _Provider(BaseHTTPRequestHandler):
    received: ClassVar[list] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                    "type": self.headers.get("Content-Type"), "body": json.loads(body)})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def provider():
    _Provider.received, _Provider.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms/send", _Provider
    server.shutdown()


def test_the_http_provider_gets_json_with_the_token_from_its_file(provider, tmp_path):
    url, handler = provider
    token = tmp_path / "sms-token"
    token.write_text("s3cret-provider-token\n")
    HttpGateway(url, token_file=str(token), to_field="phone", text_field="message").send("0912345678", CALLED)
    [request] = handler.received
    assert request == {"path": "/sms/send", "auth": "Bearer s3cret-provider-token", "type": "application/json; charset=utf-8",
                       "body": {"phone": "0912345678", "message": CALLED}}


def test_a_provider_refusal_or_a_missing_token_file_is_an_error(provider, tmp_path):
    url, handler = provider
    handler.status = 503
    with pytest.raises(GatewayError, match="answered 503"):
        HttpGateway(url).send("0912345678", CALLED)
    with pytest.raises(GatewayError, match="cannot read the provider's token"):
        HttpGateway(url, token_file=str(tmp_path / "nope")).send("0912345678", CALLED)
    with pytest.raises(GatewayError, match="cannot reach"):
        HttpGateway("http://127.0.0.1:9/x", timeout=2).send("0912345678", CALLED)


def test_the_configuration_chooses_the_gateway(modem, provider):
    assert make_gateway(NotificationSettings()).name == "log"
    chosen = make_gateway(NotificationSettings(gateway="modem", modem=ModemSettings(port=modem.port, timeout_seconds=5)))
    chosen.send("0912345678", CALLED)
    assert modem.wait_for(1)[0][1] == CALLED
    chosen.close()
    url, handler = provider
    make_gateway(NotificationSettings(gateway="http", http=HttpGatewaySettings(url=url))).send("0912345678", CALLED)
    assert handler.received[0]["body"] == {"to": "0912345678", "text": CALLED}
