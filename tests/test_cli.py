"""The command line: train, evaluate and predict in-process (capsys), and the entry point in a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mnist_desk import cli
from mnist_desk.core import store

from .conftest import REPO

SHIPPED_LINEAR = store.SHIPPED_MODELS_DIR / "linear.keras"


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`mnist-desk train` once for the module: a linear model on 300 images, one epoch."""
    out = tmp_path_factory.mktemp("cli") / "x.keras"
    code = cli.main(["train", "--arch", "linear", "--epochs", "1", "--limit", "300", "--val-size", "100",
                     "--out", str(out), "--quiet"])
    assert code == 0
    return out


# ------------------------------------------------------------------------------ train
def test_train_writes_the_model_and_its_metadata(trained, capsys):
    assert trained.exists() and trained.with_suffix(".json").exists()
    assert sorted(p.name for p in trained.parent.iterdir()) == ["x.json", "x.keras", "x.timeline.npz"]  # no temporary files left
    meta = json.loads(trained.with_suffix(".json").read_text())
    assert meta["arch"] == "linear" and meta["hparams"] == {"l2": 0.0}
    acc = meta["metrics"]["test_accuracy"]
    assert isinstance(acc, float) and 0.3 < acc <= 1.0
    assert meta["metrics"]["test_log_loss"] > 0 and 0 <= meta["metrics"]["val_accuracy"] <= 1
    t = meta["training"]
    assert t["epochs"] == 1 and t["limit"] == 300 and t["val_size"] == 100 and t["optimizer"] == "adam"
    assert meta["epochs_done"] == 1 and meta["stopped_early"] is False
    assert len(meta["history"]["val_accuracy"]) == 1
    assert meta["data_source"].endswith("mnist.npz")
    assert store.load_model(trained).get_layer("logits")


def test_train_without_out_never_takes_a_shipped_or_earlier_models_name(home, capsys):
    argv = ("train", "--arch", "linear", "--epochs", "1", "--limit", "200", "--val-size", "50", "--quiet")
    saved = []
    for _ in range(2):
        code, stdout, stderr = _run(capsys, *argv)
        assert code == 0, stderr
        saved.append(stdout.strip().splitlines()[-1])
    models = home / "models"
    assert saved == [f"saved {models / 'linear-2.keras'}", f"saved {models / 'linear-3.keras'}"]
    assert [m.name for m in store.list_models()].count("linear") == 1  # the shipped one, alone under its name


def test_train_prints_test_accuracy_and_path(tmp_path, capsys):
    out = tmp_path / "y.keras"
    code, stdout, stderr = _run(capsys, "train", "--arch", "linear", "--epochs", "1", "--limit", "200",
                                "--val-size", "50", "--batch-size", "100", "--out", str(out), "--quiet")
    assert code == 0, stderr
    assert "test accuracy" in stdout and f"saved {out}" in stdout
    assert "Traceback" not in stderr
    assert json.loads(out.with_suffix(".json").read_text())["training"]["batch_size"] == 100


def test_train_hyperparameter_of_another_architecture_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--arch", "linear", "--hidden", "3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--hidden does not apply to linear" in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["train"], "give --arch or --preset"),
        (["train", "--arch", "mlp", "--hidden", "0"], "sizes must be >= 1"),
        (["train", "--arch", "mlp", "--activation", "swish"], "not one of"),
        (["train", "--arch", "resnet"], "invalid choice"),
        (["train", "--preset", "lenet5-adam", "--arch", "mlp"], "leave out --arch mlp"),
        (["train", "--arch", "mlp", "--val-size", "-5"], "-5 is too small"),
        (["train", "--arch", "mlp", "--batch-size", "0"], "0 is too small"),
        (["train", "--arch", "mlp", "--limit", "ten"], "'ten' is not a whole number"),
        (["predict", "--batch-size", "0", "x.png"], "0 is too small"),
        (["predict", "--batch-size", "-1", "x.png"], "-1 is too small"),
    ],
)
def test_other_usage_errors_exit_2(capsys, argv, fragment):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_train_list(capsys):
    code, out, _ = _run(capsys, "train", "--list")
    assert code == 0
    assert "lenet5" in out and "--preset lenet5-sgd" in out and "--hidden ints" in out


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_prints_accuracy_and_confusion_matrix(trained, capsys):
    code, out, err = _run(capsys, "evaluate", str(trained))
    assert code == 0, err
    assert "test accuracy" in out and "10000 test images" in out
    assert "calibration error" in out
    lines = out.splitlines()
    head = lines.index("confusion matrix (rows: true digit, columns: predicted):")
    assert lines[head + 1].split() == [str(d) for d in range(10)]
    rows = [line.split() for line in lines[head + 2 : head + 12]]
    assert [r[0] for r in rows] == [str(d) for d in range(10)]
    matrix = np.array([[int(v) for v in r[1:]] for r in rows])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    acc = float(next(line for line in lines if line.startswith("test accuracy")).split(":")[1])
    assert acc == pytest.approx(np.trace(matrix) / 10000, abs=1e-4)
    meta = json.loads(trained.with_suffix(".json").read_text())
    assert acc == pytest.approx(meta["metrics"]["test_accuracy"], abs=1e-4)


def test_evaluate_json(trained, capsys):
    code, out, _ = _run(capsys, "evaluate", str(trained), "--json")
    assert code == 0
    obj = json.loads(out)
    assert np.array(obj["confusion_matrix"]).sum() == 10000 and 0 < obj["accuracy"] <= 1
    assert 0 <= obj["calibration_error"] <= 1


def test_evaluate_garbage_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "garbage.keras"
    bad.write_bytes(b"\x00\x01 definitely not a model " * 10)
    code, out, err = _run(capsys, "evaluate", str(bad))
    assert code == 1
    assert err.startswith("error: ") and str(bad) in err and "not a Keras model file" in err
    assert "Traceback" not in err and out == ""


def test_evaluate_garbage_in_a_real_process(tmp_path):
    bad = tmp_path / "garbage.keras"
    bad.write_text("hello")
    r = subprocess.run([sys.executable, "-m", "mnist_desk.cli", "evaluate", str(bad)], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith(f"error: {bad}")
    assert "Traceback" not in r.stderr


def test_help_in_a_real_process():
    r = subprocess.run([sys.executable, "-m", "mnist_desk.cli", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: mnist-desk")
    for command in ("train", "evaluate", "predict", "models"):
        assert command in r.stdout
    assert "Exit codes" in r.stdout


# ------------------------------------------------------------------------------ predict
@pytest.fixture(scope="module")
def pictures(tmp_path_factory, mnist):
    """A real MNIST test digit drawn large (dark ink on white), an empty white page and a non-image."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("pictures")
    paths = {}
    for i in (0, 1):
        ink = Image.fromarray(mnist.x_test[i]).resize((200, 200), Image.Resampling.BILINEAR)
        page = Image.fromarray(255 - np.asarray(ink))  # dark ink on white, as a scan or a photo of paper
        paths[f"digit{i}"] = folder / f"digit{i}.png"
        page.save(paths[f"digit{i}"])
    paths["empty"] = folder / "empty.png"
    Image.new("L", (200, 200), 255).save(paths["empty"])
    paths["bad"] = folder / "bad.png"
    paths["bad"].write_text("this is not a picture")
    return paths


def test_predict_json_one_line_per_path_in_order(pictures, mnist, capsys):
    order = [pictures["digit0"], pictures["empty"], pictures["bad"], pictures["digit1"]]
    code, out, err = _run(capsys, "predict", "--model", str(SHIPPED_LINEAR), "--json", *map(str, order))
    assert code == 0, err  # some images were classified
    lines = out.strip().splitlines()
    assert len(lines) == 4
    results = [json.loads(line) for line in lines]
    assert [r["path"] for r in results] == [str(p) for p in order]
    for r in results:
        assert {"path", "digit", "probabilities"} <= set(r)

    for r, i in ((results[0], 0), (results[3], 1)):
        probs = r["probabilities"]
        assert len(probs) == 10 and all(isinstance(v, float) for v in probs)
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert r["digit"] == int(np.argmax(probs)) == int(mnist.y_test[i])
        assert r["verdict"] == "digit"
        assert "error" not in r and "reason" not in r

    empty = results[1]
    assert empty["digit"] is None and empty["probabilities"] is None
    assert "nothing to classify" in empty["reason"] and "error" not in empty
    assert empty["verdict"] == "empty"

    bad = results[2]
    assert bad["digit"] is None and bad["probabilities"] is None
    assert "not an image" in bad["error"]
    assert "verdict" not in bad


def test_predict_says_not_a_digit_for_a_scribble(tmp_path, capsys):
    """The default model, through the command line, on a tangle drawn as a person would scribble it."""
    from PIL import Image

    from mnist_desk.core.non_digits import random_doodle
    from mnist_desk.core.strokes import render_strokes

    paths = []
    for i, kind in enumerate(("scribble", "hatching", "star", "grid")):
        strokes = random_doodle(np.random.default_rng(100 + i), kind)
        paths.append(tmp_path / f"{kind}.png")
        Image.fromarray(render_strokes(strokes, canvas=280, size_frac=0.7, pen_width=14)).save(paths[-1])
    code, out, err = _run(capsys, "predict", "--json", *map(str, paths))
    assert code == 0, err
    verdicts = [json.loads(line)["verdict"] for line in out.strip().splitlines()]
    assert all(v in ("not a digit", "unsure") for v in verdicts), verdicts
    code, out, _ = _run(capsys, "predict", *map(str, paths))
    assert "100.0%" not in out and "sure)" not in out


def test_predict_plain_text(pictures, mnist, capsys):
    code, out, err = _run(capsys, "predict", "--model", str(SHIPPED_LINEAR), str(pictures["digit0"]),
                          str(pictures["empty"]), str(pictures["bad"]))
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{pictures['digit0']}: {mnist.y_test[0]} (") and lines[0].endswith("% sure)")
    assert lines[1].startswith(f"{pictures['empty']}: no digit (")
    assert f"{pictures['bad']}: error:" in err and "Traceback" not in err


def test_predict_only_bad_files_exits_1(pictures, tmp_path, capsys):
    code, out, err = _run(capsys, "predict", "--model", str(SHIPPED_LINEAR), "--json", str(pictures["bad"]),
                          str(tmp_path / "missing.png"))
    assert code == 1
    results = [json.loads(line) for line in out.strip().splitlines()]
    assert [("error" in r) for r in results] == [True, True]
    assert "no such file" in results[1]["error"]


def test_predict_json_stays_valid_json_when_a_model_gives_nan(pictures, tmp_path, capsys):
    from mnist_desk.core import registry

    model = registry.build_model("linear")
    model.set_weights([np.full(w.shape, np.nan, w.dtype) for w in model.get_weights()])
    path = store.save_model(model, {"arch": "linear"}, path=tmp_path / "nan.keras")

    def no_constants(name):
        raise AssertionError(f"invalid JSON constant {name}")

    code, out, err = _run(capsys, "predict", "--model", str(path), "--json", str(pictures["digit0"]))
    assert code == 0, err
    obj = json.loads(out, parse_constant=no_constants)
    assert obj["probabilities"] == [None] * 10 and obj["digit"] is None and obj["verdict"] == "not a digit"


def test_predict_with_a_bad_model_is_a_clear_error(pictures, tmp_path, capsys):
    bad = tmp_path / "m.keras"
    bad.write_text("nope")
    code, out, err = _run(capsys, "predict", "--model", str(bad), str(pictures["digit0"]))
    assert code == 1 and err.startswith("error: ") and str(bad) in err and out == ""
