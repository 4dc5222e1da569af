"""The printed ticket: a 1-bit image at the printer's width, Vietnamese readable, the QR carrying the ticket URL."""

from __future__ import annotations

import unicodedata

import pytest
from PIL import Image, ImageChops, ImageDraw

from kiosk import ticket_image
from kiosk.ticket_image import WIDTH_58MM, WIDTH_80MM, render_ticket, ticket_fields
from motcua import i18n
from motcua.protocol import parse_ticket_qr
from tests.devices.printing_support import OFFICE, PUBLIC, QR_TEXT, TICKET, VOTE, read_qr


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_the_ticket_is_one_bit_at_the_printer_width_and_its_qr_decodes_to_the_ticket_url(tmp_path, width):
    image = render_ticket(TICKET, OFFICE, QR_TEXT, width)
    assert image.mode == "1" and image.width == width
    assert width < image.height < 3 * width  # a ticket, not a banner
    png = tmp_path / f"ticket-{width}.png"  # kept as the test's artefact: look at it
    image.save(png)
    assert read_qr(png) == [QR_TEXT]
    assert parse_ticket_qr(read_qr(png)[0]) == (PUBLIC, VOTE)


def test_the_qr_never_carries_the_number_alone(tmp_path):
    image = render_ticket(TICKET, OFFICE, QR_TEXT)
    image.save(tmp_path / "t.png")
    (text,) = read_qr(tmp_path / "t.png")
    assert text != TICKET["number"] and "#v=" in text


def test_the_priority_group_adds_a_black_band_and_a_plain_ticket_has_none():
    plain = render_ticket({**TICKET, "priority": False, "priority_group_name": None}, OFFICE, QR_TEXT)
    priority = render_ticket(TICKET, OFFICE, QR_TEXT)

    def edge_rows(image: Image.Image) -> int:
        """Rows black just inside the left margin, where only the rules and the band reach."""
        strip = image.convert("L").crop((18, 0, 26, image.height))
        return sum(1 for y in range(strip.height) if max(strip.crop((0, y, strip.width, y + 1)).getdata()) == 0)

    assert edge_rows(priority) > edge_rows(plain) + 30  # the inverted "ƯU TIÊN" band is ~40 rows of black


def test_the_number_is_very_large():
    """The number's glyphs are at least a quarter of the paper width tall, so it reads from across the hall."""
    with_number = render_ticket(TICKET, OFFICE, QR_TEXT).convert("L")
    without = render_ticket({**TICKET, "number": ""}, OFFICE, QR_TEXT).convert("L")
    assert with_number.height - without.height > WIDTH_80MM // 4


def test_stacked_vietnamese_diacritics_are_drawn_not_dropped():
    """ặ ẫ ờ ữ draw differently from their base letters with the ticket font (a font without them
    would draw the base letter or a box for each)."""
    font = ticket_image._font(40, True)
    for letter in "ặẫờữỹĐđ":
        base = unicodedata.normalize("NFD", letter)[0].replace("Đ", "D").replace("đ", "d")
        drawn, plain = Image.new("L", (60, 60), 255), Image.new("L", (60, 60), 255)
        ImageDraw.Draw(drawn).text((5, 5), letter, font=font, fill=0)
        ImageDraw.Draw(plain).text((5, 5), base, font=font, fill=0)
        assert ImageChops.difference(drawn, plain).getbbox() is not None, letter


def test_the_ticket_font_covers_every_character_of_the_ticket_catalog():
    font = ticket_image._font(30, False)

    def glyph(ch: str) -> bytes:
        image = Image.new("L", (50, 50), 255)
        ImageDraw.Draw(image).text((5, 5), ch, font=font, fill=0)
        return image.tobytes()

    missing = glyph("\uffff")  # what the font draws for a character it lacks
    assert missing != glyph(" ") and missing != glyph("a")  # the check below can fail
    for lang in i18n.LANGUAGES:
        for key, text in i18n.catalog(lang).items():
            if key.startswith("kiosk_print.ticket."):
                for ch in set(text) - set(" {}"):
                    assert glyph(ch) != missing, (key, ch)


def test_missing_or_wrong_fields_are_left_out_not_fatal():
    fields = ticket_fields({"number": 7, "ahead": "many", "estimated_wait_minutes": True, "issued_at": "yesterday"})
    assert fields.number == "7" and fields.ahead is None and fields.wait_minutes is None and fields.issued_at is None
    image = render_ticket({"number": "C001"}, "", QR_TEXT, WIDTH_58MM)
    assert image.width == WIDTH_58MM


def test_a_long_word_wraps_inside_the_paper():
    image = render_ticket({**TICKET, "service_name": "Đ" * 200}, OFFICE * 3, QR_TEXT, WIDTH_58MM)
    assert image.width == WIDTH_58MM  # nothing was drawn past the edge (the page would have been cut)
    lines = ticket_image._wrap("Đ" * 200, ticket_image._font(20, True), 300)
    assert len(lines) > 1 and all(ticket_image._font(20, True).getlength(line) <= 300 for line in lines)


def test_too_narrow_a_width_is_refused():
    with pytest.raises(ValueError, match="384"):
        render_ticket(TICKET, OFFICE, QR_TEXT, 100)
