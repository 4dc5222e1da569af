"""The serial line to a board (RS-232 or an RS-485 USB adapter), surviving unplug and replug.

One writer thread owns the port. It always holds the latest frame (older ones are worthless:
a board shows one state), writes it when it changes, re-sends it every `refresh_seconds` (boards
that blank after a power cut come back by themselves), and, when a write fails or the device node
disappears, closes the port, reports "offline", and reopens it as soon as the adapter is back,
writing the current frame first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
import threading
import time
from collections.abc import Callable

import serial

# An unplugged USB adapter shows up as any of these; termios.error (from flush's tcdrain) is not an OSError.
_UNPLUGGED = (serial.SerialException, OSError, termios.error)

log = logging.getLogger(__name__)

StateCallback = Callable[[str, str | None], None]


class SerialLink:
    def __init__(self, port: str, baudrate: int = 9600, refresh_seconds: float = 30.0, retry_seconds: float = 1.0,
                 on_state: StateCallback | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.refresh_seconds = refresh_seconds
        self.retry_seconds = retry_seconds
        self.on_state = on_state or (lambda state, detail: None)
        self.state = "unknown"
        self.writes = 0
        self.last_written: float | None = None  # time.perf_counter() after the last frame went out
        self._serial: serial.Serial | None = None
        self._frame: bytes | None = None
        self._version = 0
        self._written_version = -1
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> SerialLink:
        self._thread = threading.Thread(target=self._run, name=f"serial-{os.path.basename(self.port)}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread:
            self._thread.join(5)
        self._close()

    def show(self, frame: bytes) -> None:
        """Make `frame` what the board shows (written as soon as the port is open)."""
        with self._changed:
            if frame != self._frame:
                self._frame = frame
                self._version += 1
                self._changed.notify_all()

    def wait_written(self, timeout: float = 5.0) -> bool:
        """Until the latest frame has been written to an open port."""
        with self._changed:
            return self._changed.wait_for(lambda: self._written_version == self._version and self.state == "ok", timeout)

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        last_write = 0.0
        while True:
            with self._changed:
                if self._stopping:
                    return
                due = self._serial is not None and time.monotonic() - last_write >= self.refresh_seconds
                if self._written_version == self._version and not due:
                    self._changed.wait(self.retry_seconds if self._serial is None else min(self.retry_seconds, self.refresh_seconds))
                if self._stopping:
                    return
                frame, version = self._frame, self._version
            if self._serial is not None and not os.path.exists(self.port):
                self._lost("the device node disappeared")
            if self._serial is None and not self._open():
                with self._changed:
                    self._changed.wait(self.retry_seconds)
                continue
            refresh = time.monotonic() - last_write >= self.refresh_seconds
            if frame is not None and (version != self._written_version or refresh) and self._write(frame):
                last_write = time.monotonic()
                with self._changed:
                    self._written_version = version
                    self._changed.notify_all()

    def _open(self) -> bool:
        if not os.path.exists(self.port):
            self._set_state("offline", f"{self.port}: not connected")
            return False
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=5)
        except _UNPLUGGED as exc:
            self._set_state("offline", f"{self.port}: {exc}")
            self._serial = None
            return False
        log.info("opened %s at %d baud", self.port, self.baudrate)
        with self._changed:
            self._written_version = -1  # whatever the board showed before is unknown: write the frame again
        self._set_state("ok", self.port)
        return True

    def _write(self, frame: bytes) -> bool:
        assert self._serial is not None
        try:
            self._serial.write(frame)
            self._serial.flush()
        except _UNPLUGGED as exc:
            self._lost(str(exc))
            return False
        self.writes += 1
        self.last_written = time.perf_counter()
        return True

    def _lost(self, why: str) -> None:
        log.warning("lost %s: %s", self.port, why)
        self._close()
        self._set_state("offline", f"{self.port}: {why}")

    def _close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
            self._serial = None

    def _set_state(self, state: str, detail: str | None) -> None:
        if state != self.state:
            self.on_state(state, detail)  # before anyone waiting on the state can see it
        with self._changed:
            self.state = state
            self._changed.notify_all()


class PrintLink:
    """The fake serial line (`--simulate`): prints each new frame, escaped, instead of writing a port."""

    def __init__(self, on_state: StateCallback | None = None, out: Callable[[str], None] = print) -> None:
        self.on_state = on_state or (lambda state, detail: None)
        self.state = "unknown"
        self.frames: list[bytes] = []
        self.out = out

    def start(self) -> PrintLink:
        self.state = "ok"
        self.on_state("ok", "simulated")
        return self

    def stop(self) -> None:
        pass

    def show(self, frame: bytes) -> None:
        if not self.frames or self.frames[-1] != frame:
            self.frames.append(frame)
            self.out(repr(frame)[2:-1])
