"""Shared fixtures. Tests use real (small) data: the shipped MNIST copy, sliced."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Every test session writes user data into a fresh folder, never the real user's.
os.environ["MNIST_DESK_HOME"] = tempfile.mkdtemp(prefix="mnist_desk_test_home_")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mnist():
    from mnist_desk.core import data

    return data.load_mnist()


@pytest.fixture(scope="session")
def small_split(mnist):
    """600 training and 200 validation images: enough for a model that reads digits, quick to train."""
    from mnist_desk.core import data

    return data.Split(mnist.x_train[:600], mnist.y_train[:600], mnist.x_train[-200:], mnist.y_train[-200:])


@pytest.fixture(scope="session")
def tiny_models(small_split):
    """One small trained model per architecture, trained once for the whole session."""
    from mnist_desk.core.training import TrainConfig, train

    out = {}
    for arch, hp, epochs in (("linear", {}, 3), ("mlp", {"hidden": [32]}, 3), ("cnn", {"width": 8, "dense": 32}, 2)):
        r = train(TrainConfig(arch=arch, hparams=hp, epochs=epochs, batch_size=32, learning_rate=3e-3), small_split)
        assert r.ok
        out[arch] = r.model
    return out


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh user data folder for one test."""
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
