"""Exports open: XLSX read back, CSV parsed, PDF rendered to PNG by pdftoppm (look at it: docs/img/)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest

from queue_server.office import Office
from queue_server.reports.export import to_csv, write
from queue_server.reports.report import build
from queue_server.reports.visits import ReportDB
from queue_server.store import Store
from tests.conftest import ROOT, run_cli
from tests.integration.report_day import known_day
from tests.staff_support import seed_officials


@pytest.fixture
def report(tmp_path, config, clock):
    store = Store(tmp_path / "data" / "motcua.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    office = Office(config, store, clock)
    known_day(office, clock)
    rdb = ReportDB(store.path, config)
    data = build(rdb, date(2026, 11, 23), date(2026, 11, 23), now=clock.now())
    rdb.close(), store.close()
    return data


def test_the_xlsx_reads_back_with_the_figures(report, tmp_path, config):
    from openpyxl import load_workbook

    path = write(report, tmp_path / "bao-cao.xlsx", "xlsx", config.tz)
    book = load_workbook(path)
    assert "Theo lĩnh vực" in book.sheetnames and "Đối chiếu chỉ tiêu" in book.sheetnames
    sheet = book["Theo lĩnh vực"]
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["Lĩnh vực", "Số lượt cấp số", "Đã phục vụ"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    ht = rows["Tư pháp - Hộ tịch"]
    assert ht[1] == 2 and ht[2] == 2 and ht[5] == 10.0  # issued, served, mean wait 10.0 minutes
    assert ht[7] == pytest.approx(2 / 3)  # share within 15 minutes, a number formatted as a percentage
    assert sheet.cell(row=4, column=8).number_format == "0.0%"


def test_the_csv_has_every_table_in_vietnamese(report, config):
    text = to_csv(report, config.tz)
    rows = list(csv.reader(io.StringIO(text)))
    titles = [r[0] for r in rows if len(r) == 1]
    assert "Theo quầy" in titles and "Lý do đánh giá" in titles
    summary_at = next(i for i, r in enumerate(rows) if r == ["Tổng hợp"])
    values = rows[summary_at + 2]
    assert values[1:5] == ["4", "2", "1", "1"] and values[5] == "8.8"  # 525 s mean wait


def test_the_pdf_renders_to_png(report, tmp_path, config):
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: run ./setup.sh test (it installs poppler-utils)")
    pdf = write(report, tmp_path / "bao-cao.pdf", "pdf", config.tz)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and pages[0].stat().st_size > 20_000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # The words come out of the PDF as written: the font covers Vietnamese (a missing glyph would not).
    for words in ("Báo cáo tình hình tiếp nhận và phục vụ", "Thời gian chờ trung bình mỗi lượt", "Tư pháp - Hộ tịch", "Quầy 1", "Chưa đạt"):
        assert words in text, words
    shutil.copy(pages[0], tmp_path / "look-at-me.png")


def test_motcua_report_writes_each_format(report, tmp_path, config):
    data = tmp_path / "data"
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"r.{fmt}"
        result = run_cli("report", "--config", str(ROOT / "firmware_config/office.example.toml"), "--data", str(data),
                         "--from", "23/11/2026", "--to", "2026-11-23", "--format", fmt, "--output", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 500
    bad = run_cli("report", "--data", str(data), "--config", str(ROOT / "firmware_config/office.example.toml"), "--from", "2026-11-23", "--to", "2026-11-01")
    assert bad.returncode == 1 and "before it starts" in bad.stderr


def test_motcua_plan_from_the_profile_and_for_a_proposed_staffing():
    result = run_cli("plan", "--config", str(ROOT / "firmware_config/office.example.toml"), "--numbers", "300", "--staff", "6", "--days", "3", "--json")
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert {r["hour"] for r in data["plan"]} >= {8, 14} and data["simulation"]["visits"] > 200
    assert data["formula"]["mean_wait_minutes"] is not None and data["simulation"]["mean_wait_minutes"] < 15
    bad = run_cli("plan", "--config", str(ROOT / "firmware_config/office.example.toml"), "--staff", "XX=2")
    assert bad.returncode == 2 and "unknown field" in bad.stderr
