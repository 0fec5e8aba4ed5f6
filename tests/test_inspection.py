"""Inspection maths on the session's tiny trained models, with exact checks where the maths is known."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_desk.core import inspection, registry
from mnist_desk.core.errors import Cancelled
from mnist_desk.core.training import evaluate


def _float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0


def _logits_and_probs(model, img: np.ndarray):
    import keras

    both = keras.Model(model.inputs, [model.get_layer("logits").output, model.outputs[0]])
    lg, pr = both(_float(img)[None, ..., None], training=False)
    return np.asarray(lg)[0].astype(np.float64), np.asarray(pr)[0].astype(np.float64)


# ------------------------------------------------------------------------------ weights
def test_first_layer_weights_linear_are_the_class_templates(tiny_models):
    m = tiny_models["linear"]
    w = inspection.first_layer_weights(m)
    kernel = np.asarray(m.get_layer("logits").kernel)  # (784, 10)
    assert w.kind == "linear" and w.layer_name == "logits"
    assert w.images.shape == (10, 28, 28) and w.biases.shape == (10,)
    for k in range(10):
        np.testing.assert_array_equal(w.images[k], kernel[:, k].reshape(28, 28))
    np.testing.assert_array_equal(w.biases, np.asarray(m.get_layer("logits").bias))


def test_first_layer_weights_mlp_are_one_image_per_unit(tiny_models):
    m = tiny_models["mlp"]
    w = inspection.first_layer_weights(m)
    kernel = np.asarray(m.get_layer("hidden1").kernel)
    assert w.kind == "dense" and w.layer_name == "hidden1"
    assert w.images.shape == (32, 28, 28) and w.biases.shape == (32,)
    np.testing.assert_array_equal(w.images[5], kernel[:, 5].reshape(28, 28))


def test_first_layer_weights_cnn_are_the_filters(tiny_models):
    m = tiny_models["cnn"]
    w = inspection.first_layer_weights(m)
    kernel = np.asarray(m.get_layer("conv1_1").kernel)  # (3, 3, 1, 8)
    assert w.kind == "conv" and w.layer_name == "conv1_1"
    assert w.images.shape == (8, 3, 3) and w.biases is None  # the cnn's convs have no bias (batch norm follows)
    np.testing.assert_array_equal(w.images[3], kernel[:, :, 0, 3])
    lenet = inspection.first_layer_weights(registry.build_model("lenet5", seed=0))
    assert lenet.images.shape == (6, 5, 5) and lenet.biases.shape == (6,)


def test_linear_contributions_sum_to_the_logits(tiny_models, mnist):
    m = tiny_models["linear"]
    img = mnist.x_test[0]
    contrib = inspection.linear_contributions(m, img)
    assert contrib.shape == (10, 28, 28)
    logits, _ = _logits_and_probs(m, img)
    bias = np.asarray(m.get_layer("logits").bias)
    np.testing.assert_allclose(contrib.sum(axis=(1, 2)) + bias, logits, atol=1e-4)
    assert np.all(contrib[:, _float(img) == 0] == 0)  # no ink, no contribution
    with pytest.raises(ValueError, match="linear model only"):
        inspection.linear_contributions(tiny_models["mlp"], img)


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("arch", ["linear", "mlp", "cnn"])
def test_input_gradients_shapes_and_top(tiny_models, mnist, arch):
    img = mnist.x_test[1]
    g = inspection.input_gradients(tiny_models[arch], img)
    assert g.per_class.shape == (10, 28, 28) and g.top.shape == (28, 28)
    assert g.target == "probabilities"
    assert g.top_class == int(np.argmax(g.probabilities))
    np.testing.assert_array_equal(g.top, g.per_class[g.top_class])
    assert g.scale == pytest.approx(float(np.abs(g.per_class).max()))
    assert g.scale > 0
    np.testing.assert_allclose(g.probabilities.sum(), 1.0, atol=1e-5)
    np.testing.assert_allclose(g.outputs, g.probabilities, atol=1e-7)
    # Probabilities sum to 1 for every input, so the ten gradients sum to ~0.
    assert np.abs(g.per_class.sum(axis=0)).max() < 1e-3 * g.scale + 1e-7
    # The same image given as floats (N=1, with or without the channel axis) gives the same answer.
    g2 = inspection.input_gradients(tiny_models[arch], _float(img)[None])
    np.testing.assert_allclose(g2.per_class, g.per_class, atol=1e-7)


def test_input_gradients_bad_target(tiny_models, mnist):
    with pytest.raises(ValueError, match="target"):
        inspection.input_gradients(tiny_models["linear"], mnist.x_test[0], target="softmax")


def test_linear_gradients_are_exact(tiny_models, mnist):
    """d logit_k/dx = W[:,k]; dp_k/dx = sum_j p_k (delta_kj - p_j) W[:,j] (the softmax Jacobian times W)."""
    m = tiny_models["linear"]
    W = np.asarray(m.get_layer("logits").kernel).astype(np.float64)  # (784, 10)
    templates = W.T.reshape(10, 28, 28)
    for img in mnist.x_test[:3]:
        gl = inspection.input_gradients(m, img, target="logits")
        np.testing.assert_allclose(gl.per_class, templates, atol=1e-5, rtol=0)
        logits, p = _logits_and_probs(m, img)
        np.testing.assert_allclose(gl.outputs, logits, atol=1e-4)

        gp = inspection.input_gradients(m, img, target="probabilities")
        jac = np.diag(p) - np.outer(p, p)  # J[k, j] = p_k (delta_kj - p_j)
        expected = (W @ jac.T).T.reshape(10, 28, 28)  # row k: sum_j J[k, j] W[:, j]
        np.testing.assert_allclose(gp.per_class, expected, atol=1e-5, rtol=0)
        assert np.abs(expected).max() > 1e-3  # the check is not vacuous
        np.testing.assert_allclose(gp.probabilities, p, atol=1e-6)


def test_mlp_probability_gradient_matches_finite_differences(tiny_models, mnist):
    """Central differences in float32: eps 1e-2 keeps rounding (~1e-5 relative) and curvature small."""
    m = tiny_models["mlp"]
    # An image the model is fairly but not fully sure of, so probability gradients are large.
    probs = evaluate(m, mnist.x_test[:50], mnist.y_test[:50])["probabilities"]
    i = int(np.argmin(np.abs(probs.max(axis=1) - 0.8)))
    img = _float(mnist.x_test[i])
    g = inspection.input_gradients(m, img)
    second = int(np.argsort(g.probabilities)[-2])
    eps = 1e-2
    checked = 0
    for cls in (g.top_class, second):
        grad = g.per_class[cls]
        for flat in np.argsort(np.abs(grad).ravel())[::-1][:3]:  # the pixels with the largest gradient
            r, c = divmod(int(flat), 28)
            assert abs(grad[r, c]) > 1e-3
            plus, minus = img.copy(), img.copy()
            plus[r, c] += eps
            minus[r, c] -= eps
            p_plus = np.asarray(m(plus[None, ..., None], training=False))[0, cls]
            p_minus = np.asarray(m(minus[None, ..., None], training=False))[0, cls]
            fd = (float(p_plus) - float(p_minus)) / (2 * eps)
            assert fd == pytest.approx(float(grad[r, c]), rel=1e-2, abs=1e-5), (cls, r, c)
            checked += 1
    assert checked == 6


def test_smoothgrad_runs_and_differs_from_the_plain_gradient(tiny_models, mnist):
    m = tiny_models["mlp"]
    img = mnist.x_test[2]
    plain = inspection.input_gradients(m, img)
    smooth = inspection.input_gradients(m, img, smoothgrad_samples=8, seed=1)
    again = inspection.input_gradients(m, img, smoothgrad_samples=8, seed=1)
    assert smooth.per_class.shape == (10, 28, 28)
    assert not np.allclose(smooth.per_class, plain.per_class, atol=1e-4)
    np.testing.assert_allclose(smooth.per_class, again.per_class, atol=1e-7)  # seeded
    np.testing.assert_allclose(smooth.probabilities, plain.probabilities)  # of the clean image
    assert smooth.top_class == plain.top_class
    # Noisy copies of the image still give gradients of similar size.
    assert 0.1 < smooth.scale / plain.scale < 10


# ------------------------------------------------------------------------------ errors
def test_confusion_on_200_test_images(tiny_models, mnist):
    m = tiny_models["mlp"]
    x, y = mnist.x_test[:200], mnist.y_test[:200]
    progress = []
    c = inspection.confusion(m, x, y, batch_size=64, on_progress=progress.append)
    assert c.matrix.shape == (10, 10) and c.matrix.sum() == 200
    assert c.accuracy == pytest.approx(np.trace(c.matrix) / 200)
    ev = evaluate(m, x, y)
    assert c.accuracy == pytest.approx(ev["accuracy"])
    np.testing.assert_array_equal(c.predictions, ev["predictions"])
    np.testing.assert_array_equal(c.matrix.sum(axis=1), np.bincount(y, minlength=10))  # rows: true labels
    np.testing.assert_array_equal(c.matrix.sum(axis=0), np.bincount(c.predictions, minlength=10))
    np.testing.assert_allclose(c.confidences, c.probabilities.max(axis=1))
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) == 4
    for t in range(10):
        for p in range(10):
            idx = inspection.cell_indices(y, c.predictions, t, p)
            assert len(idx) == c.matrix[t, p]
            assert np.all(y[idx] == t) and np.all(c.predictions[idx] == p)
    wrong = inspection.misclassified_indices(y, c.predictions)
    assert len(wrong) == 200 - np.trace(c.matrix) > 0
    assert np.all(y[wrong] != c.predictions[wrong])
    t, p = np.unravel_index(np.argmax(c.matrix - np.diag(np.diag(c.matrix))), (10, 10))  # the worst confusion
    cell = inspection.misclassified_indices(y, c.predictions, true_label=int(t), predicted=int(p))
    np.testing.assert_array_equal(cell, inspection.cell_indices(y, c.predictions, int(t), int(p)))
    assert len(inspection.misclassified_indices(y, c.predictions, true_label=3, predicted=3)) == 0
    with pytest.raises(Cancelled):
        inspection.confusion(m, x, y, should_stop=lambda: True)


# ------------------------------------------------------------------------------ activations
def test_hidden_layer_names_and_default(tiny_models):
    assert inspection.hidden_layer_names(tiny_models["linear"]) == ["logits"]
    assert inspection.default_hidden_layer(tiny_models["linear"]) == "logits"
    assert inspection.hidden_layer_names(tiny_models["mlp"]) == ["hidden1", "logits"]
    assert inspection.default_hidden_layer(tiny_models["mlp"]) == "hidden1"
    cnn_names = inspection.hidden_layer_names(tiny_models["cnn"])
    assert cnn_names[0] == "conv1_1" and cnn_names[-1] == "logits"
    assert not {"image", "flatten", "dropout", "probabilities"} & set(cnn_names)
    assert inspection.default_hidden_layer(tiny_models["cnn"]) == "relu_fc"
    lenet = registry.build_model("lenet5", seed=0)
    assert inspection.default_hidden_layer(lenet) == "fc2"


def test_layer_activations_shapes(tiny_models, mnist):
    x = mnist.x_test[:70]
    a = inspection.layer_activations(tiny_models["mlp"], "hidden1", x, batch_size=32)
    assert a.shape == (70, 32) and a.min() >= 0  # relu
    conv = inspection.layer_activations(tiny_models["cnn"], "conv1_1", x[:5])
    assert conv.shape == (5, 28 * 28 * 8)
    logits = inspection.layer_activations(tiny_models["linear"], "logits", x[:4])
    lg, _ = _logits_and_probs(tiny_models["linear"], x[0])
    np.testing.assert_allclose(logits[0], lg, atol=1e-4)
    with pytest.raises(Cancelled):
        inspection.layer_activations(tiny_models["mlp"], "hidden1", x, should_stop=lambda: True)


def test_feature_maps(tiny_models, mnist):
    name, maps = inspection.feature_maps(tiny_models["cnn"], mnist.x_test[0])
    assert name == "conv1_1" and maps.shape == (8, 28, 28)
    direct = inspection.layer_activations(tiny_models["cnn"], "conv1_1", mnist.x_test[:1])[0].reshape(28, 28, 8)
    np.testing.assert_allclose(maps, np.transpose(direct, (2, 0, 1)), atol=1e-6)
    with pytest.raises(ValueError, match="no convolution"):
        inspection.feature_maps(tiny_models["mlp"], mnist.x_test[0])


# ------------------------------------------------------------------------------ projections
@pytest.fixture(scope="module")
def features(tiny_models, mnist):
    return inspection.layer_activations(tiny_models["mlp"], "hidden1", mnist.x_test[:150])


def test_pca_2d_and_projecting_a_new_point(features, tiny_models, mnist):
    pca, xy = inspection.pca_2d(features)
    assert xy.shape == (150, 2)
    np.testing.assert_allclose(pca.transform(features[:3]), xy[:3], atol=1e-4)
    new = inspection.layer_activations(tiny_models["mlp"], "hidden1", mnist.x_test[150:151])
    p = pca.transform(new)
    assert p.shape == (1, 2) and np.all(np.isfinite(p))
    assert xy[:, 0].var() >= xy[:, 1].var()  # first component carries the most variance


@pytest.fixture
def one_thread():
    """scikit-learn's t-SNE runs OpenMP threads; on a busy shared machine they spin against each other
    (150 points: ~0.5 s with one thread, 10-20 s with all). The chunking logic under test is the same."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def test_tsne_2d_reports_progress(features, one_thread):
    progress = []
    emb = inspection.tsne_2d(features, total_iter=500, chunk_iter=250, on_progress=progress.append)
    assert emb.shape == (150, 2) and np.all(np.isfinite(emb))
    assert progress == [0.5, 1.0]
    with pytest.raises(ValueError, match="at least 5 points"):
        inspection.tsne_2d(features[:4])


def test_tsne_2d_can_be_cancelled(features, one_thread):
    progress = []
    with pytest.raises(Cancelled):
        inspection.tsne_2d(features[:40], total_iter=1000, chunk_iter=250, on_progress=progress.append,
                           should_stop=lambda: len(progress) >= 1)
    assert progress == [0.25]  # stopped between chunks, after the first


def test_place_by_neighbours(features):
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(150, 2)).astype(np.float32)
    xy, idx = inspection.place_by_neighbours(features[17], features, embedding, k=5)
    assert xy.shape == (2,) and idx.shape == (5,)
    assert idx[0] == 17  # a point that is already there is its own nearest neighbour
    np.testing.assert_allclose(xy, embedding[idx].mean(axis=0))
    d = np.linalg.norm(features - features[17], axis=1)
    assert set(idx) == set(np.argsort(d)[:5])
    np.testing.assert_array_equal(inspection.nearest_neighbours(features[17], features, k=5), idx)


# ------------------------------------------------------------------------------ summary
@pytest.mark.parametrize("arch", ["linear", "mlp", "cnn"])
def test_layer_table(tiny_models, arch):
    m = tiny_models[arch]
    rows = inspection.layer_table(m)
    assert [r["name"] for r in rows] == [layer.name for layer in m.layers]
    assert sum(r["params"] for r in rows) == m.count_params()
    assert rows[0]["type"] == "InputLayer" and rows[-1]["name"] == "probabilities"
    assert rows[-1]["output_shape"] == (None, 10)
    logits = next(r for r in rows if r["name"] == "logits")
    assert logits["type"] == "Dense"
    if arch == "linear":
        assert logits["params"] == 7850
