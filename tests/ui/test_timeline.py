"""The timeline under the views: after a short run, dragging its slider moves the Draw view's bars and verdict,
the Inspect weights and the Train curves' marker to the model as it was then."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from scipy.linalg import orthogonal_procrustes

from tests.ui.support import drag
from tests.ui.test_train_view import RUN_TIMEOUT_MS, run, small, tab  # noqa: F401 - the Train view fixture


def seven(canvas):
    s = canvas.side
    drag(canvas, [(0.25 * s, 0.2 * s), (0.75 * s, 0.2 * s), (0.45 * s, 0.85 * s)])


def bar_values(window):
    return np.array(window.draw.last_probs[0][1])


def test_the_slider_shows_the_model_as_it_was_and_its_end_is_the_final_model(qtbot, window, tab):  # noqa: F811
    out = run(qtbot, tab, small(epochs=2))
    bar = window.timeline
    qtbot.waitUntil(lambda: window.hub.subject is not None and window.hub.subject.model is not None, timeout=10_000)
    window.hub.select(str(out.stored.path))
    qtbot.waitUntil(lambda: window.hub.current is not None and window.hub.current.path == out.stored.path, timeout=10_000)
    qtbot.waitUntil(lambda: bar.count >= 3, timeout=10_000)
    window.tabs.setCurrentWidget(window.draw)
    seven(window.draw.canvas)
    qtbot.waitUntil(lambda: bool(window.draw.last_probs), timeout=10_000)
    final = bar_values(window)
    assert "now" in bar.label.text()

    # Home on the focused slider: the untrained network, whose answers are those of the first snapshot
    bar.slider.setFocus()
    QTest.keyClick(bar.slider, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: window.hub.moment == 0, timeout=5_000)
    qtbot.waitUntil(lambda: "before training" in window.draw.last_probs[0][0], timeout=5_000)
    first = bar_values(window)
    untrained = out.result.timeline.net_at(0, window.hub.net(window.hub.current))
    x = window.draw.current_input
    assert np.allclose(first, untrained.predict(x)[0], atol=1e-6)
    assert not np.allclose(first, final, atol=1e-3)
    assert "before training" in bar.label.text()
    # the Train view's curves mark the moment; the Inspect weights are the untrained network's
    assert all(line.isVisible() and line.value() == 0 for line in tab.curves.moment_lines.values())
    assert [r.path for r in tab.selected_runs()] == [str(out.stored.path)]  # its curves, beside the marker
    window.tabs.setCurrentWidget(window.inspect)
    window.inspect.show_view("weights")
    weights = window.inspect.weights
    qtbot.waitUntil(lambda: "before training" in weights.info.text(), timeout=10_000)
    w0 = untrained.source_layers[[layer.kind for layer in untrained.source_layers].index("Dense")].weights[0]
    assert np.allclose(weights.current_weights.images, w0.T.reshape(-1, 28, 28))
    window.inspect.show_view("errors")
    errors = window.inspect.errors
    qtbot.waitUntil(lambda: "before training" in errors.info.text(), timeout=30_000)
    assert errors.conf.matrix.sum() == 1000 and errors.conf.accuracy < 0.5 < out.test_accuracy
    # the hidden-feature map at that moment, turned onto the final model's map (worked out first)
    window.inspect.show_view("hidden")
    features = window.inspect.features
    features.count.setValue(300)
    QTest.keyClick(features.count, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "before training" in features.info.text(), timeout=60_000)
    first_xy = features.projection.xy
    QTest.keyClick(bar.slider, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: features.info.text().startswith(out.stored.name + ":"), timeout=5_000)
    final_xy = features.projection.xy
    QTest.keyClick(bar.slider, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: "before training" in features.info.text(), timeout=5_000)
    assert first_xy.shape == final_xy.shape and not np.allclose(first_xy, final_xy)
    # aligned onto the final map: the best turn of one onto the other is now no turn at all
    turn, _ = orthogonal_procrustes(first_xy - first_xy.mean(axis=0), final_xy - final_xy.mean(axis=0))
    assert np.allclose(turn, np.eye(2), atol=1e-4)
    window.inspect.show_view("weights")
    bar.slider.setValue(1)
    qtbot.waitUntil(lambda: weights.info.text().startswith(f"{out.stored.name} at epoch"), timeout=10_000)
    assert all(line.value() == out.result.timeline.at(1).epoch for line in tab.curves.moment_lines.values())
    window.tabs.setCurrentWidget(window.draw)

    # End: the model itself, exactly
    QTest.keyClick(bar.slider, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.hub.moment is None, timeout=5_000)
    qtbot.waitUntil(lambda: np.array_equal(bar_values(window), final), timeout=5_000)
    assert window.draw.last_probs[0][0] == out.stored.name
    assert not any(line.isVisible() for line in tab.curves.moment_lines.values())
    window.tabs.setCurrentWidget(window.inspect)
    qtbot.waitUntil(lambda: window.inspect.weights.info.text().startswith(f"{out.stored.name}: first layer"), timeout=10_000)
    window.inspect.show_view("errors")
    qtbot.waitUntil(lambda: "in 10,000 test images" in window.inspect.errors.info.text(), timeout=30_000)
    assert window.inspect.errors.conf.accuracy == out.test_accuracy


def test_play_walks_through_every_snapshot(qtbot, window, tab):  # noqa: F811
    out = run(qtbot, tab, small(epochs=1))
    window.hub.select(str(out.stored.path))
    bar = window.timeline
    qtbot.waitUntil(lambda: bar.count >= 3 and bar.play_button.isEnabled(), timeout=10_000)
    seen = []
    window.hub.momentChanged.connect(lambda: seen.append(window.hub.moment))
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert bar.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: bar.play_button.text() == "Play", timeout=30_000)
    assert seen[0] == 0 and seen[-1] is None
    assert [m for m in seen if m is not None] == list(range(bar.count - 1))


def test_a_shipped_model_has_its_history_and_one_without_says_so(qtbot, window, tmp_path):
    import shutil

    from mnist_desk.core.paths import RESOURCES_DIR

    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.hub.timelines.get(str(window.hub.current.path)) is not None, timeout=10_000)
    assert window.timeline.slider.isEnabled() and window.timeline.play_button.isEnabled()
    assert window.timeline.label.text().startswith(f"{window.hub.current.name}: now (")
    # the same model copied without its timeline file
    for suffix in (".keras", ".json"):
        shutil.copy(RESOURCES_DIR / "models" / f"linear{suffix}", tmp_path / f"bare{suffix}")
    window.hub.open_file(tmp_path / "bare.keras")
    qtbot.waitUntil(lambda: window.hub.current.name == "bare" and str(tmp_path / "bare.keras") in window.hub.timelines,
                    timeout=10_000)
    assert not window.timeline.slider.isEnabled() and not window.timeline.play_button.isEnabled()
    assert "no training history" in window.timeline.label.text()


def test_changing_the_learning_rate_mid_run_is_applied_and_marked_on_the_curves(qtbot, window, tab):  # noqa: F811
    from tests.ui.test_train_view import long_run, wait_for_batches

    assert not tab.lr_now_button.isEnabled()  # no run going
    assert tab.start(long_run())
    wait_for_batches(qtbot, tab, 2)
    assert tab.lr_now_button.isEnabled()
    qtbot.keyClicks(tab.lr_now_edit, "abc")
    qtbot.mouseClick(tab.lr_now_button, Qt.MouseButton.LeftButton)
    assert "must be a number" in tab.result_label.text() and not tab._run_timeline.lr_changes
    tab.lr_now_edit.clear()
    qtbot.keyClicks(tab.lr_now_edit, "0.05")
    qtbot.mouseClick(tab.lr_now_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(tab.curves.lr_lines) == 2, timeout=30_000)
    assert tab._run_timeline.lr_changes[0][1] == 0.05
    assert all(line.label.format == "lr 0.05" and line.isVisible() for _m, line in tab.curves.lr_lines)
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    assert not tab.lr_now_button.isEnabled()
