"""Break it: silence first-layer units or shake a layer's weights, and see how much reading is left.

Numpy only (NumpyNet forward passes): a broken copy is made and measured in well under a second, so the window can
redo it as a slider moves.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import registry
from ..inspection import first_layer_weights_of_net
from ..numpy_net import NumpyNet

QUICK_IMAGES = 1000
_BATCH = 100  # the cnn's im2col takes ~0.9 MB per image; smaller batches also stay in cache (measured fastest)


def first_layer_units(net: NumpyNet) -> tuple[str, int]:
    """The first weight layer's name and its number of units (Dense) or filters (Conv2D)."""
    weights = first_layer_weights_of_net(net)
    return weights.layer_name, len(weights.images)


def _unit_output_layer(net: NumpyNet, name: str) -> str:
    """The layer whose output is what the next weight layer receives from ``name``'s units.

    A batch norm and an activation right after a layer belong to its units: a unit is silent only once its value
    after them is 0 (zeroing the kernel would leave the batch norm's shift and a sigmoid's 0.5). The softmax after
    the logits is the model's answer, not part of a unit.
    """
    names = [layer.name for layer in net.layers]
    i = names.index(name)
    while (i + 1 < len(net.layers) and net.layers[i + 1].kind in ("BatchNormalization", "Activation")
           and net.layers[i + 1].name != registry.PROBS_LAYER):
        i += 1
    return names[i]


def broken_net(net: NumpyNet, silenced: Iterable[int] = frozenset(), noise: float = 0.0, layer: str | None = None,
               seed: int = 0) -> NumpyNet:
    """A copy of ``net`` with first-layer units silenced and Gaussian noise in one layer's weights.

    ``silenced``: first-layer units or filters whose output (after its batch norm and activation) is 0, so they
    contribute nothing to the next layer. ``noise``: the noise's standard deviation, in units of the standard
    deviation of layer ``layer``'s kernel (default: the first weight layer); biases are left as they are.
    """
    first, units = first_layer_units(net)
    silenced = sorted({int(u) for u in silenced})
    if silenced and not (0 <= silenced[0] and silenced[-1] < units):
        raise ValueError(f"{first} has units 0-{units - 1}; cannot silence {silenced}")
    if noise < 0:
        raise ValueError("noise must be >= 0")
    name = layer or first
    by_name = {source.name: source for source in net.source_layers}
    if name not in by_name or by_name[name].kind not in ("Dense", "Conv2D"):
        raise ValueError(f"{name!r} is not a Dense or Conv2D layer of {net.name}")
    new_weights = {}
    if noise > 0:
        kernel, *rest = by_name[name].weights
        rng = np.random.default_rng(seed)
        shaken = kernel + rng.normal(0.0, noise * float(kernel.std()), kernel.shape).astype(np.float32)
        new_weights[name] = [shaken, *rest]
    masks = dict(net.masks)
    if silenced:
        target = _unit_output_layer(net, first)
        mask = np.ones(units, np.float32)
        mask[silenced] = 0.0
        masks[target] = masks[target] * mask if target in masks else mask
    return NumpyNet(net.with_weights(new_weights).source_layers, net.name, masks)


def quick_accuracy(net: NumpyNet, images28: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on the first 1,000 images (uint8 or floats in [0,1]), NumpyNet forward."""
    x = np.asarray(images28)[:QUICK_IMAGES]
    y = np.asarray(labels)[:QUICK_IMAGES]
    if len(x) == 0:
        return float("nan")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    predictions = np.concatenate([net.predict(x[i : i + _BATCH]).argmax(axis=1) for i in range(0, len(x), _BATCH)])
    return float(np.mean(predictions == y))
