"""QR codes drawn as inline SVG (no image file, no script): crisp on any phone, printable."""

from __future__ import annotations

import re

import qrcode
from markupsafe import Markup, escape
from qrcode.image.svg import SvgPathImage


def qr_svg(text: str, label: str) -> Markup:
    """An <svg class="qr"> of `text`, sized by CSS; `label` is what a screen reader says."""
    svg = qrcode.make(text, image_factory=SvgPathImage, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M).to_string(
        encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*" ', '<svg ', svg)
    svg = svg.replace(' id="qr-path"', "")
    return Markup(svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{escape(label)}" ', 1))
