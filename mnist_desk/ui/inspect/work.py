"""The Inspect view's work: plain functions the job runner calls off the GUI thread.

Each takes the model cache and a StoredModel, gets the Keras model from the cache and calls one function
of :mod:`mnist_desk.core.inspection`. They run on the job runner's one TensorFlow thread (its
``tensorflow`` lane), so two views never run the same Keras model at once; a projection runs its
t-SNE on a numpy thread and hands only its Keras part to the TensorFlow one.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from ...core import inspection as ins

_DATA_LOCK = threading.Lock()
_DATA = {}
NEIGHBOUR_POOL = 10_000  # training images searched for a drawing's nearest neighbours
FEATURE_BUDGET = 40_000_000  # floats of training activations kept per (model, layer)


def dataset():
    """MNIST (train and test), loaded once per process."""
    with _DATA_LOCK:
        if "mnist" not in _DATA:
            from ...core.data import load_mnist

            _DATA["mnist"] = load_mnist()
        return _DATA["mnist"]


def _model(cache, m):
    return cache.keras(m.path)


# ------------------------------------------------------------------------------ model facts
def model_facts(cache, m) -> dict:
    """Layer table, hidden layers and the first layer's kind: everything the views need to lay themselves out."""
    model = _model(cache, m)
    first = ins.first_weight_layer(model)
    return {
        "layers": ins.layer_table(model),
        "hidden": ins.hidden_layer_names(model),
        "default_hidden": ins.default_hidden_layer(model),
        "first_kind": "conv" if first.__class__.__name__ == "Conv2D" else ("linear" if first.name == "logits" else "dense"),
    }


# ------------------------------------------------------------------------------ weights
def weights(cache, m) -> ins.FirstLayerWeights:
    return ins.first_layer_weights(_model(cache, m))


def feature_maps(cache, m, x28: np.ndarray):
    return ins.feature_maps(_model(cache, m), x28)


# ------------------------------------------------------------------------------ gradients
@dataclass
class GradientResult:
    image: np.ndarray  # (28, 28) float in [0, 1], the input that was differentiated
    label: int | None  # true label of a test image
    source: str  # "your drawing" or "test image #i"
    grads: ins.InputGradients


def gradients(cache, m, image: np.ndarray | None, test_index: int | None, target: str, samples: int) -> GradientResult:
    label = None
    if image is None:
        ds = dataset()
        image = ds.x_test[test_index].astype(np.float32) / 255.0
        label = int(ds.y_test[test_index])
        source = f"test image #{test_index}"
    else:
        source = "your drawing"
    g = ins.input_gradients(_model(cache, m), image, target=target, smoothgrad_samples=samples)
    return GradientResult(np.asarray(image, np.float32), label, source, g)


# ------------------------------------------------------------------------------ errors
def confusion(cache, m, should_stop=None, on_progress=None):
    ds = dataset()
    c = ins.confusion(_model(cache, m), ds.x_test, ds.y_test, should_stop=should_stop, on_progress=on_progress)
    return c, ds


SNAPSHOT_TEST_IMAGES = 1000  # a timeline snapshot's confusion matrix: the same first test images for every snapshot
_scratch: dict[str, object] = {}  # model path -> a copy of its Keras model that takes snapshots' weights


def _with_snapshot(cache, m, weights: dict):
    """A copy of model ``m``'s Keras model holding a snapshot's weights (TensorFlow thread only)."""
    from ...core.store import inference_copy

    key = str(m.path)
    if key not in _scratch:
        _scratch.clear()  # one model's copy at a time: the one being scrubbed
        _scratch[key] = inference_copy(_model(cache, m))
    model = _scratch[key]
    for layer in model.layers:
        if layer.name in weights:
            layer.set_weights([np.asarray(w, np.float32) for w in weights[layer.name]])
    return model


def prepare_snapshot_copy(cache, m) -> None:
    """Make the copy that takes snapshots' weights, and run it once on the snapshot test images (so its forward
    pass is traced), before the user first moves the timeline: the first snapshot then costs what any does."""
    ds = dataset()
    n = SNAPSHOT_TEST_IMAGES
    ins.confusion(_with_snapshot(cache, m, {}), ds.x_test[:n], ds.y_test[:n])


def confusion_at_snapshot(cache, m, weights: dict, should_stop=None, on_progress=None):
    """The confusion matrix of model ``m`` with a timeline snapshot's weights, on the first
    SNAPSHOT_TEST_IMAGES test images. On the TensorFlow thread: the snapshot goes into a copy of the
    model kept for this (the shared one is never changed)."""
    from dataclasses import replace

    model = _with_snapshot(cache, m, weights)
    ds = dataset()
    n = SNAPSHOT_TEST_IMAGES
    sub = replace(ds, x_test=ds.x_test[:n], y_test=ds.y_test[:n])
    return ins.confusion(model, sub.x_test, sub.y_test, should_stop=should_stop, on_progress=on_progress), sub


# ------------------------------------------------------------------------------ hidden features
@dataclass
class Features:
    layer: str
    n: int
    test: np.ndarray  # (n, d) activations of the first n test images
    labels: np.ndarray  # (n,)
    train: np.ndarray  # (k, d) activations of the first k training images (neighbour search)
    dataset: object


@dataclass
class Projection:
    method: str  # "PCA" or "t-SNE"
    xy: np.ndarray  # (n, 2)
    pca: object | None  # the fitted PCA (projects new points); None for t-SNE


def features(cache, m, layer: str, n: int, should_stop=None, on_progress=None) -> Features:
    ds = dataset()
    n = min(n, len(ds.x_test))
    report = on_progress or (lambda f: None)
    model = _model(cache, m)
    test = ins.layer_activations(model, layer, ds.x_test[:n], should_stop=should_stop)
    report(0.3)
    k = int(np.clip(FEATURE_BUDGET // max(test.shape[1], 1), 1000, NEIGHBOUR_POOL))
    k = min(k, len(ds.x_train))
    train = ins.layer_activations(model, layer, ds.x_train[:k], should_stop=should_stop)
    report(1.0)
    return Features(layer, n, test, ds.y_test[:n].copy(), train, ds)


def numeric_threads() -> int:
    """Threads for BLAS/OpenMP in a projection job: all cores but one, which stays free for the window."""
    return max(1, (os.cpu_count() or 2) - 1)


def project(feats: Features, method: str, should_stop=None, on_progress=None) -> Projection:
    from threadpoolctl import threadpool_limits

    if method not in ("PCA", "t-SNE"):
        raise ValueError(f"unknown projection {method!r}")
    # On two cores, scikit-learn's OpenMP and BLAS threads would otherwise take both and starve the GUI
    # thread (and t-SNE runs no faster: its threads spin against each other and everything else).
    with threadpool_limits(limits=numeric_threads()):
        if method == "PCA":
            pca, xy = ins.pca_2d(feats.test)
            return Projection(method, xy.astype(np.float32), pca)
        return Projection(method, ins.tsne_2d(feats.test, on_progress=on_progress, should_stop=should_stop), None)


def features_and_projection(cache, m, layer: str, n: int, method: str, cached: Features | None, state):
    """Activations (unless cached, on the TensorFlow thread) then the 2-D projection (here, on a numpy
    thread, so a long t-SNE never holds up other views' Keras work); progress covers both."""
    share = 0.0 if cached is not None else (0.2 if method == "t-SNE" else 0.8)
    feats = cached or state.on_lane(
        "tensorflow", lambda: features(cache, m, layer, n, state.should_stop, lambda f: state.report(share * f)))
    proj = project(feats, method, state.should_stop, lambda f: state.report(share + (1 - share) * f))
    return feats, proj


class _PartOf:
    """A job's state for one part of its work: progress 0..1 of the part is ``start``..``start + size``."""

    def __init__(self, state, start: float, size: float):
        self._state, self._start, self._size = state, start, size
        self.should_stop, self.on_lane = state.should_stop, state.on_lane

    def report(self, value) -> None:
        self._state.report(self._start + self._size * value)


def features_and_projection_at_snapshot(cache, m, weights: dict, layer: str, n: int, method: str,
                                        final: tuple[Features | None, Projection | None], state):
    """The hidden-feature map of a timeline snapshot, turned and scaled onto the final model's map (an
    orthogonal Procrustes fit), so the same image stays near the same place across snapshots and the
    clusters are seen forming rather than jumping about. ``final`` is the final model's (features,
    projection) as far as known; a missing projection is computed first, since every snapshot is
    aligned to it. Returns the snapshot's (features, projection) and the final model's."""
    from scipy.linalg import orthogonal_procrustes

    final_feats, final_proj = final
    share = 0.0
    if final_proj is None:
        share = 0.5
        final_feats, final_proj = features_and_projection(cache, m, layer, n, method, final_feats,
                                                          _PartOf(state, 0.0, share))

    def activations():
        model = _with_snapshot(cache, m, weights)
        ds = dataset()
        k = min(n, len(ds.x_test))
        test = ins.layer_activations(model, layer, ds.x_test[:k], should_stop=state.should_stop)
        return Features(layer, k, test, ds.y_test[:k].copy(), np.zeros((0, test.shape[1]), np.float32), ds)

    feats = state.on_lane("tensorflow", activations)
    proj = project(feats, method, state.should_stop, lambda f: state.report(share + (1 - share) * f))
    if final_proj.xy.shape == proj.xy.shape:
        a = proj.xy - proj.xy.mean(axis=0)
        b = final_proj.xy - final_proj.xy.mean(axis=0)
        rotation, scale = orthogonal_procrustes(a, b)
        xy = a @ rotation * (scale / max(float((a ** 2).sum()), 1e-12)) + final_proj.xy.mean(axis=0)
        proj = Projection(proj.method, xy.astype(np.float32), None)
    return (feats, proj), (final_feats, final_proj)


def drawing_point(cache, m, feats: Features, proj: Projection, x28: np.ndarray, k: int = 8) -> dict:
    """Where the drawing lies in the projection, and its k nearest training images in the hidden space."""
    q = ins.layer_activations(_model(cache, m), feats.layer, x28[None])[0]
    if proj.pca is not None:
        xy = proj.pca.transform(q[None])[0]
    else:
        xy, _ = ins.place_by_neighbours(q, feats.test, proj.xy, k=k)
    nn = ins.nearest_neighbours(q, feats.train, k=k)
    dist = np.linalg.norm(feats.train[nn] - q[None], axis=1)
    return {"xy": np.asarray(xy, np.float32), "neighbours": nn, "distances": dist}
