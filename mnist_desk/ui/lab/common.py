"""What every Lab sub-view shares: the drawing as drawn (the canvas) and the models it is tried on.

A Lab view is an Inspect view (its job slots, status line, export) that also knows the canvas picture,
since several experiments change the drawing *before* preprocessing, and every model the Draw view
compares, since the point of the Lab is to watch all of them respond at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..draw.prediction_view import COLORS
from ..help import explain
from ..inspect.common import InspectView
from ..inspect.panels import DIVERGING, colourise


class LabView(InspectView):
    """``models``: the Draw view's model and the ones compared with it (stored models, first = the main one);
    ``canvas``: the drawing as drawn (grey, 1 = paper); ``drawing``: what the main model sees (28x28)."""

    shown = Signal(object)  # what the view now shows, once a result is on screen (tests and benchmarks listen)

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.models: list = []
        self.canvas: np.ndarray | None = None

    def set_models(self, models: list) -> None:
        self.models = list(models)
        self.model = self.models[0] if self.models else None
        if not self.models:
            self.discard_jobs()
        if self.active:
            self.refresh()

    def set_canvas(self, grey: np.ndarray | None, x28: np.ndarray | None) -> None:
        self.canvas = None if grey is None else np.asarray(grey, np.float32)
        if grey is None:
            self.discard_jobs()
        self.set_drawing(x28)

    def discard_jobs(self) -> None:
        """The drawing or the models are gone: nothing still being worked out for them may be shown."""
        for s in self._slots:
            s.discard()

    def paths(self) -> list[str]:
        return [str(m.path) for m in self.models]

    def names(self) -> list[str]:
        return [m.name for m in self.models]


def model_colour(i: int) -> tuple[int, int, int]:
    """The colour of the i-th compared model: the same as its bars in the Draw view."""
    return COLORS[i % len(COLORS)]


class PictureView(QLabel):
    """A 28x28 array enlarged without smoothing: grey for inputs, or a diverging colour map (blue
    negative, white zero, red positive) for changes and gradients."""

    def __init__(self, scale: int = 5, tip: str = "", what: str = "", parent=None):
        super().__init__(parent)
        self.scale = scale
        self.setFixedSize(28 * scale + 2, 28 * scale + 2)
        self.setStyleSheet("background: #222; border: 1px solid #888;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain(self, tip, what or f"{tip}. Each square is one of the 28x28 pixels the model reads; in colour, red "
                "is positive, blue negative and white zero.")
        self.image: np.ndarray | None = None


    def set_image(self, a: np.ndarray | None, diverging: bool = False) -> None:
        self.image = None if a is None else np.asarray(a, np.float32)
        if a is None:
            self.clear()
            return
        if diverging:
            lim = float(np.abs(a).max()) or 1.0
            rgb = colourise(a, DIVERGING, -lim, lim)
        else:
            g = (np.clip(a, 0, 1) * 255).astype(np.uint8)
            rgb = np.repeat(g[..., None], 3, axis=2)
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        q = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.setPixmap(QPixmap.fromImage(q).scaled(w * self.scale, h * self.scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                   Qt.TransformationMode.FastTransformation))


def titled(title: str, widget: QWidget) -> QVBoxLayout:
    col = QVBoxLayout()
    label = QLabel(title)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    col.addWidget(label)
    col.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
    col.addStretch(1)
    return col
