"""Adversarial nudges on real (tiny and shipped) models: direction, budget, the smallest budget, transfer."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core.errors import Cancelled
from mnist_desk.core.inspection import first_layer_weights
from mnist_desk.core.lab import attacks
from mnist_desk.core.numpy_net import NumpyNet

SHIPPED_CNN = "mnist_desk/resources/models/cnn.keras"


def _read_correctly(model, mnist, count: int) -> list[int]:
    """Indices of the first ``count`` test digits the model reads correctly (an attack starts from a right answer)."""
    net = NumpyNet.from_model(model)
    predictions = net.predict(mnist.x_test[:200].astype(np.float32) / 255.0).argmax(axis=1)
    return [int(i) for i in np.flatnonzero(predictions == mnist.y_test[:200])[:count]]


def test_fgsm_on_the_linear_model_moves_each_pixel_along_the_difference_of_the_two_templates(tiny_models, mnist):
    model = tiny_models["linear"]
    templates = first_layer_weights(model).images  # (10, 28, 28): W[:, k] as images
    for i in _read_correctly(model, mnist, 3):
        clean = mnist.x_test[i].astype(np.float32) / 255.0
        target = (int(mnist.y_test[i]) + 4) % 10
        a = attacks.attack(model, mnist.x_test[i], target, 0.1, method=attacks.FGSM)
        assert (a.source, a.steps, a.method) == (mnist.y_test[i], 1, attacks.FGSM)
        direction = np.sign(templates[target] - templates[a.source])
        inside = (a.nudged > 0) & (a.nudged < 1)  # not clipped at either end of the pixel range
        assert inside.sum() > 100
        np.testing.assert_array_equal(np.sign(a.perturbation[inside]), direction[inside])
        np.testing.assert_allclose(np.abs(a.perturbation[inside]), 0.1, atol=1e-6)
        # a clipped pixel went the same way as far as it could, or not at all
        assert np.all(np.sign(a.perturbation[~inside]) * direction[~inside] >= 0)
        np.testing.assert_allclose(a.nudged, clean + a.perturbation, atol=1e-6)


def test_the_iterative_attack_fools_the_tiny_cnn_within_its_budget(tiny_models, mnist):
    model = tiny_models["cnn"]
    net = NumpyNet.from_model(model)
    for i in _read_correctly(model, mnist, 4):
        clean = mnist.x_test[i].astype(np.float32) / 255.0
        target = (int(mnist.y_test[i]) + 3) % 10
        progress = []
        a = attacks.attack(model, mnist.x_test[i], target, 0.3, on_progress=progress.append)
        assert a.fooled and a.probs.argmax() == target and a.source == mnist.y_test[i]
        assert a.nudged.dtype == np.float32 and a.nudged.shape == (28, 28)
        assert np.abs(a.perturbation).max() <= 0.3 + 1e-6
        assert a.nudged.min() >= 0.0 and a.nudged.max() <= 1.0
        np.testing.assert_allclose(a.perturbation, a.nudged - clean, atol=1e-7)
        np.testing.assert_allclose(a.probs, net.predict(a.nudged)[0], atol=1e-5)  # the model's own reading
        assert 1 <= a.steps <= 40 and len(progress) == a.steps and progress == sorted(progress)


def test_a_second_attack_reuses_the_compiled_gradient_step(tiny_models, mnist):
    model = tiny_models["mlp"]
    attacks.attack(model, mnist.x_test[0], 3, 0.2)
    attacks.attack(model, mnist.x_test[1], 5, 0.1, method=attacks.FGSM)
    attacks.attack(model, mnist.x_test[2], 8, 0.25, steps=10)
    assert attacks.margin_gradient(model).experimental_get_tracing_count() == 1


def test_the_model_already_answering_the_target_is_left_as_it_is(tiny_models, mnist):
    model = tiny_models["cnn"]
    i = _read_correctly(model, mnist, 1)[0]
    a = attacks.attack(model, mnist.x_test[i], int(mnist.y_test[i]), 0.3)
    assert a.fooled and a.steps == 0 and not a.perturbation.any()
    assert attacks.smallest_fooling_epsilon(model, mnist.x_test[i], int(mnist.y_test[i])) == 0.0


def test_the_smallest_fooling_epsilon_is_the_edge_of_fooling(tiny_models, mnist):
    model = tiny_models["cnn"]
    i = _read_correctly(model, mnist, 1)[0]
    target = (int(mnist.y_test[i]) + 1) % 10
    progress = []
    eps = attacks.smallest_fooling_epsilon(model, mnist.x_test[i], target, tolerance=0.005, on_progress=progress.append)
    assert eps is not None and 0 < eps <= 0.5
    assert attacks.attack(model, mnist.x_test[i], target, eps).fooled
    assert not attacks.attack(model, mnist.x_test[i], target, max(eps - 2 * 0.005, 0.0)).fooled
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert attacks.smallest_fooling_epsilon(model, mnist.x_test[i], target, hi=eps / 4) is None


def test_an_attack_stops_when_asked(tiny_models, mnist):
    with pytest.raises(Cancelled):
        attacks.attack(tiny_models["cnn"], mnist.x_test[0], 3, 0.3, should_stop=lambda: True)
    with pytest.raises(Cancelled):
        attacks.smallest_fooling_epsilon(tiny_models["cnn"], mnist.x_test[0], 3, should_stop=lambda: True)


def test_transfer_gives_each_nets_reading_of_the_nudged_digit(tiny_models, mnist):
    attacked = tiny_models["cnn"]
    a = attacks.attack(attacked, mnist.x_test[0], 2, 0.3)
    nets = [NumpyNet.from_model(tiny_models[arch]) for arch in ("linear", "mlp", "cnn")]
    out = attacks.transfer(nets, a.nudged)
    assert out.shape == (3, 10)
    for net, row in zip(nets, out):
        np.testing.assert_allclose(row, net.predict(a.nudged)[0], atol=1e-6)
    np.testing.assert_allclose(out[2], a.probs, atol=1e-5)  # the attacked model, read in numpy, agrees
    assert attacks.transfer([], a.nudged).shape == (0, 10)


def test_the_iterative_attack_fools_the_shipped_cnn_toward_almost_any_class(mnist):
    """The shipped cnn learned to answer "not a digit" with all logits equal; pushing against one rival at a time
    stalls there for many of these, the softmax-weighted rivals do not."""
    from mnist_desk.core import store

    model = store.load_model(SHIPPED_CNN)
    fooled = [attacks.attack(model, mnist.x_test[i], target, 0.3).fooled
              for i in range(10) for target in range(10) if target != mnist.y_test[i]]
    assert sum(fooled) >= 84, sum(fooled)
