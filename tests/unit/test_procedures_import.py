"""Importing procedure catalogues: JSON, CSV and the national format, re-import, retirement, rejected rows."""

from __future__ import annotations

import copy
import csv
import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from queue_server.procedures import db as pdb
from queue_server.procedures.formats import ImportFailed
from queue_server.procedures.importer import import_file
from queue_server.procedures.search import ProcedureSearch
from queue_server.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "queue_server" / "procedures" / "sample" / "catalogue.json"


@pytest.fixture
def catalogue(tmp_path, config):
    """A real office database (core tables, then the procedure tables) and a function to import into it."""
    store = Store.in_dir(tmp_path / "data", config.id)
    store.close()
    db = pdb.open_db(store.path)
    forms_root = pdb.forms_dir(store.path)

    def run(path, **kwargs):
        kwargs.setdefault("services", set(config.services))
        return import_file(db, path, forms_root=forms_root, **kwargs)

    yield db, run, forms_root
    db.close()


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def edited_sample(tmp_path: Path, document) -> Path:
    """An edited catalogue beside a copy of the sample's forms, as an office would keep it."""
    folder = tmp_path / "edited"
    if not folder.exists():
        shutil.copytree(SAMPLE.parent / "forms", folder / "forms")
    return write_json(folder / "catalogue.json", document)


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_sample_catalogue_is_realistic_and_marked_as_sample(config):
    doc = sample()
    procedures = doc["procedures"]
    assert doc["sample"] is True and "DỮ LIỆU MẪU" in doc["note"]
    assert len(procedures) >= 40
    assert {p["service"] for p in procedures} == {"HT", "DD", "XD", "KD", "LD", "CT"} <= set(config.services)
    assert len({p["code"] for p in procedures}) == len(procedures)
    names = " ".join(p["name"] for p in procedures)
    for expected in ("Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử", "Chứng thực bản sao", "hộ kinh doanh",
                     "giấy phép xây dựng", "quyền sử dụng đất", "trợ cấp xã hội", "trợ cấp thất nghiệp"):
        assert expected in names
    for p in procedures:
        assert p["sample"] is True
        assert p["steps"] and p["documents"] and p["processing_time"] and p["fees"] and p["legal_basis"], p["code"]
    form_files = {f["file"] for p in procedures for f in p.get("forms", [])}
    assert form_files and all((SAMPLE.parent / f).is_file() for f in form_files)


def test_json_import_round_trip_keeps_every_field_and_copies_forms(catalogue):
    db, run, forms_root = catalogue
    report = run(SAMPLE)
    source = {p["code"]: p for p in sample()["procedures"]}
    assert report.rejected == [] and report.warnings == []
    assert sorted(report.created) == sorted(source)
    stored = pdb.get(db, "MAU-HT-001")
    original = source["MAU-HT-001"]
    for key in ("name", "field", "level", "agency", "service", "steps", "documents", "processing_time", "fees",
                "legal_basis", "result", "sample"):
        expected = original[key]
        if key == "documents":
            expected = [{"note": "", **d} for d in expected]
        assert stored[key] == expected, key
    assert stored["active"] is True and stored["source"] == "mau-trung-tam-xa"
    form = stored["forms"][0]
    assert form["file"] == "to-khai-dang-ky-khai-sinh.html"
    copied = forms_root / "MAU-HT-001" / form["file"]
    assert copied.read_bytes() == (SAMPLE.parent / "forms" / form["file"]).read_bytes()
    assert pdb.count(db) == len(source)


def test_reimport_of_the_same_file_changes_nothing(catalogue):
    db, run, _ = catalogue
    run(SAMPLE)
    revision = pdb.revision(db)
    again = run(SAMPLE)
    assert again.created == [] and again.updated == [] and again.retired == []
    assert len(again.unchanged) == again.total
    assert pdb.revision(db) == revision


def test_reimport_updates_changed_adds_new_and_retires_removed(catalogue, tmp_path):
    db, run, _ = catalogue
    run(SAMPLE)
    doc = sample()
    procedures = {p["code"]: p for p in doc["procedures"]}
    procedures["MAU-HT-003"]["processing_time"] = "Ngay trong ngày"
    removed = procedures.pop("MAU-HT-005")
    procedures["MAU-HT-099"] = {**copy.deepcopy(removed), "code": "MAU-HT-099", "name": "Đăng ký khai tử lưu động"}
    doc["procedures"] = list(procedures.values())
    report = run(edited_sample(tmp_path, doc))
    assert report.updated == ["MAU-HT-003"]
    assert report.created == ["MAU-HT-099"]
    assert report.retired == ["MAU-HT-005"]
    assert pdb.get(db, "MAU-HT-003")["processing_time"] == "Ngay trong ngày"
    retired = pdb.get(db, "MAU-HT-005")
    assert retired is not None and retired["active"] is False and retired["retired_at"]
    search = ProcedureSearch(db, "test-retire")
    assert "MAU-HT-005" not in [r["code"] for r in search.search("đăng ký khai tử", 50)]
    assert search.search("khai tu luu dong")[0]["code"] == "MAU-HT-099"

    back = run(SAMPLE)  # the procedure is published again
    assert back.reactivated == ["MAU-HT-005"]
    assert back.retired == ["MAU-HT-099"]
    assert search.search("đăng ký khai tử")[0]["code"] == "MAU-HT-005"


def test_no_retire_missing_keeps_procedures_absent_from_the_file(catalogue, tmp_path):
    db, run, _ = catalogue
    run(SAMPLE)
    doc = sample()
    doc["procedures"] = doc["procedures"][:3]
    report = run(edited_sample(tmp_path, doc), retire_missing=False)
    assert report.retired == []
    assert pdb.count(db) == len(sample()["procedures"])


def test_another_source_never_retires_this_one(catalogue, tmp_path):
    db, run, _ = catalogue
    run(SAMPLE)
    other = {"source": "so-tu-phap", "procedures": [{"code": "T-1", "name": "Cấp Phiếu lý lịch tư pháp", "service": "HT"}]}
    report = run(write_json(tmp_path / "other.json", other))
    assert report.created == ["T-1"] and report.retired == []
    assert pdb.count(db) == len(sample()["procedures"]) + 1


def test_bad_rows_are_reported_and_never_stop_the_good_ones(catalogue, tmp_path):
    db, run, _ = catalogue
    rows = [
        {"code": "OK-1", "name": "Đăng ký khai sinh", "level": "Mức độ 4", "service": "HT"},
        {"code": "NO-NAME"},
        {"code": "BAD-LEVEL", "name": "Thủ tục", "level": 7},
        {"code": "bad/code", "name": "Thủ tục"},
        {"code": "OK-1", "name": "Trùng mã"},
        {"code": "BAD-SERVICE", "name": "Thủ tục", "service": "ZZ"},
        "not an object",
        {"code": "BAD-DOC", "name": "Thủ tục", "documents": [{"name": "Tờ khai", "kind": "photo"}]},
        {"code": "OK-2", "name": "Chứng thực chữ ký", "documents": ["Giấy tờ cần ký"]},
    ]
    report = run(write_json(tmp_path / "mixed.json", rows))
    assert report.created == ["OK-1", "OK-2"]
    rejected = {(p.index, p.code): p.reason for p in report.rejected}
    assert set(rejected) == {(1, "NO-NAME"), (2, "BAD-LEVEL"), (3, "bad/code"), (4, "OK-1"), (5, "BAD-SERVICE"), (6, None), (7, "BAD-DOC")}
    assert "tên thủ tục" in rejected[(1, "NO-NAME")]
    assert "từ 1 đến 4" in rejected[(2, "BAD-LEVEL")]
    assert "mục 0" in rejected[(4, "OK-1")]
    assert "'ZZ'" in rejected[(5, "BAD-SERVICE")]
    assert "photo" in rejected[(7, "BAD-DOC")]
    assert report.as_dict()["rejected"][0] == {"index": 1, "code": "NO-NAME", "reason": rejected[(1, "NO-NAME")]}
    assert pdb.get(db, "OK-1")["level"] == "full"  # the old "Mức độ 4", in Decree 42/2022 terms
    assert pdb.get(db, "OK-2")["documents"] == [{"name": "Giấy tờ cần ký", "kind": "original", "count": 1, "note": ""}]


def test_a_rejected_row_keeps_its_procedure_instead_of_retiring_it(catalogue, tmp_path):
    db, run, _ = catalogue
    run(SAMPLE)
    doc = sample()
    doc["procedures"][0]["level"] = "không rõ"
    report = run(edited_sample(tmp_path, doc))
    assert [p.code for p in report.rejected] == ["MAU-HT-001"]
    assert report.retired == []
    assert pdb.get(db, "MAU-HT-001")["active"] is True


def test_a_wholly_rejected_file_retires_nothing(catalogue, tmp_path):
    db, run, _ = catalogue
    run(SAMPLE)
    doc = {"source": sample()["source"], "procedures": [{"code": "X"}]}
    report = run(write_json(tmp_path / "broken.json", doc))
    assert report.retired == [] and len(report.rejected) == 1
    assert any("giữ nguyên" in w.reason for w in report.warnings)
    assert pdb.count(db) == len(sample()["procedures"])


def test_unreadable_files_fail_with_a_message(catalogue, tmp_path):
    _, run, _ = catalogue
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportFailed, match="JSON không hợp lệ"):
        run(bad)
    no_header = tmp_path / "bad.csv"
    no_header.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="thiếu cột code, name"):
        run(no_header)


def test_form_paths_outside_the_catalogue_or_on_the_internet_are_refused(catalogue, tmp_path):
    db, run, forms_root = catalogue
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "ok.html").write_text("<p>Tờ khai</p>", encoding="utf-8")
    doc = [{"code": "F-1", "name": "Thủ tục có mẫu", "forms": [
        {"name": "Lọt ra ngoài", "file": "../secret.txt"},
        {"name": "Internet", "file": "https://example.org/mau.doc"},
        {"name": "Không có", "file": "missing.html"},
        {"name": "Tờ khai", "file": "ok.html"},
    ]}]
    report = run(write_json(folder / "c.json", doc))
    assert report.created == ["F-1"]
    assert len(report.warnings) == 3
    assert [f["file"] for f in pdb.get(db, "F-1")["forms"]] == ["ok.html"]
    assert sorted(p.name for p in (forms_root / "F-1").iterdir()) == ["ok.html"]


CSV_HEADER = ["Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Mức độ", "Cơ quan thực hiện", "service", "Thời hạn giải quyết",
              "Trình tự thực hiện", "Thành phần hồ sơ", "Phí, lệ phí", "Căn cứ pháp lý", "sample"]


def csv_row(p: dict) -> list[str]:
    documents = "\n".join(f"{d['name']} | {d['kind']} | {d['count']}" + (f" | {d['note']}" if d.get("note") else "") for d in p["documents"])
    fees = "\n".join(f"{f['name']} | {f['amount']}" for f in p["fees"])
    return [p["code"], p["name"], p["field"], str(p["level"]), p["agency"], p["service"], p["processing_time"],
            "\n".join(p["steps"]), documents, fees, "\n".join(p["legal_basis"]), "có"]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_import_gives_the_same_procedures_as_json(catalogue, tmp_path, config, delimiter):
    db, run, _ = catalogue
    chosen = [p for p in sample()["procedures"] if "|" not in json.dumps(p, ensure_ascii=False)][:6]
    path = tmp_path / "catalogue.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # Excel writes a BOM
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(CSV_HEADER)
        for p in chosen:
            writer.writerow(csv_row(p))
    report = run(path)
    assert report.rejected == [] and report.created == [p["code"] for p in chosen]
    for p in chosen:
        stored = pdb.get(db, p["code"])
        for key in ("name", "field", "level", "agency", "service", "steps", "processing_time", "fees", "legal_basis", "sample"):
            assert stored[key] == p[key], (p["code"], key)
        assert stored["documents"] == [{"note": "", **d} for d in p["documents"]]


def test_csv_rejected_rows_name_the_line_where_the_record_starts(catalogue, tmp_path):
    _, run, _ = catalogue
    path = tmp_path / "c.csv"
    path.write_text(
        'code,name,level,steps\n'
        'A-1,Đăng ký khai sinh,4,"Bước 1\nBước 2"\n'
        'A-2,Thủ tục,abc,\n'
        '\n'
        ',Không có mã,,\n'
        'A-3,Có thừa ô,1,x,y\n',
        encoding="utf-8",
    )
    report = run(path)
    assert report.created == ["A-1"]
    assert [(p.row, p.code) for p in report.rejected] == [(4, "A-2"), (6, None), (7, None)]
    assert "không nhận ra" in report.rejected[0].reason
    assert "mã thủ tục" in report.rejected[1].reason


NATIONAL = [
    {
        "MaTTHC": "1.001193.000.00.00.H12",
        "TenTTHC": "Thủ tục đăng ký khai sinh",
        "LinhVuc": {"MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch"},
        "CoQuanThucHien": [{"TenCoQuan": "Ủy ban nhân dân xã, phường, thị trấn"}],
        "CapThucHien": ["Cấp Xã"],
        "MucDo": "Dịch vụ công trực tuyến toàn trình",
        "TrinhTuThucHien": [{"TenBuoc": "Bước 1", "MoTa": "Nộp hồ sơ"}, {"TenBuoc": "Bước 2", "MoTa": "Nhận kết quả"}],
        "ThanhPhanHoSo": [
            {"TenGiayTo": "Tờ khai đăng ký khai sinh", "BanChinh": 1, "BanSao": 0, "MauDon": "to-khai.html"},
            {"TenGiayTo": "Giấy chứng sinh", "BanChinh": "1", "BanSao": "1"},
            {"TruongHop": "Trẻ bị bỏ rơi", "GiayTo": [{"TenGiayTo": "Biên bản xác nhận việc trẻ bị bỏ rơi", "BanChinh": 0, "BanSao": 2}]},
        ],
        "ThoiHanGiaiQuyet": [{"HinhThucNop": "Trực tiếp", "ThoiGian": "1", "DonViTinh": "Ngày làm việc", "MoTa": "trong ngày"}],
        "PhiLePhi": [{"LoaiPhi": "Lệ phí", "MucPhi": "0 đồng", "MoTa": "Miễn lệ phí"}],
        "CanCuPhapLy": [{"SoKyHieu": "60/2014/QH13", "TrichYeu": "Luật Hộ tịch"}, "123/2015/NĐ-CP"],
        "KetQuaThucHien": "Giấy khai sinh",
        "service": "HT",
    },
    {"MaTTHC": "2.000001", "TenTTHC": "Thủ tục không rõ mức độ", "MucDo": "Mức độ 9"},
    {"TenTTHC": "Không có mã"},
]


def test_national_format_is_detected_and_mapped(catalogue, tmp_path):
    db, run, _ = catalogue
    folder = tmp_path / "quocgia"
    folder.mkdir()
    (folder / "to-khai.html").write_text("<p>Tờ khai</p>", encoding="utf-8")
    report = run(write_json(folder / "export.json", {"data": NATIONAL}))
    assert report.format == "national"
    assert report.created == ["1.001193.000.00.00.H12"]
    assert [(p.index, p.code) for p in report.rejected] == [(1, "2.000001"), (2, None)]
    p = pdb.get(db, "1.001193.000.00.00.H12")
    assert p["name"] == "Thủ tục đăng ký khai sinh"
    assert p["field"] == "Hộ tịch" and p["agency"] == "Ủy ban nhân dân xã, phường, thị trấn"
    assert p["level"] == "full" and p["service"] == "HT" and p["implementing_level"] == "Cấp Xã"
    assert p["steps"] == ["Bước 1: Nộp hồ sơ", "Bước 2: Nhận kết quả"]
    assert p["documents"] == [
        {"name": "Tờ khai đăng ký khai sinh", "kind": "original", "count": 1, "note": ""},
        {"name": "Giấy chứng sinh", "kind": "original", "count": 1, "note": "kèm 1 bản sao"},
        {"name": "Biên bản xác nhận việc trẻ bị bỏ rơi", "kind": "copy", "count": 2, "note": "Trẻ bị bỏ rơi"},
    ]
    assert p["processing_time"] == "Trực tiếp: 1 Ngày làm việc (trong ngày)"
    assert p["fees"] == [{"name": "Lệ phí", "amount": "0 đồng (Miễn lệ phí)"}]
    assert p["legal_basis"] == ["60/2014/QH13: Luật Hộ tịch", "123/2015/NĐ-CP"]
    assert [f["file"] for f in p["forms"]] == ["to-khai.html"]
    assert ProcedureSearch(db, "national").search("dang ky khai sinh")[0]["code"] == "1.001193.000.00.00.H12"


def test_control_characters_are_removed_from_text_but_line_breaks_kept():
    from queue_server.procedures.model import procedure_from_dict

    procedure = procedure_from_dict({
        "code": "X-1", "name": "Đăng\tký\x00 khai\u200b sinh\x1b[2J", "steps": ["Bước một\r\nvẫn bước một\x07"],
        "documents": [{"name": "Tờ khai\x0c", "note": "\x1d"}],
    })
    assert procedure.name == "Đăng ký khai sinh[2J"
    assert procedure.steps == ("Bước một\nvẫn bước một",)
    assert procedure.documents[0].name == "Tờ khai" and procedure.documents[0].note == ""


def test_procedure_text_is_stored_nfc_whatever_the_keyboard(catalogue, tmp_path):
    db, run, _ = catalogue
    decomposed = unicodedata.normalize("NFD", "Đăng ký khai sinh")
    rows = [{"code": "NFD-1", "name": decomposed, "field": unicodedata.normalize("NFD", "Hộ tịch"),
             "steps": [unicodedata.normalize("NFD", "Nộp hồ sơ")], "level": unicodedata.normalize("NFD", "Toàn trình")}]
    assert run(write_json(tmp_path / "nfd.json", rows)).created == ["NFD-1"]
    stored = pdb.get(db, "NFD-1")
    assert stored["name"] == "Đăng ký khai sinh" and stored["name"] != decomposed
    assert stored["field"] == "Hộ tịch" and stored["steps"] == ["Nộp hồ sơ"] and stored["level"] == "full"
    assert ProcedureSearch(db, "nfd").search("đăng ký khai sinh")[0]["code"] in ("NFD-1", "MAU-HT-001")
