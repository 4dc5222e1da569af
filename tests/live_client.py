"""A small Server-Sent Events reader over http.client, for tests and the push benchmark."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Event:
    event: str
    data: Any
    id: str | None
    received: float  # time.time()


class LiveStream:
    """GET /api/live?topics=...; `next()` returns the next event (pings included) or raises TimeoutError."""

    def __init__(self, host: str, port: int, topics: str = "", timeout: float = 10.0, source: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0) if source else None)
        self.conn.request("GET", "/api/live" + (f"?topics={topics}" if topics else ""))
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers

    def next(self) -> Event:
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                raise ConnectionError("the stream ended")
            text = line.decode("utf-8").rstrip("\n")
            if text == "":
                if "event" in fields or "data" in fields:
                    data = fields.get("data")
                    return Event(fields.get("event", "message"), json.loads(data) if data else None, fields.get("id"), time.time())
                continue
            name, _, value = text.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def until(self, predicate: Any, timeout: float = 10.0) -> Event:
        """The first event for which predicate(event) is true; other events are skipped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next()
            if predicate(event):
                return event
        raise TimeoutError("no matching event in time")

    def close(self) -> None:
        self.conn.close()
