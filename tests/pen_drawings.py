"""Synthetic drawings for the recipe and Lab tests: black strokes drawn with PIL on the Draw view's
280x280 white canvas, without anti-aliasing (the ink is exactly 0 or 255)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280

# polylines in the unit square, (x, y) with y downwards
ONE = [[(0.5, 0.05), (0.5, 0.95)]]
TWO = [[(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.85, 0.3), (0.6, 0.6), (0.1, 0.95), (0.9, 0.95)]]
THREE = [[(0.15, 0.1), (0.8, 0.1), (0.45, 0.45), (0.85, 0.7), (0.5, 0.95), (0.1, 0.85)]]
FOUR = [[(0.6, 0.95), (0.6, 0.05), (0.1, 0.65), (0.9, 0.65)]]
SEVEN = [[(0.1, 0.1), (0.9, 0.1), (0.4, 0.95)], [(0.35, 0.5), (0.75, 0.5)]]


def pen_drawing(shape, size: float, centre: tuple[float, float] = (140, 140), pen: int = 12) -> np.ndarray:
    """``shape`` scaled to ``size`` canvas px about ``centre`` (x, y), drawn ``pen`` px wide: uint8 (280, 280)."""
    cx, cy = centre
    im = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(im)
    for stroke in shape:
        draw.line([(cx + (x - 0.5) * size, cy + (y - 0.5) * size) for x, y in stroke], fill=0, width=pen, joint="curve")
    return np.asarray(im)


# five fixed drawings whose prepared pictures are pinned by checksum in test_recipe_steps.py
DRAWINGS = {
    "small": pen_drawing(TWO, 60, pen=8),
    "large": pen_drawing(TWO, 220, pen=16),
    "thick": pen_drawing(SEVEN, 150, pen=40),
    "thin": pen_drawing(THREE, 180, pen=3),
    "off_centre": pen_drawing(FOUR, 100, centre=(70, 200), pen=12),
}
