"""Helpers for tests of staff pages: accounts made through the worker, a browser-like HTTP session."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from queue_server.staff import accounts

PASSWORD = "mật-khẩu-đủ-dài-1"  # long enough, not a default: each test makes its own accounts


def add_staff(server: Any, staff_id: str, role: str = "official", counters: tuple[str, ...] = (), name: str | None = None,
              password: str = PASSWORD, by: str = "test") -> Any:
    """Create an account in a running server, as the admin pages do (through the worker, audited)."""
    change = accounts.new_account(staff_id, name or f"Cán bộ {staff_id}", role, counters, password, server.config.counters)
    return server.record(lambda db, now: change.apply(db, now, by=by))


# The officials every test server knows (counter.sign_in names a real account, issue 16): the ids the
# tests of other areas sign in with over MQTT. Password-less, allowed at every counter.
TEST_OFFICIALS = ("nv", "nv01", "nv02", "nv03", "nv04", "nv05", "nv06", "nv07", "nv-lan", "nv-an", "nv-binh", "nv-chi", "nv-minh",
                  "12345", *(f"nv-q{i}" for i in range(1, 7)), *(f"nv-{i:02d}" for i in range(1, 13)),
                  *(f"nv-{i}" for i in range(1, 9)))


def seed_officials(db: Any, counters: Any, staff_ids: tuple[str, ...] = TEST_OFFICIALS) -> None:
    """Write the test officials straight into a database (no audit event, so tests that count events
    see only their own), before a server or an Office opens it."""
    from datetime import UTC, datetime

    from queue_server.staff.model import StaffMember
    from queue_server.staff.store import StaffStore
    from queue_server.store import write_transaction

    store = StaffStore(db).migrate()
    with write_transaction(db):
        for staff_id in staff_ids:
            store.save(StaffMember(staff_id, staff_id, "official", tuple(counters)), datetime.now(UTC))


def seed_data_dir(data_dir: Any, config: Any, staff_ids: tuple[str, ...] = TEST_OFFICIALS) -> None:
    """The same, into the database of a data directory a server will use."""
    from queue_server.store import Store

    store = Store.in_dir(data_dir, config.id)
    try:
        seed_officials(store.db, config.counters, staff_ids)
    finally:
        store.close()


@dataclass
class Page:
    status: int
    headers: Any
    text: str
    url: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    def field(self, name: str) -> str:
        match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', self.text)
        assert match, f"no field {name} in {self.url}"
        return match.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebSession:
    """Cookies kept like a browser's; redirects not followed (tests look at them)."""

    def __init__(self, server: Any) -> None:
        host, port = server.options.http_listen
        self.base = f"http://{host}:{port}"
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Page:
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=15) as response:
                return Page(response.status, response.headers, response.read().decode(), path)
        except urllib.error.HTTPError as error:
            return Page(error.code, error.headers, error.read().decode(), path)

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Page:
        body = urllib.parse.urlencode(form).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, body: Any, csrf: str | None) -> Page:
        headers = {"Content-Type": "application/json"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        return self.request("POST", path, json.dumps(body).encode(), headers)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def login(self, staff_id: str, password: str = PASSWORD, next_path: str = "") -> Page:
        form = self.get("/dang-nhap")
        fields = {"csrf_token": form.field("csrf_token"), "login": staff_id, "password": password}
        if next_path:
            fields["next"] = next_path
        return self.post("/dang-nhap", fields)

    def csrf(self, path: str = "/nhan-vien") -> str:
        """The session's CSRF token, as a page carries it."""
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', self.get(path).text)
        assert match
        return match.group(1)
