"""Helpers for the dossier HTTP tests: real requests with urllib against a running server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

CODE = "000.17.22.H56-261120-0001"
FULL_NAME = "Nguyễn Văn An"
ID_NUMBER = "001099012345"
PHONE = "0912345678"


@dataclass
class Reply:
    status: int
    headers: Any  # http.client.HTTPMessage: header names are case-insensitive (uvicorn sends them lowercase)
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def call(server: Any, method: str, path: str, body: Any = None, token: str | None = None, raw: bytes | None = None) -> Reply:
    host, port = server.options.http_listen
    data = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None else None)
    request = urllib.request.Request(f"http://{host}:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read().decode())


def lookup(server: Any, code: str, verify: str | None = None) -> Reply:
    """GET for the public answer; the digits go in a JSON POST (a GET ?verify= is refused, issue 14)."""
    path = f"/api/dossiers/{quote(code, safe='')}"
    return call(server, "POST", path, {"verify": verify}) if verify else call(server, "GET", path)


def dossier(**changes: Any) -> dict[str, Any]:
    base = {
        "code": CODE, "updated_at": "2026-11-22T10:00:00+07:00", "status": "result_ready",
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"},
        "received_at": "2026-11-20T08:00:00+07:00", "due_at": "2026-11-24T17:00:00+07:00",
        "applicant": {"name": FULL_NAME, "id_number": ID_NUMBER, "phone": PHONE},
        "return_counter": "Q2", "missing_documents": ["Bản sao giấy chứng sinh"],
        "rejection_reason": "Lý do riêng tư của hồ sơ",
    }
    return {**base, **changes}
