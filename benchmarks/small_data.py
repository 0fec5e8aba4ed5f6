"""Test accuracy of every registry architecture trained on a few MNIST images, beside its training accuracy.

Each run goes through ``core.runs.run_training``, the function the Train view and ``mnist-desk train``
call, on the first N images of the shipped MNIST with no added drawings (``--limit N``, drawn-style,
pen digits and non-digits 0), the architecture's own training defaults (its default epochs unless
``--epochs``), no validation set (the figure that matters here is the test set's), and saved in a
temporary folder. A model whose batch-norm statistics were left from too few training steps scores
well on its training images and near 10% on the test set; this benchmark shows that gap. Prints one
line per architecture and size::

    small-data accuracy <arch> <n>: 0.xx (train 0.yy)

test accuracy on the 10,000 MNIST test images, then accuracy of the same final model (as the canvas
uses it: no augmentation, no dropout) on its own N training images. Seconds and epochs go to stderr.
Target: no architecture below 0.80 at 2,000 images.

Usage: ``python benchmarks/small_data.py [--sizes 500 2000] [--arch cnn --arch strided] [--epochs 1]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(home="fresh")

from mnist_desk.core import data, registry  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000], help="training images per run")
    ap.add_argument("--arch", action="append", choices=list(registry.ARCHITECTURES),
                    help="an architecture (repeatable); default: all")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the architecture's)")
    args = ap.parse_args(argv)

    from mnist_desk.core.runs import TrainSpec, run_training  # noqa: PLC0415
    from mnist_desk.core.training import TrainConfig, evaluate  # noqa: PLC0415

    mnist = data.load_mnist()
    t_all = time.perf_counter()
    for arch in args.arch or list(registry.ARCHITECTURES):
        for n in args.sizes:
            config = TrainConfig.for_arch(arch, epochs=args.epochs, val_size=0)
            spec = TrainSpec(config, limit=n, drawn_style=0, pen_digits=0, not_digits=0)
            t0 = time.perf_counter()
            out = run_training(spec, save_name=f"small-{arch}-{n}")
            if out.failure:
                print(f"small-data accuracy {arch} {n}: failed ({out.failure})", flush=True)
                continue
            train = evaluate(out.result.model, mnist.x_train[:n], mnist.y_train[:n])["accuracy"]
            print(f"small-data accuracy {arch} {n}: {out.test_accuracy:.2f} (train {train:.2f})", flush=True)
            print(f"  ({config.epochs} epochs of {out.n_train} images, batch {config.batch_size}, "
                  f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    print(f"  (all runs: {time.perf_counter() - t_all:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
