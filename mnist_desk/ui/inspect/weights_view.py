"""Weights: the first layer as images (linear: 10 class templates; dense: one image per unit; conv: kernels),
and for the current drawing the first conv layer's feature maps or the linear model's pixel contributions."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout

from ...core import inspection as ins
from ...core.inspection import FirstLayerWeights
from . import work
from ..help import explain
from .common import LRU, InspectView, image_key, model_key
from .mosaic_view import MosaicView
from .figures import panels_figure
from .panels import DIVERGING, GREY, ColourBar, Panel, Tile, grid_columns, mosaic, range_info, symmetric_limit

KIND_TITLES = {"linear": "class templates (the rows of the only weight matrix)",
               "dense": "hidden units, each unit's 784 input weights as a 28x28 image", "conv": "convolution kernels"}


def weights_panel(w: FirstLayerWeights, shared: bool) -> Panel:
    n = len(w.images)
    lim = symmetric_limit([w.images])
    tiles = []
    for k, img in enumerate(w.images):
        own = symmetric_limit([img])
        s = lim if shared else own
        name = {"linear": "class", "dense": "unit", "conv": "kernel"}[w.kind]
        info = range_info(f"{name} {k}", img)
        if w.biases is not None:
            info += f", bias {float(w.biases[k]):+.4g}"
        if not shared:
            info += f" (colours: ±{own:.3g})"
        tiles.append(Tile(img, str(k) if n <= 120 else "", DIVERGING, -s, s, info))
    columns = 5 if w.kind == "linear" else grid_columns(n, 1.5)
    bar = ColourBar(DIVERGING, -lim, lim, "weight") if shared else None
    note = "" if shared else "each image on its own colour scale, centred at zero"
    return Panel(f"{w.layer_name}: {n} {KIND_TITLES[w.kind]}", tiles, columns, bar, note)


def contributions_panel(w: FirstLayerWeights, x: np.ndarray) -> Panel:
    contrib = w.images * x[None]
    lim = symmetric_limit([contrib])
    logits = contrib.reshape(10, -1).sum(axis=1) + (w.biases if w.biases is not None else 0.0)
    tiles = [Tile(x, "input", GREY, 0.0, 1.0, "the drawing as the model sees it", (0, 0))]
    for k in range(10):
        tiles.append(Tile(contrib[k], f"{k}: {logits[k]:+.1f}", DIVERGING, -lim, lim,
                          range_info(f"class {k} template x input", contrib[k]) + f"; sum + bias = logit {logits[k]:+.3f}",
                          (k // 5, 1 + k % 5)))
    return Panel("Your drawing: template x input per class (the sums plus biases are the logits)", tiles, 6,
                 ColourBar(DIVERGING, -lim, lim, "contribution"))


def feature_maps_panel(name: str, maps: np.ndarray, x: np.ndarray) -> Panel:
    lim = symmetric_limit([maps])
    tiles = [Tile(x, "input", GREY, 0.0, 1.0, "the drawing as the model sees it")]
    for k, fm in enumerate(maps):
        tiles.append(Tile(fm, str(k) if len(maps) <= 120 else "", DIVERGING, -lim, lim, range_info(f"feature map {k}", fm)))
    return Panel(f"Your drawing: the {len(maps)} feature maps of {name}", tiles, grid_columns(len(tiles), 1.5),
                 ColourBar(DIVERGING, -lim, lim, "activation"))


def weights_job(cache, m, net=None):
    """Worker: the weights (of ``net``, a timeline snapshot, if given), and both grids (shared and per-image
    colour scales) ready to show."""
    w = work.weights(cache, m) if net is None else ins.first_layer_weights_of_net(net)
    grids = {}
    for shared in (True, False):
        p = weights_panel(w, shared)
        grids[shared] = (p, mosaic(p))
    return w, grids


def feature_maps_job(cache, m, x, net=None):
    name, maps = work.feature_maps(cache, m, x) if net is None else ins.feature_maps_of_net(net, x)
    p = feature_maps_panel(name, maps, x)
    return p, mosaic(p)


class WeightsView(InspectView):
    title = "Weights"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.weights_job = self.slot("weights")
        self.maps_job = self.slot("feature-maps")
        hub.momentChanged.connect(lambda: self.refresh() if self.active and self.model is not None else None)
        # (model key, timeline moment or None) -> (FirstLayerWeights, {shared: (panel, mosaic)})
        self._weights = LRU(64)
        self._maps = LRU(32)  # (model key, image key) -> (panel, mosaic)
        self._shown: tuple | None = None
        self.weights_grid = MosaicView()
        self.drawing_grid = MosaicView()
        explain(self.weights_grid.glw, "The first layer's weights, one small picture per unit or filter",
                "Each tile shows what one unit of the first layer looks for: its weight for every pixel (or, in "
                "a convnet, each small filter). Red pixels push the unit up when they hold ink, blue ones push it "
                "down. A linear model's ten tiles look like blurry templates of the digits; a convnet's filters "
                "look like tiny edge and stroke detectors. Scroll to zoom, hover a tile for its numbers.")
        explain(self.drawing_grid.glw, "What the first layer's units make of your drawing",
                "The same units applied to your drawing: how strongly each responds (its activation). For a "
                "convnet these are feature maps, one per filter, showing where in the drawing the filter found "
                "its pattern. Draw something and see which filters light up.")
        self.shared_box = QCheckBox("One colour scale for all images")
        self.shared_box.setToolTip("On: every image uses the same limits, so strengths compare across units.\n"
                                   "Off: each image is scaled to its own largest |weight| (hover shows the range).")
        self.shared_box.toggled.connect(lambda _on: self._show_weights(force=True))
        self.shared_box.setWhatsThis("Whether all tiles share one colour scale. Shared: a faint tile really has "
                                     "small weights, so you can compare units. Not shared: each tile uses its "
                                     "own range, which shows the pattern of even a weak unit.")

        self._shared_by_kind: dict[str, bool] = {"linear": True, "conv": True, "dense": False}
        self.info = QLabel(" ")
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.shared_box)
        top.addWidget(self.export_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.weights_grid)
        split.addWidget(self.drawing_grid)
        split.setSizes([600, 400])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

    def _shown_key(self) -> tuple:
        """The model, and the timeline's moment when one is chosen: (model key, moment name or None, its net)."""
        moment = self.hub.moment_net()
        return (model_key(self.model), None, None) if moment is None else (model_key(self.model), *moment)

    @property
    def current_weights(self) -> FirstLayerWeights | None:
        got = None if self.model is None else self._weights.get(self._shown_key()[:2])
        return None if got is None else got[0]

    def refresh(self) -> None:
        if self.model is None:
            self.weights_grid.set_panel(None)
            self.drawing_grid.set_panel(None)
            self.info.setText("No model")
            return
        *key, net = self._shown_key()
        key = tuple(key)
        if key not in self._weights:
            m, cache = self.model, self.hub.cache
            self.weights_job.run(lambda _st: weights_job(cache, m, net), on_result=lambda w: self._got_weights(key, w),
                                 text=f"Reading the weights of {key[1] or m.name}…",
                                 lane="tensorflow" if net is None else "numpy")  # a snapshot needs no Keras
            return
        self._show_weights()
        self._show_drawing()

    def _got_weights(self, key, w) -> None:
        self._weights[key] = w
        self.refresh()

    def _show_weights(self, force: bool = False) -> None:
        w = self.current_weights
        if w is None:
            return
        key = self._shown_key()[:2]
        if self._shown is None or self._shown[0][0] != key[0]:
            self.shared_box.blockSignals(True)
            self.shared_box.setChecked(self._shared_by_kind[w.kind])
            self.shared_box.blockSignals(False)
        else:
            self._shared_by_kind[w.kind] = self.shared_box.isChecked()
        shown = (key, self.shared_box.isChecked())
        if shown == self._shown and not force:
            return
        self._shown = shown
        self.weights_grid.set_panel(*self._weights[key][1][self.shared_box.isChecked()])
        self.info.setText(f"{key[1] or self.model.name}: first layer {w.layer_name} ({w.kind}), {len(w.images)} images")

    def _show_drawing(self) -> None:
        w = self.current_weights
        if w is None:
            return
        # dense layers have nothing per drawing to show here: their weights get the whole width
        self.drawing_grid.setVisible(w.kind != "dense")
        if self.drawing is None:
            self.drawing_grid.set_panel(Panel("Your drawing", [], 1, note="Draw a digit to see how the first layer responds"))
            return
        x = self.drawing.reshape(28, 28)
        if w.kind == "linear":
            self.drawing_grid.set_panel(contributions_panel(w, x))
        elif w.kind == "conv":
            *shown, net = self._shown_key()
            k = (*shown, image_key(x))
            if k in self._maps:
                self.drawing_grid.set_panel(*self._maps[k])
            else:
                m, cache = self.model, self.hub.cache
                self.maps_job.run(lambda _st: feature_maps_job(cache, m, x, net), on_result=lambda r: self._got_maps(k, r),
                                  lane="tensorflow" if net is None else "numpy",
                                  text="Computing the feature maps of your drawing…")
        else:
            self.drawing_grid.set_panel(None)

    def _got_maps(self, k, result) -> None:
        self._maps[k] = result
        self._show_drawing()

    def figure(self):
        panels = [p for p in (self.weights_grid.panel, self.drawing_grid.panel) if p is not None and p.tiles]
        if not panels:
            return None
        return panels_figure(panels, f"{self.model.name}: first layer")
