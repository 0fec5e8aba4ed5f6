"""Adversarial nudges: the smallest change to your drawing, pixel by pixel, that makes the main model answer a
digit you pick (one signed step, or many small ones), what it looks like, and whether the same nudged
picture fools the other models too."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.lab.attacks import FGSM, ITERATIVE
from ..help import explain
from ..inspect.common import LRU, image_key, model_key
from . import work
from .common import LabView, PictureView, titled
from .figures import images_figure

METHODS = {ITERATIVE: "many small steps (iterative)", FGSM: "one step (FGSM)"}
EPSILON_STEPS = 50  # the budget slider: 0 to 0.5 of the pixel range in steps of 0.01


class NudgeView(LabView):
    title = "Nudges"

    def __init__(self, hub, parent=None):
        super().__init__(hub, parent)
        self.attack_job = self.slot("attack")
        self.search_job = self.slot("smallest budget")
        self.result = None
        self.transfer: np.ndarray | None = None
        self.result_models: list = []  # the models the attack's answers belong to (the list may change since)
        self.smallest: LRU = LRU(32)  # each model's smallest budget, by (models, drawing, target, method)
        self._attacked_key = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.attack)
        self._build()

    def _build(self) -> None:
        row = QHBoxLayout()
        row.addWidget(QLabel("Make it answer"))
        self.target = QComboBox()
        for d in range(10):
            self.target.addItem(str(d), d)
        self.target.setCurrentIndex(3)
        self.target.activated.connect(lambda _i: self._timer.start())
        explain(self.target, "The digit the nudge tries to make the models answer",
                "The wrong answer the attack aims for. The nudge changes each pixel of your drawing a little, in "
                "the direction that raises this digit's score most (found with the gradient, the same tool that "
                "trains the network). Some digits are much easier targets than others.")
        row.addWidget(self.target)
        self.method = QComboBox()
        for key, text in METHODS.items():
            self.method.addItem(text, key)
        self.method.activated.connect(lambda _i: self._timer.start())
        explain(self.method, "How the nudge is made: one step, or many small steps",
                "One step (FGSM, the fast gradient sign method) moves every pixel by the full budget at once, "
                "in the direction of the gradient's sign. Many small steps follow the gradient repeatedly within "
                "the budget: slower, but it fools models with a smaller change.")
        row.addWidget(self.method)
        row.addWidget(QLabel("budget ε"))
        self.epsilon = QSlider(Qt.Orientation.Horizontal)
        self.epsilon.setRange(0, EPSILON_STEPS)
        self.epsilon.setValue(10)
        self.epsilon.setToolTip("How far each pixel may move (0 = not at all, 1 = from black to white)")
        self.epsilon.setWhatsThis("The attack's budget, ε (epsilon): the most any single pixel may change. A small "
                                  "budget leaves the drawing looking the same to you, yet often changes the "
                                  "model's answer: an adversarial example. It shows that networks read digits "
                                  "quite differently from people.")
        self.epsilon.valueChanged.connect(self._epsilon_moved)
        row.addWidget(self.epsilon, 1)
        self.epsilon_label = QLabel()
        self.epsilon_label.setMinimumWidth(40)
        row.addWidget(self.epsilon_label)
        self.search_button = QPushButton("Smallest ε for each model")
        self.search_button.setToolTip("For each model, the smallest budget with which an attack made against that "
                                      "model makes it answer the chosen digit")
        self.search_button.setWhatsThis("Searches, for every model, the smallest budget ε at which a nudge made "
                                        "against that model makes it answer the chosen digit. A larger number "
                                        "means a model that is harder to fool (more robust).")
        self.search_button.clicked.connect(self.find_smallest)
        row.addWidget(self.search_button)
        row.addWidget(self.export_button)

        self.clean_view = PictureView(tip="What the models see of your drawing")
        self.change_view = PictureView(tip="The nudge: red where ink is added, blue where it is taken away")
        self.nudged_view = PictureView(tip="Your drawing nudged: the picture every model is shown")
        pics = QHBoxLayout()
        pics.addLayout(titled("Your drawing", self.clean_view))
        pics.addLayout(titled("+ the nudge", self.change_view))
        pics.addLayout(titled("= what the models see", self.nudged_view))
        pics.addStretch(1)
        self.summary = QLabel(" ")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["model", "answer for your drawing", "answer for the nudged one",
                                              "smallest ε that fools it"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(130)
        explain(self.table, "Each model's answer before and after the nudge, and the smallest budget that fools it",
                "One row per model: what it answers for your drawing, what it answers for the nudged drawing, "
                "and (after Smallest ε) how small a nudge is enough to fool it. A nudge made against one model "
                "often fools others too: attacks transfer.")

        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addLayout(pics)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        lay.addStretch(1)
        lay.addWidget(self.status)
        self._epsilon_moved()

    # ------------------------------------------------------------------ settings
    def eps(self) -> float:
        return self.epsilon.value() / 100

    def _epsilon_moved(self) -> None:
        self.epsilon_label.setText(f"{self.eps():.2f}")
        self._timer.start()

    def _key(self):
        return (tuple(model_key(m) for m in self.models), image_key(self.drawing), self.target.currentData(),
                self.method.currentData())

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        if self.drawing is None or not self.models:
            self.result = None
            for v in (self.clean_view, self.change_view, self.nudged_view):
                v.set_image(None)
            self.table.setRowCount(0)
            self.summary.setText("Draw a digit in the Draw view, pick the digit it should be mistaken for, and move "
                                 "the budget: the smallest pixel changes that fool the model appear here.")
            return
        self.clean_view.set_image(self.drawing)
        self.attack()

    def attack(self) -> None:
        if not self.active or self.drawing is None or not self.models:
            return
        key = self._key() + (self.eps(),)
        if key == self._attacked_key and self.result is not None:
            return
        models, paths, x, cache = list(self.models), self.paths(), self.drawing, self.hub.cache
        target, eps, method = self.target.currentData(), self.eps(), self.method.currentData()
        self.attack_job.run(lambda st: work.nudge(cache, paths, x, target, eps, method, st), lane="tensorflow",
                            on_result=lambda r: self._got_attack(key, models, r), cancellable=True,
                            text=f"Nudging toward {target} with ε = {eps:.2f} against {models[0].name}…")

    def find_smallest(self) -> None:
        if self.drawing is None or not self.models:
            return
        key, paths, x, cache = self._key(), self.paths(), self.drawing, self.hub.cache
        target, method = self.target.currentData(), self.method.currentData()
        self.search_job.run(lambda st: work.smallest_epsilons(cache, paths, x, target, method, st), lane="tensorflow",
                            on_result=lambda r: self._got_smallest(key, r), cancellable=True,
                            text=f"Searching each model's smallest budget toward {target}…")

    def _got_attack(self, key, models: list, result) -> None:
        self._attacked_key = key
        self.result, self.transfer = result
        self.result_models = models
        r = self.result
        self.change_view.set_image(r.perturbation, diverging=True)
        self.nudged_view.set_image(r.nudged)
        fooled = [m.name for m, p in zip(models, self.transfer) if int(np.argmax(p)) == r.target]
        main = models[0].name
        verdict = f"{main} now answers {int(np.argmax(r.probs))}" + (" — fooled." if r.fooled else ", not fooled yet.")
        others = [m.name for m in models[1:]]
        also = ""
        if others:
            moved = [n for n in fooled if n != main]
            also = (f" Made against {main} only, the same picture also fools {', '.join(moved)}." if moved
                    else f" Made against {main} only, it fools none of {', '.join(others)}.")
        self.summary.setText(f"Each pixel moved by at most {r.epsilon:.2f}. {verdict}{also}")
        self._fill_table()
        self.shown.emit(("attack", r))

    def _got_smallest(self, key, result) -> None:
        self.smallest[key] = result
        self._fill_table()
        self.shown.emit(("smallest", result))

    def _fill_table(self) -> None:
        if self.result is None:
            return
        models = self.result_models
        clean = [self.hub.net(m) for m in models]
        key = self._key()
        smallest = self.smallest.get(key) if key[0] == tuple(model_key(m) for m in models) else None
        self.table.setRowCount(len(models))
        for i, m in enumerate(models):
            before = "–"
            if clean[i] is not None:
                p0 = clean[i].predict((self.result.nudged - self.result.perturbation)[None])[0]  # the attacked drawing
                before = f"{int(np.argmax(p0))} ({p0.max():.0%})"
            p = self.transfer[i]
            after = f"{int(np.argmax(p))} ({p.max():.0%}; {p[self.result.target]:.0%} for {self.result.target})"
            eps = "–" if smallest is None else ("not within 0.5" if smallest[i] is None else f"{smallest[i]:.3f}")
            for j, text in enumerate((m.name + (" (attacked)" if i == 0 else ""), before, after, eps)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def figure(self):
        if self.result is None:
            return None
        r = self.result
        models = self.result_models
        caption = "  ".join(f"{m.name}: {int(np.argmax(p))}" for m, p in zip(models, self.transfer))
        return images_figure([("your drawing", r.nudged - r.perturbation, "gray"), ("the nudge", r.perturbation, "RdBu_r"),
                              ("nudged", r.nudged, "gray")],
                             f"Nudged toward {r.target} against {models[0].name}, ε = {r.epsilon:.2f}", caption)
