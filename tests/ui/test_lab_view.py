"""The Lab in the real window: a drawing made with the mouse, the shipped models compared, and each sub-view
driven by its own controls (sliders, switches, buttons, clicks on the units), checked by what it shows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from mnist_desk.core.lab import transforms as tr
from mnist_desk.core.preprocess import RecipeSteps, prepare_drawing
from tests.ui.support import drag

WAIT = 60_000


def seven(canvas):
    s = canvas.side
    drag(canvas, [(0.3 * s, 0.25 * s), (0.7 * s, 0.25 * s), (0.45 * s, 0.8 * s)])


@pytest.fixture
def lab(qtbot, window):
    """The window with a 7 drawn, the shipped cnn compared with mlp and linear, the Lab shown."""
    qtbot.waitUntil(lambda: window.hub.current is not None, timeout=WAIT)
    window.hub.select("cnn")
    qtbot.waitUntil(lambda: window.hub.current.name == "cnn", timeout=WAIT)
    window.draw.set_compare(["mlp", "linear"])
    seven(window.draw.canvas)
    qtbot.waitUntil(lambda: len(window.draw.last_probs) == 3, timeout=WAIT)
    window.tabs.setCurrentWidget(window.lab)
    return window


def shown(qtbot, view, kind: str, action):
    seen = []
    view.shown.connect(lambda what: seen.append(what))
    action()
    qtbot.waitUntil(lambda: any(isinstance(w, tuple) and w[0] == kind for w in seen), timeout=WAIT)
    return [w for w in seen if w[0] == kind][-1][1]


def test_sliders_move_every_models_answer_and_their_curves_cover_the_range(qtbot, lab, tmp_path):
    view = lab.lab.robustness
    sweeps = shown(qtbot, view, "sweeps", lambda: lab.lab.show_view("robustness"))
    assert set(sweeps) == set(tr.SLIDERS) and all(s.probs.shape == (3, 33) for s in sweeps.values())
    # the neutral position of every curve is the unchanged drawing's answer, exactly as the Draw view gave it
    draw_probs = [p for _, p in lab.draw.last_probs]
    k = view.klass
    for name, s in sweeps.items():
        i = int(np.argmin(np.abs(s.values - tr.SLIDERS[name].neutral)))
        assert np.array_equal(s.probs[:, i], [p[k] for p in draw_probs]), name
    curve = view.plots["shift_x"].curves[1].getData()
    assert len(curve[0]) == 33
    # the shift slider to its right end: the picture the models see moves, the answers change, the marker follows
    before = view.input_image.copy()
    slider = view.sliders["shift_x"]
    slider.setFocus()
    shown(qtbot, view, "answers", lambda: QTest.keyClick(slider, Qt.Key.Key_End))
    assert view.value("shift_x") == tr.SLIDERS["shift_x"].hi
    assert view.plots["shift_x"].marker.value() == tr.SLIDERS["shift_x"].hi
    assert not np.array_equal(view.input_image, before)
    assert view.probs[1][k] == pytest.approx(sweeps["shift_x"].probs[1, -1], abs=1e-6)
    assert "mlp:" in view.answer.text()
    # made before preprocessing, a shift (of 4 px: 40 on the canvas, so the 7 stays on it) is undone by the
    # recipe's centring
    grey = lab.draw.canvas.to_array()
    shown(qtbot, view, "answers", lambda: view.where_buttons.buttons()[0].click())
    shown(qtbot, view, "answers", lambda: slider.setValue(24))
    assert view.where == tr.BEFORE and view.value("shift_x") == 4
    assert np.abs(view.input_image - prepare_drawing(grey)).max() < 0.05
    # the curves export as a figure
    assert view.export(tmp_path / "sweeps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in view.export(tmp_path / "sweeps.svg").read_bytes()[:500]


def test_the_hiding_block_goes_where_the_picture_is_pressed(qtbot, lab):
    view = lab.lab.robustness
    shown(qtbot, view, "sweeps", lambda: lab.lab.show_view("robustness"))
    plain = view.input_image.copy()
    ink = np.argwhere(plain > 0.5)[len(np.argwhere(plain > 0.5)) // 2]  # a pixel of the 7's ink
    pos = QPoint(int(1 + (ink[1] + 0.5) * view.field.scale), int(1 + (ink[0] + 0.5) * view.field.scale))
    shown(qtbot, view, "answers", lambda: QTest.mouseClick(view.field, Qt.MouseButton.LeftButton, pos=pos))
    assert view.value("block") > 0
    assert view.input_image[ink[0], ink[1]] == 0 and view.input_image.sum() < plain.sum()


def test_switching_every_preprocessing_step_off_shows_the_plain_resize(qtbot, lab):
    view = lab.lab.recipe
    seen = []
    view.shown.connect(seen.append)
    lab.lab.show_view("preprocessing")
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    full = view.input_image.copy()
    grey = lab.draw.canvas.to_array()
    assert np.array_equal(full, prepare_drawing(grey))
    for box in view.boxes.values():
        seen.clear()
        box.click()
        qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == view.steps, timeout=WAIT)
    assert view.steps == RecipeSteps(crop=False, fit=False, centre=False, width=False)
    assert np.array_equal(view.input_image, prepare_drawing(grey, steps=view.steps))
    assert not np.array_equal(view.input_image, full)
    assert "mlp:" in view.answer.text()


def test_a_nudge_fools_the_attacked_model_within_its_budget_and_is_tried_on_the_others(qtbot, lab):
    view = lab.lab.nudges
    lab.lab.show_view("nudges")
    view.target.setCurrentIndex(3)
    view.epsilon.setFocus()
    result = shown(qtbot, view, "attack", lambda: view.epsilon.setValue(30))
    assert result.target == 3 and result.epsilon == pytest.approx(0.30)
    assert np.abs(result.perturbation).max() <= 0.30 + 1e-6
    assert 0 <= result.nudged.min() and result.nudged.max() <= 1
    assert result.fooled and "— fooled." in view.summary.text()
    assert view.table.rowCount() == 3 and view.table.item(0, 2).text().startswith("3")
    # each model's own smallest fooling budget fills the last column
    budgets = shown(qtbot, view, "smallest", view.search_button.click)
    assert len(budgets) == 3 and budgets[0] is not None and budgets[0] <= 0.30 + 0.005
    assert view.table.item(0, 3).text() == f"{budgets[0]:.3f}"


def test_the_linear_models_idea_of_a_digit_is_shown_beside_its_template(qtbot, lab):
    view = lab.lab.dream
    lab.lab.show_view("its idea")
    assert view.model_combo.currentText() == "cnn" and not view.template_box.isVisible()
    view.model_combo.setCurrentIndex(view.model_combo.findText("linear"))
    view.model_combo.activated.emit(view.model_combo.currentIndex())
    assert view.template_box.isVisible() and view.template_view.image is not None
    frames = shown(qtbot, view, "frames", view.run_button.click)
    assert len(frames) > 2 and not np.array_equal(frames[0], frames[-1])
    assert view.frame_view.image is not None and "probability of 7" in view.info.text()


def test_silencing_every_first_layer_unit_leaves_chance(qtbot, lab):
    view = lab.lab.breaking
    seen = []
    view.shown.connect(seen.append)
    lab.lab.show_view("break")
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert view.intact[1] > 0.9
    seen.clear()
    buttons = {b.text(): b for b in view.findChildren(type(view.export_button))}
    buttons["Silence all"].click()
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert seen[-1][1] <= 0.2 and view.accuracy.text().endswith(f"{seen[-1][1]:.1%}")
    assert "32 units silenced" in view.accuracy.text()
    assert view.units.panel.title.endswith(f"{len(view.silenced)} silenced") and len(view.silenced) == 32
    # every unit back, and noise on the last layer's weights instead
    seen.clear()
    buttons["Silence none"].click()
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert seen[-1][1] == view.intact[1]
    view.noise_layer.setCurrentIndex(view.noise_layer.count() - 1)
    view.noise_layer.activated.emit(view.noise_layer.currentIndex())
    seen.clear()
    view.noise.setFocus()
    QTest.keyClick(view.noise, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert seen[-1][1] < view.intact[1] and f"on {view.noise_layer.currentText()}" in view.accuracy.text()


def test_clearing_the_drawing_drops_what_was_being_worked_out_and_undo_brings_the_curves_back(qtbot, lab):
    rob = lab.lab.robustness
    shown(qtbot, rob, "sweeps", lambda: lab.lab.show_view("robustness"))
    lab.lab.show_view("nudges")
    nudges = lab.lab.nudges
    nudges.epsilon.setValue(40)
    qtbot.waitUntil(lambda: nudges.attack_job.busy(), timeout=WAIT)
    lab.draw.canvas.clear()  # while the attack runs
    qtbot.waitUntil(lambda: not nudges.attack_job.busy() and not nudges.status.is_busy, timeout=WAIT)
    qtbot.wait(300)
    assert nudges.drawing is None and nudges.result is None and nudges.nudged_view.image is None
    assert nudges.table.rowCount() == 0
    # back in Robustness: Undo gives the same drawing again, and its curves are drawn again
    lab.lab.show_view("robustness")
    assert not rob.sweeps
    shown(qtbot, rob, "sweeps", lab.draw.canvas.undo)
    assert set(rob.sweeps) == set(tr.SLIDERS)
