"""Write a report as CSV (UTF-8 with BOM, so spreadsheets show Vietnamese), XLSX (openpyxl) or PDF."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from queue_server.reports.tables import Minutes, Share, Table, tables

FORMATS = ("csv", "xlsx", "pdf")


def write(report: dict[str, Any], path: str | Path, fmt: str, tz: Any, lang: str = "vi") -> Path:
    """Write the report to `path` in one of FORMATS; returns the path."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    if fmt == "pdf":
        from queue_server.reports.pdf import write_pdf

        write_pdf(report, path, tz, lang)
    else:
        data = to_csv(report, tz, lang).encode("utf-8-sig") if fmt == "csv" else to_xlsx(report, tz, lang)
        path.write_bytes(data)
    return path


def _plain(cell: Any) -> Any:
    if isinstance(cell, Minutes):
        return "" if cell.value is None else cell.value
    if isinstance(cell, Share):
        return "" if cell.fraction is None else f"{cell.fraction * 100:.1f}%"
    return "" if cell is None else cell


def to_csv(report: dict[str, Any], tz: Any, lang: str = "vi") -> str:
    """Every table one after the other: a title line, the header, the rows, an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([report["office_name"]])
    for table in tables(report, tz, lang):
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([_plain(c) for c in row] for row in table.rows)
        if table.note:
            writer.writerow([table.note])
        writer.writerow([])
    return out.getvalue()


def to_xlsx(report: dict[str, Any], tz: Any, lang: str = "vi") -> bytes:
    """One sheet per table, numbers kept as numbers (minutes 0.0, shares as percentages)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    header_fill = PatternFill("solid", fgColor="DDE7F0")
    for table in tables(report, tz, lang):
        sheet = book.create_sheet(_sheet_name(table))
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([report["office_name"]])
        sheet.append(table.columns)
        for cell in sheet[3]:
            cell.font, cell.fill = Font(bold=True), header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            sheet.append([_xlsx_value(c) for c in row])
            for cell, value in zip(sheet[sheet.max_row], row, strict=False):
                if isinstance(value, Minutes):
                    cell.number_format = "0.0"
                elif isinstance(value, Share):
                    cell.number_format = "0.0%"
        if table.note:
            sheet.append([table.note])
        for i, title in enumerate(table.columns, start=1):
            widest = max([len(str(title)) * 0.6, *(len(str(_plain(r[i - 1]))) for r in table.rows)])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(10, widest + 2))
        sheet.freeze_panes = "B4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(cell: Any) -> Any:
    if isinstance(cell, Minutes):
        return cell.value
    if isinstance(cell, Share):
        return cell.fraction
    return cell


def _sheet_name(table: Table) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    name = "".join(ch for ch in table.title if ch not in "[]:*?/\\")
    return name[:31]
