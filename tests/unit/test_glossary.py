"""One term per thing: no catalog, template, sample, example office or generated page uses a
variant docs/glossary.toml forbids (issue 22). docs/vietnamese.md explains the terms."""

from __future__ import annotations

import json

import pytest

from tests.unit.glossary_rules import Glossary

GLOSSARY = Glossary.load()


def test_no_checked_text_uses_a_forbidden_variant():
    found, _ = GLOSSARY.violations()
    assert not found, "texts that break docs/glossary.toml:\n" + "\n".join(map(str, found))


def test_every_exemption_is_still_needed():
    _, exempted = GLOSSARY.violations()
    stale = [key for key, problems in exempted.items() if not problems]
    assert not stale, f"these texts follow the glossary now: remove their [[exempt]] from docs/glossary.toml: {stale}"


def test_every_kind_of_source_has_files_and_every_term_a_note():
    kinds = {source["kind"] for source, _ in GLOSSARY.files()}
    assert kinds >= {"catalog", "sample", "config", "generated"}
    assert all(t.term and (t.forbidden or t.regex) for t in GLOSSARY.terms)


def breaks(text: str, audience: str = "citizens", kind: str = "catalog") -> list[str]:
    return [v.found for v in GLOSSARY.check_text(text, audience, kind, "test")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Vui lòng quét mã trên phiếu biên nhận.", ["phiếu biên nhận"]),
        ("Mang theo Phiếu hẹn trả kết quả.", ["Phiếu hẹn"]),  # case-insensitive, and the longer variant too
        ("Xin vui lòng chờ.", ["Xin vui lòng"]),
        ("Quầy đang tạm ngừng nhận hồ sơ.", ["nhận hồ sơ", "tạm ngừng"]),
        ("Số CCCD của bạn.", ["CCCD", "Số CCCD"]),
        ("Mời công dân có số {number}.", ["số {number}"]),
        ("Mời đến quầy 3.", ["quầy 3"]),
        ("Thủ tục này đã bị bãi bỏ.", ["bãi bỏ"]),
        ("Mức độ 4 (toàn trình).", ["Mức độ 4"]),
        ("Nộp tại bộ phận một cửa.", ["bộ phận một cửa"]),  # a proper name keeps its capitals
        ("Trung tâm Phục vụ Hành chính công tỉnh.", ["Trung tâm Phục vụ Hành chính công"]),
        ("Ủy ban nhân dân cấp huyện quyết định.", ["cấp huyện"]),
        ("4 chữ số cuối không đúng.", ["4"]),
        ("Đã nhận. {minutes} phút nữa thử lại.", ["{minutes}"]),
    ],
)
def test_a_forbidden_variant_is_found(text, found):
    assert sorted(breaks(text)) == sorted(found)


@pytest.mark.parametrize(
    "text",
    [
        "Công chức tiếp nhận hồ sơ và cấp giấy hẹn trả kết quả.",  # 'nhận hồ sơ' inside the allowed phrase
        "Tạm ngừng kinh doanh của hộ kinh doanh.",  # the legal name of a procedure
        "Xin mời công dân có số thứ tự {number}, đến quầy số {n}.",
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
        "Bộ phận Một cửa làm việc từ 07:00. BỘ PHẬN MỘT CỬA",
        "Quầy 3 - Ưu tiên",  # a counter's name, not a sentence
        "Nhập bốn chữ số cuối của số định danh cá nhân.",
        "Mức độ trực tuyến: Dịch vụ công trực tuyến toàn trình",
        "Phiếu hẹnx",  # whole words only
        "{counter_name} đang đóng.",  # a placeholder that is not a number may open a sentence
        "{count} bản",  # a label, not a sentence
    ],
)
def test_a_correct_text_passes(text):
    assert breaks(text) == []


def test_a_sentence_may_open_with_a_number_on_officials_screens_only():
    assert breaks("100% hồ sơ đúng hạn.", audience="officials") == []
    assert breaks("100% hồ sơ đúng hạn.", audience="citizens") == ["100%"]


def test_officials_screens_may_say_a_bare_so():
    assert breaks("Số {number} không ở trạng thái chờ.", audience="officials") == []
    assert breaks("Số {number} không ở trạng thái chờ.", audience="citizens") == ["Số {number}"]


def test_a_catalog_key_for_officials_is_checked_as_officials_text():
    assert GLOSSARY.key_audience("error.counter_busy", "citizens") == "officials"
    assert GLOSSARY.key_audience("error.service_closed", "citizens") == "citizens"
    assert GLOSSARY.path_audience("queue_server/web/templates/counter/screen.html", "citizens") == "officials"


def test_a_rule_limited_to_some_sources_leaves_the_others(tmp_path):
    # The sample catalogue may quote 'bãi bỏ' from a legal text; a software message may not.
    assert breaks("Quyết định bãi bỏ thủ tục", kind="sample") == []
    assert breaks("Quyết định bãi bỏ thủ tục", kind="catalog") == ["bãi bỏ"]


def test_files_added_later_are_found_by_glob(tmp_path):
    area = tmp_path / "motcua" / "i18n" / "vi"
    area.mkdir(parents=True)
    (area / "newarea.json").write_text(json.dumps({"newarea.hint": "Xin vui lòng chờ", "report.x": "Số {number}"}), encoding="utf-8")
    template = tmp_path / "queue_server" / "web" / "templates" / "tv" / "board.html"
    template.parent.mkdir(parents=True)
    template.write_text("<p>Mời nhận kết quả, mang theo phiếu hẹn.</p>", encoding="utf-8")
    found, _ = GLOSSARY.violations(tmp_path)
    assert {(v.where, v.found) for v in found} == {
        ("motcua/i18n/vi/newarea.json newarea.hint", "Xin vui lòng"),
        ("queue_server/web/templates/tv/board.html", "phiếu hẹn"),
    }


def test_the_command_line_help_is_in_one_language_english():
    """docs/vietnamese.md: the CLI's reader is the technician; what it prints for the office stays Vietnamese."""
    import re

    import click

    from motcua.cli import add_role_commands, cli
    from tests.unit.test_catalogs import is_vietnamese

    add_role_commands(cli)

    def helps(command: click.Command, path: str):
        yield path, command.help or ""
        for param in command.params:
            yield f"{path} {param.name}", getattr(param, "help", "") or ""
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from helps(sub, f"{path} {name}")

    # A Vietnamese term may be named in parentheses after its English ("Dossiers (hồ sơ)"), and
    # the product keeps its name.
    def english_part(text: str) -> str:
        return re.sub(r"\([^)]*\)", "", text).replace("Một Cửa QMS", "")

    vietnamese = [(where, text) for where, text in helps(cli, "motcua") if any(is_vietnamese(ch) for ch in english_part(text))]
    assert not vietnamese, vietnamese


def test_every_too_large_message_says_it_one_way():
    """MQTT, the dossier endpoints and the web package refuse an oversized body in the same words."""
    from motcua import i18n

    for lang, start, words in (("vi", "Dữ liệu gửi lên quá lớn", ""), ("en", "The request", "too large")):
        catalog = i18n.catalog(lang)
        keys = [k for k in catalog if "too_large" in k and not k.startswith("procedures.")]  # procedures: a file
        assert {"error.payload_too_large", "dossier.lookup.too_large", "dossier.sync.too_large"} <= set(keys)
        assert all(catalog[k].startswith(start) and words in catalog[k] for k in keys), [catalog[k] for k in keys]
