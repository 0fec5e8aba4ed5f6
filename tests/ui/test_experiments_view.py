"""The Experiments window, opened from the Train view with its real buttons: a tiny experiment end to end."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QTableWidgetItem

from tests.ui.support import choose, click

TIMEOUT_MS = 180_000  # the first run imports TensorFlow; two runs, each tested on 10,000 images


def open_dialog(qtbot, window):
    tab = window.train
    window.tabs.setCurrentWidget(tab)
    click(qtbot, tab.experiments_button)
    dialog = tab.experiments
    assert dialog is not None and dialog.isVisible()
    return tab, dialog


def make_tiny(qtbot, dialog):
    """linear vs a 32-unit MLP on 300 images, two epochs: what a user can set in the window."""
    choose(qtbot, dialog.choice, "linear-vs-mlp")
    dialog.images.setValue(300)
    dialog.epochs.setValue(2)
    dialog.variants.setItem(1, 0, QTableWidgetItem("MLP 32"))
    dialog.variants.setItem(1, 1, QTableWidgetItem("hidden=32; learning_rate=0.01"))


def cell(table, row, column_name):
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return table.item(row, headers.index(column_name)).text()


def test_a_tiny_experiment_runs_from_the_buttons_and_fills_the_table(qtbot, window, tmp_path):
    tab, dialog = open_dialog(qtbot, window)
    make_tiny(qtbot, dialog)
    assert "Seed 000" in dialog.shows.text()
    with qtbot.waitSignal(dialog.experimentFinished, timeout=TIMEOUT_MS) as done:
        click(qtbot, dialog.start_button)
        # one training at a time: the Train view's Start is blocked, and says why
        assert dialog.is_running() and not tab.start_button.isEnabled()
        assert "experiment is running" in tab.start_button.toolTip()
        assert not tab.start()
        assert "experiment is running" in tab.result_label.text().lower()
    result = done.args[0]
    assert [v.label for v in result.variants] == ["linear", "MLP 32"]
    assert dialog.table.rowCount() == 2
    assert [cell(dialog.table, r, "variant") for r in range(2)] == ["linear", "MLP 32"]
    assert cell(dialog.table, 0, "parameters") == "7,850"
    assert cell(dialog.table, 1, "parameters") == f"{784 * 32 + 32 + 330:,}"
    for r in range(2):
        assert cell(dialog.table, r, "test acc").endswith("%")
        assert float(cell(dialog.table, r, "test acc").rstrip("%")) > 20  # learnt something from 300 images
        assert cell(dialog.table, r, "s to 99%") == "not reached"
    # both variants' curves are overlaid once over
    assert [r.label for r in dialog.curves.overlays] == ["linear", "MLP 32"]
    assert tab.start_button.isEnabled() and dialog.start_button.isEnabled()
    assert dialog.csv_button.isEnabled() and dialog.figure_button.isEnabled()
    rows = list(csv.DictReader(dialog.export(tmp_path / "r.csv").open()))
    assert [r["variant"] for r in rows] == ["linear", "MLP 32"]
    assert dialog.export(tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in dialog.export(tmp_path / "r.svg").read_bytes()[:2000]


def test_bad_settings_are_a_message_not_a_traceback(qtbot, window):
    _tab, dialog = open_dialog(qtbot, window)
    dialog.variants.setItem(1, 1, QTableWidgetItem("learning_rate=fast"))
    click(qtbot, dialog.start_button)
    assert not dialog.is_running()
    assert "learning_rate" in dialog.status.text() and "Traceback" not in dialog.status.text()
    dialog.variants.setItem(1, 0, QTableWidgetItem(""))  # one run left: not an experiment
    dialog.variants.setItem(1, 1, QTableWidgetItem(""))
    click(qtbot, dialog.start_button)
    assert not dialog.is_running() and "2 to 4" in dialog.status.text()


def test_an_experiment_cannot_start_while_the_train_view_trains(qtbot, window):
    from mnist_desk.core.training import TrainConfig

    tab, dialog = open_dialog(qtbot, window)
    tab.form.limit_spin.setValue(300)
    tab.form.val_spin.setValue(100)
    for spin in (tab.form.drawn_spin, tab.form.pen_spin, tab.form.non_digit_spin):
        spin.setValue(0)
    with qtbot.waitSignal(tab.runFinished, timeout=TIMEOUT_MS):
        assert tab.start(TrainConfig(arch="linear", epochs=200, batch_size=8, val_size=100))
        click(qtbot, dialog.start_button)
        assert not dialog.is_running()
        assert "Train view" in dialog.status.text()
        tab.stop()
