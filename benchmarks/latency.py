"""Draw-to-bars latency: from a mouse-move event to the bars showing the new prediction, while drawing.

Real QMouseEvents are sent to the real canvas (offscreen); each move is timestamped just before it is
sent, and the time is taken when the Draw view's ``predicted`` signal follows (it is emitted once the
bars are updated and repainted).
Prints `draw-to-bars p50 ms: x` and `draw-to-bars p95 ms: x` (target p95 <= 20 with the default model).
Run: python benchmarks/latency.py [strokes]
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="temp")


def main(n_strokes: int = 40) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from mnist_desk.ui.main_window import MainWindow
    from tests.ui.support import drag

    w = MainWindow(preload_tensorflow=False)
    w.show()
    while w.hub.current is None or w.hub.net(w.hub.current) is None:
        app.processEvents()
        time.sleep(0.005)
    tab = w.draw
    sent: list[float] = []  # when the move the next prediction answers was sent (the newest, if several)
    latencies_ms: list[float] = []

    def on_predicted(_result) -> None:
        if sent:  # the prediction on release answers no move: not counted
            latencies_ms.append((time.perf_counter() - sent.pop()) * 1000)

    def before_move(_i) -> None:
        sent[:] = [time.perf_counter()]

    tab.predicted.connect(on_predicted)
    rng = np.random.default_rng(0)
    for s in range(n_strokes):
        tab.canvas.clear()
        cx, cy, r = rng.uniform(100, 180), rng.uniform(100, 180), rng.uniform(40, 90)
        pts = [(cx + r * math.sin(t), cy - r * math.cos(t)) for t in np.linspace(0, 1.8 * math.pi, 40)]
        drag(tab.canvas, pts, before_move=before_move)
    lat = np.array(latencies_ms[5:])  # the first few include one-off warm-up
    print(f"model: {w.hub.current.name}, moves measured: {len(lat)}")
    print(f"draw-to-bars p50 ms: {np.percentile(lat, 50):.1f}")
    print(f"draw-to-bars p95 ms: {np.percentile(lat, 95):.1f}")
    w.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
