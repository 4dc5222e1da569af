"""The public procedure API of a running server: real HTTP, real SQLite, imports while it serves."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from queue_server.procedures import db as pdb
from queue_server.procedures.importer import import_file

SAMPLE = Path(__file__).resolve().parents[2] / "queue_server" / "procedures" / "sample" / "catalogue.json"


def get(server, path: str) -> tuple[int, dict[str, str], bytes]:
    host, port = server.options.http_listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(server, path: str) -> tuple[int, dict]:
    status, headers, body = get(server, path)
    assert headers["Content-Type"].startswith("application/json")
    return status, json.loads(body)


def load(server, path: Path = SAMPLE):
    db = pdb.open_db(server.db_path)
    try:
        return import_file(db, path, services=set(server.config.services), forms_root=pdb.forms_dir(server.db_path))
    finally:
        db.close()


@pytest.fixture
def server(start_server):
    server = start_server()
    assert load(server).rejected == []
    return server


def test_search_returns_best_first_in_readable_vietnamese(server):
    status, headers, body = get(server, "/api/procedures?q=" + urllib.parse.quote("dang ky khai sinh") + "&limit=3")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert "Đăng ký khai sinh".encode() in body  # not \\u escapes
    data = json.loads(body)
    assert data["count"] == 3 and len(data["results"]) == 3
    first = data["results"][0]
    assert first["code"] == "MAU-HT-001" and first["service_name"] == "Tư pháp - Hộ tịch"
    assert first["url"] == "/api/procedures/MAU-HT-001"
    _, typo = get_json(server, "/api/procedures?q=" + urllib.parse.quote("khai sihn"))
    assert typo["results"][0]["code"] == "MAU-HT-001"


@pytest.mark.parametrize("query", ["", '"', "*", "NEAR(a b)", "a AND OR", "(((", "-", "x" * 10_240, "'; DROP TABLE procedures; --"])
def test_garbage_queries_get_an_answer_never_a_500(server, query):
    status, data = get_json(server, "/api/procedures?q=" + urllib.parse.quote(query))
    assert status == 200
    assert isinstance(data["results"], list)
    if not any(ch.isalnum() for ch in query):
        assert data["results"] == []


def test_bad_limit_is_a_400_and_large_limits_are_capped(server):
    status, data = get_json(server, "/api/procedures?q=khai&limit=abc")
    assert status == 400 and data["error"]["code"] == "bad_request"
    status, data = get_json(server, "/api/procedures?q=dang&limit=100000")
    assert status == 200 and 0 < len(data["results"]) <= 50


def test_detail_and_form_download(server):
    status, data = get_json(server, "/api/procedures/MAU-HT-001")
    assert status == 200
    assert data["name"] == "Đăng ký khai sinh" and data["active"] is True and data["sample"] is True
    assert data["documents"][1]["name"] == "Giấy chứng sinh"
    form = data["forms"][0]
    assert form["url"] == "/procedures/forms/MAU-HT-001/to-khai-dang-ky-khai-sinh.html"
    status, headers, body = get(server, form["url"])
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in body.decode("utf-8")

    status, data = get_json(server, "/api/procedures/KHONG-CO")
    assert status == 404 and data["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", [
    "/procedures/forms/MAU-HT-001/../../motcua.db",
    "/procedures/forms/MAU-HT-001/..%2F..%2Fmotcua.db",
    "/procedures/forms/MAU-HT-001/%2e%2e",
    "/procedures/forms/..%2Fprocedure_forms/to-khai-dang-ky-khai-sinh.html",
    "/procedures/forms/MAU-HT-001/%2Fetc%2Fpasswd",
    "/procedures/forms/MAU-HT-001/.hidden",
    "/procedures/forms/MAU-HT-001/not-listed.html",
    "/procedures/forms/MAU-HT-002/to-khai-dang-ky-ket-hon.html",  # a real form, but of another procedure
])
def test_form_paths_outside_the_catalogue_are_refused(server, path):
    folder = pdb.forms_dir(server.db_path) / "MAU-HT-001"
    (folder / "not-listed.html").write_text("<p>không có trong danh mục</p>", encoding="utf-8")
    (folder / ".hidden").write_text("x", encoding="utf-8")
    status, _, body = get(server, path)
    assert status in (400, 404)
    assert not body.startswith(b"SQLite format 3")
    assert b"root:" not in body and "không có trong danh mục".encode() not in body


def test_reimport_while_serving_retires_and_updates_what_the_kiosk_sees(server, tmp_path):
    _, before = get_json(server, "/api/procedures?q=" + urllib.parse.quote("đăng ký khai tử"))
    assert before["results"][0]["code"] == "MAU-HT-005"
    _, typo = get_json(server, "/api/procedures?q=" + urllib.parse.quote("khai tu thuyeen"))  # builds the typo vocabulary
    assert "MAU-HT-100" not in [r["code"] for r in typo["results"]]
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    doc["procedures"] = [p for p in doc["procedures"] if p["code"] != "MAU-HT-005"]
    doc["procedures"].append({"code": "MAU-HT-100", "name": "Đăng ký khai tử cho người chết trên tàu thuyền", "service": "HT"})
    folder = tmp_path / "edited"
    shutil.copytree(SAMPLE.parent / "forms", folder / "forms")
    (folder / "catalogue.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = load(server, folder / "catalogue.json")
    assert report.retired == ["MAU-HT-005"] and report.created == ["MAU-HT-100"]

    _, after = get_json(server, "/api/procedures?q=" + urllib.parse.quote("dang ky khai tu") + "&limit=50")
    found = [r["code"] for r in after["results"]]
    assert "MAU-HT-005" not in found and "MAU-HT-100" in found
    # 'thuyền' is only in the new procedure: the typo vocabulary of the running server follows the import.
    _, typo = get_json(server, "/api/procedures?q=" + urllib.parse.quote("khai tu thuyeen"))
    assert typo["results"][0]["code"] == "MAU-HT-100"
    status, retired = get_json(server, "/api/procedures/MAU-HT-005")
    assert status == 200 and retired["active"] is False


def test_forms_are_served_when_the_data_directory_is_relative(tmp_path):
    """A user runs `motcua server --data data` from their own folder (found by a new-user trial)."""
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import EXAMPLE_CONFIG, ROOT, free_port, wait_for_port

    sample = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"
    cli = [sys.executable, "-m", "motcua"]
    imported = subprocess.run([*cli, "procedures", "import", str(sample), "--data", "data", "--config", str(EXAMPLE_CONFIG)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    http_port, mqtt_port = free_port(), free_port()
    server = subprocess.Popen([*cli, "server", "--data", "data", "--config", str(EXAMPLE_CONFIG), "--http-listen",
                               f"127.0.0.1:{http_port}", "--mqtt-listen", f"127.0.0.1:{mqtt_port}"],
                              cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(http_port, timeout=30)
        url = f"http://127.0.0.1:{http_port}/procedures/forms/MAU-HT-001/to-khai-dang-ky-khai-sinh.html"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "khai sinh" in response.read().decode().lower()
    finally:
        server.terminate()
        server.wait(30)
