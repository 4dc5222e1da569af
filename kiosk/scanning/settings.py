"""The `[scanner]` table of a kiosk's configuration.

    [scanner]
    connection = "evdev"                                   # evdev | wedge | serial | stdin
    device = "/dev/input/by-id/usb-XYZ_Scanner-event-kbd"  # evdev
    # port = "/dev/ttyACM0"                                # serial
    # baudrate = 9600
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.hardware_table import SettingsError, boolean, choice, read_table, require, text

CONNECTIONS = ("evdev", "wedge", "serial", "stdin", "fake")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
TABLE = "scanner"
REQUIRED = {"evdev": ("device",), "serial": ("port",)}
CHECKS = {"connection": choice(*CONNECTIONS), "device": text(), "grab": boolean(), "port": text(), "baudrate": choice(*BAUDRATES)}


@dataclass(frozen=True)
class ScannerSettings:
    connection: str = "wedge"  # a keyboard-mode scanner typing into the app: works with no setup
    device: str | None = None
    grab: bool = True
    port: str | None = None
    baudrate: int = 9600

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any] | None) -> ScannerSettings:
        return read_table(cls, TABLE, table, CHECKS)

    def require_connection(self) -> None:
        require(TABLE, self.connection, self, REQUIRED.get(self.connection, ()))


ScannerSettingsError = SettingsError
