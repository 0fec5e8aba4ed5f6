"""Does training through the window cost throughput, and does the window stay responsive meanwhile?

The same LeNet-5 run (seed 003's settings: Adam 1e-3, batch 128; a fixed number of batches on the
50,000/10,000 MNIST split) is timed headless through ``core.training.train`` and through the Train
view of a real main window (offscreen Qt), alternating, in one process. Throughput is images per
second of ``model.fit`` as ``TrainResult.samples_per_s`` reports it for both. Runs go in pairs
(headless then window, then window then headless, ...) and the ratio is the median of the pairs' ratios:
on a machine shared with other work, a pair's two runs see about the same load. While the window trains,
a 10 ms timer in the GUI thread records every event-loop tick; the gaps between ticks are the stalls
(a gap is >= 10 ms by construction; an idle loop shows ~10 ms). Prints::

    headless images/s: ...            (one per repeat, then the mean)
    gui images/s: ...
    gui/headless throughput ratio: x.xx
    max UI stall ms: x
    p99 UI stall ms: x

Usage::

    python benchmarks/gui_training.py                  # 300 batches, 3 pairs
    python benchmarks/gui_training.py --batches 200 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="fresh")

import numpy as np  # noqa: E402

TICK_MS = 10
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_cpu_s(tid: int | None = None) -> float:
    """CPU seconds (user + system) of one thread of this process (Linux), else of the calling thread."""
    if tid is None:
        return time.thread_time()
    try:
        fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return float("nan")


def lenet5_config(batches: int):
    from mnist_desk.core import registry
    from mnist_desk.core.training import TrainConfig

    p = registry.PRESETS["lenet5-adam"]  # seed 003: LeNet-5, Adam 0.001, batch 128
    return TrainConfig(arch=p.arch, hparams=dict(p.hparams), seed=0, val_size=10_000, max_batches=batches, **p.training)


def headless_run(config, split) -> float:
    from mnist_desk.core.training import train

    r = train(config, split)
    assert r.ok and r.batches_done == config.max_batches, (r.failure, r.batches_done)
    return r.samples_per_s


class GuiRunner:
    def __init__(self):
        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtWidgets import QApplication

        from mnist_desk.core.tf_library import load_tensorflow_library
        from mnist_desk.ui.main_window import MainWindow

        self.app = QApplication.instance() or QApplication([])
        load_tensorflow_library()  # as the app does before its window shows (the import itself is not preloaded here)
        self.win = MainWindow(preload_tensorflow=False)
        self.win.resize(1180, 760)
        self.win.show()
        self.tab = self.win.train
        self.win.tabs.setCurrentWidget(self.tab)
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def run(self, config) -> tuple[float, np.ndarray]:
        """images/s of the window's run, and the tick gaps (ms) from the first batch to the end of training."""
        from PySide6.QtCore import QEventLoop

        tab = self.tab
        tab.form.apply_arch(config.arch)  # the form's data side follows the architecture (no added drawings here)
        tab.form.limit_spin.setValue(0)
        tab.form.val_spin.setValue(config.val_size)
        outcome = []
        reports: list[float] = []  # arrival of each batch report in the GUI thread
        loop = QEventLoop()

        def on_progress(p):
            if p.kind == "batch":
                reports.append(time.perf_counter())

        def on_finished(out):
            outcome.append(out)
            loop.quit()

        tab.runFinished.connect(on_finished)
        self.ticks.clear()
        gui_cpu0 = thread_cpu_s()
        self.timer.start()
        assert tab.start(config)
        tab.task.progress.connect(on_progress)
        loop.exec()
        self.timer.stop()
        tab.runFinished.disconnect(on_finished)
        self.gui_cpu_s = thread_cpu_s() - gui_cpu0
        out = outcome[0]
        assert out is not None and out.failure is None and out.result.batches_done == config.max_batches
        # during training: from the first batch report to the last (the last batch is always reported);
        # the outcome itself arrives later, after the test pass and the save
        ticks = np.array([t for t in self.ticks if reports[0] <= t <= reports[-1]])
        gaps = np.diff(ticks) * 1000 if len(ticks) > 1 else np.zeros(1)
        self.all_gaps_ms = np.diff(np.array(self.ticks)) * 1000
        self.run_wall_s = self.ticks[-1] - self.ticks[0] if len(self.ticks) > 1 else float("nan")
        return out.result.samples_per_s, gaps

    def close(self):
        self.win.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=300, help="batches per run (default 300: < 1 epoch, no validation pass)")
    ap.add_argument("--repeats", type=int, default=3, help="pairs of runs (headless + window), alternating order (default 3)")
    args = ap.parse_args(argv)

    from mnist_desk.core import data

    t0 = time.perf_counter()
    import keras  # noqa: F401 - both kinds of run find TensorFlow loaded
    import tensorflow  # noqa: F401

    print(f"TensorFlow imported in {time.perf_counter() - t0:.1f} s", flush=True)
    ds = data.load_mnist()
    split = data.split_validation(ds.x_train, ds.y_train, 10_000)
    config = lenet5_config(args.batches)
    print(f"run: lenet5, Adam {config.learning_rate:g}, batch {config.batch_size}, {args.batches} batches "
          f"of {len(split.x_train):,} training images", flush=True)

    gui = GuiRunner()
    headless_rates, gui_rates, gaps, gui_cpu = [], [], [], []
    whole_run_max = 0.0
    try:
        # warm-up (first tf.function traces, first Qt paint): one short run of each, not counted
        warm = lenet5_config(5)
        headless_run(warm, split)
        gui.run(warm)
        for i in range(args.repeats):
            order = ("headless", "gui") if i % 2 == 0 else ("gui", "headless")
            for kind in order:
                if kind == "headless":
                    rate = headless_run(config, split)
                    headless_rates.append(rate)
                else:
                    rate, run_gaps = gui.run(config)
                    gui_rates.append(rate)
                    gaps.append(run_gaps)
                    whole_run_max = max(whole_run_max, float(gui.all_gaps_ms.max(initial=0)))
                    gui_cpu.append(gui.gui_cpu_s / gui.run_wall_s)
                print(f"  {kind:8s} images/s: {rate:,.0f}", flush=True)
    finally:
        gui.close()

    h, g = statistics.mean(headless_rates), statistics.mean(gui_rates)
    pair_ratios = [gr / hr for gr, hr in zip(gui_rates, headless_rates)]
    all_gaps = np.concatenate(gaps)
    print(f"headless images/s: {h:,.0f}")
    print(f"gui images/s: {g:,.0f}")
    print(f"pair ratios: {', '.join(f'{r:.2f}' for r in pair_ratios)} (ratio of the means {g / h:.2f})")
    print(f"gui/headless throughput ratio: {statistics.median(pair_ratios):.2f}")
    print(f"UI ticks during training: {len(all_gaps) + len(gaps)} (timer every {TICK_MS} ms)")
    print(f"max UI stall ms: {all_gaps.max():.0f}")
    print(f"p99 UI stall ms: {np.percentile(all_gaps, 99):.0f}")
    print(f"GUI thread CPU while a run goes: {statistics.mean(gui_cpu) * 100:.1f}% of one core")
    print(f"(whole run incl. data loading, model build, test pass and save: max gap {whole_run_max:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
