"""Start-up: from process start to the window shown, and to the first drawing classified.

Prints `window shown s: x.xx` (target <= 2.0) and `first prediction s: x.xx` (target <= 3.0).
The child is a fresh Python process that opens the real window (offscreen), waits for the default
model, drags a digit into the canvas and reports when the bars show it. Run: python benchmarks/startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

REPO = _setup.setup(qt=True, home="fresh")  # the children inherit the environment

CHILD = r"""
import sys, time
t_start = float(sys.argv[1])
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from mnist_desk.ui.main_window import MainWindow
w = MainWindow()
w.show()
app.processEvents()
t_shown = time.time()
from tests.ui.support import drag
while w.hub.current is None or w.hub.net(w.hub.current) is None:
    app.processEvents()
    time.sleep(0.002)
drag(w.draw.canvas, [(150, 40 + 8 * i) for i in range(26)])
assert w.draw.bars.heights, "no prediction shown"
t_pred = time.time()
print(f"RESULT {t_shown - t_start:.3f} {t_pred - t_start:.3f} {w.hub.current.name} {int(max(range(10), key=lambda i: w.draw.bars.heights[0][i]))}")
w.close()
"""


def main(runs: int = 3) -> None:
    # the child imports mnist_desk and tests from this checkout even when it is not installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    shown, pred = [], []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD, repr(t0)], env=env, capture_output=True, text=True, timeout=120)
        line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
        if line is None:
            print(out.stdout, out.stderr, file=sys.stderr)
            raise SystemExit("child failed")
        _, s, p, model, digit = line.split()
        shown.append(float(s))
        pred.append(float(p))
    print(f"model: {model}, drawn 1 read as: {digit}, runs: {runs} (median shown)")
    print(f"window shown s: {statistics.median(shown):.2f}")
    print(f"first prediction s: {statistics.median(pred):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
