"""Real human pen strokes replayed as mouse drags into the real canvas widget (offscreen), read from the bars.

Each pendigits digit of writers 21-30 (UCI, tablet strokes; writers no shipped model trains on) gets a
random size (40-90% of the canvas), position and pen width (8-24 px), as in benchmarks/drawn_digits.py, but
here every stroke is a press / moves / release sequence of QMouseEvents into the Draw view, and the
answer is read back from the prediction bars the user sees.
Prints `canvas drawn-digit accuracy writer-disjoint: 0.xxxx` (target >= 0.985 with the default model).
Run: python benchmarks/canvas_digits.py [--limit N] [--model NAME]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="temp")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="only the first N digits")
    ap.add_argument("--model", default=None, help="model name (default: the app's default)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from mnist_desk.core.strokes import (
        CALIBRATION_WRITERS,
        TEST_WRITERS,
        pendigits_of_writers,
        place_strokes,
        random_canvas_params,
    )
    from mnist_desk.ui.main_window import MainWindow
    from tests.ui.support import drag

    w = MainWindow(initial_model=args.model, preload_tensorflow=False)
    w.show()
    while w.hub.current is None or w.hub.net(w.hub.current) is None:
        app.processEvents()
        time.sleep(0.005)
    tab = w.draw
    side = tab.canvas.side
    digits = pendigits_of_writers(CALIBRATION_WRITERS + TEST_WRITERS)
    if args.limit:
        digits = digits[: args.limit]
    rng = np.random.default_rng(args.seed)
    correct = 0
    errors = np.zeros((10, 10), int)
    t0 = time.perf_counter()
    for strokes, label in digits:
        params = random_canvas_params(rng, side)
        tab.canvas.clear()
        tab.canvas.pen_width = params["pen_width"]
        for stroke in place_strokes(strokes, canvas=side, size_frac=params["size_frac"], center=params["center"]):
            drag(tab.canvas, stroke if len(stroke) > 1 else np.vstack([stroke, stroke]), process_events=False)
        app.processEvents()  # the queued prediction runs, as it would after the user's last move
        tab.predict_now()
        pred = int(np.argmax(tab.bars.heights[0])) if tab.bars.heights else -1
        correct += pred == label
        if pred >= 0:
            errors[label, pred] += pred != label
    n = len(digits)
    print(f"model: {w.hub.current.name}, digits: {n}, seconds: {time.perf_counter() - t0:.0f}")
    worst = sorted(((errors[i, j], i, j) for i in range(10) for j in range(10) if errors[i, j]), reverse=True)[:5]
    print("most frequent errors (true->predicted: count): " + ", ".join(f"{i}->{j}: {c}" for c, i, j in worst))
    print(f"canvas drawn-digit accuracy writer-disjoint: {correct / n:.4f}")
    w.close()


if __name__ == "__main__":
    main()
