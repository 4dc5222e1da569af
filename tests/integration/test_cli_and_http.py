"""The `motcua` command line, the HTTP endpoints and the systemd notifications, as users meet them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import EXAMPLE_CONFIG, ROOT, free_port, run_cli, wait_for_port
from tests.staff_support import WebSession, add_staff


def http_get(server, path: str) -> tuple[int, str]:
    host, port = server.options.http_listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def broker_args(server) -> list[str]:
    return ["--broker", f"mqtt://127.0.0.1:{server.broker_url.port}", "--config", str(EXAMPLE_CONFIG)]


def test_ticket_and_call_commands_print_in_vietnamese(start_server):
    server = start_server()
    issued = run_cli("ticket", "--service", "DD", *broker_args(server))
    assert issued.returncode == 0, issued.stderr
    assert "Số thứ tự: 2001" in issued.stdout and "Đất đai - Môi trường" in issued.stdout
    priority = run_cli("ticket", "--service", "DD", "--group", "elderly", "--json", *broker_args(server))
    reply = json.loads(priority.stdout)
    assert reply["ticket"]["priority_group_name"] == "Người cao tuổi"
    assert run_cli("send", "counter.sign_in", "counter=Q3", "staff=12345", *broker_args(server)).returncode == 0  # a number, as text
    called = run_cli("call", "--counter", "Q3", "--json", *broker_args(server))
    assert json.loads(called.stdout)["ticket"]["number"] == "2002"  # ratio 2:1 starts with a priority ticket


def test_a_refused_command_exits_1_with_the_vietnamese_message(start_server):
    server = start_server()
    refused = run_cli("call", "--counter", "Q1", *broker_args(server))
    assert refused.returncode == 1
    assert "counter_closed" in refused.stderr and "Quầy 1 đang đóng" in refused.stderr


def test_commands_say_clearly_when_no_server_answers():
    result = run_cli("ticket", "--service", "HT", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--timeout", "1")
    assert result.returncode == 1
    assert "motcua server" in result.stderr and "Traceback" not in result.stderr


def test_a_wrong_configuration_stops_the_server_naming_the_key(tmp_path):
    bad = tmp_path / "office.toml"
    bad.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8").replace('numbers = "2001-2999"', 'numbers = "1500-2999"'))
    result = run_cli("server", "--config", str(bad), "--data", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "services[1].numbers: 1500-2999 overlaps HT" in result.stderr


def test_events_and_backup_commands_read_the_live_database(start_server, tmp_path):
    server = start_server()
    run_cli("ticket", "--service", "HT", *broker_args(server))
    run_cli("ticket", "--service", "CT", *broker_args(server))
    data = str(server.options.data_dir)
    lines = run_cli("events", "--data", data, "--config", str(EXAMPLE_CONFIG), "--after", "1", "--json").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == [2, 3]
    assert [e["data"]["number"] for e in events] == ["1001", "C001"]
    assert all("vote_token" not in e["data"] for e in events)
    missing = run_cli("events", "--data", str(tmp_path / "nowhere"), "--config", str(EXAMPLE_CONFIG))
    assert missing.returncode == 1 and "no office database" in missing.stderr
    assert not (tmp_path / "nowhere").exists()
    target = tmp_path / "copy.db"
    done = run_cli("backup", "--data", data, "--config", str(EXAMPLE_CONFIG), str(target))
    assert done.returncode == 0 and "integrity ok" in done.stdout
    again = run_cli("backup", "--data", data, "--config", str(EXAMPLE_CONFIG), str(target))
    assert again.returncode == 1 and "exists" in again.stderr


def test_http_health_state_events_and_metrics(start_server):
    server = start_server()
    run_cli("ticket", "--service", "HT", *broker_args(server))
    run_cli("send", "device.status", "state=no_paper", "--device", "kiosk-01", *broker_args(server))
    status, body = http_get(server, "/health")
    assert status == 200 and json.loads(body)["broker_connected"] is True
    state = json.loads(http_get(server, "/api/state")[1])
    assert state["queue"]["services"]["HT"]["waiting"] == 1
    assert state["devices"]["kiosk-01/printer"]["state"] == "no_paper"
    assert http_get(server, "/api/events?after=0")[0] == 401  # the log names officials and addresses: not for the LAN
    add_staff(server, "quanly", role="manager")
    manager = WebSession(server)
    assert manager.login("quanly").status == 302
    events = json.loads(manager.get("/api/events?after=0&limit=2").text)
    assert "vote_token" not in manager.get("/api/events?after=0").text
    assert [e["seq"] for e in events["events"]] == [1, 2] and events["last_seq"] == 2
    assert manager.get("/api/events?after=abc").status == 400
    official = WebSession(server)
    add_staff(server, "canbo", role="official", counters=("Q1",))
    assert official.login("canbo").status == 302 and official.get("/api/events").status == 403
    samples = metric_samples(http_get(server, "/metrics")[1])
    office = "ubnd-huyen-demo"
    assert samples[("motcua_waiting", (("office", office), ("service", "HT")))] == 1
    fault = (("component", "printer"), ("device", "kiosk-01"), ("office", office), ("state", "no_paper"))
    assert samples[("motcua_device_fault", fault)] == 1
    assert ("motcua_device_online", (("device", "console"), ("office", office))) in samples
    # Added in issue 23: request errors by code and the store's commit latency.
    assert manager.get("/api/events?after=1e23").status == 400
    run_cli("call", "--counter", "Q1", *broker_args(server))  # refused: counter_closed
    samples = metric_samples(http_get(server, "/metrics")[1])
    assert samples[("motcua_request_errors_total", (("code", "counter_closed"),))] >= 1
    assert samples[("motcua_http_errors_total", (("status", "400"),))] >= 2
    assert samples[("motcua_store_commit_seconds_count", ())] >= 2


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text parsed by prometheus-client itself: {(name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_server_notifies_systemd_when_ready_and_pets_the_watchdog(tmp_path):
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(30)
    mqtt_port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="200000")
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua", "server", "--data", str(tmp_path / "d"), "--no-http",
         "--mqtt-listen", f"127.0.0.1:{mqtt_port}", "--config", str(EXAMPLE_CONFIG)],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )
    try:
        messages = [listener.recv(1024).decode()]
        while not any("WATCHDOG=1" in m for m in messages):
            messages.append(listener.recv(1024).decode())
        assert messages[0].startswith("READY=1")
        wait_for_port(mqtt_port)  # READY came after the broker was listening
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in messages[-1]:
            messages.append(listener.recv(1024).decode())
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        listener.close()


def test_the_demo_runs_an_office_with_simulated_citizens(tmp_path):
    import queue
    import threading

    headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua", "demo", "--data", str(tmp_path / "demo"),
         "--mqtt-listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{free_port()}"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env=headless,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    seen: list[str] = []
    try:
        while not any(line.startswith("[loa] Xin mời công dân có số") for line in seen):
            seen.append(lines.get(timeout=90))  # a call is announced within seconds
        assert any("The office is running" in line for line in seen)
        assert any(line.startswith("[kiosk] số") for line in seen)
        assert any("the kiosk, on a machine with a screen" in line for line in seen)  # no screen: how to open it
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_the_demo_opens_the_kiosk_in_a_window_where_there_is_a_screen(tmp_path):
    """Under Xvfb the demo starts the kiosk app as its own device; it comes online and leaves with the office."""
    import shutil
    import urllib.request

    xvfb = shutil.which("xvfb-run")
    assert xvfb, "xvfb-run is not installed: run ./setup.sh test"
    http = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [xvfb, "-a", "-s", "-screen 0 1280x800x24", sys.executable, "-m", "motcua", "demo", "--data", str(tmp_path / "demo"),
         "--mqtt-listen", f"127.0.0.1:{free_port()}", "--http-listen", http, "--kiosk", "auto"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        online = None
        while time.monotonic() < deadline:
            try:
                text = urllib.request.urlopen(f"http://{http}/metrics", timeout=5).read().decode()
                samples = metric_samples(text)
                online = samples.get(("motcua_device_online", (("device", "kiosk-02"), ("office", "ubnd-huyen-demo"))))
                if online == 1:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert online == 1, "the demo's kiosk app did not come online"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
    deadline = time.monotonic() + 20
    while str(tmp_path) in subprocess.run(["pgrep", "-af", "kiosk-kiosk-02"], capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline, "the kiosk app outlived the demo"
        time.sleep(0.2)


def test_a_taken_mqtt_port_is_explained(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("server", "--data", str(tmp_path / "d"), "--no-http", "--mqtt-listen", f"127.0.0.1:{port}",
                         "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 1
    assert "is another broker (Mosquitto) running there?" in result.stderr
    assert "Traceback" not in result.stderr
