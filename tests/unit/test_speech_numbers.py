"""Vietnamese number reading (motcua/speech.py): a table of cases in both regional settings."""

from __future__ import annotations

import pytest

from motcua.speech import Reading, counter_words, number_words, prefix_conflicts, speakable, ticket_words

NORTH, SOUTH = Reading(region="north"), Reading(region="south")

# n, northern reading, southern reading
TABLE = [
    (0, "không", "không"),
    (1, "một", "một"),
    (4, "bốn", "bốn"),
    (5, "năm", "năm"),
    (10, "mười", "mười"),
    (11, "mười một", "mười một"),               # mốt only after a ten above one
    (14, "mười bốn", "mười bốn"),               # tư only after "mươi"
    (15, "mười lăm", "mười lăm"),               # lăm after any ten
    (20, "hai mươi", "hai mươi"),               # mươi, not mười
    (21, "hai mươi mốt", "hai mươi mốt"),
    (24, "hai mươi tư", "hai mươi tư"),
    (25, "hai mươi lăm", "hai mươi lăm"),
    (55, "năm mươi lăm", "năm mươi lăm"),
    (100, "một trăm", "một trăm"),
    (101, "một trăm linh một", "một trăm lẻ một"),  # not "mốt"
    (105, "một trăm linh năm", "một trăm lẻ năm"),  # not "lăm"
    (110, "một trăm mười", "một trăm mười"),
    (115, "một trăm mười lăm", "một trăm mười lăm"),
    (999, "chín trăm chín mươi chín", "chín trăm chín mươi chín"),
    (1000, "một nghìn", "một ngàn"),
    (1001, "một nghìn không trăm linh một", "một ngàn không trăm lẻ một"),
    (1005, "một nghìn không trăm linh năm", "một ngàn không trăm lẻ năm"),
    (1010, "một nghìn không trăm mười", "một ngàn không trăm mười"),
    (1023, "một nghìn không trăm hai mươi ba", "một ngàn không trăm hai mươi ba"),
    (1100, "một nghìn một trăm", "một ngàn một trăm"),
    (1999, "một nghìn chín trăm chín mươi chín", "một ngàn chín trăm chín mươi chín"),
    (2000, "hai nghìn", "hai ngàn"),
    (5021, "năm nghìn không trăm hai mươi mốt", "năm ngàn không trăm hai mươi mốt"),
    (10000, "mười nghìn", "mười ngàn"),
    (21000, "hai mươi mốt nghìn", "hai mươi mốt ngàn"),
    (100005, "một trăm nghìn không trăm linh năm", "một trăm ngàn không trăm lẻ năm"),
    (1000000, "một triệu", "một triệu"),
]


@pytest.mark.parametrize(("n", "north", "south"), TABLE, ids=[str(row[0]) for row in TABLE])
def test_numbers_read_by_vietnamese_rules_in_both_regions(n, north, south):
    assert number_words(n, NORTH) == north
    assert number_words(n, SOUTH) == south


def test_the_four_and_five_after_a_ten_are_settings():
    assert number_words(24, Reading(four="bốn")) == "hai mươi bốn"
    assert number_words(25, Reading(five="nhăm")) == "hai mươi nhăm"
    assert number_words(15, Reading(five="nhăm")) == "mười lăm"  # "nhăm" only after "mươi"
    with pytest.raises(ValueError, match="five"):
        Reading(five="năm")


def test_digit_by_digit_reading():
    assert ticket_words("1023", Reading(digit_by_digit=True)) == "một không hai ba"
    assert ticket_words("1023") == "một nghìn không trăm hai mươi ba"
    assert ticket_words("0012") == "không không một hai"  # a leading zero is read as written


def test_letter_prefixed_numbers_in_the_two_styles():
    assert ticket_words("C015") == "xê không một năm"
    assert ticket_words("C015", Reading(prefix_style="number")) == "xê mười lăm"
    assert ticket_words("C105", Reading(region="south", prefix_style="number")) == "xê một trăm lẻ năm"
    assert ticket_words("AB007", Reading(prefix_style="number")) == "a bê bảy"
    assert ticket_words("L020") == "e lờ không hai không"
    assert ticket_words("C015", Reading(letters={"C": "cê"})) == "cê không một năm"


def test_a_counter_is_said_without_the_dash_of_its_displayed_name():
    assert counter_words("Q6", "Quầy 6 - Ưu tiên") == "quầy số sáu"
    assert counter_words("Q6", "Quầy 6 - Ưu tiên", "quầy ưu tiên số 6") == "quầy ưu tiên số sáu"
    assert counter_words("UT", "Quầy Ưu tiên") == "quầy ưu tiên"
    assert counter_words("Q12", "Một cửa", None, SOUTH) == "quầy số mười hai"  # the number from the id
    assert speakable("Quầy 6 - Ưu tiên") == "Quầy sáu, Ưu tiên"


def test_prefixes_that_sound_alike_are_warned_and_d_with_dd_is_an_error():
    warnings, errors = prefix_conflicts({"HT": "B", "DD": "P", "CT": "A"})
    assert len(warnings) == 1 and "B" in warnings[0] and "P" in warnings[0] and "pê" in warnings[0]
    assert errors == []
    warnings, errors = prefix_conflicts({"X1": "D", "X2": "Đ"})
    assert len(errors) == 1 and "Đ" in errors[0]
    assert prefix_conflicts({"HT": "A", "CT": "C", "KD": "K"}) == ([], [])
    assert prefix_conflicts({"HT": "TA", "CT": "VA"})[0]   # two letters, each pair alike
    assert prefix_conflicts({"HT": "TA", "CT": "VK"}) == ([], [])
