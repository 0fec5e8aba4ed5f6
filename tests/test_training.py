"""core.training.train on a few hundred images: learning, throttled progress, stop, NaN, schedules, determinism."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from mnist_desk.core import registry

from mnist_desk.core.errors import TrainingError
from mnist_desk.core.training import Progress, TrainConfig, evaluate, predict_probabilities, train

BATCH = 32
STEPS = math.ceil(600 / BATCH)  # small_split has 600 training images: 19 batches per epoch


def _linear(**kw) -> TrainConfig:
    base = dict(arch="linear", epochs=2, batch_size=BATCH, learning_rate=3e-3)
    base.update(kw)
    return TrainConfig(**base)


class Recorder:
    def __init__(self):
        self.reports: list[Progress] = []

    def __call__(self, p: Progress) -> None:
        self.reports.append(p)

    def kind(self, kind: str) -> list[Progress]:
        return [p for p in self.reports if p.kind == kind]


@pytest.fixture
def count_evaluate(monkeypatch):
    """Counts calls of keras.Model.evaluate (the validation pass), still running the real one."""
    import keras

    calls = []
    real = keras.Model.evaluate

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "evaluate", counting)
    return calls


# ------------------------------------------------------------------------------ learning and history
def test_learns_and_returns_history_per_epoch(small_split):
    rec = Recorder()
    r = train(_linear(epochs=3), small_split, on_progress=rec)
    assert r.ok and not r.stopped
    assert r.epochs_done == 3 and r.batches_done == 3 * STEPS
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert len(r.history[key]) == 3, key
        assert all(isinstance(v, float) and math.isfinite(v) for v in r.history[key]), key
    assert r.history["val_accuracy"][-1] > 0.6  # chance is 0.1
    assert r.history["loss"][-1] < r.history["loss"][0]
    assert r.history["seconds"] == sorted(r.history["seconds"])
    assert r.samples_per_s > 0 and r.seconds > 0
    # The returned model is the trained one: its own validation accuracy matches the history.
    ev = evaluate(r.model, small_split.x_val, small_split.y_val)
    assert ev["accuracy"] == pytest.approx(r.history["val_accuracy"][-1], abs=1e-6)
    assert predict_probabilities(r.model, small_split.x_val[:3]).shape == (3, 10)
    # Batch history: steps are increasing and within the run.
    steps = r.history["batch_step"]
    assert steps == sorted(steps) and 1 <= steps[0] and steps[-1] <= 3 * STEPS
    assert len(r.history["batch_loss"]) == len(steps) == len(r.history["batch_accuracy"])


def test_epoch_reports_carry_validation_metrics(small_split):
    rec = Recorder()
    r = train(_linear(epochs=2), small_split, on_progress=rec)
    epochs = rec.kind("epoch")
    assert [p.epoch for p in epochs] == [0, 1]
    for p, vl, va in zip(epochs, r.history["val_loss"], r.history["val_accuracy"]):
        assert p.val_loss == pytest.approx(vl) and p.val_accuracy == pytest.approx(va)
        assert 0.0 <= p.val_accuracy <= 1.0 and p.val_loss > 0
        assert p.samples_per_s > 0 and math.isfinite(p.eta_s) and p.eta_s >= 0
        assert p.batches_per_epoch == STEPS and p.epochs == 2 and p.batch == STEPS
        assert p.learning_rate == pytest.approx(3e-3)
    assert epochs[-1].fraction_done == 1.0 and epochs[-1].eta_s == pytest.approx(0.0, abs=1e-9)


def test_batch_reports_are_throttled(small_split):
    rec = Recorder()
    train(_linear(epochs=2, report_every_s=10.0), small_split, on_progress=rec)
    batches = rec.kind("batch")
    for e in range(2):
        assert len([p for p in batches if p.epoch == e]) <= 2
    assert len(rec.kind("epoch")) == 2


def test_report_every_zero_reports_every_batch(small_split):
    rec = Recorder()
    r = train(_linear(epochs=2, report_every_s=0.0), small_split, on_progress=rec)
    batches = rec.kind("batch")
    assert len(batches) == 2 * STEPS == r.batches_done
    assert [p.total_batches_done for p in batches] == list(range(1, 2 * STEPS + 1))
    assert [p.batch for p in batches[:STEPS]] == list(range(1, STEPS + 1))
    for p in batches:
        assert p.val_loss is None and p.val_accuracy is None
        assert p.samples_per_s > 0 and math.isfinite(p.eta_s) and p.eta_s >= 0
        assert math.isfinite(p.loss) and 0.0 <= p.accuracy <= 1.0
        assert 0.0 < p.fraction_done <= 1.0
    # One report per batch: each window is a single batch; the running mean over the epoch is consistent.
    first = batches[:STEPS]
    assert np.mean([p.loss for p in first]) == pytest.approx(first[-1].epoch_loss, rel=1e-4)
    assert len(r.history["batch_loss"]) == 2 * STEPS
    eta = [p.eta_s for p in batches]
    assert eta[-1] < eta[0]


# ------------------------------------------------------------------------------ stopping
# 19 batches per epoch: stop in the middle of epoch 2, right after the last batch of epoch 1 (before its
# validation), and right after the first batch of epoch 2 (epoch 1 validated).
@pytest.mark.parametrize("k", [25, STEPS, STEPS + 1])
def test_should_stop_stops_within_one_batch_and_skips_validation(small_split, count_evaluate, k):
    calls = [0]
    rec = Recorder()

    def should_stop():
        calls[0] += 1
        return calls[0] > k  # polled once before training, then after every batch

    r = train(_linear(epochs=3, report_every_s=0.0), small_split, on_progress=rec, should_stop=should_stop)
    assert r.stopped and r.ok
    assert k <= r.batches_done <= k + 1
    # Epochs that ended before the stop was asked for. A stop asked after an epoch's last batch comes
    # before that epoch's validation, so that epoch is not validated (nor counted) either.
    full_epochs = (k - 1) // STEPS
    assert r.epochs_done == full_epochs
    assert len(r.history["val_loss"]) == len(r.history["val_accuracy"]) == full_epochs
    assert len(count_evaluate) == full_epochs  # no validation pass after the stop
    assert len(rec.kind("epoch")) == full_epochs
    assert max(p.total_batches_done for p in rec.reports) <= r.batches_done


def test_should_stop_before_start_trains_nothing(small_split, count_evaluate):
    r = train(_linear(), small_split, should_stop=lambda: True)
    assert r.stopped and r.batches_done == 0 and r.epochs_done == 0
    assert r.history["loss"] == [] and count_evaluate == []


def test_max_batches(small_split, count_evaluate):
    rec = Recorder()
    r = train(_linear(epochs=5, max_batches=10), small_split, on_progress=rec)
    assert r.ok and not r.stopped
    assert r.batches_done == 10
    assert r.epochs_done == 0 and r.history["val_accuracy"] == []  # a cut-short epoch is not validated
    assert count_evaluate == []
    assert rec.kind("batch")[-1].total_batches_done == 10  # the last batch is always reported
    assert rec.kind("batch")[-1].epochs == 1  # epochs shrink to what max_batches needs
    r2 = train(_linear(epochs=5, max_batches=STEPS + 3), small_split)
    assert r2.batches_done == STEPS + 3 and r2.epochs_done == 1 and len(r2.history["val_accuracy"]) == 1


def test_divergence_fails_with_a_learning_rate_message(small_split, count_evaluate):
    rec = Recorder()
    config = TrainConfig(arch="mlp", optimizer="sgd", learning_rate=50.0, epochs=3, batch_size=BATCH)
    r = train(config, small_split, on_progress=rec)
    assert not r.ok
    assert "learning rate" in r.failure and "(50)" in r.failure and "too high" in r.failure
    assert "nan" in r.failure.lower() or "exploded" in r.failure  # which comes first depends on the batch order
    assert r.batches_done < 3 * STEPS  # stopped early
    assert r.epochs_done == 0 and r.history["val_accuracy"] == [] and count_evaluate == []
    assert rec.kind("epoch") == []


def test_finite_divergence_is_also_a_failure(small_split):
    config = TrainConfig(arch="mlp", hparams={"hidden": [32]}, optimizer="sgd", learning_rate=50.0, epochs=1, batch_size=BATCH)
    r = train(config, small_split)
    assert not r.ok and "learning rate" in r.failure


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"optimizer": "nadam"}, "unknown optimizer 'nadam'"),
        ({"learning_rate": 0.0}, "learning rate must be a positive number"),
        ({"learning_rate": -1e-3}, "learning rate must be a positive number"),
        ({"learning_rate": float("nan")}, "learning rate must be a positive number"),
        ({"learning_rate": float("inf")}, "learning rate must be a positive number"),
        ({"lr_schedule": "step"}, "unknown schedule 'step'"),
        ({"batch_size": 0}, "at least 1"),
        ({"epochs": 0}, "at least 1"),
    ],
)
def test_bad_config_raises_training_error(small_split, overrides, fragment):
    config = _linear(**overrides)
    with pytest.raises(TrainingError, match=fragment.replace("(", r"\(")):
        config.validate()
    with pytest.raises(TrainingError, match=fragment.replace("(", r"\(")):
        train(config, small_split)


def test_bad_hyperparameter_and_empty_data(small_split):
    from mnist_desk.core.data import Split

    with pytest.raises(ValueError, match="no hyperparameter"):
        train(_linear(hparams={"hidden": [3]}), small_split)
    empty = Split(small_split.x_train[:0], small_split.y_train[:0], small_split.x_val, small_split.y_val)
    with pytest.raises(TrainingError, match="no training images"):
        train(_linear(), empty)


def test_for_arch_uses_the_architecture_defaults():
    c = TrainConfig.for_arch("cnn", epochs=1, learning_rate=None)
    defaults = registry.ARCHITECTURES["cnn"].training_defaults
    assert c.arch == "cnn" and c.epochs == 1 and c.augment is True
    assert c.lr_schedule == defaults["lr_schedule"] and c.learning_rate == pytest.approx(defaults["learning_rate"])
    c.validate()


# ------------------------------------------------------------------------------ schedules, augmentation, logs
@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_learning_rate_schedules_run(small_split, schedule):
    rec = Recorder()
    r = train(_linear(epochs=2, lr_schedule=schedule, learning_rate=1e-2, report_every_s=0.0), small_split, on_progress=rec)
    assert r.ok and r.epochs_done == 2
    assert r.history["val_accuracy"][-1] > 0.5
    lrs = [p.learning_rate for p in rec.kind("batch")]
    assert all(lr is not None and 0 < lr <= 1e-2 * (1 + 1e-6) for lr in lrs)
    assert len(set(np.round(lrs, 9))) > 5  # it changes over the run
    assert lrs[-1] < 0.2 * max(lrs)  # and ends low
    if schedule == "onecycle":
        assert lrs[0] < 0.5 * max(lrs)  # warms up first
        assert int(np.argmax(lrs)) > 0


def test_augmentation_runs(small_split):
    r = train(_linear(epochs=1, augment=True), small_split)
    assert r.ok and r.epochs_done == 1 and r.batches_done == STEPS
    assert r.history["val_accuracy"][0] > 0.3


HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(not HAS_TENSORBOARD, reason="the tensorboard package is not installed")
def test_tensorboard_dir_gets_event_files(small_split, tmp_path):
    logdir = tmp_path / "tb"
    r = train(_linear(epochs=1, tensorboard_dir=str(logdir)), small_split)
    assert r.ok
    events = list(logdir.rglob("events.out.tfevents*"))
    assert events and all(e.stat().st_size > 0 for e in events)


@pytest.mark.skipif(HAS_TENSORBOARD, reason="the tensorboard package is installed")
def test_tensorboard_dir_without_tensorboard_is_a_clear_error(small_split, tmp_path):
    """TensorFlow does not bring TensorBoard: refuse up front with a TrainingError naming the package,
    not a TBNotInstalledError traceback after the first epoch."""
    logdir = tmp_path / "tb"
    config = _linear(epochs=1, tensorboard_dir=str(logdir))
    with pytest.raises(TrainingError, match="tensorboard"):
        config.validate()
    with pytest.raises(TrainingError, match="tensorboard"):
        train(config, small_split)


def test_same_seed_same_result(small_split):
    a = train(_linear(epochs=1, seed=7), small_split)
    b = train(_linear(epochs=1, seed=7), small_split)
    c = train(_linear(epochs=1, seed=8), small_split)
    assert a.history["loss"][0] == pytest.approx(b.history["loss"][0], abs=1e-6)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    assert not np.allclose(a.model.get_weights()[0], c.model.get_weights()[0], atol=1e-6)


def test_runs_leave_no_traced_train_step_in_tensorflows_gradient_registry(small_split):
    """Keras' optimizer traces a tf.custom_gradient whose global registry entry would hold every run's graph."""
    import gc

    from tensorflow.python.framework import func_graph, ops

    def custom_entries():
        return {k for k in ops._gradient_registry._registry if k.startswith("CustomGradient-")}

    def train_step_graphs():
        gc.collect()
        return sum(isinstance(o, func_graph.FuncGraph) and o.name == "one_step_on_data" for o in gc.get_objects())

    cfg = TrainConfig(arch="mlp", hparams={"hidden": [16]}, epochs=1, batch_size=64, val_size=0, max_batches=3)
    train(cfg, small_split)  # the first run may trace process-wide things once
    entries, graphs = custom_entries(), train_step_graphs()
    for _ in range(3):
        r = train(cfg, small_split)
        assert r.batches_done == 3
        del r
    assert custom_entries() == entries
    assert train_step_graphs() <= graphs


def test_probabilities_of_many_images_convert_them_batch_by_batch(tiny_models):
    """A large uint8 set is not copied to floats at once (a 2-million-image file would need 6 GB)."""
    import tracemalloc

    from mnist_desk.core.training import predict_probabilities

    x = np.zeros((100_000, 28, 28), np.uint8)  # 78 MB as uint8, 314 MB as floats
    tracemalloc.start()
    try:
        probs = predict_probabilities(tiny_models["linear"], x, batch_size=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert probs.shape == (100_000, 10)
    assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MB"
