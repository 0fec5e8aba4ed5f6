"""The Train view's Export run… button: the run chosen in the history (or the Draw view's model's run) is written
as a script or a notebook through the file dialog; a file that cannot be written is said like any other error."""

from __future__ import annotations

import nbformat
import pytest

from tests.ui.support import click


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.train)
    return window.train


def row_of(tab, name: str) -> int:
    return next(i for i, rec in enumerate(tab.runs) if rec.label == name)


def choose_file(monkeypatch, path, kind: str) -> list:
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def dialog(parent, title, default, filters):
        asked.append((title, default, filters))
        return str(path), kind

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return asked


def test_export_run_writes_the_selected_runs_script_and_notebook(qtbot, tab, tmp_path, monkeypatch):
    button = tab.export_run_button
    assert button.toolTip() and button.whatsThis()
    tab.select_runs([row_of(tab, "linear")])
    assert button.isEnabled()

    asked = choose_file(monkeypatch, tmp_path / "linear-run", "Jupyter notebook (*.ipynb)")
    click(qtbot, button)
    assert asked == [("Export run", "linear.py", "Python script (*.py);;Jupyter notebook (*.ipynb)")]
    nb = nbformat.read(tmp_path / "linear-run.ipynb", as_version=4)  # the suffix of the kind chosen
    nbformat.validate(nb)
    code = "".join(c.source for c in nb.cells)
    assert "keras.regularizers.L2(0.0005)" in code and "EPOCHS = 20" in code  # the shipped linear model's run

    said = []
    tab.message.connect(said.append)
    choose_file(monkeypatch, tmp_path / "linear.py", "Python script (*.py)")
    click(qtbot, button)
    script = (tmp_path / "linear.py").read_text()
    assert 'the mnist_desk run "linear"' in script and "LEARNING_RATE = 0.004" in script
    compile(script, "linear.py", "exec")
    assert said and str(tmp_path / "linear.py") in said[-1]


def test_without_a_selection_the_draw_views_model_is_exported(qtbot, window, tab, tmp_path, monkeypatch):
    # no model in the Draw view (as before the default model has loaded) and no run chosen: nothing to export
    window.hub.current = None
    tab.select_runs([0])
    tab.select_runs([])
    assert not tab.export_run_button.isEnabled()
    with qtbot.waitSignal(window.hub.currentChanged, timeout=60_000):
        window.hub.select("mlp")
    current = window.hub.current
    assert current is not None and current.metadata.get("training")
    assert tab.export_run_button.isEnabled()
    choose_file(monkeypatch, tmp_path / "current.py", "Python script (*.py)")
    click(qtbot, tab.export_run_button)
    script = (tmp_path / "current.py").read_text()
    assert f'the mnist_desk run "{current.name}"' in script
    assert f"EPOCHS = {current.metadata['training']['epochs']}" in script


def test_a_file_that_cannot_be_written_is_said_in_the_users_terms(qtbot, window, tab, tmp_path, monkeypatch):
    tab.select_runs([row_of(tab, "mlp")])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    choose_file(monkeypatch, blocker / "run.py", "Python script (*.py)")
    click(qtbot, tab.export_run_button)
    assert not (blocker / "run.py").exists()
    assert window.errors and "Could not export the run" in window.errors[-1] and str(blocker) in window.errors[-1]
