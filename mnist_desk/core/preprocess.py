"""Turning a drawing or a picture into the 28x28 input a network trained on MNIST expects.

MNIST digits were made like this (LeCun et al.): the ink's bounding box was scaled, keeping the
aspect ratio and with anti-aliasing, to fit a 20x20 box, then put in a 28x28 field so that the
ink's centre of mass sits at the centre. Ink is white (1.0) on black (0.0).

:func:`prepare_drawing` follows that recipe, and goes one step further: it also normalises the
stroke width. A person on a canvas may draw a small digit with a fat pen or a big one with a thin
pen; once scaled to 20x20 those look far thicker or thinner than any MNIST digit. The stroke width
is estimated (``2 * ink area / ink perimeter``) and the ink is grown or shrunk with a distance
transform so that, after scaling, it matches MNIST's typical width. Each step can be turned off
(:class:`RecipeSteps`), so that the Lab can show what it is for.

Pure numpy/scipy/Pillow: no TensorFlow, no Qt.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from .errors import EmptyDrawing, ImageError
from .files import require_regular_file

SIDE = 28
CANVAS_SIDE = 280  # the Draw view's square canvas, and the drawings kept with the user's digits
FIT = 20  # the ink's larger side after scaling, as in MNIST
# Where MNIST puts the centre of mass, in continuous coordinates (pixel i spans [i, i+1)).
# Measured on MNIST train: mean (row, col) = (14.50, 14.51), std 0.28, i.e. pixel index 14.0 (MNIST
# shifted by whole pixels to put the centre of mass on pixel (14, 14), not on the field's centre 13.5).
CENTER = 14.5
# MNIST's median stroke width in output pixels (ink's larger side = 20 px), measured with
# estimate_stroke_width() on MNIST train images brought to the working resolution as below:
# percentiles 10/25/50/75/90 = 1.97/2.19/2.50/2.93/3.50.
TARGET_STROKE_WIDTH = 2.5
WORK_SIDE = 80  # the ink's larger side at the working resolution where the width is changed
INK_THRESHOLD = 0.5  # soft ink above this counts as ink for boxes and masks
UPSAMPLED = 2.0  # a picture enlarged more than this for the working resolution gets its edges sharpened
MIN_CONTRAST = 0.1  # less than this between ink and background: nothing drawn
MIN_INK_PIXELS = 8
DOT_RATIO = 2.5  # ink extent / stroke width below this is a dot, not a digit
MIN_EXTENT_FRAC = 0.03
MAX_IMAGE_PIXELS = 50_000_000  # pictures above this are refused (decompression bombs)
# Only these formats are opened: Pillow would otherwise pick a plugin by content, whatever the name,
# and its EPS plugin hands the file to Ghostscript (a PostScript interpreter: code from the file runs).
# (Phone photos that Pillow calls MPO open through the JPEG plugin.)
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
MAX_IMAGE_SIDE = 2048  # larger pictures are shrunk on loading (a digit needs no more; bounds the float copies)
MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024
MAX_JPEG_SCANS = 100


# ------------------------------------------------------------------------------ small helpers
def to_grey(image: np.ndarray) -> np.ndarray:
    """Any 2-D grey or (H,W,3/4) RGB(A) array -> float64 (H,W) in [0,1] (1 = white).

    Integer images are read as 0-255 (uint8) or 0-65535 (uint16 and wider, if values go above 255);
    floats above 1 are read as 0-255. Transparent pixels of RGBA become the background: they are
    composited onto the grey level opposite to the opaque pixels' mean, so black ink on a
    transparent background reads as black on white, and white ink as white on black.
    """
    a = np.asarray(image)
    if a.dtype == bool:
        a = a.astype(np.float64)
    if not (np.issubdtype(a.dtype, np.number)):
        raise ValueError(f"image of type {a.dtype} is not numeric")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"image has shape {a.shape}; expected (H,W), (H,W,3) or (H,W,4)")
    if np.issubdtype(a.dtype, np.integer):
        hi = float(a.max()) if a.size else 0.0
        scale = 255.0 if (a.dtype == np.uint8 or hi <= 255) else 65535.0
        f = a.astype(np.float64) / scale
    else:
        f = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        if f.size and f.max() > 1.0:
            f = f / 255.0
    f = np.clip(f, 0.0, 1.0)
    if f.ndim == 2:
        return f
    grey = f[..., :3] @ np.array([0.299, 0.587, 0.114])
    if f.shape[2] == 4:
        alpha = f[..., 3]
        opaque = alpha > 0.5
        if opaque.any() and not opaque.all():
            backdrop = 1.0 if grey[opaque].mean() < 0.5 else 0.0
            grey = grey * alpha + backdrop * (1.0 - alpha)
    return grey


def ink_from_grey(grey: np.ndarray) -> np.ndarray:
    """Grey [0,1] -> soft ink [0,1] (1 = full ink), whatever the polarity.

    The background is the median of the border pixels (the majority value of the whole image if the
    border is inconclusive); ink is whatever differs from it, rescaled so the strongest ink is 1.
    Raises :class:`EmptyDrawing` if nothing stands out from the background.
    """
    g = np.asarray(grey, dtype=np.float64)
    if g.size == 0:
        raise EmptyDrawing()
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    bg = float(np.median(border))
    if abs(bg - 0.5) < 0.1:  # grey border: fall back on the majority value
        bg = float(np.median(g))
    ink = (bg - g) if bg >= 0.5 else (g - bg)
    ink = np.clip(ink, 0.0, None)
    top = float(ink.max())
    if top < MIN_CONTRAST:
        raise EmptyDrawing()
    ink = ink / top
    ink[ink < 0.05] = 0.0  # paper texture, JPEG noise
    return ink


def ink_bounding_box(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """``(row0, row1, col0, col1)`` (ends exclusive) of the pixels above ``threshold``; None if none."""
    mask = np.asarray(ink) > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def center_of_mass(ink: np.ndarray) -> tuple[float, float]:
    """Ink centre of mass ``(row, col)`` in continuous coordinates (pixel i spans [i, i+1))."""
    ink = np.asarray(ink, dtype=np.float64)
    total = ink.sum()
    if total <= 0:
        h, w = ink.shape
        return h / 2, w / 2
    r = (ink.sum(axis=1) * (np.arange(ink.shape[0]) + 0.5)).sum() / total
    c = (ink.sum(axis=0) * (np.arange(ink.shape[1]) + 0.5)).sum() / total
    return float(r), float(c)


def estimate_stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ``2 * area / perimeter`` of the soft ink.

    A stroke of length L and width w has area ~ L*w and perimeter ~ 2L. The area is the summed ink,
    the perimeter the summed gradient magnitude (which measures edge length for anti-aliased ink).
    Returns 0 for no ink.
    """
    ink = np.asarray(ink, dtype=np.float64)
    area = ink.sum()
    if area <= 0:
        return 0.0
    p = np.pad(ink, 1)
    gy = (p[2:, 1:-1] - p[:-2, 1:-1]) / 2
    gx = (p[1:-1, 2:] - p[1:-1, :-2]) / 2
    perimeter = np.hypot(gx, gy).sum()
    return float(2.0 * area / perimeter) if perimeter > 0 else 0.0


def remove_specks(ink: np.ndarray, rel_size: float = 0.02) -> np.ndarray:
    """Zero connected ink blobs smaller than ``rel_size`` of the largest one (noise, dust)."""
    mask = ink > 0.2
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n <= 1:
        return ink
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    small = np.flatnonzero(sizes < max(2.0, rel_size * sizes.max())) + 1
    if small.size == 0:
        return ink
    grown = ndimage.binary_dilation(mask & ~np.isin(labels, small), iterations=2)
    return np.where(grown, ink, 0.0)


def change_stroke_width(ink: np.ndarray, delta: float) -> np.ndarray:
    """Grow (``delta`` > 0) or shrink the ink by ``delta`` pixels on each side, softly.

    Uses Euclidean distance transforms of the ink mask, so strokes keep their shape and round ends.
    """
    if abs(delta) < 0.25:
        return ink
    mask = ink > INK_THRESHOLD
    if delta > 0:
        d_out = ndimage.distance_transform_edt(~mask)  # 0 on ink, distance to ink elsewhere
        grown = np.clip(delta + 0.5 - d_out, 0.0, 1.0)
        return np.maximum(ink, grown)
    d_in = ndimage.distance_transform_edt(mask)  # distance to background, inside the ink
    return np.clip(d_in + delta, 0.0, 1.0)


def _resample(ink: np.ndarray, box: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """Area-averaging (anti-aliased) resample of ``box`` = (x0, y0, x1, y1) of ``ink`` to ``size`` = (w, h).

    The box may reach outside the image (outside is no ink).
    """
    h, w = ink.shape
    x0, y0, x1, y1 = box
    pad = int(math.ceil(max(0.0, -x0, -y0, x1 - w, y1 - h))) + 1
    src = np.pad(ink, pad) if pad else ink
    img = Image.fromarray(np.ascontiguousarray(src, dtype=np.float32))
    shrinking = (x1 - x0) > size[0]
    filt = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = img.resize(size, filt, box=(x0 + pad, y0 + pad, x1 + pad, y1 + pad))
    return np.asarray(out, dtype=np.float64)


# --------------------------------------------------------------------------------- the recipe
@dataclass(frozen=True)
class RecipeSteps:
    """Which steps of the MNIST recipe :func:`prepare_drawing` takes: all by default.

    The Lab turns them off one at a time to show what each one is for. With every step off the
    result is :func:`plain_resize`'s: the whole picture, box-filtered to 28x28 (for a square picture
    such as the canvas; without the crop the region is a square of the picture's larger side, so
    the recipe keeps a picture's aspect ratio where plain_resize stretches it).
    """

    crop: bool = True  # crop to the ink's bounding box (off: the whole picture is the region)
    fit: bool = True  # the region's larger side to 20 px of the 28 (off: to the whole 28)
    centre: bool = True  # the ink's centre of mass at the field's centre (off: the region's centre there)
    width: bool = True  # normalise the stroke width to MNIST's


STEP_EXPLANATIONS: dict[str, str] = {
    "crop": "MNIST measured each digit by its ink, not by the paper around it, so a digit written small in a "
            "corner and one written large in the middle come out the same.",
    "fit": "MNIST scaled every digit so that its larger side is 20 of the 28 pixels: the networks only ever saw "
           "digits of that size, with a 4-pixel black border left for centring to move them into.",
    "centre": "MNIST moved each digit so that the balance point of its ink sits in the middle of the field; "
              "networks never saw a digit anywhere else, and one that cannot slide (a dense layer) fails on a "
              "digit a few pixels off.",
    "width": "MNIST's writers used pens that end up about 2.5 pixels wide; a drawing made with a fatter or "
             "thinner pen is grown or thinned to that width (this step is the app's, not MNIST's).",
}


@dataclass(frozen=True)
class FieldPlacement:
    """Where :func:`prepare_drawing`'s 28x28 field lies on the image it was made from.

    The prepared pixel (row, col) covers the image's square from (x, y) = (left + col * pixel,
    top + row * pixel), ``pixel`` image pixels on a side. Cropping, rescaling and centring compose to
    this one scale and offset (the stroke-width step changes the ink, not where it is).
    """

    left: float
    top: float
    pixel: float  # image pixels per prepared pixel

    @property
    def side(self) -> float:
        """The field's side in image pixels."""
        return SIDE * self.pixel


def prepare_drawing(
    image: np.ndarray,
    normalize_width: bool = True,
    target_width: float = TARGET_STROKE_WIDTH,
    steps: RecipeSteps = RecipeSteps(),
) -> np.ndarray:
    """A drawing or picture of one digit -> float32 (28, 28) in [0,1], white ink on black, like MNIST.

    ``image`` is 2-D grey or (H,W,3/4) RGB(A), uint8 or float, any size, either polarity. Steps:
    find the background (border) and the ink; drop tiny specks; crop to the ink; rescale so the
    ink's larger side is 80 px; if ``normalize_width``, grow/shrink the strokes so that they will be
    ``target_width`` px wide at 28x28; scale (area-averaged) so the larger side is 20 px; place it
    so that the centre of mass is at the centre of the 28x28 field. ``steps`` turns the crop, the
    fit to 20 px, the centring and the width step off one by one (``normalize_width=False`` is the
    same as ``steps.width`` off). Raises :class:`EmptyDrawing` if there is nothing, or only a dot or
    a few pixels of noise, whichever steps are on.
    """
    return prepare_drawing_placed(image, normalize_width, target_width, steps)[0]


def prepare_drawing_placed(
    image: np.ndarray,
    normalize_width: bool = True,
    target_width: float = TARGET_STROKE_WIDTH,
    steps: RecipeSteps = RecipeSteps(),
) -> tuple[np.ndarray, FieldPlacement]:
    """:func:`prepare_drawing`'s 28x28 image, and where that field lies on ``image`` (to paint over the drawing)."""
    ink, box = _drawing_ink(image)
    if steps.crop:
        r0, r1, c0, c1 = box
        region = _Region((r0 + r1) / 2, (c0 + c1) / 2, max(r1 - r0, c1 - c0))
    else:
        h, w = ink.shape
        region = _Region(h / 2, w / 2, max(h, w))
    out_side = FIT if steps.fit else SIDE
    if steps.width and normalize_width:
        return _place_through_working_copy(ink, region, out_side, steps, target_width)
    return _place_directly(ink, region, out_side, steps.centre)


@dataclass(frozen=True)
class _Region:
    """The square of the picture that the recipe scales into the field: its centre and side, in image pixels."""

    row: float
    col: float
    side: float


def _drawing_ink(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The drawing's ink without specks, and its bounding box; :class:`EmptyDrawing` if it is empty or a dot."""
    try:
        grey = to_grey(image)
    except ValueError as exc:
        raise EmptyDrawing(f"cannot read the drawing: {exc}") from None
    ink = remove_specks(ink_from_grey(grey))
    box = ink_bounding_box(ink)
    if box is None or int((ink > INK_THRESHOLD).sum()) < MIN_INK_PIXELS:
        raise EmptyDrawing("nothing to classify: the drawing holds only a few pixels of ink")
    r0, r1, c0, c1 = box
    extent = max(r1 - r0, c1 - c0)
    width = estimate_stroke_width(ink[max(r0 - 2, 0) : r1 + 2, max(c0 - 2, 0) : c1 + 2])
    # A round dot of diameter D has extent D and estimated width D/2 (ratio 2); a stroke of length
    # L >= w has ratio >= 2.9. Also refuse ink that spans under 3% of the picture (a speck).
    if extent < max(4.0, DOT_RATIO * width, MIN_EXTENT_FRAC * max(ink.shape)):
        raise EmptyDrawing("nothing to classify: the drawing is only a dot")
    return ink, box


def _place_directly(ink: np.ndarray, region: _Region, out_side: int, centre: bool) -> tuple[np.ndarray, FieldPlacement]:
    """The recipe without the width step: one area-averaged resample of the picture into the field.

    (The 80 px working copy is only there for the width step; skipping it saves a second resampling.)
    """
    k = region.side / out_side  # image px per output px
    if centre:
        com_r, com_c = center_of_mass(ink)
        x0, y0 = com_c - CENTER * k, com_r - CENTER * k
    else:
        x0, y0 = region.col - SIDE / 2 * k, region.row - SIDE / 2 * k
    h, w = ink.shape
    if max(abs(x0), abs(y0), abs(x0 + SIDE * k - w), abs(y0 + SIDE * k - h)) < 1e-9:
        out = _shrink_whole(ink)  # the field is the picture: plain_resize's route, to the bit
    else:
        out = _resample(ink, (x0, y0, x0 + SIDE * k, y0 + SIDE * k), (SIDE, SIDE))
    return _finished(out), FieldPlacement(x0, y0, k)


def _place_through_working_copy(
    ink: np.ndarray, region: _Region, out_side: int, steps: RecipeSteps, target_width: float
) -> tuple[np.ndarray, FieldPlacement]:
    """The recipe with the width step, which works on a copy where the region is 80 px (or 112 without the fit)."""
    # 1. the region (with a margin for growing strokes) at the working resolution
    cy, cx, extent = region.row, region.col, region.side
    s = WORK_SIDE * (out_side / FIT) / extent
    margin = extent * 0.25 + 2
    half = extent / 2 + margin
    n = int(round(2 * half * s))
    work_pixel = 2 * half / n  # image pixels per working pixel, after n's rounding
    work = _resample(ink, (cx - half, cy - half, cx + half, cy + half), (n, n))
    work = np.clip(work, 0.0, 1.0)
    top = float(work.max())
    if 0.0 < top < 1.0:  # a hairline shrunk to the working size fades below the ink threshold: full ink again
        work = work / top
    if s > UPSAMPLED:
        # A small picture (an envelope scan, a thumbnail) enlarged s times has edges s px soft, which the
        # width step would keep as a halo: give them back the ~1.5 px ramp of a picture of this size.
        work = np.clip((work - INK_THRESHOLD) * (s / 1.5) + INK_THRESHOLD, 0.0, 1.0)
    fixed_side = None if steps.crop else extent / work_pixel  # the whole picture, in working px

    # 2. stroke width: after the final scaling strokes should be target_width wide
    wb = ink_bounding_box(work)
    if wb is not None:
        w_now = estimate_stroke_width(work)
        t = target_width / out_side
        if fixed_side is None:
            # growing by d per side also grows the box by 2d: solve (w + 2d) = t * (ext + 2d)
            ext_w = max(wb[1] - wb[0], wb[3] - wb[2])
            two_d = (t * ext_w - w_now) / (1.0 - t)
        else:
            two_d = t * fixed_side - w_now
        two_d = max(two_d, -0.7 * w_now)  # never thin a stroke away
        work = change_stroke_width(work, two_d / 2)

    # 3. scale the region's side to out_side px and put the centre of mass (or the region's centre) at the centre
    wb = ink_bounding_box(work)
    if wb is None:
        raise EmptyDrawing()
    if fixed_side is None:
        ext = max(wb[1] - wb[0], wb[3] - wb[2])
        mid_r, mid_c = (wb[0] + wb[1]) / 2, (wb[2] + wb[3]) / 2
    else:
        ext = fixed_side
        mid_r = mid_c = n / 2
    k = ext / out_side  # working px per output px
    if steps.centre:
        com_r, com_c = center_of_mass(work)
        x0, y0 = com_c - CENTER * k, com_r - CENTER * k
    else:
        x0, y0 = mid_c - SIDE / 2 * k, mid_r - SIDE / 2 * k
    out = _resample(work, (x0, y0, x0 + SIDE * k, y0 + SIDE * k), (SIDE, SIDE))
    return _finished(out), FieldPlacement(cx - half + x0 * work_pixel, cy - half + y0 * work_pixel, k * work_pixel)


def _finished(out: np.ndarray) -> np.ndarray:
    """The field as float32 in [0, 1]; :class:`EmptyDrawing` if no ink reached it."""
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    if out.max() <= 0:
        raise EmptyDrawing()
    return out


def _shrink_whole(a: np.ndarray) -> np.ndarray:
    """The whole of ``a``, box-filtered to float32 28x28."""
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32)).resize((SIDE, SIDE), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32)


def plain_resize(image: np.ndarray) -> np.ndarray:
    """The naive baseline: invert to white-on-black and resize the whole canvas to 28x28."""
    grey = to_grey(image)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) >= 0.5:
        grey = 1.0 - grey
    return np.clip(_shrink_whole(grey), 0.0, 1.0)


# ------------------------------------------------------------------------------- image files
def load_image_file(path: str | Path) -> np.ndarray:
    """A PNG/JPEG/BMP/GIF/TIFF/... file -> float64 (H, W) grey in [0, 1] (1 = white).

    Pictures larger than 2048 px on a side are shrunk to fit 2048x2048; only PNG, JPEG, BMP, GIF,
    TIFF and WebP files are opened (never by a plugin that runs an interpreter, like EPS).
    Transparent pixels become background (see :func:`to_grey`). Any failure raises
    :class:`ImageError` naming the file: missing, a folder, not an image, truncated or corrupt, or
    larger than 50 megapixels (decompression bombs).
    """
    path = Path(path)
    require_regular_file(path, ImageError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            try:
                if path.stat().st_size > MAX_IMAGE_FILE_BYTES:
                    raise ImageError(path, f"file is larger than {MAX_IMAGE_FILE_BYTES // 2**20} MB; not a picture of a digit")
                # From memory: a forged length field then cannot make Pillow's fp.read(n) allocate n bytes.
                raw = path.read_bytes()
                if raw[:3] == b"\xff\xd8\xff":
                    # Decoding time grows with a progressive JPEG's scan count, which nothing else bounds. A scan
                    # starts with the SOS marker FFDA, which entropy-coded data cannot contain (FF is stuffed as FF00).
                    scans = raw.count(b"\xff\xda")
                    if scans > MAX_JPEG_SCANS:
                        raise ImageError(path, f"JPEG picture has {scans:,} scans; a photo has at most a few dozen "
                                               f"(over {MAX_JPEG_SCANS} would take long to decode)")
                data = io.BytesIO(raw)
                Image.init()
                with Image.open(data, formats=[f for f in IMAGE_FORMATS if f in Image.OPEN]) as im:
                    w, h = im.size
                    if w * h > MAX_IMAGE_PIXELS:
                        raise ImageError(path, f"picture is {w}x{h} pixels; more than the {MAX_IMAGE_PIXELS:,} allowed")
                    if w == 0 or h == 0:
                        raise ImageError(path, "picture has no pixels")
                    im.seek(0)
                    im = ImageOps.exif_transpose(im)
                    if max(im.size) > MAX_IMAGE_SIDE:
                        im.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
                    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
                    if has_alpha:
                        arr = np.asarray(im.convert("RGBA"))
                    elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
                        a = np.asarray(im, dtype=np.float64)
                        top = 65535.0 if a.max() > 255 else 255.0
                        arr = np.clip(a / top, 0, 1)
                    else:
                        arr = np.asarray(im.convert("L"))
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(path, f"picture is too large to open safely ({exc})") from None
    except PermissionError:
        raise ImageError(path, "permission denied") from None
    except Image.UnidentifiedImageError:
        raise ImageError(path, "not an image file, or a kind of picture the app cannot read (PNG, JPEG, BMP, GIF or TIFF can be opened)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(path, f"image is truncated or corrupt ({exc})") from None
    except MemoryError:
        raise ImageError(path, "not enough memory to open this picture") from None
    return to_grey(arr)
