"""The `[printer]` table of a kiosk's configuration, checked key by key with a message naming the key.

    [printer]
    connection = "serial"        # usb | serial | network | simulated
    port = "/dev/ttyUSB0"
    baudrate = 19200
    paper_mm = 80                # 58 or 80 (384 or 576 dots)
    model = "TM-T20II"           # a python-escpos profile; "default" works for most
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.hardware_table import SettingsError, boolean, choice, integer, number, problem, read_table, require, text, usb_id

CONNECTIONS = ("usb", "serial", "network", "simulated")
PAPER_WIDTHS = {58: 384, 80: 576}  # dots at 203 dpi: the printable width of each paper
STATUS_MODES = ("auto", "query", "none")
CUTS = ("full", "partial", "none")
IMAGE_MODES = {"raster": "bitImageRaster", "graphics": "graphics", "column": "bitImageColumn"}
FLOW_CONTROLS = ("none", "rtscts", "dsrdtr", "xonxoff")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
TABLE = "printer"
REQUIRED = {"usb": ("vendor_id", "product_id"), "serial": ("port",), "network": ("host",)}

PrinterSettingsError = SettingsError


def _profile(value: Any) -> str:
    model = text()(value)
    if model != "default":
        from escpos.capabilities import get_profile_class

        try:
            get_profile_class(model)
        except Exception:  # escpos raises NotSupported or KeyError depending on the version
            raise problem("kiosk_print.settings.unknown_profile", profile=model) from None
    return model


CHECKS = {
    "connection": choice(*CONNECTIONS),
    "model": _profile,
    "paper_mm": choice(*PAPER_WIDTHS),
    "width_dots": integer(200, 832),
    "status": choice(*STATUS_MODES),
    "status_timeout": number(0.01, 5),
    "cut": choice(*CUTS),
    "image_mode": choice(*IMAGE_MODES),
    "vendor_id": usb_id(),
    "product_id": usb_id(),
    "in_ep": integer(0, 255),
    "out_ep": integer(0, 255),
    "port": text(),
    "baudrate": choice(*BAUDRATES),
    "flow_control": choice(*FLOW_CONTROLS),
    "host": text(),
    "tcp_port": integer(1, 65535),
    "timeout": number(0.1, 120),
    "post_check": boolean(),
}


@dataclass(frozen=True)
class PrinterSettings:
    """How to reach the ticket printer. Only the keys of the chosen connection matter."""

    connection: str | None = None  # usb | serial | network | simulated; None: only --simulate works
    model: str = "default"  # a python-escpos printer profile (TM-T88V, TM-T20II, RP326, ...)
    paper_mm: int = 80
    width_dots: int | None = None  # printable dots; default from paper_mm (384 for 58 mm, 576 for 80 mm)
    # auto: ask (DLE EOT), "unknown" until the printer has answered once; query: no answer is "offline"; none: never ask
    status: str = "auto"
    status_timeout: float = 0.5  # seconds to wait for each status byte
    post_check: bool = True  # ask again after each ticket (paper ran out or the cover opened meanwhile)
    cut: str = "full"
    image_mode: str = "raster"
    # usb
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int = 0x82
    out_ep: int = 0x01
    # serial
    port: str | None = None
    baudrate: int = 9600
    flow_control: str = "none"
    # network
    host: str | None = None
    tcp_port: int = 9100
    timeout: float = 10.0  # seconds for a write (USB, serial, network) before the printer counts as offline

    @property
    def dots(self) -> int:
        return self.width_dots or PAPER_WIDTHS[self.paper_mm]

    @property
    def escpos_image_impl(self) -> str:
        return IMAGE_MODES[self.image_mode]

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any] | None) -> PrinterSettings:
        """Settings from a parsed TOML table; raises PrinterSettingsError naming the first wrong key."""
        return read_table(cls, TABLE, table, CHECKS)

    def require_connection(self) -> None:
        """Fail unless the keys the chosen connection needs are set."""
        if self.connection is None:
            raise SettingsError.worded("kiosk_print.settings.missing", table=TABLE, setting="connection", connection="-")
        require(TABLE, self.connection, self, REQUIRED.get(self.connection, ()))
