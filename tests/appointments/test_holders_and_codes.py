"""Phone and ID numbers are normalised and counted through a keyed hash; booking codes read as typed or scanned."""

from __future__ import annotations

import os
import stat

import pytest

from motcua import protocol as p
from queue_server.appointments.holders import KEY_FILE, Holder, HolderKey, normalise_id, normalise_phone


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("0912345678", "0912345678"), ("0912 345 678", "0912345678"), ("+84 912 345 678", "0912345678"),
     ("84912345678", "0912345678"), ("091.234.5678", "0912345678"), ("０９１２３４５６７８", "0912345678"),
     ("912345678", None), ("09123456789", None), ("0012345678", None), ("abc", None), ("", None), (None, None)],
)
def test_phone_numbers_are_normalised_or_refused(typed, expected):
    assert normalise_phone(typed) == expected


def test_id_numbers_have_twelve_digits():
    assert normalise_id("001 099 012 345") == "001099012345"
    assert normalise_id("00109901234") is None and normalise_id("0010990123456") is None


def test_the_id_number_is_the_holder_when_both_are_given_and_only_its_last_4_digits_show():
    holder = Holder.of("0912345678", "001099012345")
    assert holder == Holder("id", "001099012345") and holder.last4 == "2345"
    assert Holder.of("0912345678") == Holder("phone", "0912345678")
    assert Holder.of("12") is None and Holder.of() is None


def test_the_key_is_made_once_readable_by_its_owner_only_and_the_hash_hides_the_number(tmp_path):
    db_path = tmp_path / "data" / "motcua.db"
    key = HolderKey.beside(db_path)
    file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600 and len(file.read_bytes()) == 32
    h = key.hash(Holder("phone", "0912345678"))
    assert len(h) == 32 and "0912345678" not in h and "5678" not in h
    assert h != key.hash(Holder("id", "0912345678"))  # a phone and an ID with the same digits are two people
    HolderKey._cache.clear()  # another process (or a restart) reads the same key back
    assert HolderKey.beside(db_path).hash(Holder("phone", "0912345678")) == h
    other = tmp_path / "other" / "motcua.db"
    assert HolderKey.beside(other).hash(Holder("phone", "0912345678")) != h  # each office its own key


def test_a_damaged_key_is_refused_rather_than_replaced(tmp_path):
    (tmp_path / KEY_FILE).write_bytes(b"short")
    HolderKey._cache.clear()
    with pytest.raises(OSError, match="damaged"):
        HolderKey.beside(tmp_path / "motcua.db")


@pytest.mark.parametrize(
    ("text", "code"),
    [("K7M2Q9XA", "K7M2Q9XA"), ("k7m2-q9xa", "K7M2Q9XA"), (" K7M2 Q9XA ", "K7M2Q9XA"),
     ("http://10.0.0.2:8080/b/K7M2Q9XA", "K7M2Q9XA"), ("https://motcua.example.vn/b/k7m2q9xa?x=1", "K7M2Q9XA"),
     ("K7M2-Q9XO", "K7M2Q9X0"), ("L1I0-AAAA", "1110AAAA"),  # typed O is zero, I and L are one (Crockford)
     ("K7M2Q9X", None), ("K7M2Q9XAB", None), ("K7M2Q9XU", None), ("http://x/t/K7M2Q9XA", None), ("", None)],
)
def test_booking_codes_are_read_as_typed_or_scanned(text, code):
    assert p.parse_booking_code(text) == code


def test_a_booking_qr_opens_the_booking_page_and_the_code_prints_in_two_groups():
    assert p.booking_qr_url("http://10.0.0.2:8080/", "K7M2Q9XA") == "http://10.0.0.2:8080/b/K7M2Q9XA"
    assert p.format_booking_code("K7M2Q9XA") == "K7M2-Q9XA"
    assert p.parse_booking_code(p.booking_qr_url("http://h", "K7M2Q9XA")) == "K7M2Q9XA"
