"""Summary: the layer table (name, type, output shape, parameters), the model's metadata and training history."""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from . import work
from .common import InspectView, model_key
from .figures import summary_figure
from ..help import explain
from ..plot_legend import legend_outside
from .panels import CLASS_COLOURS


def metadata_lines(m) -> list[str]:
    """The stored metadata as short lines (the window's text and the export's)."""
    md = m.metadata or {}
    out = [f"name: {m.name}{' (shipped)' if m.shipped else ''}", f"file: {m.path}"]
    if md.get("arch"):
        out.append(f"architecture: {md['arch']}  {json.dumps(md.get('hparams', {}))}")
    tr = md.get("training") or {}
    if tr:
        keys = ("optimizer", "learning_rate", "momentum", "batch_size", "epochs", "lr_schedule", "augment", "seed")
        out.append("training: " + ", ".join(f"{k} {tr[k]}" for k in keys if k in tr and tr[k] is not None))
    metrics = md.get("metrics") or {}
    if metrics:
        out.append("metrics: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()))
    if md.get("epochs_done") is not None:
        secs = md.get("training_seconds")
        out.append(f"trained: {md['epochs_done']} epochs" + (f" in {secs:.0f} s" if isinstance(secs, (int, float)) else "")
                   + (" (stopped early)" if md.get("stopped_early") else ""))
    for k in ("date", "data_source", "app_version"):
        if md.get(k):
            out.append(f"{k.replace('_', ' ')}: {md[k]}")
    if len(out) == 2:
        out.append("no metadata stored with this model")
    return out


class SummaryView(InspectView):
    title = "Summary"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("layers")
        self._cache: dict = {}
        self.rows: list[dict] = []
        self._shown = None
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["layer", "type", "output shape", "parameters"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        explain(self.table, "The model's layers, their output shapes and their number of parameters",
                "The network layer by layer, from the input to the output: each layer's type (Dense: every unit "
                "sees every input; Conv2D: small filters slid over the image; pooling: shrinks the image; "
                "dropout: only active in training), the shape of what it passes on, and how many weights it "
                "learns (its parameters).")
        self.meta = QLabel()
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.plots = {}
        self.curves = {}
        self._meta_model = None
        curves = QWidget()
        cl = QHBoxLayout(curves)
        cl.setContentsMargins(0, 0, 0, 0)
        for key in ("loss", "accuracy"):
            p = pg.PlotWidget(background="w", title=key)
            legend_outside(p, "below", columns=2, labelTextColor=(20, 20, 20), frame=False)
            p.setLabel("bottom", "epoch")
            p.setMenuEnabled(False)
            self.plots[key] = p
            explain(p, f"The model's training history: {key} per epoch, on training and validation images",
                    f"How the {key} changed over the epochs this model was trained, measured on the training "
                    "images and on the validation images held out from training. When the two part ways, the "
                    "model has started memorising its training images (overfitting).")

            for k, (name, colour) in enumerate(((key, CLASS_COLOURS[0]), ("val_" + key, CLASS_COLOURS[1]))):
                self.curves[name] = p.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5, symbolBrush=colour,
                                           name="training" if k == 0 else "validation")
            cl.addWidget(p)
        top = QHBoxLayout()
        self.info = QLabel(" ")
        top.addWidget(self.info, 1)
        top.addWidget(self.export_button)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.table)
        upper.addWidget(self.meta)
        upper.setSizes([520, 480])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(curves)
        split.setSizes([380, 260])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

    def refresh(self) -> None:
        if self.model is None:
            return
        key = model_key(self.model)
        if key not in self._cache:
            m, cache = self.model, self.hub.cache
            self._show_metadata()
            self.job.run(lambda _st: work.model_facts(cache, m), on_result=lambda f: self._got(key, f), text=f"Reading the layers of {m.name}…")
            return
        self._show(key)

    def _got(self, key, facts) -> None:
        self._cache[key] = facts
        if self.model is not None and model_key(self.model) == key:
            self._show(key)

    def _show_metadata(self) -> None:
        if self._meta_model is self.model:
            return
        self._meta_model = self.model
        self.meta.setText("\n".join(metadata_lines(self.model)))
        hist = (self.model.metadata or {}).get("history") or {}
        for name, curve in self.curves.items():
            ys = np.asarray(hist.get(name) or [], float)
            curve.setData(np.arange(1, len(ys) + 1), ys)

    def _show(self, key) -> None:
        if key == self._shown:
            return
        self._shown = key
        self._show_metadata()
        self.rows = self._cache[key]["layers"]
        self.table.setRowCount(len(self.rows) + 1)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row["name"], row["type"], str(row["output_shape"]), f"{row['params']:,}")):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        total = sum(r["params"] for r in self.rows)
        self.table.setItem(len(self.rows), 0, QTableWidgetItem("total"))
        tot = QTableWidgetItem(f"{total:,}")
        tot.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(len(self.rows), 3, tot)
        self.table.resizeColumnsToContents()
        self.info.setText(f"{self.model.name}: {len(self.rows)} layers, {total:,} parameters")

    def figure(self):
        if self.model is None or not self.rows:
            return None
        hist = (self.model.metadata or {}).get("history") or {}
        return summary_figure(self.rows, metadata_lines(self.model), hist, f"{self.model.name}: summary")
