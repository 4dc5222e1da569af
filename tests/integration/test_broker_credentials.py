"""Credentials as technicians and devices meet them: the command, files and environment, never
a command line, never a log line; and a server that cannot serve says so to systemd."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from motcua.client import BrokerRefused, DeviceClient
from motcua.credentials import CREDENTIALS_ENV, PASSWORD_ENV
from queue_server.broker_acl import SERVER_USER
from queue_server.credentials import CredentialSet, load
from tests.conftest import EXAMPLE_CONFIG, ROOT, Mosquitto, free_port, run_cli, wait_for_port
from tests.integration.test_cli_and_http import http_get


def test_the_credentials_command_writes_files_and_prints_no_secret(tmp_path, config):
    out = tmp_path / "creds"
    users = len(config.devices) + 1  # every device, and the server
    first = run_cli("devices", "credentials", "--config", str(EXAMPLE_CONFIG), "--out", str(out))
    assert first.returncode == 0, first.stderr
    creds = load(out)
    assert f"{users} new" in first.stdout and "devices/USER.toml" in first.stdout
    again = run_cli("devices", "credentials", "--config", str(EXAMPLE_CONFIG), "--out", str(out), "--rotate", "kiosk-01")
    assert again.returncode == 0 and f"{users - 1} kept, 1 rotated (kiosk-01)" in again.stdout
    printed = first.stdout + first.stderr + again.stdout + again.stderr
    assert not any(secret in printed for secret in [*creds.passwords.values(), *load(out).passwords.values()])
    wrong = run_cli("devices", "credentials", "--config", str(EXAMPLE_CONFIG), "--out", str(out), "--rotate", "nobody")
    assert wrong.returncode == 1 and "cannot rotate nobody" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_password_in_a_broker_url_is_refused_with_what_to_do(tmp_path):
    device = run_cli("ticket", "--service", "HT", "--broker", "mqtt://kiosk-01:s3cret@127.0.0.1:1883")
    assert device.returncode == 2 and "readable in `ps`" in device.stderr and "MOTCUA_CREDENTIALS" in device.stderr
    assert "s3cret" not in device.stderr
    server = run_cli("server", "--config", str(EXAMPLE_CONFIG), "--data", str(tmp_path / "d"), "--broker", "mqtt://motcua-server:pw@localhost")
    assert server.returncode == 2 and "--credentials FILE" in server.stderr and not (tmp_path / "d").exists()


def test_a_device_without_its_credential_is_told_how_to_give_it(start_server, credentials, monkeypatch):
    server = start_server()
    monkeypatch.delenv(CREDENTIALS_ENV)
    result = run_cli("ticket", "--service", "HT", "--broker", str(server.broker_url), "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 1 and "refused console (Not authorized)" in result.stderr and PASSWORD_ENV in result.stderr
    console = credentials.device_file("console")
    with_file = run_cli("ticket", "--service", "HT", "--broker", str(server.broker_url), "--credentials", str(console),
                        "--config", str(EXAMPLE_CONFIG))
    assert with_file.returncode == 0 and "Số thứ tự: 1001" in with_file.stdout
    monkeypatch.setenv(PASSWORD_ENV, credentials.passwords["kiosk-01"])
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ticket"]["number"] == "1002"
    try:
        DeviceClient(server.broker_url, server.config.id, "tv-01").connect()  # kiosk-01's password is not tv-01's
        raise AssertionError("tv-01 logged in with another device's password")
    except BrokerRefused as refused:
        assert "refused tv-01" in str(refused)


def test_no_secret_on_a_command_line_or_in_the_log(tmp_path):
    """The whole server with its Mosquitto, logging at DEBUG: `ps` and the journal show no secret."""
    port, http = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua", "server", "--config", str(EXAMPLE_CONFIG), "--data", str(tmp_path / "d"),
         "--mqtt-listen", f"127.0.0.1:{port}", "--http-listen", f"127.0.0.1:{http}", "--log-level", "DEBUG", "--always-open"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for_port(http)
        creds = load(tmp_path / "d" / "credentials")
        with DeviceClient(f"mqtt://127.0.0.1:{port}", "ubnd-huyen-demo", "kiosk-01", credentials=creds.secrets_file) as kiosk:
            assert kiosk.request("ticket.issue", service="HT")["ok"]
        # Mosquitto is a child of the server's supervising thread, so look at every thread's children.
        children = [int(pid) for task in Path(f"/proc/{proc.pid}/task").iterdir() for pid in (task / "children").read_text().split()]
        command_lines = [Path(f"/proc/{pid}/cmdline").read_bytes().decode() for pid in (proc.pid, *children)]
        assert any("mosquitto" in line for line in command_lines), command_lines
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    reader.join(10)
    log = "".join(output)
    assert "New client connected" in log and "as kiosk-01" in log  # Mosquitto's own log came through, at DEBUG
    for secret in creds.passwords.values():
        assert secret not in log and not any(secret in line for line in command_lines)
    assert not (tmp_path / "d" / "mosquitto" / "mosquitto.pid").exists()  # its broker stopped with it


def test_a_server_that_cannot_serve_says_503_and_stops_petting_the_watchdog(tmp_path, config, credentials, monkeypatch):
    """Connected, but the broker refuses the server's subscriptions: nothing would ever be answered."""
    from queue_server.server import QueueServer, ServerOptions

    broken = tmp_path / "broken-acl"
    shutil.copytree(credentials.directory, broken)
    acl = (broken / "mosquitto.acl").read_text()
    (broken / "mosquitto.acl").write_text(acl.replace(f"user {SERVER_USER}\ntopic readwrite", f"user {SERVER_USER}\ntopic write"))
    (tmp_path / "mq").mkdir()
    broker = Mosquitto(tmp_path / "mq", CredentialSet(broken, credentials.passwords)).start()
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a healthy worker pets every 50 ms
    options = ServerOptions(data_dir=tmp_path / "d", broker=broker.server_url(), http_listen=("127.0.0.1", free_port()),
                            connect_timeout=1, probe_interval=0.2)
    server = QueueServer(config, options)
    try:
        server.start()
        rounds = 0
        seen = server._worker_seen
        deadline = time.monotonic() + 10
        # Ten worker rounds (each would pet if healthy), and the server's own attempt to recover.
        while (rounds < 10 or not server.link.recoveries) and time.monotonic() < deadline:
            if server._worker_seen != seen:
                rounds, seen = rounds + 1, server._worker_seen
            time.sleep(0.01)
        messages = []
        try:
            while True:
                messages.append(listener.recv(1024).decode())
        except TimeoutError:
            pass
        assert rounds >= 10 and messages and messages[0].startswith("READY=1")
        assert not any("WATCHDOG=1" in m for m in messages), messages
        status, body = http_get(server, "/health")
        # Mosquitto 2.0.11 grants a SUBSCRIBE its ACL denies (and then delivers nothing): only the probe tells,
        # and the server keeps reconnecting, so the reason is a missed probe or a reconnect in progress.
        assert status == 503 and json.loads(body)["problem"] and server.link.recoveries >= 1
    finally:
        server.stop()
        broker.stop()
        listener.close()


def test_server_with_an_external_broker_reads_its_password_from_the_environment(mosquitto, credentials, tmp_path):
    env = dict(os.environ)
    env.pop(CREDENTIALS_ENV)
    env[PASSWORD_ENV] = credentials.server_password
    http = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua", "server", "--config", str(EXAMPLE_CONFIG), "--data", str(tmp_path / "d"),
         "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--http-listen", f"127.0.0.1:{http}", "--always-open"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(http)
        with DeviceClient(mosquitto.url(), "ubnd-huyen-demo", "kiosk-01") as kiosk:
            assert kiosk.request("ticket.issue", service="HT")["ticket"]["number"] == "1001"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
