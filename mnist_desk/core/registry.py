"""The model registry: one entry per architecture, each with its hyperparameters and defaults.

Every model takes float32 (N, 28, 28, 1) images in [0, 1] and ends in a Dense layer named ``logits``
followed by a softmax layer named ``probabilities``, so inspection can read logits or probabilities
from any of them. TensorFlow/Keras are imported inside functions: importing this module is instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

LOGITS_LAYER = "logits"
PROBS_LAYER = "probabilities"


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its default and how a form or the CLI should ask for it."""

    name: str
    default: Any
    kind: str  # "int", "float", "choice", "ints" (a list of ints), "bool"
    help: str = ""
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, value: Any) -> Any:
        """Convert a CLI/form value to the parameter's type, or raise ValueError with a clear message."""
        if self.kind == "int":
            v = int(value)
        elif self.kind == "float":
            v = float(value)
        elif self.kind == "bool":
            v = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        elif self.kind == "ints":
            if isinstance(value, str):
                v = [int(s) for s in value.replace(",", " ").split()]
            else:
                v = [int(s) for s in value]
            if not v:
                raise ValueError(f"{self.name}: give at least one size")
            for s in v:
                if s < 1:
                    raise ValueError(f"{self.name}: sizes must be >= 1")
            return v
        elif self.kind == "choice":
            v = str(value)
            if v not in self.choices:
                raise ValueError(f"{self.name}: {v!r} is not one of {', '.join(self.choices)}")
            return v
        else:  # pragma: no cover - registry definition error
            raise TypeError(self.kind)
        if self.minimum is not None and v < self.minimum:
            raise ValueError(f"{self.name}: {v} is below the minimum {self.minimum}")
        if self.maximum is not None and v > self.maximum:
            raise ValueError(f"{self.name}: {v} is above the maximum {self.maximum}")
        return v


@dataclass(frozen=True)
class Architecture:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[dict], Any]
    # Training defaults that suit this architecture (the optimizer table below gives the rest).
    training_defaults: dict = field(default_factory=dict)
    # Drawings added to the shipped MNIST by default (runs.TrainSpec: drawn_style, pen_digits, not_digits).
    data_defaults: dict = field(default_factory=dict)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve(self, hparams: dict | None) -> dict:
        """Defaults overlaid with ``hparams``, each value parsed; unknown names are an error."""
        known = {p.name: p for p in self.params}
        out = self.defaults()
        for k, v in (hparams or {}).items():
            if k not in known:
                raise ValueError(f"{self.name} has no hyperparameter {k!r} (it has: {', '.join(known) or 'none'})")
            out[k] = known[k].parse(v)
        return out


# ------------------------------------------------------------------------------ builders
def _regularizer(l2: float):
    import keras

    return keras.regularizers.L2(l2) if l2 and l2 > 0 else None


def _head(x, l2: float = 0.0):
    import keras

    logits = keras.layers.Dense(10, name=LOGITS_LAYER, kernel_regularizer=_regularizer(l2))(x)
    return keras.layers.Activation("softmax", name=PROBS_LAYER)(logits)


def _input():
    import keras

    return keras.Input(shape=(28, 28, 1), name="image")


def build_linear(hp: dict):
    import keras

    inp = _input()
    x = keras.layers.Flatten(name="flatten")(inp)
    return keras.Model(inp, _head(x, hp["l2"]), name="linear")


def build_mlp(hp: dict):
    import keras

    inp = _input()
    x = keras.layers.Flatten(name="flatten")(inp)
    for i, units in enumerate(hp["hidden"]):
        x = keras.layers.Dense(
            units, activation=hp["activation"], kernel_regularizer=_regularizer(hp["l2"]), name=f"hidden{i + 1}"
        )(x)
        if hp["dropout"] > 0:
            x = keras.layers.Dropout(hp["dropout"], name=f"dropout{i + 1}")(x)
    return keras.Model(inp, _head(x, hp["l2"]), name="mlp")


def build_lenet5(hp: dict):
    """LeNet-5 exactly as seed 003 builds it: truncated-normal(0.1) weights, zero biases, SAME then VALID conv."""
    import keras

    init = lambda: keras.initializers.TruncatedNormal(stddev=0.1)  # noqa: E731 - a fresh initializer per layer
    zeros = "zeros"
    inp = _input()
    x = keras.layers.Conv2D(6, 5, padding="same", activation="relu", kernel_initializer=init(), bias_initializer=zeros, name="conv1")(inp)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(16, 5, padding="valid", activation="relu", kernel_initializer=init(), bias_initializer=zeros, name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(120, activation="relu", kernel_initializer=init(), bias_initializer=zeros, name="fc1")(x)
    x = keras.layers.Dense(84, activation="relu", kernel_initializer=init(), bias_initializer=zeros, name="fc2")(x)
    logits = keras.layers.Dense(10, kernel_initializer=init(), bias_initializer=zeros, name=LOGITS_LAYER)(x)
    out = keras.layers.Activation("softmax", name=PROBS_LAYER)(logits)
    return keras.Model(inp, out, name="lenet5")


def build_cnn(hp: dict):
    """The default model: two conv blocks with batch norm, then a dense layer; strong and quick on a CPU."""
    import keras

    w = hp["width"]
    inp = _input()
    x = inp
    for block, filters in enumerate((w, 2 * w)):
        for j in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block + 1}_{j + 1}")(x)
            x = keras.layers.BatchNormalization(name=f"bn{block + 1}_{j + 1}")(x)
            x = keras.layers.Activation("relu", name=f"relu{block + 1}_{j + 1}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hp["dense"], use_bias=False, name="fc")(x)
    x = keras.layers.BatchNormalization(name="bn_fc")(x)
    x = keras.layers.Activation("relu", name="relu_fc")(x)
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name="dropout")(x)
    return keras.Model(inp, _head(x), name="cnn")


def build_strided(hp: dict):
    """The fastest to 99%: two strided convs (no pooling) with batch norm, then a dense layer.

    Measured on a 2-core CPU (benchmarks/time_to_accuracy.py): oneDNN runs a 5x5 conv with stride 2
    and 16 filters in half the time of LeNet-5's stride-1 6-filter conv, so a training step costs ~45%
    of LeNet-5's; with batch norm and a one-cycle schedule it passes 99% test accuracy in 2 epochs.
    """
    import keras

    w = hp["width"]
    inp = _input()
    x = inp
    for i, (filters, size) in enumerate(((w, 5), (2 * w, 3))):
        x = keras.layers.Conv2D(filters, size, strides=2, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = keras.layers.Activation("relu", name=f"relu{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hp["dense"], use_bias=False, name="fc")(x)
    x = keras.layers.BatchNormalization(name="bn_fc")(x)
    x = keras.layers.Activation("relu", name="relu_fc")(x)
    return keras.Model(inp, _head(x), name="strided")


_ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu")

ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(
            "linear",
            "Linear (softmax regression)",
            "One Dense layer from the 784 pixels to 10 classes: seeds 000/001's first model. Its weights are 10 class templates.",
            (Param("l2", 0.0, "float", "L2 weight penalty", minimum=0.0),),
            build_linear,
            {"optimizer": "adam", "learning_rate": 0.004, "batch_size": 128, "epochs": 10},
        ),
        Architecture(
            "mlp",
            "Multi-layer perceptron",
            "Dense hidden layers: the seeds' 256-256 sigmoid, 1500 relu and 512-512 dropout nets.",
            (
                Param("hidden", [256, 256], "ints", "hidden layer sizes, e.g. 512,512"),
                Param("activation", "relu", "choice", "hidden activation", choices=_ACTIVATIONS),
                Param("dropout", 0.0, "float", "dropout after each hidden layer", minimum=0.0, maximum=0.95),
                Param("l2", 0.0, "float", "L2 weight penalty", minimum=0.0),
            ),
            build_mlp,
            {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 10},
        ),
        Architecture(
            "lenet5",
            "LeNet-5",
            "Seed 003: conv 5x5x6 (same) - pool - conv 5x5x16 (valid) - pool - 120 - 84 - 10, all relu.",
            (),
            build_lenet5,
            {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 10},
        ),
        Architecture(
            "cnn",
            "Convnet (default)",
            "Two blocks of two 3x3 convs with batch norm, then a dense layer with dropout. The shipped default.",
            (
                Param("width", 32, "int", "filters in the first block (the second has twice as many)", minimum=4, maximum=256),
                Param("dense", 256, "int", "units of the dense layer", minimum=8, maximum=4096),
                Param("dropout", 0.4, "float", "dropout before the output", minimum=0.0, maximum=0.95),
            ),
            build_cnn,
            {"optimizer": "adam", "learning_rate": 0.002, "batch_size": 128, "epochs": 5, "lr_schedule": "cosine", "augment": True},
            # What makes the shipped cnn read mouse-drawn digits and say "not a digit" (README: Honest answers).
            {"drawn_style": 50_000, "pen_digits": 20_000, "not_digits": 16_000},
        ),
        Architecture(
            "strided",
            "Strided convnet (fastest to train)",
            "Two stride-2 convs (5x5, then 3x3) with batch norm, then a dense layer: 99% test accuracy in 2 epochs, "
            "each ~45% of a LeNet-5 epoch on a CPU.",
            (
                Param("width", 16, "int", "filters in the first conv (the second has twice as many)", minimum=4, maximum=256),
                Param("dense", 128, "int", "units of the dense layer", minimum=8, maximum=4096),
            ),
            build_strided,
            {"optimizer": "adam", "learning_rate": 0.005, "batch_size": 128, "epochs": 2, "lr_schedule": "onecycle"},
        ),
    )
}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    arch: str
    hparams: dict
    training: dict


# The seeds' models, one click away.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("linear", "Linear, Adam 0.004 (seed 000)", "linear", {}, {"optimizer": "adam", "learning_rate": 0.004, "batch_size": 128, "epochs": 10}),
        Preset("mlp-256-256-sigmoid", "MLP 256-256 sigmoid (seed 000)", "mlp", {"hidden": [256, 256], "activation": "sigmoid"},
               {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 512, "epochs": 40}),
        Preset("mlp-1500-relu", "MLP 1500 relu (seed 001)", "mlp", {"hidden": [1500], "activation": "relu"},
               {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "epochs": 5}),
        Preset("mlp-512-512-dropout", "MLP 512-512 relu, dropout 0.2 (seed 004)", "mlp", {"hidden": [512, 512], "activation": "relu", "dropout": 0.2},
               {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9, "batch_size": 128, "epochs": 10}),
        Preset("mlp-deep", "MLP 512-256-128 relu, dropout 0.2 (3 hidden layers)", "mlp",
               {"hidden": [512, 256, 128], "activation": "relu", "dropout": 0.2},
               {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 10}),
        Preset("dnn-adagrad", "DNN 100-100, Adagrad 0.05 (seed 002)", "mlp", {"hidden": [100, 100], "activation": "relu"},
               {"optimizer": "adagrad", "learning_rate": 0.05, "batch_size": 10, "epochs": 2}),
        Preset("lenet5-sgd", "LeNet-5, SGD 0.01 (seed 003)", "lenet5", {}, {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 100, "epochs": 10}),
        Preset("lenet5-adam", "LeNet-5, Adam 0.001 (seed 003)", "lenet5", {}, {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 10}),
        # One-cycle Adam and smaller batches get LeNet-5 to 99% test accuracy in 3 epochs; the seed's
        # constant Adam 1e-3 needs 10+ (benchmarks/time_to_accuracy.py --steps).
        Preset("lenet5-fast", "LeNet-5, one-cycle Adam 0.003, batch 64, 3 epochs", "lenet5", {},
               {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 64, "epochs": 3, "lr_schedule": "onecycle"}),
        # The fastest to 99% on a 2-core CPU: a cheaper convnet, same schedule idea, 2 epochs.
        Preset("strided-fast", "Strided convnet, one-cycle Adam 0.005, 2 epochs (fastest to 99%)", "strided", {},
               dict(ARCHITECTURES["strided"].training_defaults)),
        Preset("cnn", "Convnet, cosine Adam + augmentation (default)", "cnn", {}, dict(ARCHITECTURES["cnn"].training_defaults)),
    )
}

OPTIMIZERS = ("sgd", "adam", "adagrad", "rmsprop")
LR_SCHEDULES = ("constant", "onecycle", "cosine")


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}") from None


def build_model(arch: str, hparams: dict | None = None, seed: int | None = None):
    """Build (not compile) the architecture with its hyperparameters resolved against the defaults."""
    a = get_architecture(arch)
    hp = a.resolve(hparams)
    if seed is not None:
        import keras

        keras.utils.set_random_seed(int(seed))
    return a.build(hp)


def logits_submodel(model):
    """The same layers and weights ending at the ``logits`` layer (no softmax): for stable losses and calibration."""
    import keras

    return keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name=model.name)  # one input, not a list


def make_optimizer(name: str, learning_rate, momentum: float = 0.0):
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "adagrad":
        return keras.optimizers.Adagrad(learning_rate=learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


# Layer and object classes a saved model of ours may contain: the model store refuses any other
# before Keras sees the file. Derived from the builders above (tests/test_registry.py checks that
# every architecture's saved config uses only these).
ALLOWED_CLASSES: frozenset[tuple[str, str]] = frozenset(
    {
        ("keras", "Functional"),
        ("keras.src.models.functional", "Functional"),
        ("keras.layers", "InputLayer"),
        ("keras.layers", "Flatten"),
        ("keras.layers", "Dense"),
        ("keras.layers", "Dropout"),
        ("keras.layers", "Activation"),
        ("keras.layers", "Conv2D"),
        ("keras.layers", "MaxPooling2D"),
        ("keras.layers", "BatchNormalization"),
        ("keras.regularizers", "L2"),
        ("keras.initializers", "TruncatedNormal"),
        ("keras.initializers", "GlorotUniform"),
        ("keras.initializers", "Zeros"),
        ("keras.initializers", "Ones"),
        ("keras", "DTypePolicy"),
        ("keras", "FloatDTypePolicy"),
        ("keras.optimizers", "Adam"),
        ("keras.optimizers", "SGD"),
        ("keras.optimizers", "Adagrad"),
        ("keras.optimizers", "RMSprop"),
    }
)
# Config dicts with a class_name but no module: Keras' own markers for tensors and tuples.
ALLOWED_MARKERS: frozenset[str] = frozenset({"__keras_tensor__", "__tuple__"})
# Activations may be stored as bare names; Keras looks these up in keras.activations only.
ALLOWED_ACTIVATIONS: frozenset[str] = frozenset({"linear", "softmax", *_ACTIVATIONS})
