"""The sentence of a call, built on the voice box from the [voice] table and the counters' names."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from display.payloads import Call, CounterName, PayloadError, parse_call, parse_office
from display.voice.caller import CallAge
from display.voice.sentence import PAUSE, STOP, build, merge_names
from display.voice.settings import VoiceSettingsError, load_voice_settings, parse_voice_settings
from motcua.clock import FakeClock
from tests.conftest import EXAMPLE_CONFIG


def settings(toml: str = "", device: str | None = None):
    base = '[[counters]]\nid = "Q3"\nname = "Quầy 3"\n[[counters]]\nid = "Q6"\nname = "Quầy 6 - Ưu tiên"\n'
    return parse_voice_settings(tomllib.loads(base + toml), device)


def say(s, number="1023", counter="Q3", recall=False) -> str:
    call = Call(number, counter, s.counter_names.get(counter, CounterName(counter, counter)).name, recall=recall)
    return build(call, s.recall_template if recall else s.call_template, s.reading, s.counter_names).text


def test_the_default_call_and_recall_are_the_sentences_of_issue_22():
    s = settings()
    assert say(s) == "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba, đến quầy số ba."
    assert say(s, recall=True) == "Xin nhắc lại: mời công dân có số thứ tự một nghìn không trăm hai mươi ba, đến quầy số ba."


def test_the_southern_setting_and_the_prefix_style_change_the_words():
    s = settings('[voice]\nregion = "south"\nprefix_style = "number"\n')
    assert say(s, "1005") == "Xin mời công dân có số thứ tự một ngàn không trăm lẻ năm, đến quầy số ba."
    assert say(s, "C015") == "Xin mời công dân có số thứ tự xê mười lăm, đến quầy số ba."
    assert say(settings('[voice]\ndigits = true\n'), "1023").startswith("Xin mời công dân có số thứ tự một không hai ba,")


def test_a_counter_is_said_by_its_spoken_name_never_with_the_dash():
    assert say(settings(), counter="Q6").endswith("đến quầy số sáu.")
    spoken = settings().counter_names | {"Q6": CounterName("Q6", "Quầy 6 - Ưu tiên", "quầy ưu tiên số 6")}
    s = settings()
    call = Call("1023", "Q6", "Quầy 6 - Ưu tiên")
    assert build(call, s.call_template, s.reading, spoken).text.endswith("đến quầy ưu tiên số sáu.")
    assert "-" not in build(call, "Mời {number} đến {counter} ({n}).", s.reading, spoken).text


def test_an_office_template_with_every_placeholder():
    s = settings('[voice]\ncall = "Mời số {number}, lĩnh vực {service}: quầy {n}."\n')
    call = Call("1001", "Q3", "Quầy 3", service_name="Tư pháp - Hộ tịch")
    sentence = build(call, s.call_template, s.reading, s.counter_names)
    assert sentence.text == "Mời số một nghìn không trăm linh một, lĩnh vực tư pháp, hộ tịch: quầy ba."
    assert sentence.tokens[-1] == STOP and sentence.tokens.count(PAUSE) == 3


@pytest.mark.parametrize(("toml", "key"), [
    ('[voice]\nregion = "central"\n', "voice.region"),
    ('[voice]\nrepeat = 0\n', "voice.repeat"),
    ('[voice]\ncall = "Mời {ticket}"\n', "voice.call"),
    ('[voice]\ncall = "Mời công dân"\n', "voice.call"),
    ('[voice]\nvolume = 3\n', "voice.volume"),
    ('[voice]\ncounters = ["Q9"]\n', "voice.counters"),
    ('[voice]\noutput = "usb"\n', "voice.output"),
    ('[voice.devices.loa-02]\nrepeats = 1\n', "voice.devices.loa-02.repeats"),
])
def test_a_wrong_voice_key_is_named(toml, key):
    with pytest.raises(VoiceSettingsError, match=key.replace(".", r"\.")):
        settings(toml, device="loa-02")


def test_a_voice_box_takes_its_own_table_over_the_office_one():
    s = settings('[voice]\nrepeat = 2\n[voice.devices.loa-02]\ncounters = ["Q3"]\nrepeat = 1\n', device="loa-02")
    assert s.repeat == 1 and s.serves("Q3") and not s.serves("Q6")
    assert settings('[voice]\nrepeat = 2\n[voice.devices.loa-02]\nrepeat = 1\n', device="loa-01").repeat == 2


def test_the_example_office_voice_settings_load():
    s = load_voice_settings(EXAMPLE_CONFIG, "loa-01")
    assert s.counter_names["Q6"].spoken_name == "quầy ưu tiên số 6" and s.repeat == 2


def test_spoken_names_from_the_server_win_but_the_toml_one_is_kept_until_the_server_has_one():
    configured = {"Q6": CounterName("Q6", "Quầy 6 - Ưu tiên", "quầy ưu tiên số 6")}
    merged = merge_names(configured, {"Q6": CounterName("Q6", "Quầy 6 - Ưu tiên"), "Q7": CounterName("Q7", "Quầy 7")})
    assert merged["Q6"].spoken_name == "quầy ưu tiên số 6" and "Q7" in merged
    assert merge_names(configured, {"Q6": CounterName("Q6", "Q6", "quầy số sáu")})["Q6"].spoken_name == "quầy số sáu"


def test_the_call_payload_is_parsed_in_one_place_and_bad_ones_are_refused():
    call = parse_call(b'{"number":"1023","counter":"Q3","counter_name":"Qu\xe1\xba\xa7y 3","recall":true,"calls":2,'
                      b'"at":"2026-11-23T08:15:02+07:00","extra":1}')
    assert (call.number, call.counter, call.counter_name, call.recall, call.calls) == ("1023", "Q3", "Quầy 3", True, 2)
    assert call.at == datetime(2026, 11, 23, 1, 15, 2, tzinfo=UTC)
    for bad in (b"[]", b"{}", b'{"number":"1"}', b"\xff", b'{"number":null,"counter":"Q1"}'):
        with pytest.raises(PayloadError):
            parse_call(bad)
    office = parse_office(b'{"counters":[{"id":"Q1","name":"Qu\xe1\xba\xa7y 1","spoken_name":"qu\xe1\xba\xa7y m\xe1\xbb\x99t"},{"x":1}]}')
    assert office.counters["Q1"].spoken_name == "quầy một" and len(office.counters) == 1


def test_call_age_counts_queue_time_and_lateness_despite_a_skewed_box_clock():
    clock = FakeClock()
    start = clock.now()
    ages = CallAge(clock)

    def server_now() -> datetime:  # this box booted with its clock three hours behind (no RTC, no NTP yet)
        return start + timedelta(seconds=clock.monotonic(), hours=3)

    fresh = ages.stamp(Call("1", "Q1", "Q1", at=server_now()))
    assert ages.age(fresh) == 0
    clock.advance(5)
    assert ages.age(fresh) == 5  # waited five seconds in the queue
    late = ages.stamp(Call("2", "Q1", "Q1", at=server_now() - timedelta(seconds=120)))  # a backlog after an outage
    assert ages.age(late) == 120
    clock._now += timedelta(hours=3)  # NTP sets this box's clock: without a reset every call would look 3 h late
    after = ages.stamp(Call("3", "Q1", "Q1", at=server_now()))
    assert ages.age(after) == 0
