"""Training: build, compile and fit a registry model in the calling thread, reporting through callbacks.

``train(config, split, on_progress, should_stop)`` is a plain function: the CLI calls it directly and the
window runs it in a worker thread. Progress is throttled by time so the cost per batch stays a few
Python operations; metrics are read from Keras only when a report is due.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from . import registry
from .data import Split, to_float_images
from .model_plan import plan_model
from .tf_library import import_tensorflow
from .errors import TrainingError
from .non_digits import NOT_A_DIGIT

@dataclass
class TrainConfig:
    arch: str = "cnn"
    hparams: dict = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.0
    batch_size: int = 128
    epochs: int = 5
    seed: int = 0
    val_size: int = 10_000
    lr_schedule: str = "constant"  # constant | onecycle | cosine
    augment: bool = False  # small random rotations, zooms and shifts of the training images
    max_batches: int | None = None  # stop after this many batches in all (benchmarks, quick runs)
    tensorboard_dir: str | None = None
    report_every_s: float = 0.1

    @classmethod
    def for_arch(cls, arch: str, **overrides) -> "TrainConfig":
        """The architecture's own training defaults, overlaid with ``overrides``."""
        base = dict(registry.get_architecture(arch).training_defaults)
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(arch=arch, **base)

    def validate(self) -> None:
        registry.get_architecture(self.arch).resolve(self.hparams)
        if self.optimizer not in registry.OPTIMIZERS:
            raise TrainingError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(registry.OPTIMIZERS)}")
        if self.lr_schedule not in registry.LR_SCHEDULES:
            raise TrainingError(f"unknown schedule {self.lr_schedule!r}; choose one of {', '.join(registry.LR_SCHEDULES)}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise TrainingError(f"learning rate must be a positive number, not {self.learning_rate}")
        if self.batch_size < 1 or self.epochs < 1:
            raise TrainingError("batch size and epochs must be at least 1")
        if self.tensorboard_dir:
            import importlib.util

            # TensorFlow does not depend on TensorBoard; without it Keras' callback fails after an epoch.
            if importlib.util.find_spec("tensorboard") is None:
                raise TrainingError("TensorBoard logs need the tensorboard package, which is not installed "
                                    "(pip install tensorboard); or train without a TensorBoard folder")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Progress:
    """One report. ``kind`` is "batch" (throttled) or "epoch" (after each epoch's validation)."""

    kind: str
    epoch: int  # 0-based
    epochs: int
    batch: int  # batches done in this epoch
    batches_per_epoch: int
    total_batches_done: int
    loss: float  # batch: mean over the batches since the last report; epoch: the epoch's mean
    accuracy: float
    epoch_loss: float  # running mean over the epoch so far
    epoch_accuracy: float
    samples_per_s: float
    elapsed_s: float
    eta_s: float
    val_loss: float | None = None
    val_accuracy: float | None = None
    learning_rate: float | None = None

    @property
    def fraction_done(self) -> float:
        total = self.epochs * self.batches_per_epoch
        return min(1.0, self.total_batches_done / total) if total else 0.0


@dataclass(frozen=True)
class Divergence:
    """Where and how a run diverged, for the plots' marker and the user's message."""

    epoch: int  # 1-based
    batch: int  # batches done in that epoch
    batches_per_epoch: int
    elapsed_s: float
    what: str  # "the loss became NaN", ...

    @property
    def x_epochs(self) -> float:
        """The point on an epochs axis (epoch 1, batch 37 of 100 is 0.37)."""
        return self.epoch - 1 + self.batch / max(self.batches_per_epoch, 1)

    @property
    def summary(self) -> str:
        return f"diverged at epoch {self.epoch}, batch {self.batch}: {self.what.removeprefix('the ')}"


@dataclass
class TrainResult:
    model: object
    config: TrainConfig
    history: dict  # per-epoch lists: loss, accuracy, val_loss, val_accuracy, seconds; plus batch_* lists
    seconds: float
    epochs_done: int
    batches_done: int
    stopped: bool = False  # the user asked to stop
    failure: str | None = None  # why training failed (e.g. NaN loss); the model must not be saved then
    samples_per_s: float = 0.0
    divergence: Divergence | None = None  # set with ``failure`` when the run diverged
    timeline: object | None = None  # core.timeline.Timeline: the weights as they were along the run

    @property
    def ok(self) -> bool:
        return self.failure is None


def _make_schedule(config: TrainConfig, total_steps: int):
    import keras

    lr = float(config.learning_rate)
    if config.lr_schedule == "constant":
        return lr
    total_steps = max(total_steps, 2)
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=total_steps, alpha=0.01)
    # one-cycle: a linear warm-up over the first 15% from lr/25 to lr, then cosine down to ~0
    warm = max(1, int(0.15 * total_steps))
    return keras.optimizers.schedules.CosineDecay(
        lr / 25.0, decay_steps=total_steps - warm, alpha=0.002, warmup_target=lr, warmup_steps=warm
    )


def random_affine_batch(images, max_rotation_deg: float = 10.0, max_shear: float = 0.2, max_zoom: float = 0.1,
                        max_shift_px: float = 2.0):
    """One random rotation + slant + zoom + shift per image, resampled once (bilinear).

    The variation of handwriting that MNIST's centred, size-normalised digits lack. Composing the
    transforms into one matrix matters: chained Keras random layers resample four times, and the
    blur that adds made training images unlike test images (validation 0.9915 vs 0.995 measured).
    ``images``: float (B, 28, 28, 1) tensor; used inside a tf.data map.
    """
    import tensorflow as tf

    b = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    u = lambda lim: tf.random.uniform([b], -lim, lim)  # noqa: E731
    theta = u(max_rotation_deg * 3.141592653589793 / 180.0)
    shear = u(max_shear)
    scale = 1.0 + u(max_zoom)  # output -> input mapping, so >1 shrinks the digit
    c, s_ = tf.cos(theta) * scale, tf.sin(theta) * scale
    # A = R(theta) @ [[1, shear], [0, 1]] * scale, applied about the image centre, then shifted
    a00, a01 = c, c * shear - s_
    a10, a11 = s_, s_ * shear + c
    cx, cy = (w - 1) / 2, (h - 1) / 2
    tx, ty = u(max_shift_px), u(max_shift_px)
    a02 = cx - a00 * cx - a01 * cy + tx
    a12 = cy - a10 * cx - a11 * cy + ty
    zeros = tf.zeros([b])
    transform = tf.stack([a00, a01, a02, a10, a11, a12, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transform, output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def image_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = None, augment: bool = False):
    """A tf.data pipeline of (float images, labels) batches from uint8 images, shuffled each epoch if ``seed``.

    Images stay uint8 (a quarter of float32's size) until a batch is taken: a large set is never held
    as floats whole. Augmentation, when asked, is applied per batch too.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def as_float(images, labels):
        images = tf.cast(images, tf.float32)[..., None] / 255.0
        return (random_affine_batch(images) if augment else images), labels

    return ds.batch(batch_size).map(as_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# Images the batch-norm statistics are measured on after each epoch: a random sample of a large training
# set bounds the cost (about an inference pass over the sample, a few percent of a 60,000-image epoch),
# and 4,096 images (with every pixel position of a conv layer) pin a mean and variance down far closer
# than the training drift they replace.
BATCH_NORM_SAMPLE = 4096


def batch_norm_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


class BatchNormMeter:
    """Sets each BatchNormalization layer's moving mean and variance to its input's statistics on training images.

    Keras keeps these as exponential averages (momentum 0.99) of the batches seen in training, which
    forget their starting values (mean 0, variance 1) only after several hundred steps: a run of a few
    thousand images ends with statistics that are mostly the initial ones, and the model it hands over
    predicts one class for everything however well it fits its training images. Measured here as in
    ``torch.optim.swa_utils.update_bn``: one pass in training mode (each layer normalised by its batch,
    as when the weights were learnt) over up to ``max_images`` training images without augmentation
    (what inference sees), the batches' means and variances pooled exactly. The pass is one traced
    function, made once per meter, so measuring after every epoch costs about an inference pass.
    """

    def __init__(self, model):
        import keras
        import tensorflow as tf

        self.layers = batch_norm_layers(model)
        self.reduce_axes: list[list[int]] = []
        self.per_image: list[int] = []  # values per channel that one image contributes
        for layer in self.layers:
            shape = layer.input.shape
            kept = {a % len(shape) for a in (layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis])}
            axes = [a for a in range(len(shape)) if a not in kept]
            self.reduce_axes.append(axes)
            self.per_image.append(int(np.prod([shape[a] for a in axes if a != 0])))
        if not self.layers:
            return
        probe = keras.Model(model.inputs, [layer.input for layer in self.layers])

        @tf.function(input_signature=[tf.TensorSpec(tuple(model.inputs[0].shape), tf.float32)])
        def batch_moments(images):
            outputs = probe(images, training=True)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            return [tf.nn.moments(out, axes) for out, axes in zip(outputs, self.reduce_axes)]

        self._batch_moments = batch_moments

    def measure(self, x: np.ndarray, batch_size: int, seed: int = 0, max_images: int = BATCH_NORM_SAMPLE) -> int:
        """Measure on uint8 images ``x`` (a random ``max_images`` of them if more); returns how many were used."""
        if not self.layers or len(x) == 0:
            return 0
        if len(x) > max_images:
            x = x[np.sort(np.random.default_rng(seed).choice(len(x), max_images, replace=False))]
        counts = [0] * len(self.layers)  # values per channel pooled so far
        means: list = [None] * len(self.layers)
        squares: list = [None] * len(self.layers)  # sums of squared deviations from the mean
        for images, _labels in image_batches(x, np.zeros(len(x), np.int32), batch_size):
            for i, (mean, var) in enumerate(self._batch_moments(images)):
                n = len(images) * self.per_image[i]
                mean, var = np.asarray(mean, np.float64), np.asarray(var, np.float64)
                if counts[i] == 0:
                    means[i], squares[i] = mean, var * n
                else:  # Chan et al.'s pooling of two groups' means and sums of squared deviations
                    delta, total = mean - means[i], counts[i] + n
                    means[i] = means[i] + delta * n / total
                    squares[i] = squares[i] + var * n + delta**2 * counts[i] * n / total
                counts[i] += n
        for layer, mean, square, n in zip(self.layers, means, squares, counts):
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign((square / n).astype(np.float32))
        return len(x)


def recompute_batch_norm_statistics(model, x: np.ndarray, batch_size: int, seed: int = 0,
                                    max_images: int = BATCH_NORM_SAMPLE) -> int:
    """``BatchNormMeter(model).measure(...)``, once; returns how many images were used (0 without batch norm)."""
    return BatchNormMeter(model).measure(x, batch_size, seed, max_images)


@contextlib.contextmanager
def _release_traced_gradients():
    """Drop the gradient functions TensorFlow registers globally while a model's steps are traced.

    Keras' optimizer sums gradients across replicas with ``tf.custom_gradient``; tracing that inside
    a ``tf.function`` registers a "CustomGradient-<n>" entry in TensorFlow's process-wide gradient
    registry that is never removed and holds the whole traced train step (graph, captured tensors):
    ~4-6 MB per run that nothing can free. The entry is only looked up when something differentiates
    *through* the traced all-reduce, which nothing does once the run's functions are traced, so the
    entries added during the run are removed when it ends (measured: growth per short run 5.7 -> 1.1 MB).
    """
    try:
        from tensorflow.python.framework import ops

        registry_dict = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # a TensorFlow without this private layout: nothing to do
        yield
        return
    before = set(registry_dict)
    try:
        yield
    finally:
        for key in set(registry_dict) - before:
            if key.startswith("CustomGradient-"):
                registry_dict.pop(key, None)


def train(
    config: TrainConfig,
    split: Split,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeline=None,
    *,
    initial_weights: list | None = None,
) -> TrainResult:
    """Build, compile and fit ``config.arch`` on ``split`` in the calling thread.

    ``split`` holds uint8 (N,28,28) images; validation runs after every full epoch. ``should_stop`` is
    polled after every batch and ends training within one batch. A NaN/inf loss ends training with
    ``result.failure`` set. Raises :class:`TrainingError` for a configuration that cannot start.
    Snapshots of the weights go to ``timeline`` (a ``core.timeline.Timeline``; a new one if None), which
    another thread may read while the run goes.
    ``initial_weights`` (arrays in ``model.get_weights()`` order) replace the freshly built weights, so
    runs compared in an experiment start from the same point.
    """
    from .timeline import Timeline

    timeline = timeline if timeline is not None else Timeline()
    with _release_traced_gradients():
        return _train(config, split, on_progress, should_stop, timeline, initial_weights)


def _train(config: TrainConfig, split: Split, on_progress, should_stop, timeline, initial_weights=None) -> TrainResult:
    config.validate()
    if len(split.x_train) == 0:
        raise TrainingError("no training images")
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(int(config.seed))
    model = registry.build_model(config.arch, config.hparams)
    if initial_weights is not None:
        try:
            model.set_weights(initial_weights)
        except ValueError as exc:
            raise TrainingError(f"the starting weights do not fit a {config.arch} with these settings: {exc}") from None
    steps = math.ceil(len(split.x_train) / config.batch_size)
    epochs = config.epochs
    if config.max_batches is not None:
        epochs = min(epochs, math.ceil(config.max_batches / steps))
    optimizer = registry.make_optimizer(config.optimizer, _make_schedule(config, steps * epochs), config.momentum)
    fitted = model
    if np.any(split.y_train == NOT_A_DIGIT):
        # Outlier exposure: fit the logits (the same layers and weights, without the softmax) so the loss
        # is computed stably from them; ``model`` itself is what the run hands back.
        fitted = registry.logits_submodel(model)
        fitted.compile(optimizer=optimizer, loss=outlier_exposure_loss,
                       metrics=[keras.metrics.MeanMetricWrapper(outlier_exposure_accuracy, name="accuracy")])
    else:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    y = split.y_train.astype(np.int32)
    x_val = split.x_val if len(split.x_val) else None
    y_val = split.y_val.astype(np.int32) if len(split.y_val) else None
    from . import callbacks as cb

    state = cb.RunState(steps=steps, epochs=epochs, report_every_s=config.report_every_s)
    timeline.steps_per_epoch = steps
    if should_stop is not None and should_stop():
        return TrainResult(model, config, state.history, 0.0, 0, 0, stopped=True, timeline=timeline)
    # The order matters: each callback reads what the ones before it wrote to the state (see core.callbacks).
    callbacks = [cb.RunClock(state)]
    if should_stop is not None:
        callbacks.append(cb.StopOnRequest(state, should_stop))
    if config.max_batches is not None:
        callbacks.append(cb.BatchLimit(state, config.max_batches))
    callbacks += [
        cb.DivergenceGuard(state, config.learning_rate),
    ]
    if batch_norm_layers(model):
        callbacks.append(cb.BatchNormStatistics(state, model, split.x_train, config.batch_size, config.seed))
    callbacks.append(cb.WeightSnapshots(state, model, timeline))
    if config.lr_schedule == "constant":
        callbacks.append(cb.LearningRateChanges(state, timeline))
    callbacks += [
        cb.EpochValidation(state, x_val, y_val),
        cb.ProgressReporter(state, on_progress, config.batch_size),
    ]
    if config.tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(config.tensorboard_dir), update_freq="epoch"))
    t0 = time.perf_counter()
    import tensorflow as tf

    tf.random.set_seed(config.seed)
    batches = image_batches(split.x_train, y, config.batch_size, seed=config.seed, augment=config.augment)
    fitted.fit(batches, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False)  # the pipeline shuffles
    seconds = time.perf_counter() - t0
    if state.failure is None and not cb.weights_finite(model):
        state.failure = "training stopped: the weights became NaN or infinite; try a smaller learning rate."
        state.divergence = Divergence(state.epoch + 1, state.batch_in_epoch, steps, state.batch_time - state.t0,
                                      "the weights became NaN or infinite")
    return TrainResult(
        model=model, config=config, history=state.history, seconds=seconds,
        epochs_done=state.epochs_done, batches_done=state.batches_done,
        stopped=state.stopped, failure=state.failure, divergence=state.divergence,
        samples_per_s=state.batches_done * config.batch_size / seconds if seconds > 0 else 0.0,
        timeline=timeline,
    )


# How much a non-digit counts against a digit in the loss (Hendrycks et al.'s outlier exposure uses 0.5).
OUTLIER_WEIGHT = 0.5


def outlier_exposure_loss(y_true, logits):
    """Cross-entropy for digits; for a non-digit (label NOT_A_DIGIT), cross-entropy to the uniform guess.

    Outlier exposure (Hendrycks, Mazeika & Dietterich, 2019): the network keeps its 10 outputs and learns
    to answer a drawing unlike any digit with probabilities spread over all ten, which is what lets the
    verdict say "not a digit" without an 11th class that every view would have to know about. Computed
    from the logits z: -log p_y = logsumexp(z) - z_y, and the mean of -log p_k = logsumexp(z) - mean(z).
    """
    from keras import ops

    y = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    lse = ops.logsumexp(logits, axis=-1)
    is_digit = y < NOT_A_DIGIT
    onehot = ops.one_hot(ops.minimum(y, NOT_A_DIGIT - 1), NOT_A_DIGIT, dtype=logits.dtype)
    digit_loss = lse - ops.sum(onehot * logits, axis=-1)
    uniform_loss = lse - ops.mean(logits, axis=-1)
    return ops.where(is_digit, digit_loss, OUTLIER_WEIGHT * uniform_loss)


def outlier_exposure_accuracy(y_true, logits):
    """Accuracy where a non-digit counts as right when no digit gets half the probability."""
    from keras import ops

    y = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    probs = ops.softmax(logits, axis=-1)
    pred = ops.cast(ops.argmax(logits, axis=-1), "int32")
    digit_right = ops.cast(ops.equal(pred, y), "float32")
    non_digit_right = ops.cast(ops.max(probs, axis=-1) < 0.5, "float32")
    return ops.where(y < NOT_A_DIGIT, digit_right, non_digit_right)


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> dict:
    """Test accuracy, log loss, predictions and probabilities of ``model`` on uint8 images."""
    probs = predict_probabilities(model, x, batch_size)
    pred = probs.argmax(axis=1)
    p_true = np.clip(probs[np.arange(len(y)), y.astype(int)], 1e-12, 1.0)
    return {
        "accuracy": float((pred == y).mean()) if len(y) else float("nan"),
        "log_loss": float(-np.log(p_true).mean()) if len(y) else float("nan"),
        "predictions": pred,
        "probabilities": probs,
    }


def predict_probabilities(model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Probabilities for uint8 (N,28,28) or float (N,28,28[,1]) images, in batches (no model.predict overhead per call)."""

    def as_input(batch):  # per batch: a float copy of a whole large set would be 4x its uint8 size
        if batch.dtype == np.uint8:
            return to_float_images(batch)
        return batch[..., None].astype(np.float32) if batch.ndim == 3 else batch

    # A batch's activations are bounded like one drawing's: fewer images per batch for a model that needs more.
    batch_size = plan_model(model.get_config()).batch_size_for(batch_size)
    out = [np.asarray(model(as_input(x[i : i + batch_size]), training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 10), np.float32)
