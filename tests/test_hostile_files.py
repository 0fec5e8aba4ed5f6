"""Hostile files are refused, with the documented error, before anything in them runs.

Model files are shared between students and found online; Keras' own ``load_model`` has had several
ways around safe_mode (CVE-2024-3660, CVE-2025-1550, CVE-2025-9905, CVE-2025-9906). The store reads
the archive itself first and lets Keras see only models made of this app's layers. Each test builds a
real hostile file (see ``hostile_builders.py``) whose payload would create a marker file, shows where
possible that the payload is live (it does run when the file is opened unsafely), then proves the
app refuses the file and the marker never appears.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mnist_desk.core.errors import DataError, ImageError, ModelFileError
from tests import hostile_builders as hb

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "mnist_desk"


@pytest.fixture
def keras_never_called(monkeypatch):
    """Fail if Keras' loader is reached: hostile model files must be refused before Keras reads them."""
    import keras

    def trap(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was called on a hostile file")

    monkeypatch.setattr(keras.saving, "load_model", trap)
    monkeypatch.setattr(keras.models, "load_model", trap)


# ------------------------------------------------------------------------------ every hostile file
@pytest.mark.parametrize("builder", hb.BUILDERS, ids=lambda b: b.__name__.removeprefix("build_"))
def test_hostile_file_is_refused_and_its_payload_does_not_run(tmp_path, builder):
    h = builder(tmp_path)
    r = hb.check(h)
    assert not r.payload_ran, f"{h.name}: the payload ran ({r.message})"
    assert r.problem is None, f"{h.name}: {r.problem}"


# ------------------------------------------------------------------------------ (a) Lambda calling os.system
def test_lambda_payload_is_live_but_refused_before_keras(tmp_path, monkeypatch):
    import keras

    h = hb.build_lambda_keras(tmp_path)
    marker = h.markers[0]
    # The file is a real exploit: opened with safe_mode off, Keras runs the lambda.
    keras.saving.load_model(h.path, safe_mode=False)
    assert marker.exists()
    marker.unlink()

    from mnist_desk.core import store

    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras was reached"))
    with pytest.raises(ModelFileError, match="Lambda"):
        store.load_model(h.path)
    assert not marker.exists()


# ------------------------------------------------------------------------------ (b) builtins.exec in a config
@pytest.mark.parametrize("builder", [hb.build_builtins_exec_activation, hb.build_builtins_exec_initializer])
def test_config_naming_builtins_exec_is_refused(tmp_path, builder, keras_never_called):
    from mnist_desk.core import store

    h = builder(tmp_path)
    with pytest.raises(ModelFileError, match="builtins"):
        store.load_model(h.path)


# ------------------------------------------------------------------------------ (c) custom object, unknown module
def test_custom_registered_name_and_unknown_module_are_refused(tmp_path, monkeypatch, keras_never_called):
    from mnist_desk.core import store

    h = hb.build_custom_module(tmp_path)
    monkeypatch.syspath_prepend(str(h.import_path))  # the module is importable: refusing must not depend on luck
    modname = next(h.import_path.glob("*.py")).stem
    with pytest.raises(ModelFileError, match="MyLayer"):
        store.load_model(h.path)
    assert modname not in sys.modules
    assert not h.markers[0].exists()


def test_config_switching_safe_mode_off_is_refused(tmp_path, keras_never_called):
    from keras.src.backend.common import global_state

    from mnist_desk.core import store

    h = hb.build_unsafe_toggle(tmp_path)
    with pytest.raises(ModelFileError):
        store.load_model(h.path)
    assert global_state.get_global_attribute("safe_mode_saving") is not False
    assert not h.markers[0].exists()


# ------------------------------------------------------------------------------ (d) pickled object in an .npz
def test_pickled_npz_payload_is_live_but_refused(tmp_path):
    from mnist_desk.core import data

    h = hb.build_npz_pickle(tmp_path)
    marker = h.markers[0]
    with np.load(h.path, allow_pickle=True) as z:  # the file is a real exploit: unpickling it runs the payload
        z["x_train"]
    assert marker.exists()
    marker.unlink()

    with pytest.raises(DataError, match="(?i)pickle"):
        data.load_dataset(h.path)
    assert not marker.exists()


def test_raw_pickle_named_npz_is_refused(tmp_path):
    from mnist_desk.core import data

    h = hb.build_pickle_named_npz(tmp_path)
    with pytest.raises(DataError):
        data.load_dataset(h.path)
    assert not h.markers[0].exists()


# ------------------------------------------------------------------------------ (e) zip bombs
def test_zip_bomb_builder_is_a_real_bomb(tmp_path):
    """The forged deflate stream really inflates to its declared size (checked on a small one)."""
    import zlib

    n = 5 * 2**20 + 123
    stream = hb.deflate_zeros(b"head", n)
    out = zlib.decompressobj(-15).decompress(stream)
    assert out == b"head" + bytes(n)
    assert hb.crc32_of_zeros(n, zlib.crc32(b"head")) == zlib.crc32(out)
    assert len(hb.deflate_zeros(b"", hb.BOMB_BYTES)) < hb.BOMB_BYTES // 500


@pytest.mark.parametrize(
    "builder",
    [hb.build_npz_zip_bomb, hb.build_npz_lying_bomb, hb.build_keras_zip_bomb, hb.build_keras_lying_bomb, hb.build_h5_shape_bomb],
    ids=lambda b: b.__name__.removeprefix("build_"),
)
def test_zip_bomb_is_refused_quickly_without_inflating(tmp_path, builder):
    h = builder(tmp_path)
    assert h.path.stat().st_size < 20 * 2**20
    load, allowed = hb.loader_for(h.loader)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(allowed):
            load(h.path)
    finally:
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seconds < 2.0
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated while refusing a bomb"


# ------------------------------------------------------------------------------ (f) path traversal
@pytest.mark.parametrize("builder", [hb.build_path_traversal, hb.build_absolute_member, hb.build_extra_member])
def test_archive_members_outside_the_model_are_refused_and_nothing_is_written(tmp_path, builder, keras_never_called):
    from mnist_desk.core import store

    h = builder(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ModelFileError, match="(?i)unsafe path|unexpected member"):
        store.load_model(h.path)
    assert not any(m.exists() for m in h.markers)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ------------------------------------------------------------------------------ (g) legacy .h5
def test_legacy_h5_payload_is_live_but_refused(tmp_path, monkeypatch):
    import keras

    h = hb.build_lambda_h5(tmp_path)
    assert h.path.read_bytes().startswith(hb.HDF5_SIGNATURE)
    keras.saving.load_model(h.path, safe_mode=False)  # a real exploit through the legacy loader
    assert h.markers[0].exists()
    h.markers[0].unlink()

    from mnist_desk.core import store

    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras was reached"))
    with pytest.raises(ModelFileError) as e:
        store.load_model(h.path)
    assert re.search(r"legacy", str(e.value), re.I) and ".h5" in str(e.value)
    assert not h.markers[0].exists()


@pytest.mark.parametrize("builder", [hb.build_h5_named_keras, hb.build_zip_named_h5, hb.build_hdf5_signature])
def test_legacy_format_in_disguise_is_refused(tmp_path, builder, keras_never_called):
    from mnist_desk.core import store

    h = builder(tmp_path)
    with pytest.raises(ModelFileError, match="(?i)legacy"):
        store.load_model(h.path)


# ------------------------------------------------------------------------------ (h) SavedModel
@pytest.mark.parametrize("builder", [hb.build_savedmodel, hb.build_savedmodel_named_keras])
def test_savedmodel_folder_is_refused(tmp_path, builder, keras_never_called):
    from mnist_desk.core import store

    h = builder(tmp_path)
    assert (h.path / "saved_model.pb").exists()
    with pytest.raises(ModelFileError, match="SavedModel"):
        store.load_model(h.path)


# ------------------------------------------------------------------------------ pictures
@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is not installed: nothing to run the payload")
def test_postscript_named_png_would_run_ghostscript_but_is_refused(tmp_path):
    from PIL import Image

    from mnist_desk.core.preprocess import load_image_file

    h = hb.build_eps_as_png(tmp_path)
    with hb.spawn_spy() as spawned:  # Pillow, left to itself, picks its EPS plugin and runs Ghostscript on it
        with Image.open(h.path) as im:
            im.load()
    assert any("gs" in str(a) for a in spawned)

    with hb.spawn_spy() as spawned:
        with pytest.raises(ImageError, match="not an image"):
            load_image_file(h.path)
    assert spawned == []


# ------------------------------------------------------------------------------ the code base
def _sources():
    files = sorted(PACKAGE.rglob("*.py"))
    assert files
    return [(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in files]


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def test_no_pickle_anywhere_in_the_package():
    unsafe = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [f"{path}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] in unsafe]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in unsafe:
                found.append(f"{path}:{node.lineno} from {node.module} import ...")
            elif isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] == "read_pickle":
                found.append(f"{path}:{node.lineno} {_dotted(node.func)}(...)")
    assert not found, "\n".join(found)


def test_every_np_load_refuses_pickles():
    calls, bad = 0, []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func) in ("np.load", "numpy.load"):
                calls += 1
                kw = {k.arg: k.value for k in node.keywords}
                v = kw.get("allow_pickle")
                if not (isinstance(v, ast.Constant) and v.value is False):
                    bad.append(f"{path}:{node.lineno}")
    assert calls >= 1, "np.load not found: the scan is looking in the wrong place"
    assert not bad, "np.load without allow_pickle=False at " + ", ".join(bad)


def test_keras_is_only_asked_to_load_in_safe_mode_after_vetting():
    """Only the store loads models; it passes safe_mode=True; nothing switches safe mode off."""
    loads, problems = [], []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if name.endswith("enable_unsafe_deserialization"):
                    problems.append(f"{path}:{node.lineno} calls {name}")
                for k in node.keywords:
                    if k.arg == "safe_mode" and not (isinstance(k.value, ast.Constant) and k.value.value is True):
                        problems.append(f"{path}:{node.lineno} passes safe_mode other than True")
                if name.split(".")[-1] == "load_model" and "keras" in name or name.endswith("saved_model.load"):
                    loads.append((path.relative_to(REPO).as_posix(), node.lineno))
                    if not any(k.arg == "safe_mode" for k in node.keywords) and "saved_model" not in name:
                        problems.append(f"{path}:{node.lineno} calls {name} without safe_mode=True")
                    if "saved_model" in name:
                        problems.append(f"{path}:{node.lineno} loads a SavedModel")
    assert loads and {p for p, _ in loads} == {"mnist_desk/core/store.py"}, loads
    assert not problems, "\n".join(problems)


def test_keras_release_has_the_safe_mode_fixes():
    """Keras >= 3.12 carries the fixes for CVE-2024-3660, CVE-2025-1550, CVE-2025-9905 and CVE-2025-9906."""
    import keras

    installed = tuple(int(x) for x in re.findall(r"\d+", keras.__version__)[:2])
    assert installed >= (3, 12), keras.__version__
    text = (REPO / "pyproject.toml").read_text()
    m = re.search(r'"keras\s*>=\s*(\d+)\.(\d+)', text)
    assert m and (int(m.group(1)), int(m.group(2))) >= (3, 12), "pyproject.toml must require keras>=3.12"


# ------------------------------------------------------------------------------ every file that can carry a payload does
def test_every_hostile_file_carries_a_payload_marker_or_says_why_it_cannot(tmp_path):
    hostiles = hb.build_all(tmp_path)
    for h in hostiles:
        assert bool(h.markers) != bool(h.no_payload), f"{h.name}: a marker, or a reason for none"
    assert sum(bool(h.markers) for h in hostiles) >= 15


def test_savedmodel_payload_is_live_but_refused(tmp_path, keras_never_called):
    """The SavedModel the TFSMLayer and SavedModel files point at really writes its marker when served."""
    import tensorflow as tf

    from mnist_desk.core import store

    h = hb.build_tfsm_layer(tmp_path)
    saved = tf.saved_model.load(str(tmp_path / "evil_savedmodel"))
    saved.signatures["serve"](tf.zeros([1, 28, 28, 1]))
    assert h.markers[0].exists()
    h.markers[0].unlink()
    with pytest.raises(ModelFileError, match="TFSMLayer"):
        store.load_model(h.path)
    assert not h.markers[0].exists()


def test_a_member_written_through_dot_dot_would_be_found(tmp_path):
    """The path-traversal check can see a payload: a member written the naive way lands where it searches."""
    import zipfile

    h = hb.build_path_traversal(tmp_path)
    with zipfile.ZipFile(h.path) as zf:
        member = next(n for n in zf.namelist() if n.startswith("../"))
        extract_to = tmp_path / "tmp" / "a" / "b" / "extracted"
        (extract_to / member).parent.mkdir(parents=True, exist_ok=True)
        (extract_to / member).write_bytes(zf.read(member))  # what a loader that trusts member names does
    r = hb.check(h)
    assert r.payload_ran and r.refused
