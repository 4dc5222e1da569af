"""An SMS modem on a serial port (a GSM/3G/4G USB stick with a SIM), driven by AT commands.

Vietnamese needs UCS-2: the modem is put in PDU mode (AT+CMGF=0) and each message is encoded as
SMS-SUBMIT PDUs (3GPP TS 23.040) with the UCS-2 alphabet, 70 characters in one SMS, longer texts
as concatenated parts of 67 (a 6-byte user data header each). `encoding = "gsm"` sends the text
without diacritics in text mode (AT+CMGF=1), 160 characters a message: cheaper, harder to read.

    AT / ATE0 / AT+CMGF=0          once per connection
    AT+CMGS=<length>  -> "> "       then the PDU in hex and Ctrl-Z; the modem answers +CMGS: <ref> and OK
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import unicodedata
from typing import Any

from queue_server.notify.base import GatewayError

CTRL_Z = b"\x1a"
FINAL = (b"OK", b"ERROR", b"+CMS ERROR", b"+CME ERROR")
SINGLE_BYTES = 140  # user data of one SMS
PART_BYTES = 134  # of one part of a long SMS, after its 6-byte header
MAX_PARTS = 8
GSM_LENGTH = 160
# The GSM 7-bit default alphabet's printable ASCII (text mode sends these as they are).
_GSM_SAFE = set(" !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@$_\n")
_references = itertools.count(1)


def international(phone: str) -> str:
    """0912345678 -> 84912345678 (the PDU's destination is international)."""
    return "84" + phone[1:] if phone.startswith("0") else phone.lstrip("+")


def semi_octets(digits: str) -> str:
    """Digits in swapped nibbles, padded with F: 84912345678 -> 4819325476F8."""
    padded = digits + ("F" if len(digits) % 2 else "")
    return "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))


def _chunks(text: str, limit: int) -> list[bytes]:
    """UTF-16 chunks of at most `limit` bytes, never splitting a character."""
    parts, current = [], b""
    for ch in text:
        unit = ch.encode("utf-16-be")
        if len(current) + len(unit) > limit:
            parts.append(current)
            current = b""
        current += unit
    return [*parts, current] if current or not parts else parts


def ucs2_pdus(phone: str, text: str, reference: int | None = None) -> list[tuple[int, str]]:
    """(TPDU length for AT+CMGS, PDU in hex) for each part of the message."""
    data = text.encode("utf-16-be")
    digits = international(phone)
    address = f"{len(digits):02X}91{semi_octets(digits)}"
    if len(data) <= SINGLE_BYTES:
        chunks, header = [data], None
    else:
        chunks = _chunks(text, PART_BYTES)
        if len(chunks) > MAX_PARTS:
            raise GatewayError(f"message too long: {len(chunks)} parts (at most {MAX_PARTS})")
        header = (reference if reference is not None else next(_references)) % 256
    out = []
    for seq, chunk in enumerate(chunks, start=1):
        udh = f"050003{header:02X}{len(chunks):02X}{seq:02X}" if header is not None else ""
        first = "41" if udh else "01"  # SMS-SUBMIT, with a user data header when concatenated
        user_data = udh + chunk.hex().upper()
        tpdu = f"{first}00{address}0008{len(user_data) // 2:02X}{user_data}"
        out.append((len(tpdu) // 2, "00" + tpdu))  # "00": the SIM's own service centre
    return out


def without_diacritics(text: str) -> str:
    """What the GSM alphabet can carry: Vietnamese letters without their marks, đ as d."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return "".join(ch if ch in _GSM_SAFE else "?" for ch in stripped)


def gsm_parts(text: str) -> list[str]:
    """Messages of at most 160 characters, split between words."""
    parts, current = [], ""
    for word in without_diacritics(text).split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= GSM_LENGTH:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = word[:GSM_LENGTH]
    return [*parts, current] if current else parts


class ModemGateway:
    """One modem, one message at a time. Reopens the port after a failure."""

    name = "modem"

    def __init__(self, port: str, baudrate: int = 115200, encoding: str = "ucs2", timeout: float = 30.0,
                 opener: Any = None) -> None:
        self.port, self.baudrate, self.encoding, self.timeout = port, baudrate, encoding, timeout
        self._opener = opener
        self._serial: Any = None
        self._lock = threading.Lock()

    def _open(self) -> None:
        opener = self._opener
        if opener is None:
            import serial

            opener = serial.serial_for_url
        try:
            self._serial = opener(self.port, baudrate=self.baudrate, timeout=0.1, write_timeout=self.timeout)
        except Exception as exc:  # pyserial raises SerialException, OSError, ValueError for a bad port
            raise GatewayError(f"cannot open the modem at {self.port}: {exc}") from None
        self._command("AT")
        self._command("ATE0")  # no echo: answers are then only the modem's own lines
        if self.encoding == "gsm":
            self._command("AT+CMGF=1")
            self._command('AT+CSCS="GSM"')
        else:
            self._command("AT+CMGF=0")

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):  # closing a port that went away
                self._serial.close()
            self._serial = None

    def _read_until(self, done: Any) -> bytes:
        deadline = time.monotonic() + self.timeout
        answer = b""
        while time.monotonic() < deadline:
            answer += self._serial.read(256)
            if done(answer):
                return answer
        raise GatewayError(f"the modem at {self.port} did not answer in {self.timeout:g} s (got {answer[-60:]!r})")

    @staticmethod
    def _final(answer: bytes) -> bytes | None:
        for line in answer.split(b"\r\n"):
            line = line.strip()
            if line.startswith(FINAL):
                return line
        return None

    def _command(self, command: str) -> bytes:
        self._serial.write(command.encode("ascii") + b"\r")
        answer = self._read_until(lambda a: self._final(a) is not None)
        final = self._final(answer)
        if final != b"OK":
            raise GatewayError(f"the modem refused {command.split('=')[0]}: {final.decode('ascii', 'replace') if final else ''}")
        return answer

    def _submit(self, command: str, body: bytes) -> None:
        self._serial.write(command.encode("ascii") + b"\r")
        prompt = self._read_until(lambda a: b">" in a or self._final(a) is not None)
        if b">" not in prompt:
            raise GatewayError(f"the modem gave no prompt for the message: {self._final(prompt)!r}")
        self._serial.write(body + CTRL_Z)
        answer = self._read_until(lambda a: self._final(a) is not None)
        final = self._final(answer)
        if final != b"OK" or b"+CMGS:" not in answer:
            raise GatewayError(f"the modem did not send the message: {final.decode('ascii', 'replace') if final else ''}")

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            try:
                if self._serial is None:
                    self._open()
                if self.encoding == "gsm":
                    for part in gsm_parts(text):
                        self._submit(f'AT+CMGS="{phone}"', part.encode("ascii"))
                else:
                    for length, pdu in ucs2_pdus(phone, text):
                        self._submit(f"AT+CMGS={length}", pdu.encode("ascii"))
            except GatewayError:
                self._close()  # the next message starts from a fresh port
                raise
            except Exception as exc:  # a serial error: the stick was pulled out, the port is gone
                self._close()
                raise GatewayError(f"the modem at {self.port} failed: {exc}") from None
