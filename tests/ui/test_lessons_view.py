"""The Lessons view in the real window: a step's button runs it where it belongs and the step shows the check."""

from __future__ import annotations

from mnist_desk.core import lessons as L
from tests.ui.support import click

TIMEOUT_MS = 180_000  # the first run imports TensorFlow
TINY = 300


def open_lessons(window, seed="000"):
    tab = window.lessons
    tab.limit = TINY
    window.tabs.setCurrentWidget(tab)
    tab.show_lesson(seed)
    return tab


def test_a_training_step_runs_in_the_train_view_and_shows_its_check_kept_across_sessions(qtbot, window):
    from mnist_desk.ui.main_window import MainWindow

    tab = open_lessons(window)
    panel = tab.panel("linear")
    assert panel.do_button.toolTip() and panel.do_button.whatsThis() and "93.0%" in panel.figure.text()
    with qtbot.waitSignal(tab.stepFinished, timeout=TIMEOUT_MS) as done:
        click(qtbot, panel.do_button)
        assert window.tabs.currentWidget() is window.train and window.train.is_running()
        assert window.train.form.preset_combo.currentData() == "linear"
        assert "Training" in panel.result.text()
        # one training at a time: another step's run is refused, and the Train view's reason is shown
        assert not tab.do_step("mlp")
        assert "already going" in tab.panel("mlp").result.text()
    seed, key, result = done.args
    assert (seed, key, result.status) == ("000", "linear", "finished")
    assert result.summary.startswith(f"1 epochs on {TINY:,} images")
    assert "val accuracy" in panel.result.text()
    assert panel.check.text().startswith(("✓", "✗")) and "notebook 93.0%" in panel.check.text()
    assert tab.list.item(0).text().endswith("(1/4)")

    # progress survives closing the window (same user folder) and opening it again
    window.close()
    again = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(again)
    again.show()
    try:
        tab2 = open_lessons(again)
        assert tab2.panel("linear").check.text() == panel.check.text()
        assert tab2.list.item(0).text().endswith("(1/4)")
        click(qtbot, tab2.restart_button)
        assert tab2.panel("linear").result.text() == "Not done yet." and tab2.panel("linear").check.text() == ""
        assert tab2.list.item(0).text().endswith("(0/4)")
    finally:
        again.close()
    third = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(third)
    try:
        assert open_lessons(third).panel("linear").result.text() == "Not done yet."  # the restart was kept
    finally:
        third.close()


def test_an_experiment_step_runs_in_the_experiments_window(qtbot, window):
    tab = open_lessons(window)
    with qtbot.waitSignal(tab.stepFinished, timeout=TIMEOUT_MS) as done:
        click(qtbot, tab.panel("compare").do_button)
        dialog = window.train.experiments
        assert dialog is not None and dialog.isVisible() and dialog.is_running()
        assert dialog.choice.currentData() == "linear-vs-mlp" and dialog.images.value() == TINY
    result = done.args[2]
    assert {"linear test accuracy", "MLP 256-256 test accuracy"} <= set(result.values)
    assert "MLP 256-256 test accuracy: app" in tab.panel("compare").check.text()
    assert dialog.table.rowCount() == 2


def test_every_show_step_opens_its_view_and_sub_view(qtbot, window):
    tab = window.lessons
    shown = 0
    for les in L.LESSONS:
        tab.show_lesson(les.seed)
        for step in les.steps:
            if not isinstance(step.action, L.ShowAction):
                continue
            assert tab.do_step(step.key)
            page = getattr(window, step.action.view)
            assert window.tabs.currentWidget() is page
            assert page.tabs.currentWidget().title.lower().startswith(step.action.subview)
            assert tab.panel(step.key).result.text().startswith("Done: opened")
            shown += 1
    assert shown >= 4
    window.tabs.setCurrentWidget(tab)  # the last sub-view (hidden features) stops computing once hidden
    from mnist_desk.ui import jobs

    qtbot.waitUntil(lambda: not jobs._live, timeout=TIMEOUT_MS)


def test_every_widget_of_the_view_explains_itself(window):
    from PySide6.QtWidgets import QLabel, QListWidget, QPushButton

    tab = window.lessons
    for kind in (QPushButton, QListWidget, QLabel):
        for w in tab.findChildren(kind):
            assert w.toolTip() and w.whatsThis(), f"{kind.__name__} {w.text() if hasattr(w, 'text') else ''!r}"
