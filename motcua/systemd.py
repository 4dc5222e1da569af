"""Tell systemd we are ready and still alive (sd_notify), without a dependency; no-op elsewhere.

Shared by every role: the server and the device programs (keypad, rating box) under systemd.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    def __init__(self) -> None:
        self.address = os.environ.get("NOTIFY_SOCKET")
        usec = os.environ.get("WATCHDOG_USEC")
        # Pet at half the watchdog interval, as sd_watchdog_enabled(3) advises.
        self.interval = int(usec) / 2e6 if usec and usec.isdigit() else None
        self._last_pet = 0.0
        self._ready = False

    @property
    def active(self) -> bool:
        return bool(self.address)

    def send(self, message: str) -> bool:
        if not self.address:
            return False
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message.encode(), address)
            except OSError:
                return False
        return True

    def ready(self, status: str = "") -> bool:
        self._ready = True
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def pet(self) -> bool:
        """Send WATCHDOG=1 if the interval has passed; cheap to call from a busy loop."""
        if self.interval is None or not self._ready:
            return False
        now = time.monotonic()
        if now - self._last_pet < self.interval:
            return False
        self._last_pet = now
        return self.send("WATCHDOG=1")
