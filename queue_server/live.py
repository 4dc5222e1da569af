"""The live hub: the server's own snapshot of retained state, fanned out to browsers.

Debian's Mosquitto has no websockets listener, so pages do not subscribe to the broker:
the office worker hands every batch it published to `LiveHub.publish`, the hub keeps the
last payload of each retained topic (the snapshot) and passes each change to its
subscribers. The HTTP side (queue_server/web/stream.py) turns that into Server-Sent
Events; this module imports no web framework, so the same hub can feed any server.

Topics are named relative to the office and without `state/`, as pages think of them:
`office`, `queue`, `counter/Q1`, `device/kiosk-01`, `calls`, `clock`; events keep their
prefix: `event/call`. A few topics exist only here, computed by the server for pages
(`publish_page_state`): `tv/rotation`, `tv/results`, `tv/figures` (queue_server/web/tv_feed.py). Replies (`res/...`) and presence never enter the hub:
replies carry tokens meant only for the device that asked.

Keyed topics (`ticket/<public token>`: the ticket on the phone, queue_server/appointments/watch.py)
go only to a page that names one exactly: no `*` or `ticket/*` filter matches them, so nobody can
list other citizens' tickets. They never reach MQTT. A retained payload that is empty removes
its topic (as on MQTT); pages are told with a change whose payload is null.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

MAX_FILTERS = 32  # a page follows a handful of topics; more is a mistake or an attack
TICKET_TOPIC = "ticket/"
KEYED_PREFIXES = (TICKET_TOPIC,)
MAX_FILTER_CHARS = 100
EVENT_MEMORY = 200  # recent events kept for polling clients (`after=`)
PAGE_ONLY_PREFIXES = ("tv/",)  # hub topics computed by the server for pages (no MQTT topic is named so)


class OutboundLike(Protocol):
    """What the worker publishes (queue_server.office.Outbound): a topic, a retain flag, encoded bytes."""

    topic: str
    retain: bool

    def encoded(self) -> bytes: ...


@dataclass(frozen=True)
class Change:
    """One retained topic's new payload, or one event; `seq` orders all changes of a hub's life."""

    seq: int
    topic: str
    retained: bool
    data: bytes  # the JSON payload exactly as published on MQTT
    at: float  # time.time() when the hub received it (benchmarks measure push latency from it)

    @property
    def removed(self) -> bool:
        """An empty retained payload: the topic is gone."""
        return self.retained and not self.data

    def as_json(self) -> bytes:
        """The SSE/polling form: {"seq", "topic", "payload"}; the payload is spliced in, not re-encoded."""
        return b'{"seq":%d,"topic":%s,"payload":%s}' % (self.seq, json.dumps(self.topic).encode(), self.data or b"null")


def keyed(topic: str) -> bool:
    """A topic only a page that names it exactly may follow (see the module docstring)."""
    return topic.startswith(KEYED_PREFIXES)


class TopicFilter:
    """Which hub topics a page follows: exact names, `prefix/*`, or `*` (everything).

    Built from the `topics` query parameter (`queue,counter/*,event/call`); empty means everything.
    """

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        cleaned = [p.strip() for p in patterns if p.strip()]
        if len(cleaned) > MAX_FILTERS or any(len(p) > MAX_FILTER_CHARS or not p.isprintable() for p in cleaned):
            raise ValueError(f"topics: at most {MAX_FILTERS} names of at most {MAX_FILTER_CHARS} characters")
        self.everything = not cleaned or "*" in cleaned
        self.exact = frozenset(p for p in cleaned if not p.endswith("/*"))
        self.prefixes = tuple(p[:-1] for p in cleaned if p.endswith("/*"))

    @classmethod
    def parse(cls, text: str | None) -> TopicFilter:
        return cls((text or "").split(","))

    def __call__(self, topic: str) -> bool:
        if keyed(topic):
            return topic in self.exact
        return self.everything or topic in self.exact or topic.startswith(self.prefixes)


def local_name(base: str, topic: str) -> str | None:
    """`motcua/<office>/state/queue` -> `queue`; `.../event/call` -> `event/call`; None for anything else."""
    if not topic.startswith(base + "/"):
        return None
    rest = topic[len(base) + 1 :]
    if rest.startswith("state/"):
        return rest[len("state/") :]
    if rest.startswith("event/"):
        return rest
    return None  # res/ (private replies), req/, status/: never to browsers


Deliver = Callable[[Change], None]


class LiveHub:
    """Thread-safe snapshot + fan-out. The worker publishes; any thread subscribes.

    `deliver` callbacks run in the publishing thread while the hub's lock is held, so a
    subscriber sees changes in order and never misses one between its snapshot and its
    first change; they must therefore be quick and never block (hand the change to a
    queue or an event loop, as queue_server/web/stream.py does).
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.boot = uuid.uuid4().hex[:12]  # a new id per server start: clients know to resync
        self._lock = threading.Lock()
        self._seq = 0
        self._state: dict[str, Change] = {}
        self._events: deque[Change] = deque(maxlen=EVENT_MEMORY)
        self._subscribers: dict[int, Deliver] = {}
        self._next_id = 0
        self.followers = 0  # pages connected to the live stream right now (kept by the HTTP side, for /metrics)

    @property
    def seq(self) -> int:
        return self._seq

    def publish(self, items: Iterable[OutboundLike]) -> None:
        """Take what the worker just published to MQTT; keep retained payloads, fan out every change."""
        now = time.time()
        with self._lock:
            for item in items:
                name = local_name(self.base, item.topic)
                if name is not None:
                    self._change(name, item.retain, item.encoded(), now)

    def publish_page_state(self, name: str, data: bytes) -> None:
        """Retained state that exists only for pages, never on MQTT (the TV feed's `tv/...`; docs/web.md)."""
        if not name.startswith(PAGE_ONLY_PREFIXES):
            raise ValueError(f"page-only topics start with {', '.join(PAGE_ONLY_PREFIXES)}: {name!r}")
        with self._lock:
            self._change(name, True, data, time.time())

    def _change(self, name: str, retain: bool, data: bytes, now: float) -> None:  # the lock is held
        previous = self._state.get(name)
        if retain and previous is not None and previous.data == data:
            return  # the same state again (a republish after reconnect): nothing changed
        if retain and not data and previous is None:
            return  # removing what is not there
        self._seq += 1
        change = Change(self._seq, name, retain, data, now)
        if change.removed:
            del self._state[name]
        elif retain:
            self._state[name] = change
        else:
            self._events.append(change)
        for deliver in list(self._subscribers.values()):
            deliver(change)

    def subscribe(self, deliver: Deliver) -> tuple[int, dict[str, Change]]:
        """Register `deliver`; returns (subscription id, the snapshot it starts from), atomically."""
        with self._lock:
            self._next_id += 1
            self._subscribers[self._next_id] = deliver
            return self._next_id, dict(self._state)

    def unsubscribe(self, subscription: int) -> None:
        with self._lock:
            self._subscribers.pop(subscription, None)

    def snapshot(self, wanted: TopicFilter | None = None, after: int | None = None) -> dict[str, Any]:
        """The polling answer: current state of the wanted topics, and events after `after` still remembered."""
        wanted = wanted or TopicFilter()
        with self._lock:
            state = {name: change for name, change in self._state.items() if wanted(name)}
            events = [c for c in self._events if after is not None and c.seq > after and wanted(c.topic)]
            seq = self._seq
        return {"boot": self.boot, "seq": seq, "topics": state, "events": events}

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


# --- the wire format, shared by the SSE stream and the polling answer ----------------------


def snapshot_json(boot: str, seq: int, state: dict[str, Change], events: Iterable[Change] = ()) -> bytes:
    """{"boot", "seq", "topics": {name: payload}, "events": [...]}, payloads spliced in as published."""
    topics = b",".join(b"%s:%s" % (json.dumps(name).encode(), c.data) for name, c in sorted(state.items()))
    return b'{"boot":%s,"seq":%d,"topics":{%s},"events":[%s]}' % (
        json.dumps(boot).encode(), seq, topics, b",".join(c.as_json() for c in events))


def sse_frame(event: str, data: bytes, event_id: str | None = None) -> bytes:
    """One Server-Sent Event. `data` is one line of JSON (ours never contains a newline)."""
    head = b"event: %s\n" % event.encode()
    if event_id is not None:
        head += b"id: %s\n" % event_id.encode()
    return head + b"data: " + data.replace(b"\n", b"\ndata: ") + b"\n\n"
