"""The live stream, `GET /api/live?topics=...`: Server-Sent Events straight on ASGI (asyncio).

An idle page costs a socket and a few small objects, no thread: 200 TVs, counters and
phones are cheap. The hub (queue_server/live.py) hands each change to one LoopFanout per
event loop with one thread hop (call_soon_threadsafe); the fanout keeps its own copy of
the snapshot and appends the change to every interested stream's buffer in the loop.

Protocol (docs/web.md): `retry: 2000`, then `event: snapshot` (all followed topics), then
`event: change` for each change, each with `id: <boot>:<seq>`; `event: ping` every
PING_SECONDS (a page that hears nothing for three pings reconnects: a comment line would
keep proxies awake but is invisible to a page's JavaScript). A reconnect gets a new
snapshot, so a page never has to merge history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from motcua import i18n
from queue_server.live import Change, LiveHub, TopicFilter, keyed, snapshot_json, sse_frame
from queue_server.web.errors import error_body

log = logging.getLogger(__name__)

LIVE_PATH = "/api/live"
PING_SECONDS = 15.0
MAX_STREAMS = 2000  # each costs ~25 KB; refuse (503, retry later) rather than exhaust a small box
MAX_BUFFERED = 500  # changes waiting for one slow client; beyond, it is dropped and resyncs on reconnect


class Stream:
    """One connected page: its filter and the changes not yet written to it."""

    def __init__(self, wanted: TopicFilter) -> None:
        self.wanted = wanted
        self.pending: list[Change] = []
        self.wake = asyncio.Event()
        self.closed = False

    def push(self, change: Change) -> None:
        if len(self.pending) >= MAX_BUFFERED:
            self.close()
            return
        self.pending.append(change)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class LoopFanout:
    """The hub's one subscriber in an event loop; everything here runs in that loop's thread."""

    def __init__(self, hub: LiveHub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.loop = loop
        self.streams: set[Stream] = set()
        self.by_key: dict[str, set[Stream]] = {}  # keyed topic -> the streams that named it (a phone each)
        self._incoming: deque[Change] = deque()
        self._scheduled = False
        self.seq = 0
        self.subscription, self.state = hub.subscribe(self._from_worker)
        self.seq = max((c.seq for c in self.state.values()), default=0)

    def _from_worker(self, change: Change) -> None:  # the worker's thread, hub lock held: only hand over
        # One wake-up of the loop for everything a batch published (300 phone views after one call),
        # not one per change: the deque keeps their order, the flag avoids scheduling twice.
        self._incoming.append(change)
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._scheduled = False  # first: a change appended from now on schedules another drain
        while self._incoming:
            self._dispatch(self._incoming.popleft())

    def _dispatch(self, change: Change) -> None:
        self.seq = change.seq
        if change.removed:
            self.state.pop(change.topic, None)
        elif change.retained:
            self.state[change.topic] = change
        if keyed(change.topic):  # one phone's ticket: straight to the streams that asked for it
            for stream in list(self.by_key.get(change.topic, ())):
                stream.push(change)
            return
        for stream in self.streams:
            if stream.wanted(change.topic):
                stream.push(change)

    def open(self, wanted: TopicFilter) -> tuple[Stream, bytes] | None:
        """A new stream and its first frame (the snapshot), or None when full."""
        if len(self.streams) >= MAX_STREAMS:
            return None
        stream = Stream(wanted)
        self.streams.add(stream)
        for name in wanted.exact:
            if keyed(name):
                self.by_key.setdefault(name, set()).add(stream)
        self.hub.followers = len(self.streams)
        state = {name: c for name, c in self.state.items() if wanted(name)}
        first = b"retry: 2000\n\n" + sse_frame("snapshot", snapshot_json(self.hub.boot, self.seq, state), self.event_id(self.seq))
        return stream, first

    def forget(self, stream: Stream) -> None:
        self.streams.discard(stream)
        for name in stream.wanted.exact:
            streams = self.by_key.get(name)
            if streams is not None:
                streams.discard(stream)
                if not streams:
                    del self.by_key[name]
        self.hub.followers = len(self.streams)

    def close_all(self) -> None:
        for stream in list(self.streams):
            stream.close()

    def stop(self) -> None:
        self.close_all()
        self.hub.unsubscribe(self.subscription)

    def event_id(self, seq: int) -> str:
        return f"{self.hub.boot}:{seq}"


async def _plain(send: Any, status: int, code: str, key: str, headers: list[tuple[bytes, bytes]] = (), **params: Any) -> None:
    body = json.dumps(error_body(code, *i18n.pair(key, **params)), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _until_disconnect(receive: Any, stream: Stream) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stream.close()
            return


async def serve_stream(fanout: LoopFanout | None, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer one GET /api/live: snapshot, then changes and pings until the page goes away."""
    if scope["method"] not in ("GET", "HEAD"):
        await _plain(send, 405, "method_not_allowed", "web.error.method_not_allowed", [(b"allow", b"GET")])
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        wanted = TopicFilter.parse(",".join(query.get("topics", [])))
    except ValueError:
        await _plain(send, 400, "bad_request", "web.error.bad_topics")
        return
    opened = fanout.open(wanted) if fanout is not None else None
    if opened is None:
        await _plain(send, 503, "busy", "web.error.live_busy", [(b"retry-after", b"10")])
        return
    stream, first = opened
    watcher = asyncio.create_task(_until_disconnect(receive, stream))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),  # nginx in front: do not buffer the stream
        ]})
        await send({"type": "http.response.body", "body": first, "more_body": True})
        while not stream.closed:
            try:
                await asyncio.wait_for(stream.wake.wait(), PING_SECONDS)
            except TimeoutError:
                ping = json.dumps({"seq": fanout.seq, "at": time.time()}).encode()
                await send({"type": "http.response.body", "body": sse_frame("ping", ping), "more_body": True})
                continue
            stream.wake.clear()
            batch, stream.pending = stream.pending, []
            if batch:
                frames = b"".join(sse_frame("change", c.as_json(), fanout.event_id(c.seq)) for c in batch)
                await send({"type": "http.response.body", "body": frames, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:  # the page went away while we wrote
        pass
    finally:
        watcher.cancel()
        fanout.forget(stream)
