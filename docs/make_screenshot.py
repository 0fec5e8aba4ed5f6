"""Make docs/screenshot.png: the real window on an X server (run under Xvfb), a digit drawn with mouse drags.

    xvfb-run -s "-screen 0 1280x800x24" python docs/make_screenshot.py [--tab Draw|Train|Inspect] [--compare mlp,linear]
        [--out PATH]

The whole screen is captured with ImageMagick's `import -window root`, so what you see is what X shows.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# the checkout's package and its tests (tests.ui.support drags the mouse), whatever is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "screenshot.png"))
    ap.add_argument("--tab", default="Draw")
    ap.add_argument("--saliency", action="store_true")
    ap.add_argument("--drawing", choices=("four", "scribble"), default="four", help="what to draw")
    ap.add_argument("--size", default="1270x780", help="window size WxH")
    ap.add_argument("--compare", default="", help="models to compare with, comma-separated (e.g. mlp,linear)")
    ap.add_argument("--experiment", default="", help="open the Experiments window on this ready-made experiment")
    ap.add_argument("--experiment-images", type=int, default=0, help="run the experiment on this many images first")
    ap.add_argument("--lab", default="", help="show this Lab view (robustness, preprocessing, nudges, its idea, break), "
                                              "with something tried in it")
    args = ap.parse_args()
    os.environ.setdefault("MNIST_DESK_HOME", tempfile.mkdtemp(prefix="mnist_desk_shot_"))
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from mnist_desk.ui.main_window import MainWindow
    from tests.ui.support import drag

    w = MainWindow()
    width, height = (int(v) for v in args.size.split("x"))
    w.setGeometry(0, 0, width, height)
    w.show()
    while w.hub.current is None or w.hub.net(w.hub.current) is None:
        app.processEvents()
        time.sleep(0.01)
    c = w.draw.canvas
    if args.compare:
        w.draw.set_compare([n for n in args.compare.split(",") if n])
        while any(w.hub.net(m) is None for m in w.draw.compared_models()):
            app.processEvents()
            time.sleep(0.01)
    if args.drawing == "four":  # a handwritten 4: a slanted down-stroke and bar, then the long vertical
        drag(c, [(120 - 0.35 * t, 50 + t) for t in np.linspace(0, 120, 30)] + [(78 + t, 170) for t in np.linspace(0, 130, 30)])
        drag(c, [(175 + 0.1 * t, 70 + t) for t in np.linspace(0, 170, 40)])
    else:  # a star-like scribble
        pts = [(80, 60), (200, 70), (60, 150), (210, 160), (70, 240), (190, 90), (140, 250), (120, 50), (215, 230)]
        drag(c, [(x0 + (x1 - x0) * k / 8, y0 + (y1 - y0) * k / 8) for (x0, y0), (x1, y1) in zip(pts, pts[1:]) for k in range(8)])
    if args.saliency:
        w.draw.saliency_box.setChecked(True)
    for i in range(w.tabs.count()):
        if w.tabs.tabText(i) == args.tab:
            w.tabs.setCurrentIndex(i)
    if args.experiment:
        d = w.train.open_experiments()
        d.setGeometry(0, 0, width, height)
        d.choice.setCurrentIndex(d.choice.findData(args.experiment))
        if args.experiment_images:
            d.images.setValue(args.experiment_images)
            d.start()
            while d.is_running():
                app.processEvents()
                time.sleep(0.02)
    if args.lab:
        w.tabs.setCurrentWidget(w.lab)
        w.lab.show_view(args.lab)
        view = w.lab.tabs.currentWidget()
        for _ in range(100):
            app.processEvents()
            time.sleep(0.02)
        if view is w.lab.robustness:
            view.sliders["shift_x"].setValue(24)
            view.sliders["rotation"].setValue(20)
        elif view is w.lab.recipe:
            view.boxes["centre"].setChecked(False)
        elif view is w.lab.nudges:
            view.epsilon.setValue(20)
            view.find_smallest()
        elif view is w.lab.dream:
            view.run_button.click()
        elif view is w.lab.breaking:
            view.noise.setValue(8)
            view._toggle(0)
            view._toggle(5)
    t_end = time.time() + (25 if args.saliency else 8 if args.lab else 2)
    while time.time() < t_end:
        app.processEvents()
        time.sleep(0.02)
        if args.saliency and c._overlay is not None and time.time() > t_end - 23:
            break
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+0+0", args.out], check=True)
    print("wrote", args.out, "window", w.size().toTuple())
    w.close()


if __name__ == "__main__":
    main()
