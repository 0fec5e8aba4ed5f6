"""Matplotlib figures of every Inspect view, for PNG/SVG export (``matplotlib.figure.Figure``, never pyplot).

Each builder takes the same data the window shows (panels, matrices, points) and returns a Figure of a
known size: WIDTH_IN inches wide, the height following the content; PNGs are written at DPI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .panels import CLASS_COLOURS, HEAT, Panel, mosaic

# Sizes are whole multiples of 1/DPI inch, exact in binary, so a PNG is exactly pixel_size(fig).
DPI = 128
WIDTH_IN = 1200 / DPI  # 1200 px
_TITLE_IN = 0.35
_BAR_IN = 0.9  # room at the right of a panel for its colour bar


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG or SVG (chosen by the suffix) at the figure's own size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"export as .png or .svg, not {path.suffix or 'no suffix'}")
    FigureCanvasAgg(fig)
    fig.savefig(path, format=fmt, dpi=DPI)
    return path


def new_figure(height_in: float) -> Figure:
    """A WIDTH_IN-wide Figure whose height is rounded to whole pixels."""
    return Figure(figsize=(WIDTH_IN, max(1, round(height_in * DPI)) / DPI), dpi=DPI)


def pixel_size(fig: Figure) -> tuple[int, int]:
    w, h = fig.get_size_inches()
    return int(round(w * DPI)), int(round(h * DPI))


def _colour(i: int) -> tuple[float, float, float]:
    return tuple(c / 255 for c in CLASS_COLOURS[i % 10])


# ------------------------------------------------------------------------------ tile grids
def panels_figure(panels: list[Panel], title: str = "") -> Figure:
    """Panels stacked top to bottom, each its mosaic (the window's exact pixels), titles and colour bar."""
    mos = [mosaic(p) for p in panels]
    img_w = WIDTH_IN - _BAR_IN
    heights = [img_w * m.rgb.shape[0] / m.rgb.shape[1] + _TITLE_IN for m in mos]
    top = _TITLE_IN if title else 0.0
    fig_h = top + sum(heights) + 0.1
    fig = new_figure(fig_h)
    if title:
        fig.text(0.5, 1 - 0.5 * top / fig_h, title, ha="center", va="center", fontsize=12, weight="bold")
    y = fig_h - top
    for p, m, h in zip(panels, mos, heights):
        y -= h
        box_h = h - _TITLE_IN
        ax = fig.add_axes((0.1 / WIDTH_IN, y / fig_h, (img_w - 0.1) / WIDTH_IN, box_h / fig_h))
        ax.imshow(m.rgb, interpolation="nearest", aspect="auto")
        ax.set_axis_off()
        ax.set_title(p.title + (f"  ({p.note})" if p.note else ""), fontsize=10, loc="left")
        if m.caption:
            pt_per_px = (img_w - 0.1) * 72 / m.rgb.shape[1]
            size = max(3.0, min(9.0, m.caption * pt_per_px * 0.65))
            for t, (oy, ox) in zip(p.tiles, m.origins):
                if t.title:
                    ax.text(ox + m.cell[1] / 2, oy - m.caption * 0.15, t.title, ha="center", va="bottom", fontsize=size)
        if p.colourbar is not None:
            from matplotlib.cm import ScalarMappable

            cb = p.colourbar
            cax = fig.add_axes(((img_w + 0.15) / WIDTH_IN, y / fig_h + 0.1 * box_h / fig_h, 0.15 / WIDTH_IN, 0.8 * box_h / fig_h))
            bar = fig.colorbar(ScalarMappable(Normalize(cb.vmin, cb.vmax), cb.cmap), cax=cax)
            bar.ax.tick_params(labelsize=7)
            if cb.label:
                bar.set_label(cb.label, fontsize=8)
    return fig


def _panel_strip(fig: Figure, panel: Panel, bottom_in: float, height_in: float) -> None:
    """A panel's mosaic as a strip ``height_in`` tall at ``bottom_in`` (inches), captions included."""
    fh = fig.get_size_inches()[1]
    m = mosaic(panel)
    nw = min(WIDTH_IN - 0.4, height_in * m.rgb.shape[1] / m.rgb.shape[0])
    nh = nw * m.rgb.shape[0] / m.rgb.shape[1]
    ax = fig.add_axes((0.2 / WIDTH_IN, bottom_in / fh, nw / WIDTH_IN, nh / fh))
    ax.imshow(m.rgb, interpolation="nearest", aspect="auto")
    ax.set_axis_off()
    ax.set_title(panel.title, fontsize=9, loc="left")
    pt_per_px = nw * 72 / m.rgb.shape[1]
    for t, (oy, ox) in zip(panel.tiles, m.origins):
        if t.title:
            ax.text(ox + m.cell[1] / 2, oy - m.caption * 0.15, t.title, ha="center", va="bottom",
                    fontsize=max(3.0, min(8.0, m.caption * pt_per_px * 0.65)))


def _strip_height(panel: Panel, max_h: float) -> float:
    m = mosaic(panel)
    return min(max_h, (WIDTH_IN - 0.4) * m.rgb.shape[0] / m.rgb.shape[1])


# ------------------------------------------------------------------------------ confusion matrix
def confusion_colours(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Values coloured in the heat map: log(1 + count), so single errors show beside ~1000 hits; and its max."""
    v = np.log1p(np.asarray(matrix, np.float64))
    return v, float(v.max()) or 1.0


def confusion_figure(matrix: np.ndarray, title: str = "", selected: tuple[int, int] | None = None,
                     gallery: Panel | None = None) -> Figure:
    v, vmax = confusion_colours(matrix)
    side = WIDTH_IN * 0.8
    strip = _strip_height(gallery, 4.0) if gallery is not None else 0.0
    extra = strip + 0.5 if gallery is not None else 0.0
    fig_h = side + extra
    fig = new_figure(fig_h)
    ax = fig.add_axes((0.12, (extra + 0.6) / fig_h, 0.72, (side - 1.0) / fig_h))
    ax.imshow(v, cmap=HEAT, vmin=0, vmax=vmax, interpolation="nearest", aspect="equal")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            n = int(matrix[i, j])
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color="white" if v[i, j] > 0.6 * vmax else "black")
    if selected is not None:
        from matplotlib.patches import Rectangle

        i, j = selected
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=(0.86, 0.12, 0.12), linewidth=2.5))
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true label")
    ax.set_title(title, fontsize=10)
    if gallery is not None:
        _panel_strip(fig, gallery, 0.15, strip)
    return fig


# ------------------------------------------------------------------------------ hidden features
def scatter_figure(xy: np.ndarray, labels: np.ndarray, title: str = "", drawing_xy: np.ndarray | None = None,
                   drawing_label: str = "your drawing", neighbours: Panel | None = None) -> Figure:
    h = WIDTH_IN * 0.75
    strip = _strip_height(neighbours, 1.4) if neighbours is not None else 0.0
    extra = strip + 0.5 if neighbours is not None else 0.0
    fig_h = h + extra
    fig = new_figure(fig_h)
    ax = fig.add_axes((0.08, (extra + 0.45) / fig_h, 0.74, (h - 0.85) / fig_h))
    for d in range(10):
        pts = xy[labels == d]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, color=_colour(d), label=str(d), linewidths=0)
    if drawing_xy is not None:
        ax.scatter([drawing_xy[0]], [drawing_xy[1]], marker="*", s=300, color="black", edgecolors="white", linewidths=1.0,
                   label=drawing_label, zorder=5)
    leg = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    for k, handle in enumerate(leg.legend_handles):
        handle.set_sizes([120 if k == 10 else 30])
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=7)
    if neighbours is not None:
        _panel_strip(fig, neighbours, 0.15, strip)
    return fig


# ------------------------------------------------------------------------------ summary
def summary_figure(rows: list[dict], meta_lines: list[str], history: dict, title: str = "") -> Figure:
    n = len(rows)
    table_h = 0.22 * (n + 1) + 0.3
    meta_h = 0.18 * len(meta_lines) + 0.3
    curves = [k for k in ("loss", "accuracy") if history.get(k)]
    curve_h = 2.4 if curves else 0.0
    fig_h = 0.5 + table_h + meta_h + curve_h
    fig = new_figure(fig_h)
    fig.text(0.5, 1 - 0.25 / fig_h, title, ha="center", va="center", fontsize=12, weight="bold")
    tax = fig.add_axes((0.03, (fig_h - 0.5 - table_h) / fig_h, 0.94, table_h / fig_h))
    tax.set_axis_off()
    cells = [[r["name"], r["type"], str(r["output_shape"]), f"{r['params']:,}"] for r in rows]
    if cells:
        tab = tax.table(cellText=cells, colLabels=["layer", "type", "output shape", "parameters"], loc="upper center",
                        cellLoc="left", colLoc="left")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7.5)
        tab.scale(1.0, 1.0)
    mtop = fig_h - 0.5 - table_h
    for i, line in enumerate(meta_lines):
        fig.text(0.03, (mtop - 0.2 - 0.18 * i) / fig_h, line, fontsize=8, family="monospace", va="top")
    for k, key in enumerate(curves):
        ax = fig.add_axes((0.08 + 0.47 * k, 0.35 / fig_h, 0.38, (curve_h - 0.6) / fig_h))
        ep = np.arange(1, len(history[key]) + 1)
        ax.plot(ep, history[key], "o-", ms=3, color=_colour(0), label="training")
        if history.get("val_" + key):
            ax.plot(np.arange(1, len(history["val_" + key]) + 1), history["val_" + key], "o-", ms=3, color=_colour(1), label="validation")
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    return fig
