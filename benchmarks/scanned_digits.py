"""Scanned digits through ``mnist-desk predict``: dark ink on light paper, small, thick or thin strokes.

The 10,000 MNIST test digits (scans of real handwriting no model trains on) are made into the pictures a
scanner or a phone gives - dark ink on light, grey paper, in five styles: ``small`` (the digit 14-20 px
tall on a 32 px page, as on an envelope scan), ``large`` (100-160 px on a 200 px page), ``thick``
(strokes grown 2-4 px at 120 px), ``thin`` (the digit's own pen trace, de Jong's, drawn with a 1.5-3 px pen at
100-140 px) and ``noisy`` (blurred,
with paper grain and JPEG artefacts) - and saved as files, then classified by the command itself
(``mnist-desk predict --json``). Prints one line per style and one in all::

    scanned-digit accuracy <style> <model>: 0.xxxx
    scanned-digit accuracy <model>: 0.xxxx

Usage::

    python benchmarks/scanned_digits.py [--model cnn] [--limit 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup()

from PIL import Image, ImageFilter  # noqa: E402
from scipy import ndimage  # noqa: E402

from mnist_desk import cli  # noqa: E402
from mnist_desk.core import data  # noqa: E402
from mnist_desk.core.strokes import load_mnist_strokes, render_strokes  # noqa: E402

STYLES = ("small", "large", "thick", "thin", "noisy")


def fine_pen(strokes, rng: np.random.Generator) -> np.ndarray:
    """The digit's traced strokes drawn with a fine pen (1.5-3 px for a digit 100-140 px tall): ink in [0, 1]."""
    size = int(rng.integers(100, 141))
    page = render_strokes(strokes, canvas=160, size_frac=size / 160, center=(80.0, 80.0),
                          pen_width=float(rng.uniform(1.5, 3.0)))
    return 1.0 - page.astype(np.float64) / 255.0


def scan_like(digit: np.ndarray, style: str, rng: np.random.Generator, strokes=None) -> Image.Image:
    """One MNIST digit (uint8 28x28, white on black) as a scanned picture of dark ink on light paper.

    ``thin`` draws the digit's traced ``strokes`` (de Jong's trace of the same test image) with a fine pen.
    """
    ink = Image.fromarray(digit)
    if style == "small":
        h, page = int(rng.integers(14, 21)), 32
    elif style == "large":
        h, page = int(rng.integers(100, 161)), 200
    else:
        h, page = 120, 160
    big = np.asarray(ink.resize((h, h), Image.Resampling.BICUBIC), dtype=np.float64) / 255.0
    if style == "thick":
        big = ndimage.grey_dilation(big, size=int(rng.integers(3, 7)))
    if style == "thin":
        canvas = fine_pen(strokes, rng)
    else:
        canvas = np.zeros((page, page))
        r, c = (int(rng.integers(0, page - h + 1)) for _ in range(2))
        canvas[r : r + h, c : c + h] = np.clip(big, 0, 1)
    paper, dark = rng.uniform(200, 250), rng.uniform(10, 80)
    grey = paper - (paper - dark) * canvas
    if style == "noisy":
        grey = ndimage.gaussian_filter(grey, rng.uniform(0.5, 1.5)) + rng.normal(0, 8, grey.shape)
    img = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    if style == "noisy":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(40, 80)))
        img = Image.open(io.BytesIO(buf.getvalue()))
    return img.filter(ImageFilter.SMOOTH) if style == "large" else img


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="cnn", help="model name or .keras path (default: cnn)")
    ap.add_argument("--limit", type=int, default=2000, help="test digits per style (default 2000)")
    args = ap.parse_args(argv)

    ds = data.load_mnist()
    traces = load_mnist_strokes("test")
    rng = np.random.default_rng(7)
    total_right = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for style in STYLES:
            idx = rng.permutation(len(ds.y_test))[: args.limit]
            paths = []
            for i in idx:
                p = Path(tmp) / f"{style}_{i}.png"
                scan_like(ds.x_test[i], style, rng, traces[i][0]).save(p)
                paths.append(str(p))
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                cli.main(["predict", "--model", args.model, "--json", *paths])
            lines = [json.loads(s) for s in out.getvalue().splitlines()]
            digits = np.array([-1 if r.get("digit") is None else r["digit"] for r in lines])
            right = int((digits == ds.y_test[idx]).sum())
            total_right, total = total_right + right, total + len(idx)
            print(f"scanned-digit accuracy {style} {Path(args.model).stem}: {right / len(idx):.4f}", flush=True)
    print(f"scanned-digit accuracy {Path(args.model).stem}: {total_right / total:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
