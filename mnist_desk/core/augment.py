"""Training data that looks like what people draw on the canvas ("drawn-style" digits).

A network trained on MNIST alone reads canvas drawings worse than MNIST: canvas strokes have one
uniform width, round caps and smooth curves, while MNIST's are scanned pen ink. This module makes
extra training images from MNIST itself: de Jong's stroke sequences (traced from the MNIST images,
so they carry MNIST's labels) are drawn on a 280x280 canvas exactly as a person's strokes would be
(random size, position and pen width, with small random slants, rotations and stretches, and the
pixel-grid staircase of the tracing smoothed away), then passed through
:func:`mnist_desk.core.preprocess.prepare_drawing`. The result is uint8 (N,28,28) white-on-black,
the same layout as MNIST, ready to be concatenated with ``x_train``.

Only MNIST train images 0..49,999 are used by default, so that 50,000..59,999 stay a clean
validation set, and nothing here looks at pendigits (the benchmark's writers).

Generation takes ~4 ms a digit; it runs on ``workers`` processes and is cached in an .npz
(``np.savez``, loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .errors import Cancelled, DataError, EmptyDrawing
from .preprocess import CANVAS_SIDE, prepare_drawing
from .strokes import load_mnist_strokes, random_canvas_params, render_strokes

# Bump whenever generation changes (here, or the writers, alphabets, DIGIT_LIKE or doodles it draws from):
# old cache files are then ignored.
CACHE_VERSION = 5
TRAIN_LIMIT = 50_000  # MNIST train images 50,000.. are the validation set: never drawn from


# ----------------------------------------------------------------------------- stroke tweaks
def smooth_stroke(points: np.ndarray, passes: int = 2) -> np.ndarray:
    """Smooth a (K,2) polyline with a [1,2,1]/4 kernel ``passes`` times; the ends stay put.

    De Jong's traces step one pixel at a time on the 28x28 grid; smoothing turns the staircase
    into the curve a pen would have drawn.
    """
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        return p
    for _ in range(passes):
        q = p.copy()
        q[1:-1] = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
        p = q
    return p


def random_affine(strokes, rng: np.random.Generator, rotate_deg: float = 10.0, shear: float = 0.25, stretch: float = 0.15):
    """Apply one random small rotation, horizontal shear (slant) and aspect stretch to all strokes."""
    a = np.deg2rad(rng.uniform(-rotate_deg, rotate_deg))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    sh = np.array([[1.0, rng.uniform(-shear, shear)], [0.0, 1.0]])  # x += k*y
    sx = np.exp(rng.uniform(-stretch, stretch))
    m = rot @ sh @ np.diag([sx, 1.0 / sx])
    allp = np.concatenate(strokes)
    c = allp.mean(axis=0)
    return [(s - c) @ m.T + c for s in strokes]


def decimate_stroke(points: np.ndarray, step: int) -> np.ndarray:
    """Keep every ``step``-th point (and the last): a coarser polyline, as a fast-moving pen gives."""
    if step <= 1 or len(points) <= 2:
        return points
    idx = np.unique(np.r_[np.arange(0, len(points), step), len(points) - 1])
    return points[idx]


FLAGGED_ONE_PROB = 0.5


def add_flag_to_one(strokes, rng: np.random.Generator):
    """Give a traced "1" the lead-in flag many people write (the continental-European 1).

    MNIST's 1s are nearly all bare strokes, so a network trained on them alone reads a flagged 1 as
    a 7. The flag starts at the top of the digit and runs down-left for 25-45% of its height, at
    30-60 degrees below the horizontal; drawn as its own stroke, as a pen would.
    """
    allp = np.concatenate(strokes)
    top = allp[np.argmin(allp[:, 1])]
    far = allp[np.argmax(np.linalg.norm(allp - top, axis=1))]
    height = float(np.linalg.norm(far - top)) or 1.0
    length = rng.uniform(0.25, 0.45) * height
    angle = np.deg2rad(rng.uniform(30.0, 60.0))
    # the flag is drawn for an upright stem, then turned with the stem's slant (complex rotation)
    u = complex(*((far - top) / height))
    f = complex(-np.cos(angle), np.sin(angle)) * (u / 1j)
    end = top + np.array([f.real, f.imag]) * length
    flag = np.linspace(end, top, 6)
    return [flag] + list(strokes)


def drawn_style_digit(strokes, rng: np.random.Generator, canvas: int = CANVAS_SIDE, supersample: int = 2, label: int | None = None,
                      smooth_passes: int = 2, max_step: int = 3) -> np.ndarray:
    """One stroke drawing -> a random canvas drawing -> prepare_drawing -> float32 (28,28).

    ``smooth_passes`` and ``max_step`` (the coarsest decimation) suit the source: de Jong's pixel traces
    need smoothing; real pen strokes, sampled every 100 ms, are already coarse.
    """
    strokes = [smooth_stroke(s, smooth_passes) for s in strokes if len(s)]
    if label == 1 and strokes and rng.random() < FLAGGED_ONE_PROB:
        strokes = add_flag_to_one(strokes, rng)
    strokes = random_affine(strokes, rng)
    step = int(rng.integers(1, max_step + 1))
    strokes = [decimate_stroke(s, step) for s in strokes]
    img = render_strokes(strokes, canvas=canvas, supersample=supersample, **random_canvas_params(rng, canvas))
    return prepare_drawing(img)


# ------------------------------------------------------------------------------- generation
# Where the strokes of each kind of generated image come from. Index i of a job is one image; sources with
# fewer drawings than images asked for are used again (each copy drawn with its own random pen, size,
# slant and place).
SOURCES = ("mnist", "pendigits", "non-digits")


@functools.lru_cache(maxsize=4)
def _training_drawings(source: str, path):
    """The pen digits of the training writers, or the Omniglot drawings of the training alphabets."""
    if source == "pendigits":
        from .strokes import TRAIN_WRITERS, pendigits_of_writers

        drawings, what = pendigits_of_writers(TRAIN_WRITERS, path), "pen digits of the training writers"
    else:
        from .non_digits import TRAIN_ALPHABETS, load_omniglot

        drawings, what = load_omniglot(TRAIN_ALPHABETS, path), "drawings of the training alphabets"
    if not drawings:
        raise DataError(path, f"no {what}")
    return drawings


def _source_drawings(source: str, split: str, path, indices) -> list[tuple[list[np.ndarray], int]]:
    """(strokes, label) for each index of the job; label NOT_A_DIGIT for non-digits.

    A worker process runs many jobs: the pen digits and Omniglot drawings are read once per process.
    """
    if source == "mnist":
        return load_mnist_strokes(split, path, indices=indices)
    if source == "pendigits":
        digits = _training_drawings(source, path)
        return [digits[int(i) % len(digits)] for i in indices]
    from .non_digits import NOT_A_DIGIT, random_doodle

    drawings = _training_drawings(source, path)
    out = []
    for i in indices:
        # even indices: people's characters of other alphabets; odd: generated doodles
        if int(i) % 2 == 0:
            out.append((drawings[(int(i) // 2) % len(drawings)][0], NOT_A_DIGIT))
        else:
            out.append((random_doodle(np.random.default_rng([7, int(i)])), NOT_A_DIGIT))
    return out


def _generate(job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    source, split, path, indices, seed = job
    drawings = _source_drawings(source, split, path, indices)
    xs = np.zeros((len(indices), 28, 28), np.uint8)
    ys = np.zeros(len(indices), np.uint8)
    ok = np.zeros(len(indices), bool)
    style = {"mnist": {}, "pendigits": {"smooth_passes": 1, "max_step": 1}, "non-digits": {"smooth_passes": 1, "max_step": 2}}[source]
    for j, (i, (strokes, label)) in enumerate(zip(indices, drawings)):
        rng = np.random.default_rng([seed, int(i)])  # per image: results do not depend on chunking
        try:
            x = drawn_style_digit(strokes, rng, label=int(label), **style)
        except EmptyDrawing:
            continue
        xs[j] = np.rint(x * 255.0).astype(np.uint8)
        ys[j] = label
        ok[j] = True
    return xs, ys, ok


def _default_cache_dir() -> Path:
    override = os.environ.get("MNIST_DESK_HOME")
    if override:
        return Path(override) / "cache"
    import platformdirs  # noqa: PLC0415

    return Path(platformdirs.user_cache_dir("mnist_desk", appauthor=False))


def drawn_style_images(
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    indices=None,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    workers: int = 2,
    should_stop=None,
    source: str = "mnist",
) -> tuple[np.ndarray, np.ndarray]:
    """Drawings rendered on a canvas and prepared like the user's: ``(x uint8 (n,28,28) white on black, y uint8 (n,))``.

    ``source`` says whose strokes: ``"mnist"`` (MNIST digits traced by de Jong; ``indices`` picks MNIST
    ``split`` images, by default the first ``n`` of train images 0..49,999, or of the 10,000 test images),
    ``"pendigits"`` (real pen digits of the training writers, each drawn again as often as ``n`` asks) or
    ``"non-digits"`` (Omniglot characters of the training alphabets and generated doodles, label
    ``NOT_A_DIGIT``); ``path`` overrides the source file. The few drawings that come out as a dot are
    skipped, so slightly fewer than ``n`` may come back.
    Results are cached under ``cache_dir`` (default: the user cache folder, or
    ``$MNIST_DESK_HOME/cache``) keyed by source, split, indices and seed. ``should_stop`` (a callable) is
    polled between chunks; when it says stop, ``Cancelled`` is raised and nothing is cached.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if indices is None:
        if source == "mnist":
            limit = TRAIN_LIMIT if split == "train" else 10_000
            indices = np.arange(limit if n is None else min(n, limit))
        else:
            indices = np.arange(int(n or 0))
    else:
        indices = np.asarray(indices, dtype=np.int64)
        if n is not None:
            indices = indices[:n]
    key = hashlib.sha256(
        f"v{CACHE_VERSION}|{source}|{split}|{seed}|{path}|".encode() + indices.astype(np.int64).tobytes()
    ).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    cache_file = cache / f"drawn_{source}_{split}_{len(indices)}_{key}.npz"
    if use_cache and cache_file.exists():
        with np.load(cache_file, allow_pickle=False) as d:
            return d["x"], d["y"]

    chunks = [c for c in np.array_split(indices, max(1, workers) * 8) if len(c)]
    jobs = [(source, split, path, c, seed) for c in chunks]
    parts = []

    def check_stop():
        if should_stop is not None and should_stop():
            raise Cancelled("drawing the drawn-style digits was stopped")

    if workers > 1 and len(indices) > 2000:
        # "spawn": the caller may be a thread of a process with Qt and TensorFlow threads running,
        # where a forked child can deadlock on a lock some other thread held at the fork.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                for part in pool.map(_generate, jobs):
                    check_stop()
                    parts.append(part)
            except Cancelled:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    else:
        for j in jobs:
            check_stop()
            parts.append(_generate(j))
    if not parts:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    ok = np.concatenate([p[2] for p in parts])
    x, y = x[ok], y[ok]
    if use_cache:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cache_file)
    return x, y
