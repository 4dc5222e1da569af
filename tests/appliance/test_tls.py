"""MQTT over TLS between boxes: a real Mosquitto TLS listener with a certificate from an office CA
made by the openssl commands of docs/technician.md; the server and a kiosk connect with mqtts://."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from bench.support import free_port, wait_for_port
from motcua.broker_url import CA_ENV, BrokerURL, parse_broker_url
from motcua.client import DeviceClient
from queue_server.broker_acl import SERVER_USER
from tests.conftest import EXAMPLE_CONFIG, Mosquitto

pytestmark = pytest.mark.mosquitto


def make_ca(where: Path) -> tuple[Path, Path, Path]:
    """The certificate procedure of docs/technician.md section 7, for 127.0.0.1."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=where, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=Mot Cua test CA", "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (where / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
            "-extfile", "san.ext", "-out", "server.crt")
    return where / "ca.crt", where / "server.crt", where / "server.key"


@pytest.fixture
def tls_broker(tmp_path, credentials):
    ca, cert, key = make_ca(tmp_path)
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    broker = Mosquitto(workdir, credentials)
    broker.tls_port = free_port()
    with broker.conf.open("a") as conf:
        conf.write(f"listener {broker.tls_port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n")
    broker.start()
    wait_for_port(broker.tls_port)
    broker.ca = ca
    yield broker
    broker.stop()


def test_server_and_kiosk_over_tls(tls_broker, start_server, credentials, monkeypatch):
    url = BrokerURL("127.0.0.1", tls_broker.tls_port, SERVER_USER, credentials.server_password, tls=True, ca_file=str(tls_broker.ca))
    server = start_server(broker=url)
    assert server.connected.is_set()
    monkeypatch.setenv(CA_ENV, str(tls_broker.ca))
    kiosk_url = parse_broker_url(f"mqtts://127.0.0.1:{tls_broker.tls_port}")
    assert kiosk_url.tls and kiosk_url.ca_file == str(tls_broker.ca) and str(kiosk_url).startswith("mqtts://")
    with DeviceClient(kiosk_url, server.config.id, "kiosk-01") as kiosk:
        reply = kiosk.request("ticket.issue", service="HT")
    assert reply["ok"] and reply["ticket"]["number"]


def test_a_broker_certificate_not_from_the_office_ca_is_refused(tls_broker, credentials, monkeypatch):
    monkeypatch.delenv(CA_ENV, raising=False)  # the system's CAs never signed the office's certificate
    client = DeviceClient(parse_broker_url(f"mqtts://127.0.0.1:{tls_broker.tls_port}"), "ubnd-huyen-demo", "kiosk-01")
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect(timeout=5)
    assert parse_broker_url("mqtts://10.0.0.2").port == 8883


def test_doctor_over_tls(tls_broker, tmp_path, monkeypatch):
    motcua = str(Path(sys.executable).with_name("motcua"))
    args = [motcua, "doctor", "--config", str(EXAMPLE_CONFIG), "--broker", f"mqtts://127.0.0.1:{tls_broker.tls_port}", "--data", str(tmp_path), "--json"]
    monkeypatch.delenv(CA_ENV, raising=False)
    refused = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=60).stdout)
    assert refused[0]["check"] == "broker" and refused[0]["status"] == "FAIL" and "certificate" in refused[0]["detail"]
    monkeypatch.setenv(CA_ENV, str(tls_broker.ca))
    ok = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=60).stdout)
    assert ok[0] == {"check": "broker", "status": "OK", "detail": f"connected to 127.0.0.1:{tls_broker.tls_port} as console", "subject": ""}
