"""Looking inside a model: every function returns arrays (no plotting), so the window and exports share them.

All functions take a Keras model built by the registry (input (28,28,1), a ``logits`` Dense layer,
a ``probabilities`` softmax) and images as uint8 (N,28,28) or float (N,28,28) in [0,1].
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import registry
from .confusion import confusion_matrix
from .data import to_float_images
from .errors import Cancelled


def _as_batch(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.dtype == np.uint8:
        return to_float_images(images)
    if images.ndim == 3:
        images = images[..., None]
    return images.astype(np.float32)


# ------------------------------------------------------------------------------ weights
@dataclass
class FirstLayerWeights:
    """The first layer with weights, as images. ``kind``: "linear" (10 class templates), "dense" or "conv"."""

    kind: str
    layer_name: str
    images: np.ndarray  # (units, 28, 28) for dense/linear; (filters, kh, kw) for conv (first input channel)
    biases: np.ndarray | None


def first_weight_layer(model):
    for layer in model.layers:
        if layer.__class__.__name__ in ("Dense", "Conv2D") and layer.weights:
            return layer
    raise ValueError("model has no Dense or Conv2D layer")


def first_layer_weights(model) -> FirstLayerWeights:
    layer = first_weight_layer(model)
    bias = np.asarray(layer.bias) if getattr(layer, "bias", None) is not None else None
    return _as_images(layer.__class__.__name__, layer.name, np.asarray(layer.kernel), bias)


def first_layer_weights_of_net(net) -> FirstLayerWeights:
    """The same from a numpy forward pass (a timeline's snapshot), without TensorFlow."""
    for layer in net.source_layers:
        if layer.kind in ("Dense", "Conv2D") and layer.weights:
            bias = layer.weights[1] if len(layer.weights) > 1 else None
            return _as_images(layer.kind, layer.name, layer.weights[0], bias)
    raise ValueError("model has no Dense or Conv2D layer")


def _as_images(kind: str, name: str, kernel: np.ndarray, bias) -> FirstLayerWeights:
    # Only a layer that reads the drawing itself has weights that are pictures (a model opened from a file may
    # pool or reshape before its first weight layer).
    if kind == "Conv2D":
        if kernel.ndim != 4 or kernel.shape[2] != 1:
            raise ValueError(f"layer {name!r} does not read the one-channel drawing directly")
        # (kh, kw, in, out) -> (out, kh, kw)
        return FirstLayerWeights("conv", name, np.transpose(kernel[:, :, 0, :], (2, 0, 1)), bias)
    if kernel.ndim != 2 or kernel.shape[0] != 28 * 28:
        raise ValueError(f"layer {name!r} does not read the 28x28 pixels directly")
    images = kernel.T.reshape(-1, 28, 28)  # (784, units) -> (units, 28, 28)
    return FirstLayerWeights("linear" if name == registry.LOGITS_LAYER else "dense", name, images, bias)


def feature_maps_of_net(net, image: np.ndarray) -> tuple[str, np.ndarray]:
    """:func:`feature_maps` from a numpy forward pass. Where batch norm follows the convolution it is folded
    into it there, so these maps are after batch norm."""
    w = first_layer_weights_of_net(net)
    if w.kind != "conv":
        raise ValueError("model has no convolution as its first layer")
    a = net.forward(_as_batch(image), until=w.layer_name)[0]
    return w.layer_name, np.transpose(a, (2, 0, 1))


def linear_contributions(model, image: np.ndarray) -> np.ndarray:
    """For a linear model: template x input, per class (10,28,28); their sums plus biases are the logits."""
    w = first_layer_weights(model)
    if w.kind != "linear":
        raise ValueError("pixel contributions are defined for the linear model only")
    x = _as_batch(image)[0, :, :, 0]
    return w.images * x[None]


# ------------------------------------------------------------------------------ activations
def hidden_layer_names(model) -> list[str]:
    """Layers whose output is a hidden representation worth projecting (not input, dropout, or the head)."""
    skip = {"InputLayer", "Dropout", "Flatten"}
    names = []
    for layer in model.layers:
        if layer.__class__.__name__ in skip or layer.name == registry.PROBS_LAYER:
            continue
        names.append(layer.name)
    return names


def default_hidden_layer(model) -> str:
    """The last layer before the logits (the representation the classifier separates)."""
    names = hidden_layer_names(model)
    before = [n for n in names if n != registry.LOGITS_LAYER]
    return before[-1] if before else registry.LOGITS_LAYER


# Sub-models are rebuilt only when the model changes: building one costs more than using it.
_SUB_MODELS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def _cached(model, key, build):
    per_model = _SUB_MODELS.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def sub_model(model, layer_name: str):
    import keras

    # model.input (one tensor, not a list) keeps Keras from warning that the input structure differs
    return _cached(model, ("layer", layer_name), lambda: keras.Model(model.input, model.get_layer(layer_name).output))


def layer_activations(model, layer_name: str, images: np.ndarray, batch_size: int = 512,
                      should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Activations of ``layer_name`` for each image, flattened to (N, features)."""
    sub = sub_model(model, layer_name)
    x = _as_batch(images)
    out = []
    for i in range(0, len(x), batch_size):
        if should_stop is not None and should_stop():
            raise Cancelled("cancelled")
        a = np.asarray(sub(x[i : i + batch_size], training=False))
        out.append(a.reshape(len(a), -1))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def feature_maps(model, image: np.ndarray) -> tuple[str, np.ndarray]:
    """Output of the first conv layer for one image: (name, (filters, H, W))."""
    layer = first_weight_layer(model)
    if layer.__class__.__name__ != "Conv2D":
        raise ValueError("model has no convolution as its first layer")
    a = np.asarray(sub_model(model, layer.name)(_as_batch(image), training=False))[0]
    return layer.name, np.transpose(a, (2, 0, 1))


# ------------------------------------------------------------------------------ gradients
@dataclass
class InputGradients:
    """d output_k / d input for k = 0..9, and of the top class. ``target``: "probabilities" or "logits"."""

    per_class: np.ndarray  # (10, 28, 28)
    top_class: int
    top: np.ndarray  # (28, 28), == per_class[top_class]
    outputs: np.ndarray  # (10,) the outputs that were differentiated
    probabilities: np.ndarray  # (10,)
    target: str

    @property
    def scale(self) -> float:
        """One symmetric colour limit shared by all ten images (the seed 001 figure)."""
        m = float(np.abs(self.per_class).max())
        return m if m > 0 else 1.0


def _logits_model(model):
    import keras

    return _cached(model, "logits+probabilities",
                   lambda: keras.Model(model.input, [model.get_layer(registry.LOGITS_LAYER).output, model.output]))


def input_gradients(model, image: np.ndarray, target: str = "probabilities", smoothgrad_samples: int = 0,
                    noise: float = 0.15, seed: int = 0) -> InputGradients:
    """Gradients of all 10 class outputs w.r.t. the 28x28 input, via tf.GradientTape (one Jacobian call).

    ``target="logits"`` differentiates the pre-softmax scores: they do not saturate, so the images have
    more contrast than probability gradients, which vanish once the model is confident.
    ``smoothgrad_samples`` > 0 averages gradients over noisy copies (SmoothGrad, Smilkov et al. 2017).
    """
    import tensorflow as tf

    if target not in ("probabilities", "logits"):
        raise ValueError("target must be 'probabilities' or 'logits'")
    both = _logits_model(model)
    x0 = _as_batch(image)[:1]
    if smoothgrad_samples > 0:
        rng = np.random.default_rng(seed)
        xs = x0 + rng.normal(0.0, noise, size=(smoothgrad_samples, 28, 28, 1)).astype(np.float32)
    else:
        xs = x0
    xt = tf.convert_to_tensor(xs)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits, probs = both(xt, training=False)
        out = logits if target == "logits" else probs
    jac = tape.batch_jacobian(out, xt)  # (n, 10, 28, 28, 1)
    per_class = np.asarray(jac).mean(axis=0)[..., 0]
    lg, pr = both(tf.convert_to_tensor(x0), training=False)
    pr = np.asarray(pr)[0]
    outputs = (np.asarray(lg) if target == "logits" else np.asarray(pr).reshape(1, -1))[0]
    top = int(pr.argmax())
    return InputGradients(per_class, top, per_class[top], outputs, pr, target)


# ------------------------------------------------------------------------------ errors
@dataclass
class Confusion:
    matrix: np.ndarray  # (10, 10) counts, rows = true label, columns = prediction
    predictions: np.ndarray  # (N,)
    confidences: np.ndarray  # (N,) probability of the predicted class
    probabilities: np.ndarray  # (N, 10)

    @property
    def accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else float("nan")


def confusion(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1024,
              should_stop: Callable[[], bool] | None = None,
              on_progress: Callable[[float], None] | None = None) -> Confusion:
    x = _as_batch(images)
    probs = []
    for i in range(0, len(x), batch_size):
        if should_stop is not None and should_stop():
            raise Cancelled("cancelled")
        probs.append(np.asarray(model(x[i : i + batch_size], training=False)))
        if on_progress is not None:
            on_progress(min(1.0, (i + batch_size) / len(x)))
    p = np.concatenate(probs) if probs else np.zeros((0, 10), np.float32)
    pred = p.argmax(axis=1)
    m = confusion_matrix(labels, pred)
    return Confusion(m, pred, p.max(axis=1) if len(p) else np.zeros(0), p)


def misclassified_indices(labels: np.ndarray, predictions: np.ndarray, true_label: int | None = None,
                          predicted: int | None = None) -> np.ndarray:
    """Indices of errors, optionally only those of one confusion-matrix cell."""
    mask = labels != predictions
    if true_label is not None:
        mask &= labels == true_label
    if predicted is not None:
        mask &= predictions == predicted
    return np.flatnonzero(mask)


def cell_indices(labels: np.ndarray, predictions: np.ndarray, true_label: int, predicted: int) -> np.ndarray:
    """Indices of one confusion-matrix cell (diagonal cells included)."""
    return np.flatnonzero((labels == true_label) & (predictions == predicted))


# ------------------------------------------------------------------------------ projections
def pca_2d(features: np.ndarray, seed: int = 0):
    """Fitted 2-D PCA (so a new point, e.g. the drawing, can be projected) and the projected features."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    return pca, pca.fit_transform(features)


def tsne_2d(features: np.ndarray, seed: int = 0, perplexity: float = 30.0, total_iter: int = 1000,
            chunk_iter: int = 250, on_progress: Callable[[float], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """2-D t-SNE (scikit-learn), run in chunks so it reports progress and can be cancelled between chunks.

    The first chunk includes the early-exaggeration phase; each later chunk starts from the previous
    embedding (``init=``) without exaggeration. Raises Cancelled when cancelled.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    from threadpoolctl import threadpool_limits

    n = len(features)
    if n < 5:
        raise ValueError("t-SNE needs at least 5 points")
    # Leave one core to the window: with every core busy, t-SNE's OpenMP threads fight the GUI thread
    # (measured 4-5x slower on 2 cores, with UI stalls).
    with threadpool_limits(limits=max(1, (os.cpu_count() or 2) - 1)):
        return _tsne_chunks(features, seed, perplexity, total_iter, chunk_iter, on_progress, should_stop)


def _tsne_chunks(features, seed, perplexity, total_iter, chunk_iter, on_progress, should_stop) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    n = len(features)
    perplexity = min(perplexity, (n - 1) / 3)
    feats = features.astype(np.float32)
    if feats.shape[1] > 50:  # the usual PCA-to-50 step: same neighbourhoods, much faster
        feats = PCA(n_components=50, random_state=seed).fit_transform(feats)
    done, emb = 0, "pca"
    while done < total_iter:
        if should_stop is not None and should_stop():
            raise Cancelled("cancelled")
        first = done == 0
        steps = max(250, min(chunk_iter, total_iter - done))
        tsne = TSNE(
            n_components=2, perplexity=perplexity, init=emb, random_state=seed, max_iter=steps,
            early_exaggeration=12.0 if first else 1.0, learning_rate="auto",
        )
        emb = tsne.fit_transform(feats).astype(np.float32)
        done += steps
        if on_progress is not None:
            on_progress(min(1.0, done / total_iter))
    return emb


def place_by_neighbours(query: np.ndarray, features: np.ndarray, embedding: np.ndarray, k: int = 8):
    """Where a new point goes in an embedding that cannot project (t-SNE): the mean of its k nearest neighbours.

    Returns (xy (2,), neighbour indices (k,)) with neighbours found in the original feature space.
    """
    d = np.linalg.norm(features - query[None], axis=1)
    idx = np.argsort(d)[:k]
    return embedding[idx].mean(axis=0), idx


def nearest_neighbours(query: np.ndarray, features: np.ndarray, k: int = 8) -> np.ndarray:
    d = np.linalg.norm(features - query[None], axis=1)
    return np.argsort(d)[:k]


# ------------------------------------------------------------------------------ summary
def layer_table(model) -> list[dict]:
    """Name, type, output shape and parameter count of each layer."""
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None
        rows.append({"name": layer.name, "type": layer.__class__.__name__, "output_shape": shape, "params": int(layer.count_params())})
    return rows
