"""Against real brokers: Debian's Mosquitto (external, and run by the server) and the embedded amqtt broker.

Every broker runs with the office's generated credentials and ACL; the security rules
themselves are tested in test_broker_security.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.client import DeviceClient
from queue_server.broker_acl import SERVER_USER
from tests.conftest import EXAMPLE_CONFIG, ROOT, free_port, wait_for_port


class Watcher:
    """Collect messages on topic filters and wait for one that satisfies a condition."""

    def __init__(self, client: DeviceClient) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes]] = []
        self.changed = threading.Condition()

    def watch(self, topic: str) -> Watcher:
        self.client.subscribe(topic, self._got)
        return self

    def _got(self, topic: str, payload: bytes) -> None:
        with self.changed:
            self.messages.append((topic, payload))
            self.changed.notify_all()

    def wait_for(self, topic: str, predicate, timeout: float = 15.0) -> dict:
        def found():
            for t, raw in reversed(self.messages):
                if t == topic:
                    try:
                        data = json.loads(raw)
                    except ValueError:
                        data = raw.decode()
                    if predicate(data):
                        return data
            return None

        with self.changed:
            result = self.changed.wait_for(found, timeout)
        assert result is not None, f"no message on {topic} matched within {timeout}s"
        return result


def issue_and_call(url: BrokerURL, office: str) -> None:
    with DeviceClient(url, office, "console") as console:
        assert console.request("ticket.issue", service="HT")["ok"]
        assert console.request("ticket.issue", service="HT")["ok"]
        assert console.request("counter.sign_in", counter="Q1", staff="nv-lan")["ok"]
        assert console.request("counter.next", counter="Q1")["ticket"]["number"] == "1001"


@pytest.mark.mosquitto
def test_server_works_through_an_external_mosquitto_with_its_own_credential(start_server, mosquitto):
    server = start_server(broker=mosquitto.server_url())
    issue_and_call(mosquitto.url(), server.config.id)
    with DeviceClient(mosquitto.url(), server.config.id, "tv-01") as tv:
        watcher = Watcher(tv).watch(tv.topics.state_counter("Q1"))
        state = watcher.wait_for(tv.topics.state_counter("Q1"), lambda d: d["ticket"] == "1001")
    assert state["status"] == "serving" and state["name"] == "Quầy 1"


@pytest.mark.mosquitto
def test_wrong_broker_password_is_reported_not_hung(start_server, mosquitto, config, tmp_path):
    from queue_server.server import QueueServer, ServerOptions

    bad = BrokerURL("127.0.0.1", mosquitto.port, SERVER_USER, "wrong")
    server = QueueServer(config, ServerOptions(data_dir=tmp_path / "d", broker=bad, http_listen=None, connect_timeout=3))
    server.start()  # returns: a wrong password must not hang the service manager
    try:
        assert not server.connected.is_set()
        assert server.broker_error == "Not authorized"  # what Mosquitto 2.0 answers (MQTT 3.1.1 code 5)
        assert "Not authorized" in server.current_snapshot()["problem"]
    finally:
        server.stop()


@pytest.mark.mosquitto
def test_after_a_mosquitto_restart_the_server_reconnects_and_republishes_retained_state(start_server, mosquitto):
    server = start_server(broker=mosquitto.server_url())
    issue_and_call(mosquitto.url(), server.config.id)
    mosquitto.stop()  # persistence is off: the broker forgets every retained message
    mosquitto.start()
    assert server.connected.wait(20)
    with DeviceClient(mosquitto.url(), server.config.id, "tv-01") as tv:
        watcher = Watcher(tv).watch(tv.topics.state_queue).watch(tv.topics.state_counter("Q1")).watch(tv.topics.state_office)
        queue = watcher.wait_for(tv.topics.state_queue, lambda d: d["services"]["HT"]["waiting"] == 1)
        counter = watcher.wait_for(tv.topics.state_counter("Q1"), lambda d: d["ticket"] == "1001")
        office = watcher.wait_for(tv.topics.state_office, lambda d: d["contract_version"] == p.CONTRACT_VERSION)
        presence = watcher.watch(tv.topics.status(p.SERVER_DEVICE_ID)).wait_for(
            tv.topics.status(p.SERVER_DEVICE_ID), lambda d: d == p.ONLINE
        )
    assert queue["total_waiting"] == 1 and counter["staff"] == "nv-lan" and office["name"] and presence
    with DeviceClient(mosquitto.url(), server.config.id, "console") as console:
        assert console.request("ticket.issue", service="HT")["ticket"]["number"] == "1003"


@pytest.mark.mosquitto
def test_the_mosquitto_run_by_the_server_is_started_again_when_it_dies(start_server):
    server = start_server(run_broker="mosquitto")
    issue_and_call(server.broker_url, server.config.id)
    first = server.broker.pid
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while not (server.broker.pid not in (None, first) and server.connected.is_set()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.broker.restarts == 1 and server.connected.is_set()
    with DeviceClient(server.broker_url, server.config.id, "tv-01") as tv:  # retained state is back
        assert Watcher(tv).watch(tv.topics.state_counter("Q1")).wait_for(tv.topics.state_counter("Q1"), lambda d: d["ticket"] == "1001")
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ticket"]["number"] == "1003"
    assert server.current_snapshot()["broker"]["restarts"] == 1


def test_after_an_embedded_broker_restart_the_server_reconnects_and_republishes(start_server, credentials):
    port = free_port()
    cmd = [sys.executable, "-m", "motcua", "broker", "--listen", f"127.0.0.1:{port}", "--config", str(EXAMPLE_CONFIG),
           "--credentials-dir", str(credentials.directory)]
    broker = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        url = BrokerURL("127.0.0.1", port)
        server = start_server(broker=BrokerURL("127.0.0.1", port, SERVER_USER, credentials.server_password))
        issue_and_call(url, server.config.id)
        broker.kill()
        broker.wait()
        broker = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        assert server.connected.wait(20)
        with DeviceClient(url, server.config.id, "tv-01") as tv:
            watcher = Watcher(tv).watch(tv.topics.state_queue).watch(tv.topics.state_counter("Q1"))
            assert watcher.wait_for(tv.topics.state_queue, lambda d: d["services"]["HT"]["waiting"] == 1)
            assert watcher.wait_for(tv.topics.state_counter("Q1"), lambda d: d["ticket"] == "1001")
    finally:
        broker.kill()
        broker.wait()


def test_bad_payloads_over_mqtt_get_error_replies_and_the_server_keeps_serving(start_server):
    server = start_server()
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        watcher = Watcher(kiosk).watch(kiosk.topics.res("kiosk-01"))
        kiosk.send_raw(b"\x00\x01 not json at all")
        error = watcher.wait_for(kiosk.topics.res("kiosk-01"), lambda d: d.get("id") is None)
        assert error["error"]["code"] == "bad_request"
        kiosk.send_raw(p.dumps({"id": "big", "op": "ticket.issue", "service": "HT", "pad": "x" * (65 * 1024)}))
        big = watcher.wait_for(kiosk.topics.res("kiosk-01"), lambda d: d.get("id") == "big")
        assert big["error"]["code"] == "payload_too_large"
        assert kiosk.request("ticket.issue", service="HT")["ticket"]["number"] == "1001"


def test_a_device_that_vanishes_is_marked_offline_by_its_last_will(start_server):
    server = start_server()
    kiosk = DeviceClient(server.broker_url, server.config.id, "kiosk-01").connect()
    with DeviceClient(server.broker_url, server.config.id, "tv-01") as tv:
        watcher = Watcher(tv).watch(tv.topics.status("kiosk-01"))
        watcher.wait_for(tv.topics.status("kiosk-01"), lambda d: d == p.ONLINE)
        kiosk.client._sock.close()  # a power cut: no DISCONNECT packet, the broker sends the will
        kiosk.client.loop_stop()
        watcher.wait_for(tv.topics.status("kiosk-01"), lambda d: d == p.OFFLINE, timeout=60)
