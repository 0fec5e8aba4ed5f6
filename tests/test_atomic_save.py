"""The user's files are never lost: saves are atomic, a kill -9 mid-save leaves the previous file intact,
a full disk says so. (``tests/test_store.py`` covers a full disk inside Keras' save and Ctrl+C.)

The kill test runs ``benchmarks/kill_during_save.py`` with a few kills; the benchmark does 50.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist_desk.core import data, store
from mnist_desk.core.errors import StoreError

REPO = Path(__file__).resolve().parents[1]


def _kill_benchmark():
    if str(REPO / "benchmarks") not in sys.path:  # as when it runs as a script: it imports benchmarks/_setup.py
        sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("kill_during_save", REPO / "benchmarks" / "kill_during_save.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _digits(version: int) -> dict[str, np.ndarray]:
    return {"x_train": np.full((8, 28, 28), version, np.uint8), "y_train": np.full(8, version % 10, np.uint8)}


def _save_digits(path: Path, version: int) -> None:
    arrays = _digits(version)
    store.atomic_write(path, lambda tmp: np.savez(tmp, **arrays))


def _no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".tmp-" in p.name]


# ------------------------------------------------------------------------------ kill -9
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill benchmark forks its savers")
def test_kill_9_during_saves_never_corrupts_the_files(tmp_path):
    bench = _kill_benchmark()
    result = bench.run(kills=5, seed=11, folder=tmp_path / "saves")
    assert result["corrupted"] == 0, "\n".join(result["problems"])
    assert result["rounds_with_completed_saves"] >= 1  # the kills did land among saves that overwrite files


def test_the_kill_check_would_see_a_torn_file(tmp_path):
    """The benchmark's checks notice what a non-atomic save would leave: half a model, half an .npz, a lost file."""
    bench = _kill_benchmark()
    from mnist_desk.core import registry

    model = registry.build_model("linear", seed=0)
    model.set_weights([np.full(w.shape, 0.5, w.dtype) for w in model.get_weights()])
    p = store.save_model(model, {"arch": "linear", "version": 1}, path=tmp_path / bench.MODEL_NAME)
    _save_digits(tmp_path / bench.DIGITS_NAME, 1)
    np.savez(tmp_path / bench.DIGITS_NAME, **bench.digits_arrays(7))
    assert bench.check_folder(tmp_path, {}) == []

    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    d = tmp_path / bench.DIGITS_NAME
    d.write_bytes(d.read_bytes()[:300])
    p.with_suffix(".json").unlink()
    problems = bench.check_folder(tmp_path, {p.with_suffix(".json").name: True})
    assert len(problems) == 3, problems


# ------------------------------------------------------------------------------ full disk
def test_full_disk_while_flushing_leaves_the_previous_digits(tmp_path, monkeypatch):
    """Filesystems with delayed allocation report ENOSPC at fsync, after every write succeeded."""
    target = tmp_path / "my-digits.npz"
    _save_digits(target, 1)
    before = target.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        _save_digits(target, 2)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert _no_temporaries(tmp_path)
    assert np.array_equal(data.load_dataset(target).x_train, _digits(1)["x_train"])


def test_full_disk_half_way_through_an_npz_leaves_the_previous_one(tmp_path):
    target = tmp_path / "my-digits.npz"
    _save_digits(target, 1)
    before = target.read_bytes()

    def half_then_full(tmp: Path) -> None:
        np.savez(tmp, **_digits(2))
        tmp.write_bytes(tmp.read_bytes()[:500])
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        store.atomic_write(target, half_then_full)
    assert target.read_bytes() == before and _no_temporaries(tmp_path)


def test_full_disk_on_save_model_says_so_and_keeps_the_old_model(tmp_path, monkeypatch):
    from mnist_desk.core import registry

    target = tmp_path / "mine.keras"
    old = registry.build_model("linear", seed=0)
    store.save_model(old, {"arch": "linear", "version": 1}, path=target)
    before, before_meta = target.read_bytes(), target.with_suffix(".json").read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="disk is full") as info:
        store.save_model(registry.build_model("linear", seed=1), {"arch": "linear", "version": 2}, path=target)
    assert str(target) in str(info.value)
    monkeypatch.undo()
    assert target.read_bytes() == before and target.with_suffix(".json").read_bytes() == before_meta
    assert _no_temporaries(tmp_path)
    assert store.load_model(target).get_layer("logits")


def test_full_disk_on_the_metadata_keeps_the_old_metadata(tmp_path, monkeypatch):
    from mnist_desk.core import registry

    target = tmp_path / "mine.keras"
    store.save_model(registry.build_model("linear", seed=0), {"arch": "linear", "version": 1}, path=target)
    before_meta = target.with_suffix(".json").read_bytes()
    real = store.atomic_write_bytes

    def full_for_json(path, data):
        if Path(path).suffix == ".json":
            def write(tmp):
                tmp.write_bytes(data[:10])
                raise OSError(errno.ENOSPC, "No space left on device")

            return store.atomic_write(Path(path), write)
        return real(path, data)

    monkeypatch.setattr(store, "atomic_write_bytes", full_for_json)
    with pytest.raises(StoreError, match="disk is full"):
        store.save_model(registry.build_model("linear", seed=1), {"arch": "linear", "version": 2}, path=target)
    assert target.with_suffix(".json").read_bytes() == before_meta
    assert store.load_model(target).get_layer("logits")  # the model file itself is whole (old or new)
    assert _no_temporaries(tmp_path)


# ------------------------------------------------------------------------------ leftovers of a kill
def test_temporaries_left_by_a_kill_are_not_listed_as_models(home):
    from mnist_desk.core import paths, registry

    folder = paths.user_models_dir()
    store.save_model(registry.build_model("linear", seed=0), {"arch": "linear"}, name="mine")
    (folder / ".mine.tmp-abc123.keras").write_bytes(b"PK\x03\x04 half a model")  # what kill -9 mid-save leaves
    names = [m.name for m in store.list_models(include_shipped=False)]
    assert names == ["mine"]


def test_stale_temp_files_from_a_killed_save_are_cleaned(tmp_path):
    import os
    import time

    from mnist_desk.core.store import remove_stale_temp_files

    old = tmp_path / ".model.tmp-abc123.keras"
    new = tmp_path / ".other.tmp-def456.keras"
    keep = tmp_path / "model.keras"
    for p in (old, new, keep):
        p.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(keep, (past, past))
    assert remove_stale_temp_files(tmp_path) == 1
    assert not old.exists() and new.exists() and keep.exists()


def test_listing_models_removes_nothing_and_a_training_run_clears_stale_temp_files(home, monkeypatch):
    import time

    from mnist_desk import cli
    from mnist_desk.core import paths

    folder = paths.user_models_dir()
    old, new = folder / ".model.tmp-abc123.keras", folder / ".other.tmp-def456.keras"
    for p in (old, new):
        p.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.list_models(include_shipped=False) == []
    assert old.exists() and new.exists()  # listing has no side effects
    monkeypatch.setattr(cli, "cmd_train", lambda args, parser: 0)  # the run itself is not what is tested
    assert cli.main(["train", "--arch", "linear"]) == 0
    assert not old.exists() and new.exists()  # a save in progress elsewhere is left alone
