"""The procedure (thủ tục hành chính) as the kiosk shows it, and the checks every import passes.

Every import format is first turned into the native dictionary shape (see docs/procedures.md),
then `procedure_from_dict` validates it; a problem raises InvalidProcedure with a Vietnamese
reason (from the catalog entries procedures.invalid.*) that the import report shows next to the row.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from typing import Any

from motcua import i18n
from queue_server.procedures.folding import fold

# Codes appear in URLs (/api/procedures/<code>) and directory names of forms: keep them plain.
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FORM_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
MAX_TEXT = 4000  # one step, document name or fee line; more is a pasting accident
MAX_ITEMS = 200

DOCUMENT_KINDS = ("original", "copy", "original_or_copy")  # shown as the catalog entries procedures.document_kind.*
# Words an office may type in a spreadsheet for the kind of a document (compared folded).
DOCUMENT_KIND_ALIASES = {
    "original": "original", "ban chinh": "original", "chinh": "original",
    "copy": "copy", "ban sao": "copy", "sao": "copy", "ban sao co chung thuc": "copy",
    "original or copy": "original_or_copy",  # fold() turns '_' into a space
    "ban chinh hoac ban sao": "original_or_copy", "chinh hoac sao": "original_or_copy",
}
# How a procedure is offered online under Decree 42/2022/NĐ-CP, shown as the catalog entries
# procedures.level.*: information only, a partly online service, a fully online service.
LEVELS = ("information", "partial", "full")
# The levels 1-4 used before Decree 42/2022/NĐ-CP, still found in older catalogues and databases.
OLD_LEVELS = {1: "information", 2: "information", 3: "partial", 4: "full"}
# Words a source may write instead (compared folded); checked in this order.
LEVEL_WORDS = (("toan trinh", "full"), ("mot phan", "partial"), ("thong tin", "information"),
               ("full", "full"), ("partial", "partial"), ("information", "information"))


def document_kind_name(kind: str, lang: str = i18n.DEFAULT_LANGUAGE) -> str:
    """'Bản chính' for 'original'; an unknown kind as it is."""
    return i18n.text(f"procedures.document_kind.{kind}", lang) if kind in DOCUMENT_KINDS else kind


def level_name(level: str | int | None, lang: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """'Dịch vụ công trực tuyến toàn trình' for 'full' (or an old 4 stored before); None for no level."""
    level = OLD_LEVELS.get(level, level) if isinstance(level, int) else level
    return i18n.text(f"procedures.level.{level}", lang) if level in LEVELS else None


def default_fee_name() -> str:
    """The name of a fee the source gives no name (stored with the procedure, in Vietnamese)."""
    return i18n.text("procedures.fee.default_name")


def reason(key: str, **params: Any) -> str:
    """A reason for the import report: the Vietnamese catalog entry procedures.<key>."""
    return i18n.text(f"procedures.{key}", i18n.DEFAULT_LANGUAGE, **params)


class What:
    """The name of a field in a reason (catalog entry procedures.what.<key>), rendered only when a reason is."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return reason(f"what.{self.key}", **self.params)


class InvalidProcedure(ValueError):
    """A procedure that cannot be imported; the message is the reason shown to the office."""


@dataclass(frozen=True)
class RequiredDocument:
    """One paper of the dossier (thành phần hồ sơ)."""

    name: str
    kind: str = "original"  # one of DOCUMENT_KINDS
    count: int = 1
    note: str = ""


@dataclass(frozen=True)
class Fee:
    """One fee or charge (phí, lệ phí); the amount stays text: '2.000 đồng/trang', 'Miễn lệ phí'."""

    name: str
    amount: str


@dataclass(frozen=True)
class Form:
    """A blank form (mẫu đơn, tờ khai) kept as a local file; sha256 lets a re-import notice a new version."""

    name: str
    file: str
    sha256: str = ""


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str = ""
    level: str | None = None  # one of LEVELS
    agency: str = ""
    steps: tuple[str, ...] = ()
    documents: tuple[RequiredDocument, ...] = ()
    processing_time: str = ""
    fees: tuple[Fee, ...] = ()
    legal_basis: tuple[str, ...] = ()
    forms: tuple[Form, ...] = ()
    service: str | None = None
    sample: bool = False
    extra: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)  # e.g. 'result', 'implementing_level'

    def to_dict(self) -> dict[str, Any]:
        """The native JSON shape (lists, not tuples)."""
        data = asdict(self)
        for key in ("steps", "documents", "fees", "legal_basis", "forms"):
            data[key] = list(data[key])
        extra = data.pop("extra")
        data.update({k: v for k, v in extra.items() if k not in data})
        return data

    def content_hash(self) -> str:
        """Same procedure, same hash: a re-import of unchanged data writes nothing."""
        canonical = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# Optional keys kept as they are (short text) so nothing a source publishes is silently lost.
EXTRA_TEXT_KEYS = ("result", "implementing_level", "method", "conditions", "note")


def _text(value: Any, what: str | What, required: bool = False) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidProcedure(reason("invalid.not_text", what=what))
    # Control and invisible format characters (NUL, ESC, zero-width space...) are never text to show;
    # line breaks are kept: a source may put them inside one step on purpose. Runs of spaces collapse.
    # NFC: the same word typed on two keyboards (composed or combining marks) must match, as dossier text does.
    normalised = unicodedata.normalize("NFC", str(value))
    text = "\n".join(" ".join(_visible(line).split()) for line in normalised.strip().splitlines())
    if required and not text:
        raise InvalidProcedure(reason("invalid.missing", what=what))
    if len(text) > MAX_TEXT:
        raise InvalidProcedure(reason("invalid.too_long", what=what, max_chars=MAX_TEXT))
    return text


def _visible(line: str) -> str:
    """A line without control or format characters; a tab or other spacing control becomes a space."""
    return "".join(" " if ch.isspace() else ch for ch in line if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))


def _list(value: Any, what: What) -> list[Any]:
    """A list field; a text is split on line breaks (one item per line, as in a spreadsheet cell)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise InvalidProcedure(reason("invalid.not_list", what=what))
    if len(value) > MAX_ITEMS:
        raise InvalidProcedure(reason("invalid.too_many", what=what, max_items=MAX_ITEMS))
    return value


def parse_level(value: Any) -> str | None:
    """'full', 'partial' or 'information' (Decree 42/2022/NĐ-CP); None when absent.

    Reads today's words ('Toàn trình', 'Một phần', 'Cung cấp thông tin trực tuyến') and the old
    levels: 4 or 'Mức độ 4' is full, 3 partial, 1 and 2 information only.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidProcedure(reason("invalid.bad_level"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return _old_level(value)
    if not isinstance(value, str):
        raise InvalidProcedure(reason("invalid.bad_level"))
    folded = fold(value)
    for words, level in LEVEL_WORDS:
        if words in folded:
            return level
    digits = re.findall(r"\d+", folded)
    if len(digits) == 1:
        return _old_level(int(digits[0]))
    raise InvalidProcedure(reason("invalid.unknown_level", value=value))


def _old_level(number: int) -> str:
    if number not in OLD_LEVELS:
        raise InvalidProcedure(reason("invalid.level_range", level=number))
    return OLD_LEVELS[number]


def _document(item: Any, index: int) -> RequiredDocument:
    what = What("document", number=index + 1)
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise InvalidProcedure(reason("invalid.document_not_object", what=what))
    kind_raw = item.get("kind") or "original"
    kind = DOCUMENT_KIND_ALIASES.get(fold(str(kind_raw)))
    if kind is None:
        raise InvalidProcedure(reason("invalid.bad_document_kind", what=what, kind=kind_raw))
    count = item.get("count", 1)
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count.strip())
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
        raise InvalidProcedure(reason("invalid.bad_document_count", what=what))
    return RequiredDocument(
        name=_text(item.get("name"), What("document_name", what=what), required=True), kind=kind, count=count,
        note=_text(item.get("note"), What("document_note", what=what)),
    )


def _fee(item: Any, index: int) -> Fee:
    if isinstance(item, str):
        return Fee(name=default_fee_name(), amount=_text(item, What("fee", number=index + 1), required=True))
    if not isinstance(item, dict):
        raise InvalidProcedure(reason("invalid.fee_not_object", number=index + 1))
    return Fee(name=_text(item.get("name") or default_fee_name(), What("fee_name", number=index + 1)),
               amount=_text(item.get("amount"), What("fee_amount", number=index + 1), required=True))


def _form(item: Any, index: int) -> Form:
    if isinstance(item, str):
        item = {"file": item}
    if not isinstance(item, dict):
        raise InvalidProcedure(reason("invalid.form_not_object", number=index + 1))
    path = _text(item.get("file"), What("form_file", number=index + 1), required=True)
    name = _text(item.get("name"), What("form_name", number=index + 1)) or path.rsplit("/", 1)[-1]
    return Form(name=name, file=path, sha256=str(item.get("sha256") or ""))


def procedure_from_dict(data: Any, services: Collection[str] | None = None, sample: bool = False) -> Procedure:
    """Validate one procedure in the native shape; `services` are the office's service codes."""
    if not isinstance(data, dict):
        raise InvalidProcedure(reason("invalid.not_an_object"))
    code = _text(data.get("code"), What("code"), required=True)
    if not CODE_RE.match(code):
        raise InvalidProcedure(reason("invalid.bad_code", code=code))
    service = _text(data.get("service"), What("service")) or None
    if service is not None and services is not None and service not in services:
        raise InvalidProcedure(reason("invalid.unknown_service", service=service, services=", ".join(sorted(services))))
    raw_sample = data.get("sample", sample)
    if not isinstance(raw_sample, bool):
        raise InvalidProcedure(reason("invalid.bad_sample"))
    extra = {key: _text(data[key], key) for key in EXTRA_TEXT_KEYS if data.get(key)}
    return Procedure(
        code=code,
        name=_text(data.get("name"), What("name"), required=True),
        field=_text(data.get("field"), What("field")),
        level=parse_level(data.get("level")),
        agency=_text(data.get("agency"), What("agency")),
        steps=tuple(_text(s, What("step", number=i + 1), required=True) for i, s in enumerate(_list(data.get("steps"), What("steps")))),
        documents=tuple(_document(d, i) for i, d in enumerate(_list(data.get("documents"), What("documents")))),
        processing_time=_text(data.get("processing_time"), What("processing_time")),
        fees=tuple(_fee(f, i) for i, f in enumerate(_list(data.get("fees"), What("fees")))),
        legal_basis=tuple(_text(b, What("legal_basis_item", number=i + 1), required=True)
                          for i, b in enumerate(_list(data.get("legal_basis"), What("legal_basis")))),
        forms=tuple(_form(f, i) for i, f in enumerate(_list(data.get("forms"), What("forms")))),
        service=service,
        sample=raw_sample,
        extra=extra,
    )
