"""The printable PDF report: A4, Vietnamese text in a TTF font from Debian, charts drawn by reportlab.

Fonts: reportlab's built-in Helvetica has no Vietnamese; DejaVu Sans (fonts-dejavu-core) or Noto
Sans (fonts-noto-core) is registered from the system. Charts use reportlab.graphics, so a Pi needs
no matplotlib. Nothing is fetched at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motcua import i18n
from queue_server.reports.tables import Minutes, Share, Table, tables

FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
)
FONT, BOLD = "MotcuaSans", "MotcuaSans-Bold"
BLUE, LIGHT = "#1F4E79", "#DDE7F0"


class FontMissing(RuntimeError):
    """No TTF font with Vietnamese coverage is installed."""


def register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).exists() and Path(bold).exists():
            pdfmetrics.registerFont(TTFont(FONT, regular))
            pdfmetrics.registerFont(TTFont(BOLD, bold))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD)
            return
    raise FontMissing("no Vietnamese font found: install fonts-dejavu-core (apt-get install fonts-dejavu-core)")


def vi_number(cell: Any) -> str:
    """Vietnamese decimals: 8,8 phút and 75,0%; thousands with a dot."""
    if isinstance(cell, Minutes):
        return "" if cell.value is None else f"{cell.value:.1f}".replace(".", ",")
    if isinstance(cell, Share):
        return "" if cell.fraction is None else f"{cell.fraction * 100:.1f}%".replace(".", ",")
    if isinstance(cell, float):
        return f"{cell:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if isinstance(cell, int):
        return f"{cell:,}".replace(",", ".")
    return "" if cell is None else str(cell)


def write_pdf(report: dict[str, Any], path: Path, tz: Any, lang: str = "vi") -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    register_fonts()
    styles = {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, textColor=colors.HexColor(BLUE)),
        "sub": ParagraphStyle("sub", fontName=FONT, fontSize=10, leading=13),
        "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4, textColor=colors.HexColor(BLUE)),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9),
        "note": ParagraphStyle("note", fontName=FONT, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
    }
    page = landscape(A4)
    width = page[0] - 30 * mm

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(15 * mm, 8 * mm, report["office_name"])
        canvas.drawRightString(page[0] - 15 * mm, 8 * mm, i18n.text("report.page", lang, page=doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=12 * mm, bottomMargin=14 * mm,
                            title=i18n.text("report.title", lang), author=report["office_name"])
    story: list[Any] = [
        Paragraph(i18n.text("report.title", lang), styles["title"]),
        Paragraph(report["office_name"], styles["sub"]),
        Paragraph(i18n.text("report.range", lang, start=_day(report["from"]), end=_day(report["to"])) + " — "
                  + i18n.text("report.generated", lang, at=report["generated_at"][:16].replace("T", " ")), styles["sub"]),
        Spacer(1, 4 * mm),
    ]
    all_tables = tables(report, tz, lang)
    story.append(_table(all_tables[0], styles, width, colors))  # the targets first, then the charts
    story.append(Spacer(1, 3 * mm))
    story.append(KeepTogether([Paragraph(i18n.text("report.chart.hourly", lang) + "   ·   " + i18n.text("report.chart.distribution", lang), styles["h2"]),
                               charts(report, width, lang)]))
    if len(report["by_period"]) > 1:
        story.append(KeepTogether([Paragraph(i18n.text("report.chart.wait_by_period", lang), styles["h2"]), period_chart(report, width)]))
    for table in all_tables[1:]:
        block = [Paragraph(table.title, styles["h2"])]
        if table.rows:
            block.append(_table(table, styles, width, colors))
        if table.note:
            block.append(Paragraph(table.note, styles["note"]))
        if len(table.rows) < 25:
            story.append(KeepTogether(block))
        else:
            story.extend(block)  # a long table splits across pages; KeepTogether would push it whole
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _table(table: Table, styles: dict[str, Any], width: float, colors: Any) -> Any:
    from reportlab.platypus import LongTable, Paragraph, TableStyle

    head = [Paragraph(c, styles["head"]) for c in table.columns]
    body = [[Paragraph(vi_number(c), styles["cell"]) if isinstance(c, str) else vi_number(c) for c in row] for row in table.rows]
    first = width * (0.26 if len(table.columns) > 6 else 0.4)
    rest = (width - first) / max(1, len(table.columns) - 1)
    t = LongTable([head, *body], colWidths=[first] + [rest] * (len(table.columns) - 1), repeatRows=1)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(LIGHT)),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F5F8FB")]),
    ]))
    return t


def charts(report: dict[str, Any], width: float, lang: str) -> Any:
    """Two bar charts side by side: numbers taken by hour, and visits per wait bucket."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    height = 150
    drawing = Drawing(width, height)
    half = width / 2 - 20
    hours = {h["hour"]: h["arrivals"] for h in report["hourly"]}
    span = range(min(hours, default=7), max(hours, default=17) + 1)
    for x, data, labels, color in (
        (30, [hours.get(h, 0) for h in span], [f"{h}h" for h in span], BLUE),
        (width / 2 + 30, [b["visits"] for b in report["wait_distribution"]],
         [f"{b['from_minutes']}-{b['to_minutes']}" if b["to_minutes"] else f"{b['from_minutes']}+" for b in report["wait_distribution"]], "#C0504D"),
    ):
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = x, 25, half - 40, height - 40
        chart.data = [data or [0]]
        chart.categoryAxis.categoryNames = labels or [""]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.bars[0].fillColor = colors.HexColor(color)
        chart.bars[0].strokeColor = None
        chart.barLabelFormat = "%d"
        chart.barLabels.fontName = FONT
        chart.barLabels.fontSize = 6
        chart.barLabels.nudge = 6
        drawing.add(chart)
    drawing.add(String(width / 2 + 30, 5, "phút" if lang == "vi" else "minutes", fontName=FONT, fontSize=7))
    return drawing


def period_chart(report: dict[str, Any], width: float) -> Any:
    """Mean wait per period as a line, with the target as a dashed line."""
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    rows = report["by_period"][-60:]  # a year by day would be unreadable: the last 60 periods
    target = report["targets"]["wait_target_minutes"]
    drawing = Drawing(width, 140)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 30, 25, width - 60, 100
    chart.data = [[(r["mean_wait_seconds"] or 0) / 60 for r in rows], [target] * len(rows)]
    chart.categoryAxis.categoryNames = [r["label"] if len(rows) <= 12 else r["key"][-5:] for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 30 if len(rows) > 12 else 0
    chart.categoryAxis.labels.dy = -8 if len(rows) > 12 else 0
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.lines[0].strokeColor = colors.HexColor(BLUE)
    chart.lines[0].strokeWidth = 1.5
    chart.lines[1].strokeColor = colors.HexColor("#C0504D")
    chart.lines[1].strokeDashArray = (4, 3)
    drawing.add(chart)
    return drawing
