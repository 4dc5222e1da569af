"""The admin pages' edits of the configuration document: a changed copy the validator accepts, or a refusal naming the field."""

from __future__ import annotations

import copy
import tomllib

import pytest

from queue_server import config as cfg
from queue_server import config_edit as edit
from queue_server.config_export import to_toml
from tests.conftest import EXAMPLE_CONFIG

DOC = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def test_an_edit_returns_a_valid_copy_and_leaves_the_document_in_force_alone():
    before = copy.deepcopy(DOC)
    changed = edit.put_service(DOC, "TN", "Tài nguyên nước", numbers="6001-6999", new=True)
    assert before == DOC
    config = cfg.parse(changed)
    assert config.services["TN"].numbering.first == 6001
    assert changed["voice"] == DOC["voice"]  # tables the server does not read travel unchanged


def test_a_service_switches_between_a_block_and_a_prefix():
    prefixed = edit.put_service(DOC, "HT", "Tư pháp - Hộ tịch", prefix="H", digits=4)
    table = prefixed["services"][0]
    assert table["prefix"] == "H" and table["digits"] == 4 and "numbers" not in table
    assert cfg.parse(prefixed).services["HT"].numbering.format(7) == "H0007"
    back = edit.put_service(prefixed, "HT", "Tư pháp - Hộ tịch", numbers="1001-1999")
    assert "prefix" not in back["services"][0] and back["services"][0]["numbers"] == "1001-1999"


def test_adding_twice_or_changing_what_is_not_there_names_the_field():
    with pytest.raises(edit.EditError) as twice:
        edit.put_service(DOC, "HT", "x", numbers="7001-7999", new=True)
    assert (twice.value.field, twice.value.key) == ("code", "admin.edit.duplicate")
    with pytest.raises(edit.EditError) as missing:
        edit.put_counter(DOC, "Q9", "Quầy 9", ["HT"])
    assert missing.value.key == "admin.edit.unknown"


def test_removing_a_field_takes_it_off_its_counters_but_not_from_a_counter_that_serves_only_it():
    without_ct = edit.remove_service(DOC, "CT")
    assert "CT" not in cfg.parse(without_ct).services
    assert all("CT" not in c["services"] for c in without_ct["counters"])
    with pytest.raises(edit.EditError) as alone:
        edit.remove_service(DOC, "HT")  # Quầy 1 serves only HT
    assert alone.value.key == "admin.edit.service_only_at" and alone.value.params["counters"] == "Quầy 1"


def test_a_counter_with_devices_cannot_be_removed_until_they_are():
    with pytest.raises(edit.EditError) as bound:
        edit.remove_counter(DOC, "Q1")
    assert bound.value.params["devices"] == "quay-01, danhgia-01"
    freed = edit.remove_device(edit.remove_device(DOC, "quay-01"), "danhgia-01")
    assert "Q1" not in cfg.parse(edit.remove_counter(freed, "Q1")).counters


def test_counter_spoken_name_and_priority_are_set_and_cleared():
    changed = edit.put_counter(DOC, "Q6", "Quầy 6", ["HT"], spoken_name="", priority_only=False)
    q6 = cfg.parse(changed).counters["Q6"]
    assert q6.spoken_name == "" and not q6.priority_only
    assert "spoken_name" not in changed["counters"][5] and "priority_only" not in changed["counters"][5]


def test_a_kiosk_gets_its_own_limits_and_loses_them_again():
    own = edit.put_device(DOC, "kiosk-01", "kiosk", tickets_per_minute=3, tickets_per_hour=50)
    assert cfg.parse(own).issuing.for_device(cfg.parse(own).devices["kiosk-01"]) == (3, 50)
    shared = edit.put_device(own, "kiosk-01", "kiosk")
    assert cfg.parse(shared).issuing.for_device(cfg.parse(shared).devices["kiosk-01"]) == (10, 200)
    assert cfg.parse(edit.set_issuing(DOC, 0, 100)).issuing == cfg.IssuingLimits(per_minute=0, per_hour=100)


def test_hours_and_holidays():
    changed = edit.set_hours(DOC, {"mon": " 07:30-11:30 ", "sat": ""}, issue_outside_hours=False)
    assert changed["hours"] == {"mon": "07:30-11:30"}
    assert cfg.parse(changed).hours_text() == "Thứ Hai: sáng 07:30-11:30"
    with_days = edit.add_holiday(edit.add_holiday(DOC, "2026-09-02", "2026-09-03", "Quốc khánh"), "2026-04-30", "", "Ngày Chiến thắng")
    assert [h["date"] for h in with_days["holidays"]] == ["2026-04-30", "2026-09-02"]
    assert "until" not in with_days["holidays"][0]
    assert len(cfg.parse(with_days).holidays) == 2
    one_left = edit.remove_holiday(with_days, "2026-09-02", "Quốc khánh")
    assert [h["name"] for h in one_left["holidays"]] == ["Ngày Chiến thắng"]
    assert "holidays" not in edit.remove_holiday(one_left, "2026-04-30", "Ngày Chiến thắng")


@pytest.mark.parametrize(
    ("detail", "section", "index", "field"),
    [
        ("services[6].numbers: 1500-2500 overlaps HT (1001-1999)", "services", 6, "numbers"),
        ("services[6]: give either numbers = ... or prefix = ...", "services", 6, "numbers"),
        ("services[2].name: required", "services", 6, None),  # another field of work's problem
        ("hours.sat: '17:00-07:00' ends before it starts", "hours", None, "sat"),
        ("[issuing]: must be a table", "issuing", None, "issuing"),
        ("holidays[0].date: must be a date", "holidays", None, "date"),
        ("counter Q1 is open; close it before removing it", "counters", 0, None),
    ],
)
def test_a_refusal_points_at_the_form_field_it_names(detail, section, index, field):
    assert edit.refused_field(detail, section, index) == field


def test_the_export_is_toml_the_validator_reads_back_without_nulls():
    document = copy.deepcopy(DOC)
    document["devices"][0]["counter"] = None  # a JSON document may carry nulls; TOML has none
    text = to_toml(document, "a test")
    assert text.startswith("# Exported by a test:")
    again = tomllib.loads(text)
    assert "counter" not in again["devices"][0]
    assert cfg.parse(again).services.keys() == cfg.parse(DOC).services.keys()
