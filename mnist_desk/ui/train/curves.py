"""Training curves: live pyqtgraph plots fed from progress reports, overlays of past runs, matplotlib export.

The live plots hold growable numpy buffers; ``add_progress`` only appends (microseconds), and a ~30 Hz
QTimer calls ``setData`` on curve items that were created once, so redrawing never follows the batch rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ...core.runs import RunMetadata
from ..help import explain
from ..plot_legend import legend_outside

REDRAW_INTERVAL_MS = 33  # ~30 Hz whatever the batch rate
SMOOTHING = 0.6  # EMA factor over the throttled batch reports (each already a mean over ~0.1 s of batches)
TRAIN_COLOR = (40, 110, 200)
VAL_COLOR = (230, 120, 20)
DIVERGED_COLOR = (190, 0, 30)
MOMENT_COLOR = (130, 60, 190)  # the timeline's chosen point
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
METRICS = ("loss", "accuracy")


@dataclass
class RunRecord:
    """One finished run as the history table and the overlays see it (also built from saved metadata)."""

    label: str
    arch: str
    hparams: dict
    training: dict
    history: dict
    seconds: float
    epochs_done: int
    steps_per_epoch: int | None = None
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    status: str = "finished"
    path: str | None = None
    batch_seconds: list = field(default_factory=list)  # elapsed time of each batch report (live runs only)
    data_source: str = ""  # the dataset it learnt from (Export run… needs it to name the data)

    @classmethod
    def from_metadata(cls, name: str, meta: RunMetadata, path: str | None = None) -> "RunRecord":
        """The one way a run's row and curves are made: from its record, live or saved."""
        val = next((v for v in reversed(meta.history.get("val_accuracy", [])) if v is not None), None)
        return cls(
            label=name, arch=meta.arch, hparams=meta.hparams, training=meta.training, history=meta.history,
            seconds=meta.training_seconds, epochs_done=meta.epochs_done, steps_per_epoch=meta.steps_per_epoch,
            val_accuracy=meta.metrics.get("val_accuracy", val), test_accuracy=meta.metrics.get("test_accuracy"),
            status="stopped" if meta.stopped_early else "saved", path=path, data_source=meta.data_source,
        )

    def steps(self) -> float | None:
        if self.steps_per_epoch:
            return float(self.steps_per_epoch)
        bs = self.history.get("batch_step") or []
        if bs and self.epochs_done:
            return max(1.0, math.ceil(max(bs) / max(self.epochs_done, 1)))
        return None

    def epoch_series(self, metric: str, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
        y = np.array([np.nan if v is None else v for v in self.history.get(metric, [])], float)
        if x_axis == "seconds":
            x = np.array(self.history.get("seconds", [])[: len(y)], float)
        else:
            x = np.arange(1, len(y) + 1, dtype=float)
        n = min(len(x), len(y))
        return x[:n], y[:n]

    def batch_series(self, metric: str, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
        steps = np.array(self.history.get("batch_step", []), float)
        y = smooth(np.array(self.history.get(f"batch_{metric}", []), float))
        n = min(len(steps), len(y))
        steps, y = steps[:n], y[:n]
        spe = self.steps()
        if not n or spe is None:
            return np.zeros(0), np.zeros(0)
        if x_axis == "seconds":
            if len(self.batch_seconds) >= n:
                return np.array(self.batch_seconds[:n], float), y
            ends = np.array(self.history.get("seconds", []), float)  # approximate: interpolate between epoch ends
            if not len(ends):
                return np.zeros(0), np.zeros(0)
            marks = np.arange(0, len(ends) + 1) * spe
            return np.interp(steps, marks, np.concatenate([[0.0], ends]), right=np.nan), y
        return steps / spe, y


class Ema:
    """Debiased exponential moving average (as TensorBoard's smoothing), fed one value at a time."""

    def __init__(self, alpha: float = SMOOTHING):
        self.alpha = alpha
        self._sum = 0.0
        self._weight = 0.0

    def add(self, v: float) -> float:
        """Take ``v`` in and return the average so far."""
        self._sum = self.alpha * self._sum + (1 - self.alpha) * v
        self._weight = self.alpha * self._weight + (1 - self.alpha)
        return self._sum / self._weight


def smooth(values: np.ndarray, alpha: float = SMOOTHING) -> np.ndarray:
    """:class:`Ema` over a whole series; NaNs pass through without entering the average."""
    ema = Ema(alpha)
    out = np.empty_like(values, dtype=float)
    for i, v in enumerate(values):
        out[i] = ema.add(v) if math.isfinite(v) else v
    return out


class Series:
    """Growable (x_epochs, x_seconds, y) float arrays: O(1) amortised appends, views for setData."""

    def __init__(self, capacity: int = 512):
        self._data = np.empty((3, capacity), float)
        self.n = 0

    def append(self, x_epoch: float, x_seconds: float, y: float) -> None:
        if self.n == self._data.shape[1]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)], axis=1)
        self._data[:, self.n] = (x_epoch, x_seconds, y)
        self.n += 1

    def clear(self) -> None:
        self.n = 0

    def xy(self, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
        return self._data[1 if x_axis == "seconds" else 0, : self.n], self._data[2, : self.n]


def _pen(color, width=2.0, style=Qt.PenStyle.SolidLine, alpha=255):
    return pg.mkPen(color=(*color, alpha), width=width, style=style)


CURVE_HELP = {
    "loss": ("How wrong the model is: training (blue) and validation (orange) loss, lower is better",
             ("The loss measures how wrong the model's probabilities are (cross-entropy: small when the right digit "
              "gets a high probability). Training lowers it on the training images; the validation curve shows it "
              "on held-out images. If training loss keeps falling while validation loss rises, the model is "
              "overfitting: memorising its training images. Thin line: every batch, smoothed; dots: each epoch.")),
    "accuracy": ("Share of images read correctly: training (blue) and validation (orange), higher is better",
                 ("Accuracy is the share of images whose most likely digit is the right one. Validation accuracy, "
                  "on images the model does not train on, tells you how it will do on new digits. A big gap "
                  "between the two curves is a sign of overfitting. Select runs in the history to overlay them.")),
}


class LiveCurves(QWidget):
    """Loss and accuracy plots side by side: the live run (batches smoothed + epochs) and any overlaid runs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.x_axis = "epochs"
        self.plots: dict[str, pg.PlotWidget] = {}
        self.series: dict[str, Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.legends = {}
        self._names: dict[str, str] = {}
        self.live_visible = True
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for metric in METRICS:
            pw = pg.PlotWidget(background="w")
            pw.setTitle(f"model {metric}", color="k", size="10pt")
            # (no grid: its translucent lines cost more to paint than everything else together)
            pw.getAxis("left").setLabel(metric)
            pw.getAxis("left").enableAutoSIPrefix(False)
            pw.getAxis("bottom").enableAutoSIPrefix(False)  # a run that diverged early spans a fraction of an epoch
            pw.getAxis("bottom").setLabel("epoch")
            pw.setMenuEnabled(False)
            self.legends[metric] = legend_outside(pw, "below", labelTextSize="8pt", frame=False)
            self.plots[metric] = pw
            explain(pw, CURVE_HELP[metric][0], CURVE_HELP[metric][1])

            lay.addWidget(pw)
            # The live run's curves: created once, only their data changes.
            for key, pen, sym, name in (
                (f"batch_{metric}", _pen(TRAIN_COLOR, 1.2, alpha=150), None, "train (batches, smoothed)"),
                (metric, _pen(TRAIN_COLOR, 2.0, Qt.PenStyle.DashLine), "o", "train (epoch)"),
                (f"val_{metric}", _pen(VAL_COLOR, 2.0), "s", "validation (epoch)"),
            ):
                color = TRAIN_COLOR if key != f"val_{metric}" else VAL_COLOR
                item = pw.plot([], [], pen=pen, symbol=sym, symbolSize=6, symbolBrush=color, symbolPen=None, name=name,
                               antialias=not key.startswith("batch_"))
                item.setClipToView(True)
                if key.startswith("batch_"):
                    item.setDownsampling(auto=True, method="mean")
                self.curves[key] = item
                self._names[key] = name
                self.series[key] = Series()
        # Where the live run diverged: one marker per plot, created once, shown only after a divergence;
        # left out of autorange (its y extent is unbounded), the range is set from the finite points.
        self.divergence_lines: dict[str, pg.InfiniteLine] = {}
        for metric, pw in self.plots.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen(DIVERGED_COLOR, 1.5, Qt.PenStyle.DashLine),
                                   label="", labelOpts={"position": 0.3 if metric == "loss" else 0.7,  # clear of the legends
                                                         "color": DIVERGED_COLOR, "fill": (255, 255, 255, 220),
                                                         "anchors": [(1, 0.5), (1, 0.5)]})
            line.setVisible(False)
            pw.addItem(line, ignoreBounds=True)
            self.divergence_lines[metric] = line
        self.divergence = None  # core.training.Divergence of the live run, if it diverged
        # The timeline's moment (ui/timeline_bar.py): one marker per plot, created once, outside autorange.
        self.moment_lines: dict[str, pg.InfiniteLine] = {}
        self.moment = None  # the core.timeline.Snapshot marked, if any
        for metric, pw in self.plots.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen(MOMENT_COLOR, 2.0, Qt.PenStyle.DotLine))
            line.setVisible(False)
            pw.addItem(line, ignoreBounds=True)
            self.moment_lines[metric] = line
        self.lr_lines: list[tuple[str, pg.InfiniteLine]] = []  # where the learning rate was changed mid-run
        self._overlay_items: list[tuple[str, pg.PlotDataItem]] = []
        self.overlays: list[RunRecord] = []
        self.dirty = False
        self._ema: dict[str, Ema] = {}  # per metric, over the live run's batch reports
        self._live = False  # a run is going: ranges are set here (cheaper than autorange, see _fit_ranges)
        self._x_end = {"epochs": 1.0, "seconds": 1.0}
        self._ranges: dict[str, tuple] = {}
        self._drawn: dict[str, tuple] = {}  # what each live curve item shows: (points, x axis)
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)

    # ------------------------------------------------------------------ live run
    def reset(self) -> None:
        for metric, line in self.lr_lines:
            self.plots[metric].removeItem(line)
        self.lr_lines.clear()
        for s in self.series.values():
            s.clear()
        self.divergence = None
        for line in self.divergence_lines.values():
            line.setVisible(False)
        for metric in METRICS:
            self.curves[f"batch_{metric}"].setSymbol(None)
        self._drawn.clear()
        self._ema.clear()
        self.dirty = True
        self.refresh()

    def start(self) -> None:
        self.set_live_visible(True)
        self._live = True
        self._ranges.clear()
        self._x_end = {"epochs": 1.0, "seconds": 1.0}
        for pw in self.plots.values():
            pw.disableAutoRange()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.refresh()
        self._live = False
        if self.divergence is not None:
            return  # the range fitted to the points and the marker (autorange leaves the marker out)
        for pw in self.plots.values():
            pw.enableAutoRange()

    def show_divergence(self, divergence) -> None:
        """Mark where the live run diverged (a ``core.training.Divergence``) and fit the plots to the finite
        points before it, which the live ranges may have left far off (or that may be none at all)."""
        self.divergence = divergence
        for line in self.divergence_lines.values():
            line.label.setFormat(divergence.summary.replace(": ", ":\n", 1))  # two short lines fit a narrow plot
            line.setVisible(self.live_visible)
        # a line through one or two points is hardly a mark: show the points themselves
        for metric in METRICS:
            if self.series[f"batch_{metric}"].n < 3:
                self.curves[f"batch_{metric}"].setSymbol("o")
        self._place_divergence()

    def _place_divergence(self) -> None:
        d = self.divergence
        if d is None:
            return
        x = d.elapsed_s if self.x_axis == "seconds" else d.x_epochs
        for metric, pw in self.plots.items():
            self.divergence_lines[metric].setPos(x)
            ys = [self.series[key].xy(self.x_axis)[1] for key in (f"batch_{metric}", metric, f"val_{metric}")]
            ys = np.concatenate(ys)
            ys = ys[np.isfinite(ys)]
            if len(ys):
                lo, hi = float(ys.min()), float(ys.max())
            else:  # diverged before the first report: the metric's usual span
                lo, hi = (0.0, 2.5) if metric == "loss" else (0.0, 1.0)
            if hi - lo < 1e-6:
                lo, hi = lo - 0.5, hi + 0.5
            # the marker and its label stay inside the view, at its right
            pw.setRange(xRange=(0.0, max(x, 1e-3) * 1.15), yRange=(lo, hi), padding=0.05)

    def add_progress(self, p) -> None:
        """Append one ``core.training.Progress``; drawn at the next timer tick."""
        self._x_end["epochs"] = float(p.epochs)
        if math.isfinite(p.eta_s):
            self._x_end["seconds"] = p.elapsed_s + p.eta_s
        if p.kind == "batch":
            x = (p.epoch * p.batches_per_epoch + p.batch) / max(p.batches_per_epoch, 1)
            for metric, v in (("loss", p.loss), ("accuracy", p.accuracy)):
                if not math.isfinite(v):
                    continue
                y = self._ema.setdefault(metric, Ema()).add(v)
                self.series[f"batch_{metric}"].append(x, p.elapsed_s, y)
        else:
            x = p.epoch + 1
            for key, v in (("loss", p.loss), ("accuracy", p.accuracy), ("val_loss", p.val_loss), ("val_accuracy", p.val_accuracy)):
                if v is not None and math.isfinite(v):
                    self.series[key].append(x, p.elapsed_s, v)
        self.dirty = True

    def point_count(self, key: str) -> int:
        return self.series[key].n

    def refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for key, item in self.curves.items():
            n = self.series[key].n
            if self._drawn.get(key) != (n, self.x_axis):  # epoch curves change once an epoch
                self._drawn[key] = (n, self.x_axis)
                item.setData(*self.series[key].xy(self.x_axis))
        if self._live:
            self._fit_ranges()

    def _fit_ranges(self) -> None:
        """During a run, set each plot's range here, and change it only when the data leaves it: autorange
        would re-lay the axes (ticks, labels) at every frame and paint twice per frame."""
        for metric, pw in self.plots.items():
            xs, ys = [], []
            keys = (f"batch_{metric}", metric, f"val_{metric}") if self.live_visible else ()
            for key in keys:
                x, y = self.series[key].xy(self.x_axis)
                if len(y):
                    xs.append(x[-1])
                    ys += [float(np.nanmin(y)), float(np.nanmax(y))]
            for run in self.overlays:
                for key in (metric, f"val_{metric}"):
                    x, y = run.epoch_series(key, self.x_axis)
                    if np.isfinite(y).any():
                        xs.append(float(np.nanmax(x)))
                        ys += [float(np.nanmin(y)), float(np.nanmax(y))]
            if not ys:
                continue
            x_end = max([self._x_end[self.x_axis]] + xs)
            # Anchored at 0 (loss) or 1 (accuracy), so the range only grows: once the first batches are in,
            # the axes stay as they are and each frame repaints only the curves.
            if metric == "loss":
                lo, hi = 0.0, max(ys) * 1.08
            else:
                lo, hi = max(0.0, min(ys) - 0.03), 1.0
            old = self._ranges.get(metric)
            if old is not None:
                ox, (oy0, oy1) = old
                if ox >= x_end and oy0 <= lo and oy1 >= hi:
                    continue
                lo, hi = min(lo, oy0), max(hi, oy1)
            if self.x_axis == "seconds":
                x_end *= 1.1  # the expected end moves with the ETA: some headroom, fewer re-layouts
            new = (x_end, (lo, hi))
            self._ranges[metric] = new
            pw.setRange(xRange=(0, x_end), yRange=new[1], padding=0)

    def set_live_visible(self, on: bool) -> None:
        if on == self.live_visible:
            return
        self.live_visible = on
        for item in self.curves.values():
            item.setVisible(on)
        for line in self.divergence_lines.values():
            line.setVisible(on and self.divergence is not None)
        self._rebuild_legends()

    def _rebuild_legends(self) -> None:
        """Legends list only what is shown: the live run (when visible), then each overlaid run."""
        for metric, legend in self.legends.items():
            legend.clear()
            if self.live_visible:
                for key in (f"batch_{metric}", metric, f"val_{metric}"):
                    legend.addItem(self.curves[key], self._names[key])
            for m, item in self._overlay_items:
                if m == metric and item.name():
                    legend.addItem(item, item.name())

    def mark_learning_rate_change(self, epoch: float, lr: float) -> None:
        """A line where the live run's learning rate was changed (on the epoch axis; recorded in epochs)."""
        for metric, pw in self.plots.items():
            line = pg.InfiniteLine(pos=epoch, angle=90, movable=False, pen=_pen(MOMENT_COLOR, 1.2, Qt.PenStyle.DashLine),
                                   label=f"lr {lr:g}", labelOpts={"position": 0.95, "color": MOMENT_COLOR,
                                                                 "anchors": [(0, 0), (0, 0)]})
            line.setVisible(self.x_axis == "epochs" and self.live_visible)
            pw.addItem(line, ignoreBounds=True)
            self.lr_lines.append((metric, line))

    def mark_moment(self, snapshot) -> None:
        """Mark a timeline snapshot (a ``core.timeline.Snapshot``) on both plots; None hides the marks."""
        self.moment = snapshot
        for line in self.moment_lines.values():
            if snapshot is not None:
                line.setPos(snapshot.seconds if self.x_axis == "seconds" else snapshot.epoch)
            line.setVisible(snapshot is not None)

    def set_x_axis(self, x_axis: str) -> None:
        self.x_axis = x_axis
        self.mark_moment(self.moment)
        for _metric, line in self.lr_lines:
            line.setVisible(x_axis == "epochs" and self.live_visible)
        self._ranges.clear()
        for pw in self.plots.values():
            pw.getAxis("bottom").setLabel("seconds of training" if x_axis == "seconds" else "epoch")
        self.dirty = True
        self.refresh()
        self.set_overlays(self.overlays)
        if self.live_visible:
            self._place_divergence()

    # ------------------------------------------------------------------ overlays
    def set_overlays(self, runs: list[RunRecord]) -> None:
        for metric, item in self._overlay_items:
            self.plots[metric].removeItem(item)
        self._overlay_items = []
        self.overlays = list(runs)
        first = 2 if self.live_visible else 0  # keep the live run's blue and orange its own
        for i, run in enumerate(runs):
            color = PALETTE[(first + i) % len(PALETTE)]
            for metric in METRICS:
                pw = self.plots[metric]
                bx, by = run.batch_series(metric, self.x_axis)
                if len(bx):
                    it = pw.plot(bx, by, pen=_pen(color, 1.0, alpha=90))
                    self._overlay_items.append((metric, it))
                x, y = run.epoch_series(metric, self.x_axis)
                it = pw.plot(x, y, pen=_pen(color, 1.6, Qt.PenStyle.DashLine), symbol="o", symbolSize=5,
                             symbolBrush=color, symbolPen=None, name=f"{run.label} train")
                self._overlay_items.append((metric, it))
                vx, vy = run.epoch_series(f"val_{metric}", self.x_axis)
                if np.isfinite(vy).any():
                    it = pw.plot(vx, vy, pen=_pen(color, 2.2), symbol="s", symbolSize=6, symbolBrush=color,
                                 symbolPen=None, name=f"{run.label} validation")
                    self._overlay_items.append((metric, it))
        self._rebuild_legends()
        if self._live:
            self._ranges.clear()
            self._fit_ranges()
        else:
            for pw in self.plots.values():
                pw.enableAutoRange()


# ---------------------------------------------------------------------------- export
def export_figure(runs: list[RunRecord], path: str | Path, x_axis: str = "epochs") -> Path:
    """Loss and accuracy of ``runs`` as a matplotlib figure (as the seeds plot them), PNG or SVG by suffix.

    Written atomically (a temporary file renamed over the target)."""
    import matplotlib
    from matplotlib.figure import Figure

    from ...core.store import atomic_write

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or "png"
    if fmt not in ("png", "svg"):
        raise ValueError(f"{path.name}: export as .png or .svg")
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, METRICS):
        for i, run in enumerate(runs):
            color = tuple(c / 255 for c in PALETTE[i % len(PALETTE)])
            prefix = f"{run.label} " if len(runs) > 1 else ""
            bx, by = run.batch_series(metric, x_axis)
            if len(bx):
                ax.plot(bx, by, color=color, alpha=0.3, linewidth=0.8)
            x, y = run.epoch_series(metric, x_axis)
            ax.plot(x, y, color=color, linestyle="--", marker="o", markersize=3, label=f"{prefix}train")
            vx, vy = run.epoch_series(f"val_{metric}", x_axis)
            if np.isfinite(vy).any():
                ax.plot(vx, vy, color=color, marker="s", markersize=3, label=f"{prefix}validation")
        ax.set_title(f"model {metric}")
        ax.set_ylabel(metric)
        ax.set_xlabel("seconds of training" if x_axis == "seconds" else "epoch")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right" if metric == "loss" else "lower right", fontsize=8)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (searchable, editable)
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=120))
    return path
