"""The Train view in a real (offscreen) window: short runs on a few hundred images.

Each run goes through the view's own Start path: a Task worker thread runs ``run_training`` (data,
core.train, test evaluation, numpy snapshot, atomic save); progress comes back by queued signals.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from mnist_desk.core.non_digits import default_omniglot_path
from mnist_desk.core.strokes import default_mnist_strokes_path, default_pendigits_path
from mnist_desk.core.training import TrainConfig
from tests.ui.support import choose, click, click_dialog_button, legend_covers, modal_dialog

LIMIT = 300  # training images per run
VAL = 100
RUN_TIMEOUT_MS = 120_000  # the first run imports TensorFlow (~7 s, more on a busy machine)


def small(**kw) -> TrainConfig:
    base = dict(arch="linear", epochs=2, batch_size=32, learning_rate=3e-3, val_size=VAL)
    base.update(kw)
    return TrainConfig(**base)


def long_run(**kw) -> TrainConfig:
    """Hundreds of tiny batches: long enough to act on mid-run."""
    return small(epochs=200, batch_size=8, **kw)


@pytest.fixture
def tab(window):
    t = window.train
    window.tabs.setCurrentWidget(t)
    t.form.limit_spin.setValue(LIMIT)
    t.form.val_spin.setValue(VAL)
    for spin in (t.form.drawn_spin, t.form.pen_spin, t.form.non_digit_spin):  # the cnn's default drawings: none here
        spin.setValue(0)
    return t


def user_models(window):
    from mnist_desk.core.paths import user_models_dir

    return sorted(p.name for p in user_models_dir().iterdir())


def run(qtbot, tab, config):
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert tab.start(config)
    return blocker.args[0]


def wait_for_batches(qtbot, tab, n=1):
    qtbot.waitUntil(lambda: tab.curves.point_count("batch_loss") >= n, timeout=RUN_TIMEOUT_MS)


# ------------------------------------------------------------------------------ a run end to end
def test_short_run_finishes_draws_curves_and_is_saved(qtbot, window, tab):
    # two of the user's own digits join the training set
    for d in (3, 7):
        window.draw.digits.add(np.zeros((28, 28), np.uint8) + (d * 20), d, np.zeros((280, 280), np.uint8))
    tab.form.my_digits_box.setChecked(True)
    out = run(qtbot, tab, small(epochs=3))
    assert out is not None and out.failure is None and not out.result.stopped
    assert out.n_train == LIMIT + 2 and out.n_my_digits == 2 and out.n_val == VAL
    # curves: smoothed batch points and one point per epoch, drawn into the curve items
    assert tab.curves.point_count("batch_loss") >= 1
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert tab.curves.point_count(key) == 3, key
        x, y = tab.curves.curves[key].getData()
        assert list(x) == [1, 2, 3] and np.all(np.isfinite(y))
    assert len(tab.curves.curves["batch_loss"].getData()[0]) == tab.curves.point_count("batch_loss")
    assert tab.progress_bar.value() == 100 and "img/s" in tab.stats_label.text()
    assert tab.stats_label.text().startswith("Done after all 3 epochs") and "ETA" not in tab.stats_label.text()
    # test accuracy and confusion summary shown; saved with metadata and history
    assert out.test_accuracy is not None and 0.5 < out.test_accuracy <= 1
    assert out.confusion.shape == (10, 10) and out.confusion.sum() == 10_000
    assert "Test accuracy" in tab.result_label.text() and "most confused" in tab.result_label.text()
    assert out.stored.path.exists()
    meta = json.loads(out.stored.path.with_suffix(".json").read_text())
    assert meta["arch"] == "linear" and meta["metrics"]["test_accuracy"] == pytest.approx(out.test_accuracy)
    assert len(meta["history"]["val_accuracy"]) == 3 and meta["training"]["my_digits"] == 2
    assert meta["training"]["limit"] == LIMIT
    # run history: listed with its settings and accuracies
    row = tab.history_table.rowCount() - 1
    cell = lambda column: tab.history_cell(row, column)  # noqa: E731
    assert (cell("run"), cell("architecture"), cell("epochs"), cell("status")) == (out.stored.name, "linear", "3/3", "finished")
    assert "adam lr 0.003" in cell("training") and cell("test acc") == f"{out.test_accuracy * 100:.2f}%"
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled() and tab.task is None


@pytest.mark.skipif(not default_mnist_strokes_path().exists(), reason="MNIST stroke traces not available")
def test_drawn_style_digits_join_the_training_set_and_the_record(qtbot, window, tab):
    assert tab.form.drawn_spin.isEnabled()
    tab.form.drawn_spin.setValue(30)
    out = run(qtbot, tab, small(epochs=1))
    assert out.failure is None and 25 <= out.n_drawn_style <= 30  # a digit whose trace is only a dot is skipped
    assert out.n_train == LIMIT + out.n_drawn_style
    meta = json.loads(out.stored.path.with_suffix(".json").read_text())
    assert meta["training"]["drawn_style"] == out.n_drawn_style
    row = tab.history_table.rowCount() - 1
    assert f"+{out.n_drawn_style} drawn-style" in tab.history_cell(row, "training")


@pytest.mark.skipif(not (default_pendigits_path().exists() and default_omniglot_path().exists()),
                    reason="shared pen digits or Omniglot not available")
def test_pen_digits_and_non_digits_train_a_calibrated_model(qtbot, window, tab):
    """Pen digits and non-digit drawings join the run; the model is calibrated on writers it never saw."""
    assert tab.form.pen_spin.isEnabled() and tab.form.non_digit_spin.isEnabled()
    tab.form.pen_spin.setValue(40)
    tab.form.non_digit_spin.setValue(40)
    out = run(qtbot, tab, small(epochs=1))
    assert out.failure is None and out.n_pen_digits >= 38 and out.n_not_digits >= 30
    meta = json.loads(out.stored.path.with_suffix(".json").read_text())
    assert meta["training"]["pen_digits"] == out.n_pen_digits and meta["training"]["not_digits"] == out.n_not_digits
    cal = meta["calibration"]
    assert "writers 21-25" in cal["fitted_on"] and 0.3 <= cal["unsure_below"] <= 0.95
    row = tab.history_table.rowCount() - 1
    assert f"+{out.n_not_digits} non-digits" in tab.history_cell(row, "training")


def test_saved_model_appears_in_the_picker_and_predicts(qtbot, window, tab, mnist):
    from mnist_desk.core.training import predict_probabilities
    from tests.ui.support import drag

    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=20_000)  # the window's first model
    tab.name_edit.setText("my first mlp")
    out = run(qtbot, tab, small(arch="mlp", hparams={"hidden": [64]}, epochs=3))
    assert out.stored.name == "my-first-mlp"
    hub, draw = window.hub, window.draw
    assert draw.model_combo.findData(str(out.stored.path)) >= 0  # listed in the picker at once
    with qtbot.waitSignal(hub.currentChanged, timeout=10_000):
        click(qtbot, tab.use_button)
    assert hub.current.path == out.stored.path
    assert draw.model_combo.currentData() == str(out.stored.path) and "my-first-mlp" in draw.model_combo.currentText()
    # the canvas's numpy snapshot is the trained Keras model
    x = mnist.x_test[:20]
    np.testing.assert_allclose(hub.net(hub.current).predict(x.astype(np.float32) / 255.0),
                               predict_probabilities(out.result.model, x), atol=1e-4)
    drag(draw.canvas, [(150, 40 + 8 * i) for i in range(26)])
    assert draw.last_probs and draw.last_probs[0][0] == "my-first-mlp"
    assert draw.last_probs[0][1].shape == (10,)


def test_a_run_named_like_a_shipped_model_is_saved_beside_it_and_the_draw_model_stays(qtbot, window, tab):
    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=20_000)  # the window's first model
    before = window.hub.current
    assert (before.name, before.shipped) == ("cnn", True)
    assert tab.name_edit.placeholderText() == "cnn-2"  # the empty name field shows the name a run would get
    fill_form_for_a_small_run(qtbot, tab, epochs=1)
    qtbot.keyClicks(tab.name_edit, "cnn")
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        click(qtbot, tab.start_button)
    out = blocker.args[0]
    assert out.stored.name == "cnn-2" and user_models(window) == ["cnn-2.json", "cnn-2.keras", "cnn-2.timeline.npz"]
    said = window.statusBar().currentMessage()
    assert said.startswith("cnn-2 saved. Test accuracy ") and "of cnn: the Draw view keeps cnn." in said
    assert "Use for drawing" in said and said in tab.result_label.text()
    # the Draw view still reads with the shipped cnn; the picker lists both, each under its own name
    assert window.hub.current is before and window.draw.model_combo.currentData() == str(before.path)
    labels = [window.draw.model_combo.itemText(i) for i in range(window.draw.model_combo.count())]
    assert sum(t.startswith("cnn ") for t in labels) == 1 and sum(t.startswith("cnn-2 ") for t in labels) == 1
    # a second run under the same name takes the next free one
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        click(qtbot, tab.start_button)
    assert blocker.args[0].stored.name == "cnn-3" and window.hub.current is before
    # Use for drawing uses the run selected in the history (else the latest saved one)
    table = tab.history_table
    table.scrollToBottom()
    row_rect = table.visualRect(table.model().index(table.rowCount() - 2, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=row_rect.center())
    assert [r.label for r in tab.selected_runs()] == ["cnn-2"]
    with qtbot.waitSignal(window.hub.currentChanged, timeout=10_000):
        click(qtbot, tab.use_button)
    assert window.hub.current.name == "cnn-2" and window.draw.model_combo.currentText().startswith("cnn-2")
    assert window.statusBar().currentMessage() in ("The Draw view now uses cnn-2.", "Loading cnn-2 for the Draw view…")
    # a run that beats the Draw view's model on the test set replaces it by itself, and says so
    tab.form.epochs_spin.setValue(5)
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        click(qtbot, tab.start_button)
    better = blocker.args[0]
    assert better.test_accuracy > window.hub.find("cnn-2").test_accuracy
    assert window.hub.current.name == better.stored.name == "cnn-4"
    assert window.draw.model_combo.currentText().startswith("cnn-4")
    assert window.statusBar().currentMessage().endswith("of cnn-2: the Draw view now uses cnn-4.")


def test_a_run_replaces_the_draw_model_only_when_it_is_better_on_the_test_set():
    from mnist_desk.ui.train.format import draw_model_choice

    assert draw_model_choice("cnn-2", 0.1135, "cnn", 0.9941) == (
        False, ("cnn-2 saved. Test accuracy 11.35% ≤ 99.41% of cnn: the Draw view keeps cnn. "
                "Use for drawing to switch anyway."))
    switch, said = draw_model_choice("cnn-2", 0.995, "cnn", 0.9941)
    assert switch and said.endswith("the Draw view now uses cnn-2.")
    assert draw_model_choice("a", 0.9941, "cnn", 0.9941)[0] is False  # a tie keeps the model the user has
    assert draw_model_choice("a", 0.99, "opened", None)[0] is False  # its accuracy unknown: never switched
    assert draw_model_choice("a", None, "cnn", 0.99)[0] is False  # no test set in the run's data
    assert draw_model_choice("a", 0.5, None, None)[0] is True  # the Draw view had no model at all
    # 99.7% on a few easy rows of the user's CSV says nothing against a score on MNIST's 10,000 test digits
    switch, said = draw_model_choice("a", 0.997, "cnn", 0.9941, same_test_set=False)
    assert switch is False and "other test images" in said


def test_test_scores_compare_only_on_the_same_test_images(tmp_path):
    from mnist_desk.core import store
    from mnist_desk.core.paths import SHIPPED_MNIST
    from mnist_desk.core.store import same_test_images

    def model(source):
        return store.StoredModel(name="m", path=tmp_path / "m.keras", metadata={"data_source": source}, shipped=False)

    shipped_cnn = model("mnist_desk/resources/data/mnist.npz")  # as the shipped models record it
    assert same_test_images(model(str(SHIPPED_MNIST)), shipped_cnn)
    assert not same_test_images(model(str(tmp_path / "digits.csv")), shipped_cnn)
    assert same_test_images(model(str(tmp_path / "digits.csv")), model(str(tmp_path / "digits.csv")))
    assert not same_test_images(model(""), model(""))


# ------------------------------------------------------------------------------ Start and Stop clicked
def fill_form_for_a_small_run(qtbot, tab, epochs=1, batch=32):
    """A linear model on LIMIT images, nothing generated added: a run of a few seconds (after TensorFlow)."""
    f = tab.form
    choose(qtbot, f.arch_combo, "linear")
    for spin in (f.drawn_spin, f.pen_spin, f.non_digit_spin):
        spin.setValue(0)
    f.epochs_spin.setValue(epochs)
    f.batch_spin.setValue(batch)
    f.lr_edit.setText("0.003")


def test_clicking_start_trains_and_clicking_stop_ends_the_run(qtbot, window, tab):
    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=20_000)
    fill_form_for_a_small_run(qtbot, tab, epochs=200, batch=8)  # long enough to stop mid-run
    click(qtbot, tab.start_button)
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    qtbot.waitUntil(lambda: "img/s" in tab.stats_label.text(), timeout=RUN_TIMEOUT_MS)  # batches are reported
    assert "epoch 1/200" in tab.progress_bar.format() or "epoch 2/200" in tab.progress_bar.format()
    assert "ETA" in tab.stats_label.text()
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS):
        click(qtbot, tab.stop_button)
    assert tab.progress_bar.format() == "stopped"
    # nothing about the run going remains, now or at the next redraw
    qtbot.wait(200)
    assert tab.stats_label.text().startswith("Stopped after epoch ") and "ETA" not in tab.stats_label.text()
    assert "Stopped by you" in tab.result_label.text() and "press Save model" in tab.result_label.text()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled() and tab.save_button.isEnabled()
    row = tab.history_table.rowCount() - 1
    assert (tab.history_cell(row, "architecture"), tab.history_cell(row, "status")) == ("linear", "stopped")
    assert user_models(window) == []  # a stopped run is kept, not saved

    # a second, one-epoch run from the same form runs to the end and is saved; worse than the shipped cnn,
    # it becomes the Draw view's model only when Use for drawing is clicked
    tab.form.epochs_spin.setValue(1)
    tab.form.batch_spin.setValue(32)
    tab.name_edit.setText("clicked")
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS):
        click(qtbot, tab.start_button)
    assert tab.progress_bar.format() == "done" and tab.progress_bar.value() == 100
    assert "Test accuracy" in tab.result_label.text() and "clicked saved." in tab.result_label.text()
    assert "the Draw view keeps cnn" in tab.result_label.text()
    assert user_models(window) == ["clicked.json", "clicked.keras", "clicked.timeline.npz"]
    assert window.draw.model_combo.currentText().startswith("cnn")
    assert tab.history_cell(tab.history_table.rowCount() - 1, "status") == "finished"
    with qtbot.waitSignal(window.hub.currentChanged, timeout=10_000):
        click(qtbot, tab.use_button)
    assert window.draw.model_combo.currentText().startswith("clicked")


def test_live_curves_grow_during_the_run_at_most_30_times_a_second(qtbot, window, tab, monkeypatch):
    """Batch reports may come far faster than the screen needs: the curves are redrawn by a ~30 Hz timer.

    Reports are made to come after every batch (hundreds a second); redrawing at each would exceed the
    cap, and not redrawing until the run ends would show no live curve: either fails here.
    """
    import dataclasses

    form_config = tab.form.config_from_form
    monkeypatch.setattr(tab.form, "config_from_form", lambda: dataclasses.replace(form_config(), report_every_s=0.0))
    fill_form_for_a_small_run(qtbot, tab, epochs=200, batch=8)
    item = tab.curves.curves["batch_loss"]  # the smoothed batch loss, the curve that moves
    reports: list[float] = []
    draws: list[float] = []
    item.sigPlotChanged.connect(lambda _item: draws.append(time.perf_counter()))
    click(qtbot, tab.start_button)
    tab.task.progress.connect(lambda p: reports.append(time.perf_counter()) if p.kind == "batch" else None)
    qtbot.waitUntil(lambda: len(reports) >= 1, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: time.perf_counter() - reports[0] >= 2.0, timeout=30_000)
    t0, t1 = reports[0], time.perf_counter()
    shown_mid_run = len(item.getData()[0] if item.getData()[0] is not None else [])
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS):
        click(qtbot, tab.stop_button)
    elapsed = t1 - t0
    rate_reports = sum(t0 <= t <= t1 for t in reports) / elapsed
    rate_draws = sum(t0 <= t <= t1 for t in draws) / elapsed
    assert rate_reports > 60, f"only {rate_reports:.0f} reports/s: this machine cannot show the cap"
    assert rate_draws <= 36, f"{rate_draws:.0f} redraws/s"  # 30 Hz, and a timer tick may come early
    assert rate_draws >= 5, f"{rate_draws:.1f} redraws/s: the curve did not grow while the run went"
    assert shown_mid_run >= 2  # the user saw a batch curve before the run ended


# ------------------------------------------------------------------------------ stop, second start, canvas meanwhile
def test_stop_ends_the_run_within_one_batch_and_keeps_the_model(qtbot, window, tab, monkeypatch):
    from mnist_desk.core import training
    from tests.ui.support import drag

    real_train = training.train
    calls: list[tuple[float, bool]] = []  # should_stop is polled once after every batch

    def spying_train(config, split, on_progress=None, should_stop=None, **keywords):
        def spy():
            v = should_stop()
            calls.append((time.perf_counter(), v))
            return v

        return real_train(config, split, on_progress=on_progress, should_stop=spy, **keywords)

    monkeypatch.setattr(training, "train", spying_train)
    qtbot.waitUntil(lambda: window.hub.net(window.hub.current) is not None, timeout=20_000)
    assert tab.start(long_run())
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    wait_for_batches(qtbot, tab, 2)
    # a second run cannot start while this one is going
    assert tab.start(small()) is False and "already going" in tab.result_label.text()
    # the canvas keeps predicting with the current model meanwhile
    drag(window.draw.canvas, [(150, 40 + 8 * i) for i in range(26)])
    assert window.draw.last_probs
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        tab.stop_button.click()
        clicked = time.perf_counter()
    out = blocker.args[0]
    r = out.result
    assert r.stopped and r.failure is None
    total = math.ceil(LIMIT / 8) * 200
    assert r.batches_done < total
    after = [v for t, v in calls if t > clicked]
    assert after == [True]  # at most the batch in flight ran after Stop, then training ended
    assert r.batches_done == sum(1 for _, v in calls if not v)  # one poll before fit(), then one per batch
    # kept, not saved yet: Save stores it and makes it the canvas's model
    assert out.stored is None and user_models(window) == []
    assert tab.save_button.isEnabled() and "Save model" in tab.result_label.text()
    assert tab.history_cell(tab.history_table.rowCount() - 1, "status") == "stopped"
    before = window.hub.current
    assert not tab.use_button.isEnabled()  # nothing saved yet to use
    tab.save_button.click()
    qtbot.waitUntil(lambda: tab.use_button.isEnabled(), timeout=30_000)
    assert out.stored is not None and out.stored.path.exists() and f"{out.stored.name} saved." in window.statusBar().currentMessage()
    assert window.hub.current is before  # a stopped linear model does not beat the shipped cnn
    with qtbot.waitSignal(window.hub.currentChanged, timeout=10_000):
        click(qtbot, tab.use_button)
    assert window.hub.current.path == out.stored.path
    meta = json.loads(out.stored.path.with_suffix(".json").read_text())
    assert meta["stopped_early"] is True
    qtbot.waitUntil(lambda: not tab._save_task.is_running(), timeout=10_000)


# ------------------------------------------------------------------------------ faults
def test_diverging_learning_rate_stops_with_a_message_and_saves_nothing(qtbot, window, tab):
    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=20_000)  # the window's first model
    before = window.hub.current
    # every batch reported and checked: the first batches (before the weights blow up) are finite points
    out = run(qtbot, tab, small(arch="mlp", optimizer="sgd", learning_rate=50.0, epochs=3, report_every_s=0.0))
    assert out.failure and out.stored is None and out.net is None
    d = out.result.divergence
    assert d is not None and d.epoch >= 1 and d.batch >= 1
    text = tab.result_label.text()
    assert f"diverged at epoch {d.epoch}, batch {d.batch}" in text
    assert "learning rate" in text and "(50)" in text and "too high" in text and "lower it" in text
    assert "ETA" not in tab.stats_label.text() and tab.progress_bar.format() == "diverged"
    assert tab.stats_label.text().startswith(f"Diverged at epoch {d.epoch}, batch {d.batch}: ")
    # the plots keep the finite points before the divergence, fitted to them, and mark where it diverged
    qtbot.wait(100)  # (a range is applied when the plot next updates)
    for metric in ("loss", "accuracy"):
        x, y = tab.curves.curves[f"batch_{metric}"].getData()
        assert len(y) >= 1 and np.all(np.isfinite(y))
        line = tab.curves.divergence_lines[metric]
        assert line.isVisible() and line.value() == pytest.approx(d.x_epochs)
        assert line.label.toPlainText().startswith(f"diverged at epoch {d.epoch}, batch {d.batch}:\n")
        (x0, x1), (y0, y1) = tab.curves.plots[metric].viewRange()
        assert x0 <= x.min() and x1 >= d.x_epochs and y0 <= y.min() and y1 >= y.max() and y1 - y0 < 100
    assert user_models(window) == []
    assert not tab.save_button.isEnabled()
    assert tab.save_last() is False
    assert tab.history_cell(tab.history_table.rowCount() - 1, "status") == "diverged"
    assert window.hub.current is before
    # the next run starts without the marker
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS):
        assert tab.start(small(epochs=1))
    assert not any(line.isVisible() for line in tab.curves.divergence_lines.values())


def test_a_data_file_that_fails_to_load_shows_the_loaders_message(qtbot, window, tab, tmp_path):
    bad = tmp_path / "digits.npz"
    bad.write_bytes(b"this is not a zip archive")
    tab.form.data_edit.setText(str(bad))
    rows = tab.history_table.rowCount()
    out = run(qtbot, tab, small())
    assert out is None
    assert str(bad) in tab.result_label.text() and "not a valid .npz archive" in tab.result_label.text()
    # said where the user must see it, with what to do; nothing says the run is still loading
    assert window.errors and str(bad) in window.errors[-1] and "Choose another data file" in window.errors[-1]
    assert "Loading data" not in tab.stats_label.text() and tab.progress_bar.format() == "failed"
    assert tab.history_table.rowCount() == rows and tab.start_button.isEnabled()


def test_a_data_file_is_checked_when_chosen_and_a_bad_one_disables_start(qtbot, window, tab, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QPushButton

    bad = tmp_path / "bad.csv"
    bad.write_text("label,pixels\n7,0,0\n")
    # typed: checked once the typing pauses, the problem shown next to the field, Start disabled with the reason
    tab.form.data_edit.setFocus()
    qtbot.keyClicks(tab.form.data_edit, str(bad))
    qtbot.waitUntil(lambda: "row 1 has 3 values" in tab.form.data_status.text(), timeout=10_000)
    assert tab.form.data_status.isVisible() and tab.form.data_status.text().startswith("bad.csv: ")
    assert not tab.start_button.isEnabled() and "row 1 has 3 values" in tab.start_button.toolTip()
    # chosen with File… (only the operating system's dialog is replaced): its name and image counts
    good = tmp_path / "digits.npz"
    np.savez(good, x_train=np.zeros((40, 28, 28), np.uint8), y_train=np.arange(40, dtype=np.uint8) % 10,
             x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.zeros(10, np.uint8))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    file_button = next(b for b in tab.form.findChildren(QPushButton) if b.text() == "File…")
    click(qtbot, file_button)
    qtbot.waitUntil(lambda: tab.form.data_status.text() == "digits.npz: 40 training images, 10 test images",
                    timeout=10_000)
    assert tab.start_button.isEnabled()
    # a file that is not data at all, typed over the good one
    tab.form.data_edit.selectAll()
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list")
    qtbot.keyClicks(tab.form.data_edit, str(junk))
    qtbot.waitUntil(lambda: "unknown format" in tab.form.data_status.text(), timeout=10_000)
    assert not tab.start_button.isEnabled()
    # back to the shipped MNIST: nothing to say, Start enabled
    click(qtbot, next(b for b in tab.form.findChildren(QPushButton) if b.text() == "MNIST"))
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=10_000)
    assert not tab.form.data_status.isVisible() and tab.form.data_problem is None


def test_a_data_check_that_ends_after_its_form_is_gone_reaches_nothing(qtbot, window, tab, tmp_path, monkeypatch):
    import shiboken6
    from PySide6.QtWidgets import QFileDialog, QPushButton

    big = tmp_path / "digits.csv"
    np.savetxt(big, np.zeros((6000, 785), np.uint8), fmt="%d", delimiter=",")  # seconds to read: ends after the close
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(big), ""))
    click(qtbot, next(b for b in tab.form.findChildren(QPushButton) if b.text() == "File…"))
    assert tab.form.data_status.text() == "Checking digits.csv…"
    window.close()  # waits for the check's thread; its result is still to be delivered
    shiboken6.delete(tab.form)
    qtbot.wait(300)  # an exception in a slot here fails the test


def test_a_wrong_field_refuses_to_start_with_a_message(window, tab):
    tab.form.apply_arch("mlp")
    tab.form.hparam_form.widgets["hidden"].setText("512, lots")
    assert tab.start() is False and tab.task is None
    assert "hidden" in tab.result_label.text()
    tab.form.hparam_form.widgets["hidden"].setText("64")
    tab.form.lr_edit.setText("fast")
    assert tab.start() is False and "learning rate" in tab.result_label.text()


def test_closing_the_window_mid_run_stops_the_worker_cleanly(qtbot, window, tab):
    from mnist_desk.core.paths import user_models_dir

    assert tab.start(long_run())
    task = tab.task
    wait_for_batches(qtbot, tab, 1)
    window.close()  # asks first: the run is going
    box = modal_dialog(qtbot)
    t0 = time.perf_counter()
    click_dialog_button(qtbot, box, "Discard")
    assert not window.isVisible() and time.perf_counter() - t0 < 20
    assert task.wait(0)  # the run's function has returned: nothing is left working on the training thread
    assert list(user_models_dir().iterdir()) == []  # nothing saved, no temporary files left
    tab.shutdown()  # a second call is harmless


# ------------------------------------------------------------------------------ form, presets, history, export
def test_presets_fill_the_whole_form(tab):
    tab.form.apply_preset("lenet5-sgd")
    c = tab.form.config_from_form()
    assert (c.arch, c.optimizer, c.learning_rate, c.batch_size, c.epochs) == ("lenet5", "sgd", 0.01, 100, 10)
    assert tab.name_edit.placeholderText() == "lenet5-sgd"
    tab.form.apply_preset("mlp-512-512-dropout")
    c = tab.form.config_from_form()
    assert c.arch == "mlp" and c.hparams == {"hidden": [512, 512], "activation": "relu", "dropout": 0.2, "l2": 0.0}
    assert (c.optimizer, c.momentum, c.lr_schedule, c.augment) == ("sgd", 0.9, "constant", False)
    from mnist_desk.core import registry

    for name, p in registry.PRESETS.items():  # every preset, whatever the registry holds today
        tab.form.apply_preset(name)
        c = tab.form.config_from_form()
        assert c.arch == p.arch and registry.get_architecture(p.arch).resolve(p.hparams) == c.hparams, name
        for key, value in p.training.items():
            assert getattr(c, key) == value, (name, key)
    assert c.val_size == VAL


def test_history_runs_overlay_and_export_as_png_and_svg(tab, tmp_path):
    # the shipped models' saved histories are listed as runs
    shipped = [i for i, r in enumerate(tab.runs) if r.status == "shipped"]
    assert len(shipped) >= 2
    tab.select_runs(shipped[:2])
    assert [r.label for r in tab.selected_runs()] == [tab.runs[i].label for i in shipped[:2]]
    overlaid = [it for m, it in tab.curves._overlay_items if m == "accuracy"]
    assert len(overlaid) >= 4  # per run: batches (smoothed), train per epoch, validation per epoch
    assert not tab.curves.curves["loss"].isVisible()  # nothing running: only the chosen runs
    tab.x_axis_combo.setCurrentText("seconds")
    x, _ = [it for m, it in tab.curves._overlay_items if m == "loss" and it.name() and "validation" in it.name()][0].getData()
    assert x[-1] == pytest.approx(tab.runs[shipped[0]].history["seconds"][-1])
    png = tab.export_curves(tmp_path / "curves.png")
    svg = tab.export_curves(tmp_path / "curves.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert "<svg" in text and "model accuracy" in text and tab.runs[shipped[0]].label in text
    assert tab.export_curves(tmp_path / "curves.gif") is None and "png or .svg" in tab.result_label.text()


def test_curve_legends_lie_below_the_curves_at_small_and_large_sizes(qtbot, window, tab):
    shipped = [i for i, r in enumerate(tab.runs) if r.status == "shipped"]
    tab.select_runs(shipped[:2])
    for size in ((1000, 700), (1600, 1000)):
        window.resize(*size)
        qtbot.wait(100)  # the plot's layout places the legend on the next event-loop turn
        for metric, legend in tab.curves.legends.items():
            assert len(legend.items) >= 4, metric  # two named curves per run
            assert legend_covers(legend, tab.curves.plots[metric].getPlotItem()) == [], (metric, size)


# ------------------------------------------------------------------------------ helpers (no window)
def test_confusion_summary_names_the_most_confused_pairs():
    from mnist_desk.core.confusion import confusion_matrix
    from mnist_desk.ui.train.format import confusion_summary

    y_true = np.array([4] * 10 + [9] * 10 + [7] * 5)
    y_pred = np.array([4] * 7 + [9] * 3 + [9] * 10 + [7] * 4 + [1])
    cm = confusion_matrix(y_true, y_pred)
    assert cm[4, 9] == 3 and cm[7, 1] == 1 and cm.sum() == 25
    text = confusion_summary(cm)
    assert text.startswith("most confused (true→predicted): 4→9 ×3, 7→1 ×1")
    assert "weakest digit 4 (70.0%)" in text


def test_run_records_from_saved_metadata_give_curves_on_both_axes():
    from mnist_desk.ui.train.curves import RunRecord, smooth

    meta = {"arch": "mlp", "hparams": {"hidden": [32]}, "training": {"epochs": 2, "batch_size": 10, "steps_per_epoch": 10},
            "history": {"loss": [1.0, 0.5], "accuracy": [0.7, 0.8], "val_loss": [0.9, 0.6], "val_accuracy": [0.72, 0.81],
                        "seconds": [2.0, 4.0], "batch_step": [5, 10, 15, 20], "batch_loss": [2.0, 1.0, 0.8, 0.5],
                        "batch_accuracy": [0.3, 0.6, 0.7, 0.8]},
            "metrics": {"val_accuracy": 0.81, "test_accuracy": 0.8}, "training_seconds": 4.2, "epochs_done": 2}
    from mnist_desk.core.runs import RunMetadata

    rec = RunRecord.from_metadata("m", RunMetadata.from_dict(meta))
    assert (rec.test_accuracy, rec.steps(), rec.status) == (0.8, 10.0, "saved")
    x, y = rec.batch_series("loss", "epochs")
    np.testing.assert_allclose(x, [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(y, smooth(np.array([2.0, 1.0, 0.8, 0.5])))
    x, _ = rec.batch_series("loss", "seconds")  # between epoch ends, by interpolation
    np.testing.assert_allclose(x, [1.0, 2.0, 3.0, 4.0])
    x, y = rec.epoch_series("val_accuracy", "seconds")
    assert list(x) == [2.0, 4.0] and list(y) == [0.72, 0.81]
    assert smooth(np.array([1.0]))[0] == 1.0 and math.isnan(smooth(np.array([1.0, float("nan")]))[1])


def test_a_replaced_runs_model_is_freed_after_the_next_run(qtbot, window, tab):
    """A long session must not keep every run's Keras model (and its traced functions) alive."""
    import weakref

    first = run(qtbot, tab, small(epochs=1))
    first_model = weakref.ref(first.result.model)
    del first
    second = run(qtbot, tab, small(epochs=1))
    assert tab.last_outcome is second
    qtbot.waitUntil(lambda: first_model() is None, timeout=5_000)  # freed by the view's collection, no test gc


def test_the_window_and_the_cli_write_the_same_record_for_the_same_run(qtbot, window, tab, tmp_path):
    """One TrainSpec and one run_training: a run started with the Start button and `mnist-desk train` with the
    same settings leave metadata with the same fields and the same settings."""
    from PySide6.QtCore import Qt

    from mnist_desk import cli
    from mnist_desk.core import store

    tab.form.apply_arch("linear")
    tab.form.epochs_spin.setValue(1)
    with qtbot.waitSignal(tab.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    window_meta = store.read_metadata(blocker.args[0].stored.path)
    out = tmp_path / "cli.keras"
    assert cli.main(["train", "--arch", "linear", "--epochs", "1", "--limit", str(LIMIT), "--val-size", str(VAL),
                     "--out", str(out), "--quiet"]) == 0
    cli_meta = store.read_metadata(out)

    def fields(d, prefix=""):
        return {prefix + k for k in d} | {f for k, v in d.items() if isinstance(v, dict) and k != "calibration"
                                          for f in fields(v, f"{prefix}{k}.")}

    assert fields(window_meta) == fields(cli_meta)
    timing = ("seconds", "batch_step")  # how long batches took differs between two runs
    assert window_meta["training"] == cli_meta["training"] and window_meta["hparams"] == cli_meta["hparams"]
    assert window_meta["data_source"] == cli_meta["data_source"]
    assert {k: v for k, v in window_meta["history"].items() if k not in timing}.keys() == \
        {k: v for k, v in cli_meta["history"].items() if k not in timing}.keys()
