"""Kiosk search quality over the sample catalogue: diacritics, đ/d, typos, word order, ranking, garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_server import config as office_config
from queue_server.procedures import db as pdb
from queue_server.procedures.folding import fold, fold_words
from queue_server.procedures.importer import import_file
from queue_server.procedures.search import LEXICON, MAX_LIMIT, ProcedureSearch, Vocabulary, analyse, osa_distance
from queue_server.store import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    config = office_config.load(ROOT / "firmware_config" / "office.example.toml")
    store = Store.in_dir(tmp_path_factory.mktemp("search") / "data", config.id)
    store.close()
    db = pdb.open_db(store.path)
    report = import_file(db, SAMPLE, services=set(config.services))
    assert report.rejected == []
    yield ProcedureSearch(db, str(store.path))
    db.close()


def codes(search: ProcedureSearch, text: str, limit: int = 10) -> list[str]:
    return [r["code"] for r in search.search(text, limit)]


def test_fold_removes_diacritics_and_maps_d_stroke():
    assert fold("Đăng ký khai sinh") == "dang ky khai sinh"
    assert fold("ĐẤT ĐAI, môi-trường!") == "dat dai moi truong"
    assert fold("Ưu tiên người cao tuổi") == "uu tien nguoi cao tuoi"
    assert fold("Ðăng ký") == "dang ky"  # Icelandic eth typed for Đ by old keyboards
    assert fold("e\u0301") == fold("é") == "e"  # decomposed and precomposed input alike
    assert fold_words('"khai" NEAR(sinh*) -x') == ["khai", "near", "sinh", "x"]


@pytest.mark.parametrize(("query", "best"), [
    ("Đăng ký khai sinh", "MAU-HT-001"),
    ("dang ky khai sinh", "MAU-HT-001"),
    ("DANG KY KHAI SINH", "MAU-HT-001"),
    ("đăng kí khai sinh", "MAU-HT-001"),  # 'kí' for 'ký' is common spelling
    ("dăng ky khai sinh", "MAU-HT-001"),
    ("khai sinh", "MAU-HT-001"),
    ("đăng ký kết hôn", "MAU-HT-003"),
    ("ket hon", "MAU-HT-003"),
    ("khai tử", "MAU-HT-005"),
    ("xác nhận tình trạng hôn nhân", "MAU-HT-006"),
    ("chung thuc ban sao", "MAU-CT-001"),
    ("chứng thực chữ ký giấy tờ", "MAU-CT-002"),
    ("chứng thực chữ ký người dịch", "MAU-CT-007"),
    ("di chuc", "MAU-CT-005"),
    ("thanh lap ho kinh doanh", "MAU-KD-001"),
    ("cấp giấy phép xây dựng nhà ở", "MAU-XD-001"),
    ("tach thua", "MAU-DD-006"),
    ("cap lai giay chung nhan quyen su dung dat bi mat", "MAU-DD-005"),
    ("tro cap nguoi cao tuoi", "MAU-LD-001"),
    ("giay xac nhan khuyet tat", "MAU-LD-004"),
    ("ho ngheo", "MAU-LD-007"),
    ("MAU-HT-013", "MAU-HT-013"),
    ("mau-ht-013", "MAU-HT-013"),
])
def test_best_match_comes_first(search, query, best):
    assert codes(search, query)[0] == best


def test_with_and_without_diacritics_give_the_same_ranking(search):
    assert codes(search, "Đăng ký khai sinh có yếu tố nước ngoài") == codes(search, "dang ky khai sinh co yeu to nuoc ngoai")
    assert codes(search, "đất đai") == codes(search, "dat dai") == codes(search, "ĐẤT ĐAI")
    assert codes(search, "đất đai")  # and 'đ' really matched 'd'


@pytest.mark.parametrize("typo", ["khai sihn", "khia sinh", "dnag ky khai sinh", "dang ky khai snh", "đăng ký khai sinhh", "dangky khaisinh"])
def test_small_typos_still_find_the_procedure(search, typo):
    assert codes(search, typo)[0] == "MAU-HT-001", typo


def test_long_words_allow_two_mistakes_short_words_one(search):
    assert codes(search, "khuyeet taat", 2) == ["MAU-LD-004", "MAU-LD-003"]  # 'khuyeet' (7 letters) and 'taat'
    assert codes(search, "chunng thucc ban sao")[0] == "MAU-CT-001"
    assert codes(search, "xqzw") == []  # nothing within reach: no guess


@pytest.mark.parametrize("query", ["sinh khai", "khai sinh dang ky", "ky dang sinh khai"])
def test_word_order_does_not_matter(search, query):
    assert codes(search, query)[0] == "MAU-HT-001"
    assert set(codes(search, query, 4)) == set(codes(search, "dang ky khai sinh", 4))


def test_name_matches_rank_above_document_matches(search):
    # 'Giấy xác nhận tình trạng hôn nhân' is a document of the marriage registration too.
    results = codes(search, "giay xac nhan tinh trang hon nhan")
    assert results[0] == "MAU-HT-006"
    assert "MAU-HT-003" in results and results.index("MAU-HT-003") > 0


def test_document_only_matches_are_found(search):
    # 'Giấy chứng sinh' is named only among the documents of the birth registrations.
    results = codes(search, "giay chung sinh", 3)
    assert set(results) <= {"MAU-HT-001", "MAU-HT-002", "MAU-HT-008"} and "MAU-HT-001" in results


def test_limit_is_respected_and_capped(search):
    assert len(search.search("dang ky", 2)) == 2
    assert len(search.search("a", 10_000)) <= MAX_LIMIT
    assert len(search.search("dang", 0)) == 1


def test_results_are_summaries_with_vietnamese_text(search):
    first = search.search("khai sinh")[0]
    assert first == {"code": "MAU-HT-001", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "level": "full",
                     "agency": "Ủy ban nhân dân cấp xã", "service": "HT", "active": True, "sample": True}


@pytest.mark.parametrize("garbage", [
    "", " ", "   \t\n", '"', "'", "*", "-", "(", ")", "()", '"unterminated', "NEAR", "AND", "OR", "NOT", "AND OR NOT",
    "a* OR b*", "NEAR(khai sinh, 2)", "khai NEAR sinh", "^khai", "name:khai", "{name steps}: sinh", "khai + sinh",
    "'; DROP TABLE procedures; --", "\x00", "\x00khai", "🙂", "﷽", "%", "_", "\\", "\"\"\"", "-khai", "khai -sinh",
    "((((((((", "))))", "*:*", "sinh*", "x" * 200, "đ" * 50,
])
def test_garbage_and_fts_syntax_never_raise(search, garbage):
    results = search.search(garbage)
    assert isinstance(results, list)
    if not fold(garbage):
        assert results == []


def test_fts_operators_in_the_query_are_plain_words(search):
    assert codes(search, "khai NEAR sinh") == codes(search, "khai near sinh")
    assert codes(search, "khai -sinh")[0] == "MAU-HT-001"  # '-' is not NOT
    assert codes(search, '"khai sinh"*')[0] == "MAU-HT-001"


def test_ten_kilobyte_queries_are_answered(search):
    assert isinstance(search.search("x" * 10_240), list)
    assert isinstance(search.search("ă" * 10_240), list)
    assert search.search("khai sinh " * 1024)[0]["code"] == "MAU-HT-001"
    assert isinstance(search.search("(" * 10_240), list)


def test_spelling_tools():
    assert osa_distance("sihn", "sinh", 1) == 1  # a swap is one mistake
    assert osa_distance("khai", "khia", 1) == 1
    assert osa_distance("sinh", "xinh", 1) == 1
    assert osa_distance("abcdef", "ghijkl", 2) == 3  # cut short beyond the limit
    vocabulary = Vocabulary({"sinh": 5, "khai": 5, "dang": 3, "ky": 3, "xinh": 1})
    assert vocabulary.corrections("sihn") == ["sinh"]
    assert vocabulary.corrections("xnh") == ["xinh"]
    assert vocabulary.corrections("ky") == []  # too short to guess
    assert vocabulary.known("kha") and not vocabulary.known("khx")
    assert vocabulary.splits("dangky") == ["dang ky"]


# Kiosk words: what a citizen (an elderly one at a kiosk, say) types rather than the catalogue's names.

@pytest.mark.parametrize(("query", "best"), [
    ("lam giay khai sinh cho con", "MAU-HT-001"),  # the plain registration, not 'kết hợp nhận cha, mẹ, con'
    ("thu tuc lam giay khai sinh cho con", "MAU-HT-001"),
    ("giay phep xay dung", "MAU-XD-001"),  # the new permit, not 'Cấp lại / Gia hạn / Điều chỉnh'
    ("xin giay phep xay nha", "MAU-XD-001"),
    ("xay nha", "MAU-XD-001"),
    ("tôi muốn xin giấy phép xây nhà ở đâu", "MAU-XD-001"),
    ("dangkykhaisinh", "MAU-HT-001"),  # run together on a touch keyboard
    ("dangkykethon", "MAU-HT-003"),
    ("so do", "MAU-DD-001"),  # 'sổ đỏ' = giấy chứng nhận quyền sử dụng đất, first issued
    ("sổ hồng", "MAU-DD-001"),
    ("cap lai so do bi mat", "MAU-DD-005"),
    ("tach so do", "MAU-DD-006"),
    ("giay ket hon", "MAU-HT-003"),
    ("giấy độc thân", "MAU-HT-006"),
    ("ban sao giay khai sinh", "MAU-HT-013"),
    ("sao y ban chinh", "MAU-CT-001"),
    ("tro cap nguoi gia", "MAU-LD-001"),
    ("bao hiem that nghiep", "MAU-LD-009"),
    ("nhan con", "MAU-HT-007"),  # 'con' is optional, yet names holding it rank first
])
def test_kiosk_words_find_the_procedure(search, query, best):
    assert codes(search, query)[0] == best


def test_a_variant_ranks_below_the_basic_procedure_unless_asked_for(search):
    assert codes(search, "giay phep xay dung", 3)[:2] == ["MAU-XD-001", "MAU-XD-002"]  # new, then repair
    assert codes(search, "cap lai giay phep xay dung")[0] == "MAU-XD-005"
    assert codes(search, "gia han giay phep xay dung")[0] == "MAU-XD-004"
    assert codes(search, "khai sinh nuoc ngoai")[0] == "MAU-HT-002"
    assert codes(search, "dang ky lai khai sinh")[0] == "MAU-HT-009"


@pytest.mark.parametrize("query", ["a", "đ", "1", "a b c", "the bao hiem y te", "giay phep lai xe"])
def test_unrelated_or_meaningless_queries_find_nothing(search, query):
    # The sample has no health-insurance or driving-licence procedure: nothing rather than unrelated ones.
    assert codes(search, query) == []


@pytest.mark.parametrize("query", ["truc tuyen", "dichvucong"])
def test_steps_and_agency_alone_do_not_bring_a_procedure_in(search, query):
    # Steps of most sample procedures say 'nộp trực tuyến trên dichvucong.gov.vn': boilerplate, not a topic.
    assert codes(search, query) == []


def test_filler_words_are_optional_and_phrases_dropped():
    terms = analyse(fold_words("toi muon xin giay phep xay nha o dau"))
    assert [(t.text, t.optional) for t in terms] == [("toi", True), ("muon", True), ("xin", True),
                                                     ("giay phep xay nha", False)]
    assert [a.text for a in terms[-1].alternatives] == ["giay phep xay nha", "giay phep xay dung"]
    assert [t.text for t in analyse(["con"])] == ["con"]  # filler alone is searched as typed
    assert analyse(["a"]) == []


def test_kiosk_word_table_is_folded_and_small():
    assert 15 <= len(LEXICON.synonyms) <= 80  # hand-made, grown from `motcua procedures misses`: still small
    for key, expansions in LEXICON.synonyms.items():
        assert fold(key) == key and all(fold(e) == e for e in expansions)
    assert all(fold(w) == w for w in LEXICON.stopwords | LEXICON.stop_phrases)


def test_run_together_words_split_into_the_fewest_catalogue_words():
    vocabulary = Vocabulary({"dang": 5, "ky": 5, "khai": 4, "sinh": 4, "kha": 1, "is": 1})
    assert vocabulary.splits("dangkykhaisinh") == ["dang ky khai sinh"]
    assert vocabulary.splits("khaisinh") == ["khai sinh"]
    assert vocabulary.splits("xqzwxqzw") == []
    assert vocabulary.splits("sinh") == []  # a word already
