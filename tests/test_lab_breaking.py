"""Breaking a model: silenced first-layer units and shaken weights, measured with numpy forward passes."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core import registry
from mnist_desk.core.lab import breaking
from mnist_desk.core.numpy_net import NumpyNet

SHIPPED = ["linear", "mlp", "cnn"]


def _shipped(name: str) -> NumpyNet:
    return NumpyNet.from_keras_file(f"mnist_desk/resources/models/{name}.keras")


def test_the_first_layer_is_named_with_its_units():
    assert breaking.first_layer_units(_shipped("linear")) == ("logits", 10)
    assert breaking.first_layer_units(_shipped("mlp")) == ("hidden1", 512)
    assert breaking.first_layer_units(_shipped("cnn")) == ("conv1_1", 32)


@pytest.mark.parametrize("name", SHIPPED)
def test_silencing_every_first_layer_unit_leaves_chance(name, mnist):
    net = _shipped(name)
    _, units = breaking.first_layer_units(net)
    assert breaking.quick_accuracy(net, mnist.x_test, mnist.y_test) > 0.9
    assert breaking.quick_accuracy(breaking.broken_net(net, set(range(units))), mnist.x_test, mnist.y_test) <= 0.2


@pytest.mark.parametrize("name", SHIPPED)
def test_nothing_silenced_and_no_noise_is_the_same_model(name, mnist):
    net = _shipped(name)
    x = mnist.x_test[:300].astype(np.float32) / 255.0
    np.testing.assert_array_equal(breaking.broken_net(net).predict(x), net.predict(x))


def _sigmoid_after_batch_norm():
    """Dense -> batch norm -> sigmoid: a unit is silent only after all three (the batch norm folds into the Dense,
    the sigmoid of 0 is 0.5)."""
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Dense(16, name="hidden1")(keras.layers.Flatten(name="flatten")(inp))
    x = keras.layers.Activation("sigmoid", name="act1")(keras.layers.BatchNormalization(name="bn1")(x))
    logits = keras.layers.Dense(10, name=registry.LOGITS_LAYER)(x)
    return keras.Model(inp, keras.layers.Activation("softmax", name=registry.PROBS_LAYER)(logits))


@pytest.mark.parametrize("build,next_layer", [
    (lambda: registry.build_model("cnn", {"width": 8, "dense": 16}, seed=3), "conv1_2"),
    (_sigmoid_after_batch_norm, registry.LOGITS_LAYER),
], ids=["cnn", "sigmoid-after-batch-norm"])
def test_a_silenced_unit_gives_the_next_layer_nothing(build, next_layer, mnist):
    model = build()
    rng = np.random.default_rng(0)
    for layer in model.layers:  # batch norm statistics that shift and scale, as a trained model's do
        if layer.__class__.__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([g * 1.3, b + 0.2, m + rng.normal(0, 0.1, m.shape), v * 0.7 + 0.2])
    silenced = {1, 2, 6}
    broken = breaking.broken_net(NumpyNet.from_model(model), silenced)
    following = model.get_layer(next_layer)
    kernel, *rest = following.get_weights()
    kernel[..., sorted(silenced), :] = 0.0
    following.set_weights([kernel, *rest])
    x = mnist.x_test[:32].astype(np.float32)[..., None] / 255.0
    np.testing.assert_allclose(broken.predict(x), np.asarray(model(x, training=False)), atol=1e-5)


def test_a_silenced_class_of_the_linear_model_scores_0_and_the_answer_is_still_probabilities(mnist):
    broken = breaking.broken_net(_shipped("linear"), {3})
    x = mnist.x_test[:50].astype(np.float32) / 255.0
    assert not broken.logits(x)[:, 3].any()
    np.testing.assert_allclose(broken.predict(x).sum(axis=1), 1.0, atol=1e-5)


def test_silencing_twice_silences_both(mnist):
    net = _shipped("mlp")
    x = mnist.x_test[:100].astype(np.float32) / 255.0
    twice = breaking.broken_net(breaking.broken_net(net, {0, 1}), {2})
    np.testing.assert_array_equal(twice.predict(x), breaking.broken_net(net, {0, 1, 2}).predict(x))


@pytest.mark.parametrize("name", SHIPPED)
def test_more_noise_reads_worse(name, mnist):
    net = _shipped(name)
    x, y = mnist.x_test[:400], mnist.y_test[:400]  # 400 of the 1,000: nine readings of the cnn stay quick
    mean_accuracy = [np.mean([breaking.quick_accuracy(breaking.broken_net(net, noise=noise, seed=seed), x, y)
                              for seed in range(3)]) for noise in (0.25, 1.0, 4.0)]
    assert mean_accuracy[0] > mean_accuracy[1] > mean_accuracy[2], mean_accuracy


def _weights(net: NumpyNet, name: str) -> list[np.ndarray]:
    return next(layer.weights for layer in net.source_layers if layer.name == name)


def test_noise_shakes_only_the_named_layers_kernel():
    net = _shipped("mlp")
    shaken = breaking.broken_net(net, noise=0.5, layer="hidden2", seed=4)
    for before, after in zip(net.source_layers, shaken.source_layers):
        if before.name != "hidden2":
            assert all(np.array_equal(a, b) for a, b in zip(before.weights, after.weights))
    (kernel, bias), (noisy, noisy_bias) = _weights(net, "hidden2"), _weights(shaken, "hidden2")
    np.testing.assert_array_equal(noisy_bias, bias)
    assert np.std(noisy - kernel) == pytest.approx(0.5 * np.std(kernel), rel=0.02)
    again = breaking.broken_net(net, noise=0.5, layer="hidden2", seed=4)
    np.testing.assert_array_equal(_weights(again, "hidden2")[0], noisy)


def test_what_cannot_be_broken_is_refused():
    net = _shipped("linear")
    with pytest.raises(ValueError, match="units 0-9"):
        breaking.broken_net(net, {10})
    with pytest.raises(ValueError, match="not a Dense or Conv2D"):
        breaking.broken_net(net, noise=1.0, layer="flatten")


def test_quick_accuracy_reads_the_first_thousand_images(mnist):
    net = _shipped("linear")
    x, y = mnist.x_test[:1500], mnist.y_test[:1500]
    expected = float(np.mean(net.predict(x[:1000].astype(np.float32) / 255.0).argmax(axis=1) == y[:1000]))
    assert breaking.quick_accuracy(net, x, y) == expected
    assert breaking.quick_accuracy(net, x.astype(np.float32) / 255.0, y) == expected
    assert breaking.quick_accuracy(net, x, y) != breaking.quick_accuracy(net, x[500:], y[500:])
