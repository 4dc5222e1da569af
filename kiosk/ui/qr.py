"""A QR code as a Kivy image (form links on the procedure screen), drawn with the `qrcode` package."""

from __future__ import annotations

from typing import Any

import qrcode
from kivy.graphics.texture import Texture
from kivy.uix.image import Image


def qr_image(text: str, side: float) -> Any:
    matrix = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    matrix.add_data(text)
    matrix.make(fit=True)
    rows = matrix.get_matrix()
    n = len(rows)
    # One byte per module, white on light: a texture of n x n luminance pixels, scaled without smoothing.
    data = bytes(0 if rows[n - 1 - y][x] else 255 for y in range(n) for x in range(n))
    texture = Texture.create(size=(n, n), colorfmt="luminance")
    texture.blit_buffer(data, colorfmt="luminance", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return Image(texture=texture, size_hint=(None, None), size=(side, side), fit_mode="contain")
