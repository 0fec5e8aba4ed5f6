"""Preprocessing: switch each step of the MNIST recipe off and on, and see what the models then receive
and how they answer, beside the full recipe's picture."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ...core.lab import transforms as tr
from ...core.preprocess import STEP_EXPLANATIONS, RecipeSteps
from ..draw.prediction_view import ModelInputView, PredictionBars
from ..help import explain
from . import work
from .common import LabView
from .figures import images_figure

STEP_NAMES = {"crop": "Crop to the ink", "fit": "Scale to 20x20, keeping the aspect",
              "centre": "Centre of mass at the centre", "width": "Normalise the stroke width"}


class RecipeView(LabView):
    title = "Preprocessing"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.job = self.slot("recipe")
        self.steps = RecipeSteps()
        self.full_input: np.ndarray | None = None
        self.input_image: np.ndarray | None = None
        self.probs: list[np.ndarray] = []
        self._build()

    def _build(self) -> None:
        grid = QGridLayout()
        self.boxes: dict[str, QCheckBox] = {}
        for row, f in enumerate(fields(RecipeSteps)):
            box = QCheckBox(STEP_NAMES[f.name])
            box.setChecked(True)
            box.toggled.connect(lambda _on: self._steps_changed())
            explain(box, f"Switch this preprocessing step on or off: {STEP_NAMES[f.name].lower()}",
                    STEP_EXPLANATIONS[f.name] + " Switch it off to see what the models make of your drawing "
                    "without it: preprocessing makes a new drawing look like the data the models learned from.")
            note = QLabel(STEP_EXPLANATIONS[f.name])
            note.setWordWrap(True)
            note.setStyleSheet("color: #555")
            grid.addWidget(box, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(note, row, 1)
            self.boxes[f.name] = box
        grid.setColumnStretch(1, 1)
        row = QHBoxLayout()
        for text, on in (("All on (the MNIST recipe)", True), ("All off (the canvas shrunk to 28x28)", False)):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, on=on: self.set_all(on))
            explain(b, "Every step on: what the Draw view does" if on else
                    "Every step off: the canvas simply shrunk to 28x28 pixels",
                    "All on is the full MNIST recipe, used everywhere else in the app. All off hands the models "
                    "your canvas shrunk to 28x28 as it is: a small or off-centre drawing then looks nothing like "
                    "MNIST's digits, and the answers show how much the recipe matters.")
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.export_button)

        self.full_view = ModelInputView(scale=5)
        self.full_view.setToolTip("The full recipe: what the models see in the Draw view")
        self.full_view.setWhatsThis("Your drawing after every preprocessing step: exactly what the models read in "
                                    "the Draw view. Compare it with the picture beside it.")
        self.input_view = ModelInputView(scale=5)
        self.input_view.setToolTip("What the models see with the steps switched as above")
        self.input_view.setWhatsThis("Your drawing after only the steps ticked above: the picture the bars below "
                                     "answer for.")

        pics = QHBoxLayout()
        for title, view in (("Full recipe", self.full_view), ("With these steps", self.input_view)):
            col = QVBoxLayout()
            col.addWidget(QLabel(title), 0, Qt.AlignmentFlag.AlignHCenter)
            col.addWidget(view, 0, Qt.AlignmentFlag.AlignHCenter)
            pics.addLayout(col)
        pics.addStretch(1)
        self.answer = QLabel(" ")
        self.answer.setWordWrap(True)
        self.bars = PredictionBars()
        self.bars.setMinimumHeight(160)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addLayout(row)
        lay.addLayout(pics)
        lay.addWidget(self.answer)
        lay.addWidget(self.bars, 1)
        lay.addWidget(self.status)

    def set_all(self, on: bool) -> None:
        for box in self.boxes.values():
            box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(False)
        self._steps_changed()

    def _steps_changed(self) -> None:
        self.steps = RecipeSteps(**{name: box.isChecked() for name, box in self.boxes.items()})
        self.refresh()

    def refresh(self) -> None:
        if not self.active:
            return
        if self.canvas is None or not self.models:
            self.full_view.set_image(None)
            self.input_view.set_image(None)
            self.bars.clear()
            self.answer.setText("Draw a digit in the Draw view to see what each step of the recipe does to it.")
            return
        paths, names, grey, steps, cache = self.paths(), self.names(), self.canvas, self.steps, self.hub.cache

        def run(_state):
            full = work.answers(cache, paths[:1], grey, tr.Perturbation(), tr.AFTER)[0]
            return full, work.answers(cache, paths, grey, tr.Perturbation(), tr.AFTER, steps)

        self.job.run(run, lane="numpy", on_result=lambda r: self._got(names, steps, r), text="Preprocessing…")

    def _got(self, names: list[str], steps: RecipeSteps, result) -> None:
        full, (x, probs, empty) = result
        self.full_input, self.input_image, self.probs = full, x, probs
        self.full_view.set_image(full)
        self.input_view.set_image(x)
        self.bars.set_probabilities(list(zip(names, probs)))
        if x is None:
            self.answer.setText(f"With these steps there is nothing to read: {empty}.")
        else:
            self.answer.setText("  ".join(f"{n}: {int(np.argmax(p))} ({p.max():.0%})" for n, p in zip(names, probs)))
        self.shown.emit((steps, x, probs))

    def figure(self):
        if self.input_image is None or self.full_input is None:
            return None
        off = [STEP_NAMES[n].lower() for n, on in vars(self.steps).items() if not on]
        caption = "  ".join(f"{n}: {int(np.argmax(p))} ({p.max():.0%})" for n, p in zip(self.names(), self.probs))
        return images_figure([("full recipe", self.full_input, "gray"), ("these steps", self.input_image, "gray")],
                             "Without: " + (", ".join(off) if off else "nothing (the full recipe)"), caption)
