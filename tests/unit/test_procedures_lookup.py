"""The kiosk's answer to a search, tried as citizens type: handled elsewhere (and where), not found (recorded,
without personal data), empty catalogue (how to import one), and the usual results kept as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motcua import i18n
from queue_server import config as office_config
from queue_server.procedures import db as pdb
from queue_server.procedures import lookup, misses
from queue_server.procedures.elsewhere import ELSEWHERE
from queue_server.procedures.folding import fold_words
from queue_server.procedures.importer import import_file
from queue_server.procedures.search import ProcedureSearch
from queue_server.store import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"
DAY = "2026-12-02"


def open_search(directory: Path, catalogue: Path | None = SAMPLE) -> ProcedureSearch:
    config = office_config.load(ROOT / "firmware_config" / "office.example.toml")
    store = Store.in_dir(directory, config.id)
    store.close()
    db = pdb.open_db(store.path)
    if catalogue is not None:
        assert import_file(db, catalogue, services=set(config.services)).rejected == []
    return ProcedureSearch(db, str(store.path))


@pytest.fixture
def search(tmp_path):
    found = open_search(tmp_path / "data")
    yield found
    found.db.close()


@pytest.fixture
def empty(tmp_path):
    found = open_search(tmp_path / "empty", catalogue=None)
    yield found
    found.db.close()


def names(body) -> list[str]:
    return [r["name"] for r in body["results"]]


@pytest.mark.parametrize(("query", "topic", "agency"), [
    ("dang ky tam tru", "residence", "Công an cấp xã"),
    ("Đăng ký tạm trú", "residence", "Công an cấp xã"),
    ("đăng ký thường trú cho con", "residence", "Công an cấp xã"),
    ("xác nhận cư trú", "residence", "Công an cấp xã"),
    ("so ho khau", "residence", "Công an cấp xã"),
    ("ly hon", "divorce", "Tòa án nhân dân khu vực"),
    ("thủ tục ly hôn ở đâu", "divorce", "Tòa án nhân dân khu vực"),
    ("li di", "divorce", "Tòa án nhân dân khu vực"),
    ("lam cccd", "identity_card", "Công an"),
    ("cấp đổi thẻ căn cước", "identity_card", "Công an"),
    ("làm hộ chiếu", "passport", "Quản lý xuất nhập cảnh"),
])
def test_what_another_agency_handles_is_answered_with_where_to_go_not_an_unrelated_procedure(search, query, topic, agency):
    body = lookup.answer(search, query, 10, None, DAY)
    assert body["outcome"] == "elsewhere" and body["results"] == [] and body["count"] == 0
    assert body["elsewhere"]["topic"] == topic and agency in body["elsewhere"]["agency"]
    assert agency in body["message"] and "không giải quyết tại Bộ phận Một cửa này" in body["message"]
    assert body["message_en"] != body["message"] and body["elsewhere"]["agency_en"] in body["message_en"]
    assert misses.listing(search.db) == []  # answered: not a miss


def test_the_two_searches_citizens_tried_no_longer_show_marriage_procedures(search):
    """Before: 'dang ky tam tru' gave 'Đăng ký kết hôn có yếu tố nước ngoài', 'ly hon' gave marriage registration."""
    assert search.search("dang ky tam tru")  # the plain search still finds these words somewhere...
    for query in ("dang ky tam tru", "ly hon"):
        body = lookup.answer(search, query)
        assert not any("kết hôn" in name for name in names(body)), (query, names(body))  # ...the kiosk shows none of it


def test_a_procedure_this_office_does_handle_wins_over_the_elsewhere_table(search, tmp_path):
    # Certifying a copy of an identity card is done here: the other words of the query name this office's procedure.
    body = lookup.answer(search, "chứng thực bản sao căn cước")
    assert body["outcome"] == "found" and any(name.startswith("Chứng thực bản sao") for name in names(body))
    # A commune whose one-stop section receives residence dossiers imports the procedure: the catalogue wins.
    catalogue = tmp_path / "xa.json"
    catalogue.write_text(json.dumps({"source": "xa", "procedures": [
        {"code": "CA-001", "name": "Đăng ký tạm trú", "field": "Đăng ký, quản lý cư trú", "agency": "Công an cấp xã"}]},
        ensure_ascii=False), encoding="utf-8")
    commune = open_search(tmp_path / "xa", catalogue)
    try:
        body = lookup.answer(commune, "dang ky tam tru")
        assert body["outcome"] == "found" and names(body) == ["Đăng ký tạm trú"]
        assert lookup.answer(commune, "ly hon")["outcome"] == "elsewhere"
    finally:
        commune.db.close()


def test_usual_queries_are_found_as_before(search):
    body = lookup.answer(search, "dang ky khai sinh", 3, {"HT": "Tư pháp - Hộ tịch"}.get)
    assert body["outcome"] == "found" and body["count"] == 3 and "message" not in body
    first = body["results"][0]
    assert first["code"] == "MAU-HT-001" and first["service_name"] == "Tư pháp - Hộ tịch" and first["url"] == "/api/procedures/MAU-HT-001"
    assert body["revision"] == pdb.revision(search.db) > 0
    assert lookup.answer(search, "giấy chứng sinh")["results"][0]["code"] == "MAU-HT-001"


def test_a_query_that_finds_nothing_says_so_and_is_recorded_for_the_administrator(search):
    body = lookup.answer(search, "Thẻ bảo hiểm y tế", 10, None, DAY)
    assert body["outcome"] == "not_found" and body["results"] == []
    assert body["message"].startswith("Không tìm thấy thủ tục phù hợp với “Thẻ bảo hiểm y tế”")
    lookup.answer(search, "the bao hiem y te", 10, None, "2026-12-03")
    lookup.answer(search, "zzqx", 10, None, "2026-12-03")
    assert misses.listing(search.db) == [
        {"query": "the bao hiem y te", "count": 2, "first_day": DAY, "last_day": "2026-12-03"},
        {"query": "zzqx", "count": 1, "first_day": "2026-12-03", "last_day": "2026-12-03"},
    ]
    lookup.answer(search, "bao hiem", 10, None, None)  # no day given (the CLI): not recorded
    assert len(misses.listing(search.db)) == 2


def test_recorded_queries_hold_no_numbers_and_stay_bounded(search, monkeypatch):
    misses.record(search.db, "Nguyễn Văn An 0912345678 cccd 001099012345", DAY)
    misses.record(search.db, "12", DAY)  # digits only: nothing to learn from
    assert [row["query"] for row in misses.listing(search.db)] == ["nguyen van an # cccd #"]
    assert len(misses.key("x " * 500)) <= misses.MAX_CHARS
    monkeypatch.setattr(misses, "MAX_ROWS", 5)
    for n in range(12):
        misses.record(search.db, f"tu khoa {chr(97 + n) * 3}", f"2026-12-{10 + n:02d}")
    kept = misses.listing(search.db)
    assert len(kept) == 5 and {row["last_day"] for row in kept} == {f"2026-12-{d}" for d in range(17, 22)}
    assert misses.clear(search.db) == 5 and misses.listing(search.db) == []


def test_an_empty_catalogue_says_so_and_how_to_import_one(empty):
    body = lookup.answer(empty, "dang ky khai sinh", 10, None, DAY)
    assert body["outcome"] == "empty_catalogue" and body["results"] == []
    assert "chưa được nhập" in body["message"] and "motcua procedures import" in body["hint"]
    assert "import" in body["hint_en"]
    assert misses.listing(empty.db) == []  # not the citizen's query that failed
    # Where to go for residence is known even without a catalogue.
    assert lookup.answer(empty, "dang ky tam tru")["outcome"] == "elsewhere"


def test_a_retired_catalogue_counts_as_empty(tmp_path):
    search = open_search(tmp_path / "data")
    try:
        search.db.execute("UPDATE procedures SET active = 0")
        search.db.execute("DELETE FROM procedure_search")
        assert lookup.answer(search, "khai sinh")["outcome"] == "empty_catalogue"
    finally:
        search.db.close()


@pytest.mark.parametrize("query", ["", "   ", "a", "!!!", '"*'])
def test_nothing_searchable_asks_for_a_procedure_name(search, query):
    body = lookup.answer(search, query, 10, None, DAY)
    assert body["outcome"] == "empty_query" and body["results"] == [] and "đăng ký khai sinh" in body["message"]
    assert misses.listing(search.db) == []


def test_every_outcome_has_a_message_in_both_languages():
    for outcome in set(lookup.OUTCOMES) - {"found"}:
        for lang in i18n.LANGUAGES:
            assert f"procedures.search.{outcome}" in i18n.catalog(lang)


def test_the_elsewhere_table_is_folded_and_names_post_2025_agencies():
    topics = {e.topic: e for e in ELSEWHERE.entries}
    assert {"residence", "divorce", "identity_card", "passport"} <= set(topics)
    assert topics["divorce"].agency.startswith("Tòa án nhân dân khu vực")  # district courts ended on 1 July 2025
    assert all("cấp huyện" not in e.agency for e in ELSEWHERE.entries)  # no district level any more
    for entry in ELSEWHERE.entries:
        assert entry.phrases and all(p == " ".join(fold_words(p)) for p in entry.phrases)
    assert ELSEWHERE.match(fold_words("đăng ký thường trú"))[0].topic == "residence"
    assert ELSEWHERE.match(fold_words("tam")) is None  # whole words only


def test_a_busy_database_loses_the_count_not_the_answer(search):
    import sqlite3

    other = sqlite3.connect(search.cache_key, isolation_level=None)
    search.db.execute("PRAGMA busy_timeout = 50")
    try:
        other.execute("BEGIN IMMEDIATE")  # the server's worker holds the write lock
        body = lookup.answer(search, "the bao hiem y te", 10, None, DAY)
        assert body["outcome"] == "not_found" and body["message"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert misses.listing(search.db) == []
