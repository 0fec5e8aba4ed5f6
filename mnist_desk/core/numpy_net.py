"""A numpy forward pass for the registry's models, so the window predicts without TensorFlow.

Importing TensorFlow takes ~7 s; reading a ``.keras`` file with h5py and running the layers in numpy
takes milliseconds. The window predicts with this from the first stroke (and the GUI thread never
calls into TensorFlow); it is checked against Keras to 1e-5 in tests/test_numpy_net.py.
Only the layer types the registry produces are supported; the file is vetted by the store first.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import registry
from .errors import ModelFileError
from .model_plan import plan_model

_NO_WEIGHTS = {"InputLayer", "Flatten", "Dropout", "Activation", "MaxPooling2D"}


@dataclass
class _Layer:
    kind: str
    name: str
    config: dict
    weights: list


def _act(name: str, x: np.ndarray) -> np.ndarray:
    if name in (None, "linear"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ModelFileError(None, f"activation {name!r} is not supported")


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(size / stride) outputs; an odd total pad puts the extra row after."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (list, tuple)) else (int(v), int(v))


def _conv2d(x: np.ndarray, kernel: np.ndarray, bias, padding: str, strides=(1, 1)) -> np.ndarray:
    kh, kw, c, f = kernel.shape
    sh, sw = strides
    if padding == "same":
        x = np.pad(x, ((0, 0), _same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    win = win[:, ::sh, ::sw]
    n, h2, w2 = win.shape[:3]
    # im2col: one contiguous (N*H'*W', kh*kw*C) matrix and a single matmul
    cols = np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(n * h2 * w2, kh * kw * c)
    out = (cols @ kernel.reshape(kh * kw * c, f)).reshape(n, h2, w2, f)
    return out + bias if bias is not None else out


def _fold_batch_norm(layers: list[_Layer]) -> list[_Layer]:
    """Merge each BatchNormalization into the Conv2D/Dense right before it (inference is affine).

    w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta: the same
    outputs with one pass less over every feature map.
    """
    out: list[_Layer] = []
    for layer in layers:
        prev = out[-1] if out else None
        if (layer.kind == "BatchNormalization" and prev is not None and prev.kind in ("Conv2D", "Dense")
                and prev.config.get("activation") in (None, "linear")):
            c = layer.config
            w = list(layer.weights)
            gamma = w.pop(0) if c.get("scale", True) else 1.0
            beta = w.pop(0) if c.get("center", True) else 0.0
            mean, var = w
            k = (gamma / np.sqrt(var + c.get("epsilon", 1e-3))).astype(np.float32)
            kernel = prev.weights[0] * k
            bias = prev.weights[1] if prev.config.get("use_bias", True) else np.zeros_like(mean)
            conf = dict(prev.config, use_bias=True)
            out[-1] = _Layer(prev.kind, prev.name, conf, [kernel.astype(np.float32), ((bias - mean) * k + beta).astype(np.float32)])
            continue
        out.append(layer)
    return out


def _maxpool(x: np.ndarray, size: int) -> np.ndarray:
    n, h, w, c = x.shape
    h2, w2 = h // size, w // size
    return x[:, : h2 * size, : w2 * size].reshape(n, h2, size, w2, size, c).max(axis=(2, 4))


def _unsupported_option(kind: str, conf: dict) -> str | None:
    """A layer option the forward pass below does not implement (a file may set any Keras option)."""
    if kind == "Conv2D":
        if min(_pair(conf.get("strides", 1))) < 1:
            return "a stride below 1"
        if _pair(conf.get("dilation_rate", 1)) != (1, 1):
            return "dilation"
        if int(conf.get("groups", 1)) != 1:
            return "grouped convolution"
        if conf.get("padding", "valid") not in ("same", "valid"):
            return f"padding {conf.get('padding')!r}"
    if kind in ("Conv2D", "MaxPooling2D") and conf.get("data_format", "channels_last") not in (None, "channels_last"):
        return "channels-first data"
    if kind == "MaxPooling2D":
        size = _pair(conf.get("pool_size", 2))
        if size[0] != size[1] or _pair(conf.get("strides") or size) != size or conf.get("padding", "valid") != "valid":
            return "pooling other than square, non-overlapping windows"
    return None


def _check_weight_shapes(planned: dict, by_name: dict, path) -> None:
    """Every weight in the file has exactly the shape the config's layer creates (no more, no fewer)."""
    for name, layer in planned.items():
        got = [tuple(a.shape) for a in by_name.get(name, [])]
        if got != layer.weight_shapes:
            raise ModelFileError(path, f"weights of layer {name!r} have shapes {got}; its config needs {layer.weight_shapes}")
    extra = sorted(set(by_name) - set(planned))
    if extra:
        raise ModelFileError(path, f"weights file has weights for {extra[0]!r}, which is not a layer of the model")


class NumpyNet:
    """The forward pass of one of our models. ``predict(x)`` takes (N,28,28[,1]) floats in [0,1]."""

    def __init__(self, layers: list[_Layer], name: str = "model", masks: dict[str, np.ndarray] | None = None):
        """``masks``: {layer name: array} multiplied into that layer's output (broadcast over its last axis, one
        entry per unit or filter), e.g. to silence units. A batch norm folded into the layer before it has no
        output of its own, so a mask names a layer that the folded forward pass runs."""
        self.source_layers = layers  # as stored, before batch norm is folded in: what snapshots replace
        self.layers = _fold_batch_norm(layers)
        self.name = name
        self.masks = {k: np.asarray(v, np.float32) for k, v in (masks or {}).items()}
        unknown = sorted(set(self.masks) - {layer.name for layer in self.layers})
        if unknown:
            raise ValueError(f"a mask names {unknown[0]!r}, which is not a layer the forward pass runs")

    def weight_shapes(self) -> dict[str, list[tuple]]:
        """Each layer's weight shapes, by name, as a snapshot of this network must have them."""
        return {layer.name: [w.shape for w in layer.weights] for layer in self.source_layers if layer.weights}

    def with_weights(self, by_name: dict[str, list[np.ndarray]]) -> "NumpyNet":
        """The same network with other weights (a snapshot's, checked to fit by core.timeline)."""
        layers = [_Layer(layer.kind, layer.name, layer.config,
                         [np.asarray(a, np.float32) for a in by_name[layer.name]] if layer.name in by_name else layer.weights)
                  for layer in self.source_layers]
        return NumpyNet(layers, self.name, self.masks)

    # -------------------------------------------------------------------- construction
    @classmethod
    def from_keras_file(cls, path: str | Path) -> "NumpyNet":
        """Read a vetted ``.keras`` archive (config + weights) without TensorFlow."""
        from .store import vet_model_archive

        path = Path(path)
        config = vet_model_archive(path)
        import h5py

        try:
            with zipfile.ZipFile(path) as zf:
                weights_bytes = zf.read("model.weights.h5")
            by_name: dict[str, list] = {}
            with h5py.File(io.BytesIO(weights_bytes), "r") as f:
                groups = f["layers"] if "layers" in f else {}
                for key in groups:
                    vars_group = groups[key].get("vars")
                    if vars_group is None:
                        continue
                    lname = vars_group.attrs.get("name", key)
                    if isinstance(lname, bytes):
                        lname = lname.decode()
                    by_name[str(lname)] = [np.asarray(vars_group[str(i)]) for i in range(len(vars_group))]
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - h5py/zip errors of a damaged file
            raise ModelFileError(path, f"weights could not be read ({type(exc).__name__}: {exc})") from None
        layer_cfgs = config.get("config", {}).get("layers", [])
        _check_weight_shapes(plan_model(config, path).by_name(), by_name, path)
        net = cls(cls._layers_from(layer_cfgs, by_name, path), name=config.get("config", {}).get("name", path.stem))
        net.check_reads_digits(path)
        return net

    def check_reads_digits(self, path=None) -> None:
        """One forward pass on a blank 28x28 image, at loading: a model that cannot give 10 probabilities for it
        (NaN weights, an option the numpy pass reads differently) is refused once, not at every stroke.
        (Shapes and memory were checked against the config's plan before.)"""
        try:
            with np.errstate(all="ignore"):
                out = self.forward(np.zeros((1, 28, 28), np.float32))
        except Exception as exc:  # noqa: BLE001 - whatever a malformed layer raises
            raise ModelFileError(path, f"does not run on a 28x28 drawing ({type(exc).__name__}: {exc})") from None
        if out.shape != (1, 10):
            raise ModelFileError(path, f"gives {out.shape[1:] if out.ndim > 1 else out.shape} outputs for a drawing, not 10")
        if not np.all(np.isfinite(out)) or abs(float(out.sum()) - 1.0) > 1e-3 or float(out.min()) < -1e-6:
            raise ModelFileError(path, "does not give 10 probabilities for a drawing (its weights are damaged or NaN)")

    @classmethod
    def from_model(cls, model) -> "NumpyNet":
        """Snapshot an in-memory Keras model (e.g. just trained); call in the thread that owns the model."""
        cfgs = [{"class_name": layer.__class__.__name__, "config": layer.get_config()} for layer in model.layers]
        by_name = {layer.name: [np.asarray(w) for w in layer.weights] for layer in model.layers}
        return cls(cls._layers_from(cfgs, by_name, None), name=model.name)

    @staticmethod
    def _layers_from(cfgs: list, by_name: dict, path) -> list[_Layer]:
        layers = []
        for c in cfgs:
            kind = c.get("class_name")
            conf = c.get("config", {})
            name = conf.get("name", c.get("name"))
            if kind not in _NO_WEIGHTS | {"Dense", "Conv2D", "BatchNormalization"}:
                raise ModelFileError(path, f"layer type {kind!r} has no numpy forward pass")
            try:
                unsupported = _unsupported_option(kind, conf)
            except (TypeError, ValueError, IndexError):  # a damaged or hand-edited config.json
                raise ModelFileError(path, f"layer {name!r} ({kind}) has an invalid option") from None
            if unsupported:
                raise ModelFileError(path, f"layer {name!r} ({kind}) uses {unsupported}, which has no numpy forward pass")
            w = by_name.get(name, [])
            if kind in ("Dense", "Conv2D") and not w:
                raise ModelFileError(path, f"weights of layer {name!r} are missing")
            layers.append(_Layer(kind, name, conf, [a.astype(np.float32) for a in w]))
        return layers

    # -------------------------------------------------------------------- forward
    def forward(self, x: np.ndarray, until: str | None = None) -> np.ndarray:
        """Run the layers; stop after layer ``until`` (e.g. ``"logits"``) if given."""
        x = np.asarray(x, np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim == 3:
            x = x[..., None]
        for layer in self.layers:
            k, c, w = layer.kind, layer.config, layer.weights
            if k == "Dense":
                x = _act(c.get("activation"), x @ w[0] + (w[1] if c.get("use_bias", True) else 0))
            elif k == "Conv2D":
                bias = w[1] if c.get("use_bias", True) else None
                x = _act(c.get("activation"), _conv2d(x, w[0], bias, c.get("padding", "valid"), _pair(c.get("strides", 1))))
            elif k == "BatchNormalization":
                eps = c.get("epsilon", 1e-3)
                i = 0
                gamma = w[i] if c.get("scale", True) else 1.0
                i += int(c.get("scale", True))
                beta = w[i] if c.get("center", True) else 0.0
                i += int(c.get("center", True))
                mean, var = w[i], w[i + 1]
                x = (x - mean) / np.sqrt(var + eps) * gamma + beta
            elif k == "Activation":
                x = _act(c.get("activation"), x)
            elif k == "MaxPooling2D":  # noqa: SIM114
                ps = c.get("pool_size", (2, 2))
                x = _maxpool(x, int(ps[0] if isinstance(ps, (list, tuple)) else ps))
            elif k == "Flatten":
                x = x.reshape(len(x), -1)
            # InputLayer, Dropout and augmentation layers are the identity at inference
            if layer.name in self.masks:
                x = x * self.masks[layer.name]
            if until is not None and layer.name == until:
                break
        return x

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, until=registry.LOGITS_LAYER)
