"""The kiosk's small parts: settings, the pending request file, payload readers, the counter watch,
the on-screen keyboard, the catalogs and the font, and its package rules."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from kiosk import settings as ks
from kiosk.flows.outcome import Problem, refused
from kiosk.flows.voting import CounterWatch
from kiosk.payloads import CounterState, Finished, read_counter, read_office, read_ticket
from kiosk.pending import PendingIssue, PendingStore
from kiosk.ui.boot import FONT_CANDIDATES, font_files
from kiosk.ui.widgets import LAYOUTS, ROW_TAIL, apply_key
from motcua import i18n
from motcua import protocol as p
from motcua.settings import SettingsError
from tests.kiosk.conftest import SAMPLE
from tests.unit.test_catalogs import vietnamese_literals

ROOT = Path(__file__).resolve().parents[2]
KIOSK = ROOT / "kiosk"


# --- settings ----------------------------------------------------------------------------


def test_settings_come_from_the_kiosk_table_with_defaults(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[office]\nid = "x"\n[kiosk]\ndevice = "kiosk-02"\nidle_seconds = 30\npriority_step = false\n'
                    '[printer]\nconnection = "serial"\nport = "/dev/ttyUSB0"\n', encoding="utf-8")
    settings = ks.load(path)
    assert settings.device == "kiosk-02" and settings.idle_seconds == 30.0 and settings.priority_step is False
    assert settings.printer == {"connection": "serial", "port": "/dev/ttyUSB0"} and settings.mode == "entrance"
    assert ks.load(ROOT / "firmware_config" / "office.example.toml") == ks.KioskSettings()


@pytest.mark.parametrize(("text", "message"), [
    ('[kiosk]\nidel_seconds = 3\n', "kiosk.idel_seconds: unknown key"),
    ('[kiosk]\nidle_seconds = -1\n', "kiosk.idle_seconds must be a positive number"),
    ('[kiosk]\nmode = "counter"\n', "kiosk.counter: a counter-facing screen needs"),
    ('[kiosk]\ndevice = "kiosk 1"\n', "kiosk.device 'kiosk 1'"),
    ('[kiosk]\nlanguage = "fr"\n', "kiosk.language 'fr'"),
    ('[kiosk]\nserver_url = "10.0.0.2:8080"\n', "kiosk.server_url '10.0.0.2:8080': an http:// address"),
    ('[kiosk]\npriority_step = "yes"\n', "kiosk.priority_step must be true or false"),
    ('[kiosk\n', "not valid TOML"),
])
def test_bad_settings_are_named_by_key(tmp_path, text, message):
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        ks.load(path)


def test_command_line_overrides_are_checked_too():
    with pytest.raises(SettingsError):
        ks.KioskSettings().with_overrides(mode="counter")
    assert ks.KioskSettings().with_overrides(mode="counter", counter="Q1", device=None).counter == "Q1"


# --- pending request file ------------------------------------------------------------------


def test_the_pending_request_survives_in_one_atomic_file(tmp_path):
    store = PendingStore(tmp_path / "state")
    assert store.load() is None
    pending = PendingIssue("kiosk-01-abc", "HT", "elderly")
    store.save(pending)
    assert store.load() == pending
    assert pending.fields() == {"service": "HT", "priority": True, "priority_group": "elderly"}
    assert PendingIssue("x", "DD").fields() == {"service": "DD", "priority": False}
    assert [f.name for f in (tmp_path / "state").iterdir()] == ["pending-ticket.json"]  # no temporary file left
    store.clear()
    store.clear()  # twice is fine
    assert store.load() is None


def test_a_torn_pending_file_is_dropped_not_fatal(tmp_path):
    store = PendingStore(tmp_path)
    store.path.write_text('{"request_id": "kiosk-01-a", "serv', encoding="utf-8")
    assert store.load() is None and not store.path.exists()
    store.path.write_text('{"unexpected": 1}', encoding="utf-8")
    assert store.load() is None


# --- payload readers ----------------------------------------------------------------------


def test_office_and_queue_state_merge_into_what_the_buttons_show():
    office = {"name": "UBND", "services": [{"code": "HT", "name": "Tư pháp", "name_en": "Justice", "open": True},
                                           {"code": "DD", "name": "Đất đai", "open": False, "closed_reason": "Mất điện"},
                                           "junk", {"name": "no code"}],
              "counters": [{"id": "Q1", "name": "Quầy 1", "services": ["HT"]}], "priority_groups": [{"code": "elderly", "name": "NCT"}],
              "future_key": {"x": 1}}
    queue = {"services": {"HT": {"waiting": 3, "estimated_wait_minutes": 12, "open": True}, "DD": "junk"}}
    read = read_office(office, queue)
    assert [(s.code, s.open, s.waiting, s.wait_minutes) for s in read.services] == [("HT", True, 3, 12), ("DD", False, 0, None)]
    assert read.services[1].closed_reason == "Mất điện" and read.priority_groups == (("elderly", "NCT"),)
    assert read_office({}).services == ()


def test_counter_state_reads_last_finished_when_the_platform_sends_it():
    state = read_counter({"counter": "Q1", "name": "Quầy 1", "status": "serving", "ticket": "1003", "service_name": "Tư pháp",
                          "last_finished": {"number": "1002", "finished_at": "2026-11-23T08:00:00+07:00"}})
    assert state.serving == "1003" and state.last_finished == Finished("1002", "2026-11-23T08:00:00+07:00")
    voted = read_counter({"counter": "Q1", "last_finished": {"number": "1", "finished_at": "x", "voted": True, "rate_until": "y"}})
    assert voted.last_finished.voted and voted.last_finished.rate_until == "y"
    assert read_counter({"counter": "Q1", "ticket": 5}).serving is None


def test_a_ticket_reply_keeps_its_raw_view_for_the_printer():
    reply = {"ok": True, "ticket": {"number": "1001", "service": "HT", "service_name": "Tư pháp", "ahead": 2,
                                    "estimated_wait_minutes": 9, "vote_token": "v" * 22, "public_token": "p" * 22}}
    ticket = read_ticket(reply)
    assert ticket.ahead == 2 and ticket.wait_minutes == 9 and ticket.raw is reply["ticket"]


def test_refusals_use_the_kiosk_words_and_fall_back_to_the_server_text():
    known = refused({"ok": False, "error": {"code": "issue_rate_limited", "params": {"retry_after_seconds": 20},
                                            "message": "x", "message_en": "y"}})
    assert known.text("vi") == "Máy vừa cấp nhiều số liên tiếp. Vui lòng chờ 20 giây rồi lấy số."
    unknown = refused({"ok": False, "error": {"code": "brand_new_code", "message": "Thông báo mới", "message_en": "New"}})
    assert unknown.text("vi") == "Thông báo mới" and unknown.text("en") == "New"
    assert refused({"ok": False}).text("vi") == i18n.text("kiosk.error.internal_error")
    assert Problem("x", "no.such.key").text("en") == i18n.text("kiosk.error.generic", "en")


# --- counter watch --------------------------------------------------------------------------


def _state(number: str | None, at: datetime | None) -> CounterState:
    return CounterState("Q1", last_finished=Finished(number, at.isoformat()) if number and at else None)


def test_the_counter_screen_asks_once_per_finished_ticket_and_not_for_old_ones():
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    watch = CounterWatch(fresh_seconds=120)
    assert not watch.should_ask(_state("1001", now - timedelta(hours=1)), now)  # there before the screen started
    assert not watch.should_ask(_state("1001", now - timedelta(hours=1)), now)
    assert watch.should_ask(_state("1002", now), now)
    assert not watch.should_ask(_state("1002", now), now)  # the same state republished
    assert not watch.should_ask(_state(None, None), now)
    fresh_start = CounterWatch()
    assert fresh_start.should_ask(_state("1003", now - timedelta(seconds=30)), now)  # the screen restarted mid-vote
    rated = CounterState("Q1", last_finished=Finished("1004", now.isoformat(), voted=True))
    assert not fresh_start.should_ask(rated, now)  # already rated at the rating box
    late = CounterState("Q1", last_finished=Finished("1005", now.isoformat(), rate_until=(now - timedelta(seconds=1)).isoformat()))
    assert not fresh_start.should_ask(late, now)


# --- keyboard ---------------------------------------------------------------------------------


def test_keys_edit_the_text_with_limits():
    text = ""
    for key in ["K", "H", "A", "I", "space", "space", "S"]:
        text = apply_key(text, key)
    assert text == "khai s"
    assert apply_key("khai", "backspace") == "kha" and apply_key("khai", "clear") == ""
    assert apply_key("", "space") == "" and apply_key("ab", "C", max_chars=2) == "ab"
    assert apply_key("HS-", "1", lower=False) == "HS-1" and apply_key("a", "Q", lower=False) == "aQ"


def test_every_keyboard_key_has_words_in_both_languages():
    special = {k for layout in LAYOUTS.values() for row in layout for k in row if len(k) > 1}
    special |= {k for tails in ROW_TAIL.values() for k in tails.values()}
    for key in special:
        for lang in i18n.LANGUAGES:
            assert f"kiosk.key.{key}" in i18n.catalog(lang)


# --- catalogs, font, package rules --------------------------------------------------------------


def _kiosk_sources() -> list[Path]:
    return sorted(KIOSK.rglob("*.py"))


def test_kiosk_code_keeps_no_citizen_text_inline():
    inline = {str(p.relative_to(ROOT)): found for p in _kiosk_sources() if (found := vietnamese_literals(p.read_text(encoding="utf-8")))}
    assert not inline, f"move these to motcua/i18n/*/kiosk.json: {inline}"
    kv = (KIOSK / "ui" / "screens.kv").read_text(encoding="utf-8")
    assert not [ch for ch in kv if ord(ch) > 127], "the .kv file takes every text from the catalogs"


def test_catalog_keys_the_kiosk_names_exist_and_dynamic_families_are_complete():
    catalog = i18n.catalog("vi")
    key = re.compile(r"kiosk\.[a-z_]+\.[a-z_.]*[a-z_]")
    named: set[str] = set()
    for path in _kiosk_sources():  # string constants that are whole keys (prefixes of dynamic families end with ".")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and key.fullmatch(n.value)}
    named |= set(re.findall(r"'(kiosk\.[a-z_]+\.[a-z_.]*[a-z_])'", (KIOSK / "ui" / "screens.kv").read_text(encoding="utf-8")))
    assert len(named) > 60
    assert not sorted(k for k in named if k not in catalog)
    families = {"kiosk.printer.": p.DEVICE_STATES, "kiosk.rate.": p.VOTE_LEVELS,
                "kiosk.document.": ("original", "copy", "original_or_copy")}
    for prefix, names in families.items():
        for name in names:
            assert prefix + name in catalog, prefix + name
    for code in ("service_closed", "office_closed", "numbers_exhausted", "issue_rate_limited", "already_voted",
                 "vote_not_allowed", "unknown_vote_token", "internal_error"):
        assert f"kiosk.error.{code}" in catalog
        if code in p.ERROR_CODES and f"error.{code}" in catalog:
            assert i18n.placeholders(catalog[f"kiosk.error.{code}"]) <= i18n.placeholders(catalog[f"error.{code}"]) | {"retry_after_seconds"}


def test_kiosk_wording_follows_the_house_terms():
    for key, value in i18n.catalog("vi").items():
        if key.startswith("kiosk."):
            assert "Xin vui lòng" not in value and "tạm ngừng" not in value and "CCCD" not in value, key
            assert value == unicodedata.normalize("NFC", value), key


def test_the_kiosk_font_covers_every_character_it_may_show():
    regular, bold = font_files()
    texts: list[str] = []
    for lang in i18n.LANGUAGES:
        texts += i18n.catalog(lang).values()
    catalogue = json.loads(SAMPLE.read_text(encoding="utf-8"))
    texts.append(json.dumps(catalogue, ensure_ascii=False))
    texts.append((ROOT / "firmware_config" / "office.example.toml").read_text(encoding="utf-8"))
    texts.append("\u263a\u2639\u2713\u2022")  # the faces, the tick and the bullet drawn by the screens
    needed = {ch for text in texts for ch in text if ch.isprintable() and not ch.isspace()}
    for path in {regular, bold}:
        cmap = TTFont(path).getBestCmap()
        missing = sorted(ch for ch in needed if ord(ch) not in cmap)
        assert not missing, f"{path} lacks {missing}"
    assert "ặ" in needed and "ẫ" in needed and "ờ" in needed  # the check really saw the stacked diacritics


def test_font_search_order_is_the_debian_fonts():
    assert Path(FONT_CANDIDATES[0][0]).name == "DejaVuSans.ttf"
    with pytest.raises(RuntimeError, match="file not found"):
        font_files("/no/such/font.ttf")


def test_flows_import_no_kivy_so_they_test_without_a_window():
    for path in (KIOSK / "flows").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.split(".")[0] == "kivy" or m.startswith("kiosk.ui") for m in modules), path


def test_motcua_kiosk_help_and_a_clear_error_for_bad_settings(tmp_path):
    env = {**os.environ, "MOTCUA_SIMULATE": ""}
    helped = subprocess.run([sys.executable, "-m", "motcua", "kiosk", "--help"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert helped.returncode == 0 and "--simulate" in helped.stdout and "Example:" in helped.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[office]\nid = "x"\n[kiosk]\nmode = "counter"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "motcua", "kiosk", "--config", str(bad)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 1 and "kiosk.counter" in run.stderr and "Traceback" not in run.stderr
    window = subprocess.run([sys.executable, "-m", "motcua", "kiosk", "--window", "huge"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert window.returncode == 2 and "WIDTHxHEIGHT" in window.stderr


def test_the_example_kiosk_configuration_loads_and_names_its_office():
    from motcua.settings import office_ref

    path = ROOT / "firmware_config" / "kiosk.example.toml"
    settings = ks.load(path)
    assert settings.device == "kiosk-01" and settings.printer["paper_mm"] == 80 and settings.scanner["connection"] == "evdev"
    assert office_ref(path).id == "ubnd-huyen-demo"
