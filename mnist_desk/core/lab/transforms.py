"""Perturbations of a drawing, before or after the MNIST recipe, and the networks' confidence over them.

Every transform works on ink (1 = ink, 0 = none): the 28x28 field already is ink, and a canvas
drawing (grey, 1 = white paper) is turned into ink and back. Distances are in pixels of the 28x28
field; on the canvas they are multiplied by the canvas's side / 28 (10 on the Draw view's 280 px
canvas), the scale at which the whole canvas fills the field.

The transforms run in this order: rotate and scale about the ink's centre of mass, then shift (one
bilinear resampling for all three); grow or thin the strokes; hide the block; add the noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import ndimage

from ..errors import Cancelled, EmptyDrawing
from ..preprocess import (
    SIDE,
    RecipeSteps,
    center_of_mass,
    change_stroke_width,
    prepare_drawing,
    to_grey,
)

BEFORE, AFTER = "before", "after"
FIELD_CENTRE = SIDE / 2  # the block's default place (continuous coordinates: pixel i spans [i, i+1))
NOISE_SEED = 28  # one fixed noise pattern per picture size, so the noise slider only scales it
PREDICT_CHUNK = 128  # images per forward pass in shift_tolerance (a convolution's im2col copy grows with the batch)


@dataclass(frozen=True)
class Perturbation:
    """What is done to a drawing; every field at its default is no change. Distances in field pixels."""

    shift_x: float = 0.0  # pixels of the 28x28 field, + right (before preprocessing: the same distance on the canvas)
    shift_y: float = 0.0  # + down
    rotation: float = 0.0  # degrees, + counter-clockwise, about the ink's centre
    scale: float = 1.0  # about the ink's centre
    stroke: float = 0.0  # pixels of the 28x28 field grown (+) or thinned (-) on each side of a stroke
    noise: float = 0.0  # std of Gaussian pixel noise (a fixed seed: the same noise pattern as the slider moves)
    block: tuple[float, float, float] | None = None  # (row, col, side) in field pixels: a square that hides the ink;
    # (row, col) is the square's centre, so changing the side keeps it in place

    def with_value(self, slider: str, value: float) -> Perturbation:
        """This perturbation with one slider moved; 'block' sets the block's side, keeping its place
        (default place: the field centre)."""
        if slider == "block":
            row, col = self.block[:2] if self.block is not None else (FIELD_CENTRE, FIELD_CENTRE)
            return replace(self, block=(float(row), float(col), float(value)))
        if slider not in SLIDERS:
            raise ValueError(f"no slider {slider!r}; the sliders are {', '.join(SLIDERS)}")
        return replace(self, **{slider: float(value)})

    def value(self, slider: str) -> float:
        """Where this perturbation puts one slider ('block': the block's side, 0 for none)."""
        if slider == "block":
            return 0.0 if self.block is None else float(self.block[2])
        if slider not in SLIDERS:
            raise ValueError(f"no slider {slider!r}; the sliders are {', '.join(SLIDERS)}")
        return float(getattr(self, slider))

    @property
    def is_neutral(self) -> bool:
        """True when it changes nothing (a block of side 0 hides nothing)."""
        return all(self.value(name) == s.neutral for name, s in SLIDERS.items())


@dataclass(frozen=True)
class Slider:
    """One of the Lab's sliders: its range, and the value that changes nothing."""

    name: str
    label: str
    lo: float
    hi: float
    neutral: float
    unit: str


SLIDERS: dict[str, Slider] = {s.name: s for s in (
    Slider("shift_x", "Shift right", -8.0, 8.0, 0.0, "px"),
    Slider("shift_y", "Shift down", -8.0, 8.0, 0.0, "px"),
    Slider("rotation", "Rotate", -90.0, 90.0, 0.0, "°"),
    Slider("scale", "Scale", 0.5, 1.6, 1.0, "×"),
    Slider("stroke", "Stroke width", -1.5, 2.5, 0.0, "px"),
    Slider("noise", "Noise", 0.0, 0.6, 0.0, "σ"),
    Slider("block", "Hidden square", 0.0, 14.0, 0.0, "px"),
)}


def slider_values(slider: str, positions: int = 33) -> np.ndarray:
    """``positions`` evenly spaced values over the slider's range; the one nearest the neutral value is
    made exactly neutral (so every sweep holds the unperturbed drawing)."""
    if positions < 2:
        raise ValueError("a sweep needs at least 2 positions")
    s = SLIDERS[slider]
    values = np.linspace(s.lo, s.hi, positions)
    values[np.argmin(np.abs(values - s.neutral))] = s.neutral
    return values


# ------------------------------------------------------------------------------ the transforms
def perturb_field(x28: np.ndarray, p: Perturbation) -> np.ndarray:
    """The 28x28 field a model sees (white ink on black, [0,1]), perturbed: float32 (28, 28) in [0,1].

    The neutral perturbation returns the same values.
    """
    x = np.asarray(x28, dtype=np.float32)
    if x.shape != (SIDE, SIDE):
        raise ValueError(f"expected a ({SIDE}, {SIDE}) field, got {x.shape}")
    if p.is_neutral:
        return x.copy()
    return _Ink(x.astype(np.float64)).perturbed(p, 1.0, p.block).astype(np.float32)


def perturb_canvas(grey: np.ndarray, p: Perturbation) -> np.ndarray:
    """A canvas drawing (grey (H, W), 1 = white paper, as the Draw view gives it; uint8 is read as 0-255),
    perturbed: float64 (H, W) in [0, 1]. Field pixels become canvas pixels by the canvas's side / 28."""
    return _Canvas(grey).perturbed(p)


def model_input(grey: np.ndarray, p: Perturbation, where: str, steps: RecipeSteps = RecipeSteps()) -> np.ndarray:
    """What the model sees: the canvas drawing perturbed, then prepared (BEFORE), or prepared, then
    perturbed (AFTER). Raises :class:`EmptyDrawing` when the recipe finds nothing to classify."""
    if where == BEFORE:
        return prepare_drawing(perturb_canvas(grey, p), steps=steps)
    if where == AFTER:
        return perturb_field(prepare_drawing(grey, steps=steps), p)
    raise ValueError(f"where must be {BEFORE!r} or {AFTER!r}, not {where!r}")


class _Ink:
    """Ink (1 = ink) with its centre of mass and extent, which every perturbation of it needs: worked out
    once per picture (a sweep before the recipe perturbs the same canvas at every position)."""

    def __init__(self, ink: np.ndarray):
        self.ink = ink
        self.centre = np.array(center_of_mass(ink)) - 0.5  # in index coordinates, as ndimage counts
        self.support = _support(ink)

    def perturbed(self, p: Perturbation, px: float, block: tuple[float, float, float] | None) -> np.ndarray:
        """``p`` applied with ``px`` of this picture's pixels per field pixel; ``block`` in this picture's pixels."""
        out = self._moved(p, px)
        if p.stroke != 0:
            delta = p.stroke * px
            out = _on_support(out, lambda a: change_stroke_width(a, delta), math.ceil(max(delta, 0.0)) + 2)
        if block is not None and block[2] > 0:
            out = out * (1.0 - _square_coverage(out.shape, *block))
        if p.noise != 0:
            out = out + p.noise * _noise_pattern(out.shape)
        return np.clip(out, 0.0, 1.0)

    def _moved(self, p: Perturbation, px: float) -> np.ndarray:
        if p.rotation == 0 and p.scale == 1 and p.shift_x == 0 and p.shift_y == 0:
            return self.ink
        if not p.scale > 0:
            raise ValueError(f"scale must be positive, not {p.scale}")
        a = math.radians(p.rotation)
        # (row, col) with rows growing downwards: counter-clockwise on screen takes a point right of
        # the centre upwards
        forward = p.scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        inverse = np.linalg.inv(forward)
        c = self.centre
        t = np.array([p.shift_y, p.shift_x]) * px
        out = np.zeros_like(self.ink)
        if self.support is None:
            return out
        # Only the window the ink can land in is computed (a canvas is mostly paper): the same values
        r0, r1, c0, c1 = self.support
        corners = np.array([[r, q] for r in (r0 - 1, r1) for q in (c0 - 1, c1)], dtype=np.float64)
        landed = (corners - c) @ forward.T + c + t
        h, w = self.ink.shape
        lo = np.maximum(np.floor(landed.min(axis=0)).astype(int) - 1, 0)
        hi = np.minimum(np.ceil(landed.max(axis=0)).astype(int) + 2, (h, w))
        if np.any(hi <= lo):
            return out  # moved off the picture
        offset = c - inverse @ (c + t) + inverse @ lo
        out[lo[0] : hi[0], lo[1] : hi[1]] = ndimage.affine_transform(
            self.ink, inverse, offset=offset, output_shape=tuple(hi - lo), order=1, mode="grid-constant", cval=0.0)
        return out


class _Canvas:
    """A canvas drawing as ink, ready to be perturbed (once per sweep, not per position)."""

    def __init__(self, grey: np.ndarray):
        self.grey = to_grey(grey)
        if self.grey.ndim != 2:
            raise ValueError(f"expected a grey (H, W) drawing, got shape {self.grey.shape}")
        h, w = self.grey.shape
        self.px = max(h, w) / SIDE  # canvas px per field px: the scale at which the whole canvas fills the field
        self.origin = np.array([h / 2, w / 2]) - FIELD_CENTRE * self.px  # where the field's (0, 0) lies
        self._ink: _Ink | None = None

    def perturbed(self, p: Perturbation) -> np.ndarray:
        if p.is_neutral:
            return self.grey.copy()
        if self._ink is None:
            self._ink = _Ink(1.0 - self.grey)
        block = None
        if p.block is not None:
            row, col, side = p.block
            block = (self.origin[0] + row * self.px, self.origin[1] + col * self.px, side * self.px)
        return 1.0 - self._ink.perturbed(p, self.px, block)


def _support(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(row0, row1, col0, col1)`` (ends exclusive) of every pixel with any ink; None if none."""
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _on_support(ink: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], pad: int) -> np.ndarray:
    """``fn`` applied to the window around the ink (``pad`` px wider), zeros elsewhere.

    Exact for a change of stroke width by at most ``pad - 2`` px: ink cannot grow further, and the
    nearest background of any ink pixel is never farther than the window's (empty) rim.
    """
    box = _support(ink)
    if box is None:
        return ink
    h, w = ink.shape
    r0, r1, c0, c1 = max(box[0] - pad, 0), min(box[1] + pad, h), max(box[2] - pad, 0), min(box[3] + pad, w)
    out = np.zeros_like(ink)
    out[r0:r1, c0:c1] = fn(ink[r0:r1, c0:c1])
    return out


def _square_coverage(shape: tuple[int, int], row: float, col: float, side: float) -> np.ndarray:
    """How much of each pixel the square of ``side`` centred at (row, col) covers, 0..1 (so a block
    sliding by a fraction of a pixel changes the picture by a fraction)."""

    def overlap(n: int, centre: float) -> np.ndarray:
        i = np.arange(n)
        return np.clip(np.minimum(i + 1, centre + side / 2) - np.maximum(i, centre - side / 2), 0.0, 1.0)

    return np.outer(overlap(shape[0], row), overlap(shape[1], col))


@lru_cache(maxsize=4)
def _noise_pattern(shape: tuple[int, int]) -> np.ndarray:
    pattern = np.random.default_rng(NOISE_SEED).standard_normal(shape)
    pattern.flags.writeable = False
    return pattern


# ------------------------------------------------------------------------------------- sweeps
@dataclass
class Sweep:
    """Each model's probability of ``klass`` as one slider moves over its range."""

    slider: str
    values: np.ndarray  # (positions,)
    probs: np.ndarray  # (n_models, positions): each model's probability of `klass`; NaN where the
    # perturbed drawing became empty (EmptyDrawing)
    klass: int


def sweep(nets: list, grey: np.ndarray, p: Perturbation, slider: str, where: str, klass: int,
          steps: RecipeSteps = RecipeSteps(), positions: int = 33, should_stop=None) -> Sweep:
    """Every value of one slider over its whole range (:func:`slider_values`), the other settings of
    ``p`` kept: each net's probability of ``klass`` for :func:`model_input` at each position.

    All positions go through each net in one batch; the neutral position is also predicted on its
    own, as the rest of the app predicts one drawing, and that value is kept: a batch is summed in
    another order by BLAS (~1e-7 apart), and the curve should pass through the number shown
    elsewhere. ``should_stop()`` is checked between positions and nets; it raises
    :class:`~mnist_desk.core.errors.Cancelled`.
    """
    if where not in (BEFORE, AFTER):
        raise ValueError(f"where must be {BEFORE!r} or {AFTER!r}, not {where!r}")
    values = slider_values(slider, positions)
    inputs = np.zeros((positions, SIDE, SIDE), np.float32)
    empty = np.zeros(positions, bool)
    if where == AFTER:
        try:
            field = prepare_drawing(grey, steps=steps)
        except EmptyDrawing:
            field = None
            empty[:] = True
        for i, v in enumerate(values):
            _check(should_stop)
            if field is not None:
                inputs[i] = perturb_field(field, p.with_value(slider, v))
    else:
        canvas = _Canvas(grey)
        for i, v in enumerate(values):
            _check(should_stop)
            try:
                inputs[i] = prepare_drawing(canvas.perturbed(p.with_value(slider, v)), steps=steps)
            except EmptyDrawing:
                empty[i] = True
    neutral = int(np.flatnonzero(values == SLIDERS[slider].neutral)[0])
    probs = np.full((len(nets), positions), np.nan)
    for j, net in enumerate(nets):
        _check(should_stop)
        if not empty.all():
            probs[j, ~empty] = net.predict(inputs[~empty])[:, klass]
        if not empty[neutral]:
            probs[j, neutral] = net.predict(inputs[neutral])[0, klass]
    return Sweep(slider, values, probs, klass)


def shift_tolerance(net, images28: np.ndarray, labels: np.ndarray, max_shift: int = 8, *,
                    on_progress=None, should_stop=None) -> float:
    """How far the 28x28 digits can be moved before ``net`` loses them, averaged over the digits.

    For each image: the largest whole-pixel shift s (applied in each of the 4 directions, after
    preprocessing) such that the true class keeps probability >= 0.5 for every shift up to s in all
    4 directions (0 for a digit it does not recognise unshifted). ``images28``: (N, 28, 28) floats in
    [0, 1], or uint8 0-255 as MNIST is stored. Progress goes from 0 to 1 over the shifts;
    ``should_stop()`` is checked between forward passes and raises :class:`Cancelled`.
    """
    x = np.asarray(images28)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    labels = np.asarray(labels).astype(int)
    if x.ndim != 3 or x.shape[1:] != (SIDE, SIDE) or len(labels) != len(x):
        raise ValueError(f"expected (N, {SIDE}, {SIDE}) images and N labels, got {x.shape} and {labels.shape}")
    if len(x) == 0:
        raise ValueError("no images")
    tolerance = np.zeros(len(x), int)
    alive = _true_class_prob(net, x, labels, should_stop) >= 0.5
    for s in range(1, max_shift + 1):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        # only the digits that kept their class at every smaller shift are tried: the same answer, sooner
        moves = [Perturbation(shift_x=dx, shift_y=dy) for dy, dx in ((0, s), (0, -s), (s, 0), (-s, 0))]
        batch = np.stack([perturb_field(x[i], m) for i in idx for m in moves])
        held = (_true_class_prob(net, batch, np.repeat(labels[idx], 4), should_stop) >= 0.5).reshape(-1, 4).all(axis=1)
        tolerance[idx[held]] = s
        alive[idx[~held]] = False
        if on_progress is not None:
            on_progress(s / max_shift)
    if on_progress is not None:
        on_progress(1.0)
    return float(tolerance.mean())


def _true_class_prob(net, x: np.ndarray, labels: np.ndarray, should_stop) -> np.ndarray:
    out = np.empty(len(x))
    for a in range(0, len(x), PREDICT_CHUNK):
        _check(should_stop)
        b = a + PREDICT_CHUNK
        out[a:b] = net.predict(x[a:b])[np.arange(len(x[a:b])), labels[a:b]]
    return out


def _check(should_stop) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled()
