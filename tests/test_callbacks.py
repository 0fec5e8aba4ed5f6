"""core.callbacks one at a time, on a one-layer model and a few random images."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

N, BATCH = 48, 8
STEPS = N // BATCH


@pytest.fixture
def cb():
    from mnist_desk.core import callbacks

    return callbacks


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (N, 28, 28), dtype=np.uint8), rng.integers(0, 10, N).astype(np.int32)


def _model(loss="sparse_categorical_crossentropy"):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, metrics=["accuracy"])
    return model


def _fit(model, data, callbacks, epochs=2):
    from mnist_desk.core.training import image_batches

    x, y = data
    model.fit(image_batches(x, y, BATCH), epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False)


class Recorder(list):
    def __call__(self, p):
        self.append(p)

    def kinds(self):
        return [p.kind for p in self]


def test_importing_the_rest_of_core_loads_no_tensorflow():
    """Only core.callbacks imports Keras at its top, and only training.train imports it."""
    core = Path(__file__).resolve().parents[1] / "mnist_desk" / "core"
    modules = sorted(p.stem for p in core.glob("*.py") if p.stem not in ("__init__", "callbacks"))
    code = (
        "import sys\nimport mnist_desk.core\n"
        + "".join(f"import mnist_desk.core.{m}\n" for m in modules)
        + "bad = [m for m in ('keras', 'tensorflow') if m in sys.modules]\nassert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_run_clock_keeps_the_position(cb, data):
    state = cb.RunState(steps=STEPS, epochs=2, report_every_s=0.0)
    _fit(_model(), data, [cb.RunClock(state)])
    assert state.batches_done == 2 * STEPS == state.total_batches
    assert state.epoch == 1 and state.batch_in_epoch == STEPS
    assert 0 < state.t0 <= state.batch_time
    assert not state.ended


@pytest.mark.parametrize("k", [1, STEPS, STEPS + 2])
def test_stop_on_request_stops_after_the_batch_where_should_stop_turns_true(cb, data, k):
    state = cb.RunState(steps=STEPS, epochs=3, report_every_s=0.0)
    polls = []

    def should_stop():
        polls.append(state.batches_done)
        return len(polls) >= k

    model = _model()
    _fit(model, data, [cb.RunClock(state), cb.StopOnRequest(state, should_stop)], epochs=3)
    assert state.stopped and state.ended and model.stop_training
    assert state.batches_done == k
    assert polls == list(range(1, k + 1))  # once after every batch


def test_batch_limit_ends_the_run_without_a_stop(cb, data):
    state = cb.RunState(steps=STEPS, epochs=3, report_every_s=0.0)
    _fit(_model(), data, [cb.RunClock(state), cb.BatchLimit(state, STEPS + 2)], epochs=3)
    assert state.batches_done == STEPS + 2
    assert not state.stopped and not state.ended


def _guard(cb, report_every_s=0.0, model=None):
    state = cb.RunState(steps=STEPS, epochs=2, report_every_s=report_every_s)
    guard = cb.DivergenceGuard(state, learning_rate=0.5)
    guard.set_model(model or _model())
    state.epoch, state.batch_in_epoch = 1, 3
    return state, guard


@pytest.mark.parametrize(
    "loss,what",
    [(float("nan"), "the loss became nan"), (float("inf"), "the loss became inf"), (5e3, "the loss exploded to 5e+03")],
)
def test_divergence_guard_fails_on_a_nan_inf_or_exploded_loss(cb, loss, what):
    state, guard = _guard(cb)
    guard.on_train_batch_end(2, {"loss": loss})
    assert state.failure == (
        f"training stopped: {what} at epoch 2, batch 3. The learning rate (0.5) is probably too high; try a smaller one."
    )
    assert guard.model.stop_training and state.ended
    d = state.divergence
    assert (d.epoch, d.batch) == (2, 3) and d.summary.startswith("diverged at epoch 2, batch 3: loss ")
    # NaN / infinite, as the user reads them, not Python's nan / inf
    assert d.what in ("the loss became NaN", "the loss became infinite") or d.what.startswith("the loss exploded")


def test_divergence_guard_fails_on_non_finite_weights_and_passes_a_sane_run(cb):
    state, guard = _guard(cb)
    guard.on_train_batch_end(2, {"loss": 2.3})
    guard.on_epoch_end(1, {"loss": cb.DIVERGED_LOSS})  # at the threshold is not past it
    assert state.failure is None and not guard.model.stop_training
    weights = guard.model.get_weights()
    weights[0][0, 0] = np.nan
    guard.model.set_weights(weights)
    guard.on_train_batch_end(2, {"loss": 2.3})
    assert "the weights became NaN or infinite at epoch 2, batch 3" in state.failure


def test_divergence_guard_checks_when_a_report_is_due_and_at_each_epochs_end(cb):
    state, guard = _guard(cb, report_every_s=1e9)
    guard.on_train_batch_end(2, {"loss": float("nan")})  # no report due: the logs are not read
    assert state.failure is None
    guard.on_epoch_end(1, {"loss": float("nan")})
    assert "the loss became nan" in state.failure


@pytest.mark.parametrize("value,what", [(float("nan"), "the loss became nan"), (5e3, "the loss exploded to 5e+03")])
def test_divergence_guard_stops_a_fit_at_the_first_bad_batch(cb, data, value, what):
    from keras import ops

    state = cb.RunState(steps=STEPS, epochs=2, report_every_s=0.0)
    model = _model(loss=lambda y_true, y_pred: ops.mean(y_pred) * 0.0 + value)
    _fit(model, data, [cb.RunClock(state), cb.DivergenceGuard(state, learning_rate=0.01)])
    assert state.batches_done == 1
    assert state.failure.startswith(f"training stopped: {what} at epoch 1, batch 1.")


def test_epoch_validation_records_each_full_epoch(cb, data):
    state = cb.RunState(steps=STEPS, epochs=2, report_every_s=0.0)
    x, y = data
    model = _model()
    _fit(model, data, [cb.RunClock(state), cb.EpochValidation(state, x[:16], y[:16])])
    h = state.history
    assert state.epochs_done == 2
    assert set(h) == set(cb.HISTORY_KEYS)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert len(h[key]) == 2 and all(isinstance(v, float) and math.isfinite(v) for v in h[key]), key
    assert h["seconds"] == sorted(h["seconds"])
    from mnist_desk.core.training import image_batches

    r = model.evaluate(image_batches(x[:16], y[:16], 1024), verbose=0, return_dict=True)
    assert h["val_loss"][-1] == pytest.approx(r["loss"]) and h["val_accuracy"][-1] == pytest.approx(r["accuracy"])
    assert h["batch_step"] == h["batch_loss"] == h["batch_accuracy"] == []  # the reporter's rows


def test_epoch_validation_without_validation_data(cb, data):
    state = cb.RunState(steps=STEPS, epochs=1, report_every_s=0.0)
    _fit(_model(), data, [cb.RunClock(state), cb.EpochValidation(state)], epochs=1)
    assert state.epochs_done == 1
    assert state.history["val_loss"] == state.history["val_accuracy"] == [None]


# A stop asked right after an epoch's last batch comes before that epoch's validation.
@pytest.mark.parametrize("k,validated", [(STEPS, 0), (STEPS + 1, 1)])
def test_epoch_validation_is_skipped_after_a_stop(cb, data, monkeypatch, k, validated):
    import keras

    evaluations = []
    real = keras.Model.evaluate
    monkeypatch.setattr(keras.Model, "evaluate", lambda self, *a, **kw: (evaluations.append(1), real(self, *a, **kw))[1])
    state = cb.RunState(steps=STEPS, epochs=3, report_every_s=0.0)
    x, y = data
    stop = cb.StopOnRequest(state, lambda: state.batches_done >= k)
    _fit(_model(), data, [cb.RunClock(state), stop, cb.EpochValidation(state, x[:16], y[:16])], epochs=3)
    assert state.epochs_done == validated == len(evaluations) == len(state.history["val_loss"])


def test_epoch_validation_skips_an_epoch_cut_short(cb, data):
    state = cb.RunState(steps=STEPS, epochs=2, report_every_s=0.0)
    limit = cb.BatchLimit(state, STEPS + 2)
    _fit(_model(), data, [cb.RunClock(state), limit, cb.EpochValidation(state)])
    assert state.batches_done == STEPS + 2 and state.epochs_done == 1 and len(state.history["loss"]) == 1


def _report(cb, data, report_every_s, *extra, epochs=2):
    state = cb.RunState(steps=STEPS, epochs=epochs, report_every_s=report_every_s)
    rec = Recorder()
    x, y = data
    callbacks = [cb.RunClock(state), *(make(state) for make in extra), cb.EpochValidation(state, x[:16], y[:16]),
                 cb.ProgressReporter(state, rec, BATCH)]
    _fit(_model(), data, callbacks, epochs=epochs)
    return state, rec


def test_progress_reporter_with_a_long_interval_reports_only_epochs(cb, data):
    state, rec = _report(cb, data, 1e9)
    assert rec.kinds() == ["epoch", "epoch"]
    assert [p.epoch for p in rec] == [0, 1] and [p.val_loss for p in rec] == state.history["val_loss"]
    assert rec[-1].fraction_done == 1.0 and rec[-1].samples_per_s > 0
    assert state.history["batch_step"] == []


def test_progress_reporter_with_no_interval_reports_every_batch(cb, data):
    state, rec = _report(cb, data, 0.0)
    assert rec.kinds() == (["batch"] * STEPS + ["epoch"]) * 2
    batches = [p for p in rec if p.kind == "batch"]
    assert [p.total_batches_done for p in batches] == list(range(1, 2 * STEPS + 1))
    assert state.history["batch_step"] == list(range(1, 2 * STEPS + 1))
    # Each window is one batch, so the windows' mean is the epoch's running mean.
    first = batches[:STEPS]
    assert np.mean([p.loss for p in first]) == pytest.approx(first[-1].epoch_loss, rel=1e-4)
    assert all(p.learning_rate == pytest.approx(0.01) for p in rec)


def test_progress_reporter_always_reports_the_last_batch(cb, data):
    state, rec = _report(cb, data, 1e9, lambda s: cb.BatchLimit(s, STEPS + 2))
    assert rec.kinds() == ["epoch", "batch"]
    assert rec[-1].total_batches_done == STEPS + 2 and rec[-1].batch == 2


def test_progress_reporter_is_silent_after_a_stop(cb, data):
    state, rec = _report(cb, data, 0.0, lambda s: cb.StopOnRequest(s, lambda: s.batches_done >= 3))
    assert state.stopped and rec.kinds() == ["batch", "batch"]  # the batch that asked to stop is not reported
