"""LED boards: frames byte for byte, on a pty standing in for the USB serial adapter, unplugged and plugged back."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

import pytest

from display.led.boards import CounterBoard, MainBoard
from display.led.device import LedDevice
from display.led.link import SerialLink
from display.led.protocols import AlphaProtocol, LedProtocolError, LineProtocol, make_encoder
from display.led.text import board_text
from display.payloads import Call, CounterShown
from motcua.client import DeviceClient
from motcua.settings import OfficeRef

ALPHA_HEAD = b"\x00\x00\x00\x00\x00\x01Z00\x02AA\x1b0"


class Adapter:
    """A USB serial adapter we can pull out: a pty behind a stable name, as udev's /dev/serial/by-id/ link is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master: int | None = None
        self.plug()

    def plug(self) -> None:
        # Our own slave fd stays open while "plugged": without one, reading the master fails with EIO.
        self.master, self.slave = os.openpty()
        os.symlink(os.ttyname(self.slave), self.path)

    def unplug(self) -> None:
        self.path.unlink()
        assert self.master is not None
        os.close(self.master)
        os.close(self.slave)
        self.master = None

    def read_frame(self, end: bytes, timeout: float = 5.0) -> bytes:
        """Bytes from the board's side of the line up to and including `end`."""
        data, deadline = b"", time.monotonic() + timeout
        while not data.endswith(end):
            left = deadline - time.monotonic()
            assert left > 0, f"no frame ending {end!r} in {timeout} s (got {data!r})"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                data += os.read(self.master, 4096)
        return data


@pytest.fixture
def adapter(tmp_path):
    plugged = Adapter(tmp_path / "ttyLED")
    yield plugged
    if plugged.master is not None:
        plugged.unplug()


def test_boards_without_diacritics_get_unaccented_text():
    assert board_text("1023 → Quầy 6 - Ưu tiên", diacritics=False) == "1023 -> Quay 6 - Uu tien"
    assert board_text("Đất đai", diacritics=False) == "Dat dai"
    assert board_text("Quầy 3", diacritics=True) == "Quầy 3"
    assert board_text("A\x1bB\x04", diacritics=False) == "AB"  # no control byte reaches a frame


def test_line_protocol_frames_byte_for_byte():
    line = LineProtocol()
    assert line.encode(["1023"], scroll=False) == b"#00:1:1023\r\n"
    assert line.encode([], scroll=False) == b"#00:1:\r\n"
    assert LineProtocol(checksum="true").encode(["1023"], scroll=False) == b"#00:1:1023*31\r\n"
    rows = LineProtocol(address="07", rows="3").encode(["1023 → Quầy 3", "1022 → Quầy 1"], scroll=True)
    assert rows == b"#07:1:1023 -> Quay 3\r\n#07:2:1022 -> Quay 1\r\n#07:3:\r\n"
    assert LineProtocol(encoding="utf-8").encode(["Quầy 3"], scroll=False) == "#00:1:Quầy 3\r\n".encode()


def test_alpha_protocol_frames_byte_for_byte():
    alpha = AlphaProtocol()
    assert alpha.encode(["1023"], scroll=False) == ALPHA_HEAD + b"b1023\x04"                   # hold
    assert alpha.encode(["1023 → Quầy 3", "1022 → Quầy 1"], scroll=True) == (
        ALPHA_HEAD + b"a1023 -> Quay 3   1022 -> Quay 1\x04")                                   # rotate
    # Checksum: the sum of STX..ETX, 0x02+'A'+'A'+ESC+'0'+'b'+'1023'+ETX = 0x01FA.
    assert AlphaProtocol(checksum="true").encode(["1023"], scroll=False) == ALPHA_HEAD + b"b1023\x0301FA\x04"
    assert AlphaProtocol(address="1F", type="!").encode([""], False) == b"\x00" * 5 + b"\x01!1F\x02AA\x1b0b\x04"


def test_protocols_are_chosen_by_name_and_bad_options_are_named():
    assert isinstance(make_encoder("alpha", {"checksum": "yes"}), AlphaProtocol)
    with pytest.raises(LedProtocolError, match="unknown LED protocol 'bx5'"):
        make_encoder("bx5")
    with pytest.raises(LedProtocolError, match="address"):
        make_encoder("line", {"address": "7"})
    with pytest.raises(LedProtocolError, match="brightness"):
        make_encoder("alpha", {"brightness": "9"})


def test_counter_and_main_boards_follow_calls_and_counter_states():
    counter = CounterBoard("Q3")
    assert counter.lines() == [""]
    assert counter.on_call(Call("1023", "Q3", "Quầy 3")) and counter.lines() == ["1023"]
    assert not counter.on_call(Call("1024", "Q1", "Quầy 1"))
    assert counter.on_counter(CounterShown("Q3", "Quầy 3", "closed", None)) and counter.lines() == [""]
    main = MainBoard(max_lines=2)
    from datetime import UTC, datetime, timedelta
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    main.on_call(Call("1023", "Q3", "Quầy 3", at=t0))
    main.on_call(Call("2001", "Q4", "Quầy 4", at=t0 + timedelta(seconds=5)))
    main.on_call(Call("1024", "Q1", "Quầy 1", at=t0 + timedelta(seconds=9)))
    assert main.lines() == ["1024 → Quầy 1", "2001 → Quầy 4"]
    assert not main.on_call(Call("1020", "Q1", "Quầy 1", at=t0))  # an older call delivered late changes nothing
    assert main.on_counter(CounterShown("Q1", "Quầy 1", "idle", None)) and main.lines() == ["2001 → Quầy 4", "1023 → Quầy 3"]


def test_frames_on_the_serial_line_survive_unplug_and_replug(adapter):
    states: list[str] = []
    link = SerialLink(str(adapter.path), 9600, refresh_seconds=60, retry_seconds=0.05,
                      on_state=lambda state, detail: states.append(state)).start()
    try:
        first = AlphaProtocol().encode(["1023"], scroll=False)
        link.show(first)
        assert adapter.read_frame(b"\x04") == first
        adapter.unplug()
        second = AlphaProtocol().encode(["1024"], scroll=False)
        link.show(second)  # called while unplugged: kept, written once the adapter is back
        deadline = time.monotonic() + 5
        while link.state != "offline":
            assert time.monotonic() < deadline, "the link never noticed the unplug"
            time.sleep(0.01)
        adapter.plug()
        assert adapter.read_frame(b"\x04") == second
        assert link.wait_written(5) and link.state == "ok"
        assert states == ["ok", "offline", "ok"]
    finally:
        link.stop()


def test_a_board_that_starts_without_its_adapter_reports_offline_and_catches_up(tmp_path):
    states: list[str] = []
    path = tmp_path / "ttyLATE"
    link = SerialLink(str(path), retry_seconds=0.05, on_state=lambda state, detail: states.append(state)).start()
    late = None
    try:
        link.show(b"#00:1:1001\r\n")
        deadline = time.monotonic() + 5
        while not states:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert states == ["offline"]
        late = Adapter(path)
        assert late.read_frame(b"\r\n") == b"#00:1:1001\r\n"
    finally:
        link.stop()
        if late:
            late.unplug()


def test_a_counter_board_shows_the_number_called_over_mqtt_and_reports_its_state(start_server, adapter):
    server = start_server()
    office = OfficeRef(server.config.id, server.config.topic_prefix)
    link = SerialLink(str(adapter.path), retry_seconds=0.05)
    board = LedDevice(office, server.broker_url, "led-q1", CounterBoard("Q1"), LineProtocol(), link)
    assert board.start()
    try:
        assert adapter.read_frame(b"\r\n") == b"#00:1:\r\n"  # nobody called yet
        with DeviceClient(server.broker_url, office.id, "kiosk-01") as kiosk, DeviceClient(server.broker_url, office.id, "quay-01") as q1:
            assert kiosk.request("ticket.issue", service="HT")["ok"]
            assert q1.request("counter.sign_in", staff="nv01")["ok"]
            assert q1.request("counter.next")["ticket"]["number"] == "1001"
        assert adapter.read_frame(b"\r\n") == b"#00:1:1001\r\n"
        assert board.status is not None and board.status.wait_sent("ok")
        adapter.unplug()
        assert board.status.wait_sent("offline")
        deadline = time.monotonic() + 5
        while server.current_snapshot()["devices"].get("led-q1/led", {}).get("state") != "offline":
            assert time.monotonic() < deadline, server.current_snapshot()["devices"]
            time.sleep(0.02)
        adapter.plug()
        assert adapter.read_frame(b"\r\n") == b"#00:1:1001\r\n"  # the current number again, at once
        assert board.status.wait_sent("ok")
    finally:
        board.stop()


def test_a_main_board_lists_the_latest_calls_and_is_right_again_after_its_restart(start_server, adapter):
    server = start_server()
    office = OfficeRef(server.config.id, server.config.topic_prefix)
    with DeviceClient(server.broker_url, office.id, "kiosk-01") as kiosk, DeviceClient(server.broker_url, office.id, "console") as admin:
        for service in ("HT", "DD"):
            assert kiosk.request("ticket.issue", service=service)["ok"]
        for counter in ("Q1", "Q3"):
            assert admin.request("counter.sign_in", counter=counter, staff=f"nv-{counter}")["ok"]
        board = LedDevice(office, server.broker_url, "led-01", MainBoard(), AlphaProtocol(), SerialLink(str(adapter.path), retry_seconds=0.05))
        assert board.start()
        try:
            assert adapter.read_frame(b"\x04") == ALPHA_HEAD + b"a\x04"
            assert admin.request("counter.next", counter="Q1")["ok"]
            assert adapter.read_frame(b"\x04") == ALPHA_HEAD + b"a1001 -> Quay 1\x04"
            assert admin.request("counter.next", counter="Q3")["ok"]
            assert adapter.read_frame(b"\x04") == ALPHA_HEAD + b"a2001 -> Quay 3   1001 -> Quay 1\x04"
        finally:
            board.stop()
    # A new board process learns the same lines from the retained counter states alone.
    again = LedDevice(office, server.broker_url, "led-01", MainBoard(), AlphaProtocol(), SerialLink(str(adapter.path), retry_seconds=0.05))
    assert again.start()
    try:
        frame = b""
        deadline = time.monotonic() + 10
        while b"1001 -> Quay 1" not in frame or b"2001 -> Quay 3" not in frame:
            assert time.monotonic() < deadline, frame
            frame = adapter.read_frame(b"\x04")
    finally:
        again.stop()


def test_the_led_command_runs_against_a_server_and_names_a_bad_option(start_server):
    import queue
    import signal
    import subprocess
    import sys
    import threading

    from tests.conftest import EXAMPLE_CONFIG, ROOT, run_cli

    bad = run_cli("led", "--device", "led-01", "--simulate", "--protocol", "alpha", "--set", "address=XYZ", "--config", str(EXAMPLE_CONFIG))
    assert bad.returncode == 2 and "address: two hex digits" in bad.stderr
    server = start_server()
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "led", "--device", "led-01", "--simulate", "--protocol", "line",
                             "--set", "checksum=true", "--config", str(EXAMPLE_CONFIG),
                             "--broker", f"mqtt://127.0.0.1:{server.broker_url.port}"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=20).startswith("#00:1:*")  # blank main board first
        deadline = time.monotonic() + 10
        while server.current_snapshot()["presence"].get("led-01") != "online":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
            assert kiosk.request("ticket.issue", service="DD")["ok"]
        with DeviceClient(server.broker_url, server.config.id, "quay-03") as q3:
            assert q3.request("counter.sign_in", staff="nv03")["ok"]
            assert q3.request("counter.next")["ok"]
        line = lines.get(timeout=10)
        assert line.startswith("#00:1:2001 -> Quay 3*") and line.endswith("\\r\\n\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
