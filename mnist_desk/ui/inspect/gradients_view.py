"""Gradients: the input, the gradient of the top class and all ten per-class gradients on one colour scale."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from ...core.verdict import format_confidence
from . import work
from .common import LRU, InspectView, image_key, model_key
from ..help import explain
from .mosaic_view import MosaicView
from .figures import panels_figure
from .panels import DIVERGING, GREY, ColourBar, Panel, Tile, mosaic, range_info

DRAWING, TEST = "Your drawing", "Test image"
TARGET_TIP = (
    "What is differentiated with respect to each input pixel.\n"
    "Probabilities: how the softmax output of each class would change. Once the model is confident the\n"
    "softmax saturates (its Jacobian p_k(δ_kj - p_j) is nearly zero), so these images are faint.\n"
    "Logits: the scores before the softmax. They do not saturate, so the images keep their contrast and\n"
    "show what each class's score looks for, however sure the model is."
)


def gradients_panel(r: work.GradientResult) -> Panel:
    g = r.grads
    s = g.scale
    what = "logit" if g.target == "logits" else "probability"
    title = "input" if r.label is None else f"input (label {r.label})"
    tiles = [Tile(r.image.reshape(28, 28), title, GREY, 0.0, 1.0, f"{r.source}", (0, 0)),
             Tile(g.top, f"top class {g.top_class}", DIVERGING, -s, s,
                  range_info(f"d {what} {g.top_class} / d pixel", g.top), (0, 1))]
    for k in range(10):
        tiles.append(Tile(g.per_class[k], f"{k}: {format_confidence(g.probabilities[k])}", DIVERGING, -s, s,
                          range_info(f"d {what} {k} / d pixel", g.per_class[k]) + f" (probability {format_confidence(g.probabilities[k])})",
                          (1 + k // 5, k % 5)))
    note = f"one colour scale ±{s:.3g} for all ten"
    plural = "logits" if g.target == "logits" else "probabilities"
    return Panel(f"Gradients of the {plural} with respect to the input: {r.source}", tiles, 5,
                 ColourBar(DIVERGING, -s, s, f"d {what} / d pixel"), note)


def gradients_job(cache, m, image, index, target, samples):
    """Worker: the gradients and their grid, ready to show."""
    r = work.gradients(cache, m, image, index, target, samples)
    p = gradients_panel(r)
    return r, p, mosaic(p)


class GradientsView(InspectView):
    title = "Gradients"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("gradients")
        self._cache = LRU(64)  # per model, input, target and SmoothGrad setting
        self.result: work.GradientResult | None = None
        self._shown = None
        self.source = QComboBox()
        self.source.addItems([DRAWING, TEST])
        self.source.setToolTip("Differentiate your drawing, or an image of the MNIST test set")
        self.source.setWhatsThis("Which picture the gradients are computed for: your drawing from the canvas, or "
                                 "one of MNIST's 10,000 test images (chosen by its number).")
        self.index = QSpinBox()
        self.index.setRange(0, 9999)
        self.index.setPrefix("#")
        self.index.setToolTip("Index of the test image (the Errors view's gallery picks one for you)")
        self.index.setWhatsThis("The number of the MNIST test image, 0 to 9999. Clicking an image in the Errors "
                                "view's gallery sets it for you, which is handy for studying a mistake.")
        self.random_button = QPushButton("Random")
        explain(self.random_button, "A random test image",
                "Picks a test image at random; try a few and compare how the gradients look on clear digits and "
                "on sloppy ones.")
        self.target = QComboBox()
        # Logits first: on a confident digit the probabilities' gradients are ~1e-6, a blank grid.
        self.target.addItems(["logits", "probabilities"])
        explain(self.target, TARGET_TIP,
                "What the gradients measure. For each digit, the picture shows how much that digit's score would "
                "rise (red) or fall (blue) if each pixel got more ink. Logits are the raw scores before softmax; "
                "probabilities are after it, and go flat once the model is sure, so logits usually show more.")
        self.smooth = QCheckBox("SmoothGrad")
        explain(self.smooth, "Average the gradients over noisy copies of the input (Smilkov et al. 2017): less speckle",
                "A plain gradient is noisy: neighbouring pixels can get opposite signs. SmoothGrad adds a little "
                "random noise to the picture many times and averages the gradients, so the shapes that really "
                "matter stand out.")
        self.samples = QSpinBox()
        self.samples.setRange(2, 200)
        self.samples.setValue(25)
        self.samples.setSuffix(" samples")
        explain(self.samples, "How many noisy copies SmoothGrad averages",
                "More copies give a smoother picture but take longer to compute (each copy is one more pass "
                "backwards through the network).")
        self.grid = MosaicView()
        explain(self.grid.glw, "For each digit: which pixels would raise (red) or lower (blue) its score",
                "Saliency maps: one tile per digit, showing the gradient of that digit's score with respect to "
                "every input pixel, computed by backpropagation (the same calculation that trains the network). "
                "They show where the model looks and what ink would change its mind: e.g. closing the top of a "
                "4 turns it towards a 9.")

        row = QHBoxLayout()
        for w in (QLabel("Input"), self.source, self.index, self.random_button, QLabel("  Differentiate"), self.target,
                  self.smooth, self.samples):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.grid, 1)
        lay.addWidget(self.status)
        self._rng = np.random.default_rng()
        self.source.currentIndexChanged.connect(self._changed)
        self.index.valueChanged.connect(self._changed)
        self.target.currentIndexChanged.connect(self._changed)
        self.smooth.toggled.connect(self._changed)
        self.samples.valueChanged.connect(lambda _v: self.smooth.isChecked() and self._changed())
        self.random_button.clicked.connect(lambda: self.show_test_image(int(self._rng.integers(0, 10000))))
        self._changed()

    # ------------------------------------------------------------------ choosing the input
    def show_test_image(self, index: int) -> None:
        self.index.blockSignals(True)
        self.index.setValue(int(index))
        self.index.blockSignals(False)
        if self.source.currentText() != TEST:
            self.source.setCurrentText(TEST)  # emits _changed
        else:
            self._changed()

    def set_drawing(self, x) -> None:
        """A finished stroke: show the drawing's gradients (the input switches back to the drawing)."""
        self.drawing = None if x is None else np.asarray(x, np.float32)
        if self.source.currentText() != DRAWING:
            self.source.blockSignals(True)
            self.source.setCurrentText(DRAWING)
            self.source.blockSignals(False)
        self._changed()

    def set_target(self, target: str) -> None:
        self.target.setCurrentText(target)

    def _changed(self, *_a) -> None:
        self.index.setEnabled(self.source.currentText() == TEST)
        self.samples.setEnabled(self.smooth.isChecked())
        if self.active:
            self.refresh()

    # ------------------------------------------------------------------ computing
    def request_key(self):
        if self.model is None:
            return None
        samples = self.samples.value() if self.smooth.isChecked() else 0
        if self.source.currentText() == TEST:
            what = ("test", self.index.value())
        elif self.drawing is not None:
            what = ("drawing", image_key(self.drawing))
        else:
            return None
        return model_key(self.model), what, self.target.currentText(), samples

    def refresh(self) -> None:
        key = self.request_key()
        if key is None:
            self.result = None
            self._shown = None
            self.grid.set_panel(Panel("Gradients", [], 1, note="No model" if self.model is None else
                                      "Draw a digit, or choose a test image (here, or from the Errors view's gallery)"))
            return
        if key in self._cache:
            self._show(key)
            return
        image = None if key[1][0] == "test" else self.drawing.reshape(28, 28)
        index = key[1][1] if key[1][0] == "test" else None
        m, cache = self.model, self.hub.cache
        self.job.run(lambda _st: gradients_job(cache, m, image, index, key[2], key[3]),
                     on_result=lambda r: self._got(key, r), text="Computing the ten class gradients…")

    def _got(self, key, result) -> None:
        self._cache[key] = result
        if key == self.request_key():
            self._show(key)

    def _show(self, key) -> None:
        if key == self._shown:
            return
        self._shown = key
        self.result, panel, mos = self._cache[key]
        self.grid.set_panel(panel, mos)

    def figure(self):
        if self.grid.panel is None or not self.grid.panel.tiles:
            return None
        return panels_figure([self.grid.panel], f"{self.model.name}: input gradients")
