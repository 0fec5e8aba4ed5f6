"""Hidden features: PCA or t-SNE of a hidden layer's activations on test images, coloured by class;
the drawing as a marked point, and its nearest training images in that hidden space."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget

from . import work
from .common import LRU, InspectView, image_key, model_key
from .gallery import Gallery, digit_qimage
from .figures import scatter_figure
from .panels import CLASS_COLOURS, GREY, Panel, Tile
from ..help import explain
from ..plot_legend import legend_outside

DEFAULT_POINTS = 2000
NEIGHBOURS = 8


class FeaturesView(InspectView):
    title = "Hidden features"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        hub.momentChanged.connect(lambda: self.refresh() if self.active and self.model is not None else None)
        self.facts_job = self.slot("model-facts")
        self.job = self.slot("projection")
        self.point_job = self.slot("drawing-point")
        self._facts: dict = {}  # model key -> facts
        self._feats = LRU(6)  # (model key, layer, n) -> Features (activations: the big item)
        self._proj = LRU(12)  # (model key, layer, n, method) -> Projection
        self._points = LRU(64)  # projection key + (image key,) -> drawing point
        self.features: work.Features | None = None
        self.projection: work.Projection | None = None
        self.point: dict | None = None
        self._shown = None
        self._shown_point = None
        self._facts_model = None

        self.layer = QComboBox()
        self.layer.setToolTip("The hidden layer whose activations are projected (default: the last before the logits)")
        self.layer.setMinimumContentsLength(12)
        self.layer.setWhatsThis("Which hidden layer to look at. A hidden layer turns each image into a list of "
                                "numbers (its activations, or features). Layers near the output have sorted the "
                                "digits best, so their pictures show the clearest groups.")
        self.count = QSpinBox()
        self.count.setRange(100, 10_000)
        self.count.setSingleStep(500)
        self.count.setValue(DEFAULT_POINTS)
        self.count.setSuffix(" test images")
        explain(self.count, "How many test images are plotted as dots",
                "Each dot is one test image. More dots show the groups better; t-SNE takes clearly longer with "
                "more.")
        self.method = QComboBox()
        self.method.addItems(["PCA", "t-SNE"])
        self.method.setToolTip("PCA: a linear projection, instant; the drawing is projected onto it.\n"
                               "t-SNE (scikit-learn): keeps neighbourhoods, so classes separate clearly; takes a while,\n"
                               "runs with progress and can be cancelled. The drawing is placed at the mean of its\n"
                               f"{NEIGHBOURS} nearest plotted points (t-SNE cannot project new points).")
        self.method.setWhatsThis("How the many numbers of a hidden layer are squeezed into two, so they can be "
                                 "drawn as a map. PCA keeps the directions along which the images differ most; "
                                 "t-SNE keeps images that are close in the layer close on the map. Either way, "
                                 "the distances on the map are only a rough guide.")
        self.compute_button = QPushButton("Compute")
        explain(self.compute_button, "Compute the projection with these settings",
                "Runs the test images through the model up to the chosen layer and projects them with the chosen "
                "method. It runs in the background; t-SNE can take a minute.")
        self.compute_button.clicked.connect(lambda: self.refresh(force=True))

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        explain(self.plot, "Test images as dots, placed by what the hidden layer makes of them; the star is "
                "your drawing",
                "A map of the hidden layer: every dot is a test image, coloured by its true digit, and images "
                "the network finds alike lie close together. Clear, separate clusters mean the layer has learned "
                "to tell the digits apart; the star shows where your drawing lands among them. Point at a dot to "
                "see its image.")
        self.legend = legend_outside(self.plot, "beside", labelTextColor=(20, 20, 20), frame=False)
        self.scatters = []
        for d in range(10):
            s = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(*CLASS_COLOURS[d], 200), hoverable=True,
                                   hoverSize=11, hoverPen=pg.mkPen("k", width=1.5), tip=None, name=str(d))
            s.sigHovered.connect(self._on_hover)
            self.plot.addItem(s)
            self.scatters.append(s)
        self.star = pg.ScatterPlotItem(size=26, symbol="star", pen=pg.mkPen("w", width=1.2), brush=pg.mkBrush(0, 0, 0), name="your drawing")
        self.star.setZValue(10)
        self.plot.addItem(self.star)

        self.hover_image = QLabel()
        self.hover_image.setFixedSize(112, 112)
        self.hover_image.setStyleSheet("background: black")
        explain(self.hover_image, "The test image under the pointer",
                "The test image of the dot you point at in the map, so you can see which images lie where.")
        self.hover_text = QLabel("Point at a dot to see its digit")
        self.hover_text.setWordWrap(True)
        self.neighbours_title = QLabel(f"The {NEIGHBOURS} nearest training images to your drawing in this hidden space")
        self.neighbours_title.setWordWrap(True)
        self.neighbours = Gallery(side=48)
        explain(self.neighbours, "The training images the hidden layer finds most like your drawing",
                "Your drawing's nearest neighbours in the hidden layer: the training images whose activations "
                "are closest to your drawing's. If they show the digit you meant, the network 'sees' your "
                "drawing as you do; if not, they show what it mistook it for.")

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.hover_image, 0, Qt.AlignmentFlag.AlignHCenter)
        sl.addWidget(self.hover_text)
        sl.addWidget(self.neighbours_title)
        sl.addWidget(self.neighbours, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.plot)
        split.addWidget(side)
        split.setSizes([700, 260])

        row = QHBoxLayout()
        for w in (QLabel("Layer"), self.layer, self.count, self.method, self.compute_button):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.export_button)
        self.info = QLabel(" ")
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.info)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        self.layer.activated.connect(lambda _i: self.refresh(force=True))
        self.method.currentIndexChanged.connect(lambda _i: self.refresh(force=True))
        self.count.editingFinished.connect(lambda: self.refresh(force=True))
        self._requested = None

    # ------------------------------------------------------------------ keys
    def _proj_key(self):
        """(model, layer, images, method); the model part names the timeline's moment when one is chosen."""
        if self.model is None or not self.layer.currentText():
            return None
        moment = self.hub.moment_snapshot(self.model)
        mk = model_key(self.model) if moment is None else (model_key(self.model), moment[0])
        return mk, self.layer.currentText(), self.count.value(), self.method.currentText()

    # ------------------------------------------------------------------ computing
    def refresh(self, force: bool = False) -> None:
        """Show (or compute) the projection; a cancelled one is not restarted except by the user (force)."""
        if self.model is None:
            return
        mk = model_key(self.model)
        if mk not in self._facts:
            m, cache = self.model, self.hub.cache
            self.facts_job.run(lambda _st: work.model_facts(cache, m), on_result=lambda f: self._got_facts(mk, f),
                               text=f"Reading the layers of {m.name}…")
            return
        if self._facts_model != mk:
            self._fill_layers(self._facts[mk])
            self._facts_model = mk
        key = self._proj_key()
        if key in self._proj and key[:3] in self._feats:
            self._show(key)
            self._request_point()
            return
        if not force and key == self._requested and self.job.was_cancelled:
            self.status.idle(self.job, f"{key[3]} cancelled; press Compute to run it")
            return
        self._requested = key
        cached, m, cache = self._feats.get(key[:3]), self.model, self.hub.cache
        moment = self.hub.moment_snapshot(m)
        if moment is None:
            self.job.run(lambda st: work.features_and_projection(cache, m, key[1], key[2], key[3], cached, st),
                         lane="numpy", on_result=lambda r: self._got_projection(key, r), cancellable=True,
                         text=f"{key[3]} of layer {key[1]} on {key[2]:,} test images…")
            return
        # at a timeline snapshot: aligned to the final model's map (computed first if it is not yet)
        final_key = (mk,) + key[1:]
        final = (self._feats.get(final_key[:3]), self._proj.get(final_key))
        weights = moment[1].weights
        self.job.run(lambda st: work.features_and_projection_at_snapshot(cache, m, weights, key[1], key[2], key[3],
                                                                        final, st),
                     lane="numpy", on_result=lambda r: self._got_snapshot_projection(key, final_key, r),
                     cancellable=True, text=f"{key[3]} of layer {key[1]} at {moment[0]}…")

    def _got_facts(self, mk, facts) -> None:
        self._facts[mk] = facts
        self.refresh()

    def _fill_layers(self, facts) -> None:
        keep = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(facts["hidden"])
        self.layer.setCurrentText(keep if keep in facts["hidden"] else facts["default_hidden"])
        self.layer.blockSignals(False)

    def _got_projection(self, key, result) -> None:
        feats, proj = result
        self._feats[key[:3]] = feats
        self._proj[key] = proj
        if key == self._proj_key():
            self._show(key)
            self._request_point()

    def _got_snapshot_projection(self, key, final_key, result) -> None:
        at_snapshot, final = result
        self._feats[final_key[:3]], self._proj[final_key] = final
        self._got_projection(key, at_snapshot)

    def _show(self, key) -> None:
        if key == self._shown:
            return
        self._shown = key
        self.features = self._feats[key[:3]]
        self.projection = self._proj[key]
        xy, labels = self.projection.xy, self.features.labels
        for d, s in enumerate(self.scatters):
            idx = np.flatnonzero(labels == d)
            s.setData(x=xy[idx, 0], y=xy[idx, 1], data=idx)
        self.plot.getPlotItem().vb.autoRange(padding=0.05)
        dims = self.features.test.shape[1]
        name = key[0][1] if isinstance(key[0][0], tuple) else self.model.name  # (a timeline moment's name)
        self.info.setText(f"{name}: {key[3]} of layer {key[1]} ({dims:,} values per image) on the first "
                          f"{len(labels):,} test images; colours are the true labels")
        self.star.setData([], [])
        self.point = None
        self._shown_point = None
        self.neighbours.clear()

    def _request_point(self) -> None:
        key = self._proj_key()
        if key is None or key not in self._proj or key[:3] not in self._feats:
            return
        if self.drawing is None or isinstance(key[0][0], tuple):  # (no drawing, or a timeline moment: not placed)
            self.star.setData([], [])
            self.neighbours.clear()
            self.point = None
            self._shown_point = None
            self.neighbours_title.setText(
                "Draw a digit: it appears as a star, with its nearest training images here" if self.drawing is None
                else "At a point of the timeline your drawing is not placed: move the timeline to its end")
            return
        pkey = key + (image_key(self.drawing),)
        if pkey in self._points:
            self._show_point(pkey)
            return
        x, m, cache = self.drawing.reshape(28, 28), self.model, self.hub.cache
        feats, proj = self._feats[key[:3]], self._proj[key]
        self.point_job.run(lambda _st: work.drawing_point(cache, m, feats, proj, x, NEIGHBOURS),
                           on_result=lambda r: self._got_point(pkey, r), text="Placing your drawing…")

    def _got_point(self, pkey, result) -> None:
        self._points[pkey] = result
        if self.drawing is not None and pkey == self._proj_key() + (image_key(self.drawing),):
            self._show_point(pkey)

    def _show_point(self, pkey) -> None:
        if pkey == self._shown_point:
            return
        self._shown_point = pkey
        self.point = p = self._points[pkey]
        self.star.setData([float(p["xy"][0])], [float(p["xy"][1])])
        ds = self.features.dataset
        nn = p["neighbours"]
        caps = [f"{int(ds.y_train[k])}  d={d:.2g}" for k, d in zip(nn, p["distances"])]
        tips = [f"training image #{k}, label {int(ds.y_train[k])}, distance {d:.4g}" for k, d in zip(nn, p["distances"])]
        self.neighbours.set_items(ds.x_train[nn], caps, nn, tips)
        how = "projected onto the PCA axes" if self.projection.method == "PCA" else \
            f"placed at the mean of its {NEIGHBOURS} nearest plotted points"
        self.neighbours_title.setText(f"Your drawing (star, {how}). Its {NEIGHBOURS} nearest training images in layer "
                                      f"{self.features.layer} (of the first {len(self.features.train):,}):")

    # ------------------------------------------------------------------ hover
    def _on_hover(self, item, points, ev) -> None:
        if len(points) == 0 or self.features is None:
            return
        i = int(points[0].data())
        self.show_point_image(i)

    def show_point_image(self, i: int) -> None:
        ds = self.features.dataset
        self.hover_image.setPixmap(QPixmap.fromImage(digit_qimage(ds.x_test[i], 112)))
        self.hover_text.setText(f"Test image #{i}: a {int(self.features.labels[i])}")
        self.hovered = i

    # ------------------------------------------------------------------ drawing and export
    def set_drawing(self, x) -> None:
        self.drawing = None if x is None else np.asarray(x, np.float32)
        if self.active and self.model is not None:
            self._request_point()

    def neighbours_panel(self) -> Panel | None:
        if self.point is None:
            return None
        ds = self.features.dataset
        tiles = [Tile(self.drawing.reshape(28, 28), "drawing", GREY, 0.0, 1.0)]
        tiles += [Tile(ds.x_train[k] / 255.0, f"{int(ds.y_train[k])} (#{k})", GREY, 0.0, 1.0) for k in self.point["neighbours"]]
        return Panel(f"Your drawing and its {NEIGHBOURS} nearest training images in layer {self.features.layer}", tiles, len(tiles))

    def figure(self):
        if self.projection is None:
            return None
        key = self._shown
        title = f"{self.model.name}: {key[3]} of layer {key[1]}, {len(self.features.labels):,} test images"
        return scatter_figure(self.projection.xy, self.features.labels, title,
                              None if self.point is None else self.point["xy"], neighbours=self.neighbours_panel())
