"""Stroke drawings rendered and prepared exactly as the app's canvas would hand them to a model.

One function for every place that scores models on drawings (the benchmarks, calibration on held-out
writers): each drawing is put on a 280x280 canvas with a random size, place and pen width (fixed seed),
then run through :func:`mnist_desk.core.preprocess.prepare_drawing`. No augmentation: the strokes are
drawn as their writer drew them.
"""

from __future__ import annotations

import numpy as np

from .errors import EmptyDrawing
from .preprocess import CANVAS_SIDE, prepare_drawing
from .strokes import random_canvas_params, render_strokes

SEED = 2024


def canvas_drawings(drawings, seed: int = SEED, canvas: int = CANVAS_SIDE):
    """Yield (uint8 canvas image, label) for each (strokes, label), with reproducible random params."""
    rng = np.random.default_rng(seed)
    for strokes, label in drawings:
        params = random_canvas_params(rng, canvas)
        yield render_strokes(strokes, canvas=canvas, **params), label


def prepared_drawings(drawings, seed: int = SEED, prepare=prepare_drawing) -> tuple[np.ndarray, np.ndarray]:
    """Rendered and prepared drawings: float32 (N,28,28), labels (N,). A drawing that ``prepare`` refuses as
    empty becomes an all-black image (and counts as wrong unless a model guesses it)."""
    xs, ys = [], []
    for img, label in canvas_drawings(drawings, seed):
        try:
            x = prepare(img)
        except EmptyDrawing:
            x = np.zeros((28, 28), np.float32)
        xs.append(x)
        ys.append(label)
    if not xs:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    return np.stack(xs).astype(np.float32), np.asarray(ys)
