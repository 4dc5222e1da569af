"""Dossier figures of a known set: on time, late, overdue, returned for more documents, apologies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from queue_server.dossiers import db as dossier_db
from queue_server.dossiers.sync import apply_updates
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB
from queue_server.store import Store

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _item(code, status, received, due=None, status_at=None, field="HT", by="nv-an", **extra):
    item = {"code": code, "updated_at": status_at or received, "status": status, "status_at": status_at or received,
            "procedure_name": "Đăng ký khai sinh", "received_at": received, "return_service": field, "received_by": by}
    if due:
        item["due_at"] = due
    item.update(extra)
    return item


def _load(path, config, between=None):
    db = dossier_db.connect(path)
    tz = config.tz
    # Each dossier's versions in order: the history keeps "needs_documents" once it happened.
    versions = [
        [_item("HS-1", "returned", "2026-11-02T08:00:00+07:00", "2026-11-05", "2026-11-04T10:00:00+07:00")],  # on time
        [_item("HS-2", "result_ready", "2026-11-02T09:00:00+07:00", "2026-11-05", "2026-11-06T08:00:00+07:00",
               apology_sent=True)],  # late by a day, apologised
        [_item("HS-3", "processing", "2026-11-03T09:00:00+07:00", "2026-11-10", field="DD", by="nv-binh")],  # overdue, open
        [_item("HS-4", "needs_documents", "2026-11-09T09:00:00+07:00", "2026-11-20", "2026-11-10T09:00:00+07:00", field="DD", by="nv-binh"),
         _item("HS-4", "returned", "2026-11-09T09:00:00+07:00", "2026-11-20", "2026-11-18T09:00:00+07:00", field="DD", by="nv-binh")],
        [_item("HS-5", "returned", "2026-11-12T09:00:00+07:00", "2026-11-13T16:00:00+07:00", "2026-11-13T16:30:00+07:00")],  # late (exact time)
        [_item("HS-6", "returned", "2026-11-12T09:00:00+07:00", "2026-11-13", "2026-11-14T10:00:00+07:00", late=False)],  # source says on time
        [_item("HS-7", "received", "2026-11-29T09:00:00+07:00", "2026-12-05")],  # open, not yet due
        [_item("HS-8", "returned", "2026-10-20T09:00:00+07:00", "2026-10-22", "2026-10-21T09:00:00+07:00")],  # before the range
    ]
    for step in range(2):
        batch = [v[step] for v in versions if len(v) > step]
        assert apply_updates(db, batch, "import", NOW, tz).rejected == 0
        if between:
            between()
    return db


def test_dossier_figures_of_a_known_month(tmp_path, config):
    store = Store(tmp_path / "office.db", config.id)
    db = _load(store.path, config)
    rdb = ReportDB(store.path, config)
    report = build(rdb, date(2026, 11, 1), date(2026, 11, 30), period="month", now=NOW)
    d = report["dossiers"]
    assert d["available"]
    s = d["summary"]
    assert (s["received"], s["settled"], s["settled_on_time"], s["settled_late"], s["overdue"], s["needs_documents"]) == (7, 5, 3, 2, 1, 1)
    assert s["on_time_share"] == 3 / 5
    fields = {r["key"]: r for r in d["by_field"]}
    assert (fields["DD"]["received"], fields["DD"]["overdue"], fields["DD"]["needs_documents"], fields["DD"]["name"]) == (2, 1, 1, "Đất đai - Môi trường")
    officials = {r["key"]: r for r in d["by_official"]}
    assert (officials["nv-an"]["settled_late"], officials["nv-binh"]["settled_on_time"]) == (2, 1)
    assert [r["key"] for r in d["by_period"]] == ["2026-11"] and d["by_period"][0]["label"] == "Tháng 11/2026"
    late = {r["code"]: r for r in d["late"]}
    assert set(late) == {"HS-2", "HS-3", "HS-5"}
    assert late["HS-2"]["apology_sent"] is True and late["HS-5"]["apology_sent"] is None and late["HS-3"]["still_open"]
    prod = {p["official"]: p for p in report["productivity"]}
    assert (prod["nv-an"]["basis"], prod["nv-an"]["dossiers_received"], prod["nv-binh"]["count"]) == ("dossiers", 5, 2)

    # The SQL judgement agrees with the model's own Dossier.is_late for every settled dossier.
    for code in ("HS-1", "HS-2", "HS-4", "HS-5", "HS-6"):
        dossier = dossier_db.get(db, code)
        assert dossier.is_late(NOW, config.tz) == (code in late), code
    db.close(), rdb.close(), store.close()


def test_a_report_without_dossier_data_says_so(tmp_path, config):
    store = Store(tmp_path / "office.db", config.id)
    rdb = ReportDB(store.path, config)
    report = build(rdb, date(2026, 11, 1), date(2026, 11, 30), now=NOW)
    assert report["dossiers"]["available"] is False and report["dossiers"]["summary"]["received"] == 0
    rdb.close(), store.close()


def test_dossier_counts_refreshed_bit_by_bit_equal_a_count_from_scratch(tmp_path, config):
    store = Store(tmp_path / "office.db", config.id)
    rdb = ReportDB(store.path, config)
    reports = []
    db = _load(store.path, config, between=lambda: reports.append(build(rdb, date(2026, 11, 1), date(2026, 11, 30), now=NOW)["dossiers"]))
    assert reports[0]["summary"]["needs_documents"] == 1 and reports[0]["summary"]["settled"] == 4  # HS-4 not yet returned
    live = build(rdb, date(2026, 11, 1), date(2026, 11, 30), now=NOW)["dossiers"]
    assert live["summary"]["settled"] == 5
    rdb.rebuild()
    assert build(rdb, date(2026, 11, 1), date(2026, 11, 30), now=NOW)["dossiers"] == live
    db.close(), rdb.close(), store.close()
