"""Real HTTP to a running server, without following redirects (the tests look at where they go)."""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from queue_server.server import QueueServer


@dataclass
class Reply:
    status: int
    headers: Any  # http.client.HTTPMessage: names are case-insensitive
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def call(server: QueueServer, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    host, port = server.options.http_listen
    conn = http.client.HTTPConnection(host, port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read().decode("utf-8"))
    finally:
        conn.close()


def origin(server: QueueServer) -> str:
    host, port = server.options.http_listen
    return f"http://{host}:{port}"


def form(server: QueueServer, path: str, fields: dict[str, str], from_origin: str | None = "") -> Reply:
    """A form post as a browser sends it from the office's own page (or from `from_origin`)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if from_origin is not None:
        headers["Origin"] = from_origin or origin(server)
    return call(server, "POST", path, urlencode(fields).encode(), headers)


def api(server: QueueServer, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return call(server, method, path, json.dumps(body).encode() if body is not None else None, headers)


def slot_values(html: str) -> list[str]:
    """The slot radio buttons of a slots page that may be chosen (not full)."""
    return re.findall(r'name="slot" value="([^"]+)" required>', html)
