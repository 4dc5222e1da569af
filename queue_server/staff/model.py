"""Staff accounts as plain data, and the rules on what an account may hold (no I/O)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from motcua import i18n

ADMINISTRATOR, MANAGER, OFFICIAL = "administrator", "manager", "official"
ROLES = (ADMINISTRATOR, MANAGER, OFFICIAL)  # administrator: everything; manager: reports; official: counters

# Ids are what the event log, the reports and the counter state carry: short, lowercase, stable
# (an employee number such as 012345 is fine). Names are what people read and may change.
STAFF_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MAX_NAME = 100
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; a bound keeps a 64 KiB body from costing more


class StaffError(ValueError):
    """A change to an account that cannot be made; `code` is stable, the messages come from the catalogs."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        self.message, self.message_en = i18n.pair(f"staff.error.{code}", **params)
        super().__init__(self.message_en)


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    role: str
    counters: tuple[str, ...] = ()  # the counters this person may serve at
    active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def may_serve(self, counter: str) -> bool:
        return self.active and counter in self.counters

    def has_role(self, *roles: str) -> bool:
        return self.active and (not roles or self.role in roles)


def clean_id(value: str) -> str:
    staff_id = (value or "").strip().lower()
    if not STAFF_ID_RE.match(staff_id):
        raise StaffError("bad_id", staff=staff_id[:40])
    return staff_id


def clean_name(value: str) -> str:
    name = unicodedata.normalize("NFC", " ".join((value or "").split()))
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise StaffError("bad_name", maximum=MAX_NAME)
    return name


def clean_role(value: str) -> str:
    if value not in ROLES:
        raise StaffError("bad_role", role=str(value)[:40], roles=", ".join(ROLES))
    return value


def clean_counters(values: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    known = set(known)
    counters = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    unknown = [c for c in counters if c not in known]
    if unknown:
        raise StaffError("unknown_counters", counters=", ".join(unknown), known=", ".join(sorted(known)))
    return counters


def check_password(password: str, staff_id: str) -> str:
    """A password an office can live with: long enough, not the login, not one repeated character."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StaffError("weak_password", minimum=MIN_PASSWORD, maximum=MAX_PASSWORD)
    if password.strip().lower() == staff_id or len(set(password)) < 4:
        raise StaffError("weak_password", minimum=MIN_PASSWORD, maximum=MAX_PASSWORD)
    return password
