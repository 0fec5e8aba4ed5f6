"""Training throughput: ``core.training.train`` against a plain ``model.fit`` of the same model.

LeNet-5 at the seeds' settings (Adam 1e-3, batch 128) on the 50,000 training images (MNIST's first
50,000; the last 10,000 are validation, as the app splits them). Each run trains a fresh model for
``--warmup + --batches`` batches; only the batches after the warm-up are timed, so building,
compiling and the first step's tracing are excluded:

* core: ``train(TrainConfig(max_batches=W+N))``; its (throttled) progress reports carry the batch
  count, timed from the first report at or after batch W to the report of the last batch.
* plain: ``registry.build_model('lenet5')`` compiled the same way; a warm-up ``fit`` of W batches, then
  ``fit`` of exactly N*128 images (``epochs=1, batch_size=128, shuffle=True, verbose=0``) timed from its
  epoch start to its epoch end (an epoch-level callback, so Keras' batch dispatch stays as in a plain fit).

Runs are interleaved (plain, core, plain, core, ...) to spread machine noise over both. Prints::

    core samples/s: x
    plain samples/s: y
    train throughput ratio core/plain: x.xx

(medians over the repeats). Usage: ``python benchmarks/train_speed.py [--batches 300] [--repeats 3] [--diagnose]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup()

import numpy as np  # noqa: E402

from mnist_desk.core import data, registry  # noqa: E402

BATCH = 128
LR = 1e-3


def core_run(split: data.Split, warmup: int, batches: int, seed: int) -> float:
    """Samples/s of core.training.train from batch ``warmup`` to the last batch."""
    from mnist_desk.core.training import TrainConfig, train

    marks: list[tuple[int, float]] = []

    def on_progress(p) -> None:
        if p.kind == "batch":
            marks.append((p.total_batches_done, time.perf_counter()))

    config = TrainConfig(arch="lenet5", optimizer="adam", learning_rate=LR, batch_size=BATCH, epochs=1,
                         seed=seed, max_batches=warmup + batches)
    result = train(config, split, on_progress=on_progress)
    if not result.ok or result.batches_done != warmup + batches:
        raise RuntimeError(f"core run failed: {result.failure or result.batches_done}")
    start = next(m for m in marks if m[0] >= warmup)
    end = marks[-1]
    if end[0] != warmup + batches or end[0] - start[0] < batches // 2:
        raise RuntimeError(f"core progress marks do not cover the run: {start} .. {end}")
    return (end[0] - start[0]) * BATCH / (end[1] - start[1])


def plain_run(x: np.ndarray, y: np.ndarray, warmup: int, batches: int, seed: int, batch_timer: bool = False) -> float:
    """Samples/s of a plain model.fit of the same registry model, compiled the same way.

    A first fit of ``warmup`` batches builds and traces the train step; a second fit of exactly
    ``batches * 128`` images (1 epoch) is timed from its epoch start to its epoch end. The timer only
    hooks epochs, so Keras keeps dispatching batch callbacks asynchronously, as in a plain fit with no
    callbacks. ``batch_timer=True`` adds a no-op per-batch callback instead (diagnostic: any callback that
    overrides ``on_train_batch_end`` makes Keras convert the logs to Python floats after every batch).
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = registry.build_model("lenet5")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    w = warmup * BATCH
    model.fit(x[:w], y[:w], batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    marks: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks.append(time.perf_counter())

    class BatchNoop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    n = batches * BATCH
    callbacks = [EpochTimer()] + ([BatchNoop()] if batch_timer else [])
    model.fit(x[w : w + n], y[w : w + n], batch_size=BATCH, epochs=1, shuffle=True, verbose=0, callbacks=callbacks)
    return n / (marks[1] - marks[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=300, help="timed batches per run (default 300)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed batches first (default 20)")
    ap.add_argument("--repeats", type=int, default=3, help="pairs of (plain, core) runs (default 3)")
    ap.add_argument("--diagnose", action="store_true",
                    help="also time a plain fit with a no-op per-batch callback (the per-batch log sync alone)")
    args = ap.parse_args(argv)
    if (args.warmup + args.batches) * BATCH > 50_000:
        ap.error("warm-up + timed batches must fit in one epoch of 50,000 images (at most 390 batches)")

    ds = data.load_mnist()
    split = data.split_validation(ds.x_train, ds.y_train)  # 50,000 training images
    x = data.to_float_images(split.x_train)
    y = split.y_train.astype(np.int32)
    import tensorflow as tf

    print(f"lenet5, Adam {LR:g}, batch {BATCH}, {len(split.x_train)} training images; "
          f"{args.warmup} warm-up + {args.batches} timed batches per run; "
          f"TF {tf.__version__}, {os.cpu_count()} CPUs", file=sys.stderr)

    core, plain, synced = [], [], []
    for i in range(args.repeats):
        plain.append(plain_run(x, y, args.warmup, args.batches, seed=i))
        print(f"  run {i + 1}: plain {plain[-1]:.0f} samples/s", file=sys.stderr, flush=True)
        core.append(core_run(split, args.warmup, args.batches, seed=i))
        print(f"  run {i + 1}: core  {core[-1]:.0f} samples/s", file=sys.stderr, flush=True)
        if args.diagnose:
            synced.append(plain_run(x, y, args.warmup, args.batches, seed=i, batch_timer=True))
            print(f"  run {i + 1}: plain + no-op batch callback {synced[-1]:.0f} samples/s", file=sys.stderr, flush=True)
    c, p = statistics.median(core), statistics.median(plain)
    print(f"core samples/s: {c:.0f}")
    print(f"plain samples/s: {p:.0f}")
    if synced:
        print(f"plain with a no-op batch callback samples/s: {statistics.median(synced):.0f}")
    print(f"train throughput ratio core/plain: {c / p:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
