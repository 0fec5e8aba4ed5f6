"""The model store: save/list/load round trips, atomic saves, and every kind of bad or hostile model file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_desk.core import registry, store
from mnist_desk.core.errors import ModelFileError, StoreError


@pytest.fixture(scope="module")
def saved_linear(tmp_path_factory, tiny_models):
    """A valid .keras file of ours, saved once, that tests copy and tamper with."""
    return store.save_model(tiny_models["linear"], {"arch": "linear"}, path=tmp_path_factory.mktemp("ref") / "ref.keras")


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def spy_keras_load(monkeypatch):
    """Records every call of keras.saving.load_model (and still runs it)."""
    import keras

    calls = []
    real = keras.saving.load_model

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", spy)
    return calls


# ------------------------------------------------------------------------------ round trip
@pytest.mark.parametrize("arch", ["linear", "mlp", "cnn"])
def test_save_list_load_round_trip(home, tiny_models, mnist, arch):
    model = tiny_models[arch]
    meta = {"arch": arch, "hparams": {"x": 1}, "metrics": {"test_accuracy": np.float32(0.875)},
            "history": {"loss": [np.float64(0.5), 0.25]}, "data_source": Path("/data/mnist.npz")}
    path = store.save_model(model, meta, name=f"my {arch}!")
    assert path.parent == home / "models" and path.suffix == ".keras"
    assert path.stem == f"my-{arch}"  # made safe for a file name
    assert path.with_suffix(".json").exists()

    listed = {m.name: m for m in store.list_models(include_shipped=False)}
    assert path.stem in listed
    m = listed[path.stem]
    assert m.path == path and not m.shipped and m.arch == arch
    assert m.test_accuracy == pytest.approx(0.875)
    assert m.metadata["hparams"] == {"x": 1} and m.metadata["history"]["loss"] == [0.5, 0.25]
    assert m.metadata["data_source"] == "/data/mnist.npz"
    assert m.metadata["name"] == path.stem and "saved" in m.metadata and "app_version" in m.metadata
    assert "test 87.50%" in m.label and arch in m.label
    assert store.find_model(path.stem) == path

    loaded = store.load_model(path)
    x = (mnist.x_test[:32].astype(np.float32) / 255.0)[..., None]
    assert np.allclose(np.asarray(loaded(x, training=False)), np.asarray(model(x, training=False)), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_listing_puts_shipped_first_and_skips_hidden_files(home, tiny_models):
    p = store.save_model(tiny_models["linear"], {"arch": "linear"}, name="mine")
    (p.parent / ".mine.tmp-abc.keras").write_bytes(b"half a file")
    models = store.list_models()
    names = [m.name for m in models]
    assert "mine" in names and not any(n.startswith(".") for n in names)
    shipped = [m for m in models if m.shipped]
    assert shipped and models[: len(shipped)] == shipped  # shipped first
    assert all(m.path.parent == store.SHIPPED_MODELS_DIR for m in shipped)
    assert store.list_models(include_shipped=False)[0].name == "mine"


def test_name_collisions_get_unique_names(home, tiny_models):
    model = tiny_models["linear"]
    paths = [store.save_model(model, {"arch": "linear"}, name="same") for _ in range(3)]
    assert [p.stem for p in paths] == ["same", "same-2", "same-3"]
    assert all(p.with_suffix(".json").exists() for p in paths)
    assert [json.loads(p.with_suffix(".json").read_text())["name"] for p in paths] == ["same", "same-2", "same-3"]
    # No name given: the architecture names it, never as a shipped model is named.
    assert store.save_model(model, {"arch": "mlp"}).stem == "mlp-2"
    assert store.safe_name("  ../../etc/passwd ") == "etc-passwd"
    assert store.safe_name("...") == "model"


def test_a_saved_model_never_shadows_a_shipped_or_earlier_one(home, tiny_models):
    shipped = {m.name for m in store.list_models() if m.shipped}
    assert {"cnn", "linear"} <= shipped
    model = tiny_models["linear"]
    first = store.save_model(model, {"arch": "cnn", "v": 1}, name="cnn")
    second = store.save_model(model, {"arch": "cnn", "v": 2}, name="cnn")
    typed = store.save_model(model, {"arch": "linear"}, name=" linear ")
    assert (first.stem, second.stem, typed.stem) == ("cnn-2", "cnn-3", "linear-2")
    assert json.loads(first.with_suffix(".json").read_text())["v"] == 1  # the earlier save is untouched
    (home / "models" / "orphan.json").write_text("{}")  # details left without their model still hold the name
    assert store.save_model(model, {"arch": "linear"}, name="orphan").stem == "orphan-2"
    names = [m.name for m in store.list_models()]
    assert len(names) == len(set(names))


def test_save_to_an_explicit_path_overwrites_it(tmp_path, tiny_models):
    p = store.save_model(tiny_models["linear"], {"arch": "linear", "v": 1}, path=tmp_path / "out.keras")
    p2 = store.save_model(tiny_models["mlp"], {"arch": "mlp", "v": 2}, path=tmp_path / "out")  # suffix added
    assert p == p2 == tmp_path / "out.keras"
    assert json.loads(p.with_suffix(".json").read_text())["v"] == 2
    assert store.load_model(p).get_layer("hidden1")  # the mlp replaced the linear model
    assert sorted(q.name for q in tmp_path.iterdir()) == ["out.json", "out.keras"]


# ------------------------------------------------------------------------------ atomic save
def test_full_disk_leaves_the_previous_file_intact(tmp_path, tiny_models, monkeypatch):
    import keras

    target = tmp_path / "model.keras"
    store.save_model(tiny_models["linear"], {"arch": "linear", "version": 1}, path=target)
    before = target.read_bytes()
    before_meta = target.with_suffix(".json").read_bytes()
    written = []

    def failing_save(self, filepath, *args, **kwargs):
        # Write half a file where Keras was told to, then fail as a full disk does.
        Path(filepath).write_bytes(before[: len(before) // 2])
        written.append(Path(filepath))
        raise OSError(28, "No space left on device")

    # save_model saves a clean copy of the model, so patch the class, not the instance.
    monkeypatch.setattr(keras.Model, "save", failing_save)
    with pytest.raises(StoreError) as info:
        store.save_model(tiny_models["mlp"], {"arch": "mlp", "version": 2}, path=target)
    msg = str(info.value)
    assert "disk is full" in msg and str(target) in msg
    assert written and written[0] != target and written[0].parent == tmp_path  # it wrote to a temporary file
    assert target.read_bytes() == before  # byte-identical
    assert target.with_suffix(".json").read_bytes() == before_meta
    assert list(tmp_path.glob(".*tmp*")) == [] and list(tmp_path.glob("*tmp*")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.keras"]
    monkeypatch.undo()
    assert store.load_model(target).get_layer("logits")  # still loads


def test_permission_error_is_a_store_error(tmp_path, tiny_models, monkeypatch):
    import keras

    def denied(self, filepath, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(keras.Model, "save", denied)
    with pytest.raises(StoreError, match="no permission"):
        store.save_model(tiny_models["linear"], {"arch": "linear"}, path=tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_bytes(tmp_path):
    p = tmp_path / "a.json"
    store.atomic_write_bytes(p, b"one")
    store.atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"

    def boom(tmp):
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.atomic_write(p, boom)
    assert p.read_bytes() == b"two" and [q.name for q in tmp_path.iterdir()] == ["a.json"]


# ------------------------------------------------------------------------------ bad files
def _expect(path, *fragments):
    with pytest.raises(ModelFileError) as info:
        store.load_model(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for f in fragments:
        assert f.lower() in msg.lower(), msg
    return msg


def test_text_file_named_keras(tmp_path):
    p = tmp_path / "notes.keras"
    p.write_text("just some text, not a model")
    _expect(p, "not a Keras model file")


def test_truncated_keras_file(tmp_path, saved_linear):
    p = tmp_path / "half.keras"
    raw = saved_linear.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    _expect(p, "damaged or truncated")


def test_model_with_another_input_shape(tmp_path, spy_keras_load):
    import keras

    inp = keras.Input(shape=(32, 32, 1))
    x = keras.layers.Flatten()(inp)
    out = keras.layers.Dense(10, activation="softmax", name="logits")(x)
    p = tmp_path / "cifar_like.keras"
    keras.Model(inp, out).save(p)
    _expect(p, "(32, 32, 1)", "28x28x1")


def test_model_with_another_output_shape(tmp_path):
    import keras

    inp = keras.Input(shape=(28, 28, 1))
    out = keras.layers.Dense(3, activation="softmax", name="logits")(keras.layers.Flatten()(inp))
    p = tmp_path / "three.keras"
    keras.Model(inp, out).save(p)
    _expect(p, "outputs of shape (3,)")


def test_model_without_logits_layer(tmp_path):
    import keras

    inp = keras.Input(shape=(28, 28, 1))
    out = keras.layers.Dense(10, activation="softmax", name="dense_out")(keras.layers.Flatten()(inp))
    p = tmp_path / "nologits.keras"
    keras.Model(inp, out).save(p)
    _expect(p, "no 'logits' layer")


@pytest.mark.parametrize("name", ["old.h5", "old.keras"])
def test_legacy_h5_file(tmp_path, name, spy_keras_load):
    p = tmp_path / name
    p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 512)  # the HDF5 signature
    _expect(p, "legacy HDF5")
    assert spy_keras_load == []


def test_folder_and_saved_model_folder(tmp_path):
    folder = tmp_path / "dir.keras"
    folder.mkdir()
    _expect(folder, "is a folder")
    sm = tmp_path / "saved_model"
    sm.mkdir()
    (sm / "saved_model.pb").write_bytes(b"\x08\x01")
    _expect(sm, "SavedModel")


def test_missing_file(tmp_path):
    _expect(tmp_path / "nothing.keras", "no such file")


def test_archive_without_weights_or_with_extra_members(tmp_path, saved_linear, spy_keras_load):
    members = _members(saved_linear)
    _expect(_write_zip(tmp_path / "noweights.keras", {k: v for k, v in members.items() if k != "model.weights.h5"}),
            "config.json or weights missing")
    _expect(_write_zip(tmp_path / "extra.keras", {**members, "assets/run.py": b"print('hi')"}), "unexpected member")
    bad = dict(members, **{"config.json": b"{not json"})
    _expect(_write_zip(tmp_path / "badjson.keras", bad), "damaged or truncated")
    assert spy_keras_load == []


# ------------------------------------------------------------------------------ hostile files
def test_lambda_layer_is_refused_before_keras_runs_it(tmp_path, spy_keras_load):
    import keras

    marker = tmp_path / "payload_ran"
    # The Lambda's function creates the marker file whenever Keras calls it (also while rebuilding the model).
    fn = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")  # noqa: S307 - the test payload
    inp = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Lambda(fn, name="payload")(inp)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(10, name="logits")(x)
    out = keras.layers.Activation("softmax", name="probabilities")(logits)
    p = tmp_path / "lambda.keras"
    keras.Model(inp, out).save(p)
    marker.unlink()  # building the model above called the function once
    config = json.loads(_members(p)["config.json"])
    assert "Lambda" in json.dumps(config)

    msg = _expect(p, "keras.layers.Lambda", "refusing")
    assert not marker.exists()
    assert spy_keras_load == []  # refused before Keras was asked to open the file

    # The payload is real: Keras without safe mode would have run it.
    spy_keras_load.clear()
    keras.saving.load_model(p, safe_mode=False)
    assert marker.exists(), msg


def _tampered(tmp_path, saved_linear, name, edit) -> Path:
    members = _members(saved_linear)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return _write_zip(tmp_path / name, members)


def _dense_configs(config):
    return [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]


def test_builtins_exec_function_is_refused(tmp_path, saved_linear, spy_keras_load):
    payload = {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"}

    def edit(config):
        _dense_configs(config)[0]["config"]["activation"] = payload

    p = _tampered(tmp_path, saved_linear, "exec.keras", edit)
    _expect(p, "builtins.function", "refusing")
    assert spy_keras_load == []


@pytest.mark.parametrize(
    "name,edit,fragment",
    [
        ("custom.keras", lambda c: _dense_configs(c)[0].update(module="evil.layers"), "evil.layers.Dense"),
        ("registered.keras", lambda c: _dense_configs(c)[0].update(registered_name="Custom>Dense"), "custom object"),
        ("activation.keras", lambda c: _dense_configs(c)[0]["config"].update(activation="os.system"), "activation 'os.system'"),
        ("nomodule.keras", lambda c: _dense_configs(c)[0].pop("module"), "'Dense'"),
        ("lora.keras", lambda c: _dense_configs(c)[0]["config"].update(lora_rank=100_000), "LoRA"),
        ("string-input.keras", lambda c: c["config"]["layers"][0]["config"].update(dtype="string"), "computes in 'string'"),
        ("int-policy.keras", lambda c: _dense_configs(c)[0]["config"]["dtype"]["config"].update(name="int32"),
         "computes in 'int32'"),
    ],
)
def test_other_config_tampering_is_refused(tmp_path, saved_linear, spy_keras_load, name, edit, fragment):
    _expect(_tampered(tmp_path, saved_linear, name, edit), fragment)
    assert spy_keras_load == []


def test_path_traversing_member_is_refused(tmp_path, saved_linear, spy_keras_load):
    members = _members(saved_linear)
    p = _write_zip(tmp_path / "evil.keras", {**members, "../evil": b"owned"})
    _expect(p, "unsafe path", "../evil")
    assert not (tmp_path.parent / "evil").exists()
    for bad in ("/etc/evil", "a/../../evil"):
        _expect(_write_zip(tmp_path / "evil2.keras", {**members, bad: b"x"}), "unsafe path")
    assert spy_keras_load == []


def test_the_unmodified_copy_loads(tmp_path, saved_linear, spy_keras_load):
    """The tampering helpers themselves produce loadable files when nothing is changed."""
    p = _tampered(tmp_path, saved_linear, "same.keras", lambda c: None)
    assert store.load_model(p).get_layer(registry.LOGITS_LAYER)
    assert len(spy_keras_load) == 1


def test_shipped_models_pass_the_vetting():
    shipped = sorted(store.SHIPPED_MODELS_DIR.glob("*.keras"))
    assert shipped
    for p in shipped:
        store.vet_model_archive(p)


def test_find_model_unknown_name(home):
    with pytest.raises(ModelFileError, match="no model named 'nope'"):
        store.find_model("nope")
    assert store.find_model("some/where.keras") == Path("some/where.keras")


def _tampered_weights(tmp_path, saved_linear, name, edit):
    """A copy of the saved linear model whose weights file was changed by ``edit(h5file, dataset_names)``."""
    import io
    import zipfile

    import h5py

    zin = zipfile.ZipFile(saved_linear)
    bio = io.BytesIO(zin.read("model.weights.h5"))
    with h5py.File(bio, "r+") as h5:
        names = []
        h5.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        edit(h5, names)
    out = tmp_path / name
    with zipfile.ZipFile(out, "w") as z:
        for member in zin.namelist():
            z.writestr(member, bio.getvalue() if member == "model.weights.h5" else zin.read(member))
    return out


def test_weights_that_read_another_file_are_refused(tmp_path, saved_linear, spy_keras_load):
    import h5py

    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x01" * 4096)

    def external(h5, names):
        d = h5[names[-1]]
        shape, dtype, parent, key = d.shape, d.dtype, d.parent, d.name.rsplit("/", 1)[1]
        del parent[key]
        parent.create_dataset(key, shape=shape, dtype=dtype, external=[(str(secret), 0, h5py.h5f.UNLIMITED)])

    _expect(_tampered_weights(tmp_path, saved_linear, "external.keras", external), "other files")
    assert spy_keras_load == []


def test_weights_linked_to_other_weights_are_refused(tmp_path, saved_linear, spy_keras_load):
    import h5py

    def soft(h5, names):
        kernel, bias = h5[names[0]], h5[names[1]]
        parent, key = bias.parent, bias.name.rsplit("/", 1)[1]
        del parent[key]
        parent[key] = h5py.SoftLink(kernel.name)  # the bias reads the kernel's bytes

    _expect(_tampered_weights(tmp_path, saved_linear, "soft.keras", soft), "SoftLink")
    assert spy_keras_load == []


@pytest.mark.parametrize("damage", ["x", 3, ["x"], {"keras_history": "x"}])
def test_a_config_whose_layer_links_hold_other_json_values_is_refused_cleanly(damage):
    """A fuzzed config.json put a string where a layer's link to the one before it belongs (found by the fuzz test)."""
    from mnist_desk.core import model_plan

    shipped = next(m for m in store.list_models() if m.shipped)
    with zipfile.ZipFile(shipped.path) as zf:
        config = json.loads(zf.read("config.json"))
    model_plan.plan_model(config)  # the undamaged config plans
    layer = next(lay for lay in config["config"]["layers"] if lay.get("inbound_nodes"))
    layer["inbound_nodes"][0]["args"][0]["config"] = damage
    with pytest.raises(ModelFileError):
        model_plan.plan_model(config)
