"""`motcua dossier ...` as an officer runs it: source tokens that work against the server, import, status."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.integration.dossier_http import CODE, FULL_NAME, ID_NUMBER, PHONE, call, dossier


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


def cli(data, *args):
    return run_cli("dossier", *args, "--data", str(data))


def test_source_add_list_revoke_and_the_token_at_work(start_server, clock, data):
    added = cli(data, "source", "add", "mot-cua-tinh")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 40 and "\n" not in token
    assert "chỉ hiển thị một lần" in added.stderr
    again = cli(data, "source", "add", "mot-cua-tinh")
    assert again.returncode != 0 and "revoke" in again.stderr

    server = start_server(clock=clock, data_dir=data)
    pushed = call(server, "POST", "/api/dossiers/sync", dossier(), token=token)
    assert pushed.status == 200 and pushed.json["accepted"] == 1

    listed = cli(data, "source", "list")
    assert "mot-cua-tinh" in listed.stdout and "đang hoạt động" in listed.stdout
    assert token not in listed.stdout

    revoked = cli(data, "source", "revoke", "mot-cua-tinh")
    assert revoked.returncode == 0, revoked.stderr
    refused = call(server, "POST", "/api/dossiers/sync", dossier(updated_at="2026-11-22T12:00:00+07:00"), token=token)
    assert refused.status == 401
    assert "đã thu hồi" in cli(data, "source", "list").stdout
    unknown = cli(data, "source", "revoke", "no-such-source")
    assert unknown.returncode != 0


def test_import_csv_and_json_then_status(tmp_path, data):
    csv_file = tmp_path / "hoso.csv"
    csv_file.write_text(
        "code,updated_at,status,procedure_name,received_at,due_at,applicant_name,applicant_id_number,return_counter,missing_documents\n"
        f"{CODE},2026-11-22T10:00:00+07:00,needs_documents,Đăng ký khai sinh,2026-11-20T08:00:00+07:00,2026-11-24,"
        f"{FULL_NAME},{ID_NUMBER},,Bản sao giấy chứng sinh|Tờ khai\n"
        "HS-2026-,2026-11-22T10:00:00+07:00,received,Đăng ký kết hôn,2026-11-20,,,,,\n",
        encoding="utf-8",
    )
    imported = cli(data, "import", str(csv_file))
    assert imported.returncode == 1  # one bad row: the officer must notice
    assert "accepted: 1" in imported.stdout and "rejected: 1" in imported.stdout
    assert "dòng/item 2" in imported.stderr and "chưa đầy đủ" in imported.stderr

    public = cli(data, "status", CODE)
    assert public.returncode == 0, public.stderr
    assert "Trạng thái: Cần bổ sung hồ sơ" in public.stdout
    assert "Người nộp: Nguyễn V. A." in public.stdout
    assert FULL_NAME not in public.stdout and "Tờ khai" not in public.stdout

    verified = cli(data, "status", CODE, "--verify", "2345")
    assert verified.returncode == 0, verified.stderr
    assert f"Người nộp: {FULL_NAME}" in verified.stdout
    assert "  - Tờ khai" in verified.stdout

    json_file = tmp_path / "hoso.json"
    json_file.write_text(json.dumps([dossier(updated_at="2026-11-23T08:00:00+07:00")], ensure_ascii=False), encoding="utf-8")
    assert cli(data, "import", str(json_file), "--source", "import").returncode == 0
    as_json = cli(data, "status", CODE.lower(), "--json")
    body = json.loads(as_json.stdout)
    assert body["dossier"]["status_text"] == "Đã có kết quả - mời nhận tại Quầy 2"
    assert ID_NUMBER not in as_json.stdout and PHONE not in as_json.stdout

    wrong = cli(data, "status", CODE, "--verify", "9999")
    assert wrong.returncode == 1 and "Bốn chữ số cuối của số định danh cá nhân hoặc số điện thoại không đúng" in wrong.stderr
    missing = cli(data, "status", "HS-2026-999999")
    assert missing.returncode == 1 and "Không tìm thấy hồ sơ" in missing.stderr


def test_status_refuses_garbage_clearly(data):
    reply = cli(data, "status", "8934588013058", "--json")
    assert reply.returncode == 1
    assert json.loads(reply.stdout)["error"]["reason"] == "product_barcode"

