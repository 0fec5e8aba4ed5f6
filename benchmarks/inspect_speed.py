"""Inspect-view speed: how long each inspection takes for a model, and how long the window freezes meanwhile.

Part 1 times the core functions directly (the model loaded once, TensorFlow warm)::

    gradients ms   all 10 class gradients of one test image (median of 5, after one warm-up)
    confusion s    the confusion matrix of the 10,000 test images
    pca s          PCA of 2,000 hidden vectors (the default hidden layer; their activations are timed apart)
    tsne s         t-SNE of the same 2,000 vectors

Part 2 runs each of them through the Inspect view of the real window (offscreen; every page painted
once beforehand, the Keras model loaded first, as "model load"), with a 5 ms timer
measuring the event loop, and prints the longest gap between its ticks while each job runs and its
result is drawn (``max UI stall ms``, target <= 50), and the same for an idle stretch as a baseline (on a
machine shared with other work, the OS alone causes gaps)::

    python benchmarks/inspect_speed.py                 # the default model (cnn; else the first shipped)
    python benchmarks/inspect_speed.py --model mlp --points 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True)


def pick_model(name: str | None):
    from mnist_desk.core import store

    models = store.list_models()
    if name is not None:
        found = [m for m in models if m.name == name or str(m.path) == name]
        if not found:
            sys.exit(f"no model {name!r}; available: {', '.join(m.name for m in models)}")
        return found[0]
    for m in models:
        if m.name == store.DEFAULT_MODEL:
            return m
    print(f"note: the default model {store.DEFAULT_MODEL!r} is not installed; using {models[0].name!r}", file=sys.stderr)
    return models[0]


def core_timings(m, points: int) -> dict:
    import warnings

    import numpy as np

    from mnist_desk.core import inspection as ins
    from mnist_desk.core import store
    from mnist_desk.core.data import load_mnist

    warnings.filterwarnings("ignore", category=UserWarning)
    ds = load_mnist()
    model = store.load_model(m.path)
    out = {}
    x = ds.x_test[0]
    ins.input_gradients(model, x)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        ins.input_gradients(model, x)
        runs.append(time.perf_counter() - t)
    out["gradients ms"] = 1000 * statistics.median(runs)
    t = time.perf_counter()
    ins.confusion(model, ds.x_test, ds.y_test)
    out["confusion s"] = time.perf_counter() - t
    layer = ins.default_hidden_layer(model)
    t = time.perf_counter()
    feats = ins.layer_activations(model, layer, ds.x_test[:points])
    out["activations s"] = time.perf_counter() - t
    t = time.perf_counter()
    ins.pca_2d(feats)
    out["pca s"] = time.perf_counter() - t
    t = time.perf_counter()
    ins.tsne_2d(feats)
    out["tsne s"] = time.perf_counter() - t
    out["layer"] = f"{layer} ({feats.shape[1]} values)"
    del np
    return out


def ui_stalls(m, points: int) -> dict:
    """Each job run by the Inspect view in the main window; the longest event-loop gap while it runs."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import numpy as np

    from mnist_desk.core.data import load_mnist

    app = QApplication.instance() or QApplication([])
    from mnist_desk.ui.main_window import MainWindow

    win = MainWindow(initial_model=str(m.path), preload_tensorflow=False)
    win.resize(1180, 760)
    win.show()
    tab = win.inspect

    def pump_until(cond, timeout_s=900.0):
        t0 = time.perf_counter()
        while not cond():
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - t0 > timeout_s:
                raise TimeoutError("job did not finish")

    pump_until(lambda: win.hub.current is not None)
    clock = QElapsedTimer()
    state = {"last": None, "max": 0.0, "gaps": []}

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if state["last"] is not None:
            state["max"] = max(state["max"], now - state["last"])
            state["gaps"].append(now - state["last"])
        state["last"] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(5)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()

    def measure(start, done) -> tuple[float, float, float]:
        """(longest gap between 5 ms ticks, 99th percentile gap, seconds) while ``start()``'s job runs."""
        pump_until(lambda: not tab.busy())
        app.processEvents()
        state["last"], state["max"], state["gaps"] = None, 0.0, []
        t0 = time.perf_counter()
        start()
        pump_until(lambda: not tab.busy() and done())
        for _ in range(5):  # let the result's drawing happen inside the measured window
            app.processEvents()
            time.sleep(0.01)
        p99 = float(np.percentile(state["gaps"], 99)) if state["gaps"] else 0.0
        return state["max"], p99, time.perf_counter() - t0

    def idle(seconds: float):
        t_end = time.perf_counter() + seconds
        return measure(lambda: None, lambda: time.perf_counter() > t_end)

    ds = load_mnist()
    current = win.hub.current
    win.tabs.setCurrentWidget(tab)
    # Paint every sub-view once with no model (nothing computes), so what follows measures the jobs,
    # not Qt's first layout and paint of a page.
    tab.set_model(None)
    for v in tab.views:
        tab.tabs.setCurrentWidget(v)
        t_end = time.perf_counter() + 0.2
        pump_until(lambda: time.perf_counter() > t_end)
    out = {"idle (baseline: nothing running)": idle(3.0)}
    tab.show_view("summary")
    out["model load"] = measure(lambda: tab.set_model(current), lambda: bool(tab.summary.rows))
    tab.show_view("gradients")
    out["gradients"] = measure(lambda: win.draw.canvas.set_mnist_image(ds.x_test[0]), lambda: tab.gradients.result is not None)
    out["confusion"] = measure(lambda: tab.show_view("errors"), lambda: tab.errors.conf is not None)
    tab.features.count.setValue(points)
    out["pca"] = measure(lambda: tab.show_view("hidden"), lambda: tab.features.projection is not None)
    out["tsne"] = measure(lambda: tab.features.method.setCurrentText("t-SNE"),
                          lambda: tab.features.projection is not None and tab.features.projection.method == "t-SNE")
    out["weights"] = measure(lambda: tab.show_view("weights"), lambda: tab.weights.weights_grid.tile_count > 0)
    timer.stop()
    win.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="a stored model's name or path (default: the default model)")
    ap.add_argument("--points", type=int, default=2000, help="hidden vectors for PCA and t-SNE")
    ap.add_argument("--no-ui", action="store_true", help="only the core timings")
    args = ap.parse_args(argv)
    os.environ.setdefault("MNIST_DESK_HOME", tempfile.mkdtemp(prefix="mnist_desk_bench_"))  # the window's settings
    m = pick_model(args.model)
    print(f"model: {m.name} ({m.arch}), {args.points} points, {os.cpu_count()} CPU cores")
    core = core_timings(m, args.points)
    print(f"hidden layer: {core.pop('layer')}")
    for k in ("gradients ms", "confusion s", "activations s", "pca s", "tsne s"):
        print(f"{k}: {core[k]:.3f}" if k.endswith(" s") else f"{k}: {core[k]:.1f}")
    if args.no_ui:
        return 0
    stalls = ui_stalls(m, args.points)
    for k, (stall, p99, secs) in stalls.items():
        print(f"max UI stall ms ({k}, {secs:.1f} s): {stall:.1f}   (99th percentile tick gap {p99:.1f} ms)")
    jobs = {k: v for k, v in stalls.items() if not k.startswith("idle")}
    print(f"max UI stall ms: {max(v[0] for v in jobs.values()):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
