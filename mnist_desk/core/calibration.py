"""Making a model's confidence mean what it says, and setting where its "unsure" starts.

After a run, :func:`calibrate` fits one temperature T on held-out digits (Guo et al., 2017: the logits
divided by T minimise the log loss there) and folds it into the ``logits`` layer's weights, so every
consumer of the model (Keras, the numpy forward pass, the inspection views) gets calibrated
probabilities with no extra step. It then sets the model's ``unsure_below`` threshold: the top
probability below which only ``flag_rate`` of those held-out digits fall.
"""

from __future__ import annotations

import math

import numpy as np

from .registry import LOGITS_LAYER, logits_submodel
from .verdict import DEFAULT_UNSURE_BELOW

FLAG_RATE = 0.01  # share of held-out real digits allowed below the "unsure" threshold
MIN_UNSURE_BELOW, MAX_UNSURE_BELOW = 0.3, 0.95
# With (almost) no errors on the calibration digits the log loss keeps falling as T falls, and a fitted T
# would sharpen the model without bound; it is fitted only with at least MIN_ERRORS errors, within bounds.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.3, 5.0
MIN_ERRORS = 10


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of the top probability: the mean |accuracy - confidence| over ``bins`` equal-width bins, weighted by size."""
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if len(y) == 0:
        return float("nan")
    conf = probs.max(axis=1)
    right = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(right[m].mean() - conf[m].mean())
    return float(ece)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the log loss of softmax(logits / T) on (logits, y)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / math.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    res = minimize_scalar(nll, bounds=(math.log(MIN_TEMPERATURE), math.log(MAX_TEMPERATURE)), method="bounded")
    return float(math.exp(res.x))


def logits_of(model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The ``logits`` layer's output for float (N,28,28[,1]) images.

    By Keras, in batches: calibration scores up to 10,000 validation images on the run's worker thread, and
    the numpy forward pass (one image at a time is what it is for) takes ten times longer on as many.
    """
    sub = logits_submodel(model)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    return np.concatenate([np.asarray(sub(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)])


def fold_temperature(model, temperature: float) -> None:
    """Divide the logits layer's kernel and bias by ``temperature`` (in place)."""
    layer = model.get_layer(LOGITS_LAYER)
    layer.set_weights([w / np.float32(temperature) for w in layer.get_weights()])


def unsure_threshold(probs: np.ndarray, flag_rate: float = FLAG_RATE) -> float:
    """The top probability below which ``flag_rate`` of these (real digit) predictions fall."""
    if len(probs) == 0:
        return DEFAULT_UNSURE_BELOW
    t = float(np.quantile(np.asarray(probs).max(axis=1), flag_rate))
    return float(min(max(t, MIN_UNSURE_BELOW), MAX_UNSURE_BELOW))


def calibrate(model, x: np.ndarray, y: np.ndarray, flag_rate: float = FLAG_RATE, source: str = "") -> dict:
    """Fit and fold the temperature on (x, y) and set the "unsure" threshold there; returns the metadata entry.

    ``x`` float (N,28,28) images in [0,1] of real digits the model was not trained on.
    """
    from scipy.special import softmax

    logits = logits_of(model, x)
    errors = int((logits.argmax(axis=1) != y).sum())
    t = fit_temperature(logits, y) if errors >= MIN_ERRORS else 1.0
    fold_temperature(model, t)
    probs = softmax(logits / t, axis=1)
    return {
        "temperature": round(t, 4),
        "unsure_below": round(unsure_threshold(probs, flag_rate), 4),
        "flag_rate": flag_rate,
        "calibration_error_on_fit_set": round(expected_calibration_error(probs, y), 4),
        "fitted_on": source or f"{len(y)} held-out digits",
    }


MIN_CALIBRATION_DIGITS = 200


def calibrate_run(model, prepared) -> dict | None:
    """Calibrate a finished run's model on its held-out digits (``TrainingData.calibration_*``).

    None (the model keeps its raw probabilities and the default threshold) when there are too few of them
    to fit anything, e.g. a run with a tiny validation split.
    """
    x, y, source = prepared.calibration_x, prepared.calibration_y, prepared.calibration_source
    if x is None:
        from .data import to_float_images

        x, y = to_float_images(prepared.split.x_val)[..., 0], prepared.split.y_val
        source = f"{len(y)} validation images"
    if len(y) < MIN_CALIBRATION_DIGITS:
        return None
    return calibrate(model, x, y, source=source)
