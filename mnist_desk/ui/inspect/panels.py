"""What a view shows, as plain data: a panel is a grid of image tiles, each with its colour map and limits.

The Qt views and the matplotlib exports both render panels through :func:`mosaic`, so they agree pixel
for pixel on content and colour scales. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DIVERGING = "RdBu_r"  # weights and gradients: blue negative, white zero, red positive
GREY = "gray"  # digits as MNIST stores them: white ink on black
HEAT = "Blues"  # counts (confusion matrix)
BACKGROUND = (236, 236, 236)
CLASS_COLOURS = [  # matplotlib's tab10, so the scatter and its export use the same colours
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]
MIN_CELL = 24  # small tiles (3x3 kernels) are enlarged by whole pixels to at least this side


@dataclass
class Tile:
    image: np.ndarray  # (h, w)
    title: str = ""
    cmap: str = DIVERGING
    vmin: float = -1.0
    vmax: float = 1.0
    info: str = ""  # shown when the pointer is over the tile
    pos: tuple[int, int] | None = None  # (row, column); None: next free place in reading order


@dataclass
class ColourBar:
    cmap: str
    vmin: float
    vmax: float
    label: str = ""


@dataclass
class Panel:
    title: str
    tiles: list[Tile]
    columns: int
    colourbar: ColourBar | None = None
    note: str = ""
    positions: list[tuple[int, int]] = field(default_factory=list)  # filled by layout()

    def __post_init__(self) -> None:
        self.layout()

    def layout(self) -> None:
        taken, out, k = set(), [], 0
        for t in self.tiles:
            if t.pos is not None:
                p = t.pos
            else:
                while (k // self.columns, k % self.columns) in taken:
                    k += 1
                p = (k // self.columns, k % self.columns)
            taken.add(p)
            out.append(p)
        self.positions = out

    @property
    def rows(self) -> int:
        return 1 + max((r for r, _ in self.positions), default=-1)

    @property
    def has_titles(self) -> bool:
        return any(t.title for t in self.tiles)


def symmetric_limit(arrays) -> float:
    """One limit for a colour scale centred at zero: the largest |value| (1 when all are zero)."""
    m = max((float(np.abs(a).max()) for a in arrays if np.size(a)), default=0.0)
    return m if m > 0 and np.isfinite(m) else 1.0


def lut(cmap: str) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colour map (matplotlib maps have 256 entries)."""
    from matplotlib import colormaps

    return (colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255 + 0.5).astype(np.uint8)


_LUTS: dict[str, np.ndarray] = {}


def colourise(a: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """(h, w) values -> (h, w, 3) uint8 with the colour map's index chosen as matplotlib's Normalize does."""
    if cmap not in _LUTS:
        _LUTS[cmap] = lut(cmap)
    span = (vmax - vmin) or 1.0
    idx = np.clip(((np.asarray(a, np.float64) - vmin) / span * 256).astype(np.int64), 0, 255)
    return _LUTS[cmap][idx]


@dataclass
class Mosaic:
    rgb: np.ndarray  # (H, W, 3) uint8
    cell: tuple[int, int]  # (h, w) of one tile after enlarging
    scale: int  # whole-pixel enlargement of the tiles
    gap: int
    caption: int  # pixels above each tile kept for its title
    origins: list[tuple[int, int]]  # (y, x) of each tile's top-left corner

    def tile_at(self, x: float, y: float) -> int | None:
        """The tile under image coordinates (x right, y down), or None."""
        ch, cw = self.cell
        for i, (oy, ox) in enumerate(self.origins):
            if ox <= x < ox + cw and oy <= y < oy + ch:
                return i
        return None


def mosaic(panel: Panel) -> Mosaic:
    h = max((t.image.shape[0] for t in panel.tiles), default=1)
    w = max((t.image.shape[1] for t in panel.tiles), default=1)
    scale = max(1, int(np.ceil(MIN_CELL / max(min(h, w), 1))))
    ch, cw = h * scale, w * scale
    gap = max(2, ch // 10)
    caption = int(round(ch * 0.45)) if panel.has_titles else 0
    rows, cols = max(panel.rows, 1), panel.columns
    H = gap + rows * (caption + ch + gap)
    W = gap + cols * (cw + gap)
    rgb = np.empty((H, W, 3), np.uint8)
    rgb[:] = BACKGROUND
    origins = []
    for t, (r, c) in zip(panel.tiles, panel.positions):
        oy, ox = gap + r * (caption + ch + gap) + caption, gap + c * (cw + gap)
        img = colourise(t.image, t.cmap, t.vmin, t.vmax)
        if scale > 1:
            img = img.repeat(scale, axis=0).repeat(scale, axis=1)
        th, tw = img.shape[:2]
        rgb[oy : oy + th, ox : ox + tw] = img
        origins.append((oy, ox))
    return Mosaic(rgb, (ch, cw), scale, gap, caption, origins)


def grid_columns(n: int, aspect: float = 1.0) -> int:
    """Columns for n tiles in a roughly square (or ``aspect`` wide) grid."""
    return max(1, int(np.ceil(np.sqrt(n * aspect))))


def range_info(label: str, a: np.ndarray) -> str:
    return f"{label}: min {float(np.min(a)):+.4g}, max {float(np.max(a)):+.4g}"
