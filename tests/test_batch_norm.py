"""Batch-norm statistics: a run hands over a model that predicts as well as it trained, at any data size.

Keras' moving averages (momentum 0.99) are still mostly their initial values after the ~16-80 steps of
a run on 2,000 images; before they were measured after training, such a cnn scored 96% on its training
images and 11% (one class for everything) on the test set.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core import registry

BATCH_NORM_ARCHS = [a for a in registry.ARCHITECTURES if a in ("cnn", "strided")]


def test_every_architecture_with_batch_norm_is_covered():
    from mnist_desk.core.training import batch_norm_layers

    with_bn = [a for a in registry.ARCHITECTURES if batch_norm_layers(registry.build_model(a))]
    assert with_bn == BATCH_NORM_ARCHS


def test_statistics_are_those_of_the_training_images(mnist):
    import keras

    from mnist_desk.core.training import batch_norm_layers, recompute_batch_norm_statistics

    model = registry.build_model("strided", seed=1)
    x = mnist.x_train[:1000]  # 7 full batches of 128 and a partial one: the pooling must weigh them right
    assert recompute_batch_norm_statistics(model, x, batch_size=128) == 1000
    first = batch_norm_layers(model)[0]
    # The first batch-norm layer's input does not depend on any normalisation: its statistics are exact.
    conv = keras.Model(model.inputs, first.input)(x[..., None].astype(np.float32) / 255.0)
    conv = np.asarray(conv, np.float64)
    np.testing.assert_allclose(np.asarray(first.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(first.moving_variance), conv.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-7)
    # A large set is sampled: bounded work, statistics close to the whole set's.
    assert recompute_batch_norm_statistics(model, mnist.x_train[:6000], batch_size=256, max_images=2048) == 2048
    np.testing.assert_allclose(np.asarray(first.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=0.05, atol=1e-3)


@pytest.mark.parametrize("arch", BATCH_NORM_ARCHS)
def test_a_run_on_2000_images_predicts_the_test_set_as_well_as_it_trained(arch, home, mnist):
    from mnist_desk.core.runs import TrainSpec, run_training
    from mnist_desk.core.training import TrainConfig, predict_probabilities

    # One epoch (16 steps) is the hardest case for the moving averages and enough to learn the digits.
    config = TrainConfig.for_arch(arch, epochs=1, val_size=0)
    out = run_training(TrainSpec(config, limit=2000, drawn_style=0, pen_digits=0, not_digits=0), save_name=f"small-{arch}")
    assert out.failure is None and out.n_train == 2000
    assert out.test_accuracy >= 0.80, f"{arch}: test accuracy {out.test_accuracy:.3f}"
    # The snapshot the canvas reads with was taken after the statistics were measured.
    x, y = mnist.x_test[:500], mnist.y_test[:500]
    probs = out.net.predict(x.astype(np.float32) / 255.0)
    np.testing.assert_allclose(probs, predict_probabilities(out.result.model, x), atol=1e-4)
    assert (probs.argmax(axis=1) == y).mean() >= 0.80


def test_a_stopped_run_hands_over_measured_statistics_too(home, mnist):
    """Stop mid-epoch: no epoch end measured them, so the run does before calibrating, testing and the snapshot."""
    import keras

    from mnist_desk.core.runs import TrainSpec, run_training
    from mnist_desk.core.training import TrainConfig, batch_norm_layers

    polls = []
    config = TrainConfig.for_arch("strided", epochs=3, val_size=0, hparams={"width": 8, "dense": 32})
    out = run_training(TrainSpec(config, limit=500, drawn_style=0, pen_digits=0, not_digits=0),
                       should_stop=lambda: polls.append(1) or len(polls) > 3, save_stopped=True)
    assert out.result.stopped and 1 <= out.result.batches_done < 12 and out.stored is not None
    model = out.result.model
    first = batch_norm_layers(model)[0]
    conv = np.asarray(keras.Model(model.inputs, first.input)(mnist.x_train[:500, ..., None].astype(np.float32) / 255.0),
                      np.float64)
    np.testing.assert_allclose(np.asarray(first.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(first.moving_variance), conv.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-7)
