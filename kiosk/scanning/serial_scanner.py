"""A scanner on a serial port (RS-232, or USB in its "virtual COM port" mode: /dev/ttyACM0)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from kiosk.scanning.base import LineSplitter

log = logging.getLogger(__name__)

POLL = 0.2  # seconds a read waits, so close() is noticed


class SerialScanner:
    """Reads lines from the port; bytes that are not UTF-8 become U+FFFD, which the dossier API refuses
    as a misread ("binary"), rather than being dropped silently."""

    def __init__(self, port: str, baudrate: int = 9600) -> None:
        import serial

        self.port_name = port
        self._port = serial.Serial(port, baudrate=baudrate, timeout=POLL)  # SerialException: missing or busy
        self._closed = False

    def codes(self) -> Iterator[str]:
        import codecs

        import serial

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        lines = LineSplitter()
        while not self._closed:
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:  # unplugged (TypeError: pyserial on a closed fd)
                if not self._closed:
                    log.warning("scanner %s: %s", self.port_name, exc)
                return
            if data:
                yield from lines.feed(decoder.decode(data))

    def close(self) -> None:
        self._closed = True
        self._port.close()
