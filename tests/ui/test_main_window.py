"""The main window's desktop conventions, driven with real keys and clicks: menus and their shortcuts from
every view, Help's dialogs, the title, the themes, and the question when closing during a run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QTextEdit,
    QWidget,
)

from tests.ui.support import choose, click_dialog_button, drag, modal_dialog

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
MENUS = {
    "File": ["Open image…", "Open model…", "Save drawing…", "Export digits…", "Quit"],
    "Edit": ["Undo", "Redo", "Clear drawing", "Label drawing as"],
    "View": ["Draw", "Train", "Inspect", "Lab", "Lessons", "Theme"],
    "Help": ["Keyboard shortcuts", "What is this?", "About mnist_desk"],
}


@pytest.fixture
def win(window, qtbot):
    """conftest's window, active (window shortcuts go to the active window) and with its model loaded."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    qtbot.waitUntil(lambda: window.hub.current is not None and window.hub.net(window.hub.current) is not None,
                    timeout=20_000)
    yield window
    window.set_theme("system")  # the palette is the application's: the next tests start as they always did


def draw_one(canvas):
    drag(canvas, [(150, 40 + 8 * i) for i in range(26)])


def key_target(view: QWidget) -> QWidget:
    """A child of ``view`` that takes focus and keeps no keys for itself (text fields keep Ctrl+Z: rightly)."""
    keeps_keys = (QLineEdit, QAbstractSpinBox, QTextEdit, QAbstractItemView)
    for w in view.findChildren(QWidget):
        if (w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isVisible() and w.isEnabled()
                and not isinstance(w, keeps_keys)):
            return w
    raise AssertionError(f"nothing in {view} takes focus")


def press(qtbot, widget, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    widget.window().activateWindow()  # back from a dialog, as the user's click on it does
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=2_000)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=2_000)
    qtbot.keyClick(widget, key, modifiers)


def when_a_dialog_opens(handle):
    """Hand the next modal dialog to ``handle`` from a timer: a file dialog runs its own event loop, so the
    test cannot wait for it after the key press that opens it."""
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(20)

    def look():
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            timer.stop()
            handle(dialog)

    timer.timeout.connect(look)
    timer.start()
    return timer


def menu_titles(menu) -> list[str]:
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_every_menu_command_is_there_with_its_standard_keys(win):
    bar = win.menuBar()
    menus = {a.text().replace("&", ""): a.menu() for a in bar.actions()}
    assert list(menus) == list(MENUS)
    for title, items in MENUS.items():
        assert menu_titles(menus[title]) == items
    theme = next(a.menu() for a in menus["View"].actions() if a.menu() is not None)
    assert menu_titles(theme) == ["System", "Light", "Dark"]
    keys = {name: a.shortcut().toString() for name, a in win.menus.actions.items()}
    assert keys["open_image"] == "Ctrl+O" and keys["open_model"] == "Ctrl+Shift+O" and keys["save_drawing"] == "Ctrl+S"
    assert keys["quit"] == "Ctrl+Q" and keys["shortcuts"] == "F1" and keys["clear"] == "Esc"
    assert keys["view_draw"] == "Ctrl+1" and keys["view_train"] == "Ctrl+2" and keys["view_inspect"] == "Ctrl+3"
    assert keys["view_lab"] == "Ctrl+4" and keys["view_lessons"] == "Ctrl+5"
    assert "Ctrl+Z" in win.menus.actions["undo"].shortcuts()
    assert "Ctrl+Shift+Z" in win.menus.actions["redo"].shortcuts()
    # the buttons say their keys
    assert win.draw.buttons["undo"].toolTip().endswith("(Ctrl+Z)")
    assert win.draw.buttons["clear"].toolTip().endswith("(Esc)")
    assert win.draw.buttons["open_image"].toolTip().endswith("(Ctrl+O)")
    assert win.draw.buttons["open_model"].toolTip().endswith("(Ctrl+Shift+O)")


@pytest.mark.parametrize("start_view", [0, 1, 2])
def test_window_shortcuts_fire_from_each_view(win, qtbot, start_view):
    tabs, canvas = win.tabs, win.draw.canvas
    draw_one(canvas)
    ink = canvas.to_array()
    press(qtbot, key_target(tabs.currentWidget()), Qt.Key.Key_1 + start_view, CTRL)
    assert tabs.currentIndex() == start_view
    here = key_target(tabs.currentWidget())
    # undo and redo reach the drawing whichever view has the focus
    press(qtbot, here, Qt.Key.Key_Z, CTRL)
    assert canvas.is_empty()
    press(qtbot, here, Qt.Key.Key_Z, CTRL | SHIFT)
    np.testing.assert_array_equal(canvas.to_array(), ink)
    # Ctrl+S, Ctrl+O and Ctrl+Shift+O open their file dialogs; each is cancelled
    for key, mods, title in ((Qt.Key.Key_S, CTRL, "Save drawing"), (Qt.Key.Key_O, CTRL, "Open an image of a digit"),
                             (Qt.Key.Key_O, CTRL | SHIFT, "Open a model")):
        seen = []
        waiter = when_a_dialog_opens(lambda d, seen=seen: (seen.append((type(d), d.windowTitle())), d.reject()))
        press(qtbot, here, key, mods)
        qtbot.waitUntil(lambda seen=seen: bool(seen), timeout=10_000)
        waiter.stop()
        assert seen == [(QFileDialog, title)]
    # Ctrl+E exports the labelled digits (none yet: it says so)
    with qtbot.waitSignal(win.draw.message, timeout=2_000) as said:
        press(qtbot, here, Qt.Key.Key_E, CTRL)
    assert said.args == ["No digits to export yet"]
    # F1 lists the shortcuts
    press(qtbot, here, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: win.menus.shortcuts_dialog is not None and win.menus.shortcuts_dialog.isVisible())
    win.menus.shortcuts_dialog.close()
    # and the views switch from here
    for i in range(4):
        press(qtbot, key_target(tabs.currentWidget()), Qt.Key.Key_1 + i, CTRL)
        assert tabs.currentIndex() == i and win.menus.actions[("view_draw", "view_train", "view_inspect", "view_lab")[i]].isChecked()


def test_escape_and_digit_keys_work_from_every_child_of_the_draw_view(win, qtbot):
    draw = win.draw
    children = [draw.canvas, draw.model_combo, draw.compare_combos[0], draw.width_slider, draw.eraser_box,
                draw.saliency_box, draw.digits_table, draw.buttons["undo"]]
    for n, child in enumerate(children, start=1):
        draw_one(draw.canvas)
        press(qtbot, child, Qt.Key.Key_Escape)
        assert draw.canvas.is_empty(), f"Esc from {type(child).__name__} did not clear"
        draw_one(draw.canvas)
        press(qtbot, child, Qt.Key.Key_1)
        assert len(draw.digits) == n and draw.digits.y[-1] == 1, f"1 from {type(child).__name__} did not label"
        assert draw.canvas.is_empty()
    # elsewhere the digit keys and Esc mean nothing to the drawing
    draw_one(draw.canvas)
    press(qtbot, draw.canvas, Qt.Key.Key_2, CTRL)
    press(qtbot, key_target(win.train), Qt.Key.Key_Escape)
    press(qtbot, key_target(win.train), Qt.Key.Key_3)
    assert not draw.canvas.is_empty() and len(draw.digits) == len(children)


def test_the_shortcuts_list_is_built_from_the_actions(win, qtbot):
    click_menu(qtbot, win, "Help", "Keyboard shortcuts")
    qtbot.waitUntil(lambda: win.menus.shortcuts_dialog is not None and win.menus.shortcuts_dialog.isVisible())
    table = win.menus.shortcuts_table
    listed = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    with_keys = [a for a in win.menus.actions.values() if a.shortcuts()]
    assert table.rowCount() == len(with_keys) == 25
    assert listed["File > Open image…"].startswith("Ctrl+O") and listed["Edit > Clear drawing"] == "Esc"
    assert listed["Edit > Label drawing as > 7"] == "7" and listed["View > Inspect"] == "Ctrl+3"
    assert listed["View > Lab"] == "Ctrl+4" and listed["View > Lessons"] == "Ctrl+5"
    assert listed["Help > What is this?"] == "Shift+F1"
    click_dialog_button(qtbot, win.menus.shortcuts_dialog, "Close")
    assert not win.menus.shortcuts_dialog.isVisible()


def click_menu(qtbot, win, menu_title: str, item: str) -> None:
    """Open ``menu_title`` in the menu bar with a click, then click ``item`` in it."""
    bar = win.menuBar()
    top = next(a for a in bar.actions() if a.text().replace("&", "") == menu_title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top).center())
    menu = top.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5_000)
    action = next(a for a in menu.actions() if a.text().replace("&", "") == item)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def test_about_names_the_versions_the_folders_and_the_device(win, qtbot):
    import platform

    import keras
    from PySide6 import __version__ as pyside

    from mnist_desk import __version__
    from mnist_desk.core.paths import user_data_dir, user_models_dir

    click_menu(qtbot, win, "Help", "About mnist_desk")
    box = modal_dialog(qtbot)
    assert isinstance(box, QMessageBox) and box.windowTitle() == "About mnist_desk"
    text = box.text()
    for needed in (f"mnist_desk {__version__}", keras.__version__, pyside, platform.python_version(),
                   str(user_models_dir()), str(user_data_dir())):
        assert needed in text, needed
    from importlib import metadata

    tf_dists = [d for d in ("tensorflow", "tensorflow-cpu") if _installed(metadata, d)]
    assert any(metadata.version(d) in text for d in tf_dists)
    assert "TensorFlow is still loading" in text  # this window did not preload it
    click_dialog_button(qtbot, box, "OK")
    # once TensorFlow is in, the status bar and About say where Keras trains
    win.preload_tensorflow()
    qtbot.waitUntil(lambda: win.tf_state.text().startswith("TensorFlow: ready"), timeout=180_000)
    assert win.tf_state.text() in ("TensorFlow: ready (CPU)", f"TensorFlow: ready ({win.training_device})")
    click_menu(qtbot, win, "Help", "About mnist_desk")
    box = modal_dialog(qtbot)
    assert win.training_device and f"<td>{win.training_device}</td>" in box.text()
    click_dialog_button(qtbot, box, "OK")


def _installed(metadata, dist: str) -> bool:
    try:
        metadata.version(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


def test_the_title_names_the_current_model(win, qtbot):
    assert win.windowTitle() == f"mnist_desk — {win.hub.current.name}"
    other = next(m for m in win.hub.models if m.path != win.hub.current.path)
    with qtbot.waitSignal(win.hub.currentChanged, timeout=20_000):
        choose(qtbot, win.draw.model_combo, str(other.path))
    assert win.windowTitle() == f"mnist_desk — {other.name}"


def test_dark_theme_recolours_window_and_plots_and_is_remembered(win, qtbot):
    import pyqtgraph as pg
    from PySide6.QtGui import QPalette

    from mnist_desk.ui.main_window import MainWindow

    plots = win.findChildren(pg.GraphicsView)
    assert len(plots) >= 3  # the bars, the curves, the inspect views
    light_window = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    click_menu(qtbot, win, "View", "Theme")  # opens the submenu's parent; the submenu is clicked below
    theme_menu = next(a.menu() for a in win.menuBar().actions()[2].menu().actions() if a.menu() is not None)
    qtbot.waitUntil(theme_menu.isVisible, timeout=5_000)
    dark = next(a for a in theme_menu.actions() if a.text().replace("&", "") == "Dark")
    qtbot.mouseClick(theme_menu, Qt.MouseButton.LeftButton, pos=theme_menu.actionGeometry(dark).center())
    assert win.menus.actions["theme_dark"].isChecked()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80 < light_window
    for view in plots:
        assert view.backgroundBrush().color().lightness() < 60, view
    axis = win.draw.bars.plot.getPlotItem().getAxis("left")
    assert axis.textPen().color().lightness() > 150
    # a new window starts dark
    second = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(second)
    assert second.theme == "dark" and second.menus.actions["theme_dark"].isChecked()
    second.close()
    win.set_theme("light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200
    assert all(v.backgroundBrush().color().lightness() > 240 for v in plots)


def test_closing_without_a_run_asks_nothing(win, qtbot):
    press(qtbot, win.draw.canvas, Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=5_000)
    assert QApplication.activeModalWidget() is None


def test_closing_during_a_run_asks_and_stop_and_save_keeps_the_model(win, qtbot):
    from mnist_desk.core.paths import user_models_dir
    from mnist_desk.core.training import TrainConfig

    train = win.train
    train.form.limit_spin.setValue(300)
    train.form.val_spin.setValue(100)
    for spin in (train.form.drawn_spin, train.form.pen_spin, train.form.non_digit_spin):
        spin.setValue(0)
    assert train.start(TrainConfig(arch="linear", epochs=200, batch_size=8, learning_rate=3e-3, val_size=100))
    qtbot.waitUntil(lambda: train.curves.point_count("batch_loss") >= 1, timeout=180_000)
    # Ctrl+Q asks; Keep training leaves everything as it was
    press(qtbot, win.draw.canvas, Qt.Key.Key_Q, CTRL)
    box = modal_dialog(qtbot)
    assert isinstance(box, QMessageBox) and "training run is going" in box.text()
    click_dialog_button(qtbot, box, "Keep training")
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    assert win.isVisible() and train.is_running()
    # the title bar's close asks again; Stop and save stops the run, saves it, then closes
    win.close()
    box = modal_dialog(qtbot)
    assert win.isVisible()
    click_dialog_button(qtbot, box, "Stop and save")
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=120_000)
    assert not train.is_running()
    saved = sorted(user_models_dir().glob("*.keras"))
    assert len(saved) == 1
    meta = json.loads(saved[0].with_suffix(".json").read_text())
    assert meta["stopped_early"] is True


def test_a_failed_save_on_closing_keeps_the_window_and_asks_again(win, qtbot):
    import shutil

    from mnist_desk.core.paths import user_models_dir
    from mnist_desk.core.training import TrainConfig

    train = win.train
    train.form.limit_spin.setValue(300)
    for spin in (train.form.drawn_spin, train.form.pen_spin, train.form.non_digit_spin):
        spin.setValue(0)
    assert train.start(TrainConfig(arch="linear", epochs=200, batch_size=8, learning_rate=3e-3, val_size=100))
    qtbot.waitUntil(lambda: train.curves.point_count("batch_loss") >= 1, timeout=180_000)
    # the models folder is damaged while the run goes: a file stands where the folder was
    models = user_models_dir()
    shutil.rmtree(models, ignore_errors=True)
    models.write_text("not a folder")
    win.close()
    click_dialog_button(qtbot, modal_dialog(qtbot), "Stop and save")
    qtbot.waitUntil(lambda: not train.is_running() and any(
        "could not" in m.lower() or "cannot" in m.lower() for m in win.errors), timeout=120_000)
    qtbot.wait(200)
    assert win.isVisible()  # not saved: the window stays
    # closing again does not drop the stopped model silently: it asks, and Stay keeps everything
    win.close()
    box = modal_dialog(qtbot)
    assert "could not be saved" in box.text()
    click_dialog_button(qtbot, box, "Stay")
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    assert win.isVisible()
    # with the folder mended, Save saves it and the window closes
    models.unlink()
    models.mkdir()
    win.close()
    click_dialog_button(qtbot, modal_dialog(qtbot), "Save")
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=60_000)
    assert len(list(models.glob("*.keras"))) == 1
