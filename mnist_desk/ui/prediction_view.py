"""Live prediction bars (one to three models side by side), the top digit, and what the model sees."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

COLORS = [(40, 110, 200), (230, 130, 30), (60, 170, 80)]
UNSURE_TOP = 0.6  # below this top probability the window says it is unsure
UNSURE_ENTROPY = 1.2  # nats; above this the distribution is too spread to trust


def describe(probs: np.ndarray) -> tuple[int, float, bool, str]:
    """(top digit, its probability, unsure?, a sentence for the user)."""
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    order = np.argsort(p)[::-1]
    top, second = int(order[0]), int(order[1])
    entropy = float(-(p * np.log(p)).sum())
    unsure = p[top] < UNSURE_TOP or entropy > UNSURE_ENTROPY
    if unsure:
        text = f"Not sure: {top} ({p[top] * 100:.0f}%) or {second} ({p[second] * 100:.0f}%)?"
    else:
        text = f"{p[top] * 100:.1f}% sure"
    return top, float(p[top]), unsure, text


class PredictionBars(QWidget):
    """Bars of 10 class probabilities for up to three models (grouped), created once and updated with setOpts."""

    def __init__(self, parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setXRange(-0.6, 9.6, padding=0)
        ax = self.plot.getAxis("bottom")
        ax.setTicks([[(i, str(i)) for i in range(10)]])
        self.plot.getAxis("left").setLabel("probability")
        self.legend = self.plot.addLegend(offset=(-5, 5))
        self.items = []
        for c in COLORS:
            item = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.8, brush=pg.mkBrush(*c), pen=pg.mkPen(None))
            item.setVisible(False)
            self.plot.addItem(item)
            self.items.append(item)
        self.names: list[str] = []
        self.heights: list[np.ndarray] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    def set_probabilities(self, probs_by_model: list[tuple[str, np.ndarray]]) -> None:
        n = len(probs_by_model)
        width = 0.8 / max(n, 1)
        names = [name for name, _ in probs_by_model]
        if names != self.names:
            self.legend.clear()
        for i, item in enumerate(self.items):
            if i < n:
                name, p = probs_by_model[i]
                offset = (i - (n - 1) / 2) * width
                item.setOpts(x=np.arange(10) + offset, height=np.asarray(p, float), width=width * 0.95)
                item.setVisible(True)
                if names != self.names and n > 1:
                    self.legend.addItem(item, name)
            else:
                item.setVisible(False)
        self.names = names
        self.heights = [np.asarray(p, float) for _, p in probs_by_model]

    def clear(self) -> None:
        self.set_probabilities([])


class ModelInputView(QLabel):
    """The 28x28 the model receives, enlarged without smoothing so each pixel shows."""

    def __init__(self, scale: int = 5, parent=None):
        super().__init__(parent)
        self.scale = scale
        self.setFixedSize(28 * scale + 2, 28 * scale + 2)
        self.setStyleSheet("background: black; border: 1px solid #888;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image: np.ndarray | None = None
        self.setToolTip("What the model sees: your drawing cropped, scaled to 20x20, stroke width normalised, "
                        "centred by its centre of mass in 28x28 - the way MNIST digits were made.")

    def set_image(self, x28: np.ndarray | None) -> None:
        self.image = None if x28 is None else np.asarray(x28)
        if x28 is None:
            self.clear()
            return
        a = np.ascontiguousarray((np.clip(x28, 0, 1) * 255).astype(np.uint8))
        q = QImage(a.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
        self.setPixmap(QPixmap.fromImage(q).scaled(28 * self.scale, 28 * self.scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                   Qt.TransformationMode.FastTransformation))


class TopDigit(QWidget):
    """The predicted digit in large type, with its confidence or an honest 'not sure'."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.digit = QLabel("–")
        f = QFont()
        f.setPointSize(54)
        f.setBold(True)
        self.digit.setFont(f)
        self.digit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit.setMinimumWidth(90)
        self.caption = QLabel("Draw a digit")
        f2 = QFont()
        f2.setPointSize(13)
        self.caption.setFont(f2)
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        lay = QHBoxLayout(self)
        lay.addWidget(self.digit)
        lay.addWidget(self.caption, 1)
        self.unsure = False

    def show_prediction(self, probs: np.ndarray, model_name: str) -> None:
        top, p, unsure, text = describe(probs)
        self.unsure = unsure
        self.digit.setText(f"{top}?" if unsure else str(top))
        self.digit.setStyleSheet("color: #b36b00;" if unsure else "color: #1a4d99;")
        self.caption.setText(f"{text}\n({model_name})")

    def show_nothing(self, message: str = "Draw a digit") -> None:
        self.unsure = False
        self.digit.setText("–")
        self.digit.setStyleSheet("color: #888;")
        self.caption.setText(message)
