"""Colours and sizes: high contrast, large type, one scale for 800x480 up to 1920x1080, either way up."""

from __future__ import annotations

# Light text on a dark blue ground (contrast above 12:1); the main action in yellow with black text.
BG = (0.04, 0.10, 0.19, 1)
PANEL = (0.08, 0.17, 0.30, 1)
TEXT = (1, 1, 1, 1)
MUTED = (0.80, 0.85, 0.92, 1)
BUTTON = (0.08, 0.40, 0.75, 1)
BUTTON_TEXT = (1, 1, 1, 1)
PRIMARY = (1.0, 0.84, 0.31, 1)
PRIMARY_TEXT = (0, 0, 0, 1)
CLOSED = (0.25, 0.27, 0.30, 1)
CLOSED_TEXT = (0.85, 0.85, 0.85, 1)
WARN = (0.95, 0.55, 0.15, 1)
WARN_TEXT = (0, 0, 0, 1)
GOOD = (0.16, 0.60, 0.28, 1)
BAD = (0.78, 0.18, 0.18, 1)
SELECTED = (1.0, 0.84, 0.31, 1)

# Type sizes at the 480-pixel short side of the Raspberry Pi screen, scaled with the window.
BASE_SHORT_SIDE = 480
TITLE = 30
BUTTON_FONT = 24
BODY = 21
SMALL = 17
NUMBER = 140


def scale(width: float, height: float) -> float:
    return max(0.75, min(width, height) / BASE_SHORT_SIDE)


def portrait(width: float, height: float) -> bool:
    return height > width
