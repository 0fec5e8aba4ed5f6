"""prepare_drawing, load_image_file and the stroke renderer (no display, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.errors import EmptyDrawing, ImageError
from mnist_desk.core.preprocess import (
    CENTER,
    center_of_mass,
    estimate_stroke_width,
    ink_bounding_box,
    load_image_file,
    prepare_drawing,
)
from mnist_desk.core.strokes import default_pendigits_path, load_pendigits, random_canvas_params, render_strokes

# a "2"-like polyline in unit coordinates
TWO = [np.array([[0.1, 0.25], [0.3, 0.05], [0.7, 0.05], [0.85, 0.3], [0.6, 0.6], [0.1, 0.95], [0.9, 0.95]])]
SEVEN = [np.array([[0.1, 0.1], [0.9, 0.1], [0.4, 0.95]]), np.array([[0.35, 0.5], [0.75, 0.5]])]


def draw(strokes=TWO, size_frac=0.7, center=(140, 140), pen_width=16):
    return render_strokes(strokes, canvas=280, size_frac=size_frac, center=center, pen_width=pen_width)


def test_output_shape_dtype_range():
    out = prepare_drawing(draw())
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.9
    # white ink on black: the border is background
    assert out[0].max() < 0.05 and out[-1].max() < 0.05 and out[:, 0].max() < 0.05 and out[:, -1].max() < 0.05


def test_fits_20x20_and_centre_of_mass_is_centred():
    out = prepare_drawing(draw(SEVEN, size_frac=0.5, center=(90, 190)))
    r0, r1, c0, c1 = ink_bounding_box(out, 0.5)
    assert max(r1 - r0, c1 - c0) in (19, 20, 21)
    r, c = center_of_mass(out)
    # MNIST puts the centre of mass on pixel (14, 14) (continuous coordinate 14.5)
    assert abs(r - CENTER) < 0.5 and abs(c - CENTER) < 0.5
    # in pixel-index coordinates that is within 0.5 px of the field's centre 13.5 .. 14.0
    assert 13.0 <= r - 0.5 <= 14.5 and 13.0 <= c - 0.5 <= 14.5


@pytest.mark.parametrize("size_frac,center", [(0.4, (80, 90)), (0.9, (140, 140)), (0.55, (190, 170))])
def test_shift_and_scale_invariance(size_frac, center):
    ref = prepare_drawing(draw())
    # same pen width relative to the digit, so only position and scale change
    out = prepare_drawing(draw(size_frac=size_frac, center=center, pen_width=16 * size_frac / 0.7))
    assert np.abs(out - ref).mean() < 0.03
    assert np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.95


def test_stroke_width_is_normalised():
    thin = prepare_drawing(draw(size_frac=0.9, pen_width=6))
    fat = prepare_drawing(draw(size_frac=0.4, pen_width=26))
    assert abs(thin.sum() - fat.sum()) / fat.sum() < 0.15
    assert np.corrcoef(thin.ravel(), fat.ravel())[0, 1] > 0.9
    plain_thin = prepare_drawing(draw(size_frac=0.9, pen_width=6), normalize_width=False)
    plain_fat = prepare_drawing(draw(size_frac=0.4, pen_width=26), normalize_width=False)
    assert plain_fat.sum() > 2 * plain_thin.sum()  # without normalisation they differ a lot


def test_placement_maps_the_prepared_field_back_onto_an_off_centre_drawing():
    from mnist_desk.core.preprocess import _resample, ink_from_grey, prepare_drawing_placed, to_grey

    img = draw(size_frac=0.4, center=(75, 190), pen_width=14)
    x, field = prepare_drawing_placed(img, normalize_width=False)  # the width step would change the ink itself
    assert field.left + field.side / 2 < 140 < field.top + field.side / 2  # in the bottom left, as drawn
    # the drawing's ink sampled once through the placement is the prepared image (which went through the
    # 80 px working copy); shifting the field by a quarter of a pixel already breaks the bound here
    direct = _resample(ink_from_grey(to_grey(img)), (field.left, field.top, field.left + field.side,
                                                     field.top + field.side), (28, 28))
    assert np.abs(direct - x).max() < 0.25
    np.testing.assert_array_equal(prepare_drawing_placed(img)[0], prepare_drawing(img))


def test_polarity_and_input_types_give_the_same_result():
    img = draw()
    ref = prepare_drawing(img)
    np.testing.assert_allclose(prepare_drawing(255 - img), ref, atol=1e-5)  # white on black
    np.testing.assert_allclose(prepare_drawing(img.astype(np.float64) / 255), ref, atol=1e-4)
    np.testing.assert_allclose(prepare_drawing(img.astype(np.float32)), ref, atol=1e-4)  # float 0-255
    rgb = np.repeat(img[..., None], 3, axis=2)
    np.testing.assert_allclose(prepare_drawing(rgb), ref, atol=1e-4)
    # black ink on a transparent background
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255 - img
    np.testing.assert_allclose(prepare_drawing(rgba), ref, atol=2e-2)


def test_grey_background_and_low_contrast_ink():
    img = draw().astype(np.float64)
    photo = 200 - (255 - img) * 0.5  # grey paper, grey pencil
    out = prepare_drawing(photo.astype(np.uint8))
    assert np.corrcoef(out.ravel(), prepare_drawing(draw()).ravel())[0, 1] > 0.98


@pytest.mark.parametrize(
    "image",
    [
        np.full((280, 280), 255, np.uint8),  # blank white
        np.zeros((280, 280), np.uint8),  # blank black
        np.full((50, 80), 0.5),  # flat grey
        np.zeros((0, 0)),  # no pixels
    ],
)
def test_empty_drawings_raise(image):
    with pytest.raises(EmptyDrawing):
        prepare_drawing(image)


def test_near_empty_drawings_raise():
    dot = np.full((280, 280), 255, np.uint8)
    im = Image.fromarray(dot)
    ImageDraw.Draw(im).ellipse((130, 130, 146, 146), fill=0)  # one tap of a 16 px pen
    with pytest.raises(EmptyDrawing):
        prepare_drawing(np.asarray(im))
    noise = np.full((280, 280), 255, np.uint8)
    rng = np.random.default_rng(0)
    noise[rng.integers(0, 280, 5), rng.integers(0, 280, 5)] = 0  # a few specks
    with pytest.raises(EmptyDrawing):
        prepare_drawing(noise)
    faint = np.full((280, 280), 255, np.uint8)
    faint[100:200, 138:142] = 250  # hardly visible
    with pytest.raises(EmptyDrawing):
        prepare_drawing(faint)


def test_specks_do_not_move_the_digit():
    img = draw()
    ref = prepare_drawing(img)
    dirty = img.copy()
    dirty[5:7, 5:7] = 0
    dirty[270:272, 10:12] = 0
    np.testing.assert_allclose(prepare_drawing(dirty), ref, atol=1e-4)


def test_a_one_is_not_a_dot():
    out = prepare_drawing(draw([np.array([[0.5, 0.0], [0.5, 1.0]])], size_frac=0.6))
    r0, r1, c0, c1 = ink_bounding_box(out, 0.5)
    assert r1 - r0 >= 19 and c1 - c0 <= 5


def test_mnist_image_passes_through_nearly_unchanged():
    from mnist_desk.core.data import load_mnist

    x = load_mnist().x_test[:20].astype(np.float64) / 255
    corr = [np.corrcoef(prepare_drawing(i, normalize_width=False).ravel(), i.ravel())[0, 1] for i in x]
    assert np.median(corr) > 0.95


def test_estimate_stroke_width():
    for w in (8, 16, 24):
        img = 255 - draw(pen_width=w)
        assert estimate_stroke_width(img / 255.0) == pytest.approx(w, rel=0.2)


# ------------------------------------------------------------------------------ image files
def test_load_png_and_prepare(tmp_path):
    p = tmp_path / "digit.png"
    Image.fromarray(draw()).save(p)
    grey = load_image_file(p)
    assert grey.shape == (280, 280) and grey.min() >= 0 and grey.max() <= 1
    np.testing.assert_allclose(prepare_drawing(grey), prepare_drawing(draw()), atol=1e-4)


def test_load_transparent_png(tmp_path):
    p = tmp_path / "ink.png"
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255 - draw()
    Image.fromarray(rgba, "RGBA").save(p)
    out = prepare_drawing(load_image_file(p))
    assert np.corrcoef(out.ravel(), prepare_drawing(draw()).ravel())[0, 1] > 0.98


def test_load_jpeg_and_bmp(tmp_path):
    for name in ("d.jpg", "d.bmp"):
        p = tmp_path / name
        Image.fromarray(draw()).convert("RGB").save(p)
        out = prepare_drawing(load_image_file(p))
        assert np.corrcoef(out.ravel(), prepare_drawing(draw()).ravel())[0, 1] > 0.97


def test_load_image_errors(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is not a picture at all")
    with pytest.raises(ImageError) as e:
        load_image_file(fake)
    assert "fake.png" in str(e.value)
    with pytest.raises(ImageError, match="no such file"):
        load_image_file(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        load_image_file(tmp_path)
    good = tmp_path / "good.png"
    Image.fromarray(draw()).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ImageError):
        load_image_file(cut)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError):
        load_image_file(empty)


def test_load_refuses_huge_pictures(tmp_path, monkeypatch):
    import mnist_desk.core.preprocess as pre

    p = tmp_path / "big.png"
    Image.new("L", (300, 300), 255).save(p)
    monkeypatch.setattr(pre, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ImageError, match="(?i)large|allowed"):
        load_image_file(p)


# ---------------------------------------------------------------------------------- strokes
def test_render_strokes_shape_and_ink():
    img = draw()
    assert img.shape == (280, 280) and img.dtype == np.uint8
    assert img[0, 0] == 255 and img.min() == 0
    ink = (img < 128).mean()
    assert 0.02 < ink < 0.3
    # anti-aliased: there are grey levels between ink and paper
    assert ((img > 20) & (img < 235)).sum() > 100
    r0, r1, c0, c1 = ink_bounding_box(255 - img, 128)
    assert max(r1 - r0, c1 - c0) == pytest.approx(0.7 * 280 + 16, abs=4)


def test_random_canvas_params_keep_the_digit_inside():
    rng = np.random.default_rng(1)
    for _ in range(50):
        p = random_canvas_params(rng)
        assert 0.4 <= p["size_frac"] <= 0.9 and 8 <= p["pen_width"] <= 24
        img = render_strokes(TWO, **p)
        assert img[0].min() == 255 and img[-1].min() == 255 and img[:, 0].min() == 255 and img[:, -1].min() == 255


@pytest.mark.skipif(not default_pendigits_path().exists(), reason="shared pendigits data not present")
def test_pendigits_render_and_prepare_sanely():
    digits = load_pendigits()
    assert len(digits) == 7494
    rng = np.random.default_rng(0)
    for strokes, label in digits[:30]:
        assert 0 <= label <= 9
        out = prepare_drawing(render_strokes(strokes, rng=rng))
        mass = out.sum()
        assert 40 < mass < 200, mass  # MNIST digits hold ~100 (5th-95th percentile ~55-160)
        r, c = center_of_mass(out)
        assert abs(r - CENTER) < 0.5 and abs(c - CENTER) < 0.5


def test_jpeg_with_thousands_of_scans_is_refused_before_decoding(tmp_path):
    import io

    from PIL import Image

    from mnist_desk.core.errors import ImageError
    from mnist_desk.core.preprocess import load_image_file

    buf = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buf, "JPEG", progressive=True)
    ok = tmp_path / "ok.jpg"
    ok.write_bytes(buf.getvalue())
    assert load_image_file(ok).shape == (64, 64)  # a real progressive JPEG (a handful of scans) opens
    jpeg = buf.getvalue()
    body, eoi = jpeg[:-2], jpeg[-2:]
    scan = body[body.rindex(b"\xff\xda"):]  # repeat the last scan: thousands of scans, as in a decoding bomb
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(body + scan * 3000 + eoi)
    with pytest.raises(ImageError, match="3,00[0-9] scans"):
        load_image_file(bomb)
