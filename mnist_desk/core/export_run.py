"""A training run written out for a student: a standalone Keras script and the same steps as a notebook.

Both are made from one list of steps (``_steps``): each a heading, a sentence or two on what it does
and why, and its code. The script puts the explanations in comments, the notebook in markdown cells.
The code needs only keras, numpy and matplotlib, and reproduces what ``core.runs.run_training`` does
for the spec: the registry's layers (``core.registry`` builders), the optimizer and learning-rate
schedule of ``core.training``, the validation split of ``core.data.split_validation``, the training
subset of ``core.training_data``, the seed and the uint8 -> [0, 1] scaling. What only the app can do
(its added drawings, the user's own digits, augmentation, other data formats) is left out and said so
at the top; the export still trains on MNIST alone.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from . import registry
from .errors import StoreError
from .runs import TrainSpec
from .store import atomic_write_bytes

# Where the exported code reads its data when none is named: Keras' own cache, where
# ``keras.datasets.mnist.load_data()`` puts (and, the first time, downloads) MNIST.
KERAS_MNIST = "~/.keras/datasets/mnist.npz"
# The notebook's parameters can be set from outside (nbclient, papermill-free batch runs) through these.
LIMIT_VARIABLE = "MNIST_LIMIT"
DATA_VARIABLE = "MNIST_DATA"


@dataclass(frozen=True)
class Step:
    title: str
    explanation: str  # a sentence or two for a student: what the code does and why
    code: str


# ------------------------------------------------------------------------------ what is left out
def left_out(spec: TrainSpec) -> list[str]:
    """What of ``spec`` the export cannot reproduce with keras and MNIST alone, one line each (none: [])."""
    notes = []
    if spec.use_my_digits:
        notes.append("your own labelled digits from the Draw view (they live in the app's data folder)")
    for count, what in ((spec.drawn_style, "MNIST digits re-drawn as pen strokes (drawn-style digits)"),
                        (spec.pen_digits, "drawings of real pen digits (UCI pendigits)"),
                        (spec.not_digits, "drawings that are not digits (Omniglot characters, doodles) and the "
                                          "outlier-exposure loss that learns from them")):
        if count:
            notes.append(f"{count:,} {what}; the app draws them on its canvas")
    if spec.config.augment:
        notes.append("augmentation (the app's random small rotations, slants, zooms and shifts of each batch)")
    if spec.data_path is not None and Path(spec.data_path).suffix.lower() != ".npz":
        notes.append(f"the data file {spec.data_path} (not an MNIST .npz): this trains on MNIST")
    if spec.config.max_batches is not None:
        notes.append(f"the app's limit of {spec.config.max_batches} batches in all: this trains every epoch in full")
    return notes


def _data_note(spec: TrainSpec) -> str | None:
    if spec.data_path is not None and Path(spec.data_path).suffix.lower() == ".npz":
        return f"The run trained on {spec.data_path}: pass it with --data to train on the same images."
    return None


# ------------------------------------------------------------------------------ the model, as code
def _l2(l2: float) -> str:
    return f", kernel_regularizer=keras.regularizers.L2({l2!r})" if l2 and l2 > 0 else ""


def _head(l2: float = 0.0) -> list[str]:
    return [
        "# 10 scores (logits), one per digit; softmax turns them into probabilities that sum to 1",
        f'logits = keras.layers.Dense(10{_l2(l2)}, name="{registry.LOGITS_LAYER}")(x)',
        f'outputs = keras.layers.Activation("softmax", name="{registry.PROBS_LAYER}")(logits)',
    ]


def _model_lines(arch: str, hp: dict) -> list[str]:
    """``registry.build_model(arch, hp)`` as plain Keras code (tests/test_export_run.py compares the two)."""
    lines = ['inputs = keras.Input(shape=(28, 28, 1), name="image")']
    if arch == "linear":
        lines += ['x = keras.layers.Flatten(name="flatten")(inputs)  # 28x28 pixels -> 784 numbers', *_head(hp["l2"])]
    elif arch == "mlp":
        lines.append('x = keras.layers.Flatten(name="flatten")(inputs)  # 28x28 pixels -> 784 numbers')
        for i, units in enumerate(hp["hidden"], start=1):
            lines.append(f'x = keras.layers.Dense({units}, activation="{hp["activation"]}"{_l2(hp["l2"])}, '
                         f'name="hidden{i}")(x)')
            if hp["dropout"] > 0:
                lines.append(f'x = keras.layers.Dropout({hp["dropout"]!r}, name="dropout{i}")(x)  '
                             '# zeroes random units while training')
        lines += _head(hp["l2"])
    elif arch == "lenet5":
        lines += [
            "# LeNet-5: weights from a truncated normal (stddev 0.1), biases zero",
            "def init():",
            "    return keras.initializers.TruncatedNormal(stddev=0.1)",
            "",
            'x = keras.layers.Conv2D(6, 5, padding="same", activation="relu", kernel_initializer=init(), '
            'bias_initializer="zeros", name="conv1")(inputs)',
            'x = keras.layers.MaxPooling2D(2, name="pool1")(x)',
            'x = keras.layers.Conv2D(16, 5, padding="valid", activation="relu", kernel_initializer=init(), '
            'bias_initializer="zeros", name="conv2")(x)',
            'x = keras.layers.MaxPooling2D(2, name="pool2")(x)',
            'x = keras.layers.Flatten(name="flatten")(x)',
            'x = keras.layers.Dense(120, activation="relu", kernel_initializer=init(), bias_initializer="zeros", '
            'name="fc1")(x)',
            'x = keras.layers.Dense(84, activation="relu", kernel_initializer=init(), bias_initializer="zeros", '
            'name="fc2")(x)',
            "# 10 scores (logits), one per digit; softmax turns them into probabilities that sum to 1",
            'logits = keras.layers.Dense(10, kernel_initializer=init(), bias_initializer="zeros", '
            f'name="{registry.LOGITS_LAYER}")(x)',
            f'outputs = keras.layers.Activation("softmax", name="{registry.PROBS_LAYER}")(logits)',
        ]
    elif arch == "cnn":
        w = hp["width"]
        lines += [
            "# two blocks of two 3x3 convolutions, each followed by batch normalisation and relu, then pooling",
            "x = inputs",
            f"for block, filters in enumerate(({w}, {2 * w}), start=1):",
            "    for j in (1, 2):",
            '        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}_{j}")(x)',
            '        x = keras.layers.BatchNormalization(name=f"bn{block}_{j}")(x)',
            '        x = keras.layers.Activation("relu", name=f"relu{block}_{j}")(x)',
            '    x = keras.layers.MaxPooling2D(2, name=f"pool{block}")(x)',
            'x = keras.layers.Flatten(name="flatten")(x)',
            f'x = keras.layers.Dense({hp["dense"]}, use_bias=False, name="fc")(x)',
            'x = keras.layers.BatchNormalization(name="bn_fc")(x)',
            'x = keras.layers.Activation("relu", name="relu_fc")(x)',
        ]
        if hp["dropout"] > 0:
            lines.append(f'x = keras.layers.Dropout({hp["dropout"]!r}, name="dropout")(x)  '
                         '# zeroes random units while training')
        lines += _head()
    elif arch == "strided":
        w = hp["width"]
        lines += [
            "# two stride-2 convolutions (they shrink the image instead of pooling), each with batch norm and relu",
            "x = inputs",
            f"for i, (filters, size) in enumerate((({w}, 5), ({2 * w}, 3)), start=1):",
            '    x = keras.layers.Conv2D(filters, size, strides=2, padding="same", use_bias=False, name=f"conv{i}")(x)',
            '    x = keras.layers.BatchNormalization(name=f"bn{i}")(x)',
            '    x = keras.layers.Activation("relu", name=f"relu{i}")(x)',
            'x = keras.layers.Flatten(name="flatten")(x)',
            f'x = keras.layers.Dense({hp["dense"]}, use_bias=False, name="fc")(x)',
            'x = keras.layers.BatchNormalization(name="bn_fc")(x)',
            'x = keras.layers.Activation("relu", name="relu_fc")(x)',
            *_head(),
        ]
    else:
        raise ValueError(f"no export for architecture {arch!r}")
    lines.append(f'model = keras.Model(inputs, outputs, name="{arch}")')
    return lines


def model_code(arch: str, hparams: dict | None = None) -> str:
    """The code that builds ``arch`` (defining ``model``), with its hyperparameters resolved as the registry does."""
    return "\n".join(_model_lines(arch, registry.get_architecture(arch).resolve(hparams)))


# ------------------------------------------------------------------------------ the learning rate, as code
def _schedule_lines(schedule: str) -> list[str]:
    """``training._make_schedule`` as plain Keras code."""
    if schedule == "constant":
        return ["learning_rate = LEARNING_RATE  # the same step size all along"]
    lines = ["steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)",
             "total_steps = max(steps_per_epoch * EPOCHS, 2)"]
    if schedule == "cosine":
        return lines + ["# from LEARNING_RATE down to 1% of it along half a cosine wave, over the whole run",
                        "learning_rate = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=total_steps, "
                        "alpha=0.01)"]
    if schedule == "onecycle":
        return lines + [
            "# one cycle: up from LEARNING_RATE / 25 to LEARNING_RATE over the first 15% of the steps, then down to ~0",
            "warmup_steps = max(1, int(0.15 * total_steps))",
            "learning_rate = keras.optimizers.schedules.CosineDecay(",
            "    LEARNING_RATE / 25, decay_steps=total_steps - warmup_steps, alpha=0.002,",
            "    warmup_target=LEARNING_RATE, warmup_steps=warmup_steps)",
        ]
    raise ValueError(f"no export for schedule {schedule!r}")


def _optimizer_line(name: str) -> str:
    """``registry.make_optimizer`` as plain Keras code."""
    calls = {"sgd": "keras.optimizers.SGD(learning_rate=learning_rate, momentum=MOMENTUM)",
             "adam": "keras.optimizers.Adam(learning_rate=learning_rate)",
             "adagrad": "keras.optimizers.Adagrad(learning_rate=learning_rate)",
             "rmsprop": "keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=MOMENTUM)"}
    if name not in calls:
        raise ValueError(f"no export for optimizer {name!r}")
    return f"optimizer = {calls[name]}"


BATCH_NORM_CODE = '''\
def measure_batch_norm_statistics(model, images, epoch, sample=4096):
    """Set each BatchNormalization layer's moving mean and variance to its input's statistics on training images.

    Keras keeps them as running averages (momentum 0.99) that forget their starting values (mean 0,
    variance 1) only after several hundred steps, so a short run would predict with mostly the initial
    ones. Measured after every epoch instead, on up to `sample` training images, each batch normalised
    by its own statistics as in training.
    """
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.inputs, [layer.input for layer in layers])
    if len(images) > sample:
        rng = np.random.default_rng(SEED + epoch - 1)
        images = images[np.sort(rng.choice(len(images), sample, replace=False))]
    sums, squares, counts = [0.0] * len(layers), [0.0] * len(layers), [0] * len(layers)
    for start in range(0, len(images), BATCH_SIZE):
        outputs = probe(images[start:start + BATCH_SIZE], training=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for i, out in enumerate(outputs):
            values = keras.ops.convert_to_numpy(out).astype("float64")
            values = values.reshape(-1, values.shape[-1])  # one row per image (and position), a column per channel
            sums[i] += values.sum(axis=0)
            squares[i] += (values ** 2).sum(axis=0)
            counts[i] += len(values)
    for layer, total, square, n in zip(layers, sums, squares, counts):
        mean = total / n
        layer.moving_mean.assign(mean.astype("float32"))
        layer.moving_variance.assign((square / n - mean ** 2).astype("float32"))'''


# ------------------------------------------------------------------------------ the steps
def _title(arch: str) -> str:
    return registry.get_architecture(arch).title.split(" (")[0]  # "Convnet (default)": the app's remark goes


def _describe(spec: TrainSpec) -> str:
    c = spec.config
    arch = registry.get_architecture(c.arch)
    hp = arch.resolve(c.hparams)
    hp_text = ", ".join(f"{k} {v}" for k, v in hp.items()) or "no hyperparameters"
    momentum = f" (momentum {c.momentum:g})" if c.optimizer in ("sgd", "rmsprop") and c.momentum else ""
    data = f"the first {spec.limit:,} of the others" if spec.limit else "all the others"
    return (f"{_title(c.arch)} ({hp_text}); {c.optimizer}{momentum}, learning rate {c.learning_rate:g}, "
            f"{c.lr_schedule} schedule, batch size {c.batch_size}, {c.epochs} epochs, seed {c.seed}. The last "
            f"{c.val_size:,} training images are kept for validation; it trains on {data}.")


def _settings_code(spec: TrainSpec, notebook: bool) -> str:
    c = spec.config
    if notebook:
        source = (f"# Set these here, or from outside with the environment variables {DATA_VARIABLE} and {LIMIT_VARIABLE}.\n"
                  f'DATA_PATH = os.environ.get("{DATA_VARIABLE}") or None  # None: {KERAS_MNIST}\n'
                  f'LIMIT = int(os.environ["{LIMIT_VARIABLE}"]) if os.environ.get("{LIMIT_VARIABLE}") else {spec.limit!r}'
                  "  # None: every training image\n")
    else:
        limit_help = f"the run's {spec.limit}" if spec.limit else "all of them"
        source = (
            "parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])\n"
            f'parser.add_argument("--data", help="an MNIST .npz with x_train, y_train, x_test, y_test '
            f'(default: {KERAS_MNIST}, downloaded by Keras if missing)")\n'
            f'parser.add_argument("--limit", type=int, default={spec.limit!r}, '
            f'help="train on the first N training images (default: {limit_help})")\n'
            'parser.add_argument("--curves", default="curves.png", help="where to save the loss and accuracy plot")\n'
            "args = parser.parse_args()\n"
            "DATA_PATH, LIMIT, CURVES_PATH = args.data, args.limit, args.curves\n"
        )
    return source + textwrap.dedent(f"""\

        SEED = {c.seed!r}
        VAL_SIZE = {c.val_size!r}  # the last VAL_SIZE training images are for validation only
        BATCH_SIZE = {c.batch_size!r}
        EPOCHS = {c.epochs!r}
        LEARNING_RATE = {c.learning_rate!r}
        MOMENTUM = {c.momentum!r}  # used by SGD and RMSprop only""")


DATA_CODE = '''\
def load_mnist(path):
    """MNIST as uint8 arrays: (x_train, y_train), (x_test, y_test)."""
    if path is None:
        return keras.datasets.mnist.load_data()  # ~/.keras/datasets/mnist.npz, downloaded the first time
    with np.load(path) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


(x_all, y_all), (x_test, y_test) = load_mnist(DATA_PATH)

# Validation: the last VAL_SIZE training images, never trained on. The test set stays apart until the end.
n_val = min(VAL_SIZE, max(len(x_all) - 1, 0))
x_train, y_train = (x_all[:-n_val], y_all[:-n_val]) if n_val else (x_all, y_all)
x_val, y_val = x_all[len(x_all) - n_val:], y_all[len(y_all) - n_val:]
if LIMIT:  # a quick run: the first LIMIT of the remaining training images
    x_train, y_train = x_train[:LIMIT], y_train[:LIMIT]


def as_input(images):
    """uint8 (N, 28, 28) with values 0-255 -> float32 (N, 28, 28, 1) in [0, 1]: what the network takes."""
    return (images.astype("float32") / 255.0)[..., None]


x_train, x_val, x_test = as_input(x_train), as_input(x_val), as_input(x_test)
y_train, y_val, y_test = y_train.astype("int32"), y_val.astype("int32"), y_test.astype("int32")
print(f"{len(x_train)} training images, {len(x_val)} validation images, {len(x_test)} test images")'''


def _train_code(batch_norm: bool) -> str:
    measure = ("    measure_batch_norm_statistics(model, x_train, epoch)  # before validating, as the model will "
               "predict\n") if batch_norm else ""
    return (
        'history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}\n'
        "for epoch in range(1, EPOCHS + 1):\n"
        "    # one pass over the training images in a new random order, BATCH_SIZE images per step\n"
        "    fit = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=1, shuffle=True, verbose=0)\n"
        f"{measure}"
        '    history["loss"].append(fit.history["loss"][-1])\n'
        '    history["accuracy"].append(fit.history["accuracy"][-1])\n'
        "    if len(x_val):\n"
        "        val_loss, val_accuracy = model.evaluate(x_val, y_val, batch_size=1024, verbose=0)\n"
        "    else:\n"
        '        val_loss = val_accuracy = float("nan")\n'
        '    history["val_loss"].append(val_loss)\n'
        '    history["val_accuracy"].append(val_accuracy)\n'
        '    print(f"epoch {epoch}/{EPOCHS}: loss {history[\'loss\'][-1]:.4f}, accuracy {history[\'accuracy\'][-1]:.4f}, "\n'
        '          f"val loss {val_loss:.4f}, val accuracy {val_accuracy:.4f}")'
    )


def _curves_code(notebook: bool) -> str:
    end = "plt.show()" if notebook else 'fig.savefig(CURVES_PATH, dpi=120)\nprint(f"curves saved to {CURVES_PATH}")'
    return textwrap.dedent("""\
        epochs = range(1, EPOCHS + 1)
        fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in ((ax_loss, "loss"), (ax_accuracy, "accuracy")):
            ax.plot(epochs, history[metric], "o-", label="training")
            ax.plot(epochs, history["val_" + metric], "o-", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        """) + end


def _steps(spec: TrainSpec, notebook: bool) -> list[Step]:
    c = spec.config
    c.validate()
    build = model_code(c.arch, c.hparams)
    batch_norm = "BatchNormalization" in build
    imports = (["import math", "import os"] if notebook else ["import argparse", "import math"]) + [
        "", "import keras", "import numpy as np"]
    if not notebook:  # the plot goes to a file: no window is needed
        imports += ["import matplotlib", "", 'matplotlib.use("Agg")']
    imports.append("import matplotlib.pyplot as plt")
    steps = [
        Step("Imports", "Keras builds and trains the network (on its TensorFlow, JAX or PyTorch backend); numpy "
             "holds the images; matplotlib draws the curves.", "\n".join(imports)),
        Step("Settings", "The run's settings. A smaller LIMIT trains on fewer images: quicker, less accurate.",
             _settings_code(spec, notebook)),
        Step("Data", "Load MNIST, keep the last training images for validation, and scale the pixels to [0, 1].",
             DATA_CODE),
        Step("The network", "The same seed gives the same starting weights and the same order of the images, so "
             "a second run gives the same numbers.",
             f"keras.utils.set_random_seed(SEED)\n\n{build}\nmodel.summary()"),
        Step("How it learns", "The optimizer changes the weights a little after every batch to lower the loss "
             "(cross-entropy: minus the log of the probability given to the right digit).",
             "\n".join(_schedule_lines(c.lr_schedule) + [_optimizer_line(c.optimizer),
                                                         'model.compile(optimizer=optimizer, '
                                                         'loss="sparse_categorical_crossentropy", '
                                                         'metrics=["accuracy"])'])),
    ]
    if batch_norm:
        steps.append(Step("Batch-norm statistics", "What the batch-normalisation layers use when predicting: "
                          "measured on the training images after each epoch.", BATCH_NORM_CODE))
    steps += [
        Step("Training", "Epoch by epoch: train on every training image once, then check on the validation "
             "images, which the network never learns from.", _train_code(batch_norm)),
        Step("Test", "The final score, on the 10,000 test images no choice was made on.",
             'test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)\n'
             'print(f"test accuracy: {test_accuracy:.4f}")'),
        Step("Curves", "Loss and accuracy after each epoch: training and validation apart show when the network "
             "starts to learn its training images by heart.", _curves_code(notebook)),
    ]
    return steps


def _header_lines(spec: TrainSpec, run_name: str | None) -> list[str]:
    what = f'the mnist_desk run "{run_name}"' if run_name else "an mnist_desk run"
    lines = [f"{_title(spec.config.arch)} on MNIST: {what}, as plain Keras.",
             "", *textwrap.wrap(_describe(spec), 100)]
    note = _data_note(spec)
    if note:
        lines += ["", *textwrap.wrap(note, 100)]
    missing = left_out(spec)
    if missing:
        lines += ["", "Left out (the app alone can add these; this trains on MNIST alone, so its accuracy differs):"]
        lines += [line for m in missing for line in textwrap.wrap(m, 100, initial_indent="- ", subsequent_indent="  ")]
    return lines


def _comment(text: str, width: int = 100) -> str:
    return "\n".join(textwrap.wrap(text, width - 2, initial_indent="# ", subsequent_indent="# "))


# ------------------------------------------------------------------------------ public
def script_for(spec: TrainSpec, run_name: str | None = None) -> str:
    """A standalone Python script (keras, numpy and matplotlib only) that reproduces ``spec``'s run."""
    header = _header_lines(spec, run_name)
    usage = ["", "Run:  python this_script.py [--data mnist.npz] [--limit N] [--curves curves.png]",
             "It prints the validation accuracy after each epoch and the test accuracy at the end, and saves the",
             "loss and accuracy curves as a PNG."]
    # (a run's name or data path may hold backslashes or quotes: in the docstring they must stay plain text)
    text = "\n".join(header + usage).replace("\\", "\\\\").replace('"""', "'''")
    parts = ['"""' + text + '\n"""']
    for step in _steps(spec, notebook=False):
        parts.append(f"# {'-' * 4} {step.title}\n{_comment(step.explanation)}\n{step.code}")
    return "\n\n".join(parts) + "\n"


def notebook_for(spec: TrainSpec, run_name: str | None = None):
    """The same steps as a Jupyter notebook (an ``nbformat.NotebookNode``): markdown to explain, code to run."""
    import nbformat.v4 as nbf

    header = _header_lines(spec, run_name)
    intro = f"# {header[0]}\n\n" + "\n".join(header[2:])
    cells = [nbf.new_markdown_cell(intro)]
    for step in _steps(spec, notebook=True):
        cells.append(nbf.new_markdown_cell(f"## {step.title}\n\n{step.explanation}"))
        cells.append(nbf.new_code_cell(step.code))
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"}}
    return nbf.new_notebook(cells=cells, metadata=metadata)


def _write(path: str | Path, data: bytes) -> Path:
    path = Path(path).expanduser()
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise StoreError(f"{path}: could not write the export ({exc.strerror or exc})") from None
    return path


def write_script(spec: TrainSpec, path: str | Path, run_name: str | None = None) -> Path:
    """Write ``script_for(spec)`` to ``path`` atomically; raises ``StoreError`` when it cannot be written."""
    return _write(path, script_for(spec, run_name).encode("utf-8"))


def write_notebook(spec: TrainSpec, path: str | Path, run_name: str | None = None) -> Path:
    """Write ``notebook_for(spec)`` to ``path`` atomically (nbformat 4 JSON); raises ``StoreError`` likewise."""
    import nbformat

    return _write(path, nbformat.writes(notebook_for(spec, run_name)).encode("utf-8"))
