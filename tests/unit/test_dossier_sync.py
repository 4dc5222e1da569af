"""Sync rules on a real SQLite file: ordering by the source's time, idempotence, history, per-item rejections, imports."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from queue_server.dossiers import db as store
from queue_server.dossiers.sync import ImportFileError, apply_in_chunks, apply_updates, read_import_file
from queue_server.store import Store

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CODE = "000.17.22.H56-261120-0001"


def item(**changes):
    base = {
        "code": CODE, "updated_at": "2026-11-20T08:00:00+07:00", "status": "received",
        "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh",
        "received_at": "2026-11-20T08:00:00+07:00", "due_at": "2026-11-24",
        "applicant_name": "Nguyễn Văn An", "applicant_id_number": "001099012345", "applicant_phone": "0912345678",
    }
    return {**base, **changes}


@pytest.fixture
def db(tmp_path, config):
    Store.in_dir(tmp_path, config.id).close()
    database = store.connect(tmp_path / "motcua.db")
    yield database
    database.close()


def sync(db, config, *items, source="tinh"):
    return apply_updates(db, list(items), source, NOW, config.tz)


def history(db, code=CODE):
    return [tuple(r) for r in db.execute("SELECT status, at FROM dossier_history WHERE code = ? ORDER BY at", [code])]


def test_newer_update_replaces_older_is_ignored_same_is_a_duplicate(db, config):
    assert sync(db, config, item()).accepted == 1
    newer = item(updated_at="2026-11-21T09:00:00+07:00", status="processing")
    assert sync(db, config, newer).accepted == 1
    older = item(updated_at="2026-11-20T10:00:00+07:00", status="rejected")
    report = sync(db, config, older)
    assert (report.accepted, report.ignored_older) == (0, 1)
    assert report.items[0]["stored_updated_at"].startswith("2026-11-21T02:00:00")
    again = sync(db, config, newer)
    assert (again.accepted, again.duplicate) == (0, 1)
    assert store.get(db, CODE).status == "processing"


def test_same_instant_in_another_offset_is_the_same_update(db, config):
    sync(db, config, item(status="processing"))
    report = sync(db, config, item(updated_at="2026-11-20T01:00:00Z", status="rejected"))
    assert report.duplicate == 1
    assert store.get(db, CODE).status == "processing"


def test_history_has_one_entry_per_status_change_with_the_source_time(db, config):
    sync(db, config, item())
    sync(db, config, item(updated_at="2026-11-20T09:00:00+07:00", procedure_name="Đăng ký khai sinh (sửa tên)"))  # same status
    assert store.get(db, CODE).procedure_name == "Đăng ký khai sinh (sửa tên)"  # applied, yet no history entry
    sync(db, config, item(updated_at="2026-11-21T09:00:00+07:00", status="processing"))
    sync(db, config, item(updated_at="2026-11-21T09:00:00+07:00", status="processing"))  # duplicate
    sync(db, config, item(updated_at="2026-11-22T10:00:00+07:00", status_at="2026-11-22T09:30:00+07:00", status="result_ready",
                          return_counter="Q2"))
    assert history(db) == [
        ("received", "2026-11-20T01:00:00.000000+00:00"),
        ("processing", "2026-11-21T02:00:00.000000+00:00"),
        ("result_ready", "2026-11-22T02:30:00.000000+00:00"),
    ]
    dossier = store.get(db, CODE)
    assert dossier.finished_at == datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


def test_a_batch_goes_on_past_bad_items_with_a_reason_for_each(db, config):
    report = sync(
        db, config,
        item(),
        item(code="8934588013058"),
        item(code="HS-2026-000002", status="lost"),
        item(code="HS-2026-000003", updated_at="yesterday"),
        "not an object",
        item(code="HS-2026-000004", updated_at="2026-12-01T00:00:00+07:00"),  # far ahead of NOW: would block real updates
        item(code="HS-2026-000005", procedure_code=None, procedure_name=None),
        item(code="HS-2026-000006", missing_documents="Bản sao CCCD|Tờ khai có chữ ký"),
    )
    reasons = [i.get("reason", {}).get("code") for i in report.items]
    assert reasons == [None, "bad_code", "bad_status", "bad_time", "not_an_object", "future_time", "missing_field", None]
    assert (report.accepted, report.rejected) == (2, 6)
    assert list(store.get(db, "HS-2026-000006").missing_documents) == ["Bản sao CCCD", "Tờ khai có chữ ký"]
    assert all(i["index"] == n for n, i in enumerate(report.items))


def test_another_source_cannot_overwrite_a_dossier(db, config):
    sync(db, config, item(), source="tinh")
    report = sync(db, config, item(updated_at="2026-11-22T00:00:00+07:00", status="rejected"), source="other")
    assert report.items[0]["reason"]["code"] == "other_source"
    assert store.get(db, CODE).status == "received"


def test_only_the_last_four_digits_of_id_and_phone_are_stored(db, config):
    sync(db, config, item())
    dump = "\n".join(db.conn.iterdump())
    assert "001099012345" not in dump and "0912345678" not in dump
    dossier = store.get(db, CODE)
    assert (dossier.id_last4, dossier.phone_last4) == ("2345", "5678")


def test_status_aliases_and_naive_times_in_office_time(db, config):
    sync(db, config, item(status="In Processing"), item(code="HS-1", status="dang-xu-ly", updated_at="20/11/2026 08:00"))
    assert store.get(db, CODE).status == "processing"
    assert store.get(db, "HS-1").status == "processing"
    assert store.get(db, "HS-1").updated_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội


def test_import_csv_and_json(tmp_path, db, config):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(
        "\ufeffcode,updated_at,status,procedure_name,received_at,due_at,applicant_name,applicant_phone,return_counter,missing_documents\n"
        "HS-2026-000123,2026-11-20T08:00:00+07:00,result_ready,Cấp giấy phép xây dựng,2026-11-10T08:00:00+07:00,2026-11-25,"
        "Trần Thị Bình,0987654321,Q4,\n"
        "HS-2026-000124,2026-11-20T08:00:00+07:00,needs_documents,Đăng ký kết hôn,2026-11-18,,Lê Văn C,,,Giấy xác nhận tình trạng hôn nhân\n"
        "HS-2026-000125,not a time,received,Đăng ký kết hôn,2026-11-18,,,,,\n",
        encoding="utf-8",
    )
    items = read_import_file(csv_file)
    report = apply_in_chunks(db, items, "import", NOW, config.tz)
    assert (report.accepted, report.rejected) == (2, 1)
    assert report.items[2]["reason"]["code"] == "bad_time"
    assert store.get(db, "HS-2026-000123").return_counter == "Q4"
    assert list(store.get(db, "HS-2026-000124").missing_documents) == ["Giấy xác nhận tình trạng hôn nhân"]
    assert store.get(db, "HS-2026-000124").due is None

    json_file = tmp_path / "export.json"
    json_file.write_text(json.dumps({"dossiers": [
        item(code="HS-2026-000123", updated_at="2026-11-21T08:00:00+07:00", status="returned"),
        item(code="HS-2026-000124", updated_at="2026-11-19T08:00:00+07:00", status="rejected"),
    ]}, ensure_ascii=False), encoding="utf-8")
    report = apply_in_chunks(db, read_import_file(json_file), "import", NOW, config.tz)
    assert (report.accepted, report.ignored_older) == (1, 1)
    assert store.get(db, "HS-2026-000123").status == "returned"


def test_unreadable_import_files_are_refused(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportFileError):
        read_import_file(bad)
    headerless = tmp_path / "x.csv"
    headerless.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFileError):
        read_import_file(headerless)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("updated_at", "0001-01-01T00:00:00"),  # local midnight of year 1 is before year 1 in UTC
        ("received_at", "0001-01-01T00:00:00"),
        ("status_at", "9999-12-31T23:00:00-05:00"),  # after year 9999 in UTC
        ("received_at", "9999-12-31T23:59:00+00:00"),  # stored, but shown in local time it overflows
        ("due_at", "9999-12-31"),  # a whole day: its end is after year 9999
        ("due_at", "0001-01-01T00:00:00+05:00"),
    ],
)
def test_times_out_of_any_plausible_range_are_rejected_per_item_not_a_crash(db, config, field, value):
    report = sync(db, config, item(code="HS-2026-000001"), item(**{field: value}))
    assert (report.accepted, report.rejected) == (1, 1), report.items
    assert report.items[1]["reason"]["code"] == "bad_time"
    assert field in report.items[1]["reason"]["message_en"]
    assert store.get(db, CODE) is None


def test_a_csv_cell_too_large_for_the_csv_reader_is_an_import_error(tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("code,procedure_name\nHS-1," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError):
        read_import_file(huge)
