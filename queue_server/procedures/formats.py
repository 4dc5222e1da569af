"""Read the three import formats into entries of the native shape, one per row, before validation.

- json: native, {"source": ..., "sample": ..., "procedures": [...]} or a bare list (docs/procedures.md)
- csv: one procedure per row, list cells one item per line, UTF-8 (Excel's BOM accepted), ',' ';' or tab
- national: the shape the national procedure database publishes (MaTTHC, TenTTHC, LinhVuc, ...)

A problem with one row becomes that entry's error; only an unreadable file raises ImportFailed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from queue_server.procedures.folding import fold
from queue_server.procedures.model import InvalidProcedure, default_fee_name, reason

FORMATS = ("json", "csv", "national")
MAX_FILE_BYTES = 64 * 1024 * 1024


class ImportFailed(Exception):
    """The whole file cannot be read (not JSON, no header, wrong encoding...)."""


@dataclass
class RawEntry:
    """One row or item as read, converted to the native shape (or with the reason it cannot be)."""

    row: int | None  # CSV: line number where the record starts (the header is line 1)
    index: int | None  # JSON: position in the list, from 0
    data: dict[str, Any] | None
    code: str | None = None
    error: str | None = None


@dataclass
class RawCatalogue:
    format: str
    entries: list[RawEntry]
    base_dir: Path  # relative form paths are read from here
    source: str | None = None  # declared by the file (native JSON only)
    sample: bool = False
    warnings: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str:
    """csv by extension; for JSON, 'national' when the first procedure has a MaTTHC key."""
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    items = _json_items(_read_json(path))[0]
    first = next((item for item in items if isinstance(item, dict)), {})
    return "national" if "MaTTHC" in first or "TenTTHC" in first else "json"


def read(path: Path, fmt: str | None = None) -> RawCatalogue:
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "national":
        return read_national(path)
    if fmt == "json":
        return read_native(path)
    raise ImportFailed(reason("import.unsupported_format", format=fmt, formats=", ".join(FORMATS)))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFailed(reason("import.file_too_large", path=path, max_mb=MAX_FILE_BYTES // (1024 * 1024)))
        return path.read_bytes()
    except OSError as exc:
        raise ImportFailed(reason("import.unreadable", path=path, error=exc.strerror or exc)) from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_bytes(path).decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFailed(reason("import.not_utf8", path=path)) from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(reason("import.bad_json", path=path, line=exc.lineno, column=exc.colno, error=exc.msg)) from None
    except RecursionError:  # nested deeper than any catalogue: a clear refusal, not a 500
        raise ImportFailed(reason("import.bad_json", path=path, line=1, column=1, error="nested too deep")) from None


def _json_items(document: Any, keys: tuple[str, ...] = ("procedures", "data", "Data", "DanhSachTTHC", "items")) -> tuple[list[Any], dict[str, Any]]:
    """The list of procedures of a JSON document, and the object around it ({} for a bare list)."""
    if isinstance(document, list):
        return document, {}
    if isinstance(document, dict):
        for key in keys:
            if isinstance(document.get(key), list):
                return document[key], document
    raise ImportFailed(reason("import.no_list", keys=" / ".join(repr(k) for k in keys)))


def _code_of(item: Any, key: str) -> str | None:
    if isinstance(item, dict) and isinstance(item.get(key), str | int) and not isinstance(item.get(key), bool):
        return str(item[key]).strip() or None
    return None


# --- native JSON ------------------------------------------------------------------------

def read_native(path: Path) -> RawCatalogue:
    items, envelope = _json_items(_read_json(path))
    source = envelope.get("source") if isinstance(envelope.get("source"), str) else None
    sample = envelope.get("sample") is True
    entries = [
        RawEntry(row=None, index=i, data=item if isinstance(item, dict) else None, code=_code_of(item, "code"),
                 error=None if isinstance(item, dict) else reason("invalid.not_an_object"))
        for i, item in enumerate(items)
    ]
    return RawCatalogue("json", entries, path.parent, source=source or None, sample=sample)


# --- CSV ----------------------------------------------------------------------------------

# Column headers, compared folded, so 'Mã TTHC', 'ma tthc' and 'code' all work.
CSV_COLUMNS: dict[str, str] = {}
for _key, _aliases in {
    "code": ("code", "ma", "ma thu tuc", "ma tthc", "matthc"),
    "name": ("name", "ten", "ten thu tuc", "ten tthc", "tentthc"),
    "field": ("field", "linh vuc", "linhvuc"),
    "level": ("level", "muc do", "mucdo", "muc do dvc", "muc do dich vu cong truc tuyen"),
    "agency": ("agency", "co quan thuc hien", "co quan", "coquanthuchien"),
    "service": ("service", "quay", "ma quay", "ma linh vuc tiep nhan", "dich vu"),
    "processing_time": ("processing time", "processing_time", "thoi han giai quyet", "thoi han", "thoihangiaiquyet"),
    "steps": ("steps", "trinh tu thuc hien", "cac buoc", "trinhtuthuchien"),
    "documents": ("documents", "thanh phan ho so", "giay to", "thanhphanhoso"),
    "fees": ("fees", "phi le phi", "le phi", "phi", "philephi"),
    "legal_basis": ("legal basis", "legal_basis", "can cu phap ly", "cancuphaply"),
    "forms": ("forms", "mau don", "mau don to khai", "maudontokhai"),
    "result": ("result", "ket qua", "ket qua thuc hien"),
    "sample": ("sample", "du lieu mau"),
}.items():
    for _alias in _aliases:
        CSV_COLUMNS[fold(_alias)] = _key

TRUE_WORDS = {"1", "true", "yes", "x", "co", "dung"}
FALSE_WORDS = {"", "0", "false", "no", "khong", "sai"}


def _lines(cell: str) -> list[str]:
    return [line.strip() for line in cell.splitlines() if line.strip()]


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.split("|")]


def _csv_documents(cell: str) -> list[dict[str, Any]]:
    """One document a line: 'Tên giấy tờ | bản chính | 1 | ghi chú' (kind, count and note optional)."""
    documents = []
    for line in _lines(cell):
        parts = _parts(line)
        document: dict[str, Any] = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            document["kind"] = parts[1]
        if len(parts) > 2 and parts[2]:
            if not parts[2].isdigit():
                raise InvalidProcedure(reason("import.bad_document_count", name=parts[0], count=parts[2]))
            document["count"] = int(parts[2])
        if len(parts) > 3:
            document["note"] = " | ".join(parts[3:])
        documents.append(document)
    return documents


def _csv_pairs(cell: str, first: str, second: str) -> list[dict[str, str]]:
    """'name | value' lines; a line without '|' is the value alone."""
    items = []
    for line in _lines(cell):
        parts = _parts(line)
        items.append({first: parts[0], second: " | ".join(parts[1:])} if len(parts) > 1 else {second: parts[0]})
    return items


def _csv_row(cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: v.strip() for k, v in cells.items() if k in ("code", "name", "field", "level", "agency", "service",
                                                                          "processing_time", "result")}
    data["steps"] = _lines(cells.get("steps", ""))
    data["legal_basis"] = _lines(cells.get("legal_basis", ""))
    data["documents"] = _csv_documents(cells.get("documents", ""))
    data["fees"] = _csv_pairs(cells.get("fees", ""), "name", "amount")
    data["forms"] = _csv_pairs(cells.get("forms", ""), "name", "file")
    if "sample" in cells:
        word = fold(cells["sample"])
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise InvalidProcedure(reason("import.bad_sample_cell", value=cells["sample"]))
        data["sample"] = word in TRUE_WORDS
    return data


def read_csv(path: Path) -> RawCatalogue:
    try:
        text = _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(reason("import.csv_not_utf8", path=path)) from None
    header_line = text.split("\n", 1)[0]
    # Excel in a Vietnamese locale separates with ';' (the comma is the decimal mark there).
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(reason("import.csv_empty", path=path)) from None
    columns = [CSV_COLUMNS.get(fold(name)) for name in header]
    warnings = [reason("import.unknown_column", name=name) for name, key in zip(header, columns, strict=True) if key is None and name.strip()]
    missing = {"code", "name"} - set(columns)
    if missing:
        raise ImportFailed(reason("import.missing_columns", path=path, columns=", ".join(sorted(missing))))
    entries: list[RawEntry] = []
    last_line = reader.line_num
    try:
        for record in reader:
            row, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns):
                entries.append(RawEntry(row, None, None, error=reason("import.too_many_cells", cells=len(record), columns=len(columns))))
                continue
            cells = {key: cell for key, cell in zip(columns, record, strict=False) if key is not None}
            code = cells.get("code", "").strip() or None
            try:
                entries.append(RawEntry(row, None, _csv_row(cells), code=code))
            except InvalidProcedure as exc:
                entries.append(RawEntry(row, None, None, code=code, error=str(exc)))
    except csv.Error as exc:
        raise ImportFailed(reason("import.broken_csv", path=path, line=last_line, error=exc)) from None
    return RawCatalogue("csv", entries, path.parent, warnings=warnings)


# --- national database shape -------------------------------------------------------------

def _first(item: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if item.get(key) not in (None, ""):
            return item[key]
    return None


def _plain(value: Any, *keys: str) -> str:
    """A text from a string, a number, or the first of `keys` of an object."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _plain(_first(value, *keys), *keys)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidProcedure(reason("import.unreadable_value", value=json.dumps(value, ensure_ascii=False)[:80]))
    return str(value).strip()


def _many(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return _lines(value)
    return value if isinstance(value, list) else [value]


def _count(value: Any) -> int:
    if value in (None, ""):
        return 0
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidProcedure(reason("import.bad_copy_count", value=value)) from None


def _national_documents(value: Any, forms: list[dict[str, str]], case: str = "") -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for item in _many(value):
        if isinstance(item, dict) and isinstance(item.get("GiayTo"), list):
            # A group of papers for one case (Trường hợp ...): keep the case as the note.
            documents += _national_documents(item["GiayTo"], forms, _plain(item.get("TruongHop")))
            continue
        if not isinstance(item, dict):
            documents.append({"name": _plain(item), "note": case})
            continue
        original, copy = _count(item.get("BanChinh")), _count(item.get("BanSao"))
        if copy and not original:
            kind, number, note = "copy", copy, ""
        else:
            # Both asked: the original is the paper to bring; the copies go in the note.
            kind, number, note = "original", original or 1, (reason("document.copies_note", copies=copy) if copy else "")
        notes = [n for n in (case, note, _plain(item.get("GhiChu"))) if n]
        documents.append({"name": _plain(_first(item, "TenGiayTo", "Ten")), "kind": kind, "count": number, "note": "; ".join(notes)})
        form = item.get("MauDon")
        if form:
            forms += _national_forms(form)
    return documents


def _national_forms(value: Any) -> list[dict[str, str]]:
    forms = []
    for item in _many(value):
        if isinstance(item, dict):
            forms.append({"name": _plain(_first(item, "TenMau", "Ten", "TenMauDon")),
                          "file": _plain(_first(item, "TepDinhKem", "File", "DuongDan", "TenTep"))})
        else:
            forms.append({"file": _plain(item)})
    return forms


def _national_steps(value: Any) -> list[str]:
    steps = []
    for item in _many(value):
        if isinstance(item, dict):
            title, body = _plain(_first(item, "TenBuoc", "Buoc")), _plain(_first(item, "MoTa", "NoiDung"))
            steps.append(f"{title}: {body}" if title and body else title or body)
        else:
            steps.append(_plain(item))
    return steps


def _national_time(value: Any) -> str:
    parts = []
    for item in _many(value):
        if isinstance(item, dict):
            how = _plain(_first(item, "HinhThucNop", "KenhThucHien"))
            amount = " ".join(p for p in (_plain(item.get("ThoiGian")), _plain(item.get("DonViTinh"))) if p)
            detail = _plain(item.get("MoTa"))
            text = f"{how}: {amount}" if how and amount else how or amount
            parts.append(f"{text} ({detail})" if text and detail else text or detail)
        else:
            parts.append(_plain(item))
    return "\n".join(p for p in parts if p)


def _national_fees(value: Any) -> list[dict[str, str]]:
    fees = []
    for item in _many(value):
        if isinstance(item, dict):
            amount = _plain(_first(item, "MucPhi", "MucThu", "SoTien"))
            detail = _plain(item.get("MoTa"))
            fees.append({"name": _plain(_first(item, "LoaiPhi", "TenPhi")) or default_fee_name(),
                         "amount": f"{amount} ({detail})" if amount and detail else amount or detail})
        else:
            fees.append({"amount": _plain(item)})
    return fees


def _national_legal(value: Any) -> list[str]:
    basis = []
    for item in _many(value):
        if isinstance(item, dict):
            number, title = _plain(_first(item, "SoKyHieu", "SoHieu")), _plain(_first(item, "TrichYeu", "TenVanBan"))
            basis.append(f"{number}: {title}" if number and title else number or title)
        else:
            basis.append(_plain(item))
    return basis


def _joined(value: Any, *keys: str) -> str:
    return ", ".join(p for p in (_plain(v, *keys) for v in _many(value) if not isinstance(v, list)) if p)


def national_to_native(item: dict[str, Any]) -> dict[str, Any]:
    """One procedure as the national database publishes it, in the native shape."""
    forms = _national_forms(item.get("MauDonToKhai"))
    documents = _national_documents(item.get("ThanhPhanHoSo"), forms)
    data: dict[str, Any] = {
        "code": _plain(_first(item, "MaTTHC", "MaThuTuc")),
        "name": _plain(item.get("TenTTHC")),
        "field": _joined(item.get("LinhVuc"), "TenLinhVuc", "Ten"),
        "agency": _joined(item.get("CoQuanThucHien"), "TenCoQuan", "Ten"),
        "level": item.get("MucDo"),
        "steps": _national_steps(item.get("TrinhTuThucHien")),
        "documents": documents,
        "processing_time": _national_time(item.get("ThoiHanGiaiQuyet")),
        "fees": _national_fees(item.get("PhiLePhi")),
        "legal_basis": _national_legal(item.get("CanCuPhapLy")),
        "forms": forms,
        "result": _joined(item.get("KetQuaThucHien"), "TenKetQua", "Ten"),
        "implementing_level": _joined(item.get("CapThucHien"), "TenCap", "Ten"),
    }
    if isinstance(data["level"], dict):
        data["level"] = _plain(data["level"], "TenMucDo", "MucDo", "Ten")
    for local in ("service", "sample"):  # not national fields; an office may add them
        if local in item:
            data[local] = item[local]
    return data


def read_national(path: Path) -> RawCatalogue:
    items, envelope = _json_items(_read_json(path))
    entries = []
    for i, item in enumerate(items):
        code = _code_of(item, "MaTTHC") or _code_of(item, "MaThuTuc")
        if not isinstance(item, dict):
            entries.append(RawEntry(None, i, None, error=reason("invalid.not_an_object")))
            continue
        try:
            entries.append(RawEntry(None, i, national_to_native(item), code=code))
        except InvalidProcedure as exc:
            entries.append(RawEntry(None, i, None, code=code, error=str(exc)))
    source = envelope.get("source") if isinstance(envelope.get("source"), str) else None
    return RawCatalogue("national", entries, path.parent, source=source or None, sample=envelope.get("sample") is True)
