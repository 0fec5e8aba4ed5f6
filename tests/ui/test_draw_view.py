"""The Draw view with real mouse drags into the real canvas (offscreen)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.ui.support import choose, click, drag, drop_file, legend_covers


@pytest.fixture
def main_window(window, qtbot):
    """conftest's window, once its default model can predict."""
    qtbot.waitUntil(lambda: window.hub.current is not None and window.hub.net(window.hub.current) is not None, timeout=20_000)
    return window


def draw_one(canvas):
    drag(canvas, [(150, 40 + 8 * i) for i in range(26)])


def draw_zero(canvas):
    drag(canvas, [(140 + 60 * math.sin(t), 140 - 95 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 60)])


def draw_scribble(canvas):
    """A dense tangle across the canvas, the way people test a digit reader."""
    from mnist_desk.core.non_digits import random_doodle
    from mnist_desk.core.strokes import place_strokes

    for stroke in place_strokes(random_doodle(np.random.default_rng(4), "scribble"), canvas=280, size_frac=0.8):
        drag(canvas, [tuple(p) for p in stroke[::2]])


def shown_digit(tab) -> int:
    return int(np.argmax(tab.bars.heights[0]))


def test_window_opens_on_draw_view_with_default_model(main_window):
    tab = main_window.draw
    assert main_window.tabs.tabText(0) == "Draw"
    assert tab.hub.current.name == tab.hub.models[0].name
    assert tab.top.digit.text() == "–" and tab.bars.heights == []


@pytest.mark.parametrize("drawer,digit", [(draw_one, 1), (draw_zero, 0)])
def test_drawn_digit_is_read(main_window, drawer, digit):
    tab = main_window.draw
    drawer(tab.canvas)
    assert len(tab.bars.heights) == 1
    assert shown_digit(tab) == digit
    assert tab.top.verdict.digit == digit and tab.top.digit.text() in (str(digit), "?")
    assert tab.model_input.image is not None and tab.model_input.image.shape == (28, 28)


def test_predictions_update_during_the_stroke(main_window):
    tab = main_window.draw
    seen = []
    tab.predicted.connect(lambda r: seen.append(r))
    drag(tab.canvas, [(150, 40 + 8 * i) for i in range(26)])
    assert len(seen) >= 10  # many predictions while the button was held, not one on release


def test_undo_and_clear_change_what_the_bars_show(main_window):
    tab = main_window.draw
    draw_one(tab.canvas)
    one = tab.bars.heights[0].copy()
    draw_zero(tab.canvas)  # a 0 over the 1
    both = tab.bars.heights[0].copy()
    assert not np.allclose(one, both)
    tab.canvas.undo()
    np.testing.assert_allclose(tab.bars.heights[0], one, atol=1e-6)
    tab.canvas.redo()
    np.testing.assert_allclose(tab.bars.heights[0], both, atol=1e-6)
    tab.canvas.clear()
    assert tab.bars.heights == [] and tab.top.digit.text() == "–"


def test_keys_and_the_right_button_undo_redo_and_clear(main_window, qtbot):
    tab = main_window.draw
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    draw_one(tab.canvas)
    one, one_ink = tab.bars.heights[0].copy(), tab.canvas.to_array()
    draw_zero(tab.canvas)  # a 0 over the 1
    both, both_ink = tab.bars.heights[0].copy(), tab.canvas.to_array()
    tab.canvas.setFocus()
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, ctrl)
    np.testing.assert_array_equal(tab.canvas.to_array(), one_ink)
    np.testing.assert_allclose(tab.bars.heights[0], one, atol=1e-6)
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, ctrl | shift)
    np.testing.assert_array_equal(tab.canvas.to_array(), both_ink)
    np.testing.assert_allclose(tab.bars.heights[0], both, atol=1e-6)
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Escape)
    assert tab.canvas.is_empty() and tab.bars.heights == [] and tab.top.digit.text() == "–"
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, ctrl)  # a clear is undone like a stroke
    np.testing.assert_array_equal(tab.canvas.to_array(), both_ink)
    click(qtbot, tab.canvas, Qt.MouseButton.RightButton)
    assert tab.canvas.is_empty() and tab.bars.heights == [] and tab.top.digit.text() == "–"


def test_the_eraser_checkbox_makes_strokes_rub_ink_out(main_window, qtbot):
    tab = main_window.draw
    draw_zero(tab.canvas)
    ink = (255 - tab.canvas.to_array().astype(int)).sum()
    assert ink > 0 and shown_digit(tab) == 0
    click(qtbot, tab.eraser_box)
    assert tab.eraser_box.isChecked()
    draw_one(tab.canvas)  # across the 0: rubs out where it passes, adds no ink
    left = (255 - tab.canvas.to_array().astype(int)).sum()
    assert 0 < left < ink
    erased_column = 255 - tab.canvas.to_array()[60:220, 146:155]
    assert erased_column.max() == 0  # the 1's path is blank now
    click(qtbot, tab.eraser_box)
    assert not tab.eraser_box.isChecked()
    draw_one(tab.canvas)  # draws again
    assert (255 - tab.canvas.to_array().astype(int)).sum() > left


def test_empty_canvas_and_a_dot_show_no_prediction(main_window):
    tab = main_window.draw
    tab.predict_now()
    assert tab.bars.heights == []
    drag(tab.canvas, [(140, 140), (141, 140)])  # a dot
    assert tab.bars.heights == []
    assert "nothing" in tab.top.caption.text().lower()


def test_dropped_image_is_classified(main_window, tmp_path, qtbot, mnist):
    # a real test digit, scaled up, as dark ink on a light photo-like background
    idx = int(np.flatnonzero(mnist.y_test == 7)[0])
    img = Image.fromarray(255 - mnist.x_test[idx]).resize((300, 300), Image.Resampling.BICUBIC)
    path = tmp_path / "seven.png"
    img.save(path)
    assert drop_file(main_window.draw.canvas, path)
    qtbot.waitUntil(lambda: main_window.draw.bars.heights != [], timeout=5000)
    assert shown_digit(main_window.draw) == 7


def test_dropping_a_non_image_reports_and_keeps_the_drawing(main_window, tmp_path, qtbot):
    tab = main_window.draw
    draw_one(tab.canvas)
    before = tab.canvas.to_array()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert drop_file(tab.canvas, bad)
    np.testing.assert_array_equal(tab.canvas.to_array(), before)
    # one message box, in the user's terms, that stays until the user closes it
    assert len(main_window.errors) == 1 and "bad.png" in main_window.errors[0]
    qtbot.wait(3000)  # longer than a transient status-bar message would last... it must still be there
    boxes = [b for b in main_window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    text = boxes[0].text()
    assert "Could not open the picture" in text and "bad.png" in text and "PNG or JPEG" in text
    assert not any(name in text for name in ("Pillow", "PIL", "numpy", "NumPy", "Keras", "Error", "Traceback"))
    assert drop_file(tab.canvas, bad)  # the same file again: the same box, not a second one
    assert len([b for b in main_window.findChildren(QMessageBox) if b.isVisible()]) == 1
    click(qtbot, boxes[0].button(QMessageBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: not boxes[0].isVisible(), timeout=2000)


def test_dropping_a_blank_picture_says_so_and_keeps_the_drawing(main_window, tmp_path):
    tab = main_window.draw
    draw_one(tab.canvas)
    before = tab.canvas.to_array()
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    msgs = []
    tab.problem.connect(msgs.append)
    assert drop_file(tab.canvas, blank)  # delivered, and refused by the canvas
    np.testing.assert_array_equal(tab.canvas.to_array(), before)
    assert msgs and "blank.png" in msgs[-1] and "blank" in msgs[-1].split(":", 1)[1]
    assert main_window.errors == [msgs[-1]]  # the user error's box, no "unexpected error" dialog


def test_labelling_stores_the_digit_and_scores_models(main_window, qtbot, tmp_path):
    from mnist_desk.core.my_digits import MyDigits

    tab = main_window.draw
    for d, drawer in ((1, draw_one), (0, draw_zero), (1, draw_one)):
        drawer(tab.canvas)
        assert tab.label_current(d)
        assert tab.canvas.is_empty()  # ready for the next one
    stored = MyDigits.load()
    assert len(stored) == 3 and list(stored.y) == [1, 0, 1]
    assert stored.x.shape == (3, 28, 28) and stored.x.dtype == np.uint8 and stored.drawings.shape == (3, 280, 280)
    qtbot.waitUntil(lambda: tab.digits_table.rowCount() >= 1 and tab.digits_table.item(0, 1) is not None, timeout=20_000)
    assert tab.digits_table.item(0, 1).text().endswith("%")
    assert "3 digits" in tab.digits_summary.text()
    out = tab.digits.export(tmp_path / "mine.npz")
    from mnist_desk.core.data import load_dataset

    assert len(load_dataset(out).y_train) == 3


def test_digit_key_labels_the_drawing(main_window, qtbot):
    tab = main_window.draw
    assert tab.digits_summary.text().startswith("No digits yet")
    draw_one(tab.canvas)
    tab.canvas.setFocus()
    qtbot.keyClick(tab.canvas, "1")
    assert len(tab.digits) == 1 and tab.digits.y[-1] == 1
    assert tab.canvas.is_empty() and tab.bars.heights == []  # ready for the next digit
    assert tab.digits_summary.text().startswith("1 digits") and "1:1" in tab.digits_summary.text()
    qtbot.keyClick(tab.canvas, "7")  # nothing drawn: nothing is added
    assert len(tab.digits) == 1


def test_model_picker_switches_models_and_compare_shows_more_bars(main_window, qtbot):
    tab = main_window.draw
    if len(tab.hub.models) < 2:
        pytest.skip("needs two models")
    draw_zero(tab.canvas)
    first = tab.hub.current
    other = next(m for m in tab.hub.models if m.name != first.name)
    choose(qtbot, tab.model_combo, str(other.path))  # keys on the picker, as a user switches models
    qtbot.waitUntil(lambda: tab.hub.current.name == other.name, timeout=10_000)
    qtbot.waitUntil(lambda: [n for n, _ in tab.answers.answers] == [other.name], timeout=5000)
    assert tab.model_combo.currentText() == other.label and len(tab.bars.heights) == 1
    choose(qtbot, tab.compare_combos[0], str(first.path))
    qtbot.waitUntil(lambda: len(tab.bars.heights) == 2, timeout=10_000)
    assert [n for n, _ in tab.answers.answers] == [other.name, first.name]
    assert tab.compare_combos[0].currentText() == first.name


def test_compare_legend_lies_beside_the_bars_at_small_and_large_sizes(main_window, qtbot):
    tab = main_window.draw
    if len(tab.hub.models) < 3:
        pytest.skip("needs three models")
    first = tab.hub.current
    others = [m for m in tab.hub.models if m.name != first.name][:2]
    for combo, m in zip(tab.compare_combos, others):
        choose(qtbot, combo, str(m.path))
    draw_one(tab.canvas)  # a confident 1: its tall bars are where a corner legend used to sit
    qtbot.waitUntil(lambda: len(tab.bars.heights) == 3, timeout=10_000)
    plot = tab.bars.plot.getPlotItem()
    for size in ((1000, 700), (1600, 1000)):
        main_window.resize(*size)
        qtbot.wait(100)  # the plot's layout places the legend on the next event-loop turn
        assert len(tab.bars.legend.items) == 3
        assert legend_covers(tab.bars.legend, plot) == [], size


def test_a_long_model_name_is_elided_in_the_middle_with_the_full_name_in_its_tooltip(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    from PySide6.QtCore import Qt

    from mnist_desk.core import registry, store
    from mnist_desk.core.paths import user_models_dir
    from mnist_desk.ui.main_window import MainWindow

    name = "strided-fast-run-with-a-long-name-from-the-presets"
    store.save_model(registry.build_model("linear", {"l2": 0.0}, seed=0), {"arch": "linear", "hparams": {"l2": 0.0}},
                     name=name, folder=user_models_dir())
    # (opened on that model: picking it with the keyboard loads each model passed on the way, in any order)
    w = MainWindow(initial_model=name, preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    w.resize(1000, 700)
    tab = w.draw
    m = tab.hub.find(name)
    qtbot.waitUntil(lambda: tab.model_combo.currentData() == str(m.path), timeout=20_000)
    choose(qtbot, tab.compare_combos[0], str(m.path))
    qtbot.wait(50)
    for combo, full in ((tab.model_combo, m.label), (tab.compare_combos[0], m.name)):
        shown = combo.displayed_text()
        head, _, tail = shown.partition("…")
        assert tail and full.startswith(head) and full.endswith(tail) and len(head) >= 3 and len(tail) >= 3, shown
        assert full in combo.toolTip()
        assert combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == full
    w.close()


def test_broken_model_file_shows_an_error_and_keeps_the_old_model(main_window, qtbot, tmp_path):
    tab = main_window.draw
    before = tab.hub.current
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"PK\x03\x04 definitely not a model")
    main_window.hub.open_file(bad)
    qtbot.waitUntil(lambda: bool(main_window.errors), timeout=10_000)
    assert "broken.keras" in main_window.errors[-1] and main_window.errors[-1].startswith("Could not load a model: ")
    assert "Keras" not in main_window.errors[-1] and "Error" not in main_window.errors[-1]
    assert tab.hub.current is before
    draw_one(tab.canvas)
    assert tab.last_probs[0][0] == before.name


def test_a_model_failing_on_drawings_is_put_aside_with_one_message(main_window, qtbot, monkeypatch):
    tab, hub = main_window.draw, main_window.hub
    if len(hub.models) < 2:
        pytest.skip("needs two models")
    broken = hub.current
    net = hub.net(broken)

    def fails(x):
        raise ValueError("matmul: size mismatch")

    monkeypatch.setattr(net, "predict", fails)
    msgs = []
    tab.message.connect(msgs.append)
    draw_zero(tab.canvas)  # many moves, each a prediction
    qtbot.waitUntil(lambda: hub.current is not broken and hub.net(hub.current) is not None, timeout=20_000)
    failures = [m for m in msgs if "failed on this drawing" in m]
    assert len(failures) == 1 and broken.name in failures[0]
    assert main_window.errors == []  # no dialog at all, let alone one per stroke
    draw_one(tab.canvas)
    assert tab.last_probs and tab.last_probs[0][0] == hub.current.name != broken.name


@pytest.mark.parametrize("drawer", [draw_one, draw_scribble], ids=["a digit", "not a digit"])
def test_saliency_overlay_paints_over_the_drawing(main_window, qtbot, drawer):
    tab = main_window.draw
    drawer(tab.canvas)
    tab.saliency_box.setChecked(True)
    qtbot.waitUntil(lambda: tab.canvas._overlay is not None, timeout=60_000)
    assert getattr(tab, "saliency_grad").shape == (28, 28)
    tab.saliency_box.setChecked(False)
    assert tab.canvas._overlay is None


def test_saliency_rect_lies_over_the_ink_of_an_off_centre_drawing():
    from mnist_desk.core.preprocess import ink_bounding_box, ink_from_grey, prepare_drawing, to_grey
    from mnist_desk.core.strokes import render_strokes
    from mnist_desk.ui.draw.view import saliency_rect

    seven = [np.array([[0.1, 0.1], [0.9, 0.1], [0.4, 0.95]]), np.array([[0.35, 0.5], [0.75, 0.5]])]
    drawing = render_strokes(seven, canvas=280, size_frac=0.4, center=(75, 190), pen_width=14)
    x0, y0, side = saliency_rect(drawing)
    pixel = side / 28
    r0, r1, c0, c1 = ink_bounding_box(prepare_drawing(drawing))  # in the model's 28x28 field
    on_canvas = np.array([y0 + r0 * pixel, y0 + r1 * pixel, x0 + c0 * pixel, x0 + c1 * pixel])
    # the field's ink, put where the overlay is painted, covers the drawn ink to within one field pixel
    np.testing.assert_allclose(on_canvas, ink_bounding_box(ink_from_grey(to_grey(drawing))), atol=pixel)
    assert saliency_rect(np.full((280, 280), 255, np.uint8)) is None


def test_window_remembers_its_geometry(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    w.move(23, 31)
    w.resize(w.width() - 37, w.height() - 29)
    qtbot.wait(50)
    size, pos = w.size(), w.pos()
    w.close()
    w2 = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w2)
    w2.show()
    # The offscreen screen is 800 px wide, narrower than the window's minimum, so Qt clamps the
    # restored width and x; y and height are restored exactly.
    assert w2.pos().y() == pos.y() and w2.height() == size.height()
    w2.close()


def test_window_start_clears_what_a_killed_save_left(qtbot, tmp_path, monkeypatch):
    import os
    import time

    stale = tmp_path / "home" / "models" / ".mine.tmp-abc123.keras"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"PK\x03\x04 half a model")
    os.utime(stale, (time.time() - 7200,) * 2)
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    assert not stale.exists()
    w.close()


@pytest.mark.parametrize("ini", ["[General]\ntab=abc\ngeometry=hello\n",
                                 "[General]\ntab=99999999999999999999999\ngeometry=@ByteArray(garbage)\n",
                                 "\x00\xff not an ini file at all [[[\n"])
def test_window_opens_with_a_damaged_settings_file(qtbot, tmp_path, monkeypatch, ini):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.ini").write_bytes(ini.encode("latin-1"))
    monkeypatch.setenv("MNIST_DESK_HOME", str(home))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    assert w.isVisible() and w.tabs.currentIndex() == 0 and w.width() > 300
    w.close()


def test_window_opens_with_a_file_where_the_models_folder_belongs(qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").write_text("not a folder")
    monkeypatch.setenv("MNIST_DESK_HOME", str(home))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.hub.current is not None and w.hub.net(w.hub.current) is not None, timeout=20_000)
    assert w.hub.current.name == "cnn" and w.hub.current.shipped  # the shipped models are still there
    assert w.notices.isVisible() and len(w.notices.notices) == 1  # in the bar, not a dialog
    assert "your models" in w.notices.label.text() and "cannot be listed" in w.notices.label.text()
    w.hub.refresh()
    assert len(w.notices.notices) == 1 and w.errors == []  # said once
    w.close()


def test_window_opens_with_a_damaged_digit_set_and_keeps_it(qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "my_digits.npz").write_bytes(b"PK\x03\x04 truncated by a crash")
    monkeypatch.setenv("MNIST_DESK_HOME", str(home))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    assert w.notices.isVisible()
    text = w.notices.label.text()
    assert "my_digits.npz" in text and "kept as my_digits.damaged-" in text
    assert len(list(home.glob("my_digits.damaged-*.npz"))) == 1 and len(w.draw.digits) == 0
    w.close()


def test_a_data_folder_that_cannot_be_written_gives_a_read_only_session(qtbot, tmp_path, monkeypatch):
    """The window opens, says why nothing will be kept, and a labelled digit stays for the session."""
    blocker = tmp_path / "a file"
    blocker.write_text("in the way of the data folder")  # as root, permissions would not stop a write
    monkeypatch.setenv("MNIST_DESK_HOME", str(blocker / "home"))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.hub.current is not None and w.hub.net(w.hub.current) is not None, timeout=20_000)
    assert w.read_only and "read-only" in w.windowTitle()
    assert w.notices.isVisible() and "Read-only session" in w.notices.label.text()
    msgs = []
    w.draw.message.connect(msgs.append)
    draw_one(w.draw.canvas)
    w.draw.canvas.setFocus()
    qtbot.keyClick(w.draw.canvas, "1")
    assert len(w.draw.digits) == 1 and "kept until you close" in msgs[-1]
    w.close()
    assert blocker.read_text() == "in the way of the data folder"


def _all_label_text(widget) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(w.text() for w in widget.findChildren(QLabel))


def test_a_scribble_is_not_read_as_a_digit(main_window):
    tab = main_window.draw
    draw_scribble(tab.canvas)
    assert tab.top.verdict is not None and tab.top.verdict.kind in ("not a digit", "unsure")
    assert tab.top.digit.text() in ("not a\ndigit", "?")
    assert "100.0%" not in _all_label_text(main_window)


def test_compare_mode_gives_every_model_its_own_answer(main_window, qtbot):
    tab = main_window.draw
    others = [m.name for m in tab.hub.models if m.name != tab.hub.current.name][:2]
    if not others:
        pytest.skip("needs two models")
    tab.set_compare(others)
    draw_zero(tab.canvas)
    qtbot.waitUntil(lambda: len(tab.answers.answers) == 1 + len(others), timeout=10_000)
    line = tab.answers.plain_text()
    names = [tab.hub.current.name, *others]
    assert [n for n, _ in tab.answers.answers] == names
    for name, verdict in tab.answers.answers:
        assert f"{name} {verdict.short}" in line
    assert tab.answers.isVisible()
    assert tab.answers.answers[0][1].short == "0"  # the default model reads the 0
    assert "100.0%" not in _all_label_text(main_window)
    tab.canvas.clear()
    assert tab.answers.answers == []


@pytest.mark.parametrize("meta", [b"[1, 2]", b'{"metrics": "high"}', b'{"history": {"loss": ["x"]}}',
                                  b"[" * 100_000 + b"]" * 100_000])
def test_window_opens_with_a_users_model_whose_details_are_damaged(qtbot, tmp_path, monkeypatch, meta):
    import shutil

    from mnist_desk.core.paths import SHIPPED_MODELS_DIR

    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    shutil.copy(SHIPPED_MODELS_DIR / "linear.keras", home / "models" / "mine.keras")
    (home / "models" / "mine.json").write_bytes(meta)
    monkeypatch.setenv("MNIST_DESK_HOME", str(home))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    assert any(m.name == "mine" for m in w.hub.models)  # still listed, without its details
    assert "details of model 'mine'" in w.notices.label.text()
    w.close()


# ------------------------------------------------------------------------------ remembered between sessions
def _open_window(qtbot):
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.hub.current is not None and w.hub.net(w.hub.current) is not None, timeout=20_000)
    return w


def test_pen_width_compare_choices_and_train_form_are_restored_in_the_next_session(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    w = _open_window(qtbot)
    draw, form = w.draw, w.train.form
    draw.width_slider.setFocus()
    for _ in range(5):
        qtbot.keyClick(draw.width_slider, Qt.Key.Key_Right)
    pen = draw.width_slider.value()
    compared = [m for m in draw.hub.models if m.path != draw.hub.current.path][:2]
    for combo, m in zip(draw.compare_combos, compared):
        choose(qtbot, combo, str(m.path))
    w.tabs.setCurrentWidget(w.train)
    choose(qtbot, form.arch_combo, "mlp")
    hidden = form.hparam_form.widgets["hidden"]
    hidden.selectAll()
    qtbot.keyClicks(hidden, "64, 32")
    form.lr_edit.selectAll()
    qtbot.keyClicks(form.lr_edit, "0.0025")
    form.optimizer_combo.setFocus()
    qtbot.keyClick(form.optimizer_combo, Qt.Key.Key_Home)  # sgd, the first optimizer
    for spin, text in ((form.epochs_spin, "7"), (form.batch_spin, "64"), (form.limit_spin, "5000"), (form.val_spin, "2000")):
        spin.selectAll()
        qtbot.keyClicks(spin, text)
    click(qtbot, form.my_digits_box)
    before = (form.arch_combo.currentData(), form.hparam_form.raw_values(), form.lr_edit.text(),
              form.optimizer_combo.currentText(), form.epochs_spin.value(), form.batch_spin.value(),
              form.limit_spin.value(), form.val_spin.value(), form.my_digits_box.isChecked())
    assert before[0] == "mlp" and before[2] == "0.0025" and before[4:8] == (7, 64, 5000, 2000) and before[8]
    w.close()

    w2 = _open_window(qtbot)
    assert w2.draw.width_slider.value() == pen and w2.draw.canvas.pen_width == pen
    assert [c.currentData() for c in w2.draw.compare_combos] == [str(m.path) for m in compared]
    qtbot.waitUntil(lambda: len(w2.draw.compared_models()) == len(compared), timeout=5000)
    f2 = w2.train.form
    after = (f2.arch_combo.currentData(), f2.hparam_form.raw_values(), f2.lr_edit.text(),
             f2.optimizer_combo.currentText(), f2.epochs_spin.value(), f2.batch_spin.value(),
             f2.limit_spin.value(), f2.val_spin.value(), f2.my_digits_box.isChecked())
    assert after == before
    assert f2.config_from_form().hparams["hidden"] == [64, 32]
    w2.close()


@pytest.mark.parametrize("ini", [
    ('[draw]\npen_width=fat\ncompare=@ByteArray(\\0\\x1)\n[train]\nform="{\\"arch\\": 7, \\"epochs\\": \\"x\\", '
     '\\"hparams\\": [1], \\"learning_rate\\": 5}"\n'),
    '[draw]\npen_width=100000000000000000000\ncompare="[3, {}, \\"/no/such/model.keras\\"]"\n[train]\nform=not json {\n',
    ('[draw]\npen_width=-4\n[train]\nform="{\\"arch\\": \\"mlp\\", \\"hparams\\": {\\"hidden\\": \\"many\\", '
     '\\"activation\\": \\"nope\\", \\"dropout\\": [1, 2]}, \\"epochs\\": 99999999, \\"batch_size\\": 1.5}"\n'),
    # values of a type no lookup accepts (a list where a name was): unhashable, never a crash
    '[train]\nform="{\\"arch\\": [\\"cnn\\"], \\"optimizer\\": {}, \\"lr_schedule\\": [1], \\"data\\": \\"/no/such/file.csv\\"}"\n',
])
def test_damaged_remembered_values_are_ignored(qtbot, tmp_path, monkeypatch, ini):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.ini").write_text(ini)
    monkeypatch.setenv("MNIST_DESK_HOME", str(home))
    w = _open_window(qtbot)
    assert w.draw.width_slider.minimum() <= w.draw.width_slider.value() <= w.draw.width_slider.maximum()
    assert w.draw.compared_models() == []
    form = w.train.form
    assert form.arch_combo.currentData() in ("cnn", "mlp") and 1 <= form.epochs_spin.value() <= 10_000
    assert form.batch_spin.value() >= 1
    form.config_from_form()  # the form still makes a run: the bad hidden sizes were not put back
    w.close()


def test_stepping_through_the_model_picker_ends_on_the_last_model_chosen(qtbot, tmp_path, monkeypatch):
    """Each step starts a load; a load for a model passed on the way, ending last, must not take the choice back."""
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    w = _open_window(qtbot)
    combo, hub = w.draw.model_combo, w.hub
    assert combo.count() - 1 - combo.currentIndex() >= 2, "needs two models below the default in the picker"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # (only the default model is loaded yet: each step reads a file)
    first = combo.currentData()
    qtbot.waitUntil(lambda: hub.cache.cached_net(Path(first)) is not None, timeout=30_000)
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # its load starts...
    passed = combo.currentData()
    qtbot.keyClick(combo, Qt.Key.Key_Up)  # ...and the user goes back at once to the model already loaded
    assert combo.currentData() == first
    qtbot.waitUntil(lambda: hub.cache.cached_net(Path(passed)) is not None, timeout=30_000)
    qtbot.wait(100)
    assert str(hub.current.path) == first
    w.close()
