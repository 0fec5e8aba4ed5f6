"""The MNIST recipe's steps turned off one by one (RecipeSteps), as the Lab does: no display, no TensorFlow."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.errors import EmptyDrawing
from mnist_desk.core.preprocess import (
    CENTER,
    STEP_EXPLANATIONS,
    RecipeSteps,
    _resample,
    center_of_mass,
    estimate_stroke_width,
    ink_bounding_box,
    ink_from_grey,
    plain_resize,
    prepare_drawing,
    prepare_drawing_placed,
    to_grey,
)
from tests.pen_drawings import DRAWINGS, SEVEN, pen_drawing

ALL_OFF = RecipeSteps(crop=False, fit=False, centre=False, width=False)
EVERY_COMBINATION = [RecipeSteps(*flags) for flags in itertools.product((True, False), repeat=4)]
STEP_NAMES = [f.name for f in dataclasses.fields(RecipeSteps)]

# sha256 of prepare_drawing's float32 bytes for DRAWINGS, computed before RecipeSteps existed
CHECKSUMS = {
    "small": "860f8efd521efc85b28d17b77a5100bb4efc1a86499a239744bd0321338ece10",
    "large": "7c4264cef37d3188300f4f62498d31095d652f9f497159d2aae06dfd61fc5135",
    "thick": "ff7582c2bb552926cead432eaee8db673b792d7c1483c18f1dba9e350bc0e2c5",
    "thin": "8e9bad10052cbdd023cc2d8236fcfba8e41ea4e5115063acc7b6df0cd038440a",
    "off_centre": "b8cce431bd8c702138e41ec75f05ce42b37c61045d4fa15f5fcae9026c9b67c8",
}


def checksum(x: np.ndarray) -> str:
    assert x.dtype == np.float32 and x.shape == (28, 28)
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def one_off(name: str) -> RecipeSteps:
    return dataclasses.replace(RecipeSteps(), **{name: False})


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_all_steps_on_is_bitwise_the_recipe_as_it_was(name):
    assert checksum(prepare_drawing(DRAWINGS[name])) == CHECKSUMS[name]
    assert checksum(prepare_drawing(DRAWINGS[name], steps=RecipeSteps())) == CHECKSUMS[name]
    assert checksum(prepare_drawing_placed(DRAWINGS[name], steps=RecipeSteps())[0]) == CHECKSUMS[name]


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_all_steps_off_is_the_plain_resize(name):
    img = DRAWINGS[name]
    assert set(np.unique(img)) == {0, 255}  # ink exactly 0/1 on white
    assert np.array_equal(prepare_drawing(img, steps=ALL_OFF), plain_resize(img))
    grey = img / 255.0  # as floats too
    assert np.array_equal(prepare_drawing(grey, steps=ALL_OFF), plain_resize(grey))


def test_each_step_off_gives_a_different_sensible_picture():
    img = pen_drawing(SEVEN, 90, centre=(80, 190), pen=22)  # off-centre, small, thick
    on = prepare_drawing(img)
    r0, r1, c0, c1 = ink_bounding_box(on)
    extent_on = max(r1 - r0, c1 - c0)
    off = {name: prepare_drawing(img, steps=one_off(name)) for name in STEP_NAMES}
    for name, x in off.items():
        assert x.shape == (28, 28) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0, name
        assert x.max() > 0.9, name
        assert np.abs(x - on).max() > 0.5, f"turning {name} off changed nothing"
        # the other steps still did their work (without the fit, ink the field cuts off moves the centre)
        if name in ("crop", "width"):
            assert np.allclose(center_of_mass(x), CENTER, atol=0.5), name
    # crop off: the region is the whole canvas, so the 90 px digit is shrunk with it (to about 20 * 90/280 px)
    r0, r1, c0, c1 = ink_bounding_box(off["crop"])
    assert max(r1 - r0, c1 - c0) < 0.5 * extent_on
    # fit off: the digit fills the whole field instead of 20 px of it
    r0, r1, c0, c1 = ink_bounding_box(off["fit"], 0.2)
    assert max(r1 - r0, c1 - c0) >= 26
    # centre off: the middle of the ink's box is at the field's centre, not its centre of mass
    r0, r1, c0, c1 = ink_bounding_box(off["centre"], 0.05)
    assert abs((r0 + r1) / 2 - 14) <= 1 and abs((c0 + c1) / 2 - 14) <= 1
    assert np.abs(np.subtract(center_of_mass(off["centre"]), center_of_mass(on))).max() > 1.5
    # width off: the 22 px pen on a 90 px digit stays far thicker than MNIST's ~2.5 px
    # (measured at 28x28: ~3.1 with the step, ~4.6 without)
    assert estimate_stroke_width(off["width"]) - 2.5 > abs(estimate_stroke_width(on) - 2.5) + 1.0


def test_the_width_step_reaches_mnist_s_width_without_the_crop_too():
    # a digit drawn large with a 3 px pen and with a 24 px pen: the whole canvas is shrunk to 20 px, so
    # the strokes would be ~0.2 and ~1.7 px wide; the width step makes them both MNIST's again
    thin, fat = (pen_drawing(SEVEN, 220, pen=pen) for pen in (3, 24))
    no_crop = RecipeSteps(crop=False)
    with_width = [prepare_drawing(img, steps=no_crop).sum() for img in (thin, fat)]
    without = [prepare_drawing(img, steps=dataclasses.replace(no_crop, width=False)).sum() for img in (thin, fat)]
    assert without[1] > 4 * without[0]
    assert abs(with_width[1] - with_width[0]) < 0.2 * with_width[1]


def test_normalize_width_false_is_the_width_step_off():
    for img in DRAWINGS.values():
        assert np.array_equal(prepare_drawing(img, normalize_width=False), prepare_drawing(img, steps=one_off("width")))


@pytest.mark.parametrize("steps", [s for s in EVERY_COMBINATION if not s.width], ids=str)
def test_placement_maps_the_field_back_onto_the_drawing_without_the_width_step(steps):
    img = DRAWINGS["off_centre"]
    x, field = prepare_drawing_placed(img, steps=steps)
    ink = ink_from_grey(to_grey(img))
    direct = _resample(ink, (field.left, field.top, field.left + field.side, field.top + field.side), (28, 28))
    # the picture is sampled once, through the placement (a quarter pixel off breaks this bound)
    assert np.abs(direct - x).max() < 1e-5


@pytest.mark.parametrize("steps", [s for s in EVERY_COMBINATION if s.width], ids=str)
def test_placement_follows_the_ink_with_the_width_step(steps):
    img = DRAWINGS["off_centre"]
    x, field = prepare_drawing_placed(img, steps=steps)
    # the width step grows strokes on both sides, so the ink's centre of mass stays where it was drawn
    r, c = center_of_mass(x)
    mapped = (field.top + r * field.pixel, field.left + c * field.pixel)
    assert np.abs(np.subtract(mapped, center_of_mass(ink_from_grey(to_grey(img))))).max() < 0.5 * field.pixel


def _nothing_drawings():
    blank = np.full((280, 280), 255, np.uint8)
    dot = Image.fromarray(blank.copy())
    ImageDraw.Draw(dot).ellipse((130, 130, 146, 146), fill=0)
    specks = blank.copy()
    rng = np.random.default_rng(0)
    specks[rng.integers(0, 280, 5), rng.integers(0, 280, 5)] = 0
    faint = blank.copy()
    faint[100:200, 138:142] = 250
    return {"blank": blank, "dot": np.asarray(dot), "specks": specks, "faint": faint, "no pixels": np.zeros((0, 0))}


@pytest.mark.parametrize("steps", EVERY_COMBINATION, ids=str)
def test_empty_and_dot_drawings_raise_with_every_combination(steps):
    for name, img in _nothing_drawings().items():
        with pytest.raises(EmptyDrawing):
            prepare_drawing(img, steps=steps)
            pytest.fail(f"{name} was prepared")


def test_every_step_has_a_one_line_explanation():
    assert sorted(STEP_EXPLANATIONS) == sorted(STEP_NAMES)
    for name, text in STEP_EXPLANATIONS.items():
        assert text.strip() and "\n" not in text and len(text) < 300, name
