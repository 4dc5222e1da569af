"""The server's MQTT connection (paho): requests and presence in, replies and state out,
and a probe that proves requests still arrive.

A broker can lose the server's session or subscriptions while the TCP connection stays up
(issue 14: one CONNECT with the server's client id did it to amqtt 0.12.1, and the server
went on "connected", answering nothing). So every PROBE_INTERVAL seconds the link
publishes a probe on the server's own request topic, which comes back through the very
subscription that requests use. While a probe is overdue the link is unhealthy (/health
answers 503, the systemd watchdog is no longer petted); after MISSES_BEFORE_RECONNECT
overdue probes it drops the connection, and paho's reconnect resubscribes and has the
server republish its retained state.

paho's network thread only hands messages to the callbacks; the server's worker does
the rest.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from motcua import protocol as p
from motcua.broker_url import BrokerURL, apply_tls
from motcua.client import disable_nagle

log = logging.getLogger("queue_server.mqtt")

PROBE_INTERVAL = 5.0
MISSES_BEFORE_RECONNECT = 2


class MqttLink:
    """One persistent-session connection of the server to its office broker."""

    def __init__(
        self,
        topics: p.Topics,
        url: BrokerURL,
        on_request: Callable[[str, bytes], None],
        on_presence: Callable[[str, bytes], None],
        on_connected: Callable[[], None],
        probe_interval: float = PROBE_INTERVAL,
    ) -> None:
        self.topics = topics
        self.url = url
        self.on_request, self.on_presence, self.on_connected = on_request, on_presence, on_connected
        self.probe_interval = probe_interval
        self.connected = threading.Event()  # connected, and the broker granted every subscription
        self.broker_error: str | None = None
        self.disconnects = 0
        self.recoveries = 0
        self.retained_requests = 0  # requests a device left retained, seen (and cleared) at a resubscribe
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._nonce = secrets.token_hex(8)
        self._probe_seq = 0
        self._outstanding: tuple[int, float] | None = None  # (sequence, monotonic time sent)
        self._confirmed = False  # a probe came back since the last (re)connect
        self._missed = 0
        self._subscribe_mid: int | None = None
        self._prober: threading.Thread | None = None
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        # The brokers bind the client id to the user name anyway (use_username_as_clientid on
        # Mosquitto, the same rule on the embedded broker), so nobody else can take this session.
        user = self.url.username or "motcua-server"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user, clean_session=False)
        client.username_pw_set(user, self.url.password)
        apply_tls(client, self.url)
        client.will_set(self.topics.status(p.SERVER_DEVICE_ID), p.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        self._prober = threading.Thread(target=self._probe_loop, name="mqtt-probe", daemon=True)
        self._prober.start()

    def stop(self) -> None:
        self._stopping.set()
        self.client.publish(self.topics.status(p.SERVER_DEVICE_ID), p.OFFLINE, qos=1, retain=True)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    # --- health ---------------------------------------------------------------------------

    @property
    def problem(self) -> str | None:
        """Why requests cannot be served right now, or None when they can."""
        if not self.connected.is_set():
            return f"not connected to the MQTT broker ({self.broker_error})" if self.broker_error else "not connected to the MQTT broker"
        with self._lock:
            if self._missed:
                return f"{self._missed} probe(s) did not come back through the broker: the session or subscriptions are lost"
            if not self._confirmed:
                return "waiting for the first probe to come back through the broker"
        return None

    @property
    def healthy(self) -> bool:
        return self.problem is None

    def _probe_loop(self) -> None:
        while not self._stopping.wait(self.probe_interval):
            self.check()

    def check(self) -> None:
        """Count an overdue probe, reconnect after too many, send the next one."""
        if not self.connected.is_set():
            return
        now = time.monotonic()
        with self._lock:
            if self._outstanding and now - self._outstanding[1] >= self.probe_interval:
                self._missed += 1
                self._outstanding = None
                log.warning("probe %d did not come back within %.1f s: requests may not be reaching the server",
                            self._probe_seq, self.probe_interval)
            recover = self._missed >= MISSES_BEFORE_RECONNECT
        if recover:
            self._reconnect()
        else:
            self._send_probe()

    def _send_probe(self) -> None:
        with self._lock:
            if self._outstanding:
                return
            self._probe_seq += 1
            self._outstanding = (self._probe_seq, time.monotonic())
            payload = f"probe {self._nonce} {self._probe_seq}"
        self.client.publish(self.topics.req(p.SERVER_DEVICE_ID), payload, qos=1)

    def _probe_back(self, payload: bytes) -> None:
        parts = payload.decode(errors="replace").split()
        with self._lock:
            if len(parts) == 3 and parts[1] == self._nonce and self._outstanding and parts[2] == str(self._outstanding[0]):
                self._outstanding = None
                self._missed = 0
                self._confirmed = True

    def _reconnect(self) -> None:
        self.recoveries += 1
        log.error("the broker no longer delivers the server's requests (session or subscriptions lost); reconnecting")
        self._reset_probes()
        self.connected.clear()
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            # paho's loop sees the connection end and reconnects; a disconnect() would stop the loop
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _reset_probes(self) -> None:
        with self._lock:
            self._outstanding, self._missed, self._confirmed = None, 0, False

    # --- paho callbacks (network thread) ------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.broker_error = str(reason)
            log.error("MQTT broker %s refused the server's connection: %s", self.url, reason)
            return
        self.broker_error = None
        disable_nagle(client)
        self._reset_probes()
        _, self._subscribe_mid = client.subscribe([(self.topics.all_requests, 1), (self.topics.all_status, 1)])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: list, properties: Any) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            self.broker_error = "the broker refused the server's subscriptions (its ACL must give the server's user readwrite on the office's topics)"
            log.error("%s: %s", self.broker_error, ", ".join(refused))
            return
        self.connected.set()
        log.info("connected to MQTT broker %s", self.url)
        self.on_connected()  # retained state is republished on every connect: the broker may have forgotten it
        self._send_probe()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        self._reset_probes()
        if not self._stopping.is_set():
            self.disconnects += 1
            log.warning("lost the MQTT broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        device = self.topics.device_of(msg.topic, "req")
        if device == p.SERVER_DEVICE_ID:
            self._probe_back(msg.payload)
        elif device is not None:
            if not msg.payload:
                return  # an empty message only clears a retained one: never a request
            if msg.retain:
                # A request left retained comes back at every resubscribe: answer it (the same way: ids
                # are idempotent) and clear it, so it does not come back again.
                self.retained_requests += 1
                client.publish(msg.topic, b"", qos=1, retain=True)
            self.on_request(device, msg.payload)
        else:
            device = self.topics.device_of(msg.topic, "status")
            if device is not None and device != p.SERVER_DEVICE_ID:
                self.on_presence(device, msg.payload)


class FakeLink:
    """A broker link without a broker, for tests (queue_server/bootstrap.py): keeps what the server
    publishes; `deliver()` hands the server a device's request as if it came over MQTT."""

    def __init__(self, server: Any) -> None:
        self.topics = server.topics
        self.on_request, self.on_presence, self.on_connected = server._on_request, server._on_presence, server._on_connected
        self.connected = threading.Event()
        self.broker_error: str | None = None
        self.problem: str | None = None
        self.disconnects = self.recoveries = 0
        self.published: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()

    @property
    def healthy(self) -> bool:
        return self.problem is None

    def start(self) -> None:
        self.connected.set()
        self.on_connected()

    def stop(self) -> None:
        self.connected.clear()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        with self._changed:
            self.published.append((topic, payload.encode() if isinstance(payload, str) else payload, retain))
            self._changed.notify_all()

    def deliver(self, device: str, payload: bytes) -> None:
        self.on_request(device, payload)

    def wait_for(self, topic: str, timeout: float = 5.0) -> bytes:
        """The first payload published on `topic` (waits for it)."""
        with self._changed:
            found = self._changed.wait_for(lambda: next((pl for t, pl, _ in self.published if t == topic), None), timeout)
        if found is None:
            raise TimeoutError(f"nothing was published on {topic}")
        return found
