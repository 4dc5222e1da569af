"""`motcua keypad` and `motcua rating`: the counter's boxes (registered through `motcua.commands`)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from motcua.cli import DEFAULT_BROKER, config_option, load_office_ref, parse_broker_option
from motcua.protocol import DEVICE_ID_RE
from motcua.settings import DEFAULT_CONFIG


def _device_id(ctx: Any, param: Any, value: str) -> str:
    if not DEVICE_ID_RE.match(value):
        raise click.BadParameter("use only letters, digits, '-' and '_'")
    return value


def box_options(func: Any) -> Any:
    func = click.option("--log-level", default="INFO", show_default=True)(func)
    func = click.option("--simulate", is_flag=True, help="No GPIO: gpiozero's mock pins, driven from the keyboard (type a letter, Enter).")(func)
    func = click.option("--pins", "pins_path", type=click.Path(dir_okay=False), default="firmware_config/counter-pins.example.toml",
                        show_default=True, help="The pin map (TOML).")(func)
    func = click.option("--counter", default=None, help="The counter this box is at. Default: its device entry in the office file.")(func)
    func = click.option("--device", required=True, callback=_device_id, help="This box's device id.")(func)
    func = click.option("--broker", default=DEFAULT_BROKER, show_default=True, help="MQTT broker URL, mqtt://user:pass@host:port")(func)
    return config_option(func)


def _setup(config_path: str | None, device: str, counter: str | None, log_level: str, simulate: bool) -> tuple[Any, str, Any]:
    from counter.settings import PinMapError, counter_of

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    office = load_office_ref(config_path)
    try:
        counter = counter or counter_of(Path(config_path) if config_path else DEFAULT_CONFIG, device)
    except PinMapError as exc:
        raise click.ClickException(str(exc)) from None
    factory = None
    if simulate:
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
    return office, counter, factory


def _run(box: Any, watch: Any) -> None:
    """Run until SIGTERM or Ctrl+C; under systemd, say ready and pet the watchdog while the box's threads live."""
    from motcua.systemd import Notifier

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    notifier = Notifier()
    box.start()
    notifier.ready(f"{box.client.device} at counter {box.counter}")
    last = None
    try:
        while not stopping.wait(0.1):
            now = watch()
            if now != last:
                click.echo(f"[{box.client.device}] {now}", err=True)
                last = now
            if box.healthy():
                notifier.pet()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


def _keyboard(factory: Any, keys: dict[str, tuple[str, bool]], hold: float) -> None:
    """--simulate: each typed letter presses its button (upper case: held for the second function)."""

    def read() -> None:
        for line in sys.stdin:
            for ch in line.strip():
                if ch not in keys:
                    continue
                pin, long = keys[ch]
                factory.pin(pin).drive_low()
                time.sleep(hold + 0.1 if long else 0.1)
                factory.pin(pin).drive_high()
                time.sleep(0.1)

    threading.Thread(target=read, name="keyboard", daemon=True).start()


@click.command()
@box_options
def keypad(config_path: str | None, broker: str, device: str, counter: str | None, pins_path: str, simulate: bool, log_level: str) -> None:
    """Run a counter's hardware keypad: next, recall, skip and finish buttons and a status light.

    An official takes the counter on the counter page first; the keypad then calls, recalls,
    skips and finishes there. Hold recall to start service, skip to put the number skipped last
    back in line, finish to pause (or resume).

    Example: motcua keypad --device quay-01 --config /etc/motcua/office.toml --broker mqtt://quay-01:PASSWORD@10.0.0.2
    """
    from counter.keypad import Keypad
    from counter.settings import PinMapError, keypad_pins
    from motcua.client import DeviceClient

    office, counter, factory = _setup(config_path, device, counter, log_level, simulate)
    try:
        pins = keypad_pins(Path(pins_path))
        box = Keypad(DeviceClient(parse_broker_option(broker), office.id, device, office.topic_prefix), counter, pins, pin_factory=factory)
    except (PinMapError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"keypad {device} at counter {counter} ({office.id}); broker {broker}", err=True)
    if simulate:
        click.echo("simulated: type n r s f (next, recall, skip, finish), R S F to hold, then Enter", err=True)
        keys = {"n": (pins.next, False), "r": (pins.recall, False), "s": (pins.skip, False), "f": (pins.finish, False),
                "R": (pins.recall, True), "S": (pins.skip, True), "F": (pins.finish, True)}
        _keyboard(factory, keys, pins.hold)
    _run(box, lambda: f"light: {box.pattern}")


@click.command()
@box_options
def rating(config_path: str | None, broker: str, device: str, counter: str | None, pins_path: str, simulate: bool, log_level: str) -> None:
    """Run a counter's rating box: one button and light per level, lit after each finished ticket.

    Example: motcua rating --device danhgia-01 --config /etc/motcua/office.toml --broker mqtt://danhgia-01:PASSWORD@10.0.0.2
    """
    from counter.rating import RatingBox
    from counter.settings import PinMapError, rating_pins
    from motcua.client import DeviceClient

    office, counter, factory = _setup(config_path, device, counter, log_level, simulate)
    try:
        pins = rating_pins(Path(pins_path))
        box = RatingBox(DeviceClient(parse_broker_option(broker), office.id, device, office.topic_prefix), counter, pins, pin_factory=factory)
    except (PinMapError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    levels = list(pins.levels)
    click.echo(f"rating box {device} at counter {counter} ({office.id}); broker {broker}", err=True)
    if simulate:
        click.echo(f"simulated: type 1-{len(levels)} ({', '.join(levels)}), then Enter", err=True)
        _keyboard(factory, {str(i + 1): (pins.levels[level][0], False) for i, level in enumerate(levels)}, 0)
    _run(box, lambda: "lit: " + (", ".join(sorted(box.lit())) or "none"))
