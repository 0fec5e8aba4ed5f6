"""Drawn-digit benchmark: how well do models read digits drawn by people they never saw?

The UCI pendigits training digits (real tablet pen strokes) of writers 21-30 - writers no shipped model
was trained on (training may use writers 1-20; see ``core.strokes.TRAIN_WRITERS``) - are drawn as the
canvas would show them (black ink on white, 280x280, a random size, position and pen width, fixed
seed), prepared with ``mnist_desk.core.preprocess.prepare_drawing`` and classified. Prints::

    drawn-digit accuracy writer-disjoint <model>: 0.xxxx
    per-digit error <default model>: 0 0.xxx  1 0.xxx ...   (and its most common confusions)

Usage::

    python benchmarks/drawn_digits.py                       # every shipped model
    python benchmarks/drawn_digits.py --model a.keras --model b.keras
    python benchmarks/drawn_digits.py --plain-resize        # also the naive whole-canvas resize baseline
    python benchmarks/drawn_digits.py --all-writers         # also all 30 writers (inflated for a model trained on 1-20)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup()

from mnist_desk.core import store  # noqa: E402
from mnist_desk.core.confusion import confusion_matrix  # noqa: E402
from mnist_desk.core.drawn_sets import SEED, prepared_drawings  # noqa: E402
from mnist_desk.core.paths import SHIPPED_MODELS_DIR  # noqa: E402
from mnist_desk.core.preprocess import plain_resize  # noqa: E402
from mnist_desk.core.strokes import CALIBRATION_WRITERS, TEST_WRITERS, load_pendigits, pendigits_of_writers  # noqa: E402

UNSEEN_WRITERS = CALIBRATION_WRITERS + TEST_WRITERS
DEFAULT_MODEL = "cnn"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", type=Path, help="a .keras model (repeatable)")
    ap.add_argument("--plain-resize", action="store_true", help="also score the naive whole-canvas resize")
    ap.add_argument("--all-writers", action="store_true", help="also score all 30 writers")
    ap.add_argument("--data", type=Path, default=None, help="pendigits_strokes.npz (default: shared data)")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)

    models = args.model or sorted(p for p in SHIPPED_MODELS_DIR.glob("*.keras") if not p.name.startswith("."))
    if not models:
        print(f"no models given and none in {SHIPPED_MODELS_DIR}", file=sys.stderr)
        return 1
    from mnist_desk.core.training import predict_probabilities  # noqa: PLC0415 - slow import

    t0 = time.perf_counter()
    sets = {"writer-disjoint": prepared_drawings(pendigits_of_writers(UNSEEN_WRITERS, args.data), args.seed)}
    if args.plain_resize:
        sets["writer-disjoint plain-resize"] = prepared_drawings(pendigits_of_writers(UNSEEN_WRITERS, args.data),
                                                                 args.seed, prepare=plain_resize)
    if args.all_writers:
        sets["all 30 writers"] = prepared_drawings(load_pendigits(args.data), args.seed)
    print(f"rendered and prepared {sum(len(s[1]) for s in sets.values())} drawings of writers "
          f"{UNSEEN_WRITERS[0]}-{UNSEEN_WRITERS[-1]} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for path in models:
        model = store.load_model(path)
        name = Path(path).stem
        for label, (x, y) in sets.items():
            pred = predict_probabilities(model, x).argmax(axis=1)
            print(f"drawn-digit accuracy {label} {name}: {(pred == y).mean():.4f}", flush=True)
            if name == DEFAULT_MODEL and label == "writer-disjoint" or len(models) == 1 and label == "writer-disjoint":
                err = [float((pred[y == d] != d).mean()) for d in range(10)]
                print(f"per-digit error {name}: " + "  ".join(f"{d} {e:.3f}" for d, e in enumerate(err)))
                wrong = confusion_matrix(y, pred)
                np.fill_diagonal(wrong, 0)
                top = np.argsort(wrong, axis=None)[::-1][:5]
                print(f"most common errors {name} (true->read): " + ", ".join(
                    f"{i // 10}->{i % 10} x{wrong.flat[i]}" for i in top if wrong.flat[i]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
