"""Snapshots of a run's weights: taken densely in the first epoch, exact at the end, saved and checked."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core.data import load_mnist
from mnist_desk.core.errors import ModelFileError
from mnist_desk.core.numpy_net import NumpyNet
from mnist_desk.core.runs import TrainSpec, run_training
from mnist_desk.core.timeline import Timeline, load_timeline, schedule, timeline_path
from mnist_desk.core.training import TrainConfig


@pytest.fixture(scope="module")
def run_cnn(tmp_path_factory):
    import os

    os.environ["MNIST_DESK_HOME"] = str(tmp_path_factory.mktemp("home"))
    spec = TrainSpec(TrainConfig(arch="lenet5", epochs=2, batch_size=32, val_size=100), limit=400,
                     drawn_style=0, pen_digits=0, not_digits=0)
    tl = Timeline()
    out = run_training(spec, timeline=tl, out_path=tmp_path_factory.mktemp("m") / "lenet.keras")
    return out, tl


def test_schedule_is_dense_in_the_first_epoch():
    assert schedule(100) == set(range(10, 100, 10))
    assert schedule(5) == {1, 2, 3, 4}


def test_snapshots_start_untrained_are_dense_early_and_end_with_the_model(run_cnn):
    out, tl = run_cnn
    steps = out.steps_per_epoch
    assert [s.step for s in tl.snapshots][0] == 0
    assert [s.step for s in tl.snapshots][-1] == out.result.batches_done == 2 * steps
    assert len([s for s in tl.snapshots if 0 < s.step < steps]) == len(schedule(steps))
    assert tl.snapshots[-1].weights is None and all(s.weights is not None for s in tl.snapshots[:-1])
    x = load_mnist().x_test[:50] / 255.0
    final = NumpyNet.from_keras_file(out.stored.path)
    assert np.array_equal(tl.net_at(len(tl) - 1, final).predict(x), final.predict(x))
    # The first snapshot is the untrained network: the same seed builds it again
    import keras

    from mnist_desk.core import registry

    keras.utils.set_random_seed(0)
    untrained = NumpyNet.from_model(registry.build_model("lenet5", {}))
    p0 = tl.net_at(0, final).predict(x)
    assert np.allclose(p0, untrained.predict(x), atol=2e-3)
    assert not np.allclose(p0, final.predict(x), atol=0.05)


def test_the_timeline_is_saved_beside_the_model_and_read_back(run_cnn):
    out, tl = run_cnn
    net = NumpyNet.from_keras_file(out.stored.path)
    back = load_timeline(out.stored.path, net.weight_shapes())
    assert [s.step for s in back.snapshots] == [s.step for s in tl.snapshots]
    assert back.steps_per_epoch == tl.steps_per_epoch
    for a, b in zip(tl.snapshots[:-1], back.snapshots[:-1]):
        for name in a.weights:
            assert all(np.array_equal(u, v) for u, v in zip(a.weights[name], b.weights[name]))
    x = load_mnist().x_test[:20] / 255.0
    assert np.array_equal(back.net_at(1, net).predict(x), tl.net_at(1, net).predict(x))
    # kept compact on disk: each snapshot as its difference from the one before, deflated
    assert timeline_path(out.stored.path).stat().st_size < 0.8 * tl.nbytes


def test_a_damaged_or_foreign_timeline_is_refused_with_a_reason(run_cnn, tmp_path):
    out, _ = run_cnn
    net = NumpyNet.from_keras_file(out.stored.path)
    shapes = net.weight_shapes()
    assert load_timeline(tmp_path / "none.keras", shapes) is None
    path = tmp_path / "m.keras"
    timeline_path(path).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFileError, match="timeline"):
        load_timeline(path, shapes)
    # another model's timeline: its layers do not fit
    timeline_path(path).write_bytes(timeline_path(out.stored.path).read_bytes())
    other = {k: [tuple(d + 1 for d in s) for s in v] for k, v in shapes.items()}
    with pytest.raises(ModelFileError, match="does not fit|does not belong"):
        load_timeline(path, other)
    # a pickle inside is never unpickled
    np.savez(timeline_path(path), layer_names=np.array([object()], dtype=object))
    with pytest.raises(ModelFileError):
        load_timeline(path, shapes)


def test_a_learning_rate_asked_for_mid_run_is_used_from_the_next_batch_and_recorded(tmp_path):
    tl = Timeline()
    tl.request_learning_rate(0.0123)
    spec = TrainSpec(TrainConfig(arch="linear", epochs=1, batch_size=50, val_size=50, learning_rate=1e-3), limit=200,
                     drawn_style=0, pen_digits=0, not_digits=0)
    out = run_training(spec, timeline=tl, out_path=tmp_path / "lr.keras")
    assert tl.lr_changes == [(0.0, 0.0123)]
    assert float(out.result.model.optimizer.learning_rate.numpy()) == pytest.approx(0.0123)
    back = load_timeline(out.stored.path, NumpyNet.from_keras_file(out.stored.path).weight_shapes())
    assert back.lr_changes == [(0.0, pytest.approx(0.0123))]


@pytest.mark.parametrize("name", ["cnn", "mlp", "linear"])
def test_the_shipped_models_carry_their_timelines(name):
    from mnist_desk.core.paths import RESOURCES_DIR

    path = RESOURCES_DIR / "models" / f"{name}.keras"
    net = NumpyNet.from_keras_file(path)
    tl = load_timeline(path, net.weight_shapes())
    steps = [s.step for s in tl.snapshots]
    assert steps[0] == 0 and tl.snapshots[-1].weights is None  # from the untrained network to the model itself
    assert len([s for s in steps if 0 < s < tl.steps_per_epoch]) == len(schedule(tl.steps_per_epoch))
    assert steps[-1] % tl.steps_per_epoch == 0 and all(s.weights for s in tl.snapshots[:-1])
    x = load_mnist().x_test[:200] / 255.0
    last_epoch = tl.net_at(len(tl) - 2, net).predict(x).argmax(1)
    assert (last_epoch == load_mnist().y_test[:200]).mean() > 0.85  # an epoch's end already reads digits
