"""The Lab: how fast its sliders and attacks answer, and the shift lesson as a number.

Prints::

    sweep ms: x                       one slider's full curve (33 positions) for the three shipped models, applied
                                      after preprocessing (p50 over the sliders; before preprocessing printed beside)
    slider to bars p95 ms: x          a Robustness slider moved in the real window (offscreen) -> every model's
                                      answer shown (the view's ``shown`` signal)
    attack s: x                       the iterative targeted attack on the default cnn (40 steps), median of 5
    max UI stall ms: x                the longest gap of a 5 ms GUI timer while sweeps, an attack, a smallest-budget
                                      search, a class picture and a broken network are computed
    robustness shift tolerance px <model>: x   the largest shift (after preprocessing, all four directions) at which
                                      a shipped test digit keeps >= 50% for its class, averaged over test digits

Run: python benchmarks/lab.py [--digits 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="fresh")

SHIPPED = ("cnn", "mlp", "linear")


def shipped_nets():
    from mnist_desk.core import store
    from mnist_desk.core.numpy_net import NumpyNet

    found = {m.name: m for m in store.list_models() if m.shipped}
    return [NumpyNet.from_keras_file(found[n].path) for n in SHIPPED], [found[n] for n in SHIPPED]


def drawn_seven() -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(84, 70), (196, 70), (126, 224)], fill=0, width=18)
    return np.asarray(img, np.float32) / 255.0


def sweep_figures() -> None:
    from mnist_desk.core.lab import transforms as tr

    nets, _ = shipped_nets()
    grey = drawn_seven()
    klass = int(np.argmax(nets[0].predict(tr.model_input(grey, tr.Perturbation(), tr.AFTER)[None])[0]))
    times = {tr.AFTER: [], tr.BEFORE: []}
    for where in times:
        tr.sweep(nets, grey, tr.Perturbation(), "shift_x", where, klass)  # warm-up
        for name in tr.SLIDERS:
            t = time.perf_counter()
            tr.sweep(nets, grey, tr.Perturbation(), name, where, klass)
            times[where].append((time.perf_counter() - t) * 1000)
    a, b = times[tr.AFTER], times[tr.BEFORE]
    print(f"sweep ms: {statistics.median(a):.0f}   (after preprocessing, slowest {max(a):.0f}; before preprocessing "
          f"p50 {statistics.median(b):.0f}, slowest {max(b):.0f}; 33 positions x 3 models)")


def attack_figure() -> None:
    from mnist_desk.core import store
    from mnist_desk.core.lab import attacks
    from mnist_desk.core.lab import transforms as tr

    _, models = shipped_nets()
    model = store.load_model(models[0].path)
    x = tr.model_input(drawn_seven(), tr.Perturbation(), tr.AFTER)
    attacks.attack(model, x, 3, 0.2)  # warm-up: the gradient step is traced once per model
    times = []
    for target in (3, 1, 2, 9, 0):
        t = time.perf_counter()
        attacks.attack(model, x, target, 0.2)
        times.append(time.perf_counter() - t)
    print(f"attack s: {statistics.median(times):.2f}   (iterative, 40 steps, eps 0.2, default cnn; slowest "
          f"{max(times):.2f})")


def tolerance_figures(digits: int) -> None:
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.lab import transforms as tr

    nets, _ = shipped_nets()
    ds = load_mnist()
    x, y = ds.x_test[:digits] / 255.0, ds.y_test[:digits]
    for name, net in zip(SHIPPED, nets):
        print(f"robustness shift tolerance px {name}: {tr.shift_tolerance(net, x, y):.2f}   ({digits} MNIST test digits)")


def window_figures() -> None:
    from _gui import StallWatch, pump_until
    from PySide6.QtWidgets import QApplication

    from mnist_desk.ui.main_window import MainWindow
    from tests.ui.support import drag

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - kept alive while the window runs
    w = MainWindow(preload_tensorflow=False)
    w.resize(1180, 760)
    w.show()

    pump_until(lambda: w.hub.current is not None)
    w.hub.select("cnn")
    pump_until(lambda: w.hub.current.name == "cnn")
    w.draw.set_compare(["mlp", "linear"])
    s = w.draw.canvas.side
    drag(w.draw.canvas, [(0.3 * s, 0.25 * s), (0.7 * s, 0.25 * s), (0.45 * s, 0.8 * s)])
    pump_until(lambda: len(w.draw.last_probs) == 3)

    stalls = StallWatch().start()

    lab = w.lab
    seen = []
    for v in lab.views:
        v.shown.connect(lambda what: seen.append((what[0], time.perf_counter())))

    def wait_for(kind, action):
        seen.clear()
        t = time.perf_counter()
        action()
        pump_until(lambda: any(k == kind for k, _ in seen))
        return (next(ts for k, ts in seen if k == kind) - t) * 1000

    w.tabs.setCurrentWidget(lab)
    lab.show_view("robustness")
    rob = lab.robustness
    pump_until(lambda: bool(rob.sweeps))
    moves = []
    rng = np.random.default_rng(0)
    for name in rng.choice(list(rob.sliders), size=30):
        sl = rob.sliders[name]
        target = int(rng.integers(0, 33))
        if target == sl.value():
            continue
        moves.append(wait_for("answers", lambda: sl.setValue(target)))
    pump_until(lambda: not rob.sweep_job.busy() and not rob._sweep_timer.isActive())
    lab.show_view("nudges")
    wait_for("attack", lambda: lab.nudges.epsilon.setValue(25))
    wait_for("smallest", lab.nudges.find_smallest)
    lab.show_view("its idea")
    wait_for("frames", lab.dream.run_button.click)
    lab.show_view("break")
    pump_until(lambda: lab.breaking.intact is not None)
    wait_for("broken", lambda: lab.breaking._set_silenced("half"))
    stalls.stop()
    w.close()
    print(f"slider to bars p95 ms: {np.percentile(moves, 95):.1f}   (p50 {np.percentile(moves, 50):.1f}, {len(moves)} moves "
          f"of random sliders, 3 models)")
    print(f"max UI stall ms: {stalls.longest:.1f}   (through sweeps, an attack, each model's smallest budget, a class "
          f"picture and a broken network)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--digits", type=int, default=500, help="MNIST test digits for the shift tolerance")
    args = ap.parse_args(argv)
    sweep_figures()
    attack_figure()
    window_figures()
    tolerance_figures(args.digits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
