"""Does the default model say "not a digit" or "unsure" when it should, and only then?

Non-digits: Omniglot characters of the alphabets no model was trained on (``core.non_digits.HELDOUT_ALPHABETS``,
digit-like characters left out) and generated doodles (a seed no training run uses), drawn on the canvas
and prepared like a user's drawing. Digits: the pen digits of writers 26-30 (``core.strokes.TEST_WRITERS``:
neither trained on nor used for calibration). Each drawing gets the app's verdict
(``core.verdict.decide`` with the model's own thresholds). Prints::

    non-digits flagged: 0.xx        (verdict "unsure" or "not a digit"; higher is better)
    digits flagged: 0.xx            (lower is better)
    calibration error: 0.0xx        (ECE, 10 bins, of the top probability on the digits)

Usage::

    python benchmarks/not_a_digit.py [--model PATH] [--doodles N]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup()

from mnist_desk.core import store  # noqa: E402
from mnist_desk.core.calibration import expected_calibration_error  # noqa: E402
from mnist_desk.core.drawn_sets import prepared_drawings  # noqa: E402
from mnist_desk.core.non_digits import DOODLE_KINDS, HELDOUT_ALPHABETS, load_omniglot, random_doodle  # noqa: E402
from mnist_desk.core.strokes import TEST_WRITERS, pendigits_of_writers  # noqa: E402
from mnist_desk.core.verdict import DIGIT, Thresholds, decide_many  # noqa: E402

DOODLE_SEED = 90_210  # not a seed any training run draws doodles with


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="cnn", help="model name or .keras path (default: cnn)")
    ap.add_argument("--doodles", type=int, default=800, help="generated doodles to add (default 800)")
    args = ap.parse_args(argv)

    path = store.find_model(args.model)
    model = store.load_model(path)
    thresholds = Thresholds.from_metadata(store.read_metadata(path))
    from mnist_desk.core.training import predict_probabilities  # noqa: PLC0415 - slow import

    t0 = time.perf_counter()
    omni = [(s, -1) for s, _ in load_omniglot(HELDOUT_ALPHABETS)]
    rng = np.random.default_rng(DOODLE_SEED)
    doodles = [(random_doodle(rng, DOODLE_KINDS[i % len(DOODLE_KINDS)]), -1) for i in range(args.doodles)]
    x_omni, _ = prepared_drawings(omni, seed=1)
    x_doodle, _ = prepared_drawings(doodles, seed=2)
    x_dig, y_dig = prepared_drawings(pendigits_of_writers(TEST_WRITERS))
    print(f"{len(x_omni)} characters of {', '.join(HELDOUT_ALPHABETS)}, {len(x_doodle)} doodles, {len(y_dig)} digits "
          f"of writers {TEST_WRITERS[0]}-{TEST_WRITERS[-1]}; prepared in {time.perf_counter() - t0:.1f} s; "
          f"thresholds: unsure below {thresholds.unsure_below:.3f}, pair mass {thresholds.pair_mass}", file=sys.stderr)

    def flagged(x):
        kinds = decide_many(predict_probabilities(model, x), thresholds)
        return float((kinds != DIGIT).mean()), kinds

    f_omni, _ = flagged(x_omni)
    f_doodle, kinds_doodle = flagged(x_doodle)
    p_dig = predict_probabilities(model, x_dig)
    kinds_dig = decide_many(p_dig, thresholds)
    n_non = len(x_omni) + len(x_doodle)
    print(f"non-digits flagged: {(f_omni * len(x_omni) + f_doodle * len(x_doodle)) / n_non:.3f}")
    print(f"  characters of unseen alphabets flagged: {f_omni:.3f}")
    print(f"  doodles flagged: {f_doodle:.3f} (" + ", ".join(
        f"{k} {(kinds_doodle[i::len(DOODLE_KINDS)] != DIGIT).mean():.2f}" for i, k in enumerate(DOODLE_KINDS)) + ")")
    print(f"digits flagged: {(kinds_dig != DIGIT).mean():.3f}")
    wrong = p_dig.argmax(1) != y_dig
    print(f"  of the misread digits, flagged: {(kinds_dig[wrong] != DIGIT).mean() if wrong.any() else float('nan'):.3f}"
          f" ({int(wrong.sum())} misread)")
    print(f"calibration error: {expected_calibration_error(p_dig, y_dig):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
