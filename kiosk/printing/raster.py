"""ESC/POS bytes back to the picture a printer would print (GS v 0 raster images), to look at and to test.

Only what our tickets use is read: raster bit images (`GS v 0 m xL xH yL yH data`, one bit per dot,
set = black) stacked top to bottom, and whether a cut (`GS V`) follows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

GS_V0 = b"\x1dv0"
CUTS = (b"\x1dV\x00", b"\x1dV\x01", b"\x1dVA", b"\x1dVB")


@dataclass(frozen=True)
class PrintedJob:
    image: Image.Image | None  # None when the bytes hold no raster image
    cut: bool


def decode_job(data: bytes) -> PrintedJob:
    """The raster images in `data` stacked into one 1-bit image, and whether the paper is cut after them."""
    strips: list[Image.Image] = []
    position = 0
    end_of_images = 0
    while (start := data.find(GS_V0, position)) != -1:
        header = data[start + 3:start + 8]
        if len(header) < 5:
            break
        width_bytes = header[1] | header[2] << 8
        height = header[3] | header[4] << 8
        body_start = start + 8
        body = data[body_start:body_start + width_bytes * height]
        if len(body) < width_bytes * height or not width_bytes or not height:
            raise ValueError(f"truncated raster image at byte {start}")
        # PIL's "1" raw mode has 0 = black; ESC/POS sets a bit for a black dot, so invert.
        strips.append(Image.frombytes("1", (width_bytes * 8, height), bytes(b ^ 0xFF for b in body)))
        position = end_of_images = body_start + len(body)
    if not strips:
        return PrintedJob(None, any(c in data for c in CUTS))
    width = max(s.width for s in strips)
    page = Image.new("1", (width, sum(s.height for s in strips)), 1)
    y = 0
    for strip in strips:
        page.paste(strip, (0, y))
        y += strip.height
    return PrintedJob(page, any(c in data[end_of_images:] for c in CUTS))
