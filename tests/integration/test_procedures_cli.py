"""`motcua procedures import|search|show` run as a user would, on a real database in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

SAMPLE = Path(__file__).resolve().parents[2] / "queue_server" / "procedures" / "sample" / "catalogue.json"


def test_import_search_show(tmp_path):
    data = str(tmp_path / "data")
    imported = run_cli("procedures", "import", str(SAMPLE), "--data", data)
    assert imported.returncode == 0, imported.stderr
    assert "thêm mới 58" in imported.stdout and "bị từ chối 0" in imported.stdout
    assert (tmp_path / "data" / "motcua.db").is_file()
    assert (tmp_path / "data" / "procedure_forms" / "MAU-HT-001" / "to-khai-dang-ky-khai-sinh.html").is_file()

    again = run_cli("procedures", "import", str(SAMPLE), "--data", data, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["unchanged"] == 58 and report["created"] == [] and report["rejected"] == []

    found = run_cli("procedures", "search", "dang ky khai sinh", "--data", data, "--json", "--limit", "3")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert len(results) == 3 and results[0]["code"] == "MAU-HT-001" and results[0]["name"] == "Đăng ký khai sinh"

    text = run_cli("procedures", "search", "khai sihn", "--data", data)
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].split()[0] == "MAU-HT-001"

    none = run_cli("procedures", "search", '"*) NEAR', "--data", data)
    assert none.returncode == 0 and "Không tìm thấy" in none.stdout

    shown = run_cli("procedures", "show", "MAU-HT-001", "--data", data)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Đăng ký khai sinh\nMã: MAU-HT-001")
    assert "Thành phần hồ sơ:" in shown.stdout and "Giấy chứng sinh (Bản chính: 1)" in shown.stdout
    assert "Nộp hồ sơ tại: Quầy 1, Quầy 2 (lĩnh vực Tư pháp - Hộ tịch)" in shown.stdout
    assert "dữ liệu mẫu" in shown.stdout

    as_json = run_cli("procedures", "show", "MAU-CT-001", "--data", data, "--json")
    assert json.loads(as_json.stdout)["fees"][0]["amount"].startswith("2.000 đồng/trang")

    missing = run_cli("procedures", "show", "KHONG-CO", "--data", data)
    assert missing.returncode == 1 and "KHONG-CO" in missing.stderr


def test_import_reports_rejected_rows_with_exit_code_2(tmp_path):
    data = str(tmp_path / "data")
    path = tmp_path / "c.csv"
    path.write_text("code,name,level,service\nA-1,Đăng ký khai sinh,4,HT\nA-2,Thủ tục,9,HT\nA-3,Khác,,ZZ\n", encoding="utf-8")
    result = run_cli("procedures", "import", str(path), "--data", data)
    assert result.returncode == 2
    assert "thêm mới 1" in result.stdout
    assert "dòng 3 (mã A-2)" in result.stderr and "từ 1 đến 4" in result.stderr
    assert "dòng 4 (mã A-3)" in result.stderr and "'ZZ'" in result.stderr


def test_national_format_and_no_retire_missing(tmp_path):
    data = str(tmp_path / "data")
    national = tmp_path / "quocgia.json"
    national.write_text(json.dumps([
        {"MaTTHC": "1.000894", "TenTTHC": "Đăng ký kết hôn", "LinhVuc": "Hộ tịch", "MucDo": 3,
         "CoQuanThucHien": "Ủy ban nhân dân cấp xã", "ThanhPhanHoSo": [{"TenGiayTo": "Tờ khai đăng ký kết hôn", "BanChinh": 1}],
         "ThoiHanGiaiQuyet": "Ngay trong ngày", "PhiLePhi": "Miễn lệ phí", "CanCuPhapLy": "Luật Hộ tịch 2014",
         "TrinhTuThucHien": "Bước 1: Nộp hồ sơ\nBước 2: Nhận kết quả"},
    ], ensure_ascii=False), encoding="utf-8")
    first = run_cli("procedures", "import", str(national), "--format", "national", "--data", data)
    assert first.returncode == 0, first.stderr
    shown = json.loads(run_cli("procedures", "show", "1.000894", "--data", data, "--json").stdout)
    assert shown["steps"] == ["Bước 1: Nộp hồ sơ", "Bước 2: Nhận kết quả"] and shown["level"] == "partial"

    national.write_text("[]", encoding="utf-8")
    kept = run_cli("procedures", "import", str(national), "--no-retire-missing", "--data", data, "--json")
    assert json.loads(kept.stdout)["retired"] == []
    assert json.loads(run_cli("procedures", "show", "1.000894", "--data", data, "--json").stdout)["active"] is True


def test_wrong_format_option_is_refused(tmp_path):
    result = run_cli("procedures", "import", str(SAMPLE), "--format", "xml", "--data", str(tmp_path / "data"))
    assert result.returncode == 2 and "xml" in result.stderr


def test_search_says_where_to_go_and_misses_lists_what_kiosks_did_not_find(tmp_path):
    from queue_server.procedures import db as pdb
    from queue_server.procedures import misses
    from queue_server.store import Store

    data = str(tmp_path / "data")
    empty = run_cli("procedures", "search", "dang ky khai sinh", "--data", data)
    assert empty.returncode == 0 and "chưa được nhập" in empty.stdout and "motcua procedures import" in empty.stdout
    assert run_cli("procedures", "import", str(SAMPLE), "--data", data).returncode == 0
    elsewhere = run_cli("procedures", "search", "dang ky tam tru", "--data", data)
    assert elsewhere.returncode == 0 and "Công an cấp xã" in elsewhere.stdout and "kết hôn" not in elsewhere.stdout
    as_json = json.loads(run_cli("procedures", "search", "ly hon", "--data", data, "--json").stdout)
    assert as_json["outcome"] == "elsewhere" and as_json["elsewhere"]["topic"] == "divorce"

    none = run_cli("procedures", "misses", "--data", data)
    assert none.returncode == 0 and "Chưa có" in none.stdout  # the CLI's own searches are not recorded
    store = Store.in_dir(data, "ubnd-huyen-demo")
    store.close()
    db = pdb.open_db(store.path)
    misses.record(db, "Thẻ bảo hiểm y tế", "2026-12-02")
    misses.record(db, "the bao hiem y te", "2026-12-03")
    db.close()
    listed = run_cli("procedures", "misses", "--data", data)
    assert listed.returncode == 0 and "     2  2026-12-03  the bao hiem y te" in listed.stdout
    rows = json.loads(run_cli("procedures", "misses", "--data", data, "--json").stdout)["misses"]
    assert rows == [{"query": "the bao hiem y te", "count": 2, "first_day": "2026-12-02", "last_day": "2026-12-03"}]
    cleared = run_cli("procedures", "misses", "--clear", "--data", data)
    assert cleared.returncode == 0 and "1" in cleared.stdout
    assert json.loads(run_cli("procedures", "misses", "--data", data, "--json").stdout)["misses"] == []
