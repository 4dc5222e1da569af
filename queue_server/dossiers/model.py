"""The dossier as this appliance keeps it, and the validation of one update from a source system."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from motcua import i18n
from queue_server.dossiers.codes import CodeError, parse_code
from queue_server.dossiers.privacy import last_digits

RECEIVED = "received"
PROCESSING = "processing"
NEEDS_DOCUMENTS = "needs_documents"
RESULT_READY = "result_ready"
RETURNED = "returned"
REJECTED = "rejected"
STATUSES = (RECEIVED, PROCESSING, NEEDS_DOCUMENTS, RESULT_READY, RETURNED, REJECTED)
FINISHED = (RESULT_READY, RETURNED, REJECTED)  # the office has decided: lateness is judged at that moment



def status_name(status: str, lang: str = i18n.DEFAULT_LANGUAGE) -> str:
    """How a status reads for citizens: the catalog entry dossier.status.<status>."""
    return i18n.text(f"dossier.status.{status}", lang)


# Spellings that source systems use for the same statuses (compared after lowercasing, spaces and dashes as "_").
STATUS_ALIASES = {
    "tiep_nhan": RECEIVED, "da_tiep_nhan": RECEIVED, "new": RECEIVED,
    "in_processing": PROCESSING, "in_progress": PROCESSING, "dang_xu_ly": PROCESSING, "dang_giai_quyet": PROCESSING,
    "supplement": NEEDS_DOCUMENTS, "bo_sung": NEEDS_DOCUMENTS, "can_bo_sung": NEEDS_DOCUMENTS, "needs_more_documents": NEEDS_DOCUMENTS,
    "ready": RESULT_READY, "co_ket_qua": RESULT_READY, "da_co_ket_qua": RESULT_READY,
    "done": RETURNED, "da_tra": RETURNED, "da_tra_ket_qua": RETURNED,
    "tu_choi": REJECTED, "refused": REJECTED,
}

MAX_TEXT = {"procedure_code": 100, "procedure_name": 500, "applicant_name": 200, "return_counter": 50,
            "return_service": 50, "rejection_reason": 2000, "source_id": 100, "received_by": 100}
MAX_DOCUMENTS = 50
MAX_FUTURE = timedelta(days=1)  # an update stamped further ahead would block every real update after it
DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")  # spreadsheets exported by offices
# Years a real dossier time can have. Outside them it is a placeholder or a typo ("0001-01-01", "9999-12-31"),
# and such times overflow when moved to UTC or to local time for display.
MIN_YEAR, MAX_YEAR = 1970, 2199


class ItemError(ValueError):
    """One update cannot be accepted; `reason` is stable, the messages say which field and why."""

    def __init__(self, reason: str, message: str, message_en: str, detail: str | None = None) -> None:
        super().__init__(f"{reason}: {message_en}")
        self.reason = reason
        self.message = message
        self.message_en = message_en
        self.detail = detail  # the finer reason, e.g. the code parser's "partial"

    def as_dict(self) -> dict[str, str]:
        result = {"code": self.reason, "message": self.message, "message_en": self.message_en}
        if self.detail:
            result["detail"] = self.detail
        return result


@dataclass(frozen=True)
class Due:
    """A due date for the result: a whole day (due by its end) or an exact time."""

    value: str  # "YYYY-MM-DD" or an ISO datetime in UTC

    @property
    def date_only(self) -> bool:
        return len(self.value) == 10

    def deadline(self, tz: ZoneInfo) -> datetime:
        """The exact due time, or for a whole day the midnight that ends it."""
        if self.date_only:
            return datetime.combine(date.fromisoformat(self.value) + timedelta(days=1), time(0), tz)
        return datetime.fromisoformat(self.value)

    def text(self, tz: ZoneInfo) -> str:
        if self.date_only:
            return date.fromisoformat(self.value).strftime("%d/%m/%Y")
        return datetime.fromisoformat(self.value).astimezone(tz).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class DossierUpdate:
    """One validated update: the whole dossier as the source saw it at `updated_at`."""

    code: str
    updated_at: datetime
    status: str
    status_at: datetime
    procedure_code: str | None
    procedure_name: str | None
    received_at: datetime
    due: Due | None
    applicant_name: str | None
    id_last4: str | None
    phone_last4: str | None
    return_counter: str | None
    return_service: str | None
    missing_documents: tuple[str, ...] = ()
    rejection_reason: str | None = None
    late: bool | None = None
    received_by: str | None = None  # the official who received it (staff id): reports per official
    apology_sent: bool | None = None  # a late dossier's written apology (thư xin lỗi) was sent


@dataclass(frozen=True, kw_only=True)
class Dossier(DossierUpdate):
    """A stored dossier: the latest update accepted, who sent it, when it was first decided."""

    source: str
    finished_at: datetime | None
    history: tuple[tuple[str, datetime], ...] = ()

    def is_late(self, now: datetime, tz: ZoneInfo) -> bool | None:
        """Late against the due date: at the decision if there was one, else now; None without a due date."""
        if self.late is not None:
            return self.late  # the source knows its own rules (suspended days, extensions)
        if self.due is None:
            return None
        moment, deadline = self.finished_at or now, self.due.deadline(tz)
        return moment >= deadline if self.due.date_only else moment > deadline  # a day ends before the next midnight


def _fail(reason: str, key: str, **params: Any) -> ItemError:
    """An ItemError worded by the catalog entry dossier.item.<key>."""
    return ItemError(reason, *i18n.pair(f"dossier.item.{key}", **params))


def clean_text(value: Any, name: str) -> str | None:
    """A text field: control characters removed, NFC, trimmed, bounded; None when empty."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _fail("bad_field", "not_text", name=name)
    text = "".join(ch for ch in unicodedata.normalize("NFC", value) if unicodedata.category(ch) not in ("Cc", "Cf") or ch == " ")
    text = " ".join(text.split())
    limit = MAX_TEXT.get(name, 500)
    if len(text) > limit:
        raise _fail("too_long", "too_long", name=name, limit=limit)
    return text or None


def parse_time(value: Any, name: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 time (or dd/mm/yyyy [HH:MM[:SS]]) in UTC; times without an offset are the office's local time."""
    if not isinstance(value, str) or not value.strip():
        raise _fail("missing_field", "missing_time", name=name)
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise _fail("bad_time", "bad_time", name=name, value=text[:40])
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        result: datetime | None = parsed.astimezone(UTC)
    except OverflowError:
        result = None
    if result is None or not MIN_YEAR <= result.year <= MAX_YEAR:
        raise _out_of_range(name, text)
    return result


def _out_of_range(name: str, text: str) -> ItemError:
    return _fail("bad_time", "time_out_of_range", name=name, min_year=MIN_YEAR, max_year=MAX_YEAR, value=text[:40])


def parse_due(value: Any, tz: ZoneInfo) -> Due | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and len(value.strip()) <= 10 and ":" not in value:
        text = value.strip()
        for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
            try:
                day = parse(text)
            except ValueError:
                continue
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise _out_of_range("due_at", text)
            return Due(day.isoformat())  # a whole day: due by its end
    return Due(parse_time(value, "due_at", tz).isoformat())


def parse_status(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("missing_field", "missing_status")
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    status = key if key in STATUSES else STATUS_ALIASES.get(key)
    if status is None:
        raise _fail("bad_status", "bad_status", value=value[:40], statuses=", ".join(STATUSES))
    return status


def parse_bool(value: Any, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "co", "có", "false", "0", "no", "khong", "không"):
        return value.strip().lower() in ("true", "1", "yes", "co", "có")
    raise _fail("bad_field", "not_bool", name=name)


def parse_documents(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split("|") if isinstance(value, str) else value  # CSV cells list documents separated by |
    if not isinstance(items, list | tuple):
        raise _fail("bad_field", "documents_not_list")
    if len(items) > MAX_DOCUMENTS:
        raise _fail("too_long", "too_many_documents", max_documents=MAX_DOCUMENTS)
    docs = [clean_text(item, "missing_documents") for item in items]
    return tuple(d for d in docs if d)


def _nested(item: dict[str, Any], outer: str, inner: str, flat: str) -> Any:
    value = item.get(flat)
    if value is None and isinstance(item.get(outer), dict):
        value = item[outer].get(inner)
    return value


def parse_update(item: Any, tz: ZoneInfo, now: datetime) -> DossierUpdate:
    """Validate one item of a push or an import; raises ItemError naming the first problem."""
    if not isinstance(item, dict):
        raise _fail("not_an_object", "not_an_object")
    try:
        code = parse_code(item.get("code")).code
    except CodeError as exc:
        vi, en = i18n.text("dossier.item.bad_code", "vi", message=exc.message), i18n.text("dossier.item.bad_code", "en", message=exc.message_en)
        raise ItemError("bad_code", vi, en, detail=exc.reason) from None
    updated_at = parse_time(item.get("updated_at"), "updated_at", tz)
    if updated_at > now + MAX_FUTURE:
        raise _fail("future_time", "future_time")
    status = parse_status(item.get("status"))
    status_at = parse_time(item["status_at"], "status_at", tz) if item.get("status_at") else updated_at
    procedure_code = clean_text(_nested(item, "procedure", "code", "procedure_code"), "procedure_code")
    procedure_name = clean_text(_nested(item, "procedure", "name", "procedure_name"), "procedure_name")
    if not procedure_code and not procedure_name:
        raise _fail("missing_field", "missing_procedure")
    missing = parse_documents(item.get("missing_documents"))
    return DossierUpdate(
        code=code,
        updated_at=updated_at,
        status=status,
        status_at=status_at,
        procedure_code=procedure_code,
        procedure_name=procedure_name,
        received_at=parse_time(item.get("received_at"), "received_at", tz),
        due=parse_due(item.get("due_at"), tz),
        applicant_name=clean_text(_nested(item, "applicant", "name", "applicant_name"), "applicant_name"),
        id_last4=last_digits(clean_text(_nested(item, "applicant", "id_number", "applicant_id_number"), "applicant_id_number")),
        phone_last4=last_digits(clean_text(_nested(item, "applicant", "phone", "applicant_phone"), "applicant_phone")),
        return_counter=clean_text(item.get("return_counter"), "return_counter"),
        return_service=clean_text(item.get("return_service"), "return_service"),
        missing_documents=missing,
        rejection_reason=clean_text(item.get("rejection_reason"), "rejection_reason"),
        late=parse_bool(item.get("late"), "late"),
        received_by=clean_text(item.get("received_by"), "received_by"),
        apology_sent=parse_bool(item.get("apology_sent"), "apology_sent"),
    )
