"""The server's public HTTP APIs the kiosk reads: procedures (search, detail, export) and dossier lookup.

Standard library only (urllib): a kiosk box needs no HTTP package. Every call has a short timeout;
an unreachable server raises `Unreachable`, which the flows turn into the offline path.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import Any

from motcua.protocol import decode_json_value

MAX_BODY = 16 * 1024 * 1024  # the whole catalogue export of a district fits many times over


class Unreachable(OSError):
    """The server's HTTP did not answer (down, wrong address, network cut)."""


class HttpReply:
    def __init__(self, status: int, body: Any, headers: Message) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class HttpApi:
    def __init__(self, base_url: str, timeout: float = 3.0) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, query: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
              timeout: float | None = None, headers: dict[str, str] | None = None) -> HttpReply:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"Accept": "application/json", **(headers or {})})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                return HttpReply(resp.status, self._decode(resp.read(MAX_BODY + 1)), resp.headers)  # case-insensitive: servers may send names in lower case
        except urllib.error.HTTPError as err:  # 304 and 4xx/5xx: the status, and the server's JSON answer if any
            with err:
                return HttpReply(err.code, self._decode(err.read(MAX_BODY + 1)), err.headers or Message())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise Unreachable(f"{url}: {getattr(exc, 'reason', exc)}") from None

    @staticmethod
    def _decode(raw: bytes) -> Any:
        if not raw or len(raw) > MAX_BODY:
            return None
        try:
            return decode_json_value(raw, max_bytes=MAX_BODY)
        except Exception:
            return None

    def search_procedures(self, text: str, limit: int = 12) -> HttpReply:
        return self._call("GET", "/api/procedures", {"q": text, "limit": limit})

    def procedure(self, code: str) -> HttpReply:
        return self._call("GET", "/api/procedures/" + urllib.parse.quote(code, safe=""))

    def export_procedures(self, etag: str | None) -> HttpReply:
        """The whole active catalogue with its revision, for the kiosk's offline copy; 304 when `etag` is current."""
        return self._call("GET", "/api/procedures/export", timeout=15, headers={"If-None-Match": etag} if etag else None)

    def dossier(self, code: str, verify: str | None = None) -> HttpReply:
        # POST keeps the code and the digits out of the server's access log (docs/dossiers.md).
        body: dict[str, Any] = {"code": code}
        if verify:
            body["verify"] = verify
        return self._call("POST", "/api/dossiers/lookup", body=body)

    def form_url(self, path: str) -> str:
        return self.base + path
