"""The waiting-room commands: voice, announce, voice-clips, led (registered through `motcua.commands`)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Any

import click

from motcua.cli import DEFAULT_BROKER, config_option, load_office_ref, parse_broker_option
from motcua.protocol import DEVICE_ID_RE

broker_option = click.option("--broker", default=DEFAULT_BROKER, show_default=True, help="MQTT broker URL, mqtt://user:pass@host:port")
log_option = click.option("--log-level", default="INFO", show_default=True)


def _device_id(ctx: Any, param: Any, value: str | None) -> str | None:
    if value is not None and not DEVICE_ID_RE.match(value):
        raise click.BadParameter("use only letters, digits, '-' and '_'")
    return value


def _voice_settings(config_path: str | None, device: str | None, **overrides: Any) -> Any:
    from dataclasses import replace

    from display.voice.settings import VoiceSettingsError, load_voice_settings

    try:
        settings = load_voice_settings(config_path, device)
    except VoiceSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _run_until_signal(box: Any) -> None:
    """Start a device and run it until SIGTERM or Ctrl+C, even while it still waits for the broker."""
    signal.signal(signal.SIGTERM, lambda *_: box.stopping.set())
    try:
        if box.start():
            while not box.stopping.wait(1.0):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


@click.command()
@config_option
@broker_option
@click.option("--device", required=True, callback=_device_id, help="This voice box's device id (role voice), e.g. loa-01.")
@click.option("--output", default=None, help="speaker, or wav:DIRECTORY (one WAV per announcement). Default: [voice] output.")
@click.option("--voice", "voice_name", type=click.Choice(["auto", "clips", "espeak", "pyttsx3"]), default=None, help="Default: [voice] voice.")
@click.option("--clips", type=click.Path(file_okay=False), default=None, help="Clip directory. Default: [voice] clips.")
@click.option("--counters", default=None, help="Announce only these counters, e.g. Q1,Q2. Default: [voice] counters (all).")
@click.option("--simulate", is_flag=True, help="No sound: log each announcement instead of playing it.")
@log_option
def voice(config_path: str | None, broker: str, device: str, output: str | None, voice_name: str | None, clips: str | None,
          counters: str | None, simulate: bool, log_level: str) -> None:
    """Announce every call of the office: a chime, then the sentence, in order, one at a time.

    Example: motcua voice --device loa-01 --config office.toml --broker mqtt://loa-01:PASSWORD@10.0.0.2
    """
    from display.voice.device import VoiceDevice
    from display.voice.sinks import SinkError, make_sink
    from display.voice.voices import make_voices

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    office = load_office_ref(config_path)
    settings = _voice_settings(config_path, device, output=output, voice=voice_name, clips=Path(clips) if clips else None,
                               counters=tuple(c.strip() for c in counters.split(",") if c.strip()) if counters else None)
    try:
        sink = make_sink("null" if simulate else settings.output, settings.player)
        voices = make_voices(settings)
    except (SinkError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    box = VoiceDevice(office, parse_broker_option(broker), device, settings, voices, sink)
    served = ", ".join(settings.counters) or "every counter"
    click.echo(f"motcua voice {device}: {served}; voice {voices.preferred.name if voices.preferred else voices.fallback.name}"
               f" (fallback {voices.fallback.name}); output {sink.description}", err=True)
    _run_until_signal(box)


@click.command()
@config_option
@click.option("--ticket", "number", required=True, help="Ticket number as printed, e.g. 1023 or C015.")
@click.option("--counter", required=True, help="Counter id, e.g. Q3.")
@click.option("--recall", is_flag=True, help="The recall sentence.")
@click.option("--device", default=None, callback=_device_id, help="Use this voice box's [voice.devices.ID] settings.")
@click.option("--dry-run", is_flag=True, help="Print the exact sentence; say nothing.")
@click.option("--wav", type=click.Path(dir_okay=False), default=None, help="Write the announcement to this WAV file instead of playing it.")
@click.option("--voice", "voice_name", type=click.Choice(["auto", "clips", "espeak", "pyttsx3"]), default=None)
def announce(config_path: str | None, number: str, counter: str, recall: bool, device: str | None, dry_run: bool,
             wav: str | None, voice_name: str | None) -> None:
    """Say one call as the voice box would (or print its sentence), without a server.

    Example: motcua announce --ticket 1023 --counter Q3 --dry-run
    """
    from display.payloads import Call
    from display.voice.caller import Announcer
    from display.voice.sinks import FileSink, NullSink, SinkError, make_sink
    from display.voice.voices import VoiceError, make_voices

    settings = _voice_settings(config_path, device, voice=voice_name)
    names = settings.counter_names
    if names and counter not in names:
        raise click.BadParameter(f"unknown counter {counter!r} (known: {', '.join(names)})", param_hint="--counter")
    call = Call(number=number.strip(), counter=counter, counter_name=names[counter].name if counter in names else counter, recall=recall)
    try:
        voices = make_voices(settings)
        if dry_run:
            click.echo(Announcer(settings, voices, NullSink()).sentence(call).text)
            return
        sink = FileSink(wav) if wav else make_sink(settings.output, settings.player)
        done = Announcer(settings, voices, sink).announce(call)
    except (SinkError, VoiceError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{done.sentence.text}\n({done.voice}, {sink.description})", err=True)


@click.group("voice-clips")
def voice_clips() -> None:
    """The recorded clips of the voice: what to record, a demo set, a check."""


@voice_clips.command("list")
@config_option
def clips_list(config_path: str | None) -> None:
    """Print every clip the office's voice needs: the text to say and its file name."""
    from display.voice.phrases import clip_list

    for text, name in clip_list(_voice_settings(config_path, None)):
        click.echo(f"{name}\t{text}")


@voice_clips.command("demo")
@config_option
@click.argument("directory", type=click.Path(file_okay=False))
def clips_demo(config_path: str | None, directory: str) -> None:
    """Make the DEMO clip set with espeak-ng in DIRECTORY (a stand-in until the office records its own)."""
    from display.voice.phrases import make_demo_clips

    try:
        written = make_demo_clips(directory, _voice_settings(config_path, None))
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(written)} demo clips (espeak-ng, not a recorded voice) in {directory}")


@voice_clips.command("check")
@config_option
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
def clips_check(config_path: str | None, directory: str) -> None:
    """Check a clip directory: every clip present, mono 16-bit PCM, one sample rate."""
    from display.voice.audio import AudioFormatError
    from display.voice.clips import ClipVoice
    from display.voice.phrases import clip_list

    voice = ClipVoice(directory)
    missing, problems, rates = [], [], set()
    for text, name in clip_list(_voice_settings(config_path, None)):
        path = voice.path_for(text)
        if path is None or not path.exists():
            missing.append(f"{name}\t{text}")
            continue
        try:
            rates.add(voice.clip(path).rate)
        except AudioFormatError as exc:
            problems.append(str(exc))
    for line in missing:
        click.echo(f"missing: {line}")
    for line in problems:
        click.echo(f"bad: {line}")
    if voice.demo:
        click.echo("note: this is the DEMO set made with espeak-ng (clips.toml: demo = true)")
    if missing or problems:
        raise click.ClickException(f"{len(missing)} missing, {len(problems)} unusable; those sentences fall back to espeak-ng")
    click.echo(f"ok: every clip present, {', '.join(f'{r} Hz' for r in sorted(rates))}")


def _options(values: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use key=value", param_hint="--set")
        options[key.strip()] = value
    return options


@click.command()
@config_option
@broker_option
@click.option("--device", required=True, callback=_device_id, help="This board's device id (role display), e.g. led-q1.")
@click.option("--port", default=None, help="Serial port, e.g. /dev/ttyUSB0 or /dev/serial/by-id/... (not needed with --simulate).")
@click.option("--protocol", "protocol_name", default="line", show_default=True, help="Frame encoder: line, alpha, or an installed one.")
@click.option("--counter", default=None, help="A counter board showing this counter's number; without it, a main board.")
@click.option("--lines", default=6, show_default=True, help="Main board: at most this many calls.")
@click.option("--baud", default=9600, show_default=True)
@click.option("--set", "settings", multiple=True, help="Protocol option key=value (repeatable), e.g. --set address=01.")
@click.option("--width", default=0, help="Cut each line to this many characters (0: the board's own handling).")
@click.option("--idle-text", default="", help="Counter board: what to show without a ticket (default blank).")
@click.option("--format", "line_format", default="{number} → {counter_name}", show_default=True, help="Main board line.")
@click.option("--refresh", default=30.0, show_default=True, help="Re-send the frame every this many seconds.")
@click.option("--simulate", is_flag=True, help="Print the frames instead of writing a serial port.")
@log_option
def led(config_path: str | None, broker: str, device: str, port: str | None, protocol_name: str, counter: str | None, lines: int,
        baud: int, settings: tuple[str, ...], width: int, idle_text: str, line_format: str, refresh: float, simulate: bool,
        log_level: str) -> None:
    """Drive an LED board over a serial line: the number over a counter, or the main board's latest calls.

    Example: motcua led --device led-q3 --port /dev/ttyUSB0 --protocol alpha --counter Q3
    """
    from display.led.boards import CounterBoard, MainBoard
    from display.led.device import LedDevice
    from display.led.link import PrintLink, SerialLink
    from display.led.protocols import LedProtocolError, make_encoder

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    office = load_office_ref(config_path)
    if not simulate and not port:
        raise click.UsageError("--port is required (or --simulate)")
    try:
        encoder = make_encoder(protocol_name, _options(settings))
    except LedProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="--protocol/--set") from None
    try:
        line_format.format(number="1", counter_name="Q")
    except (KeyError, IndexError, ValueError) as exc:
        raise click.BadParameter(f"{line_format!r}: use {{number}} and {{counter_name}} ({exc})", param_hint="--format") from None
    board = CounterBoard(counter, idle_text) if counter else MainBoard(max_lines=lines, line_format=line_format)
    link = PrintLink() if simulate else SerialLink(port, baud, refresh_seconds=refresh)
    box = LedDevice(office, parse_broker_option(broker), device, board, encoder, link, width)  # type: ignore[arg-type]
    kind = f"counter board of {counter}" if counter else "main board"
    click.echo(f"motcua led {device}: {kind}, protocol {protocol_name}, {'simulated' if simulate else port}", err=True)
    _run_until_signal(box)
