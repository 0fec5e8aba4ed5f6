"""What the model thinks a k looks like: gradient ascent on one class's logit, from a starting image.

Unconstrained ascent finds high-frequency speckle that no person would call a digit, so the image is held to a
prior of digit-like pictures: a Gaussian blur every few steps (strokes are smooth), a small pull toward 0 (the
background is blank) and pixels clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import Cancelled
from ..inspection import (
    _cached,
    _logits_model,
    first_layer_weights,
    first_layer_weights_of_net,
)
from .attacks import as_image

MEAN_DIGIT, YOUR_DRAWING = "mean", "drawing"

# Each step moves the pixels by _RATE in RMS: the gradient is scaled to unit RMS, so steps are alike across models
# whose logits differ in scale (by their calibration temperature, say).
_RATE = 0.04
_DECAY = 0.004  # the pull toward a blank background, per step
_BLUR_EVERY = 8  # steps between blurs: every step would wash out what the gradient just drew
# Where every unit of a layer is off (models trained to say "not a digit" switch a whole layer off for a blurry
# average digit) the gradient is exactly 0; a little noise wakes a few units, and the ascent goes on from there.
_KICK = 0.1


def mean_digit(images28: np.ndarray) -> np.ndarray:
    """The average training digit, float32 (28,28) in [0,1]."""
    x = np.asarray(images28)
    mean = x.reshape(len(x), 28, 28).mean(axis=0, dtype=np.float64)
    return (mean / 255.0 if x.dtype == np.uint8 else mean).astype(np.float32)


def class_logit_gradient(model):
    """``step(x (1,28,28,1), klass) -> (d logit_klass / dx, probs (10,))``: one compiled function per model."""
    import tensorflow as tf

    def build():
        both = _logits_model(model)

        @tf.function(input_signature=[tf.TensorSpec((1, 28, 28, 1), tf.float32), tf.TensorSpec((), tf.int32)])
        def step(x, klass):
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits, probs = both(x, training=False)
                score = logits[0, klass]
            return tape.gradient(score, x), probs[0]

        return step

    return _cached(model, "lab.class_logit_gradient", build)


def class_image(model, klass: int, start: np.ndarray, steps: int = 100, every: int = 5, smoothness: float = 1.0,
                should_stop: Callable[[], bool] | None = None,
                on_frame: Callable[[int, np.ndarray], None] | None = None) -> list[np.ndarray]:
    """Frames of gradient ascent on class ``klass``'s logit from ``start`` (e.g. :func:`mean_digit` or a drawing).

    One frame every ``every`` steps: the first is ``start``, the last the result after ``steps`` steps, so there
    are ``1 + ceil(steps / every)``. ``on_frame(i, frame)`` is called with each frame's index in the list as it is
    made. ``smoothness`` is the blur's sigma in pixels (0: no blur). Raises Cancelled when ``should_stop()`` says so.
    """
    import tensorflow as tf
    from scipy.ndimage import gaussian_filter

    if not 0 <= int(klass) <= 9:
        raise ValueError(f"klass must be a class 0-9, not {klass}")
    if every < 1:
        raise ValueError("every must be at least 1")
    step = class_logit_gradient(model)
    k = tf.constant(int(klass), tf.int32)
    x = as_image(start).copy()
    rng = np.random.default_rng(0)
    frames = [x.copy()]
    if on_frame is not None:
        on_frame(0, frames[0])
    for i in range(1, steps + 1):
        if should_stop is not None and should_stop():
            raise Cancelled("cancelled")
        # Blurs are counted from the end, so the result always follows a full stretch of ascent (a blur costs the
        # class some of its score, which the steps after it win back).
        if smoothness > 0 and (steps - i + 1) % _BLUR_EVERY == 0:
            x = gaussian_filter(x, smoothness, mode="constant")
        g = np.asarray(step(tf.constant(x[None, :, :, None]), k)[0])[0, :, :, 0]
        rms = float(np.sqrt(np.mean(g * g)))
        x = x + (_RATE / rms) * g if rms > 0 else x + rng.normal(0.0, _KICK, x.shape)
        x = x * (1.0 - _DECAY)
        x = np.clip(x, 0.0, 1.0).astype(np.float32)
        if i % every == 0 or i == steps:
            frames.append(x.copy())
            if on_frame is not None:
                on_frame(len(frames) - 1, frames[-1])
    return frames


def linear_template(model_or_net, klass: int) -> np.ndarray | None:
    """The linear model's template of class ``klass`` (28,28): its logit is this times the image, summed, plus a
    bias, so the template is exactly what the model looks for. None for a model with hidden layers."""
    try:
        weights = (first_layer_weights_of_net(model_or_net) if hasattr(model_or_net, "source_layers")
                   else first_layer_weights(model_or_net))
    except ValueError:  # its first weight layer does not read the pixels: no template, as for any deep model
        return None
    return weights.images[int(klass)].astype(np.float32) if weights.kind == "linear" else None
