"""Live prediction bars (one to three models side by side), the top digit, and what the model sees."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.verdict import DIGIT, UNSURE, Thresholds, Verdict, decide, format_confidence
from ...core.verdict import NOT_A_DIGIT as NOT_A_DIGIT_KIND  # (not core.non_digits.NOT_A_DIGIT, the training label)
from ..help import explain
from ..plot_legend import legend_outside

COLORS = [(40, 110, 200), (230, 130, 30), (60, 170, 80)]
VERDICT_COLORS = {DIGIT: "#1a4d99", UNSURE: "#b36b00", NOT_A_DIGIT_KIND: "#a03030"}


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
        explain(self.plot, "How likely each model finds each digit, 0 to 9 (each model's bars add up to 1)",
                "The network's last layer gives one number per digit (a logit); softmax turns those into "
                "probabilities that add up to 1. A tall bar means the model is confident; bars spread over several "
                "digits mean it hesitates. Each compared model has its own colour, so you can see where models "
                "disagree. Try a sloppy 4 or 9 and watch the probability move between them.")
        self.legend = legend_outside(self.plot, "beside", labelTextColor=(20, 20, 20), frame=False)
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
        self.setWhatsThis("The 28x28 grey picture the network actually receives. MNIST's digits were made this way: "
                          "the ink cropped, scaled to fit 20x20 pixels and placed so its centre of mass sits in the "
                          "middle. Your drawing gets the same treatment, otherwise the model would meet something "
                          "unlike anything it learned from. Each square is one input pixel (0 = black, 1 = white ink).")

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
    """The answer in large type: the digit, "?" when unsure between two, or "not a digit"; with its confidence."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.digit = QLabel("–")
        self._big, self._small = QFont(), QFont()
        self._big.setPointSize(54)
        self._big.setBold(True)
        self._small.setPointSize(20)
        self._small.setBold(True)
        self.digit.setFont(self._big)
        self.digit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit.setMinimumWidth(90)
        self.caption = QLabel("Draw a digit")
        explain(self, "The main model's answer and how sure it is",
                "The answer of the model chosen under Model. A digit when it is confident; \"a or b?\" when it is "
                "unsure: its top probability is below the level most real digits reach, but two digits share "
                "most of it; \"not a digit\" when the probability is spread over many digits (a scribble). The "
                "percentage is the model's calibrated confidence: of drawings it is 90% sure of, about 9 in 10 "
                "are right.")
        f2 = QFont()
        f2.setPointSize(13)
        self.caption.setFont(f2)
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        lay = QHBoxLayout(self)
        lay.addWidget(self.digit)
        lay.addWidget(self.caption, 1)
        self.verdict: Verdict | None = None
        self._look: str | None = "unset"
        self._set_look(None)

    def show_prediction(self, probs: np.ndarray, model_name: str, thresholds: Thresholds = Thresholds()) -> Verdict:
        v = decide(probs, thresholds)
        self.verdict = v
        p = np.asarray(probs, float)
        if v.kind == DIGIT:
            big, text = str(v.digit), f"{format_confidence(v.confidence)} sure"
        elif v.kind == UNSURE:
            big = "?"
            named = [d for d in (v.digit, v.runner_up) if d is not None]
            text = f"Unsure: {v.short} (" + ", ".join(f"{d} {format_confidence(p[d])}" for d in named) + ")"
        elif v.digit is None:
            big, text = "not a\ndigit", "No usable answer from the model."
        else:
            big = "not a\ndigit"
            text = f"No digit stands out: at most {format_confidence(v.confidence)}, for {v.digit}."
        self._set_look(v.kind)
        self.digit.setText(big)
        self.caption.setText(f"{text}\n({model_name})")
        return v

    def _set_look(self, kind: str | None) -> None:
        # Font and style sheet changes re-lay out and re-polish the widget: only when the kind of answer changes.
        if kind == self._look:
            return
        self._look = kind
        self.digit.setFont(self._small if kind == NOT_A_DIGIT_KIND else self._big)
        self.digit.setStyleSheet(f"color: {VERDICT_COLORS.get(kind, '#888')};")

    def show_nothing(self, message: str = "Draw a digit") -> None:
        self.verdict = None
        self._set_look(None)
        self.digit.setText("–")
        self.caption.setText(message)


class AnswerLine(QLabel):
    """Each compared model's own answer, in its bar colour: "cnn 9 · mlp 8 · linear not a digit"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        f = QFont()
        f.setPointSize(12)
        self.setFont(f)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setToolTip("Every compared model's own answer: a digit, \"a or b?\" when it is unsure, or \"not a digit\"")
        self.setWhatsThis("One answer per model, in the colour of its bars. Different networks trained on the same "
                          "digits can disagree on a hard drawing: comparing them shows which kinds of network are "
                          "more robust. \"Unsure\" (a or b?) means the model's best guess is not confident enough "
                          "and two digits share most of the probability.")

        self.answers: list[tuple[str, Verdict]] = []

    def set_answers(self, answers: list[tuple[str, Verdict]]) -> None:
        from html import escape

        self.answers = list(answers)
        parts = [f"<span style='color: rgb{COLORS[i % len(COLORS)]}'><b>{escape(name)}</b> {escape(v.short)}</span>"
                 for i, (name, v) in enumerate(self.answers)]
        text = " · ".join(parts)
        if text != self.text():  # a rich-text label re-lays out on every setText
            self.setText(text)
        shown = len(self.answers) > 1  # one model: the big answer above says it all
        if self.isHidden() == shown:
            self.setVisible(shown)

    def plain_text(self) -> str:
        """The line as a person reads it (without the colours)."""
        return " · ".join(f"{name} {v.short}" for name, v in self.answers)
