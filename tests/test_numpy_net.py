"""The numpy forward pass the window uses agrees with Keras to 1e-5 for every architecture."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core import registry, store
from mnist_desk.core.errors import ModelFileError
from mnist_desk.core.numpy_net import NumpyNet


@pytest.mark.parametrize("arch,hp", [("linear", {}), ("mlp", {"hidden": [64, 32], "activation": "sigmoid"}),
                                     ("mlp", {"hidden": [16], "activation": "elu"}), ("lenet5", {}), ("cnn", {"width": 8, "dense": 16}),
                                     ("strided", {"width": 4, "dense": 16})])
def test_numpy_forward_matches_keras(arch, hp, mnist, tmp_path):
    model = registry.build_model(arch, hp, seed=1)
    # give batch norm non-trivial statistics so the check covers them
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            rng = np.random.default_rng(0)
            g, b, m, v = layer.get_weights()
            layer.set_weights([g * 1.3, b + 0.1, m + rng.normal(0, 0.1, m.shape), v * 0.7 + 0.2])
    x = mnist.x_test[:16].astype(np.float32)[..., None] / 255.0
    expected = np.asarray(model(x, training=False))
    path = store.save_model(model, {"arch": arch}, path=tmp_path / f"{arch}.keras")
    from_file = NumpyNet.from_keras_file(path)
    from_memory = NumpyNet.from_model(model)
    np.testing.assert_allclose(from_file.predict(x), expected, atol=1e-5)
    np.testing.assert_allclose(from_memory.predict(x), expected, atol=1e-5)
    import keras

    logits = np.asarray(keras.Model(model.inputs, model.get_layer("logits").output)(x))
    np.testing.assert_allclose(from_file.logits(x), logits, atol=1e-4)


def test_shipped_models_match_keras(mnist):
    x = mnist.x_test[:64].astype(np.float32)[..., None] / 255.0
    shipped = [m for m in store.list_models() if m.shipped]
    if not shipped:
        pytest.skip("no shipped models yet")
    for m in shipped:
        keras_model = store.load_model(m.path)
        np.testing.assert_allclose(NumpyNet.from_keras_file(m.path).predict(x), np.asarray(keras_model(x, training=False)), atol=1e-5)


@pytest.mark.parametrize("layer_kwargs,what", [({"dilation_rate": 2}, "dilation"), ({"groups": 2}, "grouped")])
def test_conv_options_without_a_numpy_pass_are_refused_not_miscomputed(layer_kwargs, what):
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 3, name="c0")(inp)
    x = keras.layers.Conv2D(4, 3, name="odd", **layer_kwargs)(x)
    model = keras.Model(inp, keras.layers.Dense(10, name="logits")(keras.layers.Flatten()(x)))
    with pytest.raises(ModelFileError, match=what):
        NumpyNet.from_model(model)


def test_overlapping_pooling_is_refused():
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.MaxPooling2D(3, strides=1, name="pool")(inp)
    model = keras.Model(inp, keras.layers.Dense(10, name="logits")(keras.layers.Flatten()(x)))
    with pytest.raises(ModelFileError, match="pooling"):
        NumpyNet.from_model(model)


def test_a_garbled_layer_option_is_a_model_file_error():
    cfgs = [{"class_name": "Conv2D", "config": {"name": "c", "strides": "two", "dilation_rate": [1, 1], "groups": "x"}}]
    with pytest.raises(ModelFileError, match="invalid option"):
        NumpyNet._layers_from(cfgs, {"c": [np.zeros((3, 3, 1, 2), np.float32)]}, None)


def test_a_model_that_cannot_read_a_drawing_is_refused_at_loading(tmp_path):
    from mnist_desk.core import registry, store
    from mnist_desk.core.errors import ModelFileError
    from mnist_desk.core.numpy_net import NumpyNet

    model = registry.build_model("linear")
    model.set_weights([np.full(w.shape, np.nan, w.dtype) for w in model.get_weights()])
    path = store.save_model(model, {"arch": "linear"}, path=tmp_path / "nan.keras")
    with pytest.raises(ModelFileError, match="does not give 10 probabilities"):
        NumpyNet.from_keras_file(path)


def test_a_model_needing_gigabytes_for_one_drawing_is_refused_before_running(tmp_path):
    from mnist_desk.core.errors import ModelFileError
    from mnist_desk.core.numpy_net import NumpyNet, _Layer

    def zeros(*shape):  # the shapes of a forged file's weights, without the memory
        return np.broadcast_to(np.float32(0), shape)

    layers = [
        _Layer("Conv2D", "wide", {"padding": "same", "strides": 1}, [zeros(1, 1, 1, 4096), zeros(4096)]),
        _Layer("Conv2D", "huge", {"padding": "same", "strides": 1}, [zeros(28, 28, 4096, 8), zeros(8)]),
        _Layer("Flatten", "flatten", {}, []),
        _Layer("Dense", "logits", {}, [zeros(28 * 28 * 8, 10), zeros(10)]),
        _Layer("Activation", "probabilities", {"activation": "softmax"}, []),
    ]
    net = NumpyNet(layers)
    assert net.peak_bytes_per_image() > 9 * 2**30
    with pytest.raises(ModelFileError, match="would need 9.4 GB"):
        net.check_reads_digits(tmp_path / "bomb.keras")
