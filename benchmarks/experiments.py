"""Seed 003's comparison as an experiment: LeNet-5 with SGD 0.01 vs Adam 0.001, same data, same initial weights.

Runs ``core.experiments.READY_MADE["sgd-vs-adam-lenet5"]`` (the first 20,000 MNIST training images,
validation on the last 10,000, test on the 10,000 test images; 3 epochs, batch 100) through
``run_experiment`` and prints its results table::

    variant     final val  best val  test    train s  s to 97%  s to 98%  s to 99%  params
    SGD 0.01    ...

Usage: ``python benchmarks/experiments.py [--limit 10000] [--epochs 3] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(home="fresh")

from mnist_desk.core import experiments  # noqa: E402


def fmt(v, kind: str) -> str:
    if v is None:
        return "not reached" if kind == "s" else "-"
    if kind == "pct":
        return f"{v * 100:.2f}%"
    if kind == "s":
        return f"{v:.1f}"
    return str(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=experiments.QUICK_LIMIT)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--csv", help="also write the table as CSV here")
    args = ap.parse_args(argv)
    exp = experiments.READY_MADE["sgd-vs-adam-lenet5"]
    exp = replace(exp, base=replace(exp.base, limit=args.limit, config=replace(exp.base.config, epochs=args.epochs)))
    t0 = time.perf_counter()
    result = experiments.run_experiment(exp)
    wall = time.perf_counter() - t0
    print(f"experiment {exp.name}: {exp.shows}")
    print(f"({args.limit} training images, {args.epochs} epochs, batch {exp.base.config.batch_size}; "
          f"wall {wall:.0f} s with data, calibration and testing)")
    cols = [("variant", "variant", ""), ("final val acc", "final val", "pct"), ("best val acc", "best val", "pct"),
            ("test acc", "test", "pct"), ("train seconds", "train s", "s"), ("s to 97%", "s to 97%", "s"),
            ("s to 98%", "s to 98%", "s"), ("s to 99%", "s to 99%", "s"), ("parameters", "params", "")]
    rows = [[fmt(r[key], kind) for key, _h, kind in cols] for r in result.table()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, (_k, h, _kind) in enumerate(cols)]
    print("  ".join(h.ljust(w) for (_k, h, _kind), w in zip(cols, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if args.csv:
        print(f"csv: {result.write_csv(args.csv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
