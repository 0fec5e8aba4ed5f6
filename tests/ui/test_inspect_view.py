"""The Inspect view (offscreen): weight grids, gradients, the confusion matrix and its gallery, hidden
features with a cancellable t-SNE, and PNG/SVG exports. Models are small ones trained here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from tests.ui.support import legend_covers

WAIT_MS = 90_000


# ------------------------------------------------------------------------------ models and the tab
@pytest.fixture(scope="module")
def model_files(tmp_path_factory, small_split):
    """linear and mlp (one hidden layer of 24) trained on 600 images; a 1500-unit mlp and a cnn built (untrained)."""
    from mnist_desk.core import registry, store
    from mnist_desk.core.training import TrainConfig, train

    folder = tmp_path_factory.mktemp("inspect_models")
    out = {}
    for arch, hp in (("linear", {}), ("mlp", {"hidden": [24]})):
        r = train(TrainConfig(arch=arch, hparams=hp, epochs=2, batch_size=64, learning_rate=3e-3), small_split)
        assert r.ok
        meta = {"arch": arch, "hparams": hp, "history": r.history, "metrics": {"test_accuracy": 0.5}}
        out[arch] = store.save_model(r.model, meta, name=f"tiny-{arch}", folder=folder)
    cnn = registry.build_model("cnn", {"width": 4, "dense": 8}, seed=0)
    wide = registry.build_model("mlp", {"hidden": [1500]}, seed=0)  # seed 001's 1500-unit net, untrained
    out["wide"] = store.save_model(wide, {"arch": "mlp", "hparams": {"hidden": [1500]}}, name="wide", folder=folder)
    out["cnn"] = store.save_model(cnn, {"arch": "cnn", "hparams": {"width": 4, "dense": 8}}, name="tiny-cnn", folder=folder)
    return out


@pytest.fixture
def ui(qtbot, tmp_path, monkeypatch):
    """A model hub, a Draw view and the Inspect view, shown offscreen; shut down after the test."""
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    from mnist_desk.ui.draw.view import DrawTab
    from mnist_desk.ui.inspect.view import InspectTab
    from mnist_desk.ui.models import ModelHub

    hub = ModelHub()
    draw = DrawTab(hub)
    tab = InspectTab(hub, draw)
    qtbot.addWidget(draw)
    qtbot.addWidget(tab)
    tab.resize(1100, 720)
    tab.show()
    yield hub, draw, tab
    tab.shutdown()
    draw.shutdown()
    hub.shutdown()


def use_model(qtbot, hub, path):
    hub.open_file(path)
    qtbot.waitUntil(lambda: hub.current is not None and str(hub.current.path) == str(path), timeout=WAIT_MS)


def settle(qtbot, tab, cond=lambda: True):
    qtbot.waitUntil(lambda: not tab.busy() and bool(cond()), timeout=WAIT_MS)


def load_test_digit(draw, mnist, i=0):
    draw.canvas.set_mnist_image(mnist.x_test[i])
    assert draw.current_input is not None


# ------------------------------------------------------------------------------ weights
@pytest.mark.parametrize("arch, units, shape",
                         [("linear", 10, (28, 28)), ("mlp", 24, (28, 28)), ("wide", 1500, (28, 28)), ("cnn", 4, (3, 3))])
def test_weight_grid_shows_one_tile_per_unit(ui, qtbot, model_files, arch, units, shape):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files[arch])
    tab.show_view("weights")
    view = tab.weights
    settle(qtbot, tab, lambda: view.weights_grid.tile_count > 0)
    assert view.weights_grid.tile_count == units
    assert {t.image.shape for t in view.weights_grid.panel.tiles} == {shape}
    assert view.current_weights.images.shape == (units, *shape)
    # diverging scale centred at zero on every tile
    assert all(t.vmin == -t.vmax and t.cmap == "RdBu_r" for t in view.weights_grid.panel.tiles)
    # hovering a tile names the unit and its value range
    grid = view.weights_grid
    oy, ox = grid.mosaic.origins[units - 1]
    centre = QPointF(ox + grid.mosaic.cell[1] / 2, oy + grid.mosaic.cell[0] / 2)
    grid._on_move(grid.vb.mapViewToScene(centre))
    assert f" {units - 1}:" in grid.hover.text() and "min" in grid.hover.text() and "max" in grid.hover.text()


def test_drawing_shows_contributions_for_linear_and_feature_maps_for_conv(ui, qtbot, model_files, mnist):
    hub, draw, tab = ui
    tab.show_view("weights")
    load_test_digit(draw, mnist)
    use_model(qtbot, hub, model_files["linear"])
    settle(qtbot, tab, lambda: tab.weights.drawing_grid.tile_count == 11)
    w = tab.weights.current_weights
    x = draw.current_input.reshape(28, 28)
    contrib = np.stack([t.image for t in tab.weights.drawing_grid.panel.tiles[1:]])
    np.testing.assert_allclose(contrib, w.images * x[None], rtol=1e-6)
    use_model(qtbot, hub, model_files["cnn"])
    settle(qtbot, tab, lambda: tab.weights.drawing_grid.tile_count == 1 + 4)
    assert tab.weights.drawing_grid.panel.tiles[1].image.shape == (28, 28)


# ------------------------------------------------------------------------------ gradients
def test_gradient_view_shows_ten_images_on_one_scale(ui, qtbot, model_files, mnist):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    load_test_digit(draw, mnist)
    tab.show_view("gradients")
    view = tab.gradients
    settle(qtbot, tab, lambda: view.result is not None)
    assert view.target.currentText() == "logits" and view.result.grads.target == "logits"  # the default
    tiles = view.grid.panel.tiles
    assert len(tiles) == 12  # input, top class, ten classes
    per_class = tiles[2:]
    assert all(t.image.shape == (28, 28) for t in per_class)
    s = float(np.abs(view.result.grads.per_class).max())
    assert s > 0
    for t in tiles[1:]:
        assert (t.vmin, t.vmax) == (-s, s)
    assert (view.grid.panel.colourbar.vmin, view.grid.panel.colourbar.vmax) == (-s, s)
    np.testing.assert_array_equal(tiles[1].image, view.result.grads.per_class[view.result.grads.top_class])
    # probabilities (still selectable) and SmoothGrad are separate, cached results
    view.set_target("probabilities")
    settle(qtbot, tab, lambda: view.result.grads.target == "probabilities")
    view.smooth.setChecked(True)
    settle(qtbot, tab, lambda: view.request_key()[3] == 25 and view.result is view._cache[view.request_key()][0])
    assert len(view._cache) == 3


@pytest.mark.parametrize("target", ["probabilities", "logits"])
def test_linear_gradients_equal_weights_times_softmax_jacobian(ui, qtbot, model_files, target):
    """d p_k / d x = sum_j p_k (delta_kj - p_j) W_j; d z_k / d x = W_k. Checked on the view's own data."""
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["linear"])
    tab.show_view("weights")
    settle(qtbot, tab, lambda: tab.weights.current_weights is not None)
    W = tab.weights.current_weights.images.astype(np.float64)  # (10, 28, 28)
    tab.show_view("gradients")
    view = tab.gradients
    view.set_target(target)
    view.show_test_image(7)
    settle(qtbot, tab, lambda: view.result is not None and view.result.source == "test image #7" and view.result.grads.target == target)
    g = view.result.grads
    p = g.probabilities.astype(np.float64)
    if target == "logits":
        expected = W
    else:
        jac = np.diag(p) - np.outer(p, p)  # d p_k / d z_j
        expected = np.tensordot(jac, W, axes=(1, 0))
    shown = np.stack([t.image for t in view.grid.panel.tiles[2:]])
    np.testing.assert_allclose(shown, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


# ------------------------------------------------------------------------------ errors
def test_clicking_a_confusion_cell_lists_exactly_its_images(ui, qtbot, model_files, mnist):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    tab.show_view("errors")
    view = tab.errors
    settle(qtbot, tab, lambda: view.conf is not None)
    m = view.conf.matrix.copy()
    assert m.sum() == len(mnist.y_test)
    off = m - np.diag(np.diag(m))
    i, j = np.unravel_index(np.argmax(off), off.shape)
    assert off[i, j] > 0
    # a real click on the cell's centre
    centre = view.heatmap.cell_rect(int(i), int(j)).center().toPoint()
    qtbot.mouseClick(view.heatmap, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: view.cell == (i, j), timeout=5000)
    qtbot.waitUntil(lambda: view.gallery.count() == m[i, j], timeout=10_000)  # big cells fill in chunks
    qtbot.wait(50)
    assert view.gallery.count() == m[i, j]
    shown = np.array(view.gallery.indices())
    assert np.all(mnist.y_test[shown] == i) and np.all(view.conf.predictions[shown] == j)
    # a diagonal cell lists the correct ones
    view.open_cell(3, 3)
    qtbot.waitUntil(lambda: view.gallery.count() == m[3, 3], timeout=10_000)
    # clicking a gallery image loads it into the canvas and the gradient view
    view.open_cell(int(i), int(j))
    k = view.gallery.indices()[0]
    item = view.gallery.item(0)
    rect = view.gallery.visualItemRect(item)
    qtbot.mouseClick(view.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.tabs.currentWidget() is tab.gradients
    assert draw.current_input is not None
    settle(qtbot, tab, lambda: tab.gradients.result is not None and tab.gradients.result.source == f"test image #{k}")
    np.testing.assert_allclose(tab.gradients.result.image, mnist.x_test[k] / 255.0, atol=1e-6)
    assert tab.gradients.result.label == int(mnist.y_test[k])


# ------------------------------------------------------------------------------ hidden features
def test_pca_scatter_marks_the_drawing_and_its_neighbours(ui, qtbot, model_files, mnist):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    load_test_digit(draw, mnist, 3)
    view = tab.features
    view.count.setValue(500)
    tab.show_view("hidden")
    settle(qtbot, tab, lambda: view.projection is not None and view.point is not None)
    assert view.layer.currentText() == "hidden1"
    assert view.projection.method == "PCA" and view.projection.xy.shape == (500, 2)
    assert sum(len(s.data) for s in view.scatters) == 500
    assert len(view.star.data) == 1
    assert view.neighbours.count() == 8
    # pointing at a dot with the mouse shows its digit (white ink on black, not a black square)
    # The pointer enters the plot, then rests on a dot of each digit in turn until one answers (a dot under
    # the marked neighbours or the drawing's star is theirs to answer).
    QTest.mouseMove(view.plot.viewport(), QPoint(2, 2))
    for s in [s for s in view.scatters if len(s.data)]:
        pt = s.points()[0]
        QTest.mouseMove(view.plot.viewport(), view.plot.mapFromScene(s.mapToScene(pt.pos())))
        qtbot.wait(30)
        if "Test image #" in view.hover_text.text():
            break
    assert "Test image #" in view.hover_text.text()
    i = int(view.hover_text.text().split("#")[1].split(":")[0])  # the dot on top there (dots may overlap)
    assert i in {int(p.data()) for s in view.scatters for p in s.pointsAt(s.mapFromScene(s.mapToScene(pt.pos())))}
    shown = view.hover_image.pixmap().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.array([[shown.pixelColor(x, y).value() for x in range(0, shown.width(), 4)]
                       for y in range(0, shown.height(), 4)])
    digit = mnist.x_test[i]
    assert pixels.max() > 200 and (pixels > 128).mean() == pytest.approx((digit > 128).mean(), abs=0.08)


@pytest.mark.parametrize("size", [(1000, 700), (1600, 1000)])
def test_scatter_and_summary_legends_lie_beside_the_data(ui, qtbot, model_files, mnist, size):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    load_test_digit(draw, mnist, 4)
    tab.resize(*size)
    view = tab.features
    view.count.setValue(500)
    tab.show_view("hidden")
    settle(qtbot, tab, lambda: view.projection is not None and view.point is not None)
    qtbot.wait(50)  # the plot's layout places the legend on the next event-loop turn
    assert [label.text for _, label in view.legend.items] == [str(d) for d in range(10)] + ["your drawing"]
    assert legend_covers(view.legend, view.plot.getPlotItem()) == []
    tab.show_view("summary")
    settle(qtbot, tab, lambda: tab.summary.rows)
    qtbot.wait(50)
    for key, plot in tab.summary.plots.items():
        item = plot.getPlotItem()
        assert [label.text for _, label in item.legend.items] == ["training", "validation"]
        assert legend_covers(item.legend, item) == [], key


def test_tsne_can_be_cancelled(ui, qtbot, model_files):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    view = tab.features
    view.count.setValue(1000)
    tab.show_view("hidden")
    settle(qtbot, tab, lambda: view.projection is not None)
    view.method.setCurrentText("t-SNE")
    assert view.job.busy() and view.status.cancel_button.isVisible()
    qtbot.mouseClick(view.status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.job.busy(), timeout=WAIT_MS)
    assert view.job.was_cancelled and view.job.last_error is None  # a cancellation is not a failure
    assert "cancel" in view.status.label.text().lower()
    assert view.projection.method == "PCA"  # the PCA stays on screen
    assert not any(k[3] == "t-SNE" for k in view._proj)
    # showing the view again does not restart the cancelled run by itself
    tab.show_view("summary")
    tab.show_view("hidden")
    assert not view.job.busy()


# ------------------------------------------------------------------------------ summary, caching, laziness
def test_summary_lists_layers_and_history(ui, qtbot, model_files):
    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["mlp"])
    tab.show_view("summary")
    settle(qtbot, tab, lambda: tab.summary.rows)
    names = [r["name"] for r in tab.summary.rows]
    assert names[:3] == ["image", "flatten", "hidden1"] and "logits" in names
    assert tab.summary.table.rowCount() == len(names) + 1
    assert tab.summary.table.item(len(names), 3).text() == f"{sum(r['params'] for r in tab.summary.rows):,}"
    assert "architecture: mlp" in tab.summary.meta.text()


def test_only_the_visible_view_computes_and_results_are_cached_per_model(ui, qtbot, model_files, monkeypatch):
    from mnist_desk.ui.inspect import work

    calls = []
    real = work.weights
    monkeypatch.setattr(work, "weights", lambda cache, m: calls.append(m.name) or real(cache, m))
    hub, draw, tab = ui
    tab.show_view("summary")
    use_model(qtbot, hub, model_files["linear"])
    settle(qtbot, tab)
    assert calls == [] and tab.errors.conf is None and not tab.errors._cache  # hidden views did nothing
    tab.show_view("weights")
    settle(qtbot, tab, lambda: tab.weights.current_weights is not None)
    use_model(qtbot, hub, model_files["mlp"])
    settle(qtbot, tab, lambda: tab.weights.weights_grid.tile_count == 24)
    use_model(qtbot, hub, model_files["linear"])
    settle(qtbot, tab, lambda: tab.weights.weights_grid.tile_count == 10)
    assert calls == ["tiny-linear", "tiny-mlp"]


# ------------------------------------------------------------------------------ export
def _svg_size_pt(path) -> tuple[float, float]:
    root = ET.parse(path).getroot()
    return float(root.get("width").removesuffix("pt")), float(root.get("height").removesuffix("pt"))


def test_every_view_exports_png_and_svg_of_the_right_size(ui, qtbot, model_files, mnist, tmp_path):
    from mnist_desk.ui.inspect.figures import DPI, pixel_size

    hub, draw, tab = ui
    use_model(qtbot, hub, model_files["linear"])
    load_test_digit(draw, mnist, 1)
    tab.features.count.setValue(300)
    for name, ready in (
        ("weights", lambda: tab.weights.drawing_grid.tile_count == 11),
        ("gradients", lambda: tab.gradients.result is not None),
        ("errors", lambda: tab.errors.conf is not None),
        ("hidden", lambda: tab.features.point is not None),
        ("summary", lambda: bool(tab.summary.rows)),
    ):
        tab.show_view(name)
        settle(qtbot, tab, ready)
        view = tab.tabs.currentWidget()
        if name == "errors":
            view.open_cell(*np.unravel_index(np.argmax(view.conf.matrix - np.diag(np.diag(view.conf.matrix))), (10, 10)))
        fig = view.figure()
        w, h = pixel_size(fig)
        png, svg = view.export(tmp_path / f"{name}.png"), view.export(tmp_path / f"{name}.svg")
        assert png.stat().st_size > 1000 and svg.stat().st_size > 1000
        img = QImage(str(png))
        assert not img.isNull() and (img.width(), img.height()) == (w, h)
        sw, sh = _svg_size_pt(svg)
        assert abs(sw - w / DPI * 72) < 1 and abs(sh - h / DPI * 72) < 1
        # not blank: the figure has more than a couple of colours
        rgb = img.convertToFormat(QImage.Format.Format_RGB888)  # kept: numpy reads its memory, not a copy
        arr = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.bytesPerLine() * rgb.height()).copy()
        assert len(np.unique(arr[: rgb.bytesPerLine() * (h // 2)])) > 5
    with pytest.raises(ValueError):
        tab.summary.export(tmp_path / "summary.jpg")
