"""Who booked or took a number, kept as little as the limits and the SMS need.

A phone or ID number is counted through a keyed hash (HMAC-SHA256 with a key kept in the data
directory, not in the database): a plain hash of a ten-digit phone number is reversed by trying
them all in seconds, so a stolen database or backup would give the numbers away. The last 4
digits are kept for the official's list, as the dossier module does; the full phone number only
when the citizen asked for SMS, and only until the day is over (bookings.finish_days).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from queue_server.dossiers.privacy import last_digits

KEY_FILE = "holder.key"
PHONE_RE = re.compile(r"^0[1-9]\d{8}$")  # Vietnamese mobile numbers: ten digits starting with 0
ID_RE = re.compile(r"^\d{12}$")  # số định danh cá nhân: twelve digits
KINDS = ("phone", "id")


def _digits(text: str) -> str:
    return re.sub(r"[\s.()\-]", "", unicodedata.normalize("NFKC", text))


def normalise_phone(text: object) -> str | None:
    """0912345678 from '0912 345 678', '+84 912 345 678' or '84912345678'; None if not a mobile number."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    digits = _digits(text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if PHONE_RE.fullmatch(digits) else None


def normalise_id(text: object) -> str | None:
    """The twelve digits of a số định danh cá nhân, or None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    digits = _digits(text)
    return digits if ID_RE.fullmatch(digits) else None


@dataclass(frozen=True)
class Holder:
    """A person as the limits see them: a phone or an ID number (normalised)."""

    kind: str
    value: str

    @property
    def last4(self) -> str:
        return last_digits(self.value) or ""

    @classmethod
    def of(cls, phone: object = None, id_number: object = None) -> Holder | None:
        """The ID number if given (one per person: the stronger limit), else the phone; None when
        what was given is not a valid number."""
        if id_number not in (None, ""):
            value = normalise_id(id_number)
            return cls("id", value) if value else None
        if phone not in (None, ""):
            value = normalise_phone(phone)
            return cls("phone", value) if value else None
        return None


class HolderKey:
    """The office's secret for holder hashes, created once (0600) beside the database."""

    _cache: ClassVar[dict[Path, HolderKey]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def beside(cls, db_path: str | Path) -> HolderKey:
        path = Path(db_path).resolve().parent / KEY_FILE
        with cls._lock:
            if path not in cls._cache:
                cls._cache[path] = cls(_load_or_create(path))
            return cls._cache[path]

    def hash(self, holder: Holder) -> str:
        return hmac.new(self._key, f"{holder.kind}:{holder.value}".encode(), hashlib.sha256).hexdigest()[:32]


def _load_or_create(path: Path) -> bytes:
    """Read the key, or write a new one atomically (a crash mid-write leaves no half key)."""
    if path.exists():
        key = path.read_bytes()
        if len(key) >= 32:
            return key
        raise OSError(f"{path} is damaged (shorter than 32 bytes); remove it to make a new key (today's limits restart)")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(32))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # atomic, and fails if another process made the key meanwhile
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_bytes()
