"""The Lab's background work: plain functions the views run on the job runner (numpy lane unless they need
gradients). They read models through the shared cache and return plain results."""

from __future__ import annotations

import numpy as np

from ...core.errors import EmptyDrawing
from ...core.lab import transforms as tr
from ...core.preprocess import RecipeSteps
from ..inspect.work import dataset

TEST_IMAGES = 1000  # "break it" measures the broken network on these: quick enough to follow a slider


def answers(cache, paths: list[str], grey: np.ndarray, p: tr.Perturbation, where: str,
            steps: RecipeSteps = RecipeSteps()) -> tuple[np.ndarray | None, list[np.ndarray], str]:
    """What the models see with the perturbation applied and each model's probabilities for it; or None, [] and
    the reason, when the change leaves nothing to read (a block over all the ink, a stroke thinned away)."""
    try:
        x = tr.model_input(grey, p, where, steps)
    except EmptyDrawing as exc:
        return None, [], str(exc)
    return x, [cache.net(path).predict(x[None])[0] for path in paths], ""


def answers_and_class(cache, paths: list[str], grey: np.ndarray, p: tr.Perturbation, where: str, klass: int | None):
    """:func:`answers`, and the class the view follows (``klass``, or the main model's answer for the drawing)."""
    x, probs, empty = answers(cache, paths, grey, p, where)
    if klass is None and x is not None:
        klass = drawing_class(cache, paths[0], grey)
    return x, probs, empty, klass


def drawing_class(cache, path: str, grey: np.ndarray, steps: RecipeSteps = RecipeSteps()) -> int:
    """The main model's answer for the drawing as drawn: the class whose probability the sweeps follow."""
    x = tr.model_input(grey, tr.Perturbation(), tr.AFTER, steps)
    return int(np.argmax(cache.net(path).predict(x[None])[0]))


def sweeps(cache, paths: list[str], grey: np.ndarray, p: tr.Perturbation, where: str, klass: int | None,
           sliders: list[str], state) -> tuple[int, dict[str, tr.Sweep]]:
    """Every named slider swept over its whole range, the other settings kept; ``klass`` None: the main
    model's answer for the unchanged drawing."""
    nets = [cache.net(path) for path in paths]
    if klass is None:
        klass = drawing_class(cache, paths[0], grey)
    out = {}
    for i, name in enumerate(sliders):
        state.check()  # (a part of the curves is not delivered as if it were all of them)
        out[name] = tr.sweep(nets, grey, p, name, where, klass, should_stop=state.should_stop)
        state.report((i + 1) / len(sliders))
    return klass, out


# ------------------------------------------------------------------ gradients: the TensorFlow lane
def nudge(cache, paths: list[str], x28: np.ndarray, target: int, epsilon: float, method: str, state):
    """The attack on the main model, and how every compared model answers the nudged input."""
    from ...core.lab import attacks

    result = state.on_lane("tensorflow", lambda: attacks.attack(
        cache.keras(paths[0]), x28, target, epsilon, method, should_stop=state.should_stop, on_progress=state.report))
    return result, attacks.transfer([cache.net(p) for p in paths], result.nudged)


def smallest_epsilons(cache, paths: list[str], x28: np.ndarray, target: int, method: str, state) -> list[float | None]:
    """For each model: the smallest budget whose attack on that model makes it answer ``target``."""
    from ...core.lab import attacks

    out = []
    for i, path in enumerate(paths):
        def one(path=path, i=i):
            return attacks.smallest_fooling_epsilon(
                cache.keras(path), x28, target, method, should_stop=state.should_stop,
                on_progress=lambda f: state.report((i + f) / len(paths)))
        out.append(state.on_lane("tensorflow", one))
    return out


def class_image(cache, path: str, klass: int, start: np.ndarray, smoothness: float, on_frame, state):
    from ...core.lab import dream

    return state.on_lane("tensorflow", lambda: dream.class_image(
        cache.keras(path), klass, start, smoothness=smoothness, should_stop=state.should_stop, on_frame=on_frame))


_MEAN_DIGIT: list[np.ndarray] = []


def mean_digit() -> np.ndarray:
    """The average of the first 10,000 training digits, worked out once."""
    from ...core.lab import dream

    if not _MEAN_DIGIT:
        _MEAN_DIGIT.append(dream.mean_digit(dataset().x_train[:10_000]))
    return _MEAN_DIGIT[0]


def broken(cache, path: str, silenced: frozenset, noise: float, x28: np.ndarray | None, layer: str | None = None,
           seed: int = 0):
    """The main model broken as asked: its probabilities for the drawing and its accuracy on 1,000 test images."""
    from ...core.lab import breaking

    net = breaking.broken_net(cache.net(path), set(silenced), noise, layer=layer, seed=seed)
    ds = dataset()
    probs = None if x28 is None else net.predict(x28[None])[0]
    return probs, breaking.quick_accuracy(net, ds.x_test[:TEST_IMAGES] / 255.0, ds.y_test[:TEST_IMAGES])
