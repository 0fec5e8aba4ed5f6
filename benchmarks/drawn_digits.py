"""Drawn-digit benchmark: how well do models read digits drawn on the app's canvas?

Every one of the 7,494 UCI pendigits training digits (real tablet pen strokes, 30 writers) is drawn
as the canvas would show it - black ink on white, 280x280, a random size (40-90% of the canvas),
position and pen width (8-24 px), fixed seed - then prepared with
``mnist_desk.core.preprocess.prepare_drawing`` and classified. Prints one line per model::

    drawn-digit accuracy <model>: 0.xxxx

Usage::

    python benchmarks/drawn_digits.py                       # every *.keras in mnist_desk/resources/models/
    python benchmarks/drawn_digits.py --model a.keras --model b.keras
    python benchmarks/drawn_digits.py --plain-resize        # also the naive whole-canvas resize baseline
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mnist_desk.core.errors import EmptyDrawing  # noqa: E402
from mnist_desk.core.preprocess import plain_resize, prepare_drawing  # noqa: E402
from mnist_desk.core.strokes import load_pendigits, random_canvas_params, render_strokes  # noqa: E402

SEED = 2024
CANVAS = 280
MODELS_DIR = REPO / "mnist_desk" / "resources" / "models"


def canvas_drawings(digits, seed: int = SEED, canvas: int = CANVAS):
    """Yield (uint8 canvas image, label) for each (strokes, label), with reproducible random params."""
    rng = np.random.default_rng(seed)
    for strokes, label in digits:
        params = random_canvas_params(rng, canvas)
        yield render_strokes(strokes, canvas=canvas, **params), label


def prepared_set(digits, seed: int = SEED, plain: bool = False, limit: int | None = None):
    """Rendered and prepared digits: float32 (N,28,28), labels (N,). A drawing that prepare_drawing
    refuses as empty becomes an all-black image (and counts as wrong unless a model guesses it)."""
    if limit is not None:
        digits = digits[:limit]
    xs, ys = [], []
    for img, label in canvas_drawings(digits, seed):
        if plain:
            x = plain_resize(img)
        else:
            try:
                x = prepare_drawing(img)
            except EmptyDrawing:
                x = np.zeros((28, 28), np.float32)
        xs.append(x)
        ys.append(label)
    return np.stack(xs).astype(np.float32), np.asarray(ys, np.int64)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    probs = model.predict(x[..., None], batch_size=512, verbose=0)
    return float((np.argmax(probs, axis=1) == y).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", type=Path, help="a .keras model (repeatable)")
    ap.add_argument("--plain-resize", action="store_true", help="also score the naive whole-canvas resize")
    ap.add_argument("--data", type=Path, default=None, help="pendigits_strokes.npz (default: shared data)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N digits (quick runs)")
    args = ap.parse_args(argv)

    models = args.model or sorted(MODELS_DIR.glob("*.keras"))
    if not models:
        print(f"no models given and none in {MODELS_DIR}", file=sys.stderr)
        return 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    import keras  # noqa: PLC0415 - slow import, only when needed

    digits = load_pendigits(args.data)
    t0 = time.perf_counter()
    x, y = prepared_set(digits, args.seed, limit=args.limit)
    print(f"rendered and prepared {len(y)} drawings in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    xp = None
    if args.plain_resize:
        xp, _ = prepared_set(digits, args.seed, plain=True, limit=args.limit)
    for path in models:
        model = keras.models.load_model(path, compile=False)
        print(f"drawn-digit accuracy {Path(path).name}: {accuracy(model, x, y):.4f}")
        if xp is not None:
            print(f"drawn-digit accuracy {Path(path).name} (plain resize): {accuracy(model, xp, y):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
