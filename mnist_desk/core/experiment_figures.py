"""An experiment's results as a matplotlib figure (``Figure`` objects, no pyplot): PNG or SVG.

Three panels side by side: validation accuracy by epoch, validation accuracy by seconds of training
(where an optimizer's speed shows), and the training loss by epoch; a fourth row holds the variants'
confusion matrices when every variant has one (seed 002 compares models by them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .experiments import ExperimentResult

# the Train view's palette (ui/train/curves.PALETTE), as matplotlib colours
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def _color(i: int) -> tuple:
    return tuple(c / 255 for c in PALETTE[i % len(PALETTE)])


def experiment_figure(result: ExperimentResult):
    from matplotlib.figure import Figure

    with_confusion = bool(result.variants) and all(v.confusion is not None for v in result.variants)
    rows = 2 if with_confusion else 1
    n = max(len(result.variants), 1)
    fig = Figure(figsize=(13, 4.2 * rows), layout="constrained")
    exp = result.experiment
    fig.suptitle(f"{exp.name}: {exp.shows} ({exp.subset})", fontsize=9, wrap=True)
    grid = fig.add_gridspec(rows, max(3, n))
    per_row = max(3, n)
    span = per_row // 3
    axes = [fig.add_subplot(grid[0, i * span:(i + 1) * span if i < 2 else per_row]) for i in range(3)]
    for i, v in enumerate(result.variants):
        h = v.metadata.history if v.metadata else {}
        color = _color(i)
        val = np.array([np.nan if a is None else a for a in h.get("val_accuracy", [])], float)
        epochs = np.arange(1, len(val) + 1)
        secs = np.array(h.get("seconds", [])[: len(val)], float)
        axes[0].plot(epochs, val, color=color, marker="s", markersize=4, label=v.label)
        axes[1].plot(secs, val[: len(secs)], color=color, marker="s", markersize=4, label=v.label)
        loss = np.array(h.get("loss", []), float)
        axes[2].plot(np.arange(1, len(loss) + 1), loss, color=color, marker="o", markersize=4, linestyle="--",
                     label=v.label)
    for ax, title, xlabel, ylabel in ((axes[0], "validation accuracy", "epoch", "accuracy"),
                                      (axes[1], "validation accuracy over time", "seconds of training", "accuracy"),
                                      (axes[2], "training loss", "epoch", "loss")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
    if with_confusion:
        rates = []
        for v in result.variants:
            cm = np.asarray(v.confusion, float)
            r = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            np.fill_diagonal(r, 0.0)  # the errors are what differs between models
            rates.append(r)
        top = max(float(r.max()) for r in rates) or 1.0  # one colour scale, so the variants compare
        for i, (v, r) in enumerate(zip(result.variants, rates)):
            ax = fig.add_subplot(grid[1, i])
            image = ax.imshow(r, cmap="Reds", vmin=0, vmax=top)
            ax.set_title(f"{v.label}: errors (true row, predicted column)", fontsize=9)
            ax.set_xticks(range(10))
            ax.set_yticks(range(10))
            ax.tick_params(labelsize=7)
        fig.colorbar(image, ax=ax, shrink=0.9, label="share of the true digit's test images")
    return fig


def export_experiment_figure(result: ExperimentResult, path: str | Path) -> Path:
    """Write the figure as PNG or SVG by the path's suffix, atomically."""
    import matplotlib

    from .errors import MnistDeskError
    from .store import atomic_write

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise MnistDeskError(f"{path.name}: export the figure as .png or .svg")
    fig = experiment_figure(result)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=110))
    return path
