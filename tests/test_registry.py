"""The model registry: every architecture builds, has the shared head, and saves to a config the store accepts."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mnist_desk.core import registry, store
from mnist_desk.core.registry import LOGITS_LAYER, PROBS_LAYER, Param

ARCHS = list(registry.ARCHITECTURES)


@pytest.fixture(scope="module")
def built():
    """Each architecture built once with its defaults (building is the slow part)."""
    return {name: registry.build_model(name, seed=0) for name in ARCHS}


def test_registry_has_the_documented_architectures():
    assert {"linear", "mlp", "lenet5", "cnn"} <= set(ARCHS)
    for a in registry.ARCHITECTURES.values():
        assert a.title and a.description
        for key in ("optimizer", "learning_rate", "batch_size", "epochs"):
            assert key in a.training_defaults, (a.name, key)
        assert a.training_defaults["optimizer"] in registry.OPTIMIZERS


@pytest.mark.parametrize("arch", ARCHS)
def test_architecture_builds_and_gives_probabilities(built, arch, mnist):
    model = built[arch]
    assert tuple(model.inputs[0].shape[1:]) == (28, 28, 1)
    assert tuple(model.outputs[0].shape[1:]) == (10,)
    x = (mnist.x_test[:5].astype(np.float32) / 255.0)[..., None]
    p = np.asarray(model(x, training=False))
    assert p.shape == (5, 10)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    logits = model.get_layer(LOGITS_LAYER)
    probs = model.get_layer(PROBS_LAYER)
    assert logits.__class__.__name__ == "Dense" and logits.units == 10
    assert probs.__class__.__name__ == "Activation"
    assert model.layers[-1].name == PROBS_LAYER


def test_lenet5_parameter_counts_match_seed_003(built):
    m = built["lenet5"]
    counts = {name: m.get_layer(name).count_params() for name in ("conv1", "conv2", "fc1", "fc2", LOGITS_LAYER)}
    assert counts == {"conv1": 156, "conv2": 2416, "fc1": 48120, "fc2": 10164, LOGITS_LAYER: 850}
    assert m.count_params() == 156 + 2416 + 48120 + 10164 + 850
    assert m.get_layer("conv1").padding == "same" and m.get_layer("conv2").padding == "valid"


def test_hyperparameters_change_the_model():
    m = registry.build_model("mlp", {"hidden": "64, 32", "activation": "tanh", "dropout": 0.1})
    assert [m.get_layer(n).units for n in ("hidden1", "hidden2")] == [64, 32]
    assert m.get_layer("hidden1").activation.__name__ == "tanh"
    assert m.get_layer("dropout1").rate == pytest.approx(0.1)
    c = registry.build_model("cnn", {"width": 8, "dense": 16, "dropout": 0})
    assert c.get_layer("conv1_1").filters == 8 and c.get_layer("conv2_1").filters == 16
    assert c.get_layer("fc").units == 16
    assert "dropout" not in [layer.name for layer in c.layers]


def test_seed_makes_building_deterministic():
    a = registry.build_model("mlp", {"hidden": [16]}, seed=5).get_weights()
    b = registry.build_model("mlp", {"hidden": [16]}, seed=5).get_weights()
    c = registry.build_model("mlp", {"hidden": [16]}, seed=6).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("preset", list(registry.PRESETS))
def test_every_preset_resolves(preset):
    p = registry.PRESETS[preset]
    arch = registry.get_architecture(p.arch)
    hp = arch.resolve(p.hparams)
    assert set(hp) == {q.name for q in arch.params}
    assert p.training["optimizer"] in registry.OPTIMIZERS
    assert p.training.get("lr_schedule", "constant") in registry.LR_SCHEDULES
    from mnist_desk.core.training import TrainConfig

    TrainConfig(arch=p.arch, hparams=hp, **p.training).validate()


def test_unknown_architecture_and_hyperparameter():
    with pytest.raises(ValueError, match="unknown architecture 'resnet'"):
        registry.get_architecture("resnet")
    with pytest.raises(ValueError, match="no hyperparameter 'width'"):
        registry.get_architecture("linear").resolve({"width": 3})
    with pytest.raises(ValueError, match="unknown optimizer"):
        registry.make_optimizer("nadam", 0.1)


# ------------------------------------------------------------------------------ Param.parse
def _param(arch: str, name: str) -> Param:
    return next(p for p in registry.get_architecture(arch).params if p.name == name)


def test_param_parse_converts_values():
    assert _param("mlp", "hidden").parse("512, 256") == [512, 256]
    assert _param("mlp", "hidden").parse("512 256") == [512, 256]
    assert _param("mlp", "hidden").parse([7]) == [7]
    assert _param("cnn", "width").parse("16") == 16
    assert _param("mlp", "dropout").parse("0.25") == pytest.approx(0.25)
    assert _param("mlp", "activation").parse("tanh") == "tanh"
    flag = Param("flag", False, "bool")
    assert flag.parse("yes") is True and flag.parse("0") is False and flag.parse(True) is True


def test_param_parse_bad_choice():
    with pytest.raises(ValueError, match=r"activation: 'swish' is not one of relu, sigmoid, tanh, elu"):
        _param("mlp", "activation").parse("swish")


def test_param_parse_below_minimum_and_above_maximum():
    with pytest.raises(ValueError, match="width: 2 is below the minimum 4"):
        _param("cnn", "width").parse(2)
    with pytest.raises(ValueError, match="dropout: 0.99 is above the maximum 0.95"):
        _param("mlp", "dropout").parse("0.99")
    with pytest.raises(ValueError, match="l2: -0.1 is below the minimum"):
        _param("linear", "l2").parse(-0.1)


def test_param_parse_empty_or_bad_hidden():
    hidden = _param("mlp", "hidden")
    for empty in ("", " , ", []):
        with pytest.raises(ValueError, match="give at least one size"):
            hidden.parse(empty)
    with pytest.raises(ValueError, match="sizes must be >= 1"):
        hidden.parse("32,0")
    with pytest.raises(ValueError):
        hidden.parse("32,abc")
    with pytest.raises(ValueError):
        _param("cnn", "width").parse("wide")


# ------------------------------------------------------------------------------ the store accepts them
# Every hyperparameter switched on at least once (L2 regularizers, dropout, each activation).
STORE_CASES = [
    ("linear", {}),
    ("linear", {"l2": 1e-4}),
    ("mlp", {}),
    ("mlp", {"hidden": [8, 8], "activation": "sigmoid", "dropout": 0.2, "l2": 1e-4}),
    ("mlp", {"hidden": [8], "activation": "tanh"}),
    ("mlp", {"hidden": [8], "activation": "elu"}),
    ("lenet5", {}),
    ("cnn", {}),
    ("cnn", {"width": 4, "dense": 8, "dropout": 0.0}),
]


@pytest.mark.parametrize("arch,hp", STORE_CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(STORE_CASES)])
def test_saved_config_of_every_architecture_passes_the_store_check(tmp_path, arch, hp):
    model = registry.build_model(arch, hp, seed=0)
    path = store.save_model(model, {"arch": arch, "hparams": hp}, path=tmp_path / f"{arch}.keras")
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    store.check_config(config, path)  # ALLOWED_CLASSES covers everything the registry produces
    assert store.vet_model_archive(path) == config
    loaded = store.load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
