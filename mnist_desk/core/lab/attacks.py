"""Adversarial nudges: the smallest change to a digit that makes a model read it as another class.

Targeted attacks within an L-infinity budget ``epsilon`` (no pixel moves by more than that; pixels stay in [0, 1]).
The loss is a margin of logits (Carlini-Wagner style): the target's logit less its rivals'. FGSM's single step takes
the model's answer for the clean input (the source) as the rival, so on the linear model it moves every pixel along
W[:, target] - W[:, source], the difference of the two class templates. The iterative attack takes every other class
as a rival, weighted by its softmax among them (the gradient of the target's log-odds): against the source alone, or
against the single strongest rival, it walks a model trained to say "not a digit" into the flat region where all
logits are equal and stalls there, while the weighted rivals keep every other class going down.
Logits rather than probabilities: the softmax saturates on a confident model and its gradient vanishes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import Cancelled
from ..inspection import _as_batch, _cached, _logits_model

FGSM, ITERATIVE = "fgsm", "iterative"
METHODS = (FGSM, ITERATIVE)

# The iterative attack moves 2.5 budgets in all (Madry et al.'s PGD step size), so a pixel can reach either end of
# its range even after going the wrong way early on.
_TRAVEL = 2.5
# Stop early once the target leads every other class by this much (calibrated logits: e^2 ~ 7 times as likely),
# so the nudge is not a bare coin flip and the remaining steps are not spent.
_STOP_MARGIN = 2.0


@dataclass
class Attack:
    method: str
    target: int
    epsilon: float  # L-infinity budget, pixels in [0,1]
    source: int  # the class the model gave the clean input
    nudged: np.ndarray  # float32 (28,28) in [0,1]
    perturbation: np.ndarray  # nudged - clean
    probs: np.ndarray  # (10,) the attacked model's calibrated probabilities of `nudged`
    fooled: bool  # argmax(probs) == target
    steps: int  # gradient steps taken


def as_image(x28: np.ndarray) -> np.ndarray:
    """One digit as float32 (28,28) in [0,1], from uint8 or float, (28,28) or (28,28,1)."""
    return _as_batch(x28)[0, :, :, 0]


def margin_gradient(model):
    """``step(x (1,28,28,1), target, source, smooth) -> (gradient (1,28,28,1), logits (10,), probs (10,))``.

    The gradient is of the target's logit less the rivals': the ``source``'s alone, or with ``smooth`` every
    other class's weighted by its softmax among them (the gradient of the target's log-odds,
    z_t - logsumexp over k != t of z_k). One compiled function per model; its input signature is fixed, so every
    later call reuses the first trace.
    """
    import tensorflow as tf

    def build():
        both = _logits_model(model)

        @tf.function(input_signature=[tf.TensorSpec((1, 28, 28, 1), tf.float32), tf.TensorSpec((), tf.int32),
                                      tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.bool)])
        def step(x, target, source, smooth):
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits, probs = both(x, training=False)
                z = logits[0]
                others = tf.where(tf.one_hot(target, 10) > 0, tf.constant(-np.inf, z.dtype), z)
                weights = tf.where(smooth, tf.nn.softmax(tf.stop_gradient(others)), tf.one_hot(source, 10, dtype=z.dtype))
                margin = z[target] - tf.reduce_sum(weights * z)
            return tape.gradient(margin, x), z, probs[0]

        return step

    return _cached(model, "lab.margin_gradient", build)


def _margin(logits: np.ndarray, target: int) -> float:
    return float(logits[target] - np.max(np.delete(logits, target)))


def attack(model, x28: np.ndarray, target: int, epsilon: float, method: str = ITERATIVE, steps: int = 40,
           should_stop: Callable[[], bool] | None = None,
           on_progress: Callable[[float], None] | None = None) -> Attack:
    """Nudge ``x28`` toward class ``target`` within ``epsilon``. Raises Cancelled when ``should_stop()`` says so.

    FGSM takes one step of ``epsilon * sign(gradient)``; the iterative method (targeted BIM/PGD) takes up to
    ``steps`` steps of ``2.5 * epsilon / steps``, projecting onto the epsilon ball and [0, 1] after each.
    If the model already answers ``target``, the clean input is returned (fooled, no steps).
    """
    import tensorflow as tf

    if method not in METHODS:
        raise ValueError(f"unknown attack {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 <= int(target) <= 9:
        raise ValueError(f"target must be a class 0-9, not {target}")
    target, epsilon = int(target), float(epsilon)
    step = margin_gradient(model)
    t = tf.constant(target, tf.int32)
    clean = as_image(x28)
    lo, hi = np.clip(clean - epsilon, 0.0, 1.0), np.clip(clean + epsilon, 0.0, 1.0)

    def run(x, source, smooth):
        g, z, p = step(tf.constant(x[None, :, :, None]), t, tf.constant(source, tf.int32), tf.constant(smooth))
        return np.asarray(g)[0, :, :, 0], np.asarray(z), np.asarray(p)

    grad, logits, probs = run(clean, 0, True)  # ``source`` is not read when smooth
    source = int(np.argmax(probs))
    x, taken = clean.copy(), 0
    if source != target:
        if method == FGSM:
            grad, _, _ = run(clean, source, False)
            x = np.clip(clean + epsilon * np.sign(grad), lo, hi).astype(np.float32)
            _, logits, probs = run(x, source, False)
            taken = 1
            if on_progress is not None:
                on_progress(1.0)
        else:
            size = _TRAVEL * epsilon / max(1, steps)
            for i in range(steps):
                if should_stop is not None and should_stop():
                    raise Cancelled("cancelled")
                x = np.clip(x + size * np.sign(grad), lo, hi).astype(np.float32)
                grad, logits, probs = run(x, source, True)
                taken = i + 1
                if on_progress is not None:
                    on_progress(taken / steps)
                if _margin(logits, target) >= _STOP_MARGIN:
                    break
    return Attack(method, target, epsilon, source, x, x - clean, probs, int(np.argmax(probs)) == target, taken)


def smallest_fooling_epsilon(model, x28: np.ndarray, target: int, method: str = ITERATIVE, hi: float = 0.5,
                             tolerance: float = 0.005, should_stop: Callable[[], bool] | None = None,
                             on_progress: Callable[[float], None] | None = None) -> float | None:
    """The smallest budget that fools the model toward ``target``, to within ``tolerance``, by bisection.

    Returns a budget at which the attack fools the model, with one ``tolerance`` below it at which it did not;
    None if even ``hi`` does not fool it; 0.0 if the model already answers ``target``.
    """
    rounds = 1 + max(0, math.ceil(math.log2(hi / tolerance)))
    done = 0

    def fools(eps: float) -> bool:
        nonlocal done
        a = attack(model, x28, target, eps, method, should_stop=should_stop)
        done += 1
        if on_progress is not None:
            on_progress(min(1.0, done / rounds))
        return a.fooled

    if attack(model, x28, target, 0.0, FGSM).fooled:  # the model already answers the target
        return 0.0
    if not fools(hi):
        return None
    lo = 0.0
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if fools(mid):
            hi = mid
        else:
            lo = mid
    if on_progress is not None:
        on_progress(1.0)
    return hi


def transfer(nets: list, nudged: np.ndarray) -> np.ndarray:
    """(n_models, 10): each other model's probabilities of the nudged input (NumpyNet forward passes)."""
    x = as_image(nudged)
    return np.stack([net.predict(x)[0] for net in nets]) if nets else np.zeros((0, 10), np.float32)
