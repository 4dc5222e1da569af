"""The voice caller against a real server and broker: calls made over MQTT, spoken in order, stale ones dropped."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest

from display.voice.device import VoiceDevice
from display.voice.settings import load_voice_settings
from display.voice.sinks import MemorySink
from display.voice.voices import EspeakVoice, Voices
from motcua.client import DeviceClient
from motcua.clock import FakeClock
from motcua.settings import OfficeRef
from tests.conftest import EXAMPLE_CONFIG, ROOT, run_cli


@pytest.fixture
def settings():
    return replace(load_voice_settings(EXAMPLE_CONFIG, "loa-01"), repeat=1)


def voice_box(server, settings, sink, clock=None) -> VoiceDevice:
    office = OfficeRef(server.config.id, server.config.topic_prefix)
    box = VoiceDevice(office, server.broker_url, "loa-01", settings, Voices(None, EspeakVoice(settings.espeak)), sink, clock)
    assert box.start()
    return box


def wait_until(predicate, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.01)


def issue_and_sign_in(server, services: list[str], counters: list[str]) -> DeviceClient:
    admin = DeviceClient(server.broker_url, server.config.id, "console").connect()
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        for service in services:
            assert kiosk.request("ticket.issue", service=service)["ok"]
    for counter in counters:
        assert admin.request("counter.sign_in", counter=counter, staff=f"nv-{counter}")["ok"]
    return admin


def sentences(sink: MemorySink) -> list[str]:
    return [p.label for p in sink.played]


def test_a_call_made_over_mqtt_is_announced_chime_first_and_the_box_reports_ok(start_server, settings):
    server = start_server()
    sink = MemorySink()
    box = voice_box(server, settings, sink)
    try:
        admin = issue_and_sign_in(server, ["HT"], ["Q1"])
        assert admin.request("counter.next", counter="Q1")["ok"]
        assert sink.wait_for(lambda played: len(played) == 1 and played[0].closed)
        done = box.announcer.announced[0]
        assert done.sentence.text == "Xin mời công dân có số thứ tự một nghìn không trăm linh một, đến quầy số một."
        assert sink.played[0].label == "1001_Q1" and len(sink.played[0].chunks) == 2  # chime, sentence
        assert admin.request("counter.recall", counter="Q1")["ok"]
        assert sink.wait_for(lambda played: len(played) == 2 and played[1].closed)
        assert box.announcer.announced[1].sentence.text.startswith("Xin nhắc lại: mời công dân có số thứ tự một nghìn")
        wait_until(lambda: server.current_snapshot()["devices"].get("loa-01/speaker", {}).get("state") == "ok", what="status")
        admin.close()
    finally:
        box.stop()


def test_a_burst_is_spoken_in_order_one_at_a_time_and_only_for_the_counters_served(start_server, settings):
    server = start_server()
    gate = threading.Event()  # holds the first announcement "playing" while the others queue up
    sink = MemorySink(gate)
    box = voice_box(server, replace(settings, counters=("Q1", "Q3", "Q5")), sink)
    try:
        admin = issue_and_sign_in(server, ["HT", "DD", "XD", "KD"], ["Q1", "Q3", "Q4", "Q5"])
        for counter in ("Q3", "Q4", "Q1", "Q5"):  # Q4 is another hall's box
            assert admin.request("counter.next", counter=counter)["ok"]
        wait_until(lambda: box.announcer.inbox.qsize() == 2, what="two calls queued behind the first")
        assert len(sink.played) == 1  # never two announcements at once
        gate.set()
        assert box.announcer.idle.wait(20)
        assert sentences(sink) == ["2001_Q3", "1001_Q1", "4001_Q5"]
        assert all(p.closed for p in sink.played)
        admin.close()
    finally:
        gate.set()
        box.stop()


def test_a_call_that_waited_too_long_is_dropped_not_announced_late(start_server, settings):
    server = start_server()
    clock = FakeClock()
    gate = threading.Event()
    sink = MemorySink(gate)
    box = voice_box(server, replace(settings, max_age_seconds=30), sink, clock)
    try:
        admin = issue_and_sign_in(server, ["HT", "DD"], ["Q1", "Q3"])
        assert admin.request("counter.next", counter="Q1")["ok"]
        assert admin.request("counter.next", counter="Q3")["ok"]
        wait_until(lambda: box.announcer.inbox.qsize() == 1, what="the second call queued")
        clock.advance(31)  # the first announcement "plays" for half a minute
        gate.set()
        assert box.announcer.idle.wait(20)
        assert sentences(sink) == ["1001_Q1"]
        assert [(call.number, round(age)) for call, age in box.announcer.dropped] == [("2001", 31)]
        admin.close()
    finally:
        gate.set()
        box.stop()


def test_the_voice_command_runs_against_a_server(start_server):
    server = start_server()
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "voice", "--device", "loa-01", "--simulate",
                             "--config", str(EXAMPLE_CONFIG), "--broker", f"mqtt://127.0.0.1:{server.broker_url.port}"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        wait_until(lambda: server.current_snapshot()["presence"].get("loa-01") == "online", what="loa-01 online")
        admin = issue_and_sign_in(server, ["CT"], ["Q2"])
        assert admin.request("counter.next", counter="Q2")["ticket"]["number"] == "C001"
        seen: list[str] = []
        while not any("announced C001" in line for line in seen):
            seen.append(lines.get(timeout=20))
        assert "Xin mời công dân có số thứ tự xê không không một, đến quầy số hai." in seen[-1]
        admin.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_announce_prints_the_exact_sentence_or_writes_the_wav(tmp_path):
    result = run_cli("announce", "--ticket", "1023", "--counter", "Q3", "--dry-run", "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba, đến quầy số ba.\n"
    result = run_cli("announce", "--ticket", "C015", "--counter", "Q6", "--recall", "--dry-run", "--config", str(EXAMPLE_CONFIG))
    assert result.stdout == "Xin nhắc lại: mời công dân có số thứ tự xê không một năm, đến quầy ưu tiên số sáu.\n"
    wav = tmp_path / "call.wav"
    result = run_cli("announce", "--ticket", "1023", "--counter", "Q3", "--wav", str(wav), "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 0, result.stderr
    stat = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True).stderr
    seconds = float(stat.split("Length (seconds):")[1].split()[0])
    assert seconds > 8  # chime + the sentence twice
    result = run_cli("announce", "--ticket", "1023", "--counter", "Q9", "--dry-run", "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 2 and "unknown counter 'Q9'" in result.stderr


def test_check_config_warns_about_prefixes_that_sound_alike(tmp_path):
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace('prefix = "C"', 'prefix = "B"')
    text += '\n[[services]]\ncode = "PX"\nname = "Phí"\nprefix = "P"\n'
    path = tmp_path / "office.toml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("check-config", str(path))
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "B" in result.stderr and "pê" in result.stderr
    clean = run_cli("check-config", str(EXAMPLE_CONFIG))
    assert clean.returncode == 0 and "warning" not in clean.stderr


@pytest.mark.mosquitto
def test_voice_box_and_led_board_work_through_mosquitto_with_their_own_passwords_and_the_generated_acl(
        start_server, mosquitto, config, settings):
    from display.led.boards import MainBoard
    from display.led.device import LedDevice
    from display.led.link import PrintLink
    from display.led.protocols import LineProtocol

    broker = mosquitto  # Debian's Mosquitto with the office's generated passwords and ACL
    office = OfficeRef(config.id, config.topic_prefix)
    sink = MemorySink()
    frames: list[str] = []
    voice = VoiceDevice(office, broker.url("loa-01"), "loa-01", settings, Voices(None, EspeakVoice(settings.espeak)), sink)
    board = LedDevice(office, broker.url("led-01"), "led-01", MainBoard(), LineProtocol(), PrintLink(out=frames.append))
    try:
        server = start_server(broker=broker.server_url())
        assert voice.start() and board.start()
        with DeviceClient(broker.url("kiosk-01"), config.id, "kiosk-01") as kiosk:
            assert kiosk.request("ticket.issue", service="HT")["ok"]
        with DeviceClient(broker.url("quay-01"), config.id, "quay-01") as counter:
            assert counter.request("counter.sign_in", staff="nv-lan")["ok"]
            assert counter.request("counter.next")["ok"]
        assert sink.wait_for(lambda played: len(played) == 1 and played[0].closed)
        wait_until(lambda: "#00:1:1001 -> Quay 1\\r\\n" in frames, what="the main board's frame")
        wait_until(lambda: {"loa-01/speaker", "led-01/led"} <= set(server.current_snapshot()["devices"]), what="both statuses")
    finally:
        voice.stop()
        board.stop()
