"""Scanners: a serial scanner through a pty, the keyboard wedge, typed lines, evdev keys, and garbage
refused clearly by the server's dossier API (the kiosk never parses codes itself)."""

from __future__ import annotations

import io
import json
import os
import queue
import threading
import tty
import urllib.error
import urllib.parse
import urllib.request

import pytest

from kiosk.scanning import FakeScanner, KeyboardWedge, ScannerSettings, ScannerSettingsError, StdinScanner, clean, open_scanner
from kiosk.scanning.base import MAX_LINE, LineSplitter

TIMEOUT = 5


class Collector:
    """Reads scanner.codes() in a thread, as the kiosk does; next() waits with a timeout."""

    def __init__(self, scanner) -> None:
        self.scanner = scanner
        self.found: queue.Queue[str] = queue.Queue()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for code in self.scanner.codes():
            self.found.put(code)
        self.done.set()

    def next(self) -> str:
        return self.found.get(timeout=TIMEOUT)


@pytest.fixture
def pty_port():
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_a_serial_scanner_yields_each_code_through_a_pty(pty_port):
    master, path = pty_port
    scanner = open_scanner({"connection": "serial", "port": path, "baudrate": 9600})
    reader = Collector(scanner)
    os.write(master, b"000.17.22.H56-261120-0001\r\n")
    assert reader.next() == "000.17.22.H56-261120-0001"
    os.write(master, b"]Q1http://10.0.0.2:8080/t/abcdefghijklmnop#v=ZYXWVUTSRQPONMLK\r")
    assert reader.next() == "]Q1http://10.0.0.2:8080/t/abcdefghijklmnop#v=ZYXWVUTSRQPONMLK"
    os.write(master, b"HS-2026-")  # a code split across two reads arrives whole
    os.write(master, b"000123\n")
    assert reader.next() == "HS-2026-000123"
    os.write(master, b"\xff\xfe\x00garbage\r\n")  # a misread: not UTF-8
    assert reader.next() == "\ufffd\ufffdgarbage"  # kept visible for the API to refuse as "binary"
    scanner.close()
    assert reader.done.wait(TIMEOUT)


def test_a_serial_scanner_with_a_missing_port_is_refused_naming_it(tmp_path):
    with pytest.raises(ScannerSettingsError) as raised:
        open_scanner({"connection": "serial", "port": str(tmp_path / "ttyACM7")})
    assert "ttyACM7" in raised.value.message and "ttyACM7" in raised.value.message_en


def test_the_keyboard_wedge_turns_typed_characters_into_codes():
    wedge = KeyboardWedge()
    reader = Collector(wedge)
    for ch in "HS-2026-000123\n":
        wedge.feed(ch)  # one key at a time, as Window.on_textinput delivers them
    wedge.feed("ABC1\tXYZ2\r\n\n")
    assert [reader.next(), reader.next(), reader.next()] == ["HS-2026-000123", "ABC1", "XYZ2"]
    wedge.close()
    assert reader.done.wait(TIMEOUT)


def test_the_fake_scanner_and_typed_lines():
    fake = FakeScanner()
    fake.scan("  HS-1\r\n")
    fake.scan("\x1d\x1d")  # only controls: nothing was scanned
    fake.close()
    assert list(fake.codes()) == ["HS-1"]
    typed = StdinScanner(io.StringIO("HS-2\n\n  HS-3  \n"))
    assert list(typed.codes()) == ["HS-2", "HS-3"]


def test_runaway_lines_are_bounded_and_controls_removed():
    splitter = LineSplitter()
    (line,) = splitter.feed("A" * (MAX_LINE * 3) + "\n")
    assert len(line) == MAX_LINE
    assert clean("01\x1d234\x1b5\r\n") == "012345"
    assert clean("Tie\u0302\u0301p") == "Tiếp"  # NFC


def test_evdev_keys_read_as_a_us_keyboard_with_shift():
    from evdev import ecodes

    from kiosk.scanning.evdev_wedge import KEY_DOWN, KEY_UP, KeyTranslator

    keys = KeyTranslator()
    typed = ""
    for name, shifted in [("H", True), ("S", True), ("MINUS", False), ("2", False), ("SEMICOLON", True), ("A", False), ("ENTER", False)]:
        code = ecodes.ecodes[f"KEY_{name}"]
        if shifted:
            keys.feed(ecodes.KEY_LEFTSHIFT, KEY_DOWN)
        typed += keys.feed(code, KEY_DOWN) + keys.feed(code, KEY_UP)
        if shifted:
            keys.feed(ecodes.KEY_LEFTSHIFT, KEY_UP)
    assert typed == "HS-2:a\n"
    assert LineSplitter().feed(typed) == ["HS-2:a"]


def test_an_evdev_scanner_that_is_not_there_is_refused_naming_it(tmp_path):
    with pytest.raises(ScannerSettingsError, match="event-kbd"):
        open_scanner({"connection": "evdev", "device": str(tmp_path / "usb-Scanner-event-kbd")})


def test_simulate_reads_typed_lines_unless_the_scanner_is_serial(pty_port):
    _, path = pty_port
    assert isinstance(open_scanner({"connection": "evdev", "device": "/dev/input/none"}, simulate=True), StdinScanner)
    serial = open_scanner({"connection": "serial", "port": path}, simulate=True)  # a pty plays the scanner
    try:
        assert type(serial).__name__ == "SerialScanner"
    finally:
        serial.close()
    assert isinstance(open_scanner(None), KeyboardWedge)  # no [scanner] table: a wedge typing into the app


@pytest.mark.parametrize(("table", "named"), [({"connection": "bluetooth"}, "connection"), ({"grab": "yes"}, "grab"),
                                              ({"device": 5}, "device"), ({"speed": 9600}, "speed")])
def test_wrong_scanner_settings_name_the_key(table, named):
    with pytest.raises(ScannerSettingsError, match=named):
        ScannerSettings.from_mapping(table)


@pytest.mark.parametrize(("scanned", "reason"), [
    ("\ufffd\ufffdgarbage", "binary"),
    ("]E08934567890126", "product_barcode"),
    ("hello", "invalid"),
    ("000.17.22.H56-2611", "partial"),
])
def test_garbage_a_scanner_reads_gets_a_clear_vietnamese_refusal_from_the_dossier_api(start_server, scanned, reason):
    """The kiosk hands whatever was scanned to GET /api/dossiers/lookup; the server's parser refuses it in words."""
    server = start_server()
    fake = FakeScanner()
    fake.scan(scanned + "\r\n")
    fake.close()
    (code,) = list(fake.codes())
    host, port = server.options.http_listen
    url = f"http://{host}:{port}/api/dossiers/lookup?code={urllib.parse.quote(code)}"
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=10)
    body = json.loads(raised.value.read())
    assert raised.value.code == 400 and body["error"]["code"] == "bad_code" and body["error"]["reason"] == reason
    assert body["error"]["message"] and body["error"]["message"] != body["error"]["message_en"]
