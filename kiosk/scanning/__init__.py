"""Code scanners (receipt barcodes, ticket QR codes): one module per backend, chosen by name.

    scanner = open_scanner(settings, simulate=args.simulate)
    for code in scanner.codes():       # in a thread; close() ends it
        ...                            # protocol.parse_ticket_qr(code), or GET /api/dossiers/lookup?code=...

Backends: `evdev` (evdev_wedge.py: a keyboard-mode USB scanner read from its input device),
`wedge` (wedge.py: the same scanner typing into the app, which calls feed()), `serial`
(serial_scanner.py), `stdin` (stdin.py: typed lines), `fake` (fake.py: scan("...")).
Codes are yielded as scanned: the kiosk asks the server's API, which refuses garbage clearly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.hardware_table import SettingsError
from kiosk.scanning.base import Scanner, clean
from kiosk.scanning.fake import FakeScanner
from kiosk.scanning.settings import ScannerSettings, ScannerSettingsError
from kiosk.scanning.stdin import StdinScanner
from kiosk.scanning.wedge import KeyboardWedge


def open_scanner(settings: ScannerSettings | Mapping[str, Any] | None, simulate: bool = False) -> Scanner:
    """The scanner the settings describe. With `simulate`, typed lines on stdin, except a serial scanner
    (give a pty as its port). Raises SettingsError with the device and the reason when it cannot be opened."""
    if not isinstance(settings, ScannerSettings):
        settings = ScannerSettings.from_mapping(settings)
    connection = settings.connection
    if simulate and connection != "serial":
        connection = "fake" if connection == "fake" else "stdin"
    if connection == "fake":
        return FakeScanner()
    if connection == "stdin":
        return StdinScanner()
    if connection == "wedge":
        return KeyboardWedge()
    settings.require_connection()
    device = settings.port if connection == "serial" else settings.device
    try:
        if connection == "serial":
            from kiosk.scanning.serial_scanner import SerialScanner

            return SerialScanner(settings.port or "", settings.baudrate)
        from kiosk.scanning.evdev_wedge import EvdevScanner

        return EvdevScanner(settings.device or "", settings.grab)
    except OSError as exc:  # pyserial's SerialException is an OSError too
        raise SettingsError.worded("kiosk_print.scanner.unavailable", device=device, error=exc) from None


__all__ = ["FakeScanner", "KeyboardWedge", "Scanner", "ScannerSettings", "ScannerSettingsError", "StdinScanner",
           "clean", "open_scanner"]
