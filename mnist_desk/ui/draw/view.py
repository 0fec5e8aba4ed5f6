"""The Draw view: canvas, live predictions of one to three models, what the model sees, saliency, my digits."""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import my_digits as md
from ...core.errors import EmptyDrawing, MnistDeskError
from ...core.preprocess import prepare_drawing, prepare_drawing_placed
from ...core.verdict import Thresholds, decide
from .canvas import DrawingCanvas
from ..elided_combo import ElidedComboBox
from ..help import explain
from ..remembered import open_settings, read_int, read_json, write_json
from ..models import ModelHub
from .prediction_view import AnswerLine, ModelInputView, PredictionBars, TopDigit
from .. import jobs

log = logging.getLogger(__name__)
NONE = "(none)"


def _saliency_job(cache, path, x28: np.ndarray):
    """On the TensorFlow lane: the gradient of the top class's logit with respect to the drawing."""
    from ...core.inspection import input_gradients

    g = input_gradients(cache.keras(path), x28, target="logits")
    return g.top_class, g.top


def saliency_rect(drawing: np.ndarray) -> tuple[float, float, float] | None:
    """Where the model's 28x28 field lies on the canvas: (x0, y0, side) in canvas pixels; None if nothing is drawn.

    Taken from the preprocessing itself, so the gradient painted there lies exactly over the ink it is about.
    """
    try:
        _, field = prepare_drawing_placed(drawing)
    except EmptyDrawing:
        return None
    return field.left, field.top, field.side


def saliency_qimage(grad: np.ndarray) -> QImage:
    """|gradient| as a red overlay whose opacity follows the magnitude."""
    m = np.abs(grad)
    m = m / (m.max() or 1.0)
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 0] = 230
    rgba[..., 1] = (40 * (1 - m)).astype(np.uint8)
    rgba[..., 3] = (255 * np.sqrt(m)).astype(np.uint8)
    return QImage(np.ascontiguousarray(rgba).data, 28, 28, 28 * 4, QImage.Format.Format_RGBA8888).copy()


class DrawTab(QWidget):
    drawingFinished = Signal(object)  # the model's 28x28 input after a stroke (None when empty)
    predicted = Signal(object)  # (model name, probabilities) after each prediction
    message = Signal(str)  # for the status bar
    problem = Signal(str)  # a user error: what went wrong and what to do (the window shows it until closed)
    comparedChanged = Signal()  # other models were chosen to compare with

    def __init__(self, hub: ModelHub, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.canvas = DrawingCanvas()
        self.bars = PredictionBars()
        self.top = TopDigit()
        self.answers = AnswerLine()
        self.model_input = ModelInputView()
        self.current_input: np.ndarray | None = None
        self.last_probs: list[tuple[str, np.ndarray]] = []
        self._predict_pending = False
        self._saliency_task: jobs.Job | None = None
        self._saliency_again = False
        self._digits_task: jobs.Job | None = None
        self.digits, problem = md.MyDigits.load_or_set_aside()
        self.startup_problems = [problem] if problem else []  # the window shows them in its notice bar
        self._build()
        self.canvas.changed.connect(self._schedule_predict)
        self.canvas.strokeFinished.connect(self._on_stroke_finished)
        self.canvas.fileError.connect(lambda what: self.problem.emit(
            f"Could not open the picture {what}. Open a PNG or JPEG of one digit, or draw it on the canvas."))
        hub.listChanged.connect(self._fill_pickers)
        hub.currentChanged.connect(self._on_current_changed)
        hub.netLoaded.connect(lambda _p: self._schedule_predict())
        hub.momentChanged.connect(self._schedule_predict)
        self._fill_pickers()
        self._restore_settings()
        self._update_digits_panel()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        tools = QHBoxLayout()
        self.width_slider = QSlider(Qt.Orientation.Horizontal)
        self.width_slider.setRange(4, 48)
        self.width_slider.setValue(int(self.canvas.pen_width))
        explain(self.width_slider, "Pen width (pixels of the 280x280 canvas)",
                "How thick your strokes are. The model's input is shrunk to 28x28 and the stroke width is evened "
                "out, so the width matters less than you might think: try a very thin and a very thick 1.")
        self.width_slider.valueChanged.connect(lambda v: setattr(self.canvas, "pen_width", float(v)))
        self.eraser_box = QCheckBox("Eraser")
        explain(self.eraser_box, "Draw with white to rub out ink",
                "When ticked, your strokes remove ink instead of adding it. Rub out part of a digit (the top of a "
                "7, the loop of a 9) and watch how the models change their minds.")
        self.eraser_box.toggled.connect(lambda on: setattr(self.canvas, "eraser", on))
        tools.addWidget(QLabel("Pen"))
        tools.addWidget(self.width_slider, 1)
        tools.addWidget(self.eraser_box)
        # The window's menus give these their shortcuts and add them to the tooltips (see ui/menus.py).
        self.buttons: dict[str, QToolButton | QPushButton] = {}
        for key, text, tip, slot in (
            ("undo", "Undo", "Undo the last stroke", self.canvas.undo),
            ("redo", "Redo", "Redo what was undone", self.canvas.redo),
            ("clear", "Clear", "Clear the drawing (right-click the canvas does too)", self.canvas.clear),
            ("open_image", "Open…", "Open an image of a digit (or drop one on the canvas)", self.open_image),
            ("save_drawing", "Save…", "Save the drawing as PNG", self.save_image),
        ):
            b = QToolButton()
            b.setText(text)
            explain(b, tip, tip + ". The keyboard shortcut is listed under Help > Keyboard shortcuts (F1).")
            b.clicked.connect(slot)
            tools.addWidget(b)
            self.buttons[key] = b
        self.saliency_box = QCheckBox("Saliency")
        explain(self.saliency_box, "Paint the gradient of the top class's logit with respect to each input pixel over "
                "the drawing: red where changing the ink would change the answer most.",
                "A saliency map: for every pixel, how much the model's score for its answer would change if that "
                "pixel were a little darker or lighter (the gradient, found by backpropagation, the same "
                "calculation that trains the network). Red pixels matter most to the answer. It shows what the "
                "model looks at, which is not always what a person looks at.")
        self.saliency_box.toggled.connect(self._on_saliency_toggled)
        tools.addWidget(self.saliency_box)

        left = QVBoxLayout()
        left.addWidget(self.canvas, 1)
        left.addLayout(tools)

        pick = QGridLayout()
        self.model_combo = ElidedComboBox("The model that reads your drawing: shipped models and every model you trained")
        self.model_combo.activated.connect(lambda i: self.hub.select(self.model_combo.itemData(i)))
        self.model_combo.setWhatsThis("The model that reads your drawing, and the one the Train, Inspect and Lab views "
                                      "look at. Shipped models come from the classic MNIST notebooks (a linear model, a "
                                      "multi-layer perceptron, convolutional networks); models you train appear here "
                                      "too, with their test accuracy: the share of 10,000 unseen MNIST digits they "
                                      "read correctly.")
        self.compare_combos = [ElidedComboBox("Show a second or third model's bars for the same drawing") for _ in range(2)]
        for c in self.compare_combos:
            c.setWhatsThis("Pick another model to read the same drawing: its bars appear beside the main model's in "
                           "its own colour, and the Lab runs its experiments on it too. Comparing shows that models "
                           "with the same test accuracy can still disagree on your digits.")
        for c in [self.model_combo, *self.compare_combos]:
            # long model labels must not widen the window beyond a laptop screen
            c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            c.setMinimumContentsLength(8)
        open_model = QPushButton("Open model file…")
        explain(open_model, "Open a .keras model from anywhere",
                "Load a model saved by Keras (a .keras file), for example one trained in a notebook. It must take "
                "28x28 grey images and give 10 outputs, one per digit.")
        open_model.clicked.connect(self.open_model)
        self.buttons["open_model"] = open_model
        pick.addWidget(QLabel("Model"), 0, 0)
        pick.addWidget(self.model_combo, 0, 1)
        pick.addWidget(open_model, 0, 2)
        pick.addWidget(QLabel("Compare with"), 1, 0)
        cmp_row = QHBoxLayout()
        for c in self.compare_combos:
            c.activated.connect(self._on_compare_changed)
            cmp_row.addWidget(c)
        pick.addLayout(cmp_row, 1, 1, 1, 2)
        pick.setColumnStretch(1, 1)  # room goes to the pickers, so that more names show whole, not to the labels

        sees = QGroupBox("What the model sees")
        explain(sees, "Your drawing as the network receives it: 28x28 grey pixels",
                "Networks do not see your big drawing: they get 784 numbers, the brightness of 28x28 pixels, "
                "prepared the way MNIST's digits were. If the picture here looks wrong, the answer will be too.")
        sl = QVBoxLayout(sees)
        sl.addWidget(self.model_input, 0, Qt.AlignmentFlag.AlignCenter)

        top_row = QHBoxLayout()
        top_row.addWidget(self.top, 1)
        top_row.addWidget(sees)

        right = QVBoxLayout()
        right.addLayout(pick)
        right.addLayout(top_row)
        right.addWidget(self.answers)
        right.addWidget(self.bars, 1)
        right.addWidget(self._build_digits_panel())

        lay = QHBoxLayout(self)
        lay.addLayout(left, 5)
        lay.addLayout(right, 4)

        # Keys that only mean something here: they work whichever child of this view has focus, and only
        # there (the window-wide commands, undo and redo included, are the menus' actions).
        self.clear_action = QAction("Clear drawing", self)
        self.clear_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.clear_action.triggered.connect(lambda: self.canvas.clear())
        self.label_actions: list[QAction] = []
        for d in range(10):
            a = QAction(f"&{d}", self)  # shown under Edit > Label drawing as
            a.setShortcut(QKeySequence(str(d)))
            a.triggered.connect(lambda _=False, d=d: self.label_current(d))
            self.label_actions.append(a)
        for a in (self.clear_action, *self.label_actions):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(a)

    def _build_digits_panel(self) -> QGroupBox:
        box = QGroupBox("My digits: press 0-9 to label your drawing")
        explain(box, "Your own labelled digits, and how well each model reads them",
                "A small data set of your handwriting. Label a drawing with its true digit (the buttons or keys "
                "0-9) and it is kept. The table shows each model's accuracy on your digits: often lower than on "
                "MNIST's test set, because your drawings come from a different hand and tool than MNIST's "
                "(a 'distribution shift'). You can add them to a training run in the Train view.")
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.digit_buttons = []
        for d in range(10):
            b = QToolButton()
            b.setText(str(d))
            explain(b, f"Label the drawing as {d} and add it to your digits (key {d})",
                    f"Tells the app the drawing is a {d} (its label, the right answer) and keeps it in My digits. "
                    "Labelled examples are what supervised learning learns from and is tested on.")
            b.clicked.connect(lambda _=False, d=d: self.label_current(d))
            row.addWidget(b)
            self.digit_buttons.append(b)
        v.addLayout(row)
        self.digits_summary = QLabel()
        self.digits_summary.setWordWrap(True)
        v.addWidget(self.digits_summary)
        self.digits_table = QTableWidget(0, 3)
        self.digits_table.setHorizontalHeaderLabels(["model", "accuracy", "errors by digit"])
        self.digits_table.horizontalHeader().setStretchLastSection(True)
        self.digits_table.verticalHeader().setVisible(False)
        self.digits_table.setMaximumHeight(120)
        self.digits_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        explain(self.digits_table, "Each model's accuracy on your labelled digits, and which digits it gets wrong",
                "One row per model: the share of your labelled digits it reads correctly, and for each digit how "
                "many of yours it got wrong. It tells you which model copes best with your handwriting.")
        v.addWidget(self.digits_table)
        row2 = QHBoxLayout()
        undo_label = QPushButton("Remove last")
        undo_label.clicked.connect(self.remove_last_digit)
        explain(undo_label, "Forget the last digit you labelled",
                "Removes the most recently labelled digit from My digits, for when you pressed the wrong key.")
        export = QPushButton("Export .npz…")
        explain(export, "Export your labelled digits as a .npz in MNIST's own layout (x_train, y_train)",
                "Saves your digits as a numpy .npz file laid out like keras.datasets.mnist (images in x_train, "
                "labels in y_train), so a notebook can load them like MNIST itself.")

        export.clicked.connect(self.export_digits)
        self.buttons["export_digits"] = export
        row2.addWidget(undo_label)
        row2.addWidget(export)
        row2.addStretch(1)
        v.addLayout(row2)
        return box

    # ------------------------------------------------------------------ models
    def _fill_pickers(self) -> None:
        current = self.hub.current
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for m in self.hub.models:
            self.model_combo.addItem(m.label, str(m.path))
        if current is not None:
            i = self.model_combo.findData(str(current.path))
            if i >= 0:
                self.model_combo.setCurrentIndex(i)
        self.model_combo.blockSignals(False)
        for c in self.compare_combos:
            keep = c.currentData()
            c.blockSignals(True)
            c.clear()
            c.addItem(NONE, None)
            for m in self.hub.models:
                c.addItem(m.name, str(m.path))
            i = c.findData(keep) if keep else 0
            c.setCurrentIndex(max(i, 0))
            c.blockSignals(False)

    def _on_current_changed(self, m) -> None:
        i = self.model_combo.findData(str(m.path))
        if i < 0:
            self._fill_pickers()
            i = self.model_combo.findData(str(m.path))
        self.model_combo.setCurrentIndex(i)
        self.message.emit(f"Model: {m.label}")
        self._schedule_predict()
        self._request_saliency()
        self._update_digits_panel()

    def _on_compare_changed(self) -> None:
        for m in self.compared_models():
            self.hub.ensure_net(m)
        self._schedule_predict()
        self.comparedChanged.emit()

    def compared_models(self) -> list:
        out = []
        for c in self.compare_combos:
            m = self.hub.find(c.currentData()) if c.currentData() else None
            if m is not None and (self.hub.current is None or m.path != self.hub.current.path) and m not in out:
                out.append(m)
        return out

    def set_compare(self, names: list[str]) -> None:
        """Pick up to two models to compare with, by name (also used by tests and benchmarks)."""
        for c, name in zip(self.compare_combos, names + [None, None]):
            m = self.hub.find(name) if name else None
            c.setCurrentIndex(max(c.findData(str(m.path)), 0) if m else 0)
        self._on_compare_changed()

    # ------------------------------------------------------------------ predicting
    def _schedule_predict(self) -> None:
        # Coalesce: all mouse moves already queued are drawn first, then one prediction runs.
        if not self._predict_pending:
            self._predict_pending = True
            QTimer.singleShot(0, self._predict_if_pending)

    def _predict_if_pending(self) -> None:
        if self._predict_pending:  # (the end of a stroke may have predicted already)
            self.predict_now()

    def predict_now(self) -> None:
        self._predict_pending = False
        net = self.hub.net(self.hub.current)
        try:
            x = prepare_drawing(self.canvas.to_array())
        except EmptyDrawing as exc:
            self.current_input = None
            self.last_probs = []
            self.model_input.set_image(None)
            self.bars.clear()
            self.answers.set_answers([])
            self.top.show_nothing("Draw a digit" if self.canvas.is_empty() else str(exc).capitalize())
            self.canvas.set_overlay(None)
            return
        self.current_input = x
        self.model_input.set_image(x)
        if net is None:
            self.answers.set_answers([])
            self.top.show_nothing("Loading the model…")
            return
        models, results = [], []
        moment = self.hub.moment_net()  # the timeline's point, when one is chosen: it takes the first row
        for m in [self.hub.current, *self.compared_models()]:
            other = self.hub.net(m)
            name = m.name
            if moment is not None and m is self.hub.current:
                name, other = moment
            probs = self._probabilities(m, other, x) if other is not None else None
            if probs is None:
                if m is self.hub.current:
                    return  # the broken current model is being replaced; the next prediction uses the new one
                continue
            models.append(m)
            results.append((name, probs))
        self.last_probs = results
        self.bars.set_probabilities(results)
        verdicts = [self.top.show_prediction(results[0][1], results[0][0], Thresholds.from_metadata(models[0].metadata))]
        verdicts += [decide(p, Thresholds.from_metadata(m.metadata)) for m, (_, p) in zip(models[1:], results[1:])]
        self.answers.set_answers([(name, v) for (name, _), v in zip(results, verdicts)])
        self.bars.plot.repaint()
        self.predicted.emit(results[0])

    def _probabilities(self, m, net, x: np.ndarray) -> np.ndarray | None:
        """The model's 10 probabilities for the drawing; None if it fails on it (it is then put aside, once)."""
        try:
            probs = np.asarray(net.predict(x)[0], dtype=np.float64)
            if probs.shape != (10,):
                raise ValueError(f"{probs.shape[0]} outputs instead of 10")
            return probs
        except Exception as exc:  # noqa: BLE001 - a model file may break in ways loading could not see
            log.warning("model %s failed on a drawing", m.path, exc_info=True)
            self.message.emit(f"Model {m.name} failed on this drawing ({type(exc).__name__}: {exc}) and was put aside.")
            for c in self.compare_combos:
                if c.currentData() == str(m.path):
                    c.setCurrentIndex(0)
            self.hub.forget(m)
            if m is self.hub.current:
                self.hub.select(next((str(o.path) for o in self.hub.models if o.path != m.path), None))
            return None

    def _on_stroke_finished(self) -> None:
        self.predict_now()
        self.drawingFinished.emit(self.current_input)
        self._request_saliency()

    # ------------------------------------------------------------------ saliency
    def _on_saliency_toggled(self, on: bool) -> None:
        if on:
            self._request_saliency()
        else:
            self.canvas.set_overlay(None)

    def _request_saliency(self) -> None:
        if not self.saliency_box.isChecked() or self.current_input is None or self.hub.current is None:
            if not self.saliency_box.isChecked() or self.current_input is None:
                self.canvas.set_overlay(None)
            return
        if self._saliency_task is not None and self._saliency_task.is_running():
            self._saliency_again = True  # run once more with the newest drawing when this one returns
            return
        self._saliency_again = False
        drawing = self.canvas.to_array()
        cache, path, x = self.hub.cache, self.hub.current.path, self.current_input
        self.message.emit("Computing saliency (the first time loads TensorFlow)…")
        self._saliency_task = jobs.run(
            lambda _state: _saliency_job(cache, path, x), lane="tensorflow", name="saliency",
            on_result=lambda r: self._show_saliency(r, drawing),
            on_error=lambda exc: self.message.emit(f"Saliency failed: {jobs.describe(exc)}"),
            on_done=self._saliency_done)

    def _saliency_done(self) -> None:
        if self._saliency_again:
            self._request_saliency()

    def _show_saliency(self, result, drawing: np.ndarray) -> None:
        if not self.saliency_box.isChecked():
            return
        _, grad = result
        rect = saliency_rect(drawing)
        if rect is None:
            return
        x0, y0, side = rect
        overlay = QImage(self.canvas.side, self.canvas.side, QImage.Format.Format_ARGB32_Premultiplied)
        overlay.fill(0)
        p = QPainter(overlay)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(QRectF(x0, y0, side, side), saliency_qimage(grad))
        p.end()
        self.canvas.set_overlay(overlay)
        self.saliency_grad = grad
        self.message.emit("Saliency: red pixels move the top class's score most")

    # ------------------------------------------------------------------ files
    def open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image of a digit", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)")
        if path:
            self.canvas.load_file(path)

    def save_image(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save drawing", "digit.png", "PNG (*.png)")
        if path and self.canvas.save_png(path):
            self.message.emit(f"Saved {path}")

    def open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", "Keras models (*.keras);;All files (*)")
        if path:
            self.hub.open_file(path)

    # ------------------------------------------------------------------ my digits
    def label_current(self, digit: int) -> bool:
        if self.current_input is None:
            self.message.emit("Draw a digit first, then press its key to add it to your digits")
            return False
        try:
            self.digits.add(self.current_input, digit, self.canvas.to_array())
        except md.DigitsNotSaved as exc:  # kept for this session all the same
            self.message.emit(str(exc))
        except MnistDeskError as exc:
            self.problem.emit(f"The digit was not added: {exc}.")
            return False
        else:
            self.message.emit(f"Added a {digit} to your digits ({len(self.digits)} in all)")
        self.canvas.clear()
        self._update_digits_panel()
        return True

    def remove_last_digit(self) -> None:
        try:
            self.digits.remove_last()
        except MnistDeskError as exc:
            self.problem.emit(f"The last digit could not be removed: {exc}.")
        self._update_digits_panel()

    def export_digits(self) -> None:
        if not len(self.digits):
            self.message.emit("No digits to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export my digits", "my_digits.npz", "NumPy archive (*.npz)")
        if path:
            try:
                self.digits.export(path)
                self.message.emit(f"Exported {len(self.digits)} digits to {path} (Keras layout: x_train, y_train)")
            except MnistDeskError as exc:
                self.problem.emit(f"Your digits were not exported: {exc}. Choose another folder or file name.")

    def _update_digits_panel(self) -> None:
        n = len(self.digits)
        counts = self.digits.counts()
        per = "  ".join(f"{d}:{c}" for d, c in enumerate(counts))
        self.digits_summary.setText(f"{n} digits  ({per})" if n else "No digits yet: draw one and press its key.")
        if not n:
            self.digits_table.setRowCount(0)
            return
        paths = []
        for m in [self.hub.current] + [m for m in self.hub.models if m.shipped]:
            if m is not None and m.path not in paths:
                paths.append(m.path)
        if self._digits_task is not None and self._digits_task.is_running():
            self._digits_task.cancel()
        x, y = self.digits.x.copy(), self.digits.y.copy()
        self._digits_task = jobs.run(
            lambda state: md.score_models(paths, x, y, should_stop=state.should_stop), lane="numpy",
            name="score-my-digits", on_result=self._show_digit_scores,
            on_error=lambda exc: self.message.emit(f"Scoring your digits failed: {jobs.describe(exc)}"))

    def _show_digit_scores(self, scores) -> None:
        self.digit_scores = scores
        self.digits_table.setRowCount(len(scores))
        for r, (name, s) in enumerate(scores):
            errs = ", ".join(f"{d}: {e}/{c}" for d, (e, c) in enumerate(zip(s["errors_per_digit"], s["count_per_digit"])) if e)
            for col, text in enumerate((name, f"{s['accuracy'] * 100:.1f}%", errs or "none")):
                self.digits_table.setItem(r, col, QTableWidgetItem(text))
        self.digits_table.resizeColumnsToContents()

    # ------------------------------------------------------------------ remembered between sessions
    def _restore_settings(self) -> None:
        s = open_settings()
        width = read_int(s, "draw/pen_width", self.width_slider.minimum(), self.width_slider.maximum())
        if width is not None:
            self.width_slider.setValue(width)
        compare = read_json(s, "draw/compare", list) or []
        for c, path in zip(self.compare_combos, compare):
            i = c.findData(path) if isinstance(path, str) else -1
            if i >= 0:  # a model deleted since is simply not compared
                c.setCurrentIndex(i)
        if self.compared_models():
            self._on_compare_changed()

    def remember_settings(self) -> None:
        s = open_settings()
        s.setValue("draw/pen_width", self.width_slider.value())
        write_json(s, "draw/compare", [c.currentData() for c in self.compare_combos])

    def shutdown(self) -> None:
        self.remember_settings()
        for t in (self._saliency_task, self._digits_task):
            if t is not None:
                t.cancel()
