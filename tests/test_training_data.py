"""One training set for the CLI and the Train view: limit, my digits and drawn-style digits added, validation untouched."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core.strokes import default_mnist_strokes_path
from mnist_desk.core.training_data import prepare_training_data

needs_strokes = pytest.mark.skipif(not default_mnist_strokes_path().exists(), reason="MNIST stroke traces not available")


def test_plain_dataset_is_the_validation_split(mnist):
    t = prepare_training_data(val_size=1000)
    assert len(t.split.x_train) == len(mnist.x_train) - 1000 and len(t.split.x_val) == 1000
    np.testing.assert_array_equal(t.split.x_val, mnist.x_train[-1000:])
    assert t.n_my_digits == t.n_drawn_style == 0 and t.dataset.has_test


@needs_strokes
def test_limit_my_digits_and_drawn_style_are_added_to_training_only(mnist, tmp_path):
    from mnist_desk.core.my_digits import MyDigits

    mine = MyDigits.load(tmp_path / "mine.npz")
    for label in (3, 7):
        mine.add(mnist.x_test[label], label, np.zeros((64, 64), np.uint8))
    t = prepare_training_data(val_size=500, limit=300, use_my_digits=True, my_digits_path=mine.path, drawn_style=40, seed=1)
    assert t.n_my_digits == 2 and 35 <= t.n_drawn_style <= 40  # a digit whose trace is a dot is skipped
    assert len(t.split.x_train) == 300 + 2 + t.n_drawn_style == len(t.split.y_train)
    np.testing.assert_array_equal(t.split.x_train[:300], mnist.x_train[:300])
    np.testing.assert_array_equal(t.split.y_train[300:302], [3, 7])
    np.testing.assert_array_equal(t.split.x_val, mnist.x_train[-500:])  # nothing added leaks into validation
    drawn = t.split.x_train[302:]
    assert drawn.dtype == np.uint8 and drawn.shape[1:] == (28, 28) and (drawn.reshape(len(drawn), -1).max(1) > 100).all()
    assert t.split.y_train.dtype == mnist.y_train.dtype and set(t.split.y_train[302:]) <= set(range(10))


@needs_strokes
def test_stop_while_drawing_the_drawn_style_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path))  # no cached set from another test
    with pytest.raises(InterruptedError):
        prepare_training_data(val_size=100, limit=100, drawn_style=30, seed=5, should_stop=lambda: True)
    assert not list(tmp_path.rglob("drawn_style_*.npz")), "a stopped run must not cache a partial set"
