"""Exporting a run: the script reproduces the app's run in a process that cannot import mnist_desk, each
step of it (layers, data split, learning rate) matches the app's own code, the notebook runs top to
bottom in a real kernel, and ``mnist-desk export`` writes both."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mnist_desk.core import export_run, registry
from mnist_desk.core.paths import SHIPPED_MNIST, SHIPPED_MODELS_DIR
from mnist_desk.core.runs import TrainSpec, run_training, spec_from_metadata
from mnist_desk.core.training import TrainConfig

NO_ADDITIONS = dict(drawn_style=0, pen_digits=0, not_digits=0)
# Run in a fresh interpreter where importing mnist_desk fails, whatever is installed: the script must not need it.
WITHOUT_MNIST_DESK = ("import runpy, sys; sys.modules['mnist_desk'] = None; script = sys.argv[1]; "
                      "sys.argv = sys.argv[1:]; runpy.run_path(script, run_name='__main__')")


def run_script(path, *args, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", WITHOUT_MNIST_DESK, str(path), *map(str, args)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def printed_test_accuracy(stdout: str) -> float:
    return float(re.search(r"^test accuracy: (0\.\d{4})$", stdout, re.M).group(1))


def code_cells(spec: TrainSpec) -> dict[str, str]:
    """The notebook's code cells by the title of the markdown cell before each."""
    cells, title = {}, None
    for cell in export_run.notebook_for(spec).cells:
        if cell.cell_type == "markdown":
            title = cell.source.splitlines()[0].lstrip("# ")
        else:
            cells[title] = cell.source
    return cells


# ------------------------------------------------------------------------------ the script reproduces the run
@pytest.mark.parametrize("arch, hparams", [("linear", {"l2": 1e-4}), ("mlp", {"hidden": [64]})])
def test_the_exported_script_reaches_the_apps_test_accuracy_without_mnist_desk(arch, hparams, tmp_path):
    # Enough small steps (94) for both to settle: measured, the two differ by under 0.5 points across seeds.
    config = TrainConfig(arch=arch, hparams=hparams, epochs=3, batch_size=16, learning_rate=0.005 if arch == "linear"
                         else 0.002, val_size=1000, lr_schedule="cosine")
    spec = TrainSpec(config, limit=500, **NO_ADDITIONS)
    app = run_training(spec, save=False)
    assert app.failure is None and app.n_train == 500
    # the run's record gives back the spec that made it (what the Train view and the CLI export from)
    assert spec_from_metadata(app.metadata.to_dict()) == app.spec

    text = export_run.script_for(spec_from_metadata(app.metadata.to_dict()))
    assert not re.search(r"^\s*(import|from)\s+mnist_desk", text, re.M)
    assert set(re.findall(r"^(?:import|from) (\w+)", text, re.M)) <= {"argparse", "math", "keras", "numpy", "matplotlib"}
    script = tmp_path / "run.py"
    script.write_text(text)
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = run_script(script, "--data", SHIPPED_MNIST, cwd=work)
    assert "500 training images, 1000 validation images, 10000 test images" in out
    epochs = re.findall(r"^epoch (\d)/3: .*val accuracy (0\.\d{4})$", out, re.M)
    assert [e for e, _ in epochs] == ["1", "2", "3"]
    assert abs(printed_test_accuracy(out) - app.test_accuracy) <= 0.02, (printed_test_accuracy(out), app.test_accuracy)
    assert abs(float(epochs[-1][1]) - app.result.history["val_accuracy"][-1]) <= 0.03
    png = (work / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_what_cannot_be_exported_is_said_at_the_top_and_the_script_trains_on_mnist_alone(tmp_path):
    config = TrainConfig(arch="linear", epochs=2, batch_size=16, learning_rate=0.01, val_size=300, augment=True)
    spec = TrainSpec(config, data_path=str(tmp_path / "digits.csv"), limit=None, use_my_digits=True,
                     drawn_style=1000, pen_digits=0, not_digits=50)
    text = export_run.script_for(spec)
    header = " ".join(text.split('"""')[1].split())  # as read, whatever the line breaks
    assert "Left out" in header
    for fragment in ("your own labelled digits", "1,000 MNIST digits re-drawn", "50 drawings that are not digits",
                     "augmentation", "digits.csv (not an MNIST .npz)"):
        assert fragment in header, fragment
    assert "pen digits" not in header  # none were added
    assert "Left out" not in export_run.script_for(TrainSpec(config.__class__(arch="linear"), **NO_ADDITIONS))
    script = tmp_path / "run.py"
    script.write_text(text)
    out = run_script(script, "--data", SHIPPED_MNIST, "--limit", 200, "--curves", tmp_path / "c.png", cwd=tmp_path)
    assert "200 training images, 300 validation images" in out and 0.3 < printed_test_accuracy(out) <= 1.0


# ------------------------------------------------------------------------------ each step matches the app's code
ARCH_CASES = [
    ("linear", {"l2": 1e-3}),
    ("linear", {}),
    ("mlp", {"hidden": [32, 16], "activation": "sigmoid", "dropout": 0.3, "l2": 1e-3}),
    ("mlp", {"hidden": [8]}),
    ("lenet5", {}),
    ("cnn", {"width": 4, "dense": 16, "dropout": 0.2}),
    ("cnn", {"width": 4, "dense": 16, "dropout": 0.0}),
    ("strided", {"width": 4, "dense": 8}),
]


@pytest.mark.parametrize("arch, hparams", ARCH_CASES)
def test_the_exported_network_has_the_registrys_layers_and_starting_weights(arch, hparams):
    import keras

    keras.utils.set_random_seed(3)
    app = registry.build_model(arch, hparams)
    keras.utils.set_random_seed(3)
    scope = {"keras": keras}
    exec(export_run.model_code(arch, hparams), scope)  # noqa: S102 - the code under test
    exported = scope["model"]
    assert [(type(layer).__name__, layer.get_config()) for layer in exported.layers] == \
           [(type(layer).__name__, layer.get_config()) for layer in app.layers]
    assert len(exported.get_weights()) == len(app.get_weights())
    for a, b in zip(exported.get_weights(), app.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("arch, hparams", [("cnn", {"width": 4, "dense": 16}), ("strided", {"width": 4, "dense": 8})])
def test_the_exported_batch_norm_statistics_are_the_apps(arch, hparams, mnist):
    import keras

    from mnist_desk.core.data import to_float_images
    from mnist_desk.core.training import batch_norm_layers, recompute_batch_norm_statistics

    app, exported = registry.build_model(arch, hparams, seed=1), registry.build_model(arch, hparams, seed=1)
    images = mnist.x_train[:300]
    recompute_batch_norm_statistics(app, images, 64, seed=0)
    scope = {"keras": keras, "np": np, "SEED": 0, "BATCH_SIZE": 64}
    exec(export_run.BATCH_NORM_CODE, scope)  # noqa: S102
    scope["measure_batch_norm_statistics"](exported, to_float_images(images), 1)
    layers = list(zip(batch_norm_layers(app), batch_norm_layers(exported)))
    assert len(layers) == {"cnn": 5, "strided": 3}[arch]
    for a, b in layers:
        assert not np.allclose(np.asarray(b.moving_variance), 1.0)  # measured, not Keras' starting values
        np.testing.assert_allclose(np.asarray(b.moving_mean), np.asarray(a.moving_mean), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(b.moving_variance), np.asarray(a.moving_variance), rtol=1e-3, atol=1e-5)


def test_the_exported_data_are_the_apps_training_and_validation_images(monkeypatch):
    from mnist_desk.core.training_data import prepare_training_data

    monkeypatch.setenv(export_run.LIMIT_VARIABLE, "300")
    monkeypatch.setenv(export_run.DATA_VARIABLE, str(SHIPPED_MNIST))
    spec = TrainSpec(TrainConfig(arch="linear", val_size=700), limit=5000, **NO_ADDITIONS)
    cells = code_cells(spec)
    scope: dict = {}
    for title in ("Imports", "Settings", "Data"):
        exec(cells[title], scope)  # noqa: S102
    app = prepare_training_data(700, limit=300).split
    for name in ("train", "val"):
        x, y = scope[f"x_{name}"], scope[f"y_{name}"]
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1) and x.max() <= 1.0
        np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), getattr(app, f"x_{name}"))
        np.testing.assert_array_equal(y, getattr(app, f"y_{name}"))
    assert len(scope["x_train"]) == 300 and len(scope["x_val"]) == 700 and len(scope["x_test"]) == 10_000


@pytest.mark.parametrize("optimizer, schedule", [("adam", "constant"), ("sgd", "cosine"), ("rmsprop", "onecycle"),
                                                 ("adagrad", "cosine")])
def test_the_exported_optimizer_and_learning_rate_follow_the_apps_schedule(optimizer, schedule):
    from mnist_desk.core.training import _make_schedule

    config = TrainConfig(arch="linear", optimizer=optimizer, learning_rate=0.02, momentum=0.9, batch_size=50,
                         epochs=4, lr_schedule=schedule)
    cells = code_cells(TrainSpec(config, **NO_ADDITIONS))
    scope: dict = {"x_train": np.zeros((1000, 28, 28, 1), np.float32)}  # 20 steps an epoch, 80 in all
    for title in ("Imports", "Settings", "The network", "How it learns"):
        exec(cells[title], scope)  # noqa: S102
    exported = scope["optimizer"]
    app = registry.make_optimizer(optimizer, _make_schedule(config, 80), config.momentum)
    assert type(exported) is type(app)
    assert getattr(exported, "momentum", None) == getattr(app, "momentum", None)
    rate = lambda opt, step: float(opt.learning_rate if schedule == "constant" else opt._learning_rate(step))  # noqa: E731
    for step in (0, 5, 11, 40, 79):
        assert rate(exported, step) == pytest.approx(rate(app, step), rel=1e-6), step
    assert scope["model"].loss == "sparse_categorical_crossentropy"


# ------------------------------------------------------------------------------ the notebook
def test_the_notebook_is_valid_and_runs_top_to_bottom_on_a_few_images(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    spec = TrainSpec(TrainConfig(arch="linear", epochs=2, batch_size=32, learning_rate=0.005, val_size=500),
                     **NO_ADDITIONS)
    path = export_run.write_notebook(spec, tmp_path / "run.ipynb", run_name="quick")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and 'run "quick"' in nb.cells[0].source
    assert all(c.cell_type == "markdown" for c in nb.cells[1::2]) and all(c.cell_type == "code" for c in nb.cells[2::2])
    monkeypatch.setenv(export_run.LIMIT_VARIABLE, "200")  # the kernel inherits these
    monkeypatch.setenv(export_run.DATA_VARIABLE, str(SHIPPED_MNIST))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "200 training images, 500 validation images, 10000 test images" in text
    assert re.search(r"^epoch 2/2: .*val accuracy 0\.\d{4}$", text, re.M)
    assert 0.3 < printed_test_accuracy(text) <= 1.0
    last = nb.cells[-1]
    assert any("image/png" in o.get("data", {}) for o in last.outputs)


# ------------------------------------------------------------------------------ the command line
def test_the_cli_writes_a_script_and_a_notebook_from_a_shipped_models_record(tmp_path, capsys):
    import nbformat

    from mnist_desk.cli import main

    script, notebook = tmp_path / "linear.py", tmp_path / "linear.ipynb"
    assert main(["export", "linear", "--script", str(script), "--notebook", str(notebook)]) == 0
    assert f"wrote {script}" in capsys.readouterr().out
    text = script.read_text()
    # the shipped linear model's recorded run: L2 5e-4, Adam 0.004, cosine, 20 epochs
    for fragment in ("keras.regularizers.L2(0.0005)", "LEARNING_RATE = 0.004", "EPOCHS = 20", "CosineDecay",
                     "keras.optimizers.Adam(", "VAL_SIZE = 10000", 'the mnist_desk run "linear"'):
        assert fragment in text, fragment
    compile(text, str(script), "exec")
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert "EPOCHS = 20" in "".join(c.source for c in nb.cells)


def test_the_cli_says_what_it_cannot_export(tmp_path, capsys):
    from mnist_desk.cli import main

    assert main(["export", "cnn", "--script", str(tmp_path / "cnn.py")]) == 0
    assert "left out: augmentation" in capsys.readouterr().err
    bare = tmp_path / "bare.keras"
    shutil.copy(SHIPPED_MODELS_DIR / "linear.keras", bare)  # a model without its details: no run to export
    assert main(["export", str(bare), "--script", str(tmp_path / "x.py")]) == 1
    assert "no record of how it was trained" in capsys.readouterr().err and not (tmp_path / "x.py").exists()
    assert main(["export", "no-such-model", "--script", str(tmp_path / "x.py")]) == 1
    odd = tmp_path / "odd.keras"
    shutil.copy(SHIPPED_MODELS_DIR / "linear.keras", odd)
    meta = json.loads((SHIPPED_MODELS_DIR / "linear.json").read_text())
    meta["training"]["optimizer"] = "lion"  # not one the app (or the export) knows
    odd.with_suffix(".json").write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["export", str(odd), "--script", str(tmp_path / "x.py")]) == 1
    assert "unknown optimizer 'lion'" in capsys.readouterr().err and not (tmp_path / "x.py").exists()
    with pytest.raises(SystemExit) as exc:
        main(["export", "linear"])
    assert exc.value.code == 2


def test_a_hostile_name_or_data_path_stays_text_and_a_bad_record_is_refused():
    import ast

    from mnist_desk.core.errors import MnistDeskError
    from mnist_desk.core.export_run import script_for
    from mnist_desk.core.runs import spec_from_metadata

    meta = {"arch": "linear", "hparams": {}, "training": {"epochs": 1}, "data_source": '/tmp/a"""b\\N.npz'}
    name = 'evil\\N{x}"""; print("ran")\\'
    tree = ast.parse(script_for(spec_from_metadata(meta), run_name=name))  # a backslash or quotes break nothing
    docstring = ast.get_docstring(tree)
    assert "evil\\N{x}" in docstring and '/tmp/a' in docstring
    assert not any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print" and
                   any(getattr(a, "value", None) == "ran" for a in n.args) for n in ast.walk(tree))
    for bad in ({"limit": "5; print(1)"}, {"limit": -3}, {"drawn_style": 1.5}, {"pen_digits": True}):
        with pytest.raises(MnistDeskError, match="invalid"):
            spec_from_metadata({"arch": "linear", "hparams": {}, "training": {"epochs": 1, **bad}})
