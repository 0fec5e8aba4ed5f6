"""Matplotlib figures of the Lab views for PNG/SVG export (``Figure`` objects, never pyplot)."""

from __future__ import annotations

import numpy as np

from ...core.lab import transforms as tr
from ..inspect.figures import new_figure
from .common import model_colour


def _rgb(i: int) -> tuple[float, float, float]:
    return tuple(c / 255 for c in model_colour(i))


def sweeps_figure(sweeps: dict[str, tr.Sweep], names: list[str], values: dict[str, float], klass: int, where: str):
    """One small plot per slider: each model's probability of ``klass`` over the range, the value in use marked."""
    rows = len(sweeps)
    fig = new_figure(0.55 + 1.35 * ((rows + 1) // 2))
    axes = fig.subplots((rows + 1) // 2, 2, squeeze=False).ravel()
    where_text = "the drawing, before preprocessing" if where == tr.BEFORE else "what the model sees, after preprocessing"
    fig.suptitle(f"Probability of {klass} as each change is made to {where_text}", fontsize=11)
    for ax, (name, sweep) in zip(axes, sweeps.items()):
        s = tr.SLIDERS[name]
        for i, model in enumerate(names[: len(sweep.probs)]):
            ax.plot(sweep.values, sweep.probs[i], color=_rgb(i), lw=1.8, label=model)
        ax.axhline(0.5, color="0.7", lw=0.8, ls="--")
        ax.axvline(values[name], color="0.2", lw=0.8)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(s.lo, s.hi)
        ax.set_title(f"{s.label} ({s.unit})" if s.unit else s.label, fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[rows:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.25), ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def images_figure(images: list[tuple[str, np.ndarray, str]], title: str, caption: str = ""):
    """A row of 28x28 images with titles (``cmap`` per image: "gray" for inputs, "RdBu_r" for changes)."""
    n = len(images)
    fig = new_figure(3.6 if caption else 3.2)
    axes = fig.subplots(1, n, squeeze=False).ravel()
    for ax, (name, img, cmap) in zip(axes, images):
        if cmap == "gray":
            ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        else:
            lim = float(np.abs(img).max()) or 1.0
            ax.imshow(img, cmap=cmap, vmin=-lim, vmax=lim)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=11)
    if caption:
        fig.text(0.5, 0.02, caption, ha="center", fontsize=9)
    return fig
