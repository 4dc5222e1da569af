"""Import a catalogue file: validate every row, then create, update, reactivate or retire in one transaction.

Idempotent: an unchanged procedure is not written again. With retire_missing, the active
procedures of the same source that the file no longer lists are retired (hidden from search,
kept in the database); a code that appears in the file, even on a rejected row, is never retired.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.procedures import db as pdb
from queue_server.procedures.formats import RawCatalogue, read
from queue_server.procedures.model import FORM_FILE_RE, Form, InvalidProcedure, Procedure, procedure_from_dict, reason
from queue_server.store import write_transaction

MAX_FORM_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """A rejected row (or a warning about one): where it is, its code if it has one, and why."""

    reason: str
    row: int | None = None
    index: int | None = None
    code: str | None = None

    def where(self) -> str:
        if self.row is not None:
            return reason("place.row", row=self.row)
        if self.index is not None:
            return reason("place.index", index=self.index)
        return reason("place.file")

    def as_dict(self) -> dict[str, Any]:
        place = {"row": self.row} if self.row is not None else {"index": self.index} if self.index is not None else {}
        return {**place, "code": self.code, "reason": self.reason}

    def line(self) -> str:
        code = " " + reason("place.code", code=self.code) if self.code else ""
        return f"{self.where()}{code}: {self.reason}"


@dataclass
class ImportReport:
    source: str
    format: str
    total: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.reactivated or self.retired)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "format": self.format, "total": self.total,
            "created": self.created, "updated": self.updated, "reactivated": self.reactivated,
            "unchanged": len(self.unchanged), "retired": self.retired,
            "rejected": [p.as_dict() for p in self.rejected], "warnings": [p.as_dict() for p in self.warnings],
        }

    def summary(self) -> str:
        return reason("import.summary", source=self.source, format=self.format, total=self.total, created=len(self.created),
                      updated=len(self.updated), reactivated=len(self.reactivated), unchanged=len(self.unchanged),
                      retired=len(self.retired), rejected=len(self.rejected))


@dataclass
class _Valid:
    procedure: Procedure
    files: dict[str, bytes]  # form file name -> content


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _load_forms(procedure: Procedure, base_dir: Path, problem: Problem) -> tuple[Procedure, dict[str, bytes], list[Problem]]:
    """Read the form files a procedure names; a bad one is dropped with a warning, not the procedure."""
    base = base_dir.resolve()
    forms: list[Form] = []
    files: dict[str, bytes] = {}
    warnings: list[Problem] = []
    for form in procedure.forms:
        def warn(key: str, form: Form = form, **params: Any) -> None:
            why = reason(f"form.{key}", **params)
            warnings.append(replace(problem, reason=reason("form.skipped", file=form.file, reason=why)))

        if "://" in form.file:
            warn("remote")
            continue
        path = (base / form.file).resolve()
        if not path.is_relative_to(base) or path == base:
            warn("outside")
            continue
        name = path.name
        if not FORM_FILE_RE.match(name):
            warn("bad_name")
            continue
        if name in files:
            warn("duplicate")
            continue
        try:
            if path.stat().st_size > MAX_FORM_BYTES:
                warn("too_large", max_mb=MAX_FORM_BYTES // (1024 * 1024))
                continue
            content = path.read_bytes()
        except (OSError, ValueError):  # ValueError: a NUL byte in the path
            warn("unreadable")
            continue
        files[name] = content
        forms.append(Form(name=form.name, file=name, sha256=hashlib.sha256(content).hexdigest()))
    return replace(procedure, forms=tuple(forms)), files, warnings


def validate(raw: RawCatalogue, services: Collection[str] | None, report: ImportReport) -> tuple[list[_Valid], set[str]]:
    """The valid procedures, and every code the file mentions (valid or not)."""
    valid: list[_Valid] = []
    seen: dict[str, Problem] = {}
    for entry in raw.entries:
        place = Problem("", row=entry.row, index=entry.index, code=entry.code)
        report.total += 1
        if entry.error is not None or entry.data is None:
            report.rejected.append(replace(place, reason=entry.error or reason("import.empty_row")))
            if entry.code:
                seen.setdefault(entry.code, place)
            continue
        try:
            procedure = procedure_from_dict(entry.data, services, sample=raw.sample)
        except InvalidProcedure as exc:
            report.rejected.append(replace(place, reason=str(exc)))
            if entry.code:
                seen.setdefault(entry.code, place)
            continue
        place = replace(place, code=procedure.code)
        if procedure.code in seen:
            report.rejected.append(replace(place, reason=reason("import.duplicate_code", place=seen[procedure.code].where())))
            continue
        seen[procedure.code] = place
        procedure, files, warnings = _load_forms(procedure, raw.base_dir, place)
        report.warnings += warnings
        valid.append(_Valid(procedure, files))
    return valid, set(seen)


def apply(db: sqlite_utils.Database, raw: RawCatalogue, source: str, retire_missing: bool = True,
          services: Collection[str] | None = None, forms_root: Path | None = None) -> ImportReport:
    """Write a read catalogue to the database; returns what happened to each row."""
    report = ImportReport(source=source, format=raw.format)
    report.warnings += [Problem(w) for w in raw.warnings]
    valid, mentioned = validate(raw, services, report)
    now = _now()
    with write_transaction(db):  # read then write: take the lock first (the server writes meanwhile)
        existing = {row[1]: row for row in db.execute("SELECT id, code, content_hash, source, active FROM procedures")}
        for item in valid:
            p = item.procedure
            digest = p.content_hash()
            values = [p.name, p.field, p.level, p.agency, p.service, source, int(p.sample), digest,
                      json.dumps(p.to_dict(), ensure_ascii=False)]
            old = existing.get(p.code)
            if old is None:
                cursor = db.execute(
                    "INSERT INTO procedures (name, field, level, agency, service, source, sample, content_hash, data, "
                    "code, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    [*values, p.code, now, now],
                )
                pdb.index(db, cursor.lastrowid, p)
                report.created.append(p.code)
                continue
            rowid, _, old_hash, old_source, active = old
            if old_hash == digest and old_source == source and active:
                report.unchanged.append(p.code)
                continue
            db.execute(
                "UPDATE procedures SET name = ?, field = ?, level = ?, agency = ?, service = ?, source = ?, sample = ?, "
                "content_hash = ?, data = ?, active = 1, retired_at = NULL, updated_at = ? WHERE id = ?",
                [*values, now, rowid],
            )
            pdb.index(db, rowid, p)
            (report.updated if active else report.reactivated).append(p.code)
        if retire_missing and not valid:
            # An empty or wholly rejected file is a mistake far more often than the end of every procedure.
            report.warnings.append(Problem(reason("import.nothing_valid")))
        elif retire_missing:
            for code, (rowid, _, _, old_source, active) in existing.items():
                if old_source == source and active and code not in mentioned:
                    db.execute("UPDATE procedures SET active = 0, retired_at = ?, updated_at = ? WHERE id = ?", [now, now, rowid])
                    pdb.unindex(db, rowid)
                    report.retired.append(code)
        if report.changed:
            pdb.bump_revision(db)
    if forms_root is not None:
        for item in valid:
            _write_forms(forms_root, item)
    return report


def _write_forms(forms_root: Path, item: _Valid) -> None:
    """Keep <forms_root>/<code>/ equal to the procedure's forms (written even when the row was unchanged, to repair)."""
    folder = forms_root / item.procedure.code
    if not item.files and not folder.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in item.files.items():
        target = folder / name
        if target.exists() and target.read_bytes() == content:
            continue
        # open() honours the umask as any created file does (mkstemp would force 0600, and a server
        # running as its own user could not read forms that root imported; issue 14).
        tmp = folder / f".tmp-{secrets.token_hex(8)}"
        with open(tmp, "xb") as out:
            out.write(content)
        os.replace(tmp, target)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in item.files:
            stale.unlink()


def import_file(db: sqlite_utils.Database, path: str | Path, fmt: str | None = None, source: str | None = None,
                retire_missing: bool = True, services: Collection[str] | None = None,
                forms_root: Path | None = None) -> ImportReport:
    """Read and apply one file. `source` defaults to the one the file declares, else its file name."""
    path = Path(path)
    raw = read(path, fmt)
    return apply(db, raw, source or raw.source or path.name, retire_missing, services, forms_root)
