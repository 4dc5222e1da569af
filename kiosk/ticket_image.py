"""The printed ticket as a 1-bit image at the printer's dot width (Vietnamese drawn by Pillow, not code pages).

Thermal printers rarely have a Vietnamese code page and compose stacked diacritics (ặ, ẫ, ờ) badly, so
the whole ticket is drawn with a proportional font of full Vietnamese coverage (DejaVu Sans or Noto
Sans from Debian) and sent as one raster image. Widths: 576 dots for 80 mm paper, 384 for 58 mm.

    image = render_ticket(reply["ticket"], office_name, protocol.ticket_qr_url(base, public, vote))
    printer.print_ticket(image)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont

from motcua import i18n

WIDTH_80MM = 576
WIDTH_58MM = 384
REFERENCE_WIDTH = 576  # sizes below are for 80 mm paper and scale with the width

# Debian's fonts-dejavu-core and fonts-noto-core; both cover Vietnamese fully.
FONT_CANDIDATES = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
}
THRESHOLD = 150  # grey levels of the antialiased drawing at or below this print black


class FontMissing(RuntimeError):
    """No font with Vietnamese coverage is installed (apt-get install fonts-dejavu-core)."""


@cache
def font_path(bold: bool = False) -> Path:
    for candidate in FONT_CANDIDATES[bold]:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(f"none of {', '.join(FONT_CANDIDATES[bold])}: apt-get install fonts-dejavu-core")


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), size)


@dataclass(frozen=True)
class TicketFields:
    """What the ticket shows, read from the server's ticket view (queue_server/views.py: ticket_view)."""

    number: str
    service_name: str
    issued_at: datetime | None
    ahead: int | None
    wait_minutes: int | None
    priority: bool
    priority_group_name: str | None
    counter_names: tuple[str, ...]
    slot_at: datetime | None = None  # a booked ticket: called at this time


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def ticket_fields(ticket: dict[str, Any]) -> TicketFields:
    """The one place that reads today's ticket dict; switching to protocol's typed view changes only this."""
    wait = ticket.get("estimated_wait_minutes")
    ahead = ticket.get("ahead")
    counters = ticket.get("counter_names") or ()
    return TicketFields(
        number=str(ticket.get("number", "")),
        service_name=str(ticket.get("service_name") or ticket.get("service") or ""),
        issued_at=_datetime(ticket.get("issued_at")),
        ahead=ahead if isinstance(ahead, int) and not isinstance(ahead, bool) else None,
        wait_minutes=wait if isinstance(wait, int) and not isinstance(wait, bool) else None,
        priority=bool(ticket.get("priority")),
        priority_group_name=ticket.get("priority_group_name") or None,
        counter_names=tuple(str(c) for c in counters if c),
        slot_at=_datetime(ticket.get("slot_at")),
    )


class _Canvas:
    """A growing column of centred blocks; the page is cut to the height used."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.scale = width / REFERENCE_WIDTH
        self.margin = max(8, round(16 * self.scale))
        self.image = Image.new("L", (width, 4 * width), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin

    def px(self, size: float) -> int:
        return max(1, round(size * self.scale))

    def gap(self, size: float) -> None:
        self.y += self.px(size)

    def text(self, text: str, size: float, bold: bool = False, inverted: bool = False) -> None:
        font = _font(self.px(size), bold)
        for line in _wrap(text, font, self.width - 2 * self.margin - (self.px(16) if inverted else 0)):
            left, _top, right, _bottom = self.draw.textbbox((0, 0), line, font=font)
            ascent, descent = font.getmetrics()
            line_height = ascent + descent
            x = (self.width - (right - left)) // 2 - left
            if inverted:
                pad = self.px(8)
                self.draw.rectangle((self.margin, self.y, self.width - self.margin, self.y + line_height + 2 * pad), fill=0)
                self.draw.text((x, self.y + pad), line, font=font, fill=255)
                self.y += line_height + 2 * pad
            else:
                self.draw.text((x, self.y), line, font=font, fill=0)
                self.y += line_height + self.px(4)

    def big_number(self, number: str, max_size: float) -> None:
        """The number as large as fits the width, the way the eye finds it from across the hall."""
        size = self.px(max_size)
        limit = self.width - 2 * self.margin
        font = _font(size, True)
        while size > 20:
            font = _font(size, True)
            left, top, right, bottom = self.draw.textbbox((0, 0), number, font=font)
            if right - left <= limit:
                break
            size -= 4
        left, top, right, bottom = self.draw.textbbox((0, 0), number, font=font)
        self.draw.text(((self.width - (right - left)) // 2 - left, self.y - top), number, font=font, fill=0)
        self.y += bottom - top + self.px(12)

    def rule(self) -> None:
        self.y += self.px(6)
        self.draw.rectangle((self.margin, self.y, self.width - self.margin, self.y + self.px(3)), fill=0)
        self.y += self.px(3) + self.px(10)

    def qr(self, text: str, share: float) -> None:
        """A QR code of `text`, `share` of the width, in whole dots per module (no blurred edges)."""
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(text)
        code.make(fit=True)
        matrix = code.get_matrix()
        modules = len(matrix)
        box = max(2, int(self.width * share) // modules)
        side = box * modules
        left = (self.width - side) // 2
        self.y += box * 2  # part of the quiet zone; the white margins give the rest
        for row, line in enumerate(matrix):
            for col, dark in enumerate(line):
                if dark:
                    x, y = left + col * box, self.y + row * box
                    self.draw.rectangle((x, y, x + box - 1, y + box - 1), fill=0)
        self.y += side + box * 4

    def finish(self) -> Image.Image:
        height = self.y + self.margin
        page = self.image.crop((0, 0, self.width, height))
        return page.point(lambda v: 0 if v <= THRESHOLD else 255, mode="1")


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of whole words that fit `width` (a word longer than the line is cut by characters)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while font.getlength(current) > width and len(current) > 1:
            cut = len(current)
            while cut > 1 and font.getlength(current[:cut]) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def render_ticket(ticket: dict[str, Any], office_name: str, qr_text: str, width_dots: int = WIDTH_80MM,
                  lang: str = i18n.DEFAULT_LANGUAGE) -> Image.Image:
    """The ticket as a 1-bit image `width_dots` wide: office, number (very large), field of work, priority
    group, people ahead, estimated wait, time, and a QR code of `qr_text` (protocol.ticket_qr_url)."""
    if width_dots < 200:
        raise ValueError(f"width_dots {width_dots} is too narrow for a ticket (58 mm paper is 384 dots)")
    fields = ticket_fields(ticket)

    def t(key: str, **params: Any) -> str:
        return unicodedata.normalize("NFC", i18n.text(f"kiosk_print.ticket.{key}", lang, **params))

    page = _Canvas(width_dots)
    if office_name:
        page.text(unicodedata.normalize("NFC", office_name), 26, bold=True)
    page.rule()
    page.text(t("number_label"), 28, bold=True)
    page.big_number(fields.number, 200)
    if fields.service_name:
        page.text(t("service", service=unicodedata.normalize("NFC", fields.service_name)), 28, bold=True)
    if fields.priority:
        group = fields.priority_group_name
        page.gap(6)
        page.text(t("priority", group=group) if group else t("priority_general"), 28, bold=True, inverted=True)
        page.gap(4)
    if fields.counter_names:
        page.text(t("counters", counters=", ".join(fields.counter_names)), 24)
    page.gap(8)
    if fields.slot_at is not None:  # called at its time: people ahead and the wait do not apply
        page.text(t("slot", time=fields.slot_at.strftime("%H:%M")), 28, bold=True)
    else:
        if fields.ahead is not None:
            page.text(t("ahead", ahead=fields.ahead) if fields.ahead > 0 else t("ahead_none"), 26)
        if fields.wait_minutes is not None:
            page.text(t("wait", minutes=fields.wait_minutes) if fields.wait_minutes > 0 else t("wait_short"), 24)
    if fields.issued_at is not None:
        page.text(t("issued_at", time=fields.issued_at.strftime("%H:%M"), date=fields.issued_at.strftime("%d/%m/%Y")), 24)
    page.qr(qr_text, 0.42)
    page.text(t("qr_caption"), 21)
    page.rule()
    page.text(t("footer"), 22)
    return page.finish()
