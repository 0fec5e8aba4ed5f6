"""Drawings that are not digits, as pen strokes: what a model must learn to answer "not a digit" to.

Two sources, both in the stroke layout of :mod:`mnist_desk.core.strokes` (a list of (K,2) arrays, y down):

* Omniglot (``shared/data/omniglot/``): characters of five alphabets, each drawn by 20 people with a
  mouse. Characters a person would read as a digit (Latin o, l, s, z; katakana ロ, ノ, フ; ...) are left
  out: telling a model that an "o" is not a digit would teach it that a round 0 is not one either.
  The alphabets are split: :data:`TRAIN_ALPHABETS` teach, :data:`HELDOUT_ALPHABETS` only measure, so a
  figure on them says how the model does on characters of alphabets it never saw.
* Generated doodles (:func:`random_doodle`): scribbles, hatching, waves, dashes, crosses, stars, grids
  and zigzags, the things people draw to test a digit reader.

No TensorFlow, no Qt.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError
from .strokes import shared_dir

# The training label of a non-digit: an 11th "class" for the loss only (see core.training); models still
# have 10 outputs, and learn to spread them evenly over the digits for a non-digit.
NOT_A_DIGIT = 10

TRAIN_ALPHABETS = ("Japanese_(katakana)", "Latin", "Sanskrit")
HELDOUT_ALPHABETS = ("Greek", "Tagalog")

# Omniglot character folders (characterNN) that look like a digit, per alphabet; looked at one by one.
DIGIT_LIKE = {
    # b (6), g (9), i (1), j (1), l (1), o (0), q (9), s (5), z (2)
    "Latin": {2, 7, 9, 10, 12, 15, 17, 19, 26},
    # beta (8), delta (6/8), zeta (2), theta (0), iota (1), omicron (0), sigma (6/0)
    "Greek": {2, 4, 6, 8, 9, 15, 18},
    # ア (7), ク (7), ノ (1), フ (7), ヨ (3), ラ (7), ロ (0), ワ (7), ヲ (7)
    "Japanese_(katakana)": {1, 8, 24, 27, 37, 38, 42, 43, 46},
    # ट ठ ड ढ (2, 0, 5, 6 shapes), द (2), उ (3)
    "Sanskrit": {11, 12, 13, 14, 18, 37},
    # the 3-like, triangle, 32-like and O-like characters
    "Tagalog": {3, 4, 8, 10, 16},
}

# Bounds for reading the archive: it is ours, but a replaced or damaged file must not exhaust memory.
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 200_000
MAX_POINTS = 5_000


def default_omniglot_path() -> Path:
    return shared_dir() / "data" / "omniglot" / "strokes_background_small2.zip"


def parse_omniglot_drawing(text: str) -> list[np.ndarray]:
    """One Omniglot ``.txt`` drawing (``START``, ``x,y,t`` lines, ``BREAK`` between strokes) -> strokes.

    Omniglot's y grows upward; it is flipped so strokes are in screen coordinates like every other source.
    """
    strokes: list[np.ndarray] = []
    current: list[tuple[float, float]] = []
    n = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line == "START":
            continue
        if line == "BREAK":
            if current:
                strokes.append(np.asarray(current, dtype=np.float64))
            current = []
            continue
        parts = line.split(",")
        if len(parts) < 2:
            raise ValueError(f"not an x,y,t line: {line[:40]!r}")
        current.append((float(parts[0]), -float(parts[1])))
        n += 1
        if n > MAX_POINTS:
            raise ValueError("too many points")
    if current:
        strokes.append(np.asarray(current, dtype=np.float64))
    return [s for s in strokes if np.all(np.isfinite(s))]


def load_omniglot(alphabets=TRAIN_ALPHABETS, path: str | Path | None = None, keep_digit_like: bool = False):
    """Omniglot drawings of ``alphabets`` as ``[(strokes, "Alphabet/characterNN/drawing")]``, sorted by name.

    Digit-like characters (:data:`DIGIT_LIKE`) are left out unless ``keep_digit_like``.
    """
    path = Path(path) if path is not None else default_omniglot_path()
    if not path.is_file():
        raise DataError(path, "no such file (the Omniglot strokes archive)")
    wanted = set(alphabets)
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise DataError(path, f"{len(infos)} files in the archive; at most {MAX_MEMBERS} expected")
            for info in sorted(infos, key=lambda i: i.filename):
                parts = info.filename.split("/")
                if len(parts) != 4 or parts[0].startswith("__") or not parts[3].endswith(".txt"):
                    continue
                alphabet, character = parts[1], parts[2]
                if alphabet not in wanted or not character.startswith("character"):
                    continue
                try:
                    number = int(character[len("character"):])
                except ValueError:
                    continue
                if not keep_digit_like and number in DIGIT_LIKE.get(alphabet, ()):
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise DataError(path, f"{info.filename} is {info.file_size} bytes; a drawing is a few KB")
                try:
                    strokes = parse_omniglot_drawing(zf.read(info).decode("ascii"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise DataError(path, f"{info.filename}: not an Omniglot drawing ({exc})") from None
                if strokes:
                    out.append((strokes, f"{alphabet}/{character}/{parts[3][:-4]}"))
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise DataError(path, f"not a readable zip archive ({exc})") from None
    return out


# ------------------------------------------------------------------------------ generated doodles
DOODLE_KINDS = ("scribble", "hatching", "wave", "dash", "cross", "star", "grid", "zigzag", "letter")

# Capital letters as a person draws them (unit box, y down), one polyline per stroke. Omniglot's Latin
# letters are lower case. Letters that read as digits (B, C, D, G, I, J, O, P, Q, S, U, Y, Z) are left out.
CAPITALS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.75, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.5), (0.7, 0.5)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(0.9, 0), (0, 0.55)], [(0.3, 0.4), (1, 1)]],
    "L": [[(0, 0), (0, 1), (0.8, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "R": [[(0, 1), (0, 0), (0.7, 0), (0.9, 0.12), (0.9, 0.38), (0.7, 0.5), (0, 0.5)], [(0.45, 0.5), (1, 1)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
}


def _polyline(points) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def _densify(points: np.ndarray, n: int = 8) -> np.ndarray:
    """Straight segments sampled as a pen would sample them (so smoothing and rendering treat them alike)."""
    out = [points[0][None]]
    for a, b in zip(points[:-1], points[1:]):
        t = np.linspace(0.0, 1.0, n + 1)[1:, None]
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def random_doodle(rng: np.random.Generator, kind: str | None = None) -> list[np.ndarray]:
    """One generated non-digit drawing in a unit box (y down); ``kind`` picks one of :data:`DOODLE_KINDS`."""
    kind = kind or DOODLE_KINDS[int(rng.integers(len(DOODLE_KINDS)))]
    j = lambda scale=0.03, size=None: rng.normal(0.0, scale, size)  # noqa: E731 - hand tremor
    if kind == "scribble":  # a tangle: a random walk with momentum that turns back on itself
        n = int(rng.integers(40, 120))
        heading, pos, pts = rng.uniform(0, 2 * np.pi), np.zeros(2), []
        for _ in range(n):
            heading += rng.normal(0.0, 0.9)
            pos = np.clip(pos + 0.08 * np.array([np.cos(heading), np.sin(heading)]), -0.5, 0.5)
            pts.append(pos.copy())
        return [_polyline(pts)]
    if kind == "hatching":  # parallel strokes, like shading a patch
        k = int(rng.integers(4, 10))
        angle = rng.uniform(0, np.pi)
        d = np.array([np.cos(angle), np.sin(angle)])
        nrm = np.array([-d[1], d[0]])
        offs = np.linspace(-0.4, 0.4, k)
        return [_densify(_polyline([o * nrm - 0.4 * d + j(size=2), o * nrm + 0.4 * d + j(size=2)])) for o in offs]
    if kind == "wave":  # a wide wavy line (~~~)
        x = np.linspace(-0.5, 0.5, 60)
        cycles = rng.uniform(1.5, 4.0)
        y = rng.uniform(0.06, 0.18) * np.sin(2 * np.pi * cycles * x + rng.uniform(0, 2 * np.pi))
        return [_polyline(np.c_[x, y + j(0.005, len(x))])]
    if kind == "dash":  # a near-horizontal line (a minus sign), once or twice (=)
        ang = np.deg2rad(rng.uniform(-20, 20))
        d = np.array([np.cos(ang), np.sin(ang)]) * 0.5
        lines = [_densify(_polyline([-d, d]))]
        if rng.random() < 0.4:
            lines.append(lines[0] + np.array([j(0.05), rng.uniform(0.15, 0.35)]))
        return lines
    if kind == "cross":  # x or +
        a = rng.uniform(0, np.pi / 2)
        out = []
        for ang in (a, a + np.pi / 2 + j(0.15)):
            d = np.array([np.cos(ang), np.sin(ang)]) * rng.uniform(0.35, 0.5)
            out.append(_densify(_polyline([-d + j(size=2), d + j(size=2)])))
        return out
    if kind == "star":  # an asterisk or a five-pointed star
        if rng.random() < 0.5:
            k = int(rng.integers(3, 5))
            return [_densify(_polyline([-0.45 * np.array([np.cos(t), np.sin(t)]), 0.45 * np.array([np.cos(t), np.sin(t)])]))
                    for t in np.linspace(0, np.pi, k, endpoint=False) + rng.uniform(0, 1)]
        t = np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        return [_densify(_polyline(0.5 * np.c_[np.cos(t), -np.sin(t)] + j(size=(6, 2))))]
    if kind == "letter":  # a capital letter, each corner where the hand put it
        letter = CAPITALS[sorted(CAPITALS)[int(rng.integers(len(CAPITALS)))]]
        width = rng.uniform(0.6, 1.0)
        return [_densify(np.asarray(stroke, dtype=np.float64) * [width, 1.0] + j(0.04, (len(stroke), 2))) for stroke in letter]
    if kind == "grid":  # a hash sign, a box with a cross, a ladder
        lines = []
        for o in (-0.15, 0.15):
            lines.append(_densify(_polyline([[o + j(), -0.45], [o + j(), 0.45]])))
            lines.append(_densify(_polyline([[-0.45, o + j()], [0.45, o + j()]])))
        return lines
    # zigzag: a saw-tooth run of 4-9 sharp turns
    k = int(rng.integers(4, 10))
    x = np.linspace(-0.5, 0.5, k + 1)
    y = np.where(np.arange(k + 1) % 2 == 0, -1.0, 1.0) * rng.uniform(0.1, 0.4)
    # always lying down: a standing zigzag reads as a 3 or a 2
    return [_densify(np.c_[x, y] + j(0.02, (k + 1, 2)))]
