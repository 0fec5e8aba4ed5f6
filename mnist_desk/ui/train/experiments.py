"""The Experiments window, opened from the Train view: 2-4 runs that differ in chosen settings, compared fairly.

``core.experiments.run_experiment`` runs the variants one after another on the job runner's training
lane (the same lane, and so never at once with, the Train view's runs). The variant going is the live
run of :class:`LiveCurves`; each finished variant becomes an overlay (a ``RunRecord`` made from its
record) and a row of the results table, so all variants' curves lie over each other as they come.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import experiments as E
from ...core.errors import MnistDeskError
from ...core.memory import collect_garbage
from .. import jobs
from ..errors import in_user_terms
from ..help import explain
from .curves import LiveCurves, RunRecord

MAX_VARIANTS = 4


def _cell(v, column: str) -> str:
    if v is None:
        return "not reached" if column.startswith("s to") else "–"
    if column.endswith("acc"):
        return f"{v * 100:.2f}%"
    if isinstance(v, float):
        return f"{v:.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


class ExperimentsDialog(QDialog):
    """Pick or edit an experiment, run it, watch the variants' curves and fill the results table, export."""

    experimentFinished = Signal(object)  # the ExperimentResult, or None when it could not run (for tests)

    def __init__(self, train_tab, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Experiments")
        self.train_tab = train_tab
        self.task: jobs.Job | None = None
        self._abort = threading.Event()
        self.result: E.ExperimentResult | None = None
        self._records: list[RunRecord] = []
        self._variant_going = -1
        self._build()
        self.set_experiments(E.READY_MADE)
        self.resize(1150, 760)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.choice = QComboBox()
        explain(self.choice, "The seeds' comparisons, ready to run",
                "Ready-made experiments from the classic notebooks: each compares a few runs that differ in one "
                "setting (optimizer, learning rate, dropout, activation, architecture). The line below says what "
                "it shows; the table of runs can be edited.")
        self.choice.currentIndexChanged.connect(self._show_choice)
        self.shows = QLabel()
        self.shows.setWordWrap(True)
        self.images = QSpinBox()
        self.images.setRange(100, 60_000)
        self.images.setSingleStep(1000)
        explain(self.images, "Training images (the first N of MNIST's training set): fewer run faster",
                "How many MNIST training images every run learns from. All runs use the same ones, so the "
                "comparison stays fair; a few thousand are enough to see most differences in a minute or two.")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        explain(self.epochs, "How many passes through the training images each run makes",
                "An epoch is one pass through all the training images. More epochs show where the curves "
                "level off, or where a run starts to overfit; fewer finish sooner.")
        self.variants = QTableWidget(MAX_VARIANTS, 2)
        self.variants.setHorizontalHeaderLabels(["run", "settings that differ (name=value; ...)"])
        self.variants.verticalHeader().setVisible(False)
        self.variants.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.variants.setColumnWidth(0, 130)
        self.variants.setToolTip("2 to 4 runs: a label and the settings it changes, e.g. optimizer=sgd; "
                                 "learning_rate=0.01 or dropout=0.2 or activation=sigmoid or arch=linear. "
                                 "Leave a row's label empty to leave it out.")
        self.variants.setWhatsThis("The runs of the experiment, one per row: a label and the settings that row "
                                   "changes from the base model. Every run starts from the same random weights "
                                   "and sees the same images in the same order, so a difference in the results "
                                   "comes from the changed setting, not from chance.")
        self.variants.setFixedHeight(self.variants.horizontalHeader().sizeHint().height()
                                     + MAX_VARIANTS * self.variants.verticalHeader().defaultSectionSize() + 4)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self.start())
        explain(self.start_button, "Train every run of the experiment, one after the other",
                "Trains the runs in the table one after another; their curves appear in the plots below as they "
                "go, and their results in the table at the bottom.")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        explain(self.stop_button, "Stop the experiment after the current batch",
                "Stops the run going on; the runs already finished keep their results.")
        self.csv_button = QPushButton("Export CSV…")
        explain(self.csv_button, "Save every run's results and curves as a CSV table",
                "Writes the results (test accuracy, loss, time) and each epoch's figures to a CSV file, which a "
                "spreadsheet or a notebook (pandas) can open.")
        self.figure_button = QPushButton("Export figure…")
        explain(self.figure_button, "The variants' curves (and confusion matrices) as a PNG or SVG figure",
                "Saves the runs' curves side by side, and a confusion matrix per run (which digits each one "
                "mixes up), as one picture.")
        for b in (self.csv_button, self.figure_button):
            b.setEnabled(False)
        self.csv_button.clicked.connect(self._csv_dialog)
        self.figure_button.clicked.connect(self._figure_dialog)
        self.status = QLabel("Pick an experiment, then Start.")
        self.status.setWordWrap(True)
        self.curves = LiveCurves()
        self.table = QTableWidget(0, len(E.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(E.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        explain(self.table, "Each run's results: test accuracy, loss and time",
                "One row per finished run: its accuracy and loss on the test images it never trained on, and "
                "how long it took. Compare the rows to see what the changed setting did.")


        top = QHBoxLayout()
        top.addWidget(QLabel("Experiment"))
        top.addWidget(self.choice, 1)
        top.addWidget(QLabel("Training images"))
        top.addWidget(self.images)
        top.addWidget(QLabel("Epochs"))
        top.addWidget(self.epochs)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addWidget(self.status, 1)
        for b in (self.csv_button, self.figure_button):
            buttons.addWidget(b)
        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("Results (time to an accuracy: seconds of training until the validation accuracy, "
                            "measured after each epoch, first reached it)"))
        rl.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(results)
        split.setSizes([420, 200])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.shows)
        lay.addWidget(self.variants)
        lay.addLayout(buttons)
        lay.addWidget(split, 1)

    def set_experiments(self, experiments: dict[str, E.Experiment]) -> None:
        self._experiments = dict(experiments)
        self.choice.clear()
        for name in self._experiments:
            self.choice.addItem(name, name)

    def _show_choice(self) -> None:
        exp = self._experiments.get(self.choice.currentData())
        if exp is None:
            return
        self.shows.setText(f"{exp.shows} Ready-made on {exp.subset}.")
        self.images.setValue(exp.base.limit or 50_000)
        self.epochs.setValue(exp.base.config.epochs)
        for row in range(MAX_VARIANTS):
            v = exp.variants[row] if row < len(exp.variants) else None
            self.variants.setItem(row, 0, QTableWidgetItem(v.label if v else ""))
            self.variants.setItem(row, 1, QTableWidgetItem(E.format_settings(v.overrides) if v else ""))

    # ------------------------------------------------------------------ the experiment as edited
    def experiment(self) -> E.Experiment:
        """The chosen experiment with the edited variants, images and epochs; raises MnistDeskError if wrong."""
        exp = self._experiments[self.choice.currentData()]
        variants = []
        for row in range(MAX_VARIANTS):
            label = (self.variants.item(row, 0).text() if self.variants.item(row, 0) else "").strip()
            text = self.variants.item(row, 1).text() if self.variants.item(row, 1) else ""
            if label:
                variants.append(E.Variant(label, E.parse_settings(text, exp.base.config.arch)))
            elif text.strip():
                raise MnistDeskError(f"row {row + 1} has settings but no label: name the run")
        config = replace(exp.base.config, epochs=self.epochs.value())
        exp = replace(exp, base=replace(exp.base, limit=self.images.value(), config=config), variants=tuple(variants))
        exp.validate()
        return exp

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running()

    def start(self) -> bool:
        if self.is_running():
            return False
        if self.train_tab is not None and self.train_tab.is_running():
            self._say("A run is going in the Train view: stop it first (one training at a time).", error=True)
            return False
        try:
            exp = self.experiment()
        except MnistDeskError as exc:
            self._say(f"Cannot start: {exc}", error=True)
            return False

        self._abort = abort = threading.Event()

        def work(state: jobs.JobState) -> E.ExperimentResult:
            collect_garbage()  # the last run's graphs, freed here rather than in the window (see TrainTab)
            return E.run_experiment(exp, state.report, state.should_stop, abort)

        self.result, self._records, self._variant_going = None, [], -1
        self.table.setRowCount(0)
        self.curves.set_overlays([])
        self.curves.reset()
        self.curves.start()
        self.task = jobs.run(work, lane="train", name="experiment", on_result=self._on_result,
                             on_error=self._on_error, on_progress=self._on_progress, on_cancel=self._on_cancel,
                             on_done=self._on_done)
        self._set_running(True)
        self._say(f"Starting {exp.name}: {len(exp.variants)} runs, one after another…")
        return True

    def stop(self) -> None:
        if self.is_running():
            self.task.cancel()
            self.stop_button.setEnabled(False)
            self._say("Stopping after this batch…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.choice, self.variants, self.images, self.epochs):
            w.setEnabled(not running)
        if self.train_tab is not None:
            self.train_tab._update_start_button()

    def _on_progress(self, p: E.ExperimentProgress) -> None:
        where = f"run {p.index + 1}/{p.count}: {p.label}"
        if p.index != self._variant_going:
            self._variant_going = p.index
            self.curves.reset()
            self.curves.start()
        if p.progress is not None:
            self.curves.add_progress(p.progress)
            q = p.progress
            self.status.setText(f"{where} · epoch {q.epoch + 1}/{q.epochs} · {q.fraction_done * 100:.0f}%")
        elif p.stage is not None:
            self.status.setText(f"{where} · {p.stage}")
        elif p.result is not None:
            self._add_result(p.result)

    def _add_result(self, v: E.VariantResult) -> None:
        row = v.row()
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, column in enumerate(E.COLUMNS):
            self.table.setItem(r, c, QTableWidgetItem(_cell(row[column], column)))
        if v.metadata is not None:
            self._records.append(RunRecord.from_metadata(v.label, v.metadata))
        self.curves.reset()
        self.curves.set_overlays(self._records)

    def _on_result(self, result: E.ExperimentResult) -> None:
        self.result = result
        what = "Stopped" if result.stopped else "Done"
        self._say(f"{what}: {len(result.variants)} of {len(result.experiment.variants)} runs. Export the table "
                  "or the figure to keep them (the runs are not saved as models).")

    def _on_error(self, exc: BaseException) -> None:
        self._say(f"The experiment failed: {jobs.describe(exc)}", error=True)

    def _on_cancel(self) -> None:
        self._say("Stopped before training began.")

    def _on_done(self) -> None:
        self.task = None
        self.curves.stop()
        self.curves.set_live_visible(False)
        self._set_running(False)
        has = self.result is not None and bool(self.result.variants)
        self.csv_button.setEnabled(has)
        self.figure_button.setEnabled(has)
        self.experimentFinished.emit(self.result)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020; font-weight: bold" if error else "")
        self.status.setText(in_user_terms(text) if error else text)

    def shutdown(self) -> None:
        """The window is closing: stop the experiment without testing the variant going, and wait for it."""
        self._abort.set()
        if self.task is not None:
            self.task.cancel()
            self.task.wait(30)

    # ------------------------------------------------------------------ export
    def export(self, path: str | Path) -> Path | None:
        """Write the results as CSV, PNG or SVG by the path's suffix; None (with a message) if it cannot."""
        from ...core.experiment_figures import export_experiment_figure

        if self.result is None or not self.result.variants:
            self._say("No results to export yet.", error=True)
            return None
        path = Path(path)
        try:
            out = self.result.write_csv(path) if path.suffix.lower() == ".csv" else export_experiment_figure(self.result, path)
        except (OSError, MnistDeskError) as exc:
            self._say(f"Could not export: {exc}", error=True)
            return None
        self._say(f"Saved {out}")
        return out

    def _csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export results", f"{self.result.experiment.name}.csv", "CSV (*.csv)")
        if path:
            self.export(path if Path(path).suffix else path + ".csv")

    def _figure_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export figure", f"{self.result.experiment.name}.png",
                                                   "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self.export(path if Path(path).suffix else path + (".svg" if "svg" in chosen else ".png"))
