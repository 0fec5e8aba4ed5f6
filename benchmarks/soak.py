"""A long session in one window: 20 cycles of start training / stop / switch model / draw / inspect.

After each cycle the window must still respond. Prints the memory growth from the end of the first
cycle (after one-off warm-up: TensorFlow import, graph tracing) to the end of the last, the threads
left running after the window closes, and the longest gap between GUI event-loop ticks (a 5 ms timer).
Prints `cycles: 20, rss growth MB: x` (target <= 150), `threads left: 0`, `max UI stall ms: x`.
Run: python benchmarks/soak.py [cycles] [--no-gc-freeze]

``--no-gc-freeze`` skips core/memory.py's GC freeze (patched out from here), to measure what it is for.
"""

from __future__ import annotations

import math
import sys
import threading
import time

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(qt=True, home="temp")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(cycles: int = 20, gc_freeze: bool = True) -> None:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from mnist_desk.core.training import TrainConfig
    from mnist_desk.ui import jobs, main_window
    from mnist_desk.ui.main_window import MainWindow

    if not gc_freeze:
        main_window.freeze_long_lived = lambda *a, **k: None
    print(f"gc freeze: {'on' if gc_freeze else 'off'}")
    from tests.ui.support import drag

    threads_before = threading.active_count()
    w = MainWindow()  # as a user starts it: TensorFlow loads in the background
    w.show()

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(tick)
    ticker.start()

    def wait(cond, timeout=120.0):
        end = time.time() + timeout
        while not cond():
            if time.time() > end:
                raise SystemExit(f"timed out waiting ({cond})")
            app.processEvents()
            time.sleep(0.003)

    def pump(seconds):
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.003)

    wait(lambda: w.hub.current is not None and w.hub.net(w.hub.current) is not None)
    wait(lambda: w.tf_state.text().startswith("TensorFlow: ready"))
    names = [m.name for m in w.hub.models if m.shipped]
    train, inspect, draw = w.train, w.inspect, w.draw
    train.form.apply_arch("mlp")  # the form's data side follows the architecture (no added drawings here)
    train.form.limit_spin.setValue(2000)
    rss_after_first = None
    responded = 0
    gaps_at_start = len(gaps)
    by_step: dict[str, float] = {}
    marks = [("", len(gaps))]

    def step(name):
        """Attribute the stalls since the last mark to the step that was running."""
        prev, at = marks[-1]
        if prev:
            by_step[prev] = max(by_step.get(prev, 0.0), max(gaps[at:], default=0.0))
        marks.append((name, len(gaps)))

    for c in range(cycles):
        # 1. start a run, let it train a little, stop it
        step("start training")
        w.tabs.setCurrentWidget(train)
        cfg = TrainConfig(arch="mlp", hparams={"hidden": [64]}, epochs=50, batch_size=64, val_size=500)
        assert train.start(cfg)
        wait(lambda: getattr(train, "_last_progress", None) is not None, 120)  # the first batches arrived
        step("training")
        pump(0.5)
        step("stop and run end")
        train.stop()
        wait(lambda: not train.is_running())
        pump(0.1)
        # 2. switch model
        step("switch model")
        target = names[c % len(names)]
        w.hub.select(target)
        wait(lambda: w.hub.current is not None and w.hub.current.name == target)
        # 3. draw a digit
        step("draw")
        w.tabs.setCurrentWidget(draw)
        draw.canvas.clear()
        drag(draw.canvas, [(140 + 55 * math.sin(t), 140 - 90 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 40)])
        # 4. inspect: weights and gradients of the current model and drawing
        w.tabs.setCurrentWidget(inspect)
        for view in ("weights", "gradients"):
            step(f"inspect {view}")
            inspect.show_view(view)
            pump(0.2)
            wait(lambda: not inspect.busy())
        # the window still responds: a queued call comes back promptly
        step("bookkeeping")
        got = []
        QTimer.singleShot(0, lambda: got.append(True))
        pump(0.05)
        responded += bool(got)
        if c == 0:
            import gc

            gc.collect()
            rss_after_first = rss_mb()
        cycle_stall = max(gaps[gaps_at_start:], default=float("nan"))
        gaps_at_start = len(gaps)
        print(f"cycle {c + 1}: rss {rss_mb():.0f} MB, live jobs {len(jobs._live)}, max UI stall {cycle_stall:.0f} ms", flush=True)
    import gc

    gc.collect()
    growth = rss_mb() - rss_after_first
    ticker.stop()
    stall_max = max(gaps) if gaps else float("nan")
    stall_p99 = float(np.percentile(gaps, 99)) if gaps else float("nan")
    w.close()
    app.processEvents()
    time.sleep(0.5)
    left_tasks = len(jobs._live)
    left_threads = max(0, threading.active_count() - threads_before)
    print(f"responded: {responded}/{cycles}")
    print(f"cycles: {cycles}, rss growth MB: {growth:.0f}")
    print(f"threads left: {left_tasks}" + (f" (python threads above start: {left_threads})" if left_threads else ""))
    print(f"max UI stall ms: {stall_max:.0f} (p99 {stall_p99:.0f})")
    step("")
    print("max UI stall by step (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in by_step.items()))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 20, gc_freeze="--no-gc-freeze" not in sys.argv)
