"""Procedure and dossier lookup as the kiosk does them: the real server's HTTP, and the offline copy."""

from __future__ import annotations

import json

import pytest

from kiosk.flows import dossiers as dossier_flow
from kiosk.flows.procedures import ProcedureCache, ProcedureLookup
from kiosk.http_api import HttpApi, Unreachable
from kiosk.payloads import CounterSpec, Office
from kiosk.ui.procedure_text import procedure_blocks
from motcua import i18n
from motcua.folding import fold
from queue_server.dossiers import db as dossier_db
from queue_server.dossiers import sources
from queue_server.procedures import db as pdb
from tests.integration.dossier_http import CODE, call, dossier
from tests.kiosk.conftest import SAMPLE


def tr(key, lang="vi", **params):
    return i18n.text(key, lang, **params)


def closed_port_api() -> HttpApi:
    from bench.support import free_port

    return HttpApi(f"http://127.0.0.1:{free_port()}", timeout=1)


def sample_export() -> dict:
    procedures = json.loads(SAMPLE.read_text(encoding="utf-8"))["procedures"]
    return {"revision": 7, "procedures": procedures}


def test_plain_letters_find_the_accented_procedure_on_the_server(office, tmp_path):
    lookup = ProcedureLookup(HttpApi(office.http), ProcedureCache(tmp_path))
    answer = lookup.search("dang ky khai sinh")
    assert not answer.offline
    assert answer.results[0]["name"] == "Đăng ký khai sinh"
    detail, offline = lookup.detail(answer.results[0]["code"])
    assert not offline and detail["service"] == "HT"
    assert any(f["url"].startswith("/procedures/forms/") for f in detail["forms"])


def test_nothing_found_is_said_in_words_not_an_empty_screen(office, tmp_path):
    answer = ProcedureLookup(HttpApi(office.http), ProcedureCache(tmp_path)).search("zzqx wvvy")
    assert answer.results == [] and not answer.offline


def test_offline_search_and_details_come_from_the_local_copy(tmp_path):
    cache = ProcedureCache(tmp_path)
    cache._set(7, sample_export()["procedures"])
    lookup = ProcedureLookup(closed_port_api(), cache)
    answer = lookup.search("khai sinh")
    assert answer.offline and answer.results[0]["name"] == "Đăng ký khai sinh"
    assert lookup.search("ket hon").results[0]["name"].startswith("Đăng ký kết hôn")
    assert lookup.search("x").results == []  # one letter finds nothing rather than everything
    code = answer.results[0]["code"]
    detail, offline = lookup.detail(code)
    assert offline and detail["code"] == code


def test_browse_by_field_reads_the_copy_in_catalogue_order(tmp_path):
    cache = ProcedureCache(tmp_path)
    cache._set(1, sample_export()["procedures"])
    fields = cache.fields()
    assert fields[0][0] == "Hộ tịch" and sum(n for _, n in fields) == len(cache.procedures)
    names = [p["name"] for p in cache.in_field("Hộ tịch")]
    assert "Đăng ký khai sinh" in names and names == sorted(names, key=fold)


def test_the_copy_survives_a_restart_and_a_broken_file_is_not_fatal(tmp_path):
    cache = ProcedureCache(tmp_path)
    cache._set(3, sample_export()["procedures"][:2])
    cache.path.write_text(json.dumps({"revision": 3, "procedures": cache.procedures}, ensure_ascii=False), encoding="utf-8")
    again = ProcedureCache(tmp_path)
    assert again.revision == 3 and len(again.procedures) == 2
    cache.path.write_text("{broken", encoding="utf-8")
    assert ProcedureCache(tmp_path).procedures == []


def test_refresh_from_the_export_endpoint_by_revision(office, tmp_path):
    api = HttpApi(office.http)
    cache = ProcedureCache(tmp_path)
    assert cache.refresh(api) is True
    assert len(cache.procedures) == 58 and isinstance(cache.revision, int)
    assert cache.refresh(api) is False  # same revision: nothing fetched again
    db = pdb.open_db(office.server.db_path)
    try:
        assert cache.revision == pdb.revision(db)
    finally:
        db.close()


def test_an_unreachable_server_is_one_exception_type():
    with pytest.raises(Unreachable):
        closed_port_api().search_procedures("khai sinh")


def test_details_are_laid_out_documents_first_with_the_counters_and_form_qr_codes():
    proc = next(p for p in sample_export()["procedures"] if p.get("forms"))
    office = Office(counters=(CounterSpec("Q1", "Quầy 1", ("HT",)), CounterSpec("Q6", "Quầy 6", ("HT",), priority_only=True)))
    proc = {**proc, "service": "HT"}
    blocks = procedure_blocks(proc, office, tr, "vi", lambda path: "http://10.0.0.2:8080" + path)
    kinds = [b.kind for b in blocks]
    assert blocks[0].kind == "title" and blocks[0].text == proc["name"]
    texts = [b.text for b in blocks]
    assert "Nơi nộp hồ sơ" in texts and "Quầy 1" in texts  # a priority-only counter is not where everyone submits
    assert texts.index("Giấy tờ cần mang") < texts.index("Các bước thực hiện")
    assert "qr" in kinds and all(b.text.startswith("http://10.0.0.2:8080/procedures/forms/") for b in blocks if b.kind == "qr")


@pytest.fixture
def dossier_office(office):
    db = dossier_db.open_db(office.server.db_path)
    try:
        token = sources.add(db, "mot-cua-tinh", office.server.clock.now())
    finally:
        db.close()
    reply = call(office.server, "POST", "/api/dossiers/sync", dossier(), token=token)
    assert reply.status == 200, reply.text
    return office


def test_dossier_status_in_plain_words_then_details_after_four_digits(dossier_office):
    api = HttpApi(dossier_office.http)
    answer = dossier_flow.look_up(api, CODE.lower())
    assert answer.dossier and not answer.verified
    lines = dict(dossier_flow.summary_lines(answer.dossier, "vi"))
    assert lines["kiosk.dossier.status"] == "Đã có kết quả - mời nhận tại Quầy 2"
    assert "kiosk.dossier.missing" not in lines
    wrong = dossier_flow.look_up(api, CODE, "0000")
    assert wrong.dossier is None and wrong.problem.text("vi").startswith("Bốn chữ số cuối") and wrong.attempts_left == 4
    right = dossier_flow.look_up(api, CODE, "2345")
    assert right.verified
    detailed = dict(dossier_flow.summary_lines(right.dossier, "vi"))
    assert detailed["kiosk.dossier.missing"] == "Bản sao giấy chứng sinh"
    assert "kiosk.dossier.history" in detailed
    english = dict(dossier_flow.summary_lines(right.dossier, "en"))
    assert english["kiosk.dossier.status"].startswith("Result ready")


def test_dossier_problems_are_clear_and_never_crash(dossier_office):
    api = HttpApi(dossier_office.http)
    assert dossier_flow.look_up(api, "  ").problem.key == "kiosk.dossier.empty"
    assert dossier_flow.look_up(api, CODE, "12a4").problem.key == "kiosk.dossier.four_digits"
    missing = dossier_flow.look_up(api, "000.17.22.H56-261120-9999")
    assert missing.problem.code == "not_found" and "Không tìm thấy hồ sơ" in missing.problem.text("vi")
    garbage = dossier_flow.look_up(api, "\x00\x01 8934567890128")
    assert garbage.dossier is None and garbage.problem.text("vi")
    assert dossier_flow.look_up(closed_port_api(), CODE).problem.code == "offline"
