"""The Lessons view: a lesson per seed notebook on the left, its steps on the right.

A step's "Do it" sets the app up as the notebook did and runs it through the view that owns the work: a
training step loads its preset into the Train view and starts the step's ``TrainSpec`` there
(``TrainTab.start``), an experiment step runs in the Experiments window, a show step opens an Inspect or
Lab sub-view. When the run ends (``TrainTab.runFinished``, ``ExperimentsDialog.experimentFinished``) the
step shows the app's figure against the notebook's and the check. Only one run at a time: the Train view
refuses a second, and its message is shown in the step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core import lessons as L
from .progress import LessonProgress


def _tip(widget: QWidget, tip: str, what: str | None = None) -> QWidget:
    widget.setToolTip(tip)
    widget.setWhatsThis(what or tip)
    return widget


class StepPanel(QGroupBox):
    """One step: its explanation, the Do it button, the notebook's figure, the app's result and the check."""

    def __init__(self, number: int, step: L.Step, parent=None):
        super().__init__(f"{number}. {step.title}" + ("  (bad settings)" if step.bad_settings else ""), parent)
        self.step = step
        _tip(self, f"Step {number} of the lesson", "A step of the lesson: read the text, press Do it, then compare "
             "the app's figure with the notebook's.")
        lay = QVBoxLayout(self)
        self.text = _tip(QLabel(step.text), "What this step shows, in short",
                         "What the step is about and what to look at once it has run.")
        self.text.setWordWrap(True)
        self.do_button = _tip(QPushButton("Do it"), self._button_tip(),
                              "Sets the app up as the notebook did and runs the step (training, an experiment, or "
                              "opening a view). One training runs at a time.")
        figure = step.notebook_figure.text() if step.notebook_figure else "—"
        self.figure = _tip(QLabel(f"Notebook: {figure}"), "The figure the notebook reported",
                           "What the seed notebook reported for this step, and how it got it.")
        self.figure.setWordWrap(True)
        self.result = _tip(QLabel("Not done yet."), "What the app got when you ran this step",
                           "The app's own figures from the last time this step ran (kept between sessions).")
        self.result.setWordWrap(True)
        self.check = _tip(QLabel(""), "The app's figure against the notebook's: a tick when they agree",
                          "✓ when the app reproduced what the notebook reported (for a bad-settings step: when "
                          "the bad settings did as badly as expected), ✗ when not; then why the two differ.")
        self.check.setWordWrap(True)
        self.check.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.do_button)
        row.addWidget(self.figure, 1)
        lay.addWidget(self.text)
        lay.addLayout(row)
        lay.addWidget(self.result)
        lay.addWidget(self.check)

    def _button_tip(self) -> str:
        a = self.step.action
        if isinstance(a, L.TrainAction):
            return f"Train the {a.preset or a.spec.config.arch} preset in the Train view, as this step describes"
        if isinstance(a, L.ExperimentAction):
            return f"Run the ready-made experiment {a.name} in the Experiments window"
        return f"Open {a.view.capitalize()}" + (f" > {a.subview}" if a.subview else "")

    def show_result(self, result: L.StepResult | None) -> None:
        if result is None:
            self.result.setText("Not done yet.")
            self.check.setText("")
            self.check.setStyleSheet("")
            return
        if result.status == "shown":
            self.result.setText("Done: opened. " + result.summary)
            self.check.setText("")
            return
        values = ", ".join(f"{k} {L._fmt(k, v)}" for k, v in result.values.items() if not k.endswith("seconds"))
        seconds = result.values.get("seconds")
        took = f" in {seconds:.0f} s" if seconds is not None else ""
        self.result.setText(f"App ({result.status}{took}): {values or result.summary}")
        if self.step.check is not None and self.step.notebook_figure is not None:
            c = self.step.check(result)
            self.check.setText(c.line(self.step.notebook_figure.key))
            self.check.setStyleSheet("color: #1b7a1b" if c.passed else "color: #b00020")

    def show_busy(self, text: str) -> None:
        self.result.setText(text)
        self.check.setText("")
        self.check.setStyleSheet("")


class LessonsTab(QWidget):
    message = Signal(str)
    stepFinished = Signal(str, str, object)  # seed, step key, StepResult (for tests)

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.limit: int | None = None  # tests: train every step on this many images, one epoch
        self.progress = LessonProgress()
        self._pending: tuple[str, str, str] | None = None  # seed, step, "train" or "experiment": the run going
        self.panels: list[StepPanel] = []
        self._heard = None  # the Experiments window whose results this view hears
        self.lesson: L.Lesson = L.LESSONS[0]
        self.list = _tip(QListWidget(), "The lessons: one per seed notebook",
                         "Each lesson follows one of the five seed notebooks; the number of steps done is shown.")
        for les in L.LESSONS:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, les.seed)
            self.list.addItem(item)
        self.list.currentRowChanged.connect(lambda row: self.show_lesson(L.LESSONS[row].seed) if row >= 0 else None)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        _tip(self.title, "The lesson shown", "The lesson's notebook and subject.")
        self.intro = _tip(QLabel(), "What the notebook does", "What the seed notebook does, in short.")
        self.intro.setWordWrap(True)
        self.restart_button = _tip(QPushButton("Restart lesson"), "Forget this lesson's results and start it over",
                                   "Clears which steps of this lesson are done and what they gave; the models "
                                   "trained stay in your models.")
        self.restart_button.clicked.connect(self.restart)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.restart_button)
        self.steps_box = QWidget()
        self.steps_layout = QVBoxLayout(self.steps_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.steps_box)
        _tip(scroll, "The lesson's steps, in order", "Do the steps in order: later ones look at the models earlier "
             "ones trained.")
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.addLayout(head)
        rlay.addWidget(self.intro)
        rlay.addWidget(scroll, 1)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        # the lessons' titles wrap rather than scroll sideways, in a list a third of the width
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split.setSizes([300, 700])
        lay = QHBoxLayout(self)
        lay.addWidget(split)
        self._refresh_list()
        self.list.setCurrentRow(0)
        window.train.runFinished.connect(self._train_finished)

    # ------------------------------------------------------------------ showing
    def _refresh_list(self) -> None:
        for row, les in enumerate(L.LESSONS):
            done = sum(1 for s in les.steps if self.progress.result(les.seed, s.key) is not None)
            self.list.item(row).setText(f"{les.seed}  {les.title}  ({done}/{len(les.steps)})")

    def show_lesson(self, seed: str) -> None:
        self.lesson = L.lesson(seed)
        row = [les.seed for les in L.LESSONS].index(seed)
        if self.list.currentRow() != row:
            self.list.setCurrentRow(row)
        self.title.setText(f"Seed {seed}: {self.lesson.title}")
        self.intro.setText(self.lesson.intro)
        for p in self.panels:
            p.setParent(None)
            p.deleteLater()
        self.panels = []
        while self.steps_layout.count():
            self.steps_layout.takeAt(0)
        for i, step in enumerate(self.lesson.steps, 1):
            panel = StepPanel(i, step)
            panel.do_button.clicked.connect(lambda _=False, k=step.key: self.do_step(k))
            panel.show_result(self.progress.result(seed, step.key))
            self.panels.append(panel)
            self.steps_layout.addWidget(panel)
        self.steps_layout.addStretch(1)

    def panel(self, key: str) -> StepPanel:
        return next(p for p in self.panels if p.step.key == key)

    def restart(self) -> None:
        self.progress.restart(self.lesson.seed)
        for p in self.panels:
            p.show_result(None)
        self._refresh_list()
        self.message.emit(f"Lesson {self.lesson.seed} restarted.")

    # ------------------------------------------------------------------ doing a step
    def do_step(self, key: str) -> bool:
        """Run the shown lesson's step ``key`` in the view that owns it; False (said in the step) if it cannot."""
        step = self.lesson.step(key)
        a = step.action
        if isinstance(a, L.TrainAction):
            return self._train(step, a)
        if isinstance(a, L.ExperimentAction):
            return self._experiment(step)
        return self._show(step, a)

    def _train(self, step: L.Step, a: L.TrainAction) -> bool:
        w = self.window
        spec = L.step_spec(self.lesson.seed, step, self.limit, 1 if self.limit else None)
        train = w.train
        if not train.is_running() and not (train.experiments is not None and train.experiments.is_running()):
            if a.preset:
                train.form.apply_preset(a.preset)  # the form shows what runs (the spec below decides it)
            train.form.limit_spin.setValue(spec.limit or 0)
        w.tabs.setCurrentWidget(train)
        if not train.start(spec):
            self.panel(step.key).show_busy(f"Could not start: {train.result_label.text()}")
            w.tabs.setCurrentWidget(self)
            return False
        self._pending = (self.lesson.seed, step.key, "train")
        self.panel(step.key).show_busy("Training in the Train view…")
        self.message.emit(f"Lesson {self.lesson.seed}: {step.title}: training; watch the curves.")
        return True

    def _experiment(self, step: L.Step) -> bool:
        w = self.window
        exp = L.step_experiment(step, self.limit, 1 if self.limit else None)
        train = w.train
        if train.is_running():
            train._say("A run is going in the Train view: stop it first (one training at a time).", error=True)
            self.panel(step.key).show_busy(f"Could not start: {train.result_label.text()}")
            return False
        dialog = train.open_experiments()
        if dialog.is_running():
            self.panel(step.key).show_busy("Could not start: an experiment is already running.")
            return False
        dialog.choice.setCurrentIndex(dialog.choice.findData(exp.name))
        dialog.images.setValue(exp.base.limit or dialog.images.value())
        dialog.epochs.setValue(exp.base.config.epochs)
        if not dialog.start():
            self.panel(step.key).show_busy(f"Could not start: {dialog.status.text()}")
            return False
        if self._heard is not dialog:  # the window is made once, when first opened: listen to it once
            dialog.experimentFinished.connect(self._experiment_finished)
            self._heard = dialog
        self._pending = (self.lesson.seed, step.key, "experiment")
        self.panel(step.key).show_busy("Running in the Experiments window…")
        return True

    def _show(self, step: L.Step, a: L.ShowAction) -> bool:
        w = self.window
        model = self.progress.models.get(self.lesson.seed)
        if model and w.hub.find(model) is not None:
            w.hub.select(model)
        page = getattr(w, a.view)
        w.tabs.setCurrentWidget(page)
        if a.subview:
            page.show_view(a.subview)
        where = f"{a.view.capitalize()}" + (f" > {a.subview}" if a.subview else "")
        self._record(self.lesson.seed, step.key, L.StepResult({}, "shown", f"{where} on {model or 'the model in use'}."))
        return True

    # ------------------------------------------------------------------ results
    def _train_finished(self, out) -> None:
        if self._pending is None or self._pending[2] != "train":
            return
        seed, key, _ = self._pending
        self._pending = None
        if out is None:
            self._panel_if_shown(seed, key, "Did not run: see the Train view's message.")
            return
        self._record(seed, key, L.result_of_run(out), out.stored.name if out.stored is not None else None)

    def _experiment_finished(self, result) -> None:
        if self._pending is None or self._pending[2] != "experiment":
            return
        seed, key, _ = self._pending
        self._pending = None
        if result is None:
            self._panel_if_shown(seed, key, "The experiment did not run: see its window.")
            return
        self._record(seed, key, L.result_of_experiment(result))

    def _panel_if_shown(self, seed: str, key: str, text: str) -> None:
        if self.lesson.seed == seed:
            self.panel(key).show_busy(text)

    def _record(self, seed: str, key: str, result: L.StepResult, model: str | None = None) -> None:
        self.progress.record(seed, key, result, model)
        if self.lesson.seed == seed:
            self.panel(key).show_result(result)
        self._refresh_list()
        self.stepFinished.emit(seed, key, result)

    def shutdown(self) -> None:
        pass
