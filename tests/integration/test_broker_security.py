"""Every device is someone (issues 14 and 23), against both brokers the server can run:
Debian's Mosquitto and the embedded amqtt broker, each with the generated credentials.

Each test runs once per broker (the `broker_kind` fixture). Where a test shows that a
message did NOT arrive, it first waits for a later message that must arrive after it
(a "fence"), so an absence is never just a short wait.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

import paho.mqtt.client as mqtt
import pytest

from motcua import protocol as p
from motcua.client import DeviceClient
from queue_server.broker_acl import SERVER_USER
from tests.integration.test_brokers import Watcher
from tests.integration.test_cli_and_http import metric_samples

MOSQUITTO_SUB = "mosquitto_sub"


class Raw:
    """A bare paho client, to do what a misbehaving device would."""

    def __init__(self, server, user: str | None, password: str | None, client_id: str | None = None, clean: bool = True) -> None:
        self.connack = threading.Event()
        self.reason: str | None = None
        self.messages: list[tuple[str, bytes, bool]] = []
        self.granted: list[list[str]] = []
        self.subacked = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or user or "anonymous", clean_session=clean)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, m.retain))
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(server.broker_url.host, server.broker_url.port)
        self.client.loop_start()
        assert self.connack.wait(10), "no CONNACK"

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        self.reason = str(reason)
        self.connack.set()

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        with self.subacked:
            self.granted.append([str(r) for r in reasons])
            self.subacked.notify_all()

    def subscribe(self, topic: str) -> list[str]:
        with self.subacked:
            before = len(self.granted)
            self.client.subscribe(topic, 1)
            assert self.subacked.wait_for(lambda: len(self.granted) > before, 10)
            return self.granted[before]

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def office(start_server, broker_kind):
    """A server running its own broker of each kind, probing its session every 0.3 s."""
    return start_server(run_broker=broker_kind, probe_interval=0.3)


def login(office, credentials, user: str, **kwargs) -> Raw:
    return Raw(office, user, credentials.passwords[user], **kwargs)


def test_anonymous_clients_and_wrong_passwords_are_refused(office, credentials):
    attempts = {
        "anonymous": Raw(office, None, None),
        "user without password": Raw(office, "kiosk-01", None),
        "wrong password": Raw(office, "kiosk-01", "not-the-secret"),
        "another device's password": Raw(office, "kiosk-01", credentials.passwords["kiosk-02"]),
        "unknown user": Raw(office, "intruder", "x"),
    }
    for what, raw in attempts.items():
        assert raw.reason == "Not authorized", f"{what}: {raw.reason}"
        raw.client.loop_stop()
    assert login(office, credentials, "kiosk-01").reason == "Success"
    assert office.current_snapshot()["broker"]["refused"]["login"] >= len(attempts)


def test_a_kiosk_cannot_act_as_a_counter_or_the_console_and_the_server_refuses_by_role(office, credentials):
    t = office.topics
    kiosk = login(office, credentials, "kiosk-01")
    with DeviceClient(office.broker_url, office.config.id, "console") as console:
        assert console.request("ticket.issue", service="HT")["ok"]
        kiosk.publish(t.req("quay-01"), p.dumps({"id": "as-counter", "op": "counter.sign_in", "staff": "evil"}))
        kiosk.publish(t.req("console"), p.dumps({"id": "as-console", "op": "counter.sign_in", "counter": "Q1", "staff": "evil"}))
        fence = kiosk.subscribe(t.res("kiosk-01"))
        kiosk.publish(t.req("kiosk-01"), p.dumps({"id": "own-topic", "op": "counter.sign_in", "counter": "Q1", "staff": "evil"}))
        deadline = time.monotonic() + 10
        while not any(topic == t.res("kiosk-01") for topic, _, _ in kiosk.messages) and time.monotonic() < deadline:
            time.sleep(0.02)
    assert fence == ["Granted QoS 1"]
    reply = json.loads(next(payload for topic, payload, _ in kiosk.messages if topic == t.res("kiosk-01")))
    assert reply["id"] == "own-topic" and reply["error"]["code"] == "not_authorized"  # on its own topic: refused by role
    store = office.office.store
    assert store.find_reply("quay-01", "as-counter") is None and store.find_reply("console", "as-console") is None
    assert office.office.state.counters["Q1"].staff is None
    kiosk.close()


@pytest.mark.parametrize("user", ["kiosk-01", "tv-01", "console"])
def test_nobody_but_the_server_publishes_state_or_events(office, credentials, user):
    t = office.topics
    fakes = [(t.state_queue, True), (t.state_queue, False), (t.state_counter("Q1"), True), (t.event_call, False),
             (t.state_office, True), (t.status(p.SERVER_DEVICE_ID), True)]
    with DeviceClient(office.broker_url, office.config.id, "loa-01") as voice:
        watcher = Watcher(voice).watch(f"{t.base}/state/#").watch(t.event_call).watch(t.status(p.SERVER_DEVICE_ID))
        watcher.wait_for(t.state_queue, lambda d: isinstance(d, dict))
        attacker = login(office, credentials, user)
        for topic, retain in fakes:
            attacker.publish(topic, b'"forged"', retain=retain)
        attacker.close()
        with DeviceClient(office.broker_url, office.config.id, "kiosk-02") as kiosk:  # fence: a real state change
            assert kiosk.request("ticket.issue", service="HT")["ok"]
        watcher.wait_for(t.state_queue, lambda d: d["total_waiting"] == 1)
        assert not [m for m in watcher.messages if b"forged" in m[1]]
    with DeviceClient(office.broker_url, office.config.id, "tv-01") as tv:  # a newcomer gets the server's retained state
        fresh = Watcher(tv).watch(t.state_queue).watch(t.status(p.SERVER_DEVICE_ID))
        assert fresh.wait_for(t.state_queue, lambda d: d["total_waiting"] == 1)
        assert fresh.wait_for(t.status(p.SERVER_DEVICE_ID), lambda d: d == p.ONLINE)


def test_a_display_cannot_read_another_devices_replies(office, credentials):
    t = office.topics
    spy = login(office, credentials, "tv-01")
    for topic in (t.res("kiosk-01"), f"{t.base}/res/+", f"{t.base}/#", "#"):
        spy.subscribe(topic)  # refused or granted, it must not deliver kiosk-01's replies
    spy.subscribe(t.state_queue)
    with DeviceClient(office.broker_url, office.config.id, "kiosk-01") as kiosk:
        ticket = kiosk.request("ticket.issue", service="HT")["ticket"]
    deadline = time.monotonic() + 10  # fence: the queue update published after the reply
    while not any(topic == t.state_queue and b'"total_waiting":1' in payload.replace(b" ", b"") for topic, payload, _ in spy.messages):
        assert time.monotonic() < deadline, "the state update never arrived"
        time.sleep(0.02)
    assert not [m for m in spy.messages if "/res/" in m[0]]
    assert not [m for m in spy.messages if ticket["number"].encode() in m[1] and b"vote_token" in m[1]]
    spy.close()


def test_a_client_with_the_servers_client_id_does_not_kick_the_server(office, credentials):
    t = office.topics
    with DeviceClient(office.broker_url, office.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ok"]
        for attempt in range(3):
            for clean in (True, False):
                Raw(office, SERVER_USER, "wrong", client_id=SERVER_USER, clean=clean).client.loop_stop()
                squatter = login(office, credentials, "tv-01", client_id=SERVER_USER, clean=clean)
                assert squatter.reason == "Success"
                squatter.publish(t.status("tv-01"), p.ONLINE)
                assert kiosk.request("ticket.issue", service="HT", timeout=3, retries=0)["ok"], f"attempt {attempt}"
                squatter.close()
    assert office.link.disconnects == 0 and office.link.recoveries == 0 and office.connected.is_set()
    wait_until(lambda: office.handled >= 7, "requests were lost")  # counted just after each reply is sent
    assert office.handled == 7


def test_the_server_notices_lost_subscriptions_and_recovers(office, credentials):
    with DeviceClient(office.broker_url, office.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ok"]
        statuses = HealthPoller(office).start()
        office.link.client.unsubscribe(office.topics.all_requests)  # what a broker losing the session amounts to
        statuses.wait_for(503)  # /health says so (and the watchdog is not petted) until the link has recovered
        reply = kiosk.request("ticket.issue", request_id="after-the-loss", service="HT", timeout=1.0, retries=10)
        assert reply["ticket"]["number"] == "1002"
        statuses.stop()
    assert office.link.recoveries >= 1 and statuses.seen[0] == 200 and statuses.seen[-1] == 200


def test_the_embedded_broker_forgetting_the_servers_session_is_noticed_and_repaired(start_server):
    office = start_server(run_broker="embedded", probe_interval=0.3)
    with DeviceClient(office.broker_url, office.config.id, "kiosk-01") as kiosk:
        assert kiosk.request("ticket.issue", service="HT")["ok"]
        office.broker.call(lambda broker: broker._delete_session(SERVER_USER))  # amqtt 0.12.1's silent failure
        reply = kiosk.request("ticket.issue", service="HT", timeout=1.0, retries=10)
        assert reply["ticket"]["number"] == "1002"
    assert office.link.recoveries >= 1


class HealthPoller:
    """Record /health status codes every 20 ms while something happens."""

    def __init__(self, server) -> None:
        host, port = server.options.http_listen
        self.url = f"http://{host}:{port}/health"
        self.seen: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> HealthPoller:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    code = response.status
            except urllib.error.HTTPError as err:
                code = err.code
            if not self.seen or self.seen[-1] != code:
                self.seen.append(code)

    def wait_for(self, code: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while code not in self.seen:
            assert time.monotonic() < deadline, f"/health never answered {code}: {self.seen}"
            time.sleep(0.01)

    def stop(self) -> None:
        deadline = time.monotonic() + 10
        while (not self.seen or self.seen[-1] != 200) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join(10)


def test_mosquitto_sub_on_its_own_reply_topic_gets_only_its_own_replies(office, credentials, tmp_path):
    """The retained-message leak of amqtt 0.12.1, checked with a real non-Python client."""
    t = office.topics
    with DeviceClient(office.broker_url, office.config.id, "console") as console:  # retained state of every kind
        assert console.request("ticket.issue", service="HT")["ok"]
        assert console.request("counter.sign_in", counter="Q1", staff="nv-lan")["ok"]
        assert console.request("counter.next", counter="Q1")["ok"]
    # Its password goes in mosquitto_sub's own options file, not on the command line.
    config_home = tmp_path / "xdg"
    config_home.mkdir()
    (config_home / "mosquitto_sub").write_text(f"-u kiosk-01\n-P {credentials.passwords['kiosk-01']}\n")
    os.chmod(config_home / "mosquitto_sub", 0o600)
    sub = subprocess.Popen(  # stdbuf: line-buffered output, so each line can be read as it is printed
        ["stdbuf", "-oL", MOSQUITTO_SUB, "-d", "-v", "-q", "1", "-i", "kiosk-01", "-h", "127.0.0.1", "-p", str(office.broker_url.port),
         "-t", t.res("kiosk-01")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, XDG_CONFIG_HOME=str(config_home)),
    )
    lines: list[str] = []
    try:
        read_until(sub, lines, lambda line: "received SUBACK" in line)
        # A request from kiosk-01 reaching the server (as if sent by its firmware): the reply is the fence.
        office._on_request("kiosk-01", p.dumps({"id": "leak-check", "op": "ticket.issue", "service": "HT"}))
        read_until(sub, lines, lambda line: line.startswith(t.res("kiosk-01")) and "leak-check" in line)
    finally:
        sub.terminate()
        sub.wait(10)
    received = [line for line in lines if "received PUBLISH" in line]
    assert len(received) == 1 and f"'{t.res('kiosk-01')}'" in received[0], lines
    assert [line.split(" ", 1)[0] for line in lines if line.startswith(t.base)] == [t.res("kiosk-01")]


def read_until(proc: subprocess.Popen, lines: list[str], done, timeout: float = 15.0) -> None:
    found = threading.Event()

    def reader() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if done(lines[-1]):
                found.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    assert found.wait(timeout), f"mosquitto_sub did not get there; it printed: {lines}"


def test_a_broker_refuses_connections_past_its_limit_at_once_and_counts_them(start_server, broker_kind):
    office = start_server(run_broker=broker_kind, max_connections=3)  # the server's own connection is one of them
    address = (office.broker_url.host, office.broker_url.port)
    with DeviceClient(office.broker_url, office.config.id, "kiosk-01"), DeviceClient(office.broker_url, office.config.id, "kiosk-02"), \
            socket.create_connection(address, timeout=10) as extra:
        assert extra.recv(16) == b""  # closed at once; amqtt 0.12.1 left it waiting forever, silently
    with DeviceClient(office.broker_url, office.config.id, "tv-01") as tv:  # a freed place can be taken again
        assert tv.request("ticket.issue", service="HT")["error"]["code"] == "not_authorized"
    deadline = time.monotonic() + 10
    while not office.current_snapshot()["broker"]["refused"].get("connection_limit") and time.monotonic() < deadline:
        time.sleep(0.02)  # Mosquitto's log line reaches the server through a pipe
    host, port = office.options.http_listen
    metrics = urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10).read().decode()
    labels = (("broker", broker_kind), ("office", "ubnd-huyen-demo"), ("reason", "connection_limit"))
    assert metric_samples(metrics)[("motcua_broker_refused_total", labels)] >= 1  # 2 when a reconnect came before the freed place was counted free


def test_a_request_left_retained_is_cleared_at_the_next_reconnect(office, credentials):
    """A broker delivers a retained request again when the server resubscribes (Mosquitto 2.0.11
    once, amqtt twice: on resuming the session and on the SUBSCRIBE): each replay gets the same
    reply, the server clears it on the first one, and after that nothing comes back."""
    t = office.topics
    kiosk = login(office, credentials, "kiosk-01")
    kiosk.subscribe(t.res("kiosk-01"))
    kiosk.publish(t.req("kiosk-01"), p.dumps({"id": "sticky", "op": "ticket.issue", "service": "HT"}), retain=True)
    wait_until(lambda: kiosk.messages, "no reply to the retained request")
    replays = []
    for recovery in (1, 2):
        office.link._reconnect()
        # Healthy means the probe came back, after anything the broker sent on resubscribing.
        wait_until(lambda r=recovery: office.link.healthy and office.link.recoveries == r, "the server did not reconnect")
        replays.append(office.link.retained_requests)
        with DeviceClient(office.broker_url, office.config.id, "kiosk-02") as other:
            assert other.request("ticket.issue", service="HT")["ok"]
    assert 1 <= replays[0] == replays[1] <= 2  # replayed at the first reconnect only: then it was cleared
    replies = [json.loads(m[1]) for m in kiosk.messages]
    assert {r["id"] for r in replies} == {"sticky"} and all(r == replies[0] for r in replies)
    assert len(office.office.state.tickets) == 3  # one ticket for the retained request, one per fence
    kiosk.close()


def wait_until(condition, failure: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.02)
