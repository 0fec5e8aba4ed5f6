"""The Train view: pick data, architecture and hyperparameters, train in a worker thread while curves grow.

``core.runs.run_training`` is a plain function (data loading, training, test evaluation, the numpy
snapshot for the canvas and the atomic save all happen in the thread that calls it); the view runs it
on the job runner's training lane and only appends progress reports to numpy buffers, which a ~30 Hz
timer draws. Stop ends training within one batch and keeps the model (Save stores it).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import store
from ...core.confusion import confusion_text
from ...core.errors import DataError, MnistDeskError
from ...core.memory import collect_garbage
from ...core.runs import RunMetadata, RunOutcome, TrainSpec, run_training, save_outcome, spec_from_metadata
from ...core.timeline import Timeline
from .curves import LiveCurves, RunRecord, export_figure
from .form import TrainForm
from .. import jobs
from ..errors import in_user_terms
from ..help import explain
from ..remembered import open_settings
from .format import confusion_summary, describe_training, draw_model_choice, fmt_seconds, format_value, pct

log = logging.getLogger(__name__)
HISTORY_COLUMNS = ("run", "architecture", "epochs", "time", "val acc", "test acc", "status", "hyperparameters", "training")


def _free_then_train(spec: TrainSpec, state: jobs.JobState, name: str, abort: threading.Event,
                     timeline: Timeline) -> RunOutcome:
    seconds = collect_garbage()
    log.debug("garbage collected before a run in %.0f ms", seconds * 1000)
    return run_training(spec, state.report, state.should_stop, save_name=name, abort=abort, timeline=timeline)


# ---------------------------------------------------------------------------- the view
class TrainTab(QWidget):
    message = Signal(str)
    problem = Signal(str)  # a user error: what went wrong and what to do (the window shows it until closed)
    # After a run's thread has ended (Start is enabled again): its RunOutcome, or None when it could not
    # run (bad data file...; the message is shown). For tests and benchmarks.
    runFinished = Signal(object)
    saveFinished = Signal(bool)  # after save_last's save: whether the model was stored (closing waits for it)

    def __init__(self, hub, draw_tab=None, parent=None):
        super().__init__(parent)
        self.hub = hub
        hub.momentChanged.connect(self._mark_moment)
        self.draw_tab = draw_tab
        self.task: jobs.Job | None = None
        self._run_timeline, self._lr_marked = Timeline(), 0  # the run going on (or the last one)
        self._save_task: jobs.Job | None = None
        self._abort = threading.Event()
        self._closing = False
        self._last_progress = None
        self._progress_shown = None
        self._run_ended = False  # the run going has ended: its running figures must not come back
        self._bar_set_at = 0.0
        self.last_outcome: RunOutcome | None = None
        self.runs: list[RunRecord] = []
        self._run_name = "cnn"
        self._batch_seconds: list[float] = []  # elapsed time of each batch report of the run going
        self._outcome_of_run: RunOutcome | None = None
        self._last_record: RunRecord | None = None
        self.experiments = None  # the Experiments window (ui/train/experiments.py), made when first opened
        self._build()
        self.form.apply_arch("cnn")
        self.form.restore(open_settings())
        self._load_saved_runs()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.form = TrainForm()
        self.form.message.connect(self.message)
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # wide enough for the form (no horizontal scrolling), not wider
        width = self.form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth()
        scroll.setMinimumWidth(width)
        scroll.setMaximumWidth(width + 40)

        # run controls, always visible under the form
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("Name of the model in your store (made unique if taken)")
        self.name_edit.setWhatsThis("The name the trained model is saved under; it then appears in the Draw view's "
                                    "model list. Leave it empty to use the name shown in grey.")
        # The placeholder is the name a run will really be saved under ("cnn-2" when "cnn" is taken).
        self.form.defaultNameChanged.connect(lambda _name: self._show_default_name())
        self._show_default_name()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train in the background; the canvas keeps working")
        self.start_button.setWhatsThis("Starts training the model set up above. The curves on the right fill in "
                                       "as it learns; you can keep drawing meanwhile. At the end the model is "
                                       "tested on MNIST's 10,000 test images and saved.")
        self.start_button.clicked.connect(lambda: self.start())
        self.form.dataChecked.connect(lambda _problem: self._update_start_button())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch and keep the model as it is")
        self.stop_button.setWhatsThis("Stops the run early. The model keeps what it has learned so far: a "
                                      "half-trained network is already much better than a random one. Save model "
                                      "keeps it.")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.save_button = QPushButton("Save model")
        self.save_button.setToolTip("Save a stopped run's model to your store (finished runs are saved at once)")
        self.save_button.setWhatsThis("Saves a run you stopped, with its weights and history, so the other views "
                                      "can use it. Finished runs are saved by themselves.")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_last)
        self.use_button = QPushButton("Use for drawing")
        self.use_button.setToolTip("Make the Draw view read drawings with this run's model: the run selected in the "
                                   "history, else the latest saved run (a finished run replaces the Draw view's "
                                   "model by itself only when its test accuracy is higher)")
        self.use_button.setWhatsThis("Makes this run's model the one the Draw view reads your drawings with (and "
                                     "the one Inspect and Lab look at), so you can try out what you trained.")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_for_drawing)
        # Changing the learning rate while a run goes (as ConvNetJS allows): marked on the curves and timeline.
        self.lr_now_edit = QLineEdit()
        self.lr_now_edit.setPlaceholderText("e.g. 0.0003")
        self.lr_now_edit.setToolTip("A new learning rate for the run going on, from its next batch "
                                    "(only with a constant learning-rate schedule)")
        self.lr_now_button = QPushButton("Change")
        self.lr_now_button.setToolTip(self.lr_now_edit.toolTip())
        for w in (self.lr_now_edit, self.lr_now_button):
            w.setWhatsThis("Change the learning rate (the size of each weight update) while training runs, and "
                           "watch the loss curve react: a much larger rate makes it jump or shoot up, a smaller one "
                           "makes it settle. The change is marked on the curves and the timeline.")
        self.lr_now_button.clicked.connect(self.change_learning_rate)
        self.lr_now_edit.returnPressed.connect(self.change_learning_rate)
        self._set_lr_change_enabled(False)
        run_box = QGroupBox("Run")
        explain(run_box, "Start, stop and save a training run",
                "A run trains one model with the settings above. Training happens in the background: the other "
                "views keep working, and the timeline fills with snapshots of the model as it learns.")
        rl = QVBoxLayout(run_box)
        nrow = QHBoxLayout()
        nrow.addWidget(QLabel("Name"))
        nrow.addWidget(self.name_edit, 1)
        rl.addLayout(nrow)
        brow = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.save_button):
            brow.addWidget(b)
        rl.addLayout(brow)
        lrow = QHBoxLayout()
        lrow.addWidget(QLabel("Learning rate now"))
        lrow.addWidget(self.lr_now_edit, 1)
        lrow.addWidget(self.lr_now_button)
        rl.addLayout(lrow)
        rl.addWidget(self.use_button)
        self.experiments_button = QPushButton("Experiments…")
        self.experiments_button.setToolTip("Compare 2-4 runs that differ in chosen settings, from the same "
                                           "starting weights: the notebooks' comparisons, ready to run")
        self.experiments_button.setWhatsThis("Opens the Experiments window: runs that differ in one setting (sgd "
                                             "against adam, with or without dropout…), started from the same "
                                             "weights on the same images, so any difference comes from that "
                                             "setting. It is the fair way to compare.")
        self.experiments_button.clicked.connect(self.open_experiments)
        rl.addWidget(self.experiments_button)

        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        left.addWidget(run_box)

        # progress, curves, results, history
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("idle")
        explain(self.progress_bar, "How far the run has got",
                "The share of the run's batches done so far; the line beside it gives the epoch, the speed and "
                "the latest loss and accuracy.")
        self.stats_label = QLabel("Choose data and a model, then Start.")
        # its text changes ten times a second: its size hint must not re-lay the window each time
        self.stats_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.curves = LiveCurves()
        self.curves.timer.timeout.connect(self._tick_status)
        self.x_axis_combo = QComboBox()
        self.x_axis_combo.addItems(["epochs", "seconds"])
        self.x_axis_combo.setToolTip("Plot against epochs or training time (compare optimizers by time)")
        self.x_axis_combo.setWhatsThis("What the curves' horizontal axis counts: epochs (passes through the "
                                       "data) or seconds. An optimizer that learns more per epoch may still be "
                                       "slower per second: seconds compare what it costs you.")
        self.x_axis_combo.currentTextChanged.connect(self.curves.set_x_axis)
        export = QPushButton("Export curves…")
        export.setToolTip("Save the shown runs' curves as a PNG or SVG figure (matplotlib)")
        export.setWhatsThis("Saves the curves shown (the run going on and the runs selected in the history) as a "
                            "picture for a report or slides.")
        export.clicked.connect(self._export_dialog)
        self.export_run_button = QPushButton("Export run…")
        self.export_run_button.setToolTip("Save the run selected in the history (else the Draw view's model's run) as "
                                          "a Python script or a Jupyter notebook that trains it with plain Keras")
        self.export_run_button.setWhatsThis(
            "Writes the selected run (the latest one if several are selected; with none selected, the run that "
            "trained the Draw view's model) as a standalone Python script or Jupyter notebook. It needs only "
            "keras, numpy and matplotlib: the same layers, optimizer, learning-rate schedule, batch size, epochs, "
            "seed and validation split, on MNIST. What only this app can add (your own digits, drawn digits, "
            "augmentation) is left out, and the file says so at the top.")
        self.export_run_button.clicked.connect(self._export_run_dialog)
        top = QHBoxLayout()
        self.progress_bar.setFixedWidth(180)
        top.addWidget(self.progress_bar)
        top.addWidget(self.stats_label, 1)
        curves_panel = QWidget()
        cv = QVBoxLayout(curves_panel)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addLayout(top)
        cv.addWidget(self.curves, 1)

        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history_table = QTableWidget(0, len(HISTORY_COLUMNS))
        self.history_table.setHorizontalHeaderLabels(list(HISTORY_COLUMNS))
        self.history_table.verticalHeader().setVisible(False)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.history_table.setToolTip("Select two or more runs (Ctrl/Shift+click) to overlay their curves")
        self.history_table.setWhatsThis("Every run trained here, with its settings and its test accuracy (the "
                                        "share of MNIST's 10,000 test images it reads correctly, images it never "
                                        "trained on). Select runs to overlay their curves and compare them.")

        hh = self.history_table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the long texts last, from a fixed start width (the full text is in the tooltip)
        hh.setSectionResizeMode(HISTORY_COLUMNS.index("hyperparameters"), QHeaderView.ResizeMode.Interactive)
        self.history_table.setColumnWidth(HISTORY_COLUMNS.index("hyperparameters"), 180)
        hh.setStretchLastSection(True)
        self.history_table.itemSelectionChanged.connect(self._on_history_selection)
        self.history_table.itemSelectionChanged.connect(self._update_use_button)
        self.history_table.itemSelectionChanged.connect(self._update_export_run_button)
        self.hub.currentChanged.connect(self._update_export_run_button)
        self._update_export_run_button()
        bottom = QWidget()
        bv = QVBoxLayout(bottom)
        bv.setContentsMargins(0, 0, 0, 0)
        bv.addWidget(self.result_label)
        hl = QLabel("Run history: select runs to overlay their curves")
        hl.setStyleSheet("font-weight: bold")
        hrow = QHBoxLayout()
        hrow.addWidget(hl, 1)
        hrow.addWidget(QLabel("x axis"))
        hrow.addWidget(self.x_axis_combo)
        hrow.addWidget(export)
        hrow.addWidget(self.export_run_button)
        bv.addLayout(hrow)
        bv.addWidget(self.history_table, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(curves_panel)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([440, 280])

        lay = QHBoxLayout(self)
        lay.addLayout(left, 0)
        lay.addWidget(split, 1)

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running()

    def start(self, config=None) -> bool:
        """Start a run with ``config`` (default: the form), or a whole ``TrainSpec`` (a lesson's step: its data
        too). False, with a message, if it cannot start."""
        if self.is_running():
            self._say("A run is already going: stop it first.", error=True)
            return False
        if self.experiments is not None and self.experiments.is_running():
            self._say("An experiment is running (Experiments…): stop it first (one training at a time).", error=True)
            return False
        if self._closing:
            return False
        given = config if isinstance(config, TrainSpec) else None
        try:
            config = given.config if given is not None else config if config is not None else self.form.config_from_form()
            config.validate()
        except (ValueError, MnistDeskError) as exc:
            self._say(f"Cannot start: {exc}", error=True)
            return False
        name = self.name_edit.text().strip() or self.form.default_name
        my_path = getattr(getattr(self.draw_tab, "digits", None), "path", None)
        spec = given or TrainSpec(config, data_path=self.form.data_path(), limit=self.form.limit(),
                                  use_my_digits=self.form.my_digits_box.isChecked(),
                                  my_digits_path=str(my_path) if my_path else None, drawn_style=self.form.drawn_style(),
                                  pen_digits=self.form.pen_digits(), not_digits=self.form.not_digits())
        # The last run's Keras model can no longer be saved from here: the run frees it first (see
        # core/memory.py), on the training thread, where its teardown does not hold up the window.
        self.last_outcome = None
        self._abort = threading.Event()
        abort = self._abort
        timeline = Timeline()
        task = jobs.Job(lambda state: _free_then_train(spec, state, name, abort, timeline), lane="train", name="train")
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        task.done.connect(lambda t=task, tl=timeline: self._on_done(t, tl))
        self.task = task
        self._run_name = name
        self._run_timeline, self._lr_marked = timeline, 0
        self._set_lr_change_enabled(config.lr_schedule == "constant")
        self.hub.watch_run(f"{name} (training)", timeline)
        self._batch_seconds = []
        self._last_progress = self._progress_shown = self._outcome_of_run = None
        self._run_ended = False
        self.curves.reset()
        self.curves.start()
        self.curves.set_live_visible(True)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.save_button.setEnabled(False)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("starting…")
        self.stats_label.setText("Loading data and building the model…")
        self.stats_label.setToolTip("")
        self._say(f"Training {name} ({config.arch})…")
        task.start()
        # Overlays stay, recoloured around the live run: on the next turn of the event loop, so that
        # the window answers between the garbage collection above and rebuilding the plot's legends.
        QTimer.singleShot(0, self._on_history_selection)
        return True

    def stop(self) -> None:
        """End the run after the current batch; the model is kept as it is."""
        if self.is_running():
            self.task.cancel()
            self.stop_button.setEnabled(False)
            self.progress_bar.setFormat("stopping…")
            self._say("Stopping after this batch…")

    def _on_progress(self, p) -> None:
        self.curves.add_progress(p)
        changes = self._run_timeline.lr_changes
        for epoch, lr in changes[self._lr_marked:]:
            self.curves.mark_learning_rate_change(epoch, lr)
        self._lr_marked = len(changes)
        if p.kind == "batch":
            self._batch_seconds.append(p.elapsed_s)
        self._last_progress = p

    def _tick_status(self) -> None:
        p = self._last_progress
        if p is None or p is self._progress_shown or self._run_ended:
            return
        self._progress_shown = p
        value = int(p.fraction_done * 100)
        now = time.monotonic()
        # setValue repaints at once (a few ms): only when the percentage changes, at most twice a second
        if value != self.progress_bar.value() and now - self._bar_set_at >= 0.5:
            self._bar_set_at = now
            self.progress_bar.setValue(value)
        text = f"{value}% · epoch {p.epoch + 1}/{p.epochs}"
        if text != self.progress_bar.format():
            self.progress_bar.setFormat(text)
        self.stats_label.setText(f"batch {p.batch}/{p.batches_per_epoch} · {self._metrics_text(p)} · "
                                 f"{p.samples_per_s:,.0f} img/s · ETA {fmt_seconds(p.eta_s)}")

    @staticmethod
    def _metrics_text(p) -> str:
        val = f" · val acc {p.val_accuracy * 100:.2f}%" if p.val_accuracy is not None else ""
        return f"loss {p.epoch_loss:.4f} · acc {p.epoch_accuracy * 100:.2f}%{val}"

    def _end_progress(self, state: str, summary: str | None = None) -> None:
        """The run is over (``state``: done, stopped, diverged, failed): no running figures or ETA remain;
        ``summary`` (default: where the run got to and its last figures) replaces them."""
        self._run_ended = True
        self.progress_bar.setFormat(state)
        if summary is None:
            p = self._last_progress
            if p is None:
                summary = "Ended before the first batch."
            else:
                where = (f"all {p.epochs} epochs" if state == "done"
                         else f"epoch {p.epoch + 1}/{p.epochs}, batch {p.batch}/{p.batches_per_epoch}")
                summary = f"{state.capitalize()} after {where} · {self._metrics_text(p)} · {p.samples_per_s:,.0f} img/s"
        self.stats_label.setText(summary)
        self.stats_label.setToolTip(summary)  # the label may be cut short in a narrow window

    def _on_finished(self, out: RunOutcome) -> None:
        if self._closing:
            return
        self.curves.stop()
        self.last_outcome = out
        r = out.result
        if out.failure:
            d, lr = r.divergence, r.config.learning_rate
            if d is not None:
                self.curves.show_divergence(d)
                self._end_progress("diverged", f"{d.summary[0].upper()}{d.summary[1:]}.")
                self._say(f"Training {d.summary}. The learning rate ({lr:g}) is probably too high: lower it "
                          f"(try {lr / 10:g}) and Start again. Nothing was saved.", error=True)
            else:
                self._end_progress("failed", "Training failed: nothing was saved.")
                self._say(out.failure, error=True)
            status = "diverged"
        else:
            parts = []
            if r.stopped:
                parts.append(f"Stopped by you after {r.batches_done} batches ({r.epochs_done} full epochs).")
            else:
                self.progress_bar.setValue(100)
            parts.append(f"Test accuracy {pct(out.test_accuracy)}" if out.test_accuracy is not None else "No test set in this data.")
            if out.confusion is not None:
                parts.append(confusion_summary(out.confusion) + ".")
                self.result_label.setToolTip(f"<pre>true \\ predicted\n{confusion_text(out.confusion, label_width=5)}</pre>")
            if out.stored is not None:
                parts.append(self._offer_for_drawing(out.stored, out.net))
            else:
                parts.append("Not saved yet: press Save model to keep it.")
                self.save_button.setEnabled(True)
            self._end_progress("stopped" if r.stopped else "done")
            self.result_label.setStyleSheet("")
            self.result_label.setText(" ".join(parts))
            self.message.emit(parts[-1] if out.stored is not None else parts[0])
            status = "stopped" if r.stopped else "finished"
        self._last_record = self._record_from(out, status)
        self._add_run(self._last_record)
        self._update_use_button()
        self._outcome_of_run = out

    def _on_cancelled(self) -> None:  # stopped while the data was being prepared: nothing was trained
        if self._closing:
            return
        self.curves.stop()
        self._end_progress("stopped", "Stopped before training began; nothing was trained.")
        self._say("Stopped before training began; nothing was trained.")

    def _on_failed(self, exc: BaseException) -> None:
        if self._closing:
            return
        self.curves.stop()
        self._end_progress("failed", "Did not run: see the message below.")
        if isinstance(exc, DataError):
            self._say(f"Could not read the training data: {exc}. Choose another data file, or MNIST.", error=True)
        else:
            self._say(f"Training failed: {jobs.describe(exc)}.", error=True)

    def _set_lr_change_enabled(self, on: bool) -> None:
        self.lr_now_edit.setEnabled(on)
        self.lr_now_button.setEnabled(on)

    def change_learning_rate(self) -> bool:
        """Train the run going on with the learning rate typed, from its next batch."""
        if not self.is_running() or not self.lr_now_button.isEnabled():
            return False
        text = self.lr_now_edit.text().strip()
        try:
            lr = float(text)
        except ValueError:
            lr = float("nan")
        if not (math.isfinite(lr) and 0 < lr <= 10):
            self._say(f"The learning rate must be a number above 0 and at most 10, not {text!r}.", error=True)
            return False
        self._run_timeline.request_learning_rate(lr)
        self.message.emit(f"Learning rate {lr:g} from the next batch; marked on the curves.")
        return True

    def _mark_moment(self) -> None:
        """The timeline's chosen point, marked on the curves."""
        subj, i = self.hub.subject, self.hub.moment
        ok = subj is not None and subj.timeline is not None and i is not None and i < len(subj.timeline)
        self.curves.mark_moment(subj.timeline.at(i) if ok else None)
        if ok and subj.model is not None and not self.is_running() and not self.selected_runs():
            # the marker needs that model's curves beside it: select its run in the history, as a user would
            rows = [r for r, rec in enumerate(self.runs) if rec.path == str(subj.model.path)]
            if rows:
                self.select_runs(rows[-1:])

    def _on_done(self, task: jobs.Job, timeline: Timeline) -> None:
        if self.task is task:
            self.task = None
            self._set_lr_change_enabled(False)
        # The run's own garbage (traced graphs, the data pipeline: some 30,000 objects in cycles) is freed
        # on the training thread, after its results show. Their C++ teardown mostly waits with the
        # interpreter released, so there it costs the window little; collected in the GUI thread, it
        # froze the window for up to a second.
        jobs.run(lambda state: collect_garbage(), lane="train", name="free a finished run's graphs")
        if not self._closing:
            self.curves.stop()
            self._update_start_button()
            self.stop_button.setEnabled(False)
            out, self._outcome_of_run = self._outcome_of_run, None
            self.hub.run_ended(timeline, out.stored if out is not None else None)
            self._show_default_name()
            self.runFinished.emit(out)

    def _show_default_name(self) -> None:
        self.name_edit.setPlaceholderText(store.unique_name(self.form.default_name))

    def _update_start_button(self) -> None:
        """Start is for when no run is going and the chosen data file is not known to be bad (Start reads
        the file again: it may have changed since it was checked)."""
        problem = self.form.data_problem
        experiment = self.experiments is not None and self.experiments.is_running()
        self.start_button.setEnabled(not self.is_running() and problem is None and not experiment)
        self.start_button.setToolTip(f"Choose another data file first: {problem}" if problem
                                     else "An experiment is running: stop it first" if experiment
                                     else "Train in the background; the canvas keeps working")

    def _say(self, text: str, error: bool = False) -> None:
        if error:
            text = in_user_terms(text)  # as the window's message box says it
            self.result_label.setStyleSheet("color: #b00020; font-weight: bold")
            self.result_label.setText(text)
            self.problem.emit(text)
        else:
            self.message.emit(text)

    # ------------------------------------------------------------------ saving a stopped run
    def save_last(self) -> bool:
        out = self.last_outcome
        if out is None or out.failure or out.stored is not None or out.metadata is None:
            return False
        if self._save_task is not None and self._save_task.is_running():
            return False
        name = self.name_edit.text().strip() or self._run_name
        task = jobs.Job(lambda _state: save_outcome(out, name), lane="train", name="save-model")
        self.save_button.setEnabled(False)
        rec = self._last_record

        def saved(m):
            if self._closing:
                return
            self.hub.remember_timeline(m, out.result.timeline)
            sentence = self._offer_for_drawing(m, out.net)
            if rec is not None and rec.path is None:
                rec.path, rec.label, rec.status = str(m.path), m.name, "stopped, saved"
            self._refresh_table()
            self._update_use_button()
            self._show_default_name()
            self._say(sentence)
            self.saveFinished.emit(True)

        def failed(exc):
            self.save_button.setEnabled(True)
            self._say(f"Could not save: {jobs.describe(exc)}", error=True)
            self.saveFinished.emit(False)

        task.finished.connect(saved)
        task.failed.connect(failed)
        self._save_task = task
        task.start()
        return True

    # ------------------------------------------------------------------ the Draw view's model
    def _offer_for_drawing(self, stored: store.StoredModel, net) -> str:
        """List a saved run; make it the Draw view's model only if it beats the current one. Returns what happened."""
        listed = self.hub.add_trained(stored, net)
        current = self.hub.current
        switch, sentence = draw_model_choice(listed.name, listed.test_accuracy,
                                             None if current is None else current.name,
                                             None if current is None else current.test_accuracy,
                                             same_test_set=current is None or store.same_test_images(listed, current))
        if switch:
            self.hub.select(str(listed.path))  # its net is cached: current at once
        log.info("%s", sentence)
        return sentence

    def _use_target(self) -> RunRecord | None:
        """The run Use for drawing means: the one saved run selected in the history, else the latest saved run."""
        selected = [r for r in self.selected_runs() if r.path]
        if len(selected) == 1:
            return selected[0]
        rec = self._last_record
        return rec if rec is not None and rec.path else None

    def _update_use_button(self) -> None:
        self.use_button.setEnabled(self._use_target() is not None)

    def use_for_drawing(self) -> None:
        rec = self._use_target()
        if rec is None:
            return
        m = self.hub.find(rec.path)
        if m is None:
            self._say(f"{rec.label} is no longer in your models folder.", error=True)
            return
        if self.hub.current is not None and self.hub.current.path == m.path:
            self._say(f"The Draw view already uses {m.name}.")
            return
        cached = self.hub.net(m) is not None
        self.hub.select(str(m.path))  # a failure to load is reported by the hub and keeps the current model
        self._say(f"The Draw view now uses {m.name}." if cached else f"Loading {m.name} for the Draw view…")

    # ------------------------------------------------------------------ history
    def _record_from(self, out: RunOutcome, status: str) -> RunRecord:
        label = out.stored.name if out.stored else self._run_name
        rec = RunRecord.from_metadata(label, out.metadata, str(out.stored.path) if out.stored else None)
        rec.status, rec.batch_seconds = status, list(self._batch_seconds)
        return rec

    def _load_saved_runs(self) -> None:
        try:
            models = store.list_models()
        except OSError:
            return
        for m in models:
            if m.metadata.get("history"):
                rec = RunRecord.from_metadata(m.name, RunMetadata.from_dict(m.metadata), str(m.path))
                if m.shipped:
                    rec.status = "shipped"
                self.runs.append(rec)
        self._refresh_table()

    def _add_run(self, rec: RunRecord) -> None:
        self.runs.append(rec)
        self._refresh_table()

    def _refresh_table(self) -> None:
        t = self.history_table
        t.blockSignals(True)
        t.setRowCount(len(self.runs))
        for row, rec in enumerate(self.runs):
            hp = " ".join(f"{k}={format_value(v).replace(' ', '')}" for k, v in rec.hparams.items() if v not in (0, 0.0)) or "–"
            epochs = f"{rec.epochs_done}/{rec.training.get('epochs', '?')}"
            cells = (rec.label, rec.arch, epochs, fmt_seconds(rec.seconds), pct(rec.val_accuracy), pct(rec.test_accuracy),
                     rec.status, hp, describe_training(rec.training))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                t.setItem(row, col, item)
        t.blockSignals(False)

    def history_cell(self, row: int, column: str) -> str:
        item = self.history_table.item(row, HISTORY_COLUMNS.index(column))
        return item.text() if item is not None else ""

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({i.row() for i in self.history_table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def select_runs(self, rows: list[int]) -> None:
        """Select history rows (overlays their curves); also for tests and benchmarks."""
        t = self.history_table
        t.clearSelection()
        mode = t.selectionMode()
        t.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in rows:
            t.selectRow(r)
        t.setSelectionMode(mode)

    def _on_history_selection(self) -> None:
        runs = self.selected_runs()
        self.curves.set_live_visible(not runs or self.is_running())
        self.curves.set_overlays(runs)

    # ------------------------------------------------------------------ export
    def runs_to_export(self) -> list[RunRecord]:
        return self.selected_runs() or self.runs[-1:]

    def export_curves(self, path: str | Path) -> Path | None:
        runs = self.runs_to_export()
        if not runs:
            self._say("No finished run to export yet.", error=True)
            return None
        try:
            out = export_figure(runs, path, self.curves.x_axis)
        except (ValueError, OSError, MnistDeskError) as exc:
            self._say(f"Could not export: {exc}", error=True)
            return None
        self._say(f"Curves saved to {out}")
        return out

    def _export_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export curves", "curves.png", "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            if not Path(path).suffix:
                path += ".svg" if "svg" in chosen else ".png"
            self.export_curves(path)

    def run_to_export(self) -> tuple[str, dict] | None:
        """The run Export run… writes, as (name, its metadata): the latest run selected in the history, else the
        run that trained the Draw view's model; None when neither has a training record."""
        selected = self.selected_runs()
        if selected:
            rec = selected[-1]
            return rec.label, {"arch": rec.arch, "hparams": rec.hparams, "training": rec.training,
                               "data_source": rec.data_source}
        current = self.hub.current
        if current is not None and current.metadata.get("training"):
            return current.name, current.metadata
        return None

    def _update_export_run_button(self, *_changed) -> None:
        self.export_run_button.setEnabled(self.run_to_export() is not None)

    def export_run(self, path: str | Path) -> Path | None:
        """Write the run to export as a script (``.py``) or a notebook (``.ipynb``); errors are said, not raised."""
        from ...core.export_run import left_out, write_notebook, write_script

        target = self.run_to_export()
        if target is None:
            self._say("Select a run in the history to export.", error=True)
            return None
        name, meta = target
        path = Path(path)
        try:
            spec = spec_from_metadata(meta)
            write = write_notebook if path.suffix.lower() == ".ipynb" else write_script
            out = write(spec, path, name)
        except (ValueError, OSError, MnistDeskError) as exc:
            self._say(f"Could not export the run: {exc}", error=True)
            return None
        missing = left_out(spec)
        self._say(f"Run {name} saved to {out}" + (f" (without {len(missing)} app-only part(s): see its first lines)"
                                                  if missing else ""))
        return out

    def _export_run_dialog(self) -> None:
        target = self.run_to_export()
        default = f"{target[0] if target else 'run'}.py"
        path, chosen = QFileDialog.getSaveFileName(self, "Export run", default,
                                                   "Python script (*.py);;Jupyter notebook (*.ipynb)")
        if path:
            if not Path(path).suffix:
                path += ".ipynb" if "ipynb" in chosen else ".py"
            self.export_run(path)

    def open_experiments(self):
        from .experiments import ExperimentsDialog

        if self.experiments is None:
            self.experiments = ExperimentsDialog(self, self)
            self.experiments.setWindowFlag(Qt.WindowType.Window)
        self.experiments.show()
        self.experiments.raise_()
        return self.experiments

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        """Stop a run and wait for its thread (nothing is saved after this); safe to call twice."""
        self.form.remember(open_settings())
        self._closing = True
        self._abort.set()
        self.curves.timer.stop()
        if self.experiments is not None:
            self.experiments.shutdown()
        for t in (self.task, self._save_task):
            if t is not None:
                t.cancel()
                t.wait(30)


