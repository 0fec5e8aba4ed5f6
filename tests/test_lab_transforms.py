"""The Lab's perturbations and sweeps, on synthetic drawings and the shipped models (numpy forward passes)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core.errors import Cancelled, EmptyDrawing
from mnist_desk.core.lab import transforms
from mnist_desk.core.lab.transforms import (
    AFTER,
    BEFORE,
    SLIDERS,
    Perturbation,
    model_input,
    perturb_canvas,
    perturb_field,
    shift_tolerance,
    slider_values,
    sweep,
)
from mnist_desk.core.numpy_net import NumpyNet
from mnist_desk.core.paths import SHIPPED_MODELS_DIR
from mnist_desk.core.preprocess import (
    RecipeSteps,
    center_of_mass,
    ink_bounding_box,
    prepare_drawing,
)
from tests.pen_drawings import ONE, TWO, pen_drawing


@pytest.fixture(scope="module")
def shipped():
    return {arch: NumpyNet.from_keras_file(SHIPPED_MODELS_DIR / f"{arch}.keras") for arch in ("cnn", "mlp", "linear")}


@pytest.fixture(scope="module")
def two():
    """A "2" in the middle of the canvas, as the Draw view gives it: grey floats, 1 = paper."""
    return pen_drawing(TWO, 110) / 255.0


def test_sliders_are_the_lab_s_ranges_and_neutral_changes_nothing():
    ranges = {name: (s.lo, s.hi, s.neutral) for name, s in SLIDERS.items()}
    assert ranges == {"shift_x": (-8, 8, 0), "shift_y": (-8, 8, 0), "rotation": (-90, 90, 0), "scale": (0.5, 1.6, 1),
                      "stroke": (-1.5, 2.5, 0), "noise": (0, 0.6, 0), "block": (0, 14, 0)}
    for name, s in SLIDERS.items():
        assert s.name == name and s.label and s.unit
        p = Perturbation().with_value(name, s.neutral)
        assert p.is_neutral and p.value(name) == s.neutral
        moved = Perturbation().with_value(name, s.hi)
        assert not moved.is_neutral and moved.value(name) == s.hi
        values = slider_values(name)
        assert len(values) == 33 and values[0] == s.lo and values[-1] == s.hi and s.neutral in values
        assert np.all(np.diff(values) > 0)
    with pytest.raises(ValueError):
        Perturbation().with_value("colour", 1.0)


def test_the_block_slider_sets_the_side_and_keeps_the_place():
    assert Perturbation().with_value("block", 6).block == (14.0, 14.0, 6.0)  # the field centre
    assert Perturbation(block=(8.0, 20.0, 3.0)).with_value("block", 6).block == (8.0, 20.0, 6.0)


def test_the_neutral_perturbation_returns_the_field_unchanged(two):
    x = prepare_drawing(two)
    out = perturb_field(x, Perturbation())
    assert out.dtype == np.float32 and np.array_equal(out, x) and out is not x
    assert np.array_equal(perturb_field(x, Perturbation(block=(5.0, 5.0, 0.0))), x)
    assert np.array_equal(perturb_canvas(two, Perturbation()), two)
    assert np.array_equal(model_input(two, Perturbation(), BEFORE), x)
    assert np.array_equal(model_input(two, Perturbation(), AFTER), x)


@pytest.mark.parametrize("where", [BEFORE, AFTER])
@pytest.mark.parametrize("slider", ["shift_x", "scale", "noise", "stroke"])
def test_the_sweep_at_the_neutral_position_is_the_unswept_prediction(shipped, two, where, slider):
    nets = list(shipped.values())
    x = model_input(two, Perturbation(), where)
    # the drawn class saturates near 1.0, where rounding hides; the runner-up keeps every bit
    runner_up = int(np.argsort(shipped["mlp"].predict(x)[0])[-2])
    for klass in (2, runner_up):
        result = sweep(nets, two, Perturbation(), slider, where, klass=klass)
        assert result.probs.shape == (3, 33) and result.slider == slider and result.klass == klass
        neutral = int(np.flatnonzero(result.values == SLIDERS[slider].neutral)[0])
        for j, net in enumerate(nets):
            assert result.probs[j, neutral] == net.predict(x)[0, klass]  # bitwise: the number the Draw view shows
        # and every other position is what the model says about model_input there
        for i in (0, 7, 25, 32):
            p = Perturbation().with_value(slider, result.values[i])
            try:
                xi = model_input(two, p, where)
            except EmptyDrawing:
                assert np.isnan(result.probs[:, i]).all()
                continue
            for j, net in enumerate(nets):
                assert result.probs[j, i] == pytest.approx(net.predict(xi)[0, klass], abs=1e-5)


def test_a_shift_moves_the_centre_of_mass_by_the_shift(two):
    x = prepare_drawing(two)
    r, c = center_of_mass(x)
    for dx, dy in ((3, 0), (0, -2), (-2.5, 1.5)):
        moved = perturb_field(x, Perturbation(shift_x=dx, shift_y=dy))
        assert np.isclose(moved.sum(), x.sum(), rtol=1e-4)  # nothing left the field
        r2, c2 = center_of_mass(moved)
        assert (r2 - r, c2 - c) == pytest.approx((dy, dx), abs=0.02)
    # before preprocessing the same distance on the canvas: 10 canvas px per field px
    canvas_ink = 1.0 - two
    moved = 1.0 - perturb_canvas(two, Perturbation(shift_x=3, shift_y=-2))
    assert np.subtract(center_of_mass(moved), center_of_mass(canvas_ink)) == pytest.approx((-20, 30), abs=0.05)


def test_shifting_before_the_recipe_changes_nothing_shifting_after_changes_the_answer(shipped, two):
    mlp = shipped["mlp"]
    lowest = 1.0
    for slider in ("shift_x", "shift_y"):
        before = sweep([mlp], two, Perturbation(), slider, BEFORE, klass=2)
        after = sweep([mlp], two, Perturbation(), slider, AFTER, klass=2)
        print(f"\n{slider}: mlp's p(2) before the recipe {np.round(before.probs[0, ::4], 3)}, "
              f"after it {np.round(after.probs[0, ::4], 3)}")
        # the recipe crops and centres: the model sees the same digit wherever it was drawn
        assert np.abs(before.probs - before.probs[:, [16]]).max() < 0.01
        assert before.probs.min() > 0.9
        # the dense network never saw a digit away from the centre: a few pixels cost it much of its confidence
        near = np.abs(after.values) <= 4
        assert after.probs[0, near].min() < before.probs.min() - 0.1
        i = np.flatnonzero(near)[np.argmin(after.probs[0, near])]
        if after.probs[0, i] < lowest:
            lowest, worst = after.probs[0, i], Perturbation().with_value(slider, after.values[i])
    assert lowest < 0.5  # and in some direction within 4 pixels its answer
    assert mlp.predict(model_input(two, worst, AFTER))[0].argmax() != 2
    assert mlp.predict(model_input(two, worst, BEFORE))[0].argmax() == 2


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_rotating_a_one_by_90_degrees_makes_a_horizontal_bar(where):
    one = pen_drawing(ONE, 180, pen=14) / 255.0
    r0, r1, c0, c1 = ink_bounding_box(model_input(one, Perturbation(), where))
    assert r1 - r0 >= 15 and c1 - c0 <= 5  # upright
    for angle in (90, -90):
        r0, r1, c0, c1 = ink_bounding_box(model_input(one, Perturbation(rotation=angle), where))
        assert c1 - c0 >= 15 and r1 - r0 <= 5, angle


def test_rotation_is_counter_clockwise_about_the_ink_s_centre():
    tee = np.zeros((28, 28), np.float32)
    tee[13:15, 8:22] = 1.0  # a bar, with a crossbar at its right end
    tee[6:22, 20:22] = 1.0
    turned = perturb_field(tee, Perturbation(rotation=90))
    assert center_of_mass(turned) == pytest.approx(center_of_mass(tee), abs=0.05)
    rows = (turned > 0.5).sum(axis=1)
    assert rows.argmax() < center_of_mass(tee)[0] - 3  # the crossbar went up, not down


def test_scale_is_about_the_ink_s_centre(two):
    x = prepare_drawing(two)
    small = perturb_field(x, Perturbation(scale=0.5))
    assert center_of_mass(small) == pytest.approx(center_of_mass(x), abs=0.2)
    box, small_box = ink_bounding_box(x, 0.3), ink_bounding_box(small, 0.3)
    assert small_box[1] - small_box[0] == pytest.approx((box[1] - box[0]) / 2, abs=1.5)


def test_stroke_grows_and_thins_and_a_drawing_thinned_away_is_nan(shipped, two):
    x = prepare_drawing(two)
    assert perturb_field(x, Perturbation(stroke=1.0)).sum() > 1.3 * x.sum()
    assert perturb_field(x, Perturbation(stroke=-1.0)).sum() < 0.8 * x.sum()
    # before the recipe a 1.5 px thinning is 15 canvas px: more than half of a 12 px pen, nothing left
    with pytest.raises(EmptyDrawing):
        model_input(two, Perturbation(stroke=-1.5), BEFORE)
    result = sweep([shipped["linear"]], two, Perturbation(), "stroke", BEFORE, klass=2)
    assert np.isnan(result.probs[0, 0]) and not np.isnan(result.probs[0, SLIDERS["stroke"].neutral == result.values]).any()


def test_the_block_hides_the_ink_where_it_is_placed(two):
    x = prepare_drawing(two)
    hidden = perturb_field(x, Perturbation().with_value("block", 6))  # centred on the field's centre
    inside = np.zeros((28, 28), bool)
    inside[11:17, 11:17] = True
    assert x[inside].sum() > 3  # there was ink to hide
    assert np.all(hidden[inside] == 0) and np.array_equal(hidden[~inside], x[~inside])
    corner = perturb_field(x, Perturbation(block=(6.0, 8.0, 4.0)))
    assert np.all(corner[4:8, 6:10] == 0) and np.array_equal(corner[8:], x[8:])
    # on the canvas the block is paper, 10 canvas px per field px
    covered = perturb_canvas(two, Perturbation().with_value("block", 6))
    assert np.all(covered[110:170, 110:170] == 1.0) and (two[110:170, 110:170] < 1).any()
    outside = np.ones_like(two, bool)
    outside[110:170, 110:170] = False
    assert np.array_equal(covered[outside], two[outside])


def test_noise_is_the_same_pattern_scaled_by_the_level(two):
    grey_field = np.full((28, 28), 0.5, np.float32)
    low, high = (perturb_field(grey_field, Perturbation(noise=n)) - 0.5 for n in (0.1, 0.2))
    transforms._noise_pattern.cache_clear()
    assert np.array_equal(low, perturb_field(grey_field, Perturbation(noise=0.1)) - 0.5)  # a fixed seed
    unclipped = np.abs(high) < 0.5
    assert unclipped.mean() > 0.95
    assert np.allclose(high[unclipped], 2 * low[unclipped], atol=1e-6)
    assert low.std() == pytest.approx(0.1, rel=0.15)
    # the same pattern on a drawing: where nothing is clipped, the noise is what was added to the grey field
    x = prepare_drawing(two)
    noisy = perturb_field(x, Perturbation(noise=0.1))
    free = (x > 0.3) & (x < 0.7) & (noisy > 0) & (noisy < 1)
    assert free.sum() > 5 and np.allclose((noisy - x)[free], low[free], atol=1e-6)


def test_a_sweep_can_be_stopped_and_survives_an_empty_canvas(shipped):
    blank = np.ones((280, 280))
    with pytest.raises(Cancelled):
        sweep(list(shipped.values()), blank, Perturbation(), "rotation", AFTER, 3, should_stop=lambda: True)
    result = sweep([shipped["linear"]], blank, Perturbation(), "rotation", AFTER, 3)
    assert result.probs.shape == (1, 33) and np.isnan(result.probs).all()


def test_the_sweep_follows_the_recipe_steps(shipped, two):
    steps = RecipeSteps(centre=False)
    result = sweep([shipped["linear"]], two, Perturbation(), "noise", AFTER, 2, steps=steps)
    x = prepare_drawing(two, steps=steps)
    assert not np.array_equal(x, prepare_drawing(two))
    assert result.probs[0, 0] == shipped["linear"].predict(x)[0, 2]


def test_the_cnn_tolerates_larger_shifts_than_the_mlp(mnist, shipped):
    x, y = mnist.x_test[:200], mnist.y_test[:200]
    tolerance = {arch: shift_tolerance(shipped[arch], x, y) for arch in ("cnn", "mlp")}
    print(f"\nshift tolerance on 200 MNIST test digits: shipped cnn {tolerance['cnn']:.2f} px, "
          f"shipped mlp {tolerance['mlp']:.2f} px")
    assert 0 <= tolerance["mlp"] < tolerance["cnn"] <= 8


def test_shift_tolerance_is_the_largest_shift_kept_in_all_four_directions(mnist, shipped):
    """Checked against shifts made here with np.roll (whole pixels into an empty border)."""
    mlp = shipped["mlp"]
    x, y = mnist.x_test[:12].astype(np.float32) / 255, mnist.y_test[:12]

    def shifted(img, dy, dx):
        out = np.roll(np.pad(img, 8), (dy, dx), axis=(0, 1))
        return out[8:-8, 8:-8]

    expected = []
    for img, label in zip(x, y):
        s = 0
        if mlp.predict(img)[0, label] >= 0.5:
            while s < 8 and all(mlp.predict(shifted(img, dy, dx))[0, label] >= 0.5
                                for dy, dx in ((0, s + 1), (0, -s - 1), (s + 1, 0), (-s - 1, 0))):
                s += 1
        expected.append(s)
    assert shift_tolerance(mlp, x, y) == pytest.approx(np.mean(expected), abs=1e-9)
    assert shift_tolerance(mlp, x, y, max_shift=1) == pytest.approx(np.mean(np.minimum(expected, 1)), abs=1e-9)
