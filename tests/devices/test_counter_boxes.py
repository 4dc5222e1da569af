"""The keypad and the rating box with gpiozero's mock pins against a real server and broker (the embedded
one, and Debian's Mosquitto with per-device passwords for the outage): presses act through the
contract, bounces are one press, holds are the second function, the lights follow the retained
state, a broker outage shows and heals by itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from counter.keypad import Keypad
from counter.light import CLOSED, OFFLINE, READY, SERVING
from counter.rating import RatingBox
from counter.settings import DEFAULT_PINS, PinMapError, counter_of, keypad_pins, rating_pins
from motcua.client import DeviceClient
from motcua.clock import FakeClock
from tests.conftest import EXAMPLE_CONFIG, ROOT

PINS = keypad_pins(ROOT / DEFAULT_PINS)
QUICK = replace(PINS, hold=0.3)  # a hold of 0.3 s keeps the tests short; the debounce stays the real 30 ms


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        done.wait(0.02)
    assert condition(), "condition not met in time"


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def press(factory: MockFactory, pin: str, seconds: float = 0.08) -> None:
    """A finger on the button for `seconds` (the debounce needs 30 ms of it), then off it as long: a
    release shorter than the debounce time is a bounce, and two presses would be one."""
    factory.pin(pin).drive_low()
    threading.Event().wait(seconds)
    factory.pin(pin).drive_high()
    threading.Event().wait(0.06)


def bounce(factory: MockFactory, pin: str, times: int = 6) -> None:
    """A switch's chatter: contact made and lost several times within microseconds."""
    for _ in range(times):
        factory.pin(pin).drive_low()
        factory.pin(pin).drive_high()


def console(server) -> DeviceClient:
    return DeviceClient(server.broker_url, server.config.id, "console")  # connects in `with`


def counter_state(server, counter: str = "Q1") -> dict:
    return next(c for c in server.current_snapshot()["counters"] if c["counter"] == counter)


def logged(server, *types: str) -> list:
    return [e for e in server.store.events_after(0, 10_000) if e.type in types]


def keypad_for(server, factory, pins=QUICK, device: str = "quay-01", broker=None) -> Keypad:
    client = DeviceClient(broker or server.broker_url, server.config.id, device)
    return Keypad(client, "Q1", pins, pin_factory=factory).start()


def led_on(factory, pin: str) -> bool:
    return bool(factory.pin(pin).state)


def test_the_pin_map_and_the_office_file_tell_a_box_what_it_is(tmp_path):
    assert (PINS.next, PINS.finish, PINS.status_led, PINS.debounce, PINS.hold) == ("GPIO17", "GPIO23", "GPIO24", 0.03, 1.5)
    levels = rating_pins(ROOT / DEFAULT_PINS).levels
    assert list(levels) == ["very_satisfied", "satisfied", "unsatisfied"]
    assert counter_of(EXAMPLE_CONFIG, "danhgia-01") == "Q1"
    bad = tmp_path / "pins.toml"
    bad.write_text('[keypad]\nnext = "GPIO17"\nrecall = "GPIO17"\nskip = 22\nfinish = 23\nstatus_led = 24\n')
    with pytest.raises(PinMapError, match="pin GPIO17 is used twice"):
        keypad_pins(bad)
    bad.write_text('[rating]\ngreat = { button = 5, led = 6 }\nsatisfied = { button = 13, led = 19 }\n')
    with pytest.raises(PinMapError, match="great: not a level of the scale"):
        rating_pins(bad)
    with pytest.raises(PinMapError, match="no device quay-99"):
        counter_of(EXAMPLE_CONFIG, "quay-99")


def test_the_keypad_calls_serves_and_finishes_and_its_light_follows(start_server, factory):
    server = start_server()
    keypad = keypad_for(server, factory)
    try:
        wait_until(lambda: keypad.pattern == CLOSED)  # nobody has taken the counter yet
        press(factory, PINS.next)
        assert keypad.wait_results(1)[-1] == ("next", "counter_closed")  # refused by the server, and said so
        with console(server) as admin:
            assert admin.request("counter.sign_in", counter="Q1", staff="nv01")["ok"]
            wait_until(lambda: keypad.pattern == READY)
            numbers = [admin.request("ticket.issue", service="HT")["ticket"]["number"] for _ in range(3)]
        press(factory, PINS.next)
        assert keypad.wait_results(2)[-1] == ("next", "ok")
        wait_until(lambda: keypad.pattern == SERVING and led_on(factory, PINS.status_led))  # steady while serving
        assert counter_state(server)["ticket"] == numbers[0]
        press(factory, PINS.recall)  # a tap: call again
        assert keypad.wait_results(3)[-1] == ("recall", "ok")
        press(factory, PINS.recall, seconds=0.45)  # a hold: start service
        assert keypad.wait_results(4)[-1] == ("start", "ok")
        wait_until(lambda: counter_state(server)["ticket_status"] == "serving")
        press(factory, PINS.finish)
        assert keypad.wait_results(5)[-1] == ("finish", "ok")
        wait_until(lambda: keypad.pattern == READY)
        assert counter_state(server)["served_today"] == 1
        assert [e.data["staff"] for e in logged(server, "TicketCalled", "ServiceStarted", "TicketFinished")] == ["nv01"] * 4
    finally:
        keypad.stop()


def test_a_bouncing_button_calls_once(start_server, factory):
    server = start_server()
    keypad = keypad_for(server, factory)
    try:
        with console(server) as admin:
            admin.request("counter.sign_in", counter="Q1", staff="nv01")
            for _ in range(3):
                admin.request("ticket.issue", service="HT")
        wait_until(lambda: keypad.pattern == READY)
        bounce(factory, PINS.next)  # chatter, then the contact holds
        factory.pin(PINS.next).drive_low()
        assert keypad.wait_results(1) == [("next", "ok")]
        threading.Event().wait(0.2)
        bounce(factory, PINS.next)  # the release chatters too
        factory.pin(PINS.next).drive_high()
        threading.Event().wait(0.3)  # nothing more may come: the one place a test must wait for an absence
        assert keypad.results == [("next", "ok")]
        assert len(logged(server, "TicketCalled")) == 1
    finally:
        keypad.stop()


def test_holds_skip_then_requeue_and_pause_then_resume(start_server, factory):
    server = start_server()
    keypad = keypad_for(server, factory)
    try:
        with console(server) as admin:
            admin.request("counter.sign_in", counter="Q1", staff="nv01")
            number = admin.request("ticket.issue", service="HT")["ticket"]["number"]
            admin.request("ticket.issue", service="HT")
        wait_until(lambda: keypad.pattern == READY)
        press(factory, PINS.next)
        press(factory, PINS.recall)
        press(factory, PINS.skip)  # the second call made the no-show allowed
        assert [r for r in keypad.wait_results(3)] == [("next", "ok"), ("recall", "ok"), ("skip", "ok")]
        press(factory, PINS.skip, seconds=0.45)  # the citizen came back: hold skip
        assert keypad.wait_results(4)[-1] == ("requeue", "ok")
        assert logged(server, "TicketRequeued")[-1].data["ticket_id"].endswith(number)
        press(factory, PINS.next)
        assert keypad.wait_results(5)[-1] == ("next", "ok")
        press(factory, PINS.finish, seconds=0.45)  # hold finish: finish the ticket, then pause
        assert keypad.wait_results(6)[-1] == ("pause_or_resume", "ok")
        wait_until(lambda: counter_state(server)["status"] == "paused" and keypad.pattern == CLOSED)
        assert counter_state(server)["paused_reason"] == "Tạm dừng từ bàn phím"
        assert counter_state(server)["served_today"] == 1
        press(factory, PINS.finish, seconds=0.45)
        assert keypad.wait_results(7)[-1] == ("pause_or_resume", "ok"), keypad.results
        wait_until(lambda: keypad.pattern == READY)
    finally:
        keypad.stop()


def test_a_refused_press_flashes_the_error_pattern(start_server, factory):
    server = start_server()
    keypad = keypad_for(server, factory)
    try:
        with console(server) as admin:
            admin.request("counter.sign_in", counter="Q1", staff="nv01")
        wait_until(lambda: keypad.pattern == READY)
        before = len(factory.pin(PINS.status_led).states)
        press(factory, PINS.next)  # nobody waits
        assert keypad.wait_results(1) == [("next", "no_ticket_waiting")]
        assert keypad.light.flashing
        wait_until(lambda: len(factory.pin(PINS.status_led).states) >= before + 6)  # three flashes: on/off x3
        wait_until(lambda: not keypad.light.flashing)  # then the ready pattern again
    finally:
        keypad.stop()


def test_the_keypad_shows_a_broker_outage_and_is_right_again_after_it(start_server, factory, mosquitto):
    broker = mosquitto  # Debian's Mosquitto with the office's generated passwords and ACL (tests/conftest.py)
    server = start_server(broker=broker.server_url())
    keypad = keypad_for(server, factory, broker=broker.url("quay-01"))
    try:
        with DeviceClient(broker.url("console"), server.config.id, "console") as admin:
            admin.request("counter.sign_in", counter="Q1", staff="nv01")
            admin.request("ticket.issue", service="HT")
            admin.request("ticket.issue", service="HT")
        press(factory, PINS.next)
        assert keypad.wait_results(1) == [("next", "ok")]
        wait_until(lambda: keypad.pattern == SERVING)
        broker.stop()
        wait_until(lambda: keypad.pattern == OFFLINE)
        press(factory, PINS.finish)  # while the broker is gone: nothing is sent, the light says so
        assert keypad.wait_results(2)[-1] == ("finish", "offline")
        broker.start()  # same port; Mosquitto kept nothing: the server publishes its retained state again
        wait_until(lambda: keypad.pattern == SERVING, timeout=30)
        press(factory, PINS.finish)
        assert keypad.wait_results(3)[-1] == ("finish", "ok")
        wait_until(lambda: keypad.pattern == READY)
        assert counter_state(server)["served_today"] == 1
    finally:
        keypad.stop()


def test_the_rating_box_lights_after_a_finish_and_votes_once_for_that_ticket(start_server, factory):
    clock = FakeClock()
    server = start_server(clock=clock)
    pins = rating_pins(ROOT / DEFAULT_PINS)
    client = DeviceClient(server.broker_url, server.config.id, "danhgia-01")
    box = RatingBox(client, "Q1", pins, pin_factory=factory, wall_clock=lambda: clock.now().timestamp())
    box.thanks_seconds = 0.3
    box.start()
    led = {level: pin for level, (_, pin) in pins.levels.items()}
    button = {level: pin for level, (pin, _) in pins.levels.items()}
    try:
        with console(server) as admin:
            admin.request("counter.sign_in", counter="Q1", staff="nv01")
            for _ in range(3):
                admin.request("ticket.issue", service="HT")
            first = admin.request("counter.next", counter="Q1")["ticket"]["number"]
            wait_until(lambda: box.connected)
            assert box.lit() == set()  # nothing finished yet: the box stays dark
            press(factory, button["satisfied"])  # a press on a dark box does nothing
            assert admin.request("counter.finish", counter="Q1")["ok"]
            wait_until(lambda: box.lit() == set(led))  # every level lit: please rate
            assert all(led_on(factory, pin) for pin in led.values())
            press(factory, button["satisfied"])
            assert box.wait_results(1) == [("satisfied", "ok")]
            assert box.lit() == {"satisfied"}  # thank you
            wait_until(lambda: box.lit() == set())
            press(factory, button["unsatisfied"])  # a second vote for the same ticket is not even sent
            vote = logged(server, "VoteSubmitted")
            assert len(vote) == 1 and vote[0].data["ticket_id"].endswith(first) and vote[0].data["level"] == "satisfied"
            assert (vote[0].data["staff"], vote[0].data["via"]) == ("nv01", "counter")
            # The next citizen leaves without rating: the lights go out when the office's time is over.
            admin.request("counter.next", counter="Q1")
            admin.request("counter.finish", counter="Q1")
            wait_until(lambda: box.lit() == set(led))
            clock.advance(server.config.counter_vote_minutes * 60 + 1)
            box.refresh()
            assert box.lit() == set()
            press(factory, button["very_satisfied"])
            assert len(logged(server, "VoteSubmitted")) == 1
    finally:
        box.stop()


def test_the_keypad_command_runs_simulated_from_the_keyboard_and_tells_systemd(start_server, tmp_path):
    server = start_server()
    with console(server) as admin:
        admin.request("counter.sign_in", counter="Q1", staff="nv01")
        number = admin.request("ticket.issue", service="HT")["ticket"]["number"]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # what systemd listens on for Type=notify
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua", "keypad", "--device", "quay-01", "--simulate", "--config", str(EXAMPLE_CONFIG),
         "--broker", f"mqtt://127.0.0.1:{server.broker_url.port}", "--log-level", "WARNING"],
        cwd=ROOT, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="400000"),
    )
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(line) for line in proc.stderr], daemon=True).start()
    try:
        wait_until(lambda: any("light: ready" in line for line in lines))
        proc.stdin.write("n\n")
        proc.stdin.flush()
        wait_until(lambda: counter_state(server)["ticket"] == number)
        wait_until(lambda: any("light: serving" in line for line in lines))
        said = [notify.recv(512).decode() for _ in range(3)]
        assert said[0].startswith("READY=1") and "quay-01 at counter Q1" in said[0]
        assert said[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
    finally:
        proc.terminate()
        proc.wait(10)
        notify.close()
    assert any(line.startswith("keypad quay-01 at counter Q1") for line in lines)


def test_a_pin_map_error_is_explained(tmp_path):
    bad = tmp_path / "pins.toml"
    bad.write_text("[keypad]\nnext = true\n")
    result = subprocess.run([sys.executable, "-m", "motcua", "keypad", "--device", "quay-01", "--simulate", "--pins", str(bad),
                             "--config", str(EXAMPLE_CONFIG)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1 and "keypad.next: give a pin such as" in result.stderr and "Traceback" not in result.stderr

