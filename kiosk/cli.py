"""`motcua kiosk`: run the touchscreen kiosk (entrance or counter-facing) of one office."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kiosk.settings import MODES, load
from motcua.cli import DEFAULT_BROKER, config_option, credentials_option, device_login, load_office_ref, parse_broker_option
from motcua.settings import SettingsError


def _size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or not (200 <= int(width) <= 8000 and 200 <= int(height) <= 8000):
        raise click.BadParameter(f"{value!r}: WIDTHxHEIGHT, e.g. 800x480", param_hint="--window")
    return int(width), int(height)


@click.command()
@config_option
@click.option("--broker", default=DEFAULT_BROKER, show_default=True, help="MQTT broker URL, mqtt://host:port (no password: see --credentials).")
@credentials_option
@click.option("--device", default=None, help="Device id of this kiosk (declared in the office configuration). Default: kiosk.device or kiosk-01.")
@click.option("--mode", type=click.Choice(MODES), default=None, help="entrance (take a number...) or counter (faces the citizen at one counter).")
@click.option("--counter", default=None, help="Counter mode: the counter this screen faces, e.g. Q1.")
@click.option("--server", "server_url", default=None, help="HTTP address of the queue server, e.g. http://10.0.0.2:8080.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None, help="Language of the idle screen (citizens can switch).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the kiosk keeps its pending request and catalogue copy. Default: /var/lib/motcua-kiosk (data/kiosk-DEVICE with --simulate).")
@click.option("--simulate", is_flag=True, envvar="MOTCUA_SIMULATE", help="Fake printer (PNG files) and scanner (typed lines); also MOTCUA_SIMULATE=1.")
@click.option("--print-folder", type=click.Path(file_okay=False, path_type=Path), default=None, help="--simulate: where printed tickets go.")
@click.option("--window", "window", default=None, help="Run in a window of WIDTHxHEIGHT (e.g. 800x480) instead of full screen.")
@click.option("--rotation", type=click.Choice(["0", "90", "180", "270"]), default="0", show_default=True,
              help="Turn the picture for a screen mounted the other way up or in portrait.")
def kiosk(config_path: str | None, broker: str, credentials: str | None, device: str | None, mode: str | None, counter: str | None, server_url: str | None,
          lang: str | None, state_dir: Path | None, simulate: bool, print_folder: Path | None, window: str | None, rotation: str) -> None:
    """Run the touchscreen kiosk: take a number, procedures, dossier status, rating.

    Example: motcua kiosk --device kiosk-01 --server http://127.0.0.1:8080 --simulate --window 800x480
    """
    office = load_office_ref(config_path)
    try:
        settings = load(config_path)
        settings = settings.with_overrides(device=device, mode=mode, counter=counter, server_url=server_url, language=lang)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if state_dir is None and simulate:
        state_dir = Path("data") / f"kiosk-{settings.device}"
    settings = settings.with_overrides(state_dir=state_dir)
    from kiosk.main import run

    try:
        run(settings, office, device_login(parse_broker_option(broker), settings.device, credentials), simulate=simulate, print_folder=print_folder,
            size=_size(window), rotation=int(rotation))
    except PermissionError as exc:
        raise click.ClickException(f"{exc} (use --state-dir, or --simulate on a development machine)") from None


def report(message: str, **params: Any) -> None:
    click.echo(message.format(**params), err=True)
    sys.stderr.flush()
