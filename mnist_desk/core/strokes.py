"""Pen-stroke digit data sets and a canvas renderer (no TensorFlow, no Qt).

Two stroke sources live in the shared data folder (see ``shared/data/SOURCES.md``):

* ``pendigits/pendigits_strokes.npz`` - real tablet pen strokes (UCI pendigits, 30 writers);
* ``mnist_strokes/mnist_strokes.npz`` - MNIST digits traced into stroke sequences (de Jong).

Both loaders return ``[(strokes, label), ...]`` where ``strokes`` is a list of float ``(K, 2)``
arrays of ``(x, y)`` points in *screen* coordinates (y grows downward). :func:`render_strokes`
draws such a digit the way the app's canvas would: black, anti-aliased, round-capped strokes on a
white square canvas.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .errors import DataError
from .preprocess import CANVAS_SIDE

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_ENV = "MNIST_DESK_SHARED"

Digit = tuple[list[np.ndarray], int]


def shared_dir() -> Path:
    """The shared data folder: ``$MNIST_DESK_SHARED`` if set, else ``<repo>/../shared``."""
    override = os.environ.get(SHARED_ENV)
    return Path(override) if override else REPO_ROOT.parent / "shared"


def default_pendigits_path() -> Path:
    return shared_dir() / "data" / "pendigits" / "pendigits_strokes.npz"


def default_mnist_strokes_path() -> Path:
    return shared_dir() / "data" / "mnist_strokes" / "mnist_strokes.npz"


def _open_npz(path: Path):
    if not path.exists():
        raise DataError(path, "no such file")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - zip/format errors
        raise DataError(path, f"not a readable .npz archive ({exc})") from None


def load_pendigits(path: str | Path | None = None, split: str = "train") -> list[Digit]:
    """UCI pendigits as ``[(strokes, label)]``; y is flipped so it grows downward (screen coordinates).

    Raw tablet coordinates are kept (a 500x500 box); :func:`render_strokes` rescales anyway.
    """
    path = Path(path) if path is not None else default_pendigits_path()
    with _open_npz(path) as d:
        try:
            pts = d[f"{split}_points"].astype(np.float64)
            so = d[f"{split}_stroke_offsets"].astype(np.int64)
            sa = d[f"{split}_sample_offsets"].astype(np.int64)
            labels = d[f"{split}_labels"].astype(np.int64)
        except KeyError as exc:
            raise DataError(path, f"missing array {exc} for split {split!r}") from None
    xy = pts[:, :2].copy()
    xy[:, 1] = 500.0 - xy[:, 1]  # y grows upward on the tablet
    out: list[Digit] = []
    for i in range(len(labels)):
        strokes = [xy[so[k] : so[k + 1]] for k in range(sa[i], sa[i + 1])]
        strokes = [s for s in strokes if len(s)]
        out.append((strokes, int(labels[i])))
    return out


def pendigits_writers(path: str | Path | None = None, split: str = "train") -> np.ndarray:
    """The writer (1-30) of each pendigits digit, in :func:`load_pendigits` order.

    The ``.COMMENT`` field is ``label writer n``; holding writers out (never single digits of a writer)
    is what makes a figure say how a model reads people it never saw.
    """
    path = Path(path) if path is not None else default_pendigits_path()
    with _open_npz(path) as d:
        try:
            comments = d[f"{split}_comments"]
        except KeyError as exc:
            raise DataError(path, f"missing array {exc} for split {split!r}") from None
    try:
        return np.asarray([int(str(c).split()[1]) for c in comments], dtype=np.int64)
    except (IndexError, ValueError):
        raise DataError(path, "a .COMMENT field does not name its writer") from None


# Writers of the shared pendigits split, by role. Training may use TRAIN_WRITERS; CALIBRATION_WRITERS set
# a model's temperature and "unsure" threshold; TEST_WRITERS only measure. The figures on unseen writers
# use CALIBRATION_WRITERS + TEST_WRITERS for accuracy (neither is trained on) and TEST_WRITERS alone for
# what calibration decides (flag rate, calibration error).
TRAIN_WRITERS = tuple(range(1, 21))
CALIBRATION_WRITERS = tuple(range(21, 26))
TEST_WRITERS = tuple(range(26, 31))


def pendigits_of_writers(writers, path: str | Path | None = None) -> list[Digit]:
    """The pendigits digits written by ``writers`` (in file order)."""
    digits = load_pendigits(path)
    who = pendigits_writers(path)
    keep = set(int(w) for w in writers)
    return [d for d, w in zip(digits, who) if int(w) in keep]


def decode_mnist_strokes(seq: np.ndarray) -> list[np.ndarray]:
    """One de Jong sequence, rows ``(dx, dy, end_of_stroke, end_of_digit)`` -> list of (K,2) strokes.

    The first row's (dx, dy) is the absolute start from pixel (0,0); later rows are deltas. A row
    with end_of_stroke set closes the current stroke; the next row is the pen-up jump to the next
    stroke's first point (it is a delta too).
    """
    seq = np.asarray(seq, dtype=np.int64)
    pos = np.cumsum(seq[:, :2], axis=0).astype(np.float64)
    strokes: list[np.ndarray] = []
    start = 0
    n = len(seq)
    for r in range(n):
        if seq[r, 2] or seq[r, 3] or r == n - 1:
            # rows with only an end flag carry (0,0) deltas: they repeat the last point, harmless
            s = pos[start : r + 1]
            if len(s):
                strokes.append(s)
            start = r + 1
            if seq[r, 3]:
                break
    return strokes


def load_mnist_strokes(split: str = "train", path: str | Path | None = None, indices=None) -> list[Digit]:
    """De Jong's MNIST stroke sequences as ``[(strokes, label)]`` in 28x28 pixel coordinates.

    ``indices`` (optional) selects sequences; sequence i is MNIST ``split`` image i.
    """
    path = Path(path) if path is not None else default_mnist_strokes_path()
    with _open_npz(path) as d:
        try:
            pts = d[f"{split}_points"]
            off = d[f"{split}_offsets"].astype(np.int64)
            labels = d[f"{split}_labels"].astype(np.int64)
        except KeyError as exc:
            raise DataError(path, f"missing array {exc} for split {split!r}") from None
    idx = range(len(labels)) if indices is None else np.asarray(indices, dtype=np.int64)
    return [(decode_mnist_strokes(pts[off[i] : off[i + 1]]), int(labels[i])) for i in idx]


def random_canvas_params(rng: np.random.Generator, canvas: int = CANVAS_SIDE) -> dict:
    """How a person might draw on the app's canvas: size 40-90% of the canvas, pen 8-24 px, anywhere.

    Returns keyword arguments for :func:`render_strokes`. The centre keeps a digit whose larger side
    is ``size_frac * canvas`` (plus the pen) inside the canvas whatever its aspect ratio.
    """
    size_frac = float(rng.uniform(0.4, 0.9))
    pen_width = float(rng.uniform(8.0, 24.0))
    half = 0.5 * size_frac * canvas + 0.5 * pen_width + 2.0  # +2: anti-aliased fringe
    lo, hi = half, canvas - half
    if hi <= lo:
        cx = cy = canvas / 2
    else:
        cx, cy = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
    return {"size_frac": size_frac, "center": (cx, cy), "pen_width": pen_width}


def render_strokes(
    strokes,
    canvas: int = CANVAS_SIDE,
    size_frac: float = 0.7,
    center=(CANVAS_SIDE / 2, CANVAS_SIDE / 2),
    pen_width: float = 16.0,
    rng: np.random.Generator | None = None,
    supersample: int = 3,
) -> np.ndarray:
    """Draw strokes as the app's canvas would: uint8 (canvas, canvas), black ink (0) on white (255).

    The digit's larger bounding-box side is scaled to ``size_frac * canvas`` and its box centre is put
    at ``center``. Strokes are polylines with round joins and caps (a disc at every vertex), drawn at
    ``supersample`` times the resolution and box-filtered down, which anti-aliases them. If ``rng``
    is given, size, position and pen width are drawn with :func:`random_canvas_params` instead.
    """
    if rng is not None:
        p = random_canvas_params(rng, canvas)
        size_frac, center, pen_width = p["size_frac"], p["center"], p["pen_width"]
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    ss = max(1, int(supersample))
    big = canvas * ss
    img = Image.new("L", (big, big), 255)
    placed = place_strokes(strokes, canvas=canvas, size_frac=size_frac, center=center)
    if placed:
        draw = ImageDraw.Draw(img)
        w = max(1.0, pen_width * ss)
        r = w / 2
        for s in placed:
            q = s * ss
            pts = [tuple(p) for p in q]
            if len(pts) > 1:
                draw.line(pts, fill=0, width=int(round(w)))
            for x, y in pts:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    if ss > 1:
        img = img.resize((canvas, canvas), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.uint8)


def place_strokes(strokes, canvas: int = CANVAS_SIDE, size_frac: float = 0.7, center=(CANVAS_SIDE / 2, CANVAS_SIDE / 2)) -> list[np.ndarray]:
    """The strokes moved and scaled onto the canvas exactly as :func:`render_strokes` draws them.

    The larger side of the digit's bounding box becomes ``size_frac * canvas`` and the box centre
    goes to ``center``. Used to replay strokes as mouse drags into the real canvas widget.
    """
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    if not strokes:
        return []
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1]))
    scale = size_frac * canvas / extent if extent > 0 else 1.0
    mid = (lo + hi) / 2
    return [(s - mid) * scale + np.asarray(center, dtype=np.float64) for s in strokes]
