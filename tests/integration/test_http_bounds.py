"""Issue 14 over HTTP: every JSON body bounded, every number validated, digits only in a JSON POST,
no stranger can lock a citizen out of verification nor guess the digits from many addresses."""

from __future__ import annotations

import json
import os
import stat

import pytest

from queue_server.config import DossierLookup
from tests.conftest import run_cli
from tests.integration.dossier_http import CODE, call, dossier, lookup
from tests.integration.test_dossier_http import new_token
from tests.staff_support import WebSession, add_staff

DEEP = b"[" * 5000 + b"]" * 5000


@pytest.fixture
def no_rate_limit(config):
    return config.with_overrides(dossier_lookup=DossierLookup(per_minute=0))


def test_deeply_nested_or_oversized_bodies_get_a_clear_400_or_413_never_a_500(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    wrapped = b'{"dossiers": ' + DEEP + b"}"
    for path, auth in (("/api/dossiers/sync", token), ("/api/dossiers/lookup", None), (f"/api/dossiers/{CODE}", None)):
        for body in (DEEP, wrapped, b'{"code": ' * 40 + b"1" + b"}" * 40):
            reply = call(server, "POST", path, raw=body, token=auth)
            assert reply.status in (400, 413), (path, reply.status, reply.text[:200])
            assert reply.json["ok"] is False and reply.json["error"]["message"] and reply.json["error"]["message_en"]
    assert call(server, "POST", "/api/dossiers/sync", dossier(), token=token).status == 200  # and it goes on serving


@pytest.mark.parametrize("path", ["/api/events?{}", "/api/dossiers/ready?{}", "/api/procedures?q=khai&{}"])
@pytest.mark.parametrize("value", ["-1", "1e23", "1.5", "0x10", "abc", "99999999999999999999999", "%201", "1%00"])
def test_every_numeric_parameter_is_validated(start_server, path, value):
    server = start_server()
    name = "after" if "events" in path and value != "-1" else "limit"
    if "events" in path:  # the event log is for managers
        page = manager(server).get(path.format(f"{name}={value}"))
        status, text = page.status, page.text
    else:
        reply = call(server, "GET", path.format(f"{name}={value}"))
        status, text = reply.status, reply.text
    assert status == 400, (path, value, text)
    error = json.loads(text)["error"]
    assert error["code"] == "bad_request" and name in error["message"] and name in error["message_en"]


def manager(server):
    add_staff(server, "quanly", role="manager")
    session = WebSession(server)
    assert session.login("quanly").status == 302
    return session


def test_the_event_log_answers_at_most_its_limit(start_server):
    server = start_server()
    session = manager(server)
    assert session.get("/api/events?limit=-1").status == 400  # once: the whole log
    assert json.loads(session.get("/api/events?after=9223372036854775807").text)["events"] == []
    assert session.get("/api/events?after=9223372036854775808").status == 400  # beyond SQLite's integers


def test_digits_are_taken_only_from_a_json_post(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    call(server, "POST", "/api/dossiers/sync", dossier(), token=new_token(server))
    host, port = server.options.http_listen
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=10)
    # What a cross-site HTML form can send: text/plain, urlencoded, multipart. None of them drive it.
    for content_type, body in (("text/plain", '{"verify": "2345"}'), ("application/x-www-form-urlencoded", "verify=2345"),
                               ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="verify"\r\n\r\n2345\r\n--x--')):
        conn.request("POST", f"/api/dossiers/{CODE}", body=body, headers={"Content-Type": content_type})
        reply = conn.getresponse()
        assert reply.status == 415 and b"application/json" in reply.read()
    conn.close()
    by_get = call(server, "GET", f"/api/dossiers/{CODE}?verify=2345")  # an <img> could fire this one
    assert by_get.status == 400 and "POST" in by_get.json["error"]["message"]
    assert lookup(server, CODE, verify="2345").json["dossier"]["verified"] is True


def verify(server, source: str, digits: str, cookie: str | None = None):
    """POST the digits from a given loopback address (each is another client), with a browser's cookie."""
    import http.client
    import json

    host, port = server.options.http_listen
    conn = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0))
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
    conn.request("POST", f"/api/dossiers/{CODE}", body=json.dumps({"verify": digits}), headers=headers)
    reply = conn.getresponse()
    body = json.loads(reply.read())
    conn.close()
    return reply.status, body, reply.headers


def wrong(server, source: str, cookie: str | None = None):
    return verify(server, source, "0000", cookie)


def right(server, source: str, cookie: str | None = None):
    return verify(server, source, "2345", cookie)  # the last 4 digits of the ID number


def test_a_stranger_locks_out_only_himself(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    call(server, "POST", "/api/dossiers/sync", dossier(), token=new_token(server))
    for _ in range(2):  # five wrong tries, wait out the window, five more: the day's limit for this address
        for _ in range(5):
            assert wrong(server, "127.0.0.2")[0] == 403
        assert wrong(server, "127.0.0.2")[1]["error"]["code"] == "verify_locked"
        clock.advance(15 * 60 + 1)
    status, body, _ = right(server, "127.0.0.2")
    assert status == 429 and body["error"]["code"] == "verify_locked"  # even the right digits, for him
    status, body, _ = right(server, "127.0.0.3")  # the citizen, from her own phone
    assert status == 200 and body["dossier"]["verified"] is True


def test_many_addresses_share_a_lifetime_ceiling_and_a_verified_browser_is_never_shut_out(start_server, clock, config, tmp_path):
    limits = DossierLookup(per_minute=0, max_verify_failures_total=12)
    server = start_server(clock=clock, cfg=config.with_overrides(dossier_lookup=limits))
    call(server, "POST", "/api/dossiers/sync", dossier(), token=new_token(server))
    status, _, headers = right(server, "127.0.0.9")  # the owner checked once from her phone
    cookie = headers["Set-Cookie"].split(";")[0]
    assert status == 200 and "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    tries = 0
    for n in range(2, 6):  # four addresses, a few tries each, spread over time
        for _ in range(3):
            tries += wrong(server, f"127.0.0.{n}")[0] == 403
        clock.advance(16 * 60)
    assert tries == 12
    status, body, _ = right(server, "127.0.0.7")  # a fresh address: the ceiling is spent, guessing is over
    assert status == 403 and body["error"]["code"] == "verify_exhausted"
    assert "quầy" in body["error"]["message"]
    status, body, _ = right(server, "127.0.0.7", cookie)  # her own browser still gets in
    assert status == 200 and body["dossier"]["verified"] is True
    assert wrong(server, "127.0.0.7", cookie.replace(cookie[-4:], "0000"))[1]["error"]["code"] == "verify_exhausted"  # forged
    unlocked = run_cli("dossier", "unlock", CODE, "--data", str(server.options.data_dir))
    assert unlocked.returncode == 0 and "12" in unlocked.stdout
    assert right(server, "127.0.0.7")[0] == 200


def test_the_results_list_is_throttled_per_address(start_server, clock, config):
    server = start_server(clock=clock)
    statuses = [call(server, "GET", "/api/dossiers/ready").status for _ in range(8)]
    assert statuses[:6] == [200] * 6 and statuses[6:] == [429, 429]
    clock.advance(10)
    assert call(server, "GET", "/api/dossiers/ready").status == 200


def test_imported_form_files_follow_the_umask(start_server, tmp_path):
    from queue_server.procedures import db as pdb
    from tests.integration.test_procedures_http import load

    server = start_server()
    old = os.umask(0o022)
    try:
        assert load(server).rejected == []
    finally:
        os.umask(old)
    files = [p for p in pdb.forms_dir(server.db_path).rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files)
