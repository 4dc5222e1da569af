"""The [tv] table (issue 18): defaults, every slide kind, and a wrong key named in the error."""

from __future__ import annotations

import unicodedata

import pytest

from queue_server import config as cfg


def _raw(**extra):
    raw = {
        "office": {"id": "o", "name": "Bộ phận Một cửa"},
        "services": [{"code": "HT", "name": "Tư pháp - Hộ tịch", "numbers": "1001-1999"}],
        "counters": [{"id": "Q1", "name": "Quầy 1", "services": ["HT"]}],
    }
    raw.update(extra)
    return raw


def test_an_office_without_a_tv_table_gets_the_defaults():
    tv = cfg.parse(_raw()).tv
    assert (tv.layout, tv.call_seconds, tv.recent_calls, tv.slide_seconds, tv.results_refresh_seconds) == ("auto", 8, 5, 15, 30)
    assert [s.kind for s in tv.slides] == ["hours", "media", "figures"]


def test_every_kind_of_slide_is_read():
    decomposed = unicodedata.normalize("NFD", "Thông báo nghỉ lễ")
    tv = cfg.parse(_raw(tv={
        "layout": "portrait", "call_seconds": 5, "slide_seconds": 20, "results_page_seconds": 10,
        "slides": [
            {"kind": "notice", "title": decomposed, "text": "Nghỉ ngày 02/9.", "seconds": 30},
            {"kind": "procedure", "codes": ["1.001193", "MAU-HT-001"]},
            {"kind": "media", "file": "lich-tiep-dan.png"},
            {"kind": "media"},
            {"kind": "hours"},
            {"kind": "figures", "seconds": 10},
        ],
    })).tv
    assert (tv.layout, tv.call_seconds, tv.slide_seconds, tv.results_page_seconds) == ("portrait", 5, 20, 10)
    notice, procedure, one_file, folder, hours, figures = tv.slides
    assert notice.title == "Thông báo nghỉ lễ" and unicodedata.is_normalized("NFC", notice.title) and notice.seconds == 30
    assert procedure.codes == ("1.001193", "MAU-HT-001") and procedure.seconds is None
    assert one_file.file == "lich-tiep-dan.png" and folder.file == ""
    assert (hours.kind, figures.kind, figures.seconds) == ("hours", "figures", 10)


def test_an_empty_slide_list_is_allowed():
    assert cfg.parse(_raw(tv={"slides": []})).tv.slides == ()


@pytest.mark.parametrize(
    ("tv", "message"),
    [
        ({"colour": "blue"}, "tv.colour: unknown key"),
        ({"layout": "sideways"}, "tv.layout: must be one of auto, landscape, portrait"),
        ({"call_seconds": 1}, "tv.call_seconds: must be a whole number from 2 to 60"),
        ({"recent_calls": 2.5}, "tv.recent_calls"),
        ({"results_refresh_seconds": True}, "tv.results_refresh_seconds"),
        ({"slides": {"kind": "notice"}}, "tv.slides: must be an array"),
        ({"slides": [{"text": "x"}]}, "tv.slides[0].kind: must be one of notice, procedure, media, hours, figures"),
        ({"slides": [{"kind": "notice"}]}, "tv.slides[0].text: required"),
        ({"slides": [{"kind": "notice", "text": "x" * 1001}]}, "tv.slides[0].text: at most 1000 characters"),
        ({"slides": [{"kind": "notice", "text": "x", "file": "a.png"}]}, "tv.slides[0].file: not a key of slides of kind 'notice'"),
        ({"slides": [{"kind": "hours"}, {"kind": "procedure"}]}, "tv.slides[1].codes"),
        ({"slides": [{"kind": "procedure", "codes": ["../etc"]}]}, "tv.slides[0].codes"),
        ({"slides": [{"kind": "media", "file": "../data/motcua.db"}]}, "tv.slides[0].file"),
        ({"slides": [{"kind": "media", "file": ".hidden.png"}]}, "tv.slides[0].file"),
        ({"slides": [{"kind": "media", "file": "slides.pdf"}]}, "tv.slides[0].file"),
        ({"slides": [{"kind": "hours", "seconds": 2}]}, "tv.slides[0].seconds: must be a whole number from 3 to 1800"),
    ],
)
def test_a_wrong_tv_setting_is_named(tv, message):
    with pytest.raises(cfg.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        cfg.parse(_raw(tv=tv))


def test_the_example_offices_parse_with_their_tv_tables():
    for path in ("firmware_config/office.example.toml", "firmware_config/office.province.example.toml"):
        tv = cfg.load(path).tv
        assert tv.slides, path
