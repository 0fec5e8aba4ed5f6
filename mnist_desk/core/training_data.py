"""The images a training run learns from: a dataset, its validation split, and what is added to it.

One function for the CLI's ``train`` and the window's Train view, so both build the same training set:
the dataset (shipped MNIST or the user's files), the first ``limit`` training images, the user's own
labelled digits from the Draw view, MNIST digits re-drawn as pen strokes (drawn-style digits, which
teach a model what a mouse-drawn digit looks like), real pen digits of other people, and drawings that are
not digits (which teach it to say so). Validation is the last ``val_size`` images of the
dataset's own training set, before anything is added, so added digits never leak into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import data


@dataclass
class TrainingData:
    dataset: data.Dataset  # the whole dataset (its test set is what a run is scored on)
    split: data.Split  # what fit() sees: training images (with the additions) and validation images
    n_my_digits: int = 0
    n_drawn_style: int = 0
    n_pen_digits: int = 0
    n_not_digits: int = 0
    # Held-out real digits for calibration (float (N,28,28), labels) when pen digits are used: the pen digits
    # of writers the run never trains on (without them, calibration uses the validation images).
    calibration_x: np.ndarray | None = None
    calibration_y: np.ndarray | None = None
    calibration_source: str = ""


def prepare_training_data(
    val_size: int,
    data_path: str | Path | None = None,
    limit: int | None = None,
    use_my_digits: bool = False,
    my_digits_path: str | Path | None = None,
    drawn_style: int = 0,
    seed: int = 0,
    pen_digits: int = 0,
    not_digits: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> TrainingData:
    """Load and assemble a run's training set. Raises the loaders' :class:`DataError` for a bad file.

    ``drawn_style`` digits (MNIST's pen-stroke traces), ``pen_digits`` (real pen digits of the training
    writers) and ``not_digits`` (Omniglot characters and doodles, label ``NOT_A_DIGIT``) are drawn on a
    canvas on first use (a minute or so for 50,000 on two cores) and cached; ``should_stop`` is polled
    between chunks of that work, and a stop raises ``Cancelled``. With pen digits, the pen digits of
    the calibration writers are prepared for calibrating the model after the run.
    """
    ds = data.load_mnist(data_path)
    split = data.split_validation(ds.x_train, ds.y_train, val_size)
    x_parts, y_parts = [split.x_train[:limit] if limit else split.x_train], [split.y_train[:limit] if limit else split.y_train]
    out = TrainingData(ds, split)
    if use_my_digits:
        from .my_digits import MyDigits

        mine = MyDigits.load(my_digits_path)
        out.n_my_digits = len(mine)
        x_parts.append(mine.x)
        y_parts.append(mine.y.astype(split.y_train.dtype))
    additions = ((drawn_style, "mnist", "n_drawn_style"), (pen_digits, "pendigits", "n_pen_digits"),
                 (not_digits, "non-digits", "n_not_digits"))
    for count, source, field in additions:
        if count > 0:
            from .augment import drawn_style_images

            xd, yd = drawn_style_images(int(count), seed=seed, source=source, should_stop=should_stop)
            setattr(out, field, len(xd))
            x_parts.append(xd)
            y_parts.append(yd.astype(split.y_train.dtype))
    if pen_digits > 0:
        from .drawn_sets import prepared_drawings
        from .strokes import CALIBRATION_WRITERS, pendigits_of_writers

        out.calibration_x, out.calibration_y = prepared_drawings(pendigits_of_writers(CALIBRATION_WRITERS))
        out.calibration_source = (f"{len(out.calibration_y)} pen digits of writers "
                                  f"{CALIBRATION_WRITERS[0]}-{CALIBRATION_WRITERS[-1]}, never trained on")
    if len(x_parts) > 1 or limit:
        x_all, y_all = np.concatenate(x_parts), np.concatenate(y_parts)
        if len(x_parts) > 1:
            # Mixed once here: training shuffles within a bounded buffer, and the parts arrive in blocks (all
            # of MNIST, then the drawn ones), so without this the end of every epoch would be mostly additions.
            order = np.random.default_rng(seed).permutation(len(y_all))
            x_all, y_all = x_all[order], y_all[order]
        out.split = data.Split(x_all, y_all, split.x_val, split.y_val)
    return out
