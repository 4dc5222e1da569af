"""Printers: the ESC/POS bytes (python-escpos Dummy) rendered back to PNG, the serial backend against a pty
that answers DLE EOT like a real printer, the network backend against a loopback port, settings errors."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PIL import ImageChops

from kiosk.printing import BACKENDS, Printer, PrinterError, PrinterSettings, PrinterSettingsError, SimulatedPrinter, open_printer
from kiosk.printing import status as dle
from kiosk.printing.base import escpos_profile, write_ticket
from kiosk.printing.emulator import EscposSink, PtyPrinter, TcpPrinter
from kiosk.printing.raster import decode_job
from kiosk.ticket_image import WIDTH_58MM, render_ticket
from motcua.protocol import DEVICE_STATES
from tests.devices.printing_support import OFFICE, QR_TEXT, TICKET, read_qr

FAULTS = ["paper_low", "no_paper", "cover_open", "offline", "error"]


@pytest.fixture(scope="module")
def ticket():
    return render_ticket(TICKET, OFFICE, QR_TEXT)


def same_picture(a, b) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_the_escpos_bytes_of_a_ticket_render_back_to_the_same_picture_and_its_qr(tmp_path, ticket):
    printer = Dummy()
    escpos_profile(printer, 576)
    write_ticket(printer, ticket, PrinterSettings())
    data = printer.output
    assert data.startswith(b"\x1b@")  # reset first: whatever the last job left set
    header = data.index(b"\x1dv0")
    assert data[header + 4:header + 6] == bytes([72, 0])  # 576 dots = 72 bytes a row
    job = decode_job(data)
    assert job.cut and same_picture(job.image, ticket)
    job.image.save(tmp_path / "printed.png")
    assert read_qr(tmp_path / "printed.png") == [QR_TEXT]


@pytest.mark.parametrize(("cut", "expected"), [("full", b"\x1dV\x00"), ("partial", b"\x1dV\x01"), ("none", None)])
def test_the_cut_follows_the_settings(ticket, cut, expected):
    printer = Dummy()
    write_ticket(printer, ticket, PrinterSettings(cut=cut))
    if expected is None:
        assert not decode_job(printer.output).cut
    else:
        assert printer.output.endswith(expected)


def test_simulate_writes_each_ticket_as_escpos_bytes_and_the_png_they_print(tmp_path, ticket):
    printer = open_printer({}, simulate=True, folder=tmp_path / "printed")
    assert isinstance(printer, SimulatedPrinter) and isinstance(printer, Printer)
    printer.print_ticket(ticket)
    printer.print_ticket(ticket)
    names = sorted(p.name for p in (tmp_path / "printed").iterdir())
    assert names == ["ticket-0001.bin", "ticket-0001.png", "ticket-0002.bin", "ticket-0002.png"]
    assert (tmp_path / "printed" / "ticket-0001.bin").read_bytes() == printer.jobs[0]
    assert read_qr(tmp_path / "printed" / "ticket-0002.png") == [QR_TEXT]
    again = open_printer({}, simulate=True, folder=tmp_path / "printed")  # the kiosk restarted
    again.print_ticket(ticket)
    assert (tmp_path / "printed" / "ticket-0003.png").exists()


def test_a_simulated_fault_refuses_the_ticket_and_writes_nothing(tmp_path, ticket):
    printer = SimulatedPrinter(PrinterSettings(), tmp_path)
    printer.set_state("no_paper")
    with pytest.raises(PrinterError) as raised:
        printer.print_ticket(ticket)
    assert raised.value.state == "no_paper" and printer.status() == "no_paper"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        printer.set_state("on fire")


def test_an_image_wider_than_the_paper_is_refused(ticket):
    printer = SimulatedPrinter(PrinterSettings(paper_mm=58))
    with pytest.raises(ValueError, match="384"):
        printer.print_ticket(ticket)
    printer.print_ticket(render_ticket(TICKET, OFFICE, QR_TEXT, WIDTH_58MM))
    assert decode_job(printer.jobs[0]).image.width == WIDTH_58MM


# -- serial, against a pty answering DLE EOT

@pytest.fixture
def pty_printer():
    with PtyPrinter() as emulator:
        yield emulator


def serial(emulator, **settings) -> Printer:
    return open_printer({"connection": "serial", "port": emulator.path, "baudrate": 115200, "status_timeout": 0.2, **settings})


@pytest.mark.parametrize("state", ["ok", *FAULTS])
def test_the_serial_printer_reports_what_the_printer_answers(pty_printer, state):
    pty_printer.state = state
    printer = serial(pty_printer)
    try:
        assert printer.status() == state
        assert set(pty_printer.queries) == set(dle.QUERIES)
    finally:
        printer.close()


def test_the_serial_printer_prints_the_ticket_and_cuts(pty_printer, ticket, tmp_path):
    printer = serial(pty_printer)
    try:
        printer.print_ticket(ticket)
    finally:
        printer.close()
    assert pty_printer.wait_for(b"\x1dV\x00")
    job = decode_job(bytes(pty_printer.received))
    assert job.cut and same_picture(job.image, ticket)
    job.image.save(tmp_path / "serial.png")
    assert read_qr(tmp_path / "serial.png") == [QR_TEXT]


@pytest.mark.parametrize("state", ["no_paper", "cover_open", "offline", "error"])
def test_a_printer_fault_refuses_the_ticket_before_sending_it(pty_printer, ticket, state):
    pty_printer.state = state
    printer = serial(pty_printer)
    try:
        with pytest.raises(PrinterError) as raised:
            printer.print_ticket(ticket)
    finally:
        printer.close()
    assert raised.value.state == state
    assert decode_job(bytes(pty_printer.received)).image is None  # not a dot went to the paper


def test_paper_low_still_prints(pty_printer, ticket):
    pty_printer.state = "paper_low"
    printer = serial(pty_printer)
    try:
        printer.print_ticket(ticket)
        assert printer.status() == "paper_low"
    finally:
        printer.close()
    assert pty_printer.wait_for(b"\x1dV\x00")
    assert decode_job(bytes(pty_printer.received)).cut


def test_a_printer_that_never_answers_is_unknown_and_still_prints(ticket):
    with PtyPrinter(answers=False) as emulator:
        printer = serial(emulator)
        try:
            assert printer.status() == "unknown"
            printer.print_ticket(ticket)  # one-way link: print and hope, the kiosk shows the number too
        finally:
            printer.close()
        assert emulator.wait_for(b"\x1dV\x00")
        assert decode_job(bytes(emulator.received)).cut


def test_with_status_query_a_silent_printer_is_offline(ticket):
    with PtyPrinter(answers=False) as emulator:
        printer = serial(emulator, status="query")
        try:
            assert printer.status() == "offline"
            with pytest.raises(PrinterError) as raised:
                printer.print_ticket(ticket)
            assert raised.value.state == "offline"
        finally:
            printer.close()


def test_a_printer_that_answered_and_then_went_silent_is_offline(pty_printer):
    printer = serial(pty_printer)
    try:
        assert printer.status() == "ok"
        pty_printer.answers = False  # switched off, or the cable pulled at the printer's end
        assert printer.status() == "offline"
        pty_printer.answers = True
        assert printer.status() == "ok"  # back by itself
    finally:
        printer.close()


def test_status_none_never_asks(pty_printer):
    printer = serial(pty_printer, status="none")
    try:
        assert printer.status() == "unknown"
    finally:
        printer.close()
    assert pty_printer.queries == []


def test_a_missing_serial_port_is_offline_with_the_reason(ticket, tmp_path):
    printer = open_printer({"connection": "serial", "port": str(tmp_path / "ttyUSB9")})
    assert printer.status() == "offline"
    with pytest.raises(PrinterError) as raised:
        printer.print_ticket(ticket)
    assert raised.value.state == "offline" and "ttyUSB9" in (raised.value.detail or "")


def test_status_queries_inside_image_data_are_not_answered():
    sink = EscposSink()
    image_bytes = b"\x10\x04\x01" * 2  # a raster row that happens to look like DLE EOT 1
    replies = sink.feed(b"\x1dv0\x00\x02\x00\x03\x00" + image_bytes + b"\x10\x04\x04")
    assert replies == bytes([dle.reply_for("ok", dle.PAPER)]) and sink.queries == [dle.PAPER]


def test_status_bytes_decode_to_device_states():
    for state in ["ok", *FAULTS]:
        assert dle.decode({n: dle.reply_for(state, n) for n in dle.QUERIES}) == state
    assert dle.decode({1: None, 2: None, 4: None}) is None
    assert dle.decode({1: 0xFF, 2: 0x00, 4: 0x41}) is None  # noise is not a status byte
    assert set(FAULTS) | {"ok", "unknown"} <= set(DEVICE_STATES)


# -- network, against a loopback port answering DLE EOT

def test_the_network_printer_prints_and_reports_the_cover(ticket):
    with TcpPrinter() as emulator:
        printer = open_printer({"connection": "network", "host": emulator.host, "tcp_port": emulator.port, "status_timeout": 0.2})
        try:
            printer.print_ticket(ticket)
            assert emulator.wait_for(b"\x1dV\x00")
            emulator.state = "cover_open"
            assert printer.status() == "cover_open"
        finally:
            printer.close()
        assert same_picture(decode_job(bytes(emulator.received)).image, ticket)
    printer = open_printer({"connection": "network", "host": emulator.host, "tcp_port": emulator.port, "timeout": 1})
    assert printer.status() == "offline"  # nothing listens any more


def test_a_usb_printer_that_is_not_plugged_in_is_offline(ticket):
    printer = open_printer({"connection": "usb", "vendor_id": "0x04b8", "product_id": 0x0202})
    assert printer.status() == "offline"
    with pytest.raises(PrinterError) as raised:
        printer.print_ticket(ticket)
    assert raised.value.state == "offline"


# -- settings

@pytest.mark.parametrize(("table", "named"), [
    ({"conection": "usb"}, "conection"),
    ({"connection": "parallel"}, "connection"),
    ({"connection": "serial", "baudrate": 12345}, "baudrate"),
    ({"paper_mm": 57}, "paper_mm"),
    ({"vendor_id": "epson"}, "vendor_id"),
    ({"model": "TM-NOPE"}, "model"),
    ({"status_timeout": "fast"}, "status_timeout"),
])
def test_a_wrong_setting_is_refused_with_its_name_in_both_languages(table, named):
    with pytest.raises(PrinterSettingsError) as raised:
        PrinterSettings.from_mapping(table)
    assert "[printer]" in raised.value.message and named in raised.value.message and named in raised.value.message_en


@pytest.mark.parametrize(("table", "missing"), [({"connection": "serial"}, "port"), ({"connection": "usb", "vendor_id": 1}, "product_id"),
                                                ({"connection": "network"}, "host"), ({}, "connection")])
def test_a_connection_without_its_keys_is_refused_when_opened(table, missing):
    with pytest.raises(PrinterSettingsError, match=missing):
        open_printer(table)
    assert isinstance(open_printer(table, simulate=True), SimulatedPrinter)  # --simulate needs none of them


def test_settings_read_usb_ids_paper_widths_and_models():
    settings = PrinterSettings.from_mapping({"connection": "usb", "vendor_id": "0x04b8", "product_id": "0202",
                                             "paper_mm": 58, "model": "TM-T20II"})
    assert (settings.vendor_id, settings.product_id, settings.dots) == (0x04B8, 0x0202, 384)
    assert PrinterSettings(width_dots=512).dots == 512 and PrinterSettings().dots == 576
    assert set(BACKENDS) == {"usb", "serial", "network", "simulated"}


def test_the_example_hardware_configuration_is_valid():
    import tomllib
    from pathlib import Path

    from kiosk.scanning import ScannerSettings

    example = tomllib.loads((Path(__file__).resolve().parents[2] / "firmware_config" / "kiosk-hardware.example.toml").read_text())
    printer = PrinterSettings.from_mapping(example["printer"])
    printer.require_connection()
    assert printer.connection == "usb" and printer.vendor_id == 0x04B8 and printer.dots == 576
    assert ScannerSettings.from_mapping(example["scanner"]).connection == "evdev"


def test_printer_faults_reach_the_server_as_device_status(start_server, pty_printer, ticket):
    """What the kiosk does: read the printer, report it with device.status, and the server keeps it."""
    import sqlite3

    from kiosk.printing import status_fields
    from motcua.client import DeviceClient

    server = start_server()
    printer = serial(pty_printer)
    try:
        with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as client:
            pty_printer.state = "cover_open"
            with pytest.raises(PrinterError) as raised:
                printer.print_ticket(ticket)
            assert client.request("device.status", **raised.value.status_fields())["ok"] is True
            pty_printer.state = "paper_low"
            assert client.request("device.status", **status_fields(printer.status(), "x" * 500))["ok"] is True
    finally:
        printer.close()
    with sqlite3.connect(server.db_path) as db:
        rows = db.execute("SELECT device, component, state, length(detail) FROM device_status").fetchall()
    assert rows == [("kiosk-01", "printer", "paper_low", 200)]


def test_every_printer_state_has_words_for_the_kiosk_screen():
    from motcua import i18n

    for lang in i18n.LANGUAGES:
        catalog = i18n.catalog(lang)
        for state in DEVICE_STATES:
            assert f"kiosk_print.state.{state}" in catalog, (lang, state)
            if state != "ok":
                assert f"kiosk_print.advice.{state}" in catalog, (lang, state)
