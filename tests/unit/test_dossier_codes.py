"""Dossier codes from scanners: every accepted form, and every kind of junk refused with CodeError only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.dossiers.codes import CodeError, parse_code, try_parse

CODE = "000.17.22.H56-210531-0001"


@pytest.mark.parametrize("raw", [
    CODE,
    "000.17.22.h56-210531-0001",                                   # typed in lowercase
    f"  {CODE}\r\n",                                               # scanner adds Enter; spaces around
    f"{CODE}\t",
    f"\x02{CODE}\x03",                                             # STX/ETX framing from serial scanners
    f"\u200b{CODE}\ufeff",                                         # zero-width space and BOM from a copy-paste
    f"]C0{CODE}",                                                  # AIM identifier: Code 128
    f"]Q1https://dichvucong.example.gov.vn/tra-cuu?ma={CODE}",     # AIM identifier: QR
    f"https://dichvucong.example.gov.vn/tra-cuu?ma={CODE}",
    f"HTTPS://DICHVUCONG.EXAMPLE.GOV.VN/TRA-CUU?MA={CODE.lower()}",
    f"https://dichvucong.example.gov.vn/tra-cuu?lang=vi&maHoSo={CODE}&x=1",
    f"https://dichvucong.example.gov.vn/hoso/{CODE}",
    f"https://dichvucong.example.gov.vn/hoso/{CODE}/",
    "https://dichvucong.example.gov.vn/tra-cuu?ma=000.17.22.H56%2D210531%2D0001",
    CODE.encode(),                                                 # bytes straight from a serial port
])
def test_provincial_code_in_every_form_gives_the_canonical_code(raw):
    parsed = parse_code(raw)
    assert parsed.code == CODE
    assert parsed.kind == "provincial"


@pytest.mark.parametrize(("raw", "expected"), [
    ("HS-2026-000123", "HS-2026-000123"),
    ("hs-2026-000123\n", "HS-2026-000123"),
    ("BN_2026.15", "BN_2026.15"),
    ("A1", "A1"),
    ("https://motcua.example.vn/tra-cuu?code=hs-2026-000123", "HS-2026-000123"),
    ("000.17.22.H56-210531-00012", "000.17.22.H56-210531-00012"),  # five-digit daily sequence
])
def test_office_codes_are_accepted_and_uppercased(raw, expected):
    assert parse_code(raw).code == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("   \r\n", "empty"),
    (None, "empty"),
    ("000.17.22.H56-210531", "partial"),
    ("000.17.22.H56-2105", "partial"),
    ("000.17.22.H56-210531-00", "partial"),
    ("000.17.22.H5", "partial"),
    ("000.17", "partial"),
    ("HS-2026-", "partial"),
    ("8934588013058", "product_barcode"),       # EAN-13 of a bottle of water
    ("]E08934588013058", "product_barcode"),    # the scanner says EAN-13 itself
    ("036000291452", "product_barcode"),        # UPC-A
    ("96385074", "product_barcode"),            # EAN-8
    ("8934588013059", "invalid"),               # 13 digits, wrong check digit: still not a dossier code
    ("xin chào", "invalid"),
    ("HELLO", "invalid"),
    ("Hồ sơ 123", "invalid"),
    ("HS--2026", "invalid"),
    ("HS/2026/1", "invalid"),
    ("'; DROP TABLE dossiers; --", "invalid"),
    ("X" * 41 + "1", "too_long"),
    ("A1" * 5000, "too_long"),                  # 10 KB
    ("000.17.22.H56-211331-0001", "bad_date"),  # month 13
    ("https://dichvucong.example.gov.vn/tra-cuu", "bad_url"),
    ("https://dichvucong.example.gov.vn/tra-cuu?lang=vi", "bad_url"),
    (b"\xff\xfe\x00\x81garbage", "binary"),
    ("AB\x00\x00CD12", "binary"),
    ("٣٤٥٦", "invalid"),                         # Arabic-Indic digits are not ASCII digits
    (12345, "invalid"),
])
def test_junk_is_refused_with_a_stable_reason(raw, reason):
    with pytest.raises(CodeError) as refused:
        parse_code(raw)
    assert refused.value.reason == reason
    assert refused.value.message and refused.value.message_en


def test_every_refusal_has_vietnamese_text():
    with pytest.raises(CodeError) as refused:
        parse_code("000.17.22.H56-210531")
    assert "chưa đầy đủ" in refused.value.message


def test_try_parse_returns_none_instead_of_raising():
    assert try_parse("8934588013058") is None
    assert try_parse(CODE).code == CODE


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), st.text(alphabet="0123456789.-_HSABhs/:?=%", max_size=60)))
def test_arbitrary_input_never_raises_anything_but_code_error(raw):
    try:
        parsed = parse_code(raw)
    except CodeError:
        return
    assert parsed.code == parsed.code.upper().strip()
    assert 1 <= len(parsed.code) <= 40
    assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in parsed.code)
