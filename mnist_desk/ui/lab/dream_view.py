"""What the model thinks a digit looks like: gradient ascent on one class's score, from the average digit or
from your drawing, with a smoothness prior, shown step by step; for the linear model beside its template
(the row of its weight matrix for that class, which is what the ascent finds for it)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from ...core.lab import dream
from . import work
from ..help import explain
from .common import LabView, PictureView, titled

from .figures import images_figure

FRAME_MS = 33  # the animation shows the newest frame at most this often


class DreamView(LabView):
    title = "Its idea of a digit"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("ascent")
        self.frames: list[np.ndarray] = []
        self._incoming: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._mean: np.ndarray | None = None
        self.template: np.ndarray | None = None
        self._chosen: str | None = None  # the model picked in this view's own list
        self.shown_for: tuple | None = None  # (model name, class, its template) of the frames shown
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._show_newest)
        self._build()

    def _build(self) -> None:
        row = QHBoxLayout()
        row.addWidget(QLabel("What does"))
        self.model_combo = QComboBox()
        self.model_combo.activated.connect(self._model_chosen)
        explain(self.model_combo, "Which model to ask (the ones compared in the Draw view)",
                "The model whose idea of a digit is drawn. Different architectures have very different ideas: "
                "compare a linear model with a convnet.")
        row.addWidget(self.model_combo)
        row.addWidget(QLabel("think a"))
        self.klass = QComboBox()
        for d in range(10):
            self.klass.addItem(str(d), d)
        self.klass.setCurrentIndex(7)
        self.klass.activated.connect(lambda _i: self._show_template())
        explain(self.klass, "The digit to draw the model's idea of",
                "The digit whose score the picture is pushed to raise.")
        row.addWidget(self.klass)
        row.addWidget(QLabel("looks like? Start from"))
        self.start = QComboBox()
        self.start.addItem("the average digit", dream.MEAN_DIGIT)
        self.start.addItem("your drawing", dream.YOUR_DRAWING)
        explain(self.start, "The picture the push starts from",
                "Start from the average of all MNIST digits (a grey blur) or from your own drawing: starting from "
                "your 3 and pushing toward 8 shows what the model would need to see added.")
        row.addWidget(self.start)
        row.addWidget(QLabel("smoothness"))
        self.smoothness = QSlider(Qt.Orientation.Horizontal)
        self.smoothness.setRange(0, 30)
        self.smoothness.setValue(10)
        self.smoothness.setMaximumWidth(120)
        self.smoothness.setToolTip("How strongly the picture is kept smooth while it is pushed toward the class: "
                                   "0 lets it become the noise the network happens to respond to")
        self.smoothness.setWhatsThis("Without a pull toward smooth pictures, the push finds speckled patterns that "
                                     "raise the score but look like nothing to a person (a sign that the network "
                                     "does not read digits as we do). More smoothness keeps the picture "
                                     "digit-like.")
        row.addWidget(self.smoothness)
        self.run_button = QPushButton("Show me")
        self.run_button.clicked.connect(self.run_ascent)
        explain(self.run_button, "Push the picture toward the chosen digit and watch it change",
                "Gradient ascent on the input: instead of changing the weights to fit the pictures (training), "
                "the weights stay fixed and the picture is changed, step by step, to raise the chosen digit's "
                "score. The result is what the model 'thinks' the digit looks like.")

        row.addWidget(self.run_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        self.start_view = PictureView(scale=6, tip="Where the ascent starts")
        self.frame_view = PictureView(scale=6, tip="The picture pushed toward the class, step by step")
        self.template_view = PictureView(scale=6, tip="The linear model's weights for this class (red: ink there "
                                                     "raises the score, blue: lowers it)")
        pics = QHBoxLayout()
        pics.addLayout(titled("Start", self.start_view))
        pics.addLayout(titled("Pushed toward the class", self.frame_view))
        self.template_box = QWidget()
        self.template_box.setLayout(titled("Its template (the linear model's weights)", self.template_view))
        pics.addWidget(self.template_box)
        pics.addStretch(1)
        self.info = QLabel(" ")
        self.info.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addLayout(pics)
        lay.addWidget(self.info)
        lay.addStretch(1)
        lay.addWidget(self.status)

    def _model_chosen(self, _index: int) -> None:
        self._chosen = self.model_combo.currentData()
        self._show_template()

    def set_models(self, models: list) -> None:
        self.model_combo.clear()
        for m in models:
            self.model_combo.addItem(m.name, str(m.path))
        # the main model, unless the user chose another one here and it is still compared
        self.model_combo.setCurrentIndex(max(self.model_combo.findData(self._chosen), 0))
        super().set_models(models)

    def chosen(self):
        path = self.model_combo.currentData()
        return next((m for m in self.models if str(m.path) == path), None)

    def refresh(self) -> None:
        self._show_template()
        if not self.frames:
            self.info.setText("Pick a digit and press Show me: the picture is changed, step by step, to raise the "
                              "model's score for that digit as far as it goes.")

    def _show_template(self) -> None:
        m = self.chosen()
        net = self.hub.net(m) if m is not None else None
        self.template = None if net is None else dream.linear_template(net, self.klass.currentData())
        self.template_view.set_image(self.template, diverging=True)
        self.template_box.setVisible(self.template is not None)

    def run_ascent(self) -> None:
        m = self.chosen()
        if m is None:
            return
        if self.start.currentData() == dream.YOUR_DRAWING and self.drawing is None:
            self.info.setText("Draw a digit first, or start from the average digit.")
            return
        klass, path, cache = self.klass.currentData(), str(m.path), self.hub.cache
        drawing, use_mean = self.drawing, self.start.currentData() == dream.MEAN_DIGIT
        smoothness = self.smoothness.value() / 10
        incoming: list[np.ndarray] = []  # this run's own frames: a replaced run still finishing cannot mix in
        with self._lock:
            self.frames, self._incoming = [], incoming
        self._timer.start()

        def on_frame(_i, frame):
            with self._lock:
                incoming.append(np.asarray(frame, np.float32))

        def run(state):
            start = work.mean_digit() if use_mean else drawing
            frames = work.class_image(cache, path, klass, start, smoothness, on_frame, state)
            net = cache.net(path)
            return start, frames, net.predict(np.stack([start, frames[-1]]))[:, klass]

        self._show_template()
        template = self.template
        self.job.run(run, lane="tensorflow", cancellable=True, on_result=lambda r: self._got(m.name, klass, template, r),
                     text=f"Pushing a picture toward {klass} for {m.name}…")

    def _show_newest(self) -> None:
        with self._lock:
            new = self._incoming[:]
            self._incoming.clear()
        if new:
            self.frames.extend(new)
            if len(self.frames) == len(new):
                self.start_view.set_image(self.frames[0])
            self.frame_view.set_image(self.frames[-1])
        if not self.job.busy():
            self._timer.stop()

    def _got(self, name: str, klass: int, template, result) -> None:
        start, frames, (p0, p1) = result
        self._timer.stop()
        self.frames = list(frames)
        self.shown_for = (name, klass, template)
        self.start_view.set_image(start)
        self.frame_view.set_image(self.frames[-1])
        self.info.setText(f"{name}'s probability of {klass}: {p0:.0%} at the start, {p1:.1%} after "
                          f"{len(self.frames) - 1} shown steps. What raises the score is not always what a person "
                          f"would draw.")
        self.shown.emit(("frames", self.frames))

    def figure(self):
        if not self.frames or self.shown_for is None:
            return None
        name, klass, template = self.shown_for
        images = [("start", self.frames[0], "gray"), ("pushed toward the class", self.frames[-1], "gray")]
        if template is not None:
            images.append(("its template", template, "RdBu_r"))
        return images_figure(images, f"What {name} thinks a {klass} looks like")
