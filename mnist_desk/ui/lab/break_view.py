"""Break it: silence first-layer units or filters (click them) or shake a layer's weights with noise, and see
the answers for your drawing and a quick test accuracy follow."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSplitter, QVBoxLayout, QWidget

from ...core.inspection import first_layer_weights_of_net
from ...core.lab.breaking import first_layer_units
from ..draw.prediction_view import PredictionBars
from ..help import explain
from ..inspect.common import model_key
from ..inspect.mosaic_view import MosaicView
from ..inspect.panels import GREY, Tile
from ..inspect.weights_view import weights_panel
from . import work
from .common import LabView

NOISE_STEPS = 40  # the noise slider: 0 to 2 times the layer's weight spread


class BreakView(LabView):
    title = "Break it"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("broken")
        self.silenced: set[int] = set()
        self.intact: tuple | None = None  # (probs for the drawing, accuracy) of the unbroken model
        self.result: tuple | None = None
        self._model_key = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._compute)
        self._build()
        hub.netLoaded.connect(self._net_loaded)

    def _net_loaded(self, path: str) -> None:
        if self.active and self.model is not None and str(self.model.path) == path:
            self.refresh()  # the units and layers can be listed now

    def _build(self) -> None:
        row = QHBoxLayout()
        for text, tip, slot in (("Silence all", "Every first-layer unit off", lambda: self._set_silenced("all")),
                                ("Silence half", "A random half of them off", lambda: self._set_silenced("half")),
                                ("Silence none", "Every unit back on", lambda: self._set_silenced("none"))):
            b = QPushButton(text)
            explain(b, tip, "Silencing a unit sets its output to zero, as if it had been cut out of the network. "
                    "Networks spread what they know over many units, so silencing a few often changes little "
                    "(they degrade gracefully); silencing many shows how much each layer is needed. The line "
                    "above the bars gives the test accuracy of the damaged network.")
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addWidget(QLabel("Noise on the weights of"))
        self.noise_layer = QComboBox()
        explain(self.noise_layer, "The layer whose weights are shaken",
                "Which layer gets random noise on its weights. Try the first layer and the last: some layers "
                "tolerate much more damage than others.")
        self.noise_layer.activated.connect(lambda _i: self._timer.start())
        row.addWidget(self.noise_layer)
        self.noise = QSlider(Qt.Orientation.Horizontal)
        self.noise.setRange(0, NOISE_STEPS)
        self.noise.setToolTip("Gaussian noise added to every weight of the chosen layer, as a multiple of the "
                              "spread of its weights")
        self.noise.setWhatsThis("Adds random (Gaussian) noise to every weight of the chosen layer, scaled by how "
                                "spread out its weights are: 1× is noise as large as the weights themselves. "
                                "Watch the test accuracy fall as the network forgets what it learned.")
        self.noise.valueChanged.connect(self._noise_moved)
        row.addWidget(self.noise, 1)
        self.noise_label = QLabel("0.00×")
        self.noise_label.setMinimumWidth(44)
        row.addWidget(self.noise_label)
        row.addWidget(self.export_button)
        self.units = MosaicView()
        self.units.tileClicked.connect(self._toggle)
        explain(self.units.glw, "The first layer's units: click one to silence it, click again to bring it back",
                "Each tile is one unit of the first layer (a filter of a convnet, a hidden unit of a perceptron, "
                "a class template of a linear model), drawn from its weights. Click a tile to switch the unit "
                "off and see what the network loses: for a linear model, silencing the 3 template means it can "
                "no longer answer 3.")

        self.bars = PredictionBars()
        self.accuracy = QLabel(" ")
        self.accuracy.setWordWrap(True)
        self.accuracy.setStyleSheet("font-size: 14px")
        right = QVBoxLayout()
        right.addWidget(self.accuracy)
        right.addWidget(self.bars, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.units)
        holder = QWidget()
        holder.setLayout(right)
        split.addWidget(holder)
        split.setSizes([560, 420])
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        note = QLabel("Click a unit (a filter of a convnet, a hidden unit or class template otherwise) to silence it: its "
                      "output becomes zero, whatever its activation. Click again to bring it back.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555")
        lay.addWidget(note)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

    # ------------------------------------------------------------------ what is broken
    def noise_level(self) -> float:
        return 2.0 * self.noise.value() / NOISE_STEPS

    def _noise_moved(self) -> None:
        self.noise_label.setText(f"{self.noise_level():.2f}×")
        self._timer.start()

    def _toggle(self, unit: int) -> None:
        self.silenced ^= {unit}
        self._show_units()
        self._timer.start()

    def _set_silenced(self, which: str) -> None:
        net = self.hub.net(self.model)
        if net is None or self.units.panel is None:  # (not loaded, or a first layer that cannot be shown)
            return
        n = first_layer_units(net)[1]
        if which == "all":
            self.silenced = set(range(n))
        elif which == "half":
            self.silenced = set(np.random.default_rng().choice(n, n // 2, replace=False).tolist())
        else:
            self.silenced = set()
        self._show_units()
        self._timer.start()

    def _show_units(self) -> None:
        net = self.hub.net(self.model)
        if net is None:
            self.units.set_panel(None)
            return
        try:
            panel = weights_panel(first_layer_weights_of_net(net), shared=True)
        except ValueError as exc:  # an opened model whose first weight layer does not read the 28x28 pixels
            self.units.set_panel(None)
            self.accuracy.setText(f"{self.model.name}'s first layer cannot be taken apart here: {exc}.")
            return
        for k in self.silenced:
            t = panel.tiles[k]
            panel.tiles[k] = Tile(np.zeros_like(t.image), "off" if t.title else "", GREY, 0.0, 1.0, t.info + " (silenced)")
        panel.title += f"; {len(self.silenced)} silenced"
        self.units.set_panel(panel)

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        if self.model is None:
            return
        if model_key(self.model) != self._model_key:
            self._model_key, self.silenced, self.intact, self.result = model_key(self.model), set(), None, None
            self.noise.blockSignals(True)
            self.noise.setValue(0)
            self.noise.blockSignals(False)
            self.noise_label.setText("0.00×")
            self.noise_layer.clear()
        net = self.hub.net(self.model)
        if net is not None and self.noise_layer.count() == 0:
            for layer in net.source_layers:
                if layer.kind in ("Dense", "Conv2D"):
                    self.noise_layer.addItem(layer.name, layer.name)
        self._show_units()
        self._compute()

    def _compute(self) -> None:
        if not self.active or self.model is None:
            return
        name, path, cache, x = self.model.name, str(self.model.path), self.hub.cache, self.drawing
        silenced, noise, layer = frozenset(self.silenced), self.noise_level(), self.noise_layer.currentData()
        layer_name = self.noise_layer.currentText()
        intact_accuracy = None if self.intact is None else self.intact[1]

        def run(_state):
            # the intact model's answer for this drawing (one forward pass), its accuracy once per model
            probs = None if x is None else cache.net(path).predict(x[None])[0]
            accuracy = intact_accuracy
            if accuracy is None:
                accuracy = work.broken(cache, path, frozenset(), 0.0, None)[1]
            return (probs, accuracy), work.broken(cache, path, silenced, noise, x, layer)

        self.job.run(run, lane="numpy", on_result=lambda r: self._got(name, silenced, noise, layer_name, r),
                     text=f"Testing the broken {name} on {work.TEST_IMAGES:,} test images…")

    def _got(self, name: str, silenced, noise: float, layer_name: str, result) -> None:
        self.intact, broken = result
        self.result = broken
        where = f" on {layer_name}" if noise else ""
        self.accuracy.setText(f"Accuracy on the first {work.TEST_IMAGES:,} test images: {name} {self.intact[1]:.1%}, "
                              f"broken ({len(silenced)} units silenced, noise {noise:.2f}×{where}) {broken[1]:.1%}")
        if broken[0] is not None and self.intact[0] is not None:
            self.bars.set_probabilities([(name, self.intact[0]), (f"{name} broken", broken[0])])
        else:
            self.bars.clear()
        self.shown.emit(("broken", broken[1]))

    def figure(self):
        if self.result is None or self.units.panel is None:
            return None
        from ..inspect.figures import panels_figure

        return panels_figure([self.units.panel], self.accuracy.text())
