"""A device's side of the contract: presence with last will, and request/reply by id.

Kiosks, counter keypads, the CLI, tests and benchmarks all talk to the server through
this class, so retry-with-the-same-id (promise 2) is implemented once.
"""

from __future__ import annotations

import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from motcua import protocol as p
from motcua.broker_url import BrokerURL, apply_tls, parse_broker_url
from motcua.credentials import HOW_TO_GIVE, password_for


def disable_nagle(client: mqtt.Client) -> None:
    """Send small MQTT packets at once: paho leaves Nagle's algorithm on, which with the
    peer's delayed ACK adds ~40 ms to each leg of a request/reply (measured: 88 ms round trips)."""
    sock = client.socket()
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RequestTimeout(TimeoutError):
    """No reply from the queue server in time (it or the broker may be down)."""


class BrokerRefused(ConnectionRefusedError):
    """The broker refused this device's login (no credential, or a wrong one)."""


class DeviceClient:
    """Connects as one device of one office. Thread-safe `request()`.

    The broker user is the device id (or the URL's user name); its password comes from the
    URL object built in code, else `credentials` (a credentials file), else the environment
    (see motcua.credentials). The client id is the user name: the brokers bind it anyway.
    """

    def __init__(self, broker: str | BrokerURL, office: str, device: str, prefix: str = p.DEFAULT_PREFIX,
                 credentials: str | Path | None = None) -> None:
        if not p.DEVICE_ID_RE.match(device):
            raise ValueError(f"device id {device!r}: use only letters, digits, '-' and '_'")
        self.url = parse_broker_url(broker) if isinstance(broker, str) else broker
        self.topics = p.Topics(office, prefix)
        self.device = device
        self.user = self.url.username or device
        password = self.url.password if self.url.password is not None else password_for(self.user, credentials)
        self.refused: str | None = None
        self._waiting: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._subscriptions: dict[str, int] = {self.topics.res(device): 1}
        self._handlers: list[tuple[str, Any]] = []
        self.on_connection: Any = None  # called with True on each (re)connect, False when the broker is lost
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.user)
        client.username_pw_set(self.user, password)
        apply_tls(client, self.url)
        client.will_set(self.topics.status(device), p.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def connect(self, timeout: float = 10.0) -> DeviceClient:
        self.client.connect(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(timeout) or self.refused:
            self.client.loop_stop()
            if self.refused:
                raise BrokerRefused(f"the MQTT broker at {self.url} refused {self.user} ({self.refused}): "
                                    f"a device needs its own credential; {HOW_TO_GIVE}")
            raise RequestTimeout(f"could not reach the MQTT broker at {self.url}")
        return self

    def start(self) -> DeviceClient:
        """Connect in the background, retrying until the broker answers (a keypad may boot before the
        server's box); `on_connection` says when it is up or lost. Requests before then time out."""
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        return self

    def close(self) -> None:
        self.client.publish(self.topics.status(self.device), p.OFFLINE, qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> DeviceClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, topic: str, handler: Any, qos: int = 1) -> None:
        """Call handler(topic, payload_bytes) for messages on a topic filter (kept across reconnects)."""
        self._handlers.append((topic, handler))
        self._subscriptions[topic] = qos
        self.client.subscribe(topic, qos)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            self._subscribed.set()  # wakes connect(), which reports it
            return
        self.refused = None
        disable_nagle(client)
        client.subscribe([(t, q) for t, q in self._subscriptions.items()])
        client.publish(self.topics.status(self.device), p.ONLINE, qos=1, retain=True)
        self._subscribed.set()
        if self.on_connection:
            self.on_connection(True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self.on_connection:
            self.on_connection(False)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.res(self.device):
            try:
                reply = p.decode_json(msg.payload)
            except p.ProtocolError:
                return
            with self._lock:
                slot = self._waiting.get(reply.get("id"))
            if slot:
                slot[1].append(reply)
                slot[0].set()
                return
        # Anything else, and replies nobody waits for (errors to unreadable requests), go to handlers.
        for topic_filter, handler in self._handlers:
            if mqtt.topic_matches_sub(topic_filter, msg.topic):
                handler(msg.topic, msg.payload)

    def request(self, op: str, request_id: str | None = None, timeout: float = 5.0, retries: int = 2, **fields: Any) -> dict[str, Any]:
        """Send a request and wait for its reply; re-send the same id on timeout."""
        rid = request_id or uuid.uuid4().hex
        done = threading.Event()
        box: list[dict[str, Any]] = []
        with self._lock:
            self._waiting[rid] = (done, box)
        payload = p.dumps({"id": rid, "op": op, **fields})
        try:
            for _ in range(retries + 1):
                self.client.publish(self.topics.req(self.device), payload, qos=1)
                if done.wait(timeout):
                    return box[0]
            raise RequestTimeout(f"no reply to {op} (id {rid}) from the queue server after {retries + 1} tries")
        finally:
            with self._lock:
                self._waiting.pop(rid, None)

    def send_raw(self, payload: bytes) -> None:
        """Publish an arbitrary payload on this device's request topic (for tests of bad input)."""
        self.client.publish(self.topics.req(self.device), payload, qos=1)
