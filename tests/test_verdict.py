"""Verdicts and calibration: the rules on plain probabilities, and the shipped default model on real drawings."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core import store
from mnist_desk.core.calibration import expected_calibration_error, fit_temperature, unsure_threshold
from mnist_desk.core.non_digits import DOODLE_KINDS, random_doodle
from mnist_desk.core.verdict import (DIGIT, NOT_A_DIGIT, UNSURE, Thresholds, decide, decide_many,
                                     format_confidence)

from .conftest import SHARED_DATA


def _probs(**mass):
    p = np.full(10, 0.0)
    for k, v in mass.items():
        p[int(k[1:])] = v
    rest = 1.0 - p.sum()
    p[p == 0] = rest / max((p == 0).sum(), 1)
    return p


def test_a_confident_answer_is_a_digit():
    v = decide(_probs(d7=0.97))
    assert (v.kind, v.digit) == (DIGIT, 7)
    assert v.text.startswith("7 (97.0% sure")


def test_two_plausible_digits_are_unsure_and_both_are_named():
    v = decide(_probs(d4=0.45, d9=0.44))
    assert (v.kind, v.digit, v.runner_up) == (UNSURE, 4, 9)
    assert v.text == "4 or 9?"


def test_probability_spread_over_many_digits_is_not_a_digit():
    v = decide(np.full(10, 0.1))
    assert v.kind == NOT_A_DIGIT and v.text == "not a digit"


def test_the_model_threshold_decides_where_unsure_starts():
    p = _probs(d3=0.8, d5=0.15)
    assert decide(p, Thresholds(unsure_below=0.7)).kind == DIGIT
    assert decide(p, Thresholds(unsure_below=0.9)).kind == UNSURE
    assert list(decide_many(np.stack([p, p]), Thresholds(unsure_below=0.9))) == [UNSURE, UNSURE]


def test_unsure_names_the_runner_up_only_when_it_is_plausible():
    v = decide(_probs(d9=0.90, d4=0.02), Thresholds(unsure_below=0.95))
    assert (v.kind, v.digit, v.runner_up, v.text) == (UNSURE, 9, None, "9?")


def test_probabilities_a_broken_model_gives_claim_nothing():
    for p in (np.full(10, np.nan), np.ones(3) / 3, np.zeros(0)):
        v = decide(p)
        assert v.kind == NOT_A_DIGIT and v.digit is None
    assert list(decide_many(np.c_[np.full((2, 10), np.nan)])) == [NOT_A_DIGIT, NOT_A_DIGIT]


def test_decide_and_decide_many_agree():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.full(10, 0.3), 500)
    t = Thresholds(unsure_below=0.8)
    assert [decide(p, t).kind for p in probs] == list(decide_many(probs, t))


def test_thresholds_from_damaged_metadata_fall_back_to_the_defaults():
    for meta in (None, {}, {"calibration": "x"}, {"calibration": {"unsure_below": "0.9"}}, {"calibration": {"unsure_below": 10**400}},
                 {"calibration": {"unsure_below": 7.0}}, {"calibration": {"unsure_below": float("nan")}}):
        assert Thresholds.from_metadata(meta) == Thresholds()
    assert Thresholds.from_metadata({"calibration": {"unsure_below": 0.8}}).unsure_below == 0.8


def test_shown_confidence_is_never_100_percent():
    assert format_confidence(1.0) == "99.9%"
    assert format_confidence(0.99996) == "99.9%"
    assert format_confidence(0.5) == "50.0%"
    assert "100.0" not in decide(np.eye(10)[3]).text


def test_temperature_scaling_fixes_an_overconfident_model():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 4000)
    # logits whose softmax is right 80% of the time but reports ~99% confidence
    right = rng.random(4000) < 0.8
    pred = np.where(right, y, (y + 1 + rng.integers(0, 9, 4000)) % 10)
    logits = rng.normal(0, 1, (4000, 10))
    logits[np.arange(4000), pred] += 9.0
    from scipy.special import softmax

    before = expected_calibration_error(softmax(logits, axis=1), y)
    t = fit_temperature(logits, y)
    after = expected_calibration_error(softmax(logits / t, axis=1), y)
    assert t > 1.5 and before > 0.15 and after < 0.4 * before


def test_unsure_threshold_flags_the_asked_share_of_digits():
    rng = np.random.default_rng(1)
    top = rng.uniform(0.5, 1.0, 1000)
    probs = np.c_[top, 1 - top, np.zeros((1000, 8))]
    t = unsure_threshold(probs, 0.02)
    assert abs((top < t).mean() - 0.02) < 0.005


# ------------------------------------------------------------------------- the shipped default model
@pytest.fixture(scope="module")
def default_model():
    path = store.find_model("cnn")
    return store.load_model(path), Thresholds.from_metadata(store.read_metadata(path))


def _prepared_doodles(n: int, seed: int):
    from mnist_desk.core.drawn_sets import prepared_drawings

    rng = np.random.default_rng(seed)
    x, _ = prepared_drawings([(random_doodle(rng, DOODLE_KINDS[i % len(DOODLE_KINDS)]), -1) for i in range(n)], seed=seed)
    return x


def test_the_default_model_does_not_claim_a_digit_for_scribbles(default_model):
    from mnist_desk.core.training import predict_probabilities

    model, thresholds = default_model
    x = _prepared_doodles(80, seed=12345)
    kinds = decide_many(predict_probabilities(model, x), thresholds)
    assert (kinds != DIGIT).mean() >= 0.85, f"only {(kinds != DIGIT).mean():.2f} of 80 doodles flagged"


def test_the_default_model_reads_mnist_test_digits_as_digits(default_model, mnist):
    from mnist_desk.core.training import predict_probabilities

    model, thresholds = default_model
    probs = predict_probabilities(model, mnist.x_test[:2000])
    kinds = decide_many(probs, thresholds)
    assert (kinds == DIGIT).mean() >= 0.98
    right = probs.argmax(1) == mnist.y_test[:2000]
    assert right[kinds == DIGIT].mean() >= 0.995  # what it calls a digit, it reads right


@pytest.mark.skipif(not (SHARED_DATA / "pendigits" / "pendigits_strokes.npz").exists(), reason="needs ../shared/data")
def test_the_default_model_reads_unseen_writers_and_is_calibrated(default_model):
    from mnist_desk.core.drawn_sets import prepared_drawings
    from mnist_desk.core.strokes import TEST_WRITERS, pendigits_of_writers
    from mnist_desk.core.training import predict_probabilities

    model, thresholds = default_model
    x, y = prepared_drawings(pendigits_of_writers(TEST_WRITERS[:2]))
    probs = predict_probabilities(model, x)
    assert (probs.argmax(1) == y).mean() >= 0.97
    assert (decide_many(probs, thresholds) != DIGIT).mean() <= 0.05
    assert expected_calibration_error(probs, y) <= 0.05
