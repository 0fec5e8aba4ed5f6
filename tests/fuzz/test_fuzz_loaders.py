"""Fuzzing the loaders: damaged and forged files get only the documented errors.

Every data loader (IDX raw and gzipped, .npz plain and compressed, CSV), the picture loader with
``prepare_drawing`` behind it, and model loading with a prediction behind it, are fed mutations of
real small files (see ``harness.py``). Each call must return well-formed arrays or raise a documented
error (DataError/ImageError, ModelFileError, EmptyDrawing) - no other exception, no hang (a per-call
alarm), no giant allocation (Python-visible peak and resident-memory growth are measured per call).

``benchmarks/fuzz.py`` runs the same mutations thousands of times.
"""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import harness

EXAMPLES = 24  # per format; 15 formats

# Pillow warns about the damage it skips over (corrupt EXIF, TIFF tags past the end): expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    fz = harness.Fuzzer(folder / "cases", harness.Seeds.build(folder))
    fz.check_seeds()  # every unmutated seed loads: the mutations start from valid files
    return fz


def _assert_clean(out: harness.Outcome, what: str) -> None:
    assert not out.bad, what


# ------------------------------------------------------------------------------ hypothesis
@pytest.mark.parametrize("target", list(harness.TARGETS))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_files_give_documented_errors(fuzzer, target, data):
    t = harness.TARGETS[target]
    kind = data.draw(st.sampled_from(t.kinds), label="mutation")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    out = fuzzer.run(t, kind, seed)
    _assert_clean(out, harness.describe(target, kind, seed, out))


# ------------------------------------------------------------------------------ every mutation once
@pytest.mark.parametrize("target", list(harness.TARGETS))
def test_every_mutation_on_every_format(fuzzer, target):
    t = harness.TARGETS[target]
    for kind in t.kinds:
        for seed in (0, 1):
            out = fuzzer.run(t, kind, seed)
            _assert_clean(out, harness.describe(target, kind, seed, out))


@pytest.mark.parametrize("target", list(harness.TARGETS))
@pytest.mark.parametrize("kind", ["zero", "directory", "random"])
def test_empty_folder_and_noise_are_refused(fuzzer, target, kind):
    """A zero-length file, a folder in its place, random bytes under the right name: a clean refusal, never a load."""
    out = fuzzer.run(target, kind, 3)
    assert out.kind == "clean", harness.describe(target, kind, 3, out)


# ------------------------------------------------------------------------------ forged sizes
def _idx_folder(tmp_path, images_header: bytes, n_body: int = 3):
    d = tmp_path / "idx"
    d.mkdir()
    (d / "train-images-idx3-ubyte").write_bytes(images_header + bytes(n_body * 784))
    (d / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n_body) + bytes(n_body))
    return d


@pytest.mark.parametrize("count", [0xFFFFFFFF, 2_000_000, 1_999_999, 10**9])
def test_idx_count_field_cannot_make_us_allocate(tmp_path, count):
    from mnist_desk.core import data
    from mnist_desk.core.errors import DataError

    d = _idx_folder(tmp_path, struct.pack(">IIII", 2051, count, 28, 28))
    out = harness.run_guarded(lambda: data.load_idx_folder(d), (DataError,), time_limit_s=2.0, traced_limit=16 * 2**20)
    assert out.kind == "clean", out.detail


@pytest.mark.parametrize("shape", [(10**12, 28, 28), (1_999_999, 28, 28), (2**31, 2**31, 28, 28), (3, 28, 28, 10**6)])
@pytest.mark.parametrize("compressed", [False, True])
def test_npy_header_shape_cannot_make_us_allocate(tmp_path, shape, compressed):
    import zipfile

    from mnist_desk.core import data
    from mnist_desk.core.errors import DataError

    body = harness.npy_with_header({"descr": "|u1", "fortran_order": False, "shape": shape}, bytes(3 * 784))
    path = tmp_path / "forged.npz"
    path.write_bytes(harness.zip_bytes({"x_train.npy": body, "y_train.npy": harness.npy_bytes(np.zeros(3, np.uint8))},
                                       zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED))
    out = harness.run_guarded(lambda: data.load_dataset(path), (DataError,), time_limit_s=2.0, traced_limit=16 * 2**20)
    assert out.kind == "clean", out.detail


@pytest.mark.parametrize("field", ["units", "input_shape", "batch_shape"])
def test_model_config_sizes_cannot_make_keras_allocate(fuzzer, tmp_path, field):
    """Keras builds (allocates and initialises) every layer before reading the weights: forged sizes are refused first."""
    import json

    from mnist_desk.core import store
    from mnist_desk.core.errors import ModelFileError

    members, _ = harness.zip_members(fuzzer.seeds.files["keras"])
    cfg = json.loads(members["config.json"])
    for layer in cfg["config"]["layers"]:
        if field == "units" and layer["class_name"] == "Dense":
            layer["config"]["units"] = 200_000_000
        if field == "input_shape" and layer["class_name"] == "Dense":
            layer["build_config"]["input_shape"] = [None, 10**8]
        if field == "batch_shape" and layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, 10**6, 10**6, 1]
    members["config.json"] = json.dumps(cfg).encode()
    path = tmp_path / "forged.keras"
    path.write_bytes(harness.zip_bytes(members))
    out = harness.run_guarded(lambda: store.load_model(path), (ModelFileError,), time_limit_s=5.0)
    assert out.kind == "clean" and out.seconds < 2.0, out.detail


@pytest.mark.parametrize("dims", [(0x7FFFFFFF, 0x7FFFFFFF), (65535, 65535), (7000, 7000), (1, 50_000_000)])
def test_png_dimension_fields_cannot_make_us_allocate(fuzzer, tmp_path, dims):
    from mnist_desk.core.errors import ImageError
    from mnist_desk.core.preprocess import load_image_file

    b = bytearray(fuzzer.seeds.files["png"])
    b[16:24] = struct.pack(">II", *dims)
    path = tmp_path / "forged.png"
    path.write_bytes(harness.fix_png_crcs(bytes(b)))
    out = harness.run_guarded(lambda: load_image_file(path), (ImageError,), time_limit_s=5.0)
    assert out.kind == "clean", out.detail


def test_big_but_legal_picture_loads_within_bounded_memory(tmp_path):
    """A 60 KB PNG of 7000x7000 pixels (under the 50 MP limit) loads, shrunk, without gigabytes of float copies."""
    from PIL import Image

    from mnist_desk.core.preprocess import load_image_file, prepare_drawing

    a = np.full((7000, 7000), 255, np.uint8)
    a[2500:4500, 3300:3700] = 0  # a "1"
    path = tmp_path / "big.png"
    Image.fromarray(a).save(path, optimize=True)
    assert path.stat().st_size < 200_000
    result = {}

    def call():
        grey = load_image_file(path)
        result["shape"] = grey.shape
        result["x"] = prepare_drawing(grey)

    out = harness.run_guarded(call, (), time_limit_s=20.0, traced_limit=400 * 2**20, rss_limit=800 * 2**20)
    assert out.kind == "ok", out.detail
    assert max(result["shape"]) <= 2048 and result["x"].shape == (28, 28)


# ------------------------------------------------------------------------------ the guard itself
def test_the_guard_sees_crashes_hangs_and_giant_allocations():
    """The runner would notice a bug: an undocumented exception, a hang, a giant allocation."""
    from mnist_desk.core.errors import DataError

    def undocumented():
        raise ValueError("boom")

    def hang():
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5:
            pass

    def allocate():
        return np.ones(200 * 2**20, np.uint8)

    def allocate_and_wrap():
        try:
            np.empty(10**15, np.uint8)
        except MemoryError as exc:
            raise DataError(None, f"corrupt ({type(exc).__name__}: {exc})") from None

    assert harness.run_guarded(undocumented, (DataError,)).kind == "crash"
    assert harness.run_guarded(hang, (DataError,), time_limit_s=0.3).kind == "hang"
    assert harness.run_guarded(allocate, (DataError,)).kind == "alloc"
    assert harness.run_guarded(allocate_and_wrap, (DataError,)).kind == "alloc"
    assert harness.run_guarded(lambda: None, (DataError,)).kind == "ok"
