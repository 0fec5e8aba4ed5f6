"""What a model file's config asks for, worked out from the config alone, before anything is built.

Keras builds every layer (allocating its weights) before it reads the weights file, and both forward
passes (Keras and numpy) allocate activations from the layer sizes; a 15 KB file can name sizes that
need gigabytes. The plan walks the layers from the 28x28x1 input, computing each layer's output shape
and the shapes of the weights it creates, without trusting the config's own ``build_config`` shapes.
Vetting refuses a plan that costs too much; the numpy loader checks every weight against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelFileError

INPUT_SHAPE = (28, 28, 1)
# The largest array one image's forward pass may make (our models: under 1 MB), in either forward pass.
MAX_FORWARD_BYTES = 256 * 2**20
# The most weight bytes a model may hold (our largest registry models: a few MB). Keras needs several
# times this while loading (the zip member, the HDF5 file in memory, the variables).
MAX_WEIGHT_BYTES = 128 * 2**20
# How many bytes of activations a batched Keras forward pass may make at once.
MAX_BATCH_BYTES = 512 * 2**20
# Any single size in a config above this is a forgery, not a model (and would make Python ints huge).
_MAX_DIM = 10**7


@dataclass
class PlannedLayer:
    kind: str
    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weight_shapes: list[tuple[int, ...]] = field(default_factory=list)
    scratch: int = 0  # elements of a working array beyond input and output (a convolution's im2col)


@dataclass
class ModelPlan:
    layers: list[PlannedLayer]

    @property
    def weight_count(self) -> int:
        return sum(math.prod(s) for layer in self.layers for s in layer.weight_shapes)

    @property
    def peak_bytes_per_image(self) -> int:
        """The largest float32 array one image's forward pass makes."""
        return 4 * max(
            max(math.prod(layer.input_shape), math.prod(layer.output_shape), layer.scratch) for layer in self.layers
        )

    def by_name(self) -> dict[str, PlannedLayer]:
        return {layer.name: layer for layer in self.layers}

    def batch_size_for(self, wanted: int) -> int:
        """``wanted``, made smaller if a batch that size would allocate more than MAX_BATCH_BYTES."""
        return max(1, min(int(wanted), MAX_BATCH_BYTES // max(self.peak_bytes_per_image, 1)))


def _int(value, what: str, name: str, path, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ModelFileError(path, f"layer {name!r} has an invalid {what} ({value!r})")
    v = int(value)
    if v != value or v < minimum or v > _MAX_DIM:
        raise ModelFileError(path, f"layer {name!r} has an invalid {what} ({value!r})")
    return v


def _pair(value, what: str, name: str, path) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ModelFileError(path, f"layer {name!r} has an invalid {what} ({value!r})")
        return _int(value[0], what, name, path), _int(value[1], what, name, path)
    v = _int(value, what, name, path)
    return v, v


def _window(size: int, k: int, stride: int, padding: str) -> int:
    return -(-size // stride) if padding == "same" else max((size - k) // stride + 1, 0)


# The options each layer class's config may hold (what Keras 3 writes). Keras refuses a layer with an unknown
# option when it rebuilds it; the numpy pass would ignore it, so both refuse it here.
_COMMON_OPTIONS = {"name", "dtype", "trainable", "activity_regularizer", "lora_rank", "lora_alpha", "quantization_config"}
_OPTIONS = {
    "InputLayer": {"batch_shape", "batch_input_shape", "optional", "ragged", "sparse", "batch_size", "input_tensor"},
    "Flatten": {"data_format"},
    "Dense": {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
              "bias_regularizer", "kernel_constraint", "bias_constraint"},
    "Activation": {"activation"},
    "Conv2D": {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
               "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
               "kernel_constraint", "bias_constraint"},
    "MaxPooling2D": {"pool_size", "strides", "padding", "data_format"},
    "BatchNormalization": {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                           "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
                           "gamma_regularizer", "beta_constraint", "gamma_constraint", "synchronized", "renorm",
                           "renorm_clipping", "renorm_momentum"},
    "Dropout": {"rate", "noise_shape", "seed"},
}


def _check_options(kind: str, conf: dict, name: str, path) -> None:
    unknown = sorted(str(k) for k in conf if k not in _COMMON_OPTIONS | _OPTIONS.get(kind, set()))
    if unknown:
        raise ModelFileError(path, f"layer {name!r} ({kind}) has an option {unknown[0]!r} that Keras does not know")
    act = conf.get("activation")
    if act is not None and not isinstance(act, str):
        raise ModelFileError(path, f"layer {name!r} gives its activation as {type(act).__name__}, not a name")


def _plan_layer(kind: str, conf: dict, name: str, shape: tuple[int, ...], path) -> PlannedLayer:
    _check_options(kind, conf, name, path)
    def need_image(what: str):
        if len(shape) != 3:
            raise ModelFileError(path, f"layer {name!r} ({what}) gets an input of shape {shape}, not an image")
        if conf.get("data_format", "channels_last") not in (None, "channels_last"):
            raise ModelFileError(path, f"layer {name!r} ({what}) reads channels-first data; this app's models do not")

    def padding() -> str:
        p = conf.get("padding", "valid")
        if p not in ("same", "valid"):
            raise ModelFileError(path, f"layer {name!r} has an invalid padding ({p!r})")
        return p

    if kind in ("Dropout", "Activation"):
        return PlannedLayer(kind, name, shape, shape)
    if kind == "Flatten":
        return PlannedLayer(kind, name, shape, (math.prod(shape),))
    if kind == "Dense":
        units = _int(conf.get("units"), "number of units", name, path)
        weights = [(shape[-1], units)] + ([(units,)] if conf.get("use_bias", True) else [])
        return PlannedLayer(kind, name, shape, shape[:-1] + (units,), weights)
    if kind == "BatchNormalization":
        axis = conf.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(shape)):
            raise ModelFileError(path, f"layer {name!r} normalises axis {axis!r}; this app's models normalise the last")
        c = shape[-1]
        n = int(bool(conf.get("scale", True))) + int(bool(conf.get("center", True))) + 2
        return PlannedLayer(kind, name, shape, shape, [(c,)] * n)
    if kind == "Conv2D":
        need_image("Conv2D")
        h, w, c = shape
        filters = _int(conf.get("filters"), "number of filters", name, path)
        kh, kw = _pair(conf.get("kernel_size"), "kernel size", name, path)
        sh, sw = _pair(conf.get("strides", 1), "stride", name, path)
        if _pair(conf.get("dilation_rate", 1), "dilation", name, path) != (1, 1):
            raise ModelFileError(path, f"layer {name!r} uses dilation; this app's models do not")
        if _int(conf.get("groups", 1), "number of groups", name, path) != 1:
            raise ModelFileError(path, f"layer {name!r} uses grouped convolution; this app's models do not")
        p = padding()
        oh, ow = _window(h, kh, sh, p), _window(w, kw, sw, p)
        if oh == 0 or ow == 0:
            raise ModelFileError(path, f"layer {name!r} has a {kh}x{kw} kernel, larger than its {h}x{w} input")
        weights = [(kh, kw, c, filters)] + ([(filters,)] if conf.get("use_bias", True) else [])
        return PlannedLayer(kind, name, shape, (oh, ow, filters), weights, scratch=oh * ow * kh * kw * c)
    if kind == "MaxPooling2D":
        need_image("MaxPooling2D")
        h, w, c = shape
        ph, pw = _pair(conf.get("pool_size", 2), "pool size", name, path)
        sh, sw = _pair(conf.get("strides") or (ph, pw), "stride", name, path)
        p = padding()
        oh, ow = _window(h, ph, sh, p), _window(w, pw, sw, p)
        if oh == 0 or ow == 0:
            raise ModelFileError(path, f"layer {name!r} pools {ph}x{pw} windows of a {h}x{w} input")
        return PlannedLayer(kind, name, shape, (oh, ow, c))
    raise ModelFileError(path, f"layer {name!r} is a {kind}, which this app's models do not use")


def _inbound_names(layer: dict) -> list[str]:
    # A damaged config.json may hold any JSON value at any of these levels: each is checked before use.
    names = []
    nodes = layer.get("inbound_nodes")
    for node in nodes if isinstance(nodes, (list, tuple)) else []:  # (a live model's config has tuples)
        args = node.get("args") if isinstance(node, dict) else None
        for a in args if isinstance(args, (list, tuple)) else []:
            conf = a.get("config") if isinstance(a, dict) else None
            hist = conf.get("keras_history") if isinstance(conf, dict) else None
            if isinstance(hist, list) and hist:
                names.append(hist[0])
    return names


def plan_model(config: dict, path: Path | None = None) -> ModelPlan:
    """The plan of a saved model's config (``config.json``, or a model's ``get_config()``).

    Refuses anything but a chain of layers from one 28x28x1 input to 10 outputs.
    """
    inner = config.get("config", config) if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        raise ModelFileError(path, "model config has no list of layers")
    first = layers[0]
    conf = first.get("config") if isinstance(first.get("config"), dict) else {}
    if first.get("class_name") != "InputLayer":
        raise ModelFileError(path, "model config does not start with an input layer")
    batch_shape = conf.get("batch_shape", conf.get("batch_input_shape"))
    if not isinstance(batch_shape, (list, tuple)) or tuple(batch_shape[1:]) != INPUT_SHAPE:
        raise ModelFileError(path, f"model takes inputs of shape {batch_shape and tuple(batch_shape[1:])}; "
                                   "this app's models take 28x28x1 images")
    _check_options("InputLayer", conf, str(conf.get("name", "input")), path)
    planned = [PlannedLayer("InputLayer", str(conf.get("name", "input")), INPUT_SHAPE, INPUT_SHAPE)]
    for layer in layers[1:]:
        kind = layer.get("class_name")
        conf = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        name = str(conf.get("name", kind))
        inbound = _inbound_names(layer)
        if inbound != [planned[-1].name]:
            raise ModelFileError(path, f"layer {name!r} does not follow the layer before it; this app's models are a "
                                       "chain of layers")
        shape = planned[-1].output_shape
        # Keras builds a layer (allocating its weights) from the input shape its build_config names: it must be
        # the shape the layer really gets.
        build = layer.get("build_config")
        claimed = build.get("input_shape") if isinstance(build, dict) else None
        if claimed is not None and (not isinstance(claimed, (list, tuple)) or tuple(claimed[1:]) != shape):
            raise ModelFileError(path, f"layer {name!r} claims an input of shape {claimed!r} but gets {shape}; refusing")
        planned.append(_plan_layer(str(kind), conf, name, shape, path))
    if planned[-1].output_shape != (10,):
        raise ModelFileError(path, f"model gives outputs of shape {planned[-1].output_shape}; expected 10 class probabilities")
    return ModelPlan(planned)


def check_costs(plan: ModelPlan, weights_file_bytes: int | None, path: Path | None = None) -> None:
    """Refuse a plan whose weights or one image's forward pass would need too much memory, saying how much."""
    need = plan.peak_bytes_per_image
    if need > MAX_FORWARD_BYTES:
        raise ModelFileError(path, f"would need {_size(need)} of memory to read one drawing "
                                   f"(at most {_size(MAX_FORWARD_BYTES)}); refusing")
    weight_bytes = 4 * plan.weight_count
    if weight_bytes > MAX_WEIGHT_BYTES:
        raise ModelFileError(path, f"has {plan.weight_count:,} weights ({_size(weight_bytes)}); this app's models have at "
                                   f"most {_size(MAX_WEIGHT_BYTES)} of weights; refusing")
    if weights_file_bytes is not None and weight_bytes > weights_file_bytes + (1 << 20):
        raise ModelFileError(path, f"model config declares {plan.weight_count:,} weights but its weights file holds only "
                                   f"{weights_file_bytes:,} bytes; refusing")


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
