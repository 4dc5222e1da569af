"""Looking a dossier up: what anyone may see, what only its applicant sees after the second factor.

Public: procedure, dates, status in plain Vietnamese, where to collect the result, on time
or late, the masked name. After the last 4 digits of the applicant's ID number or phone:
the full name, missing documents, the rejection reason, the history. Wrong digits are
counted per dossier and per client, so 4 digits cannot be guessed by trying them all, and a
stranger who knows the code cannot lock its owner out (how many and for how
long: [dossier_lookup] in the office configuration, and docs/dossiers.md for why these numbers).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from motcua import i18n
from queue_server.config import DossierLookup, OfficeConfig
from queue_server.dossiers import db as store
from queue_server.dossiers.codes import CodeError, parse_code
from queue_server.dossiers.model import RESULT_READY, Dossier, status_name
from queue_server.dossiers.privacy import mask_code, mask_name
from queue_server.store import write_transaction

READY_LIST_MAX = 100


class LookupRefused(Exception):
    """A lookup that gets no dossier: the HTTP status, a stable code, Vietnamese and English messages."""

    def __init__(self, status: int, code: str, message: str, message_en: str, retry_after: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message_en}")
        self.status = status
        self.code = code
        self.message = message
        self.message_en = message_en
        self.retry_after = retry_after
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message, "message_en": self.message_en, **self.extra}
        if self.retry_after is not None:
            error["retry_after_seconds"] = self.retry_after
        return {"ok": False, "error": error}

    @classmethod
    def worded(cls, status: int, code: str, key: str, retry_after: int | None = None, extra: dict[str, Any] | None = None,
               **params: Any) -> LookupRefused:
        """A refusal whose messages are the catalog entry `key` in Vietnamese and English."""
        return cls(status, code, *i18n.pair(key, **params), retry_after=retry_after, extra=extra)


def code_or_refuse(raw: object) -> str:
    try:
        return parse_code(raw).code
    except CodeError as exc:
        raise LookupRefused(400, "bad_code", exc.message, exc.message_en, extra={"reason": exc.reason}) from None


def not_found() -> LookupRefused:
    return LookupRefused.worded(404, "not_found", "dossier.lookup.not_found")


def counter_name(config: OfficeConfig, counter: str | None) -> str | None:
    if not counter:
        return None
    known = config.counters.get(counter)
    return known.name if known else counter  # a source may send the counter's name itself


def status_text(dossier: Dossier, config: OfficeConfig) -> tuple[str, str]:
    vi, en = status_name(dossier.status, "vi"), status_name(dossier.status, "en")
    if dossier.status == RESULT_READY:
        where = counter_name(config, dossier.return_counter)
        if where:
            key, params = "dossier.status.collect_at", {"counter_name": where}
        else:
            key, params = "dossier.status.collect_at_office", {}
        return i18n.text(key, "vi", status=vi, **params), i18n.text(key, "en", status=en, **params)
    return vi, en


def _local(value: datetime, config: OfficeConfig) -> str:
    return value.astimezone(config.tz).strftime("%H:%M %d/%m/%Y")


def public_view(dossier: Dossier, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    """What a kiosk or anyone on the LAN may see: nothing personal beyond the masked name."""
    text, text_en = status_text(dossier, config)
    late = dossier.is_late(now, config.tz)
    if late is None:
        timeliness = None
    elif late:
        timeliness = "dossier.timeliness.late"
    else:  # "on time" is a verdict on a finished dossier; one still in processing is "within the deadline"
        timeliness = "dossier.timeliness.on_time" if dossier.finished_at else "dossier.timeliness.in_time"
    counter = dossier.return_counter
    return {
        "code": dossier.code,
        "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
        "received_at": dossier.received_at.isoformat(),
        "received_text": _local(dossier.received_at, config),
        "due_at": dossier.due.value if dossier.due else None,
        "due_text": dossier.due.text(config.tz) if dossier.due else None,
        "status": dossier.status,
        "status_text": text,
        "status_text_en": text_en,
        "result_ready": dossier.status == RESULT_READY,
        "return_counter": {"id": counter, "name": counter_name(config, counter)} if counter else None,
        "late": late,
        "timeliness_text": i18n.text(timeliness, "vi") if timeliness else None,
        "timeliness_text_en": i18n.text(timeliness, "en") if timeliness else None,
        "applicant": mask_name(dossier.applicant_name),
        "verified": False,
    }


def full_view(dossier: Dossier, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    """The public view plus what only the applicant may see (never the ID number or phone)."""
    return {
        **public_view(dossier, config, now),
        "verified": True,
        "applicant_name": dossier.applicant_name,
        "missing_documents": list(dossier.missing_documents),
        "rejection_reason": dossier.rejection_reason,
        "history": [
            {"status": status, "status_text": status_name(status), "at": at.isoformat(), "at_text": _local(at, config)}
            for status, at in dossier.history
        ],
    }


def check_digits(raw: object) -> str:
    """The 4 digits the citizen typed, or a 400 refusal (a malformed entry is not counted as a wrong try)."""
    text = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else ""
    if not re.fullmatch(r"[0-9]{4}", text):
        raise LookupRefused.worded(400, "bad_verify", "dossier.lookup.bad_verify")
    return text


@dataclass(frozen=True)
class Client:
    """Who is typing digits: `addr:<ip>`, or `device:<id>` for a browser that verified this dossier before."""

    key: str
    trusted: bool = False


STAFF = Client("staff", trusted=True)  # the CLI on the box, run by an officer


def _locked(rows: list[str], limit: int, span: timedelta, now: datetime) -> int | None:
    """Seconds until the oldest of the last `limit` failures in `rows` leaves `span`, if there are that many."""
    if len(rows) < limit:
        return None
    unlock = datetime.fromisoformat(rows[-limit]) + span
    return max(1, int((unlock - now).total_seconds()) + 1)


def _verify(db: sqlite_utils.Database, dossier: Dossier, digits: str, now: datetime, limits: DossierLookup,
            client: Client) -> None:
    """Accept the right digits; count wrong ones per client and, for untrusted clients, per dossier.

    A client that reached its limits is refused even the right digits (otherwise the limit
    would not stop trying all 10,000), but only that client: others, and the owner, go on.
    The lifetime ceiling shared by untrusted clients bounds guessing by many addresses
    (docs/dossiers.md has the arithmetic); a trusted browser is never refused by it.
    """
    window, day = timedelta(minutes=limits.verify_window_minutes), timedelta(days=1)
    with write_transaction(db):
        # Failures older than a day (and the window) no longer count for a client; the ceiling keeps its own count.
        db.execute("DELETE FROM dossier_verify_failures WHERE at < ?", [store.ts(now - max(window, day))])
        mine = [row[0] for row in db.execute(
            "SELECT at FROM dossier_verify_failures WHERE code = ? AND client = ? AND at >= ? ORDER BY at",
            [dossier.code, client.key, store.ts(now - day)])]
        wait = _locked(mine, limits.max_verify_failures_per_day, day, now)
        if wait:
            raise LookupRefused.worded(429, "verify_locked", "dossier.lookup.verify_locked_today", retry_after=wait)
        recent = [at for at in mine if at >= store.ts(now - window)]
        wait = _locked(recent, limits.max_verify_failures, window, now)
        if wait:
            minutes = max(1, -(-wait // 60))
            raise LookupRefused.worded(429, "verify_locked", "dossier.lookup.verify_locked", retry_after=wait, minutes=minutes)
        if not client.trusted and store.verify_failures_total(db, dossier.code) >= limits.max_verify_failures_total:
            raise LookupRefused.worded(403, "verify_exhausted", "dossier.lookup.verify_exhausted")
        if not (dossier.id_last4 or dossier.phone_last4):
            raise LookupRefused.worded(403, "verify_unavailable", "dossier.lookup.verify_unavailable")
        # Both comparisons always run, in constant time, so timing tells nothing about which one matched.
        by_id = hmac.compare_digest(digits.encode(), (dossier.id_last4 or "----").encode())
        by_phone = hmac.compare_digest(digits.encode(), (dossier.phone_last4 or "----").encode())
        if by_id | by_phone:
            db.execute("DELETE FROM dossier_verify_failures WHERE code = ? AND client = ?", [dossier.code, client.key])
            return
        db.execute("INSERT INTO dossier_verify_failures (code, client, at) VALUES (?, ?, ?)",
                   [dossier.code, client.key, store.ts(now)])
        if not client.trusted:
            store.count_verify_failure(db, dossier.code)
        left = min(limits.max_verify_failures - len(recent), limits.max_verify_failures_per_day - len(mine)) - 1
    minutes = limits.verify_window_minutes
    raise LookupRefused.worded(403, "verify_failed", "dossier.lookup.verify_failed" if left else "dossier.lookup.verify_failed_last",
                               extra={"attempts_left": left}, left=left, minutes=minutes)


def lookup(db: sqlite_utils.Database, config: OfficeConfig, raw_code: object, now: datetime,
           verify: object | None = None, client: Client = STAFF) -> dict[str, Any]:
    """The answer for one lookup: {"ok": True, "dossier": {...}}; raises LookupRefused otherwise."""
    code = code_or_refuse(raw_code)
    digits = check_digits(verify) if verify not in (None, "") else None
    dossier = store.get(db, code, with_history=digits is not None)
    if dossier is None:
        raise not_found()
    if digits is None:
        return {"ok": True, "dossier": public_view(dossier, config, now)}
    _verify(db, dossier, digits, now, config.dossier_lookup, client)
    return {"ok": True, "dossier": full_view(dossier, config, now)}


def ready_list(db: sqlite_utils.Database, config: OfficeConfig, limit: int = 30) -> list[dict[str, Any]]:
    """The results TV's list: masked code and name, procedure, counter, field; nothing else."""
    return [
        {
            "code": mask_code(d.code),
            "applicant": mask_name(d.applicant_name),
            "procedure_name": d.procedure_name or d.procedure_code,
            "counter": counter_name(config, d.return_counter),
            "service": d.return_service,  # the field of work it is returned in (the results TV groups by it)
            "service_name": config.services[d.return_service].name if d.return_service in config.services else None,
        }
        for d in store.ready(db, max(1, min(limit, READY_LIST_MAX)))
    ]
