"""Errors: the test set's confusion matrix as a heat map; a cell opens a gallery of its images."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from ...core.inspection import cell_indices
from ...core.verdict import format_confidence
from ..help import explain
from . import work
from .common import LRU, InspectView, model_key
from .figures import confusion_figure
from .gallery import Gallery
from .heatmap import ConfusionHeatmap
from .panels import GREY, Panel, Tile

GALLERY_EXPORT_MAX = 60  # gallery images in an export (the window scrolls through all of them)


class ErrorsView(InspectView):
    title = "Errors"
    imagePicked = Signal(int, object)  # test index, its 28x28 uint8 image

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("confusion")
        self.prepare_job = self.slot("timeline copy")
        self._prepared: object = None  # the model whose snapshot copy is ready
        self._cache = LRU(64)  # (model key, timeline moment or None) -> (Confusion, Dataset)
        hub.momentChanged.connect(lambda: self.refresh() if self.active else None)
        hub.subjectChanged.connect(lambda: self._prepare_snapshots() if self.active else None)
        self.conf = None
        self.data = None
        self.cell: tuple[int, int] | None = None
        self.cell_images: np.ndarray = np.zeros(0, np.int64)
        self._shown = None
        self.heatmap = ConfusionHeatmap()
        self.heatmap.cellClicked.connect(self.open_cell)
        self.heatmap.setToolTip("Click a cell to see its images")
        self.heatmap.setWhatsThis("The confusion matrix: MNIST's 10,000 test images sorted by their true digit "
                                  "(rows) and the model's answer (columns). The diagonal holds the images read "
                                  "correctly; every other cell counts one kind of mistake, e.g. row 4, column 9: "
                                  "fours read as nines. Bright cells off the diagonal are the pairs the model "
                                  "confuses. Click a cell to see its images.")
        self.info = QLabel(" ")
        self.gallery_title = QLabel("Click a cell of the matrix to see its images")
        self.gallery_title.setWordWrap(True)
        self.gallery = Gallery()
        self.gallery.picked.connect(self._on_pick)
        explain(self.gallery, "The test images of the chosen cell; click one to study it",
                "The test images behind the matrix cell you clicked: for a cell off the diagonal, the digits the "
                "model got wrong, with how sure it was. Many are genuinely hard, even for people. Click one to "
                "load it into the canvas and the Gradients view.")

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.gallery_title)
        rl.addWidget(self.gallery, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.heatmap)
        split.addWidget(right)
        split.setSizes([500, 500])
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

    def _key(self) -> tuple:
        moment = self.hub.moment_snapshot(self.model)
        return (model_key(self.model), None, None) if moment is None else (model_key(self.model), *moment)

    def refresh(self) -> None:
        if self.model is None:
            return
        *key, snap = self._key()
        key = tuple(key)
        if key in self._cache:
            self._show(key)
            return
        m, cache = self.model, self.hub.cache
        if snap is None:
            self.job.run(lambda st: work.confusion(cache, m, st.should_stop, st.report),
                         on_result=lambda r: self._got(key, r), cancellable=True,
                         text=f"Classifying the 10,000 test images with {m.name}…")
        else:
            weights = snap.weights
            self.job.run(lambda st: work.confusion_at_snapshot(cache, m, weights, st.should_stop, st.report),
                         on_result=lambda r: self._got(key, r), cancellable=True,
                         text=f"Classifying {work.SNAPSHOT_TEST_IMAGES:,} test images with {key[1]}…")

    def _got(self, key, result) -> None:
        self._cache[key] = result
        if self.model is not None and self._key()[:2] == key:
            self._show(key)
        if key[1] is None:
            self._prepare_snapshots()

    def _prepare_snapshots(self) -> None:
        """Once the model's own matrix is shown, get its timeline's snapshots ready in the background."""
        subj, m = self.hub.subject, self.model
        if (m is None or subj is None or subj.model is None or subj.timeline is None or len(subj.timeline) < 2
                or str(subj.model.path) != str(m.path) or self._prepared == model_key(m) or self.job.busy()):
            return
        key, cache = model_key(m), self.hub.cache
        self.prepare_job.run(lambda _st: work.prepare_snapshot_copy(cache, m),
                             on_result=lambda _r: setattr(self, "_prepared", key),
                             text=f"Getting {m.name}'s timeline ready…")

    def _show(self, key) -> None:
        if key == self._shown:
            return
        self._shown = key
        self.conf, self.data = self._cache[key]
        mat = self.conf.matrix
        self.heatmap.set_matrix(mat)
        errors = int(mat.sum() - np.trace(mat))
        images = "the first " if key[1] else ""
        self.info.setText(f"{key[1] or self.model.name}: test accuracy {self.conf.accuracy * 100:.2f}%, {errors} errors "
                          f"in {images}{int(mat.sum()):,} test images (colour: log(1 + count))")
        self.cell = None
        self.gallery.clear()
        self.gallery_title.setText("Click a cell of the matrix to see its images")

    # ------------------------------------------------------------------ cells and the gallery
    def open_cell(self, true_label: int, predicted: int) -> None:
        if self.conf is None:
            return
        y = self.data.y_test
        idx = cell_indices(y, self.conf.predictions, true_label, predicted)
        idx = idx[np.argsort(-self.conf.confidences[idx], kind="stable")]  # most confident first
        self.cell, self.cell_images = (true_label, predicted), idx
        self.heatmap.set_selected((true_label, predicted))
        conf = self.conf.confidences[idx]
        caps = [f"#{k}\n{true_label}→{predicted} {format_confidence(c)}" for k, c in zip(idx, conf)]
        tips = [f"test image #{k}: true {true_label}, predicted {predicted} with {format_confidence(c)}; click to load it" for k, c in zip(idx, conf)]
        self.gallery.set_items(self.data.x_test[idx], caps, idx, tips)
        kind = "correct" if true_label == predicted else "misclassified"
        self.gallery_title.setText(f"{len(idx)} {kind} test images: true {true_label}, predicted {predicted} "
                                   "(most confident first). Click one to load it into the canvas and the gradient view.")

    def _on_pick(self, index: int) -> None:
        if self.data is not None:
            self.imagePicked.emit(int(index), self.data.x_test[index])

    def gallery_panel(self) -> Panel | None:
        if self.cell is None or not len(self.cell_images):
            return None
        t, p = self.cell
        idx = self.cell_images[:GALLERY_EXPORT_MAX]
        conf = self.conf.confidences[idx]
        tiles = [Tile(self.data.x_test[k] / 255.0, f"#{k} {format_confidence(c)}", GREY, 0.0, 1.0) for k, c in zip(idx, conf)]
        more = f" (first {len(idx)} of {len(self.cell_images)})" if len(self.cell_images) > len(idx) else ""
        return Panel(f"True {t}, predicted {p}{more}", tiles, 10)

    def figure(self):
        if self.conf is None:
            return None
        title = f"{self.model.name}: test-set confusion matrix (accuracy {self.conf.accuracy * 100:.2f}%)"
        return confusion_figure(self.conf.matrix, title, self.cell, self.gallery_panel())
