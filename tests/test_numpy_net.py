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


def _chain(*layers):
    """A functional model config: an input of ``shape`` then ``layers`` (class, config) one after another."""
    out, prev = [{"class_name": "InputLayer", "config": {"name": "image", "batch_shape": [None, 28, 28, 1]}}], "image"
    for i, (cls, conf) in enumerate(layers):
        name = conf.get("name", f"l{i}")
        node = {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [prev, 0, 0]}}]}
        out.append({"class_name": cls, "config": {"name": name, **conf}, "inbound_nodes": [node]})
        prev = name
    return {"config": {"layers": out}}


def test_a_model_needing_gigabytes_for_one_drawing_is_refused_before_running():
    from mnist_desk.core.errors import ModelFileError
    from mnist_desk.core.model_plan import check_costs, plan_model

    config = _chain(
        ("Conv2D", {"filters": 4096, "kernel_size": [1, 1], "padding": "same"}),
        ("Conv2D", {"filters": 1, "kernel_size": [28, 28], "padding": "same"}),
        ("Flatten", {}),
        ("Dense", {"units": 10}),
    )
    plan = plan_model(config)
    assert plan.peak_bytes_per_image > 9 * 2**30
    with pytest.raises(ModelFileError, match="would need 9.4 GB"):
        check_costs(plan, weights_file_bytes=None)


def test_the_plan_follows_the_layers_not_the_shapes_the_config_claims():
    """A forged build_config cannot hide a layer's size: shapes are propagated from the 28x28x1 input."""
    from mnist_desk.core.errors import ModelFileError
    from mnist_desk.core.model_plan import check_costs, plan_model

    config = _chain(("Flatten", {}), ("Dense", {"units": 200_000}), ("Dense", {"units": 10}))
    plan = plan_model(config)
    assert plan.weight_count == 785 * 200_000 + 200_001 * 10
    with pytest.raises(ModelFileError, match="this app's models have at most 128 MB"):
        check_costs(plan, weights_file_bytes=50_000)
    with pytest.raises(ModelFileError, match="takes inputs of shape"):
        plan_model({"config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 784]}}]}})
    with pytest.raises(ModelFileError, match="larger than its 28x28 input"):
        plan_model(_chain(("Conv2D", {"filters": 4, "kernel_size": 29}), ("Flatten", {}), ("Dense", {"units": 10})))
    with pytest.raises(ModelFileError, match="invalid number of units"):
        plan_model(_chain(("Flatten", {}), ("Dense", {"units": 0})))
    with pytest.raises(ModelFileError, match="option 'evil' that Keras does not know"):
        plan_model(_chain(("Flatten", {}), ("Dense", {"units": 10, "evil": 1})))
    with pytest.raises(ModelFileError, match="gives its activation as dict"):
        plan_model(_chain(("Flatten", {}), ("Dense", {"units": 10, "activation": {"class_name": "Softmax"}})))
    lying = _chain(("Flatten", {}), ("Dense", {"units": 10}))
    lying["config"]["layers"][2]["build_config"] = {"input_shape": [None, 10**9]}  # Keras would build 10^10 weights
    with pytest.raises(ModelFileError, match="claims an input of shape"):
        plan_model(lying)
    skipping = _chain(("Flatten", {}), ("Dense", {"units": 10}))
    skipping["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "image"
    with pytest.raises(ModelFileError, match="chain of layers"):
        plan_model(skipping)


def test_every_weight_is_checked_against_the_config_before_use(tmp_path):
    """A weights file whose shapes do not match what the config's layers create is refused at loading."""
    import json
    import zipfile

    from mnist_desk.core import registry, store
    from mnist_desk.core.errors import ModelFileError
    from mnist_desk.core.numpy_net import NumpyNet

    path = store.save_model(registry.build_model("linear"), {"arch": "linear"}, path=tmp_path / "linear.keras")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["use_bias"] = False  # the file still holds a bias
    members["config.json"] = json.dumps(config).encode()
    forged = tmp_path / "forged.keras"
    with zipfile.ZipFile(forged, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ModelFileError, match="weights of layer 'logits' have shapes"):
        NumpyNet.from_keras_file(forged)


def _randomize_batch_norm(model):
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([g * 1.3, b + 0.1, m + rng.normal(0, 0.1, m.shape), v * 0.7 + 0.2])


@pytest.mark.parametrize("arch,hp,masked,next_layer", [
    ("cnn", {"width": 8, "dense": 16}, "relu1_1", "conv1_2"),  # batch norm folded into the conv before the mask
    ("mlp", {"hidden": [16, 8], "activation": "sigmoid"}, "hidden1", "hidden2"),  # a silent sigmoid unit is 0, not 0.5
])
def test_a_mask_silences_units_as_if_their_outgoing_weights_were_zero(arch, hp, masked, next_layer, mnist):
    model = registry.build_model(arch, hp, seed=2)
    _randomize_batch_norm(model)
    net = NumpyNet.from_model(model)
    silenced = [0, 3, 5]
    mask = np.ones(model.get_layer(masked).output.shape[-1], np.float32)
    mask[silenced] = 0.0
    masked_net = NumpyNet(net.source_layers, net.name, masks={masked: mask})

    following = model.get_layer(next_layer)
    kernel, *rest = following.get_weights()
    kernel[..., silenced, :] = 0.0  # the input axis of a Dense (in, out) or Conv2D (kh, kw, in, out) kernel
    following.set_weights([kernel, *rest])
    x = mnist.x_test[:16].astype(np.float32)[..., None] / 255.0
    expected = np.asarray(model(x, training=False))
    np.testing.assert_allclose(masked_net.predict(x), expected, atol=1e-5)
    assert np.abs(net.predict(x) - expected).max() > 1e-3  # the silenced units did matter
    # a copy with other weights keeps the mask
    np.testing.assert_allclose(masked_net.with_weights({}).predict(x), expected, atol=1e-5)


def test_a_mask_on_a_layer_the_forward_pass_does_not_run_is_refused():
    net = NumpyNet.from_model(registry.build_model("cnn", {"width": 4, "dense": 8}, seed=0))
    with pytest.raises(ValueError, match="bn1_1"):  # folded into conv1_1: it has no output of its own
        NumpyNet(net.source_layers, net.name, masks={"bn1_1": np.zeros(4, np.float32)})
