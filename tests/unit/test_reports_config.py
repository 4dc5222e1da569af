"""Configured vote reasons and report targets (issue 19): validated by key, enforced by the engine."""

from __future__ import annotations

import pytest

from queue_server import config as cfg
from queue_server.engine import Rejected
from queue_server.engine import commands as c
from tests.unit.engine_harness import Harness, small_office


def _raw(**extra):
    raw = {
        "office": {"id": "o", "name": "Bộ phận Một cửa", "issue_outside_hours": True},
        "services": [{"code": "HT", "name": "Tư pháp - Hộ tịch", "numbers": "1001-1999"}],
        "counters": [{"id": "Q1", "name": "Quầy 1", "services": ["HT"]}],
    }
    raw.update(extra)
    return raw


def test_an_office_without_a_reason_list_gets_the_default_one():
    config = cfg.parse(_raw())
    assert "long_wait" in config.vote_reasons
    assert config.vote_reasons["long_wait"].name == "Thời gian chờ lâu"


def test_a_configured_reason_list_replaces_the_default():
    config = cfg.parse(_raw(vote_reasons=[{"code": "quick", "name": "Nhanh chóng", "name_en": "Quick"}]))
    assert list(config.vote_reasons) == ["quick"]
    assert config.vote_reasons["quick"].name_en == "Quick"


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        ([{"code": "Chờ lâu", "name": "x"}], "vote_reasons[0].code"),
        ([{"code": "a", "name": "x"}, {"code": "a", "name": "y"}], "duplicate vote reason 'a'"),
        ([{"code": "a"}], "vote_reasons[0].name"),
        ({"code": "a"}, "vote_reasons: must be an array of tables"),
    ],
)
def test_a_bad_reason_list_is_named_by_key(reasons, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.parse(_raw(vote_reasons=reasons))
    assert message in str(err.value)


def test_the_room_screen_names_no_official_unless_the_office_says_so():
    assert cfg.parse(_raw()).reports.room_shows_officials is False
    assert cfg.parse(_raw(reports={"room_shows_officials": True})).reports.room_shows_officials is True


def test_report_targets_follow_the_kind_of_office():
    assert cfg.parse(_raw(reports={"area": "provincial"})).reports.yearly_dossiers_per_official == 1600
    assert cfg.parse(_raw(reports={"area": "remote"})).reports.yearly_dossiers_per_official == 800
    assert cfg.parse(_raw()).reports.yearly_dossiers_per_official == 1200
    assert cfg.parse(_raw(reports={"area": "remote", "yearly_dossiers_per_official": 900})).reports.yearly_dossiers_per_official == 900


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ({"area": "urban"}, "reports.area"),
        ({"wait_target_minutes": 0}, "reports.wait_target_minutes"),
        ({"satisfaction_target": 95}, "reports.satisfaction_target"),
        ({"wait_taget_minutes": 15}, "reports.wait_taget_minutes: unknown key"),
        ({"room_shows_officials": "yes"}, "reports.room_shows_officials: must be true or false"),
    ],
)
def test_bad_report_targets_are_named_by_key(reports, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.parse(_raw(reports=reports))
    assert message in str(err.value)


def _served_ticket() -> tuple[Harness, str]:
    h = Harness(small_office())
    h.issue()
    h.open_counter("Q1", staff="nv-lan")
    h.next("Q1")
    h.run(c.Finish("Q1"))
    return h, h.ticket("1001").vote_token


def test_a_vote_with_a_reason_not_on_the_list_is_refused_and_changes_nothing():
    h, token = _served_ticket()
    with pytest.raises(Rejected) as refused:
        h.run(c.SubmitVote(token, "unsatisfied", ("long_wait", "rude")))
    assert refused.value.code == "unknown_vote_reason"
    assert refused.value.params["reason_code"] == "rude"
    assert not h.ticket("1001").voted
    out = h.run(c.SubmitVote(token, "unsatisfied", ("long_wait", "long_wait", "attitude")))
    assert out[0].reasons == ("long_wait", "attitude")  # a reason ticked twice counts once
