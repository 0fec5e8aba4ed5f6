"""Robustness: shift, turn, scale, thicken, add noise to or hide part of your drawing with sliders, and see
every compared model's answer follow; beside each slider, each model's probability of the drawing's
class over the slider's whole range, with the current value marked."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...core.lab import transforms as tr
from ..draw.prediction_view import ModelInputView, PredictionBars
from ..help import explain
from ..inspect.common import image_key, model_key
from . import work
from .common import LabView, model_colour
from .figures import sweeps_figure

# What's This of each slider and of its curve, by slider name (the tooltips say what the slider does).
SLIDER_IDEAS = {
    "shift_x": "Moves the digit sideways by whole pixels. A multi-layer perceptron gives every pixel its own "
               "weights, so a digit moved a few pixels looks new to it; a convnet's filters slide over the image "
               "and cope much better (translation invariance).",
    "shift_y": "Moves the digit up or down. MNIST's digits are all centred, so a model never saw an off-centre "
               "one: watch which models keep their answer.",
    "rotation": "Turns the digit. People read a slightly tilted digit easily; a model only copes with the tilts "
                "it met in training (augmentation adds some). Past about 45 degrees a 6 becomes a 9 for anyone.",
    "scale": "Makes the digit smaller or larger. MNIST's digits all fill about 20x20 pixels, so a much smaller "
             "or larger one is unfamiliar.",
    "stroke": "Makes the strokes thinner or thicker. A thick pen fills loops (a 6 or 8 becomes a blob); a thin "
              "one leaves less ink to read.",
    "noise": "Adds random grey speckle to every pixel (Gaussian noise, of this strength). Models trained on "
             "clean digits can be surprisingly fragile to it.",
    "block": "Hides a square of the picture (occlusion); press or drag on the picture to move it. Hiding the "
             "part that matters (the crossing of a 4, the gap of a 9) shows where each model looks.",
}
GENERIC_SLIDER_IDEA = "Changes the picture in one way; the curve beside it shows what that does to the models."
POSITIONS = 33  # the slider's steps are the sweep's positions, so the marked point lies on the curves
SWEEP_DELAY_MS = 150  # the curves follow once the slider rests this long (one answer per move is cheap)
WHERE_TEXT = {
    tr.BEFORE: "The change is made to the drawing on the canvas, then the MNIST preprocessing runs: a shift "
               "or a larger size is undone by its centring and scaling, a turn or a thicker pen is not.",
    tr.AFTER: "The change is made to the 28x28 picture the model sees, after preprocessing: this is what the "
              "notebooks' networks meet when a digit is not centred the MNIST way.",
}


class FieldView(ModelInputView):
    """The model's 28x28 input; pressing or dragging on it places the hiding block (field row, col)."""

    picked = Signal(float, float)

    def __init__(self, scale: int = 6, parent=None):
        super().__init__(scale, parent)
        self.setToolTip("What the models see with the changes applied. Press or drag here to move the hiding block.")
        self.setWhatsThis("The 28x28 picture the models read, with the sliders' changes applied. If you use the "
                          "hidden square, press or drag here to place it over the part you want to hide.")
        self.setCursor(Qt.CursorShape.CrossCursor)

    def _emit(self, e) -> None:
        p = e.position()
        self.picked.emit(float(np.clip((p.y() - 1) / self.scale, 0, 28)), float(np.clip((p.x() - 1) / self.scale, 0, 28)))

    def mousePressEvent(self, e) -> None:
        self._emit(e)

    def mouseMoveEvent(self, e) -> None:
        if e.buttons() & Qt.MouseButton.LeftButton:
            self._emit(e)


class SweepPlot(pg.PlotWidget):
    """One slider's curves: each model's probability of the class across the range, the current value marked."""

    def __init__(self, slider: tr.Slider):
        super().__init__(background="w")
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setFixedHeight(64)
        explain(self, f"Each model's probability of the followed class as \"{slider.label}\" goes from "
                f"{slider.lo:g} to {slider.hi:g} {slider.unit}".rstrip(),
                "A sweep: the same drawing changed by every amount along the slider, each model's probability "
                "of the followed class drawn as a curve in its colour. The vertical line marks the slider's "
                "value; the dashed line is 50%. A curve that stays high means a model that is robust to this "
                "change; one that drops early means a fragile model. " + SLIDER_IDEAS.get(slider.name, ""))
        self.setMinimumWidth(160)
        self.setYRange(0, 1, padding=0.05)
        self.setXRange(slider.lo, slider.hi, padding=0.02)
        self.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        self.getAxis("left").setWidth(26)
        self.addItem(pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen((170, 170, 170), style=Qt.PenStyle.DashLine)))
        self.curves = [self.plot([], [], pen=pg.mkPen(model_colour(i), width=2)) for i in range(3)]
        self.marker = pg.InfiniteLine(slider.neutral, angle=90, pen=pg.mkPen((40, 40, 40), width=1))
        self.addItem(self.marker)

    def set_sweep(self, sweep: tr.Sweep | None) -> None:
        for i, c in enumerate(self.curves):
            if sweep is not None and i < len(sweep.probs):
                c.setData(sweep.values, sweep.probs[i], connect="finite")
            else:
                c.setData([], [])


class RobustnessView(LabView):
    title = "Robustness"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.perturbation = tr.Perturbation()
        self.where = tr.AFTER
        self.answer_job = self.slot("answers")
        self.sweep_job = self.slot("sweeps")
        self.input_image: np.ndarray | None = None
        self.probs: list[np.ndarray] = []
        self.klass: int | None = None
        self.sweeps: dict[str, tr.Sweep] = {}
        self._sweeps_key = None
        self._sweep_timer = QTimer(self)
        self._sweep_timer.setSingleShot(True)
        self._sweep_timer.setInterval(SWEEP_DELAY_MS)
        self._sweep_timer.timeout.connect(self._request_sweeps)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        top = QHBoxLayout()
        self.where_buttons = QButtonGroup(self)
        for where, text in ((tr.BEFORE, "to the drawing (before preprocessing)"),
                            (tr.AFTER, "to what the model sees (after)")):
            b = QRadioButton(text)
            explain(b, WHERE_TEXT[where],
                    "Where the changes are made: before preprocessing (to your drawing, which is then cropped, "
                    "scaled and centred as MNIST's were) or after it (to the 28x28 picture itself). Preprocessing "
                    "undoes some changes, such as shifts; compare both to see how much it protects the models.")
            b.setChecked(where == self.where)
            b.toggled.connect(lambda on, w=where: on and self.set_where(w))
            self.where_buttons.addButton(b)
            top.addWidget(b)
        top.addStretch(1)
        top.addWidget(QLabel("Follow class"))
        self.class_combo = QComboBox()
        self.class_combo.addItem("its answer", None)
        for d in range(10):
            self.class_combo.addItem(str(d), d)
        self.class_combo.setToolTip("The class whose probability the curves show: the main model's answer for your "
                                    "drawing as drawn, or a digit you choose")
        self.class_combo.setWhatsThis("The digit whose probability the curves follow. 'its answer' follows what "
                                      "the main model answers for the unchanged drawing; choose another digit to "
                                      "see when a change makes it win.")
        self.class_combo.activated.connect(lambda _i: self._changed(sweeps_too=True))
        top.addWidget(self.class_combo)
        reset = QPushButton("Reset")
        explain(reset, "Every slider back to no change",
                "Sets every slider back to its neutral value, so the models see your drawing unchanged.")
        reset.clicked.connect(self.reset)
        top.addWidget(reset)
        top.addWidget(self.export_button)
        self.where_note = QLabel(WHERE_TEXT[self.where])
        self.where_note.setWordWrap(True)
        self.where_note.setStyleSheet("color: #555")

        sliders = QWidget()
        grid = QGridLayout(sliders)
        grid.setContentsMargins(0, 0, 4, 0)
        grid.setVerticalSpacing(2)
        self.sliders: dict[str, QSlider] = {}
        self.value_labels: dict[str, QLabel] = {}
        self.plots: dict[str, SweepPlot] = {}
        for row, (name, s) in enumerate(tr.SLIDERS.items()):
            sl = QSlider(Qt.Orientation.Horizontal)
            sl.setRange(0, POSITIONS - 1)
            sl.setValue(self._position(name, s.neutral))
            sl.setMinimumWidth(120)
            explain(sl, f"{s.label}: change the picture and watch the answers", SLIDER_IDEAS.get(name, GENERIC_SLIDER_IDEA))

            sl.valueChanged.connect(lambda _v, n=name: self._slider_moved(n))
            value = QLabel()
            value.setMinimumWidth(58)
            plot = SweepPlot(s)
            grid.addWidget(QLabel(s.label), row, 0)
            grid.addWidget(sl, row, 1)
            grid.addWidget(value, row, 2)
            grid.addWidget(plot, row, 3)
            self.sliders[name], self.value_labels[name], self.plots[name] = sl, value, plot
            self._show_value(name)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 3)

        self.field = FieldView(scale=5)
        self.field.picked.connect(self._place_block)
        self.bars = PredictionBars()
        self.bars.setMinimumHeight(120)
        self.answer = QLabel(" ")
        self.answer.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(self.field, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addWidget(self.answer)
        left.addWidget(self.bars, 1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMaximumWidth(300)

        scroll = QScrollArea()  # seven sliders with their curves need more height than a laptop window has
        scroll.setWidget(sliders)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QHBoxLayout()
        body.addWidget(left_box, 2)
        body.addWidget(scroll, 5)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.where_note)
        lay.addLayout(body, 1)
        lay.addWidget(self.status)

    # ------------------------------------------------------------------ sliders
    @staticmethod
    def _value(name: str, position: int) -> float:
        return float(tr.slider_values(name, POSITIONS)[position])

    @staticmethod
    def _position(name: str, value: float) -> int:
        return int(np.argmin(np.abs(tr.slider_values(name, POSITIONS) - value)))

    def value(self, name: str) -> float:
        return self._value(name, self.sliders[name].value())

    def _show_value(self, name: str) -> None:
        s = tr.SLIDERS[name]
        v = self.value(name)
        self.value_labels[name].setText(f"{v:+.1f} {s.unit}".strip() if s.lo < 0 else f"{v:.2f} {s.unit}".strip())
        self.plots[name].marker.setValue(v)

    def _slider_moved(self, name: str) -> None:
        self._show_value(name)
        self.perturbation = self.perturbation.with_value(name, self.value(name))
        self._changed()

    def _place_block(self, row: float, col: float) -> None:
        side = self.value("block")
        if side <= 0:  # a press on the picture with no block yet: a block of a useful size appears there
            self.sliders["block"].blockSignals(True)
            self.sliders["block"].setValue(self._position("block", 6.0))
            self.sliders["block"].blockSignals(False)
            self._show_value("block")
            side = self.value("block")
        self.perturbation = replace(self.perturbation, block=(row, col, side))
        self._changed()

    def set_where(self, where: str) -> None:
        self.where = where
        self.where_note.setText(WHERE_TEXT[where])
        self._changed(sweeps_too=True)

    def reset(self) -> None:
        for name, s in tr.SLIDERS.items():
            self.sliders[name].blockSignals(True)
            self.sliders[name].setValue(self._position(name, s.neutral))
            self.sliders[name].blockSignals(False)
            self._show_value(name)
        self.perturbation = tr.Perturbation()
        self._changed(sweeps_too=True)

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        self._changed(sweeps_too=True)

    def _changed(self, sweeps_too: bool = True) -> None:
        if not self.active:
            return
        if self.canvas is None or not self.models:
            self._show_nothing("Draw a digit in the Draw view: here you can shift, turn, thicken or hide parts "
                               "of it and watch every model's answer follow.")
            return
        paths, names, grey, p, where = self.paths(), self.names(), self.canvas, self.perturbation, self.where
        cache, klass = self.hub.cache, self.class_combo.currentData()
        self.answer_job.run(lambda _st: work.answers_and_class(cache, paths, grey, p, where, klass), lane="numpy",
                            on_result=lambda r: self._got_answers(names, r), text="Reading the changed drawing…")
        if sweeps_too:
            self._sweep_timer.start()

    def _request_sweeps(self) -> None:
        if self.canvas is None or not self.models:
            return
        klass = self.class_combo.currentData()
        key = (tuple(model_key(m) for m in self.models), image_key(self.canvas), self.perturbation, self.where, klass)
        if key == self._sweeps_key:
            return
        paths, grey, p, where, cache = self.paths(), self.canvas, self.perturbation, self.where, self.hub.cache
        names = list(tr.SLIDERS)
        self.sweep_job.run(lambda st: work.sweeps(cache, paths, grey, p, where, klass, names, st), lane="numpy",
                           on_result=lambda r: self._got_sweeps(key, r), cancellable=True,
                           text=f"Sweeping {len(names)} sliders over their whole range…")

    def _got_answers(self, names: list[str], result) -> None:
        x, probs, empty, klass = result
        if x is None:
            self._show_nothing(f"The change leaves nothing the models can read: {empty}.", keep_curves=True)
            return
        self.input_image, self.probs = x, probs
        self.field.set_image(x)
        self.bars.set_probabilities(list(zip(names, probs)))
        self.answer.setText("  ".join(f"{n}: {int(np.argmax(p))} ({p[klass]:.0%} for {klass})"
                                      for n, p in zip(names, probs)))
        self.shown.emit(("answers", probs))

    def _got_sweeps(self, key, result) -> None:
        self.klass, self.sweeps = result
        self._sweeps_key = key
        for name, plot in self.plots.items():
            plot.set_sweep(self.sweeps.get(name))
        self.shown.emit(("sweeps", self.sweeps))

    def _show_nothing(self, text: str, keep_curves: bool = False) -> None:
        """Nothing to read: no drawing or model, or (``keep_curves``) a setting that leaves no ink, whose curves
        still show where the models stop answering."""
        self.input_image, self.probs = None, []
        self.field.set_image(None)
        self.bars.clear()
        self.answer.setText(text)
        if not keep_curves:
            self.sweeps, self._sweeps_key = {}, None
            for plot in self.plots.values():
                plot.set_sweep(None)

    def figure(self):
        if not self.sweeps:
            return None
        values = {n: self.value(n) for n in self.sweeps}
        return sweeps_figure(self.sweeps, self.names(), values, self.klass, self.where)
