"""One training set for the CLI and the Train view: limit, my digits and drawn-style digits added, validation untouched."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core.errors import Cancelled
from mnist_desk.core.non_digits import default_omniglot_path
from mnist_desk.core.strokes import default_mnist_strokes_path, default_pendigits_path
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
    # the parts are mixed (training shuffles within a bounded buffer), each image with its own label
    pairs = {(x.tobytes(), int(y)) for x, y in zip(t.split.x_train, t.split.y_train)}
    for x, y in [*zip(mnist.x_train[:300], mnist.y_train[:300]), (mnist.x_test[3], 3), (mnist.x_test[7], 7)]:
        assert (x.tobytes(), int(y)) in pairs
    first_mnist = [i for i, x in enumerate(t.split.x_train) if any(np.array_equal(x, m) for m in mnist.x_train[:5])]
    assert first_mnist and max(first_mnist) > 5, "the training set is not mixed"
    np.testing.assert_array_equal(t.split.x_val, mnist.x_train[-500:])  # nothing added leaks into validation
    drawn = t.split.x_train
    assert drawn.dtype == np.uint8 and drawn.shape[1:] == (28, 28) and (drawn.reshape(len(drawn), -1).max(1) > 100).all()
    assert t.split.y_train.dtype == mnist.y_train.dtype and set(t.split.y_train) <= set(range(10))


@needs_strokes
def test_stop_while_drawing_the_drawn_style_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path))  # no cached set from another test
    with pytest.raises(Cancelled):
        prepare_training_data(val_size=100, limit=100, drawn_style=30, seed=5, should_stop=lambda: True)
    assert not list(tmp_path.rglob("drawn_*.npz")), "a stopped run must not cache a partial set"


@pytest.mark.skipif(not (default_pendigits_path().exists() and default_omniglot_path().exists()),
                    reason="shared pen digits or Omniglot not available")
def test_pen_digits_and_non_digits_are_added_and_calibration_uses_unseen_writers(tmp_path, monkeypatch):
    from mnist_desk.core.non_digits import NOT_A_DIGIT
    from mnist_desk.core.strokes import CALIBRATION_WRITERS, pendigits_of_writers

    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path))
    t = prepare_training_data(val_size=100, limit=100, pen_digits=30, not_digits=20, seed=2)
    assert t.n_pen_digits == 30 and 15 <= t.n_not_digits <= 20
    y = t.split.y_train
    assert (y == NOT_A_DIGIT).sum() == t.n_not_digits and len(y) == 100 + 30 + t.n_not_digits
    assert len(t.calibration_y) == len(pendigits_of_writers(CALIBRATION_WRITERS)) and "21-25" in t.calibration_source
    assert t.calibration_x.dtype == np.float32 and t.calibration_x.shape[1:] == (28, 28)
    assert set(t.split.y_val) <= set(range(10))  # validation stays digits only
