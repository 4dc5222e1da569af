"""Looking a dossier up: what anyone may see, what only its applicant sees after the second factor.

Public: procedure, dates, status in plain Vietnamese, where to collect the result, on time
or late, the masked name. After the last 4 digits of the applicant's ID number or phone:
the full name, missing documents, the rejection reason, the history. Wrong digits are
counted per dossier, so 4 digits cannot be guessed by trying them all (how many and for how
long: [dossier_lookup] in the office configuration).
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from queue_server.config import DossierLookup, OfficeConfig
from queue_server.dossiers import db as store
from queue_server.dossiers.codes import CodeError, parse_code
from queue_server.dossiers.model import RESULT_READY, STATUS_TEXT, Dossier
from queue_server.dossiers.privacy import mask_code, mask_name

READY_LIST_MAX = 100

NOT_FOUND_VI = "Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ tại quầy."
NOT_FOUND_EN = "Dossier not found. Please check the dossier code or ask the staff at the counter."


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


def code_or_refuse(raw: object) -> str:
    try:
        return parse_code(raw).code
    except CodeError as exc:
        raise LookupRefused(400, "bad_code", exc.message, exc.message_en, extra={"reason": exc.reason}) from None


def not_found() -> LookupRefused:
    return LookupRefused(404, "not_found", NOT_FOUND_VI, NOT_FOUND_EN)


def counter_name(config: OfficeConfig, counter: str | None) -> str | None:
    if not counter:
        return None
    known = config.counters.get(counter)
    return known.name if known else counter  # a source may send the counter's name itself


def status_text(dossier: Dossier, config: OfficeConfig) -> tuple[str, str]:
    vi, en = STATUS_TEXT[dossier.status]
    if dossier.status == RESULT_READY:
        where = counter_name(config, dossier.return_counter)
        if where:
            return f"{vi} - mời nhận tại {where}", f"{en} - please collect it at {where}"
        return f"{vi} - mời nhận tại Bộ phận Một cửa", f"{en} - please collect it at the one-stop section"
    return vi, en


def _local(value: datetime, config: OfficeConfig) -> str:
    return value.astimezone(config.tz).strftime("%H:%M %d/%m/%Y")


def public_view(dossier: Dossier, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    """What a kiosk or anyone on the LAN may see: nothing personal beyond the masked name."""
    text, text_en = status_text(dossier, config)
    late = dossier.is_late(now, config.tz)
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
        "timeliness_text": None if late is None else ("Quá hạn" if late else "Đúng hạn"),
        "timeliness_text_en": None if late is None else ("Late" if late else "On time"),
        "applicant": mask_name(dossier.applicant_name),
        "verified": False,
    }


def full_view(dossier: Dossier, config: OfficeConfig, now: datetime) -> dict[str, Any]:
    """The public view plus what only the applicant may see (never the ID number or phone)."""
    return {
        **public_view(dossier, config, now),
        "verified": True,
        "applicant_name": dossier.applicant_name,
        "missing_documents": dossier.missing_documents,
        "rejection_reason": dossier.rejection_reason,
        "history": [
            {"status": status, "status_text": STATUS_TEXT[status][0], "at": at.isoformat(), "at_text": _local(at, config)}
            for status, at in dossier.history
        ],
    }


def check_digits(raw: object) -> str:
    """The 4 digits the citizen typed, or a 400 refusal (a malformed entry is not counted as a wrong try)."""
    text = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else ""
    if not re.fullmatch(r"[0-9]{4}", text):
        raise LookupRefused(400, "bad_verify", "Vui lòng nhập đúng 4 chữ số cuối của số CCCD hoặc số điện thoại.",
                            "Please enter exactly the last 4 digits of the ID number or phone number.")
    return text


def _verify(db: sqlite_utils.Database, dossier: Dossier, digits: str, now: datetime, limits: DossierLookup) -> None:
    """Accept the right digits; count wrong ones; refuse everything while the dossier is locked."""
    max_failures, window = limits.max_verify_failures, timedelta(minutes=limits.verify_window_minutes)
    day = timedelta(days=1)
    with store.write_transaction(db):
        since = store.ts(now - window)
        # Failures older than a day (and the window) no longer count anywhere.
        db.execute("DELETE FROM dossier_verify_failures WHERE at < ?", [store.ts(now - max(window, day))])
        today = [row[0] for row in db.execute(
            "SELECT at FROM dossier_verify_failures WHERE code = ? AND at >= ? ORDER BY at", [dossier.code, store.ts(now - day)])]
        failures = [at for at in today if at >= since]
        if len(today) >= limits.max_verify_failures_per_day:
            unlock = datetime.fromisoformat(today[-limits.max_verify_failures_per_day]) + day
            raise LookupRefused(
                429, "verify_locked",
                "Đã nhập sai quá nhiều lần trong ngày. Vui lòng mang giấy tờ tùy thân đến quầy để được xem đầy đủ hồ sơ.",
                "Too many wrong attempts today. Please bring your ID to the counter to see the whole dossier.",
                retry_after=max(1, int((unlock - now).total_seconds()) + 1),
            )
        if len(failures) >= max_failures:
            # Locked even for the right digits: otherwise the lock would not stop trying all 10,000.
            unlock = datetime.fromisoformat(failures[-max_failures]) + window
            wait = max(1, int((unlock - now).total_seconds()) + 1)
            minutes = max(1, -(-wait // 60))
            raise LookupRefused(
                429, "verify_locked",
                f"Đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút hoặc hỏi cán bộ tại quầy.",
                f"Too many wrong attempts. Please try again in {minutes} minutes or ask the staff at the counter.",
                retry_after=wait,
            )
        if not (dossier.id_last4 or dossier.phone_last4):
            raise LookupRefused(403, "verify_unavailable",
                                "Hồ sơ này chưa có thông tin để xác minh. Vui lòng hỏi cán bộ tại quầy.",
                                "This dossier has nothing to verify against. Please ask the staff at the counter.")
        # Both comparisons always run, in constant time, so timing tells nothing about which one matched.
        by_id = hmac.compare_digest(digits.encode(), (dossier.id_last4 or "----").encode())
        by_phone = hmac.compare_digest(digits.encode(), (dossier.phone_last4 or "----").encode())
        if by_id | by_phone:
            db.execute("DELETE FROM dossier_verify_failures WHERE code = ?", [dossier.code])
            return
        db.execute("INSERT INTO dossier_verify_failures (code, at) VALUES (?, ?)", [dossier.code, store.ts(now)])
        left = max_failures - len(failures) - 1
    minutes = limits.verify_window_minutes
    raise LookupRefused(
        403, "verify_failed",
        f"Số xác minh không đúng. Còn {left} lần thử." if left else
        f"Số xác minh không đúng. Đã hết số lần thử, vui lòng thử lại sau {minutes} phút hoặc hỏi cán bộ tại quầy.",
        f"Wrong verification digits. {left} tries left." if left else
        f"Wrong verification digits. No tries left; try again in {minutes} minutes or ask the staff at the counter.",
        extra={"attempts_left": left},
    )


def lookup(db: sqlite_utils.Database, config: OfficeConfig, raw_code: object, now: datetime,
           verify: object | None = None) -> dict[str, Any]:
    """The answer for one lookup: {"ok": True, "dossier": {...}}; raises LookupRefused otherwise."""
    code = code_or_refuse(raw_code)
    digits = check_digits(verify) if verify not in (None, "") else None
    dossier = store.get(db, code, with_history=digits is not None)
    if dossier is None:
        raise not_found()
    if digits is None:
        return {"ok": True, "dossier": public_view(dossier, config, now)}
    _verify(db, dossier, digits, now, config.dossier_lookup)
    return {"ok": True, "dossier": full_view(dossier, config, now)}


def ready_list(db: sqlite_utils.Database, config: OfficeConfig, limit: int = 30) -> list[dict[str, Any]]:
    """The results TV's list: masked code and name, procedure, counter; nothing else."""
    return [
        {
            "code": mask_code(d.code),
            "applicant": mask_name(d.applicant_name),
            "procedure_name": d.procedure_name or d.procedure_code,
            "counter": counter_name(config, d.return_counter),
        }
        for d in store.ready(db, max(1, min(limit, READY_LIST_MAX)))
    ]
