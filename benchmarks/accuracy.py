"""Test-set accuracy of the shipped models.

Loads every ``mnist_desk/resources/models/*.keras`` through the app's own safe loader
(``core.store.load_model``) and scores it on the 10,000 MNIST test images with
``core.training.evaluate``. Prints one line per model::

    accuracy <name>: 0.xxxx

Usage::

    python benchmarks/accuracy.py                      # every shipped model
    python benchmarks/accuracy.py --model a.keras      # others (repeatable)
    python benchmarks/accuracy.py --data path/to/mnist # other MNIST files (npz, CSV or IDX folder)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup()

from mnist_desk.core import data, store  # noqa: E402
from mnist_desk.core.errors import MnistDeskError  # noqa: E402
from mnist_desk.core.paths import SHIPPED_MODELS_DIR  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", type=Path, help="a .keras model (repeatable); default: the shipped ones")
    ap.add_argument("--data", default=None, help="MNIST files (default: the copy shipped in the package)")
    args = ap.parse_args(argv)

    models = args.model or sorted(p for p in SHIPPED_MODELS_DIR.glob("*.keras") if not p.name.startswith("."))
    if not models:
        print(f"no models given and none in {SHIPPED_MODELS_DIR}", file=sys.stderr)
        return 1
    ds = data.load_mnist(args.data)
    if not ds.has_test:
        print(f"{ds.source}: has no test set", file=sys.stderr)
        return 1
    from mnist_desk.core.training import evaluate  # noqa: PLC0415

    failures = 0
    for path in models:
        try:
            model = store.load_model(path)
        except MnistDeskError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        t0 = time.perf_counter()
        ev = evaluate(model, ds.x_test, ds.y_test)
        print(f"accuracy {Path(path).stem}: {ev['accuracy']:.4f}", flush=True)
        print(f"  ({len(ds.y_test)} test images, log loss {ev['log_loss']:.4f}, {time.perf_counter() - t0:.1f} s)",
              file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
