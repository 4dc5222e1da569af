"""Procedure lookup for kiosks over real HTTP: outcomes, recorded misses, the export a kiosk caches by revision."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

import pytest

from queue_server.procedures import db as pdb
from queue_server.procedures import misses
from tests.integration.test_procedures_http import SAMPLE, get_json, load


def request(server, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    host, port = server.options.http_listen
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}{path}", headers=headers or {}), timeout=10) as r:
            return r.status, r.headers, r.read()  # case-insensitive: uvicorn sends names in lower case
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def search(server, text: str) -> dict:
    status, body = get_json(server, "/api/procedures?q=" + urllib.parse.quote(text))
    assert status == 200
    return body


@pytest.fixture
def server(start_server):
    server = start_server()
    assert load(server).rejected == []
    return server


def test_residence_and_divorce_searches_say_where_to_go(server):
    residence = search(server, "dang ky tam tru")
    assert residence["outcome"] == "elsewhere" and residence["results"] == []
    assert residence["elsewhere"]["agency"] == "Công an cấp xã nơi cư trú"
    divorce = search(server, "ly hon")
    assert divorce["outcome"] == "elsewhere" and "Tòa án nhân dân khu vực" in divorce["message"]


def test_unanswered_searches_are_recorded_on_the_server_for_the_cli(server):
    for text in ("thẻ bảo hiểm y tế", "the bao hiem y te", "dang ky khai sinh"):
        search(server, text)
    db = pdb.open_db(server.db_path)
    try:
        rows = misses.listing(db)
    finally:
        db.close()
    assert [(r["query"], r["count"]) for r in rows] == [("the bao hiem y te", 2)]  # the found one is not a miss
    assert rows[0]["last_day"] == server.clock.now().astimezone(server.config.tz).date().isoformat()


def test_an_empty_catalogue_says_so_over_http(start_server):
    body = search(start_server(), "dang ky khai sinh")
    assert body["outcome"] == "empty_catalogue" and "motcua procedures import" in body["hint"]


def test_the_kiosk_downloads_the_export_only_when_the_revision_changes(server, tmp_path):
    status, revision = get_json(server, "/api/procedures/revision")
    assert status == 200 and revision["count"] == 58 and revision["revision"] >= 1
    status, headers, body = request(server, "/api/procedures/export")
    export = json.loads(body)
    assert status == 200 and headers["ETag"] == revision["etag"] and headers["Cache-Control"] == "no-cache"
    assert export["revision"] == revision["revision"] and export["count"] == len(export["procedures"]) == 58
    birth = next(p for p in export["procedures"] if p["code"] == "MAU-HT-001")
    assert birth["service_name"] == "Tư pháp - Hộ tịch" and birth["documents"] and birth["steps"]
    assert birth["forms"][0]["url"].startswith("/procedures/forms/MAU-HT-001/")
    assert export["services"]["HT"] == "Tư pháp - Hộ tịch"
    assert any(e["topic"] == "residence" and "tam tru" in e["phrases"] for e in export["elsewhere"])
    assert "Đăng ký khai sinh".encode() in body  # readable UTF-8

    status, _, body = request(server, "/api/procedures/export", {"If-None-Match": revision["etag"]})
    assert status == 304 and body == b""  # unchanged: nothing to download

    changed = json.loads(SAMPLE.read_text(encoding="utf-8"))
    changed["procedures"] = changed["procedures"][:-1]  # one procedure retired
    (tmp_path / "catalogue.json").write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    for form in (SAMPLE.parent / "forms").iterdir():
        (tmp_path / "forms").mkdir(exist_ok=True)
        (tmp_path / "forms" / form.name).write_bytes(form.read_bytes())
    assert load(server, tmp_path / "catalogue.json").retired
    status, after = get_json(server, "/api/procedures/revision")
    assert after["revision"] > revision["revision"] and after["etag"] != revision["etag"] and after["count"] == 57
    status, headers, body = request(server, "/api/procedures/export", {"If-None-Match": revision["etag"]})
    assert status == 200 and json.loads(body)["count"] == 57 and headers["ETag"] == after["etag"]
