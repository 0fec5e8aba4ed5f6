"""The training timeline: what its snapshots cost and how fast scrubbing through them is.

Prints::

    snapshot overhead ratio: x.xx    training throughput with snapshots / without, in the same run (a
                                     default cnn): the training time less the time its snapshot callback
                                     took, over the training time (target >= 0.97)
    alternating runs ratio: x.xx     the same from whole runs with and without snapshots, alternating
                                     (lenet5; noisy on a shared machine, the spread is printed)
    scrub p95 ms: x                  slider moved to a snapshot -> the Draw view's bars repainted (its
                                     ``predicted`` signal), real window offscreen, a cnn (target <= 50)
    weights at snapshot p95 ms: x    the same -> the Inspect weights view showing that snapshot's weights
    confusion at snapshot ms: cached x, first time y   the same -> the Errors view's matrix (targets 50 / 500)
    max UI stall ms: x               while Play runs through every snapshot (target <= 50)
    snapshot MB per epoch <arch>: first x, later y; one snapshot takes z ms   for each shipped architecture
    shipped timeline <arch>: n snapshots, x MB on disk (y MB in memory)

Run: python benchmarks/timeline.py [--limit 6000] [--pairs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="fresh")


def overhead_in_run(limit: int) -> float:
    """One cnn run, its snapshot callback timed: the share of the training time left to training."""
    from mnist_desk.core import callbacks
    from mnist_desk.core.runs import TrainSpec, run_training
    from mnist_desk.core.training import TrainConfig

    real = callbacks.WeightSnapshots
    spent = [0.0]

    class TimedSnapshots(real):
        def on_train_begin(self, logs=None):
            self._timed(super().on_train_begin, logs)

        def on_train_batch_end(self, batch, logs=None):
            self._timed(super().on_train_batch_end, batch, logs)

        def on_epoch_end(self, epoch, logs=None):
            self._timed(super().on_epoch_end, epoch, logs)

        def _timed(self, hook, *args):
            t = time.perf_counter()
            hook(*args)
            spent[0] += time.perf_counter() - t

    callbacks.WeightSnapshots = TimedSnapshots
    try:
        out = run_training(TrainSpec(TrainConfig.for_arch("cnn", epochs=2, val_size=500), limit=limit, drawn_style=0,
                                     pen_digits=0, not_digits=0), save=False)
    finally:
        callbacks.WeightSnapshots = real
    seconds = out.result.seconds
    print(f"  cnn, {out.n_train:,} images, 2 epochs: {len(out.result.timeline)} snapshots took "
          f"{spent[0] * 1000:.0f} ms of {seconds:.1f} s training")
    return (seconds - spent[0]) / seconds


def overhead(limit: int, pairs: int) -> float:
    from mnist_desk.core import callbacks
    from mnist_desk.core.runs import TrainSpec, run_training
    from mnist_desk.core.training import TrainConfig

    real = callbacks.WeightSnapshots

    class NoSnapshots(callbacks.keras.callbacks.Callback):  # the run without its snapshots, for comparison
        def __init__(self, *args, **kwargs):
            super().__init__()

    spec = TrainSpec(TrainConfig.for_arch("lenet5", epochs=2, val_size=500), limit=limit, drawn_style=0,
                     pen_digits=0, not_digits=0)
    run_training(spec)  # warm-up: TensorFlow import and first tracing
    ratios = []
    for i in range(pairs):
        speeds = {}
        for snapshots in ((True, False) if i % 2 == 0 else (False, True)):
            callbacks.WeightSnapshots = real if snapshots else NoSnapshots
            out = run_training(spec)
            speeds[snapshots] = out.result.samples_per_s
        callbacks.WeightSnapshots = real
        ratios.append(speeds[True] / speeds[False])
        print(f"  pair {i + 1}: with {speeds[True]:,.0f} img/s, without {speeds[False]:,.0f} img/s")
    return statistics.median(ratios)


def window_figures(limit: int) -> dict:
    from _gui import StallWatch, pump_until
    from PySide6.QtWidgets import QApplication

    from mnist_desk.core.runs import TrainSpec, run_training
    from mnist_desk.core.training import TrainConfig

    out = run_training(TrainSpec(TrainConfig.for_arch("cnn", epochs=2, val_size=500), limit=limit, drawn_style=0,
                                 pen_digits=0, not_digits=0), save_name="cnn-timeline")
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - kept alive while the window runs
    from mnist_desk.ui.main_window import MainWindow
    from tests.ui.support import drag

    w = MainWindow(initial_model=str(out.stored.path), preload_tensorflow=False)
    w.resize(1180, 760)
    w.show()

    bar = w.timeline
    pump_until(lambda: w.hub.current is not None and bar.count >= 3)
    s = w.draw.canvas.side
    drag(w.draw.canvas, [(0.3 * s, 0.2 * s), (0.7 * s, 0.2 * s), (0.45 * s, 0.85 * s)])
    pump_until(lambda: bool(w.draw.last_probs))
    rng = np.random.default_rng(0)
    done = []
    w.draw.predicted.connect(lambda _r: done.append(time.perf_counter()))
    scrub = []
    for i in rng.integers(0, bar.count - 1, size=40):
        if int(i) == w.hub.moment:
            continue
        done.clear()
        t = time.perf_counter()
        bar.slider.setValue(int(i))
        pump_until(lambda: bool(done))
        scrub.append((done[0] - t) * 1000)
    w.tabs.setCurrentWidget(w.inspect)
    w.inspect.show_view("weights")
    weights = w.inspect.weights
    pump_until(lambda: weights.current_weights is not None)
    shown = []
    for i in rng.integers(0, bar.count - 1, size=20):
        if int(i) == w.hub.moment:
            continue
        t = time.perf_counter()
        bar.slider.setValue(int(i))
        label = w.hub.moment_net()[0]
        pump_until(lambda: weights.current_weights is not None and weights.info.text().startswith(label))
        shown.append((time.perf_counter() - t) * 1000)
    bar.slider.setValue(bar.count - 1)
    w.inspect.show_view("errors")
    errors = w.inspect.errors
    # as a user would: the view has shown the model's own matrix (and readied its timeline) before the first move
    pump_until(lambda: errors.conf is not None and not errors.busy())
    confusion = {"first": [], "cached": []}
    for rnd in ("first", "cached"):
        for i in range(bar.count - 1):
            t = time.perf_counter()
            bar.slider.setValue(i)
            label = w.hub.moment_net()[0]
            pump_until(lambda: errors.info.text().startswith(label))
            confusion[rnd].append((time.perf_counter() - t) * 1000)
    w.tabs.setCurrentWidget(w.draw)
    stalls = StallWatch().start()
    bar.slider.setValue(0)
    bar.toggle_play()
    pump_until(lambda: bar.play_button.text() == "Play", timeout=120)
    stalls.stop()
    w.close()
    return {"scrub": scrub, "weights": shown, "play": stalls.longest, "count": bar.count,
            "confusion": confusion}


def snapshot_sizes() -> None:
    from mnist_desk.core import registry, store
    from mnist_desk.core.numpy_net import NumpyNet
    from mnist_desk.core.timeline import SNAPSHOTS_IN_FIRST_EPOCH, load_timeline, timeline_path, weights_by_layer
    from mnist_desk.core.tf_library import import_tensorflow

    import_tensorflow()
    seen = set()
    for m in store.list_models():
        if not m.shipped or m.arch in seen:
            continue
        seen.add(m.arch)
        model = registry.build_model(m.arch, m.metadata.get("hparams") or {})
        mb = sum(int(np.prod(v.shape)) for v in model.weights) * 2 / 1e6  # float16
        times = []
        for _ in range(21):
            t = time.perf_counter()
            weights_by_layer(model)
            times.append((time.perf_counter() - t) * 1000)
        print(f"snapshot MB per epoch {m.arch}: first {mb * SNAPSHOTS_IN_FIRST_EPOCH:.1f}, later {mb:.2f}; "
              f"one snapshot takes {statistics.median(times):.1f} ms")
        saved = load_timeline(m.path, NumpyNet.from_keras_file(m.path).weight_shapes())
        if saved is not None:
            print(f"shipped timeline {m.arch}: {len(saved)} snapshots, {timeline_path(m.path).stat().st_size / 1e6:.1f} "
                  f"MB on disk ({saved.nbytes / 1e6:.1f} MB in memory)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=6000, help="training images per run")
    ap.add_argument("--pairs", type=int, default=3, help="runs with and without snapshots, alternating")
    args = ap.parse_args(argv)
    print(f"snapshot overhead ratio: {overhead_in_run(args.limit):.3f}")
    if args.pairs > 0:
        print(f"alternating runs ratio: {overhead(args.limit, args.pairs):.2f}")
    f = window_figures(min(args.limit, 3000))
    print(f"scrub p95 ms: {np.percentile(f['scrub'], 95):.1f}   (p50 {np.percentile(f['scrub'], 50):.1f}, "
          f"{len(f['scrub'])} moves over {f['count']} snapshots)")
    print(f"weights at snapshot p95 ms: {np.percentile(f['weights'], 95):.1f}")
    c = f["confusion"]
    print(f"confusion at snapshot ms: cached {np.percentile(c['cached'], 95):.1f}, first time {max(c['first']):.1f}"
          f"   (p95 / max over {len(c['first'])} snapshots, 1,000 test images; first time: "
          f"{', '.join(f'{v:.0f}' for v in c['first'])})")
    print(f"max UI stall ms: {f['play']:.1f}   (during Play)")
    snapshot_sizes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
