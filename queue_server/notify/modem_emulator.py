"""A modem on a pty that answers AT commands and decodes the messages it is given (tests, trying out).

    with ModemEmulator() as modem:          # modem.port is the pty's path, e.g. /dev/pts/7
        ModemGateway(modem.port).send("0912345678", "Mời công dân ...")
        modem.messages                      # [("84912345678", "Mời công dân ...")], long ones reassembled

`fail_next(n)` answers the next n messages with +CMS ERROR: 38 (network out of order).
"""

from __future__ import annotations

import contextlib
import os
import threading
import tty
from typing import Any


def decode_pdu(pdu_hex: str) -> tuple[str, str, tuple[int, int, int] | None]:
    """(destination digits, text, (reference, parts, sequence) or None) of an SMS-SUBMIT PDU in UCS-2."""
    data = bytes.fromhex(pdu_hex)
    i = 1 + data[0]  # service centre address
    first = data[i]
    i += 2  # first octet, message reference
    digit_count, i = data[i], i + 2  # address length in digits; skip the type of address
    raw = data[i:i + (digit_count + 1) // 2].hex().upper()
    digits = "".join(raw[j + 1] + raw[j] for j in range(0, len(raw), 2))[:digit_count]
    i += (digit_count + 1) // 2
    dcs = data[i + 1]
    length = data[i + 2]
    user_data = data[i + 3:i + 3 + length]
    if dcs != 0x08:
        raise ValueError(f"data coding scheme {dcs:#04x} is not UCS-2")
    part = None
    if first & 0x40:
        header_length = user_data[0]
        header = user_data[1:1 + header_length]
        if header[0] == 0x00:
            part = (header[2], header[3], header[4])
        user_data = user_data[1 + header_length:]
    return digits, user_data.decode("utf-16-be"), part


class ModemEmulator:
    """The master side of a pty acting as a modem. Keeps its own slave fd open (a pty's master read
    fails with EIO while no slave is open)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.messages: list[tuple[str, str]] = []
        self.commands: list[str] = []
        self._parts: dict[int, dict[int, str]] = {}
        self._failures = 0
        self._echo = True
        self._pdu_mode = False
        self._lock = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="modem-emulator", daemon=True)

    def __enter__(self) -> ModemEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._running = False
        for fd in (self._slave, self.master):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread.join(2)

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages reached the modem")
            return list(self.messages)

    def _write(self, text: str) -> None:
        os.write(self.master, text.encode("ascii"))

    def _run(self) -> None:
        buffer = b""
        body: str | None = None  # the destination while a message body is expected
        while self._running:
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                if body is not None:
                    end = buffer.find(b"\x1a")
                    if end < 0:
                        break
                    self._message(body, buffer[:end].decode("ascii", "replace"))
                    buffer, body = buffer[end + 1:], None
                    continue
                end = buffer.find(b"\r")
                if end < 0:
                    break
                line, buffer = buffer[:end].decode("ascii", "replace").strip(), buffer[end + 1:]
                if not line:
                    continue
                if self._echo:
                    self._write(line + "\r")
                body = self._command(line)

    def _command(self, line: str) -> str | None:
        self.commands.append(line)
        upper = line.upper()
        if upper.startswith("AT+CMGS="):
            self._write("\r\n> ")
            return line.split("=", 1)[1].strip('"')
        if upper == "ATE0":
            self._echo = False
        elif upper.startswith("AT+CMGF="):
            self._pdu_mode = upper.endswith("0")
        elif not upper.startswith("AT"):
            self._write("\r\nERROR\r\n")
            return None
        self._write("\r\nOK\r\n")
        return None

    def _message(self, destination: str, body: str) -> None:
        with self._lock:
            if self._failures:
                self._failures -= 1
                self._write("\r\n+CMS ERROR: 38\r\n")
                return
            if self._pdu_mode:
                digits, text, part = decode_pdu(body.strip())
                if part is None:
                    self.messages.append((digits, text))
                else:
                    reference, count, seq = part
                    got = self._parts.setdefault(reference, {})
                    got[seq] = text
                    if len(got) == count:
                        self.messages.append((digits, "".join(got[i] for i in range(1, count + 1))))
                        del self._parts[reference]
            else:
                self.messages.append((destination, body))
            self._lock.notify_all()
        self._write(f"\r\n+CMGS: {len(self.messages)}\r\n\r\nOK\r\n")
