"""What public screens show of a name or a code, and the digits kept for the second factor."""

from __future__ import annotations

import unicodedata

import pytest

from queue_server.dossiers.privacy import last_digits, mask_code, mask_name


@pytest.mark.parametrize(("name", "masked"), [
    ("Nguyễn Văn An", "Nguyễn V. A."),
    ("  Trần   Thị  Ánh Tuyết ", "Trần T. Á. T."),
    (unicodedata.normalize("NFD", "Lê Ánh"), "Lê Á."),   # decomposed input still gives a whole letter
    ("Minh", "M."),                                       # one word: never shown whole
    ("", ""),
    (None, ""),
])
def test_mask_name_keeps_the_family_name_and_initials(name, masked):
    assert mask_name(name) == masked


def test_masked_name_does_not_contain_the_given_name():
    assert "An" not in mask_name("Nguyễn Văn An").split()


def test_mask_code_hides_the_agency_the_date_and_most_of_an_office_code():
    assert mask_code("000.17.22.H56-210531-0001") == "…-0001"
    assert mask_code("HS-2026-000123") == "…0123"
    assert mask_code("AB12") == "…2"


@pytest.mark.parametrize(("value", "digits"), [
    ("001099012345", "2345"),
    ("0912 345 678", "5678"),
    ("+84 (912) 345-678", "5678"),
    ("０９１２３４５６７８", "5678"),   # full-width digits from a Vietnamese IME
    ("123", None),
    ("", None),
    (None, None),
])
def test_last_digits(value, digits):
    assert last_digits(value) == digits
