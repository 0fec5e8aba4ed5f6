"""The Keras callbacks a training run is composed of, one concern each, sharing one :class:`RunState`.

Keras is imported at the top so the callbacks are ordinary module-level classes. Nothing imports this
module at import time: ``training.train`` imports it when a run starts, which keeps importing
mnist_desk.core free of TensorFlow (the window starts without it).

The callbacks read each other's results from the state, so their order in ``fit``'s list matters; it is
the order of this module: RunClock first, then StopOnRequest and BatchLimit, DivergenceGuard before
anything that reports or validates, BatchNormStatistics before EpochValidation, EpochValidation before
ProgressReporter.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import keras
import numpy as np

from .training import BatchNormMeter, Divergence, Progress, image_batches

# Cross-entropy of a uniform guess over 10 classes is 2.3 nats; a running mean above this means the
# optimiser has blown up even if the numbers are still finite (big learning rates do this).
DIVERGED_LOSS = 1e3

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "batch_step", "batch_loss", "batch_accuracy")


def weights_finite(model) -> bool:
    return all(np.all(np.isfinite(w)) for w in model.get_weights())


@dataclass
class RunState:
    """Where one run is, when it was last reported and how it ended; written and read by its callbacks."""

    steps: int  # batches per epoch
    epochs: int
    report_every_s: float
    history: dict = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    t0: float = 0.0
    epoch: int = 0  # 0-based
    batch_in_epoch: int = 0  # batches done in this epoch
    batches_done: int = 0
    epochs_done: int = 0  # full epochs, validated and in the history
    batch_time: float = 0.0  # when the latest batch ended
    last_report: float = 0.0
    stopped: bool = False  # the user asked to stop
    failure: str | None = None
    divergence: Divergence | None = None  # where the run diverged (with ``failure``)

    @property
    def total_batches(self) -> int:
        return self.steps * self.epochs

    @property
    def ended(self) -> bool:
        """A stop or a failure: after it nothing is checked, validated or reported."""
        return self.stopped or self.failure is not None

    def report_due(self, stopping: bool) -> bool:
        # The last batch of a run is always due, so a run's final numbers are reported however it ends.
        return stopping or self.batch_time - self.last_report >= self.report_every_s


class RunClock(keras.callbacks.Callback):
    """Keeps the state's epoch, batch counts and times current; first in the list, so the others read them."""

    def __init__(self, state: RunState):
        super().__init__()
        self.state = state

    def on_train_begin(self, logs=None):
        self.state.t0 = self.state.last_report = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.state.epoch = epoch
        self.state.batch_in_epoch = 0

    def on_train_batch_end(self, batch, logs=None):
        s = self.state
        s.batch_in_epoch = batch + 1
        s.batches_done += 1
        s.batch_time = time.perf_counter()


class StopOnRequest(keras.callbacks.Callback):
    """Polls ``should_stop`` after every batch: a true answer ends training after that batch, as a stop."""

    def __init__(self, state: RunState, should_stop: Callable[[], bool]):
        super().__init__()
        self.state = state
        self.should_stop = should_stop

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop():
            self.state.stopped = True
            self.model.stop_training = True


class BatchLimit(keras.callbacks.Callback):
    """Ends training after ``max_batches`` in all. Not a stop: the run is complete at that point."""

    def __init__(self, state: RunState, max_batches: int):
        super().__init__()
        self.state = state
        self.max_batches = max_batches

    def on_train_batch_end(self, batch, logs=None):
        if self.state.batches_done >= self.max_batches:
            self.model.stop_training = True


class WeightSnapshots(keras.callbacks.Callback):
    """Adds the run's snapshots to its timeline (core/timeline.py): the untrained network, every tenth of the
    first epoch, each epoch's end. After BatchNormStatistics, so an epoch's snapshot has its measured
    statistics; of ``model``, which is what the run hands back (``fit`` may run a logits twin of it)."""

    def __init__(self, state: RunState, model, timeline):
        super().__init__()
        from .timeline import schedule

        self.state, self.net, self.timeline = state, model, timeline
        self.first_epoch = schedule(state.steps)

    def on_train_begin(self, logs=None):
        if self.timeline.layer_configs is None:
            self.timeline.layer_configs = [{"class_name": layer.__class__.__name__, "config": layer.get_config()}
                                           for layer in self.net.layers]
        self._take()

    def on_train_batch_end(self, batch, logs=None):
        if not self.state.ended and self.state.epoch == 0 and self.state.batch_in_epoch in self.first_epoch:
            self._take()

    def on_epoch_end(self, epoch, logs=None):
        if not self.state.ended:
            self._take()

    def _take(self) -> None:
        from .timeline import Snapshot, weights_by_layer

        s = self.state
        seconds = time.perf_counter() - s.t0 if s.batches_done else 0.0
        self.timeline.add(Snapshot(s.batches_done, s.batches_done / s.steps, seconds, weights_by_layer(self.net)))


class LearningRateChanges(keras.callbacks.Callback):
    """Trains with a learning rate asked for while the run goes (``Timeline.request_learning_rate``) from the
    next batch on, and records when on the timeline. Only for a constant rate: a schedule owns the rate."""

    def __init__(self, state: RunState, timeline):
        super().__init__()
        self.state, self.timeline = state, timeline

    def on_train_batch_begin(self, batch, logs=None):
        lr = self.timeline.take_learning_rate_request()
        if lr is not None and math.isfinite(lr) and lr > 0:
            self.model.optimizer.learning_rate.assign(lr)
            self.timeline.lr_changes.append((self.state.batches_done / self.state.steps, lr))


class DivergenceGuard(keras.callbacks.Callback):
    """Fails the run when the loss is NaN/inf or exploded past DIVERGED_LOSS, or the weights are not finite.

    Checked when a progress report is due and at each epoch's end: reading the loss and the weights
    syncs with the device, which the throttled moments already pay for. It runs before the reporter
    and the validation, so a diverged batch is neither reported nor validated.
    """

    def __init__(self, state: RunState, learning_rate: float):
        super().__init__()
        self.state = state
        self.learning_rate = learning_rate

    def on_train_batch_end(self, batch, logs=None):
        if self.state.ended or not self.state.report_due(self.model.stop_training):
            return
        self._check(float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        if self.state.ended:
            return
        self._check(float((logs or {}).get("loss", float("nan"))))

    def _check(self, loss: float) -> None:
        # Keras clips probabilities inside the loss (and relu maps NaN to 0 under oneDNN), so a diverged
        # net can report a finite loss (~16) while its weights are already inf/NaN; the weights are
        # checked too (about a millisecond for the default model).
        if math.isfinite(loss) and loss <= DIVERGED_LOSS and weights_finite(self.model):
            return
        s = self.state
        if not math.isfinite(loss):
            what = f"the loss became {loss}"
        elif loss > DIVERGED_LOSS:
            what = f"the loss exploded to {loss:.3g}"
        else:
            what = "the weights became NaN or infinite"
        s.failure = (
            f"training stopped: {what} at epoch {s.epoch + 1}, batch "
            f"{s.batch_in_epoch}. The learning rate ({self.learning_rate:g}) is probably too high; "
            "try a smaller one."
        )
        # the user reads "NaN"/"infinite", not Python's float spellings
        plain = what.replace("became nan", "became NaN").replace("became inf", "became infinite").replace(
            "became -inf", "became infinite")
        s.divergence = Divergence(s.epoch + 1, s.batch_in_epoch, s.steps, max(0.0, s.batch_time - s.t0), plain)
        self.model.stop_training = True


class BatchNormStatistics(keras.callbacks.Callback):
    """The batch-norm layers' moving statistics measured on the training images after each epoch.

    Before validation, so that validation (and the curves) judge the model as it will predict. An epoch
    BatchLimit cut short is measured too; a run that was stopped is not (``runs.run_training`` measures
    it unless the window is closing), nor one that failed. ``model`` is the run's model (``fit`` may
    train a logits twin sharing its layers).
    """

    def __init__(self, state: RunState, model, x_train: np.ndarray, batch_size: int, seed: int):
        super().__init__()
        self.state = state
        self.meter = BatchNormMeter(model)
        self.x_train, self.batch_size, self.seed = x_train, batch_size, seed

    def on_epoch_end(self, epoch, logs=None):
        if not self.state.ended:
            self.meter.measure(self.x_train, self.batch_size, seed=self.seed + epoch)


class EpochValidation(keras.callbacks.Callback):
    """After each full epoch: the validation pass and the epoch's row of the history.

    Skipped once the run has ended (a stop or a failure: nobody waits for it) and for an epoch that
    BatchLimit cut short (not a full epoch).
    """

    def __init__(self, state: RunState, x_val=None, y_val=None):
        super().__init__()
        self.state = state
        self.x_val, self.y_val = x_val, y_val

    def on_epoch_end(self, epoch, logs=None):
        s = self.state
        if s.ended or (self.model.stop_training and s.batch_in_epoch < s.steps):
            return
        logs = logs or {}
        val_loss = val_acc = None
        if self.x_val is not None and len(self.x_val):
            r = self.model.evaluate(image_batches(self.x_val, self.y_val, 1024), verbose=0, return_dict=True)
            val_loss, val_acc = float(r["loss"]), float(r["accuracy"])
        h = s.history
        h["loss"].append(float(logs.get("loss", float("nan"))))
        h["accuracy"].append(float(logs.get("accuracy", float("nan"))))
        h["val_loss"].append(val_loss)
        h["val_accuracy"].append(val_acc)
        h["seconds"].append(time.perf_counter() - s.t0)
        s.epochs_done = epoch + 1


class ProgressReporter(keras.callbacks.Callback):
    """Progress objects: "batch" ones at most every ``state.report_every_s``, an "epoch" one per validated epoch.

    Metrics are read from Keras only when a report is due, so the cost per batch stays a few Python
    operations. A batch report is also a row of the history's batch_* lists.
    """

    def __init__(self, state: RunState, on_progress: Callable[[Progress], None] | None, batch_size: int):
        super().__init__()
        self.state = state
        self.on_progress = on_progress
        self.batch_size = batch_size
        self._last_k, self._last_loss_sum, self._last_acc_sum = 0, 0.0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._last_k, self._last_loss_sum, self._last_acc_sum = 0, 0.0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        s = self.state
        if s.ended or not s.report_due(self.model.stop_training):
            return
        s.last_report = s.batch_time
        k = s.batch_in_epoch
        mean_loss = float(logs["loss"])
        mean_acc = float(logs.get("accuracy", float("nan")))
        # Keras' logs hold the running mean over the epoch; the mean over the batches since the last
        # report follows from two running means, so no batch needs its own sync with the device.
        loss_sum, acc_sum = mean_loss * k, mean_acc * k
        n = k - self._last_k
        window_loss = (loss_sum - self._last_loss_sum) / n
        window_acc = (acc_sum - self._last_acc_sum) / n
        self._last_k, self._last_loss_sum, self._last_acc_sum = k, loss_sum, acc_sum
        h = s.history
        h["batch_step"].append(s.epoch * s.steps + k)
        h["batch_loss"].append(window_loss)
        h["batch_accuracy"].append(window_acc)
        if self.on_progress is not None:
            self.on_progress(self._progress("batch", window_loss, window_acc, mean_loss, mean_acc, s.batch_time))

    def on_epoch_end(self, epoch, logs=None):
        h = self.state.history
        if self.state.epochs_done != epoch + 1 or self.on_progress is None:
            return  # not validated: no epoch report
        loss, acc = h["loss"][-1], h["accuracy"][-1]
        self.on_progress(self._progress("epoch", loss, acc, loss, acc, time.perf_counter(),
                                        h["val_loss"][-1], h["val_accuracy"][-1]))

    def _progress(self, kind, loss, acc, mean_loss, mean_acc, now, val_loss=None, val_acc=None) -> Progress:
        s = self.state
        elapsed = now - s.t0
        done = s.batches_done
        rate = done / elapsed if elapsed > 0 else 0.0
        try:
            lr = float(np.asarray(self.model.optimizer.learning_rate))
        except (TypeError, ValueError):
            lr = None
        return Progress(
            kind=kind, epoch=s.epoch, epochs=s.epochs, batch=s.batch_in_epoch,
            batches_per_epoch=s.steps, total_batches_done=done, loss=loss, accuracy=acc,
            epoch_loss=mean_loss, epoch_accuracy=mean_acc,
            samples_per_s=rate * self.batch_size, elapsed_s=elapsed,
            eta_s=(s.total_batches - done) / rate if rate > 0 else float("inf"),
            val_loss=val_loss, val_accuracy=val_acc, learning_rate=lr,
        )
