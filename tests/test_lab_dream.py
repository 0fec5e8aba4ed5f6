"""What a model thinks a k looks like: class images by gradient ascent, the mean digit, linear templates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mnist_desk.core.errors import Cancelled
from mnist_desk.core.lab import dream
from mnist_desk.core.numpy_net import NumpyNet


def _total_variation(image: np.ndarray) -> float:
    return float(np.abs(np.diff(image, axis=0)).sum() + np.abs(np.diff(image, axis=1)).sum())


@pytest.mark.parametrize("arch", ["linear", "mlp", "cnn"])
def test_the_class_image_raises_the_class_probability(arch, tiny_models, mnist):
    model = tiny_models[arch]
    net = NumpyNet.from_model(model)
    start = mnist.x_test[0].astype(np.float32) / 255.0
    answer = int(net.predict(start)[0].argmax())
    for klass in ((answer + 2) % 10, (answer + 7) % 10):
        frames = dream.class_image(model, klass, start, steps=40)
        before, after = net.predict(frames[0])[0][klass], net.predict(frames[-1])[0][klass]
        assert after > max(before, 0.5), (arch, klass, before, after)
        np.testing.assert_array_equal(frames[0], start)
        assert frames[-1].dtype == np.float32 and frames[-1].min() >= 0 and frames[-1].max() <= 1


def test_frames_come_every_few_steps_and_are_handed_out_as_made(tiny_models, mnist):
    seen = []
    frames = dream.class_image(tiny_models["mlp"], 4, mnist.x_test[1], steps=23, every=5,
                               on_frame=lambda i, frame: seen.append((i, frame)))
    assert len(frames) == 6  # the start, steps 5, 10, 15, 20 and the result after step 23
    assert [i for i, _ in seen] == list(range(6))
    for (_, shown), kept in zip(seen, frames):
        np.testing.assert_array_equal(shown, kept)
    assert all(np.abs(a - b).max() > 0 for a, b in itertools.pairwise(frames))  # every frame moved on
    dream.class_image(tiny_models["mlp"], 7, mnist.x_test[2], steps=3)
    assert dream.class_logit_gradient(tiny_models["mlp"]).experimental_get_tracing_count() == 1  # compiled once


def test_smoothness_gives_a_smoother_image(tiny_models, mnist):
    start = dream.mean_digit(mnist.x_train[:2000])
    rough = dream.class_image(tiny_models["cnn"], 3, start, steps=60, smoothness=0.0)[-1]
    smooth = dream.class_image(tiny_models["cnn"], 3, start, steps=60, smoothness=1.0)[-1]
    assert _total_variation(smooth) < 0.8 * _total_variation(rough)


def test_a_start_where_a_whole_layer_is_off_still_dreams(mnist):
    """The shipped mlp says "not a digit" for the blurry mean digit with every first-layer unit off: no gradient."""
    from mnist_desk.core import store

    path = "mnist_desk/resources/models/mlp.keras"
    net = NumpyNet.from_keras_file(path)
    start = dream.mean_digit(mnist.x_train)
    assert not net.forward(start, until="hidden1").any()
    frames = dream.class_image(store.load_model(path), 2, start, steps=40, smoothness=0.0)  # no blur to shake it
    assert net.predict(frames[-1])[0][2] > 0.5 > net.predict(start)[0][2]


def test_the_class_image_stops_when_asked(tiny_models, mnist):
    with pytest.raises(Cancelled):
        dream.class_image(tiny_models["cnn"], 1, mnist.x_test[0], should_stop=lambda: True)


def test_the_mean_digit_is_the_average_training_digit(mnist):
    images = mnist.x_train[:500]
    mean = dream.mean_digit(images)
    assert mean.shape == (28, 28) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, images.astype(np.float64).mean(axis=0) / 255.0, atol=1e-6)
    np.testing.assert_allclose(dream.mean_digit(images.astype(np.float32) / 255.0), mean, atol=1e-6)


def test_the_linear_template_is_what_the_logit_sums_over(tiny_models, mnist):
    model = tiny_models["linear"]
    net = NumpyNet.from_model(model)
    x = mnist.x_test[0].astype(np.float32) / 255.0
    bias = np.asarray(model.get_layer("logits").bias)
    for source in (model, net):
        logits = [float((dream.linear_template(source, k) * x).sum() + bias[k]) for k in range(10)]
        np.testing.assert_allclose(logits, net.logits(x)[0], atol=1e-4)
    assert dream.linear_template(tiny_models["mlp"], 0) is None
    assert dream.linear_template(NumpyNet.from_model(tiny_models["cnn"]), 0) is None
