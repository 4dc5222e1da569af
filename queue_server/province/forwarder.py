"""`motcua forward`: the office's event log to the central cluster, from where the hub stands.

The office's database is the truth; the cluster is a pipe that may lose or repeat things
(a local broker's acknowledgement is not durable; a node switch resends), so:

- On every connection the forwarder says hello with a fresh nonce; the hub answers on
  `ack/<office>` with the last sequence it holds without a gap. Sending starts there.
- It sends contiguous chunks of the log (QoS 1), at most `window` events beyond the hub's
  last answer; the hub acknowledges as it commits.
- If the hub's position stops moving while events are outstanding, it says hello again
  and resends from the answer: anything lost anywhere is sent again; anything sent twice
  is absorbed by the hub's key (office, seq).

It keeps no state of its own, so a kill -9 or a power cut loses nothing: after a restart it
asks again. It reads through a read-only connection in short transactions, so the queue
server never waits for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from motcua import protocol as p
from motcua.broker_url import BrokerURL
from motcua.client import disable_nagle
from queue_server.province.credentials import Credential
from queue_server.province.outbox import OfficeLog
from queue_server.province.topics import ProvinceTopics

log = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 512 * 1024  # well under the cluster's 1 MB message limit


@dataclass
class ForwarderOptions:
    chunk: int = 500  # events per message
    window: int = 5_000  # events sent beyond the hub's last answer (bounds what waits in the cluster)
    poll_seconds: float = 0.5  # how often to look for new events when idle
    stall_seconds: float = 60.0  # no progress at the hub for this long: ask again (lost tail), resend
    gap_rewind_seconds: float = 5.0  # at most one resend per this long when the hub reports a gap
    hello_retry_seconds: float = 5.0  # the longest wait between hellos; the first retry comes after 0.5 s
    heartbeat_seconds: float = 30.0
    dossier_chunk: int = 200


@dataclass
class ForwarderStats:
    sent_events: int = 0
    sent_chunks: int = 0
    resends: int = 0
    connects: int = 0
    hub_seq: int | None = None


def next_broker(client: mqtt.Client, brokers: list[BrokerURL], index: int) -> int:
    """Point paho's next reconnect at the cluster's next node (any node serves any client); the new index."""
    index = (index + 1) % len(brokers)
    with contextlib.suppress(RuntimeError):  # still closing: the next failure rotates again
        client.host, client.port = brokers[index].host, brokers[index].port
    return index


class Forwarder:
    """One office's forwarder. `run(stop)` blocks until `stop` is set."""

    def __init__(self, log_reader: OfficeLog, office: str, name: str, brokers: list[BrokerURL], credential: Credential,
                 topics: ProvinceTopics | None = None, options: ForwarderOptions | None = None,
                 client_id: str | None = None) -> None:
        if not brokers:
            raise ValueError("no central broker given ([province] brokers)")
        self.log = log_reader
        self.office = office
        self.name = name
        self.brokers = brokers
        self.topics = topics or ProvinceTopics()
        self.options = options or ForwarderOptions()
        self.stats = ForwarderStats()
        self._cond = threading.Condition()
        self._connected = False
        self._broker_index = 0
        self._nonce: str | None = None
        self._hello_at = 0.0
        self._hello_wait = 0.5
        self._subscribed = False
        self._acked: int | None = None  # the hub's position (events), None until it answered this connection's hello
        self._sent = 0
        self._dossiers_acked = 0
        self._dossiers_sent = 0
        self._progress_at = time.monotonic()
        self._rewound_at = 0.0
        self._heartbeat_at = 0.0
        self._stopping = False
        self.client = self._make_client(client_id or f"motcua-forward-{office}", credential)

    # --- MQTT ---------------------------------------------------------------------

    def _make_client(self, client_id: str, credential: Credential) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        client.username_pw_set(credential.username, credential.password)
        client.will_set(self.topics.status(self.office), json.dumps({"office": self.office, "online": False}), qos=1)
        client.reconnect_delay_set(min_delay=1, max_delay=4)
        # Few chunks unacknowledged by the broker at once: its PUBACKs pace us (500 offices replaying together once
        # overran JetStream's store with 64 each); the rest waits inside the window.
        client.max_inflight_messages_set(4)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _next_broker(self) -> None:
        self._broker_index = next_broker(self.client, self.brokers, self._broker_index)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error("central broker %s refused the forwarder: %s", self.brokers[self._broker_index], reason)
            self._next_broker()
            return
        disable_nagle(client)
        with self._cond:
            self._connected = True
            self._subscribed = False  # hello only once the broker took the subscription, or the answer is lost
            self._acked = None
            self._nonce = None  # say hello again: the hub may have moved, or lost what was in flight
            self._hello_wait = 0.5
        # QoS 0: only needed while connected (a lost ack is made good by the next), and on NATS a QoS 1
        # subscription is a replicated JetStream consumer per office: 500 of them took minutes to create.
        client.subscribe(self.topics.ack(self.office), qos=0)
        with self._cond:
            self.stats.connects += 1
            self._cond.notify_all()
        log.info("connected to central broker %s", self.brokers[self._broker_index])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        with self._cond:
            self._subscribed = True
            self._cond.notify_all()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
            self._acked = None
        if was and not self._stopping:
            log.warning("lost the central broker (%s); trying the next node", reason)
        self._next_broker()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._next_broker()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic != self.topics.ack(self.office):
            return
        try:
            ack = p.decode_json(msg.payload)  # bounded in size and depth, as every JSON the office parses
            seq, dossiers, nonce = int(ack["seq"]), int(ack.get("dossiers", 0)), ack.get("nonce")
        except (p.ProtocolError, ValueError, KeyError, TypeError):
            log.warning("ignored a malformed acknowledgement from the hub")
            return
        with self._cond:
            now = time.monotonic()
            if nonce is not None and nonce == self._nonce and self._acked is None:
                # The answer to this connection's hello: send everything after it.
                self._rewind(seq, dossiers, now, gap=False)
            elif self._acked is not None:
                if seq > self._acked or dossiers > self._dossiers_acked:
                    self._progress_at = now
                self._acked = max(self._acked, seq)
                self._sent = max(self._sent, self._acked)
                self._dossiers_acked = max(self._dossiers_acked, dossiers)
                self._dossiers_sent = max(self._dossiers_sent, self._dossiers_acked)
                if ack.get("resync") or (ack.get("gap") and now - self._rewound_at > self.options.gap_rewind_seconds):
                    # The hub got a chunk beyond a hole (something was lost on the way), or it has just
                    # (re)started and what an earlier process took is stuck in the cluster: resend from there.
                    self._rewind(self._acked, self._dossiers_acked, now, gap=True)
            self.stats.hub_seq = self._acked
            self._cond.notify_all()

    def _rewind(self, seq: int, dossiers: int, now: float, gap: bool) -> None:
        if self._sent > seq or self._dossiers_sent > dossiers:
            self.stats.resends += 1
            log.info("resending from %d (sent up to %d): the hub asked", seq, self._sent)
        self._acked, self._sent = seq, seq
        self._dossiers_acked, self._dossiers_sent = dossiers, dossiers
        self._progress_at = now
        if gap:
            self._rewound_at = now  # only gaps are rate-limited: chunks still in flight would report the same hole

    # --- the loop -----------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        url = self.brokers[self._broker_index]
        self.client.connect_async(url.host, url.port, keepalive=20)
        self.client.loop_start()
        try:
            while not stop.is_set():
                if not self._step():
                    with self._cond:
                        self._cond.wait(self.options.poll_seconds)
        finally:
            self._stopping = True
            self.client.disconnect()
            self.client.loop_stop()

    def _step(self) -> bool:
        """Do one thing; False when there was nothing to do (then the loop waits a little)."""
        now = time.monotonic()
        with self._cond:
            if not self._connected or not self._subscribed:
                return False
            if self._acked is None:
                if self._nonce is None or now - self._hello_at > self._hello_wait:
                    # Backing off: the first answer may be lost while the cluster spreads the new subscription.
                    self._hello_wait = 0.5 if self._nonce is None else min(self._hello_wait * 2, self.options.hello_retry_seconds)
                    self._nonce = uuid.uuid4().hex
                    self._hello_at = now
                    nonce = self._nonce
                else:
                    return False
            else:
                nonce = None
        if nonce is not None:
            # QoS 0: a hub that is away does not find a pile of stale hellos when it returns.
            self._publish(self.topics.hello(self.office), self._hello(nonce), qos=0)
            return False
        self._heartbeat(now)
        if self._send_events() or self._send_dossiers():
            return True
        with self._cond:
            behind = self._sent > (self._acked or 0) or self._dossiers_sent > self._dossiers_acked
            if behind and now - self._progress_at > self.options.stall_seconds:
                log.warning("the hub has not moved for %.0f s (at %s, sent %s): asking where it stands",
                            now - self._progress_at, self._acked, self._sent)
                self._acked, self._nonce = None, None  # hello again; its answer rewinds
        return False

    def _send_events(self) -> bool:
        with self._cond:
            assert self._acked is not None
            room = self.options.window - (self._sent - self._acked)
            after = self._sent
        if room <= 0:
            return False
        events = self.log.events_after(after, min(room, self.options.chunk))
        if not events:
            return False
        body = self._chunk_body(events)  # may drop the tail of an oversized chunk; it goes in the next one
        with self._cond:
            if self._acked is None or self._sent != after:
                return True  # rewound meanwhile: read again from the new place
            self._sent = events[-1]["seq"]
        self._publish(self.topics.events(self.office), body)
        self.stats.sent_events += len(events)
        self.stats.sent_chunks += 1
        return True

    def _chunk_body(self, events: list[dict[str, Any]]) -> bytes:
        local_seq = self.log.last_seq()  # the hub shows the office's backlog from it
        body = json.dumps({"office": self.office, "events": events, "local_seq": local_seq}, ensure_ascii=False).encode()
        while len(body) > MAX_CHUNK_BYTES and len(events) > 1:
            del events[len(events) // 2:]
            body = json.dumps({"office": self.office, "events": events, "local_seq": local_seq}, ensure_ascii=False).encode()
        return body

    def _send_dossiers(self) -> bool:
        with self._cond:
            after = self._dossiers_sent
            if after - self._dossiers_acked > self.options.dossier_chunk * 20:
                return False  # change numbers have gaps, so this bounds at most that many dossiers in flight
        dossiers = self.log.dossiers_after(after, self.options.dossier_chunk)
        if not dossiers:
            return False
        with self._cond:
            if self._acked is None or self._dossiers_sent != after:
                return True
            self._dossiers_sent = dossiers[-1]["change"]
        body = {"office": self.office, "after": after, "last": dossiers[-1]["change"], "dossiers": dossiers}
        self._publish(self.topics.dossiers(self.office), json.dumps(body, ensure_ascii=False).encode())
        return True

    def _hello(self, nonce: str) -> bytes:
        return json.dumps({"office": self.office, "name": self.name, "nonce": nonce, "local_seq": self.log.last_seq(),
                           "local_dossiers": self.log.last_dossier_change()}, ensure_ascii=False).encode()

    def _heartbeat(self, now: float) -> None:
        if now - self._heartbeat_at < self.options.heartbeat_seconds:
            return
        self._heartbeat_at = now
        body = {"office": self.office, "online": True, "name": self.name, "local_seq": self.log.last_seq()}
        self._publish(self.topics.status(self.office), json.dumps(body, ensure_ascii=False).encode(), qos=0)

    def _publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
