"""Experiments: variants start from the same weights, run on the same data, fill a table, export CSV/PNG/SVG."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from mnist_desk.core import experiments as E
from mnist_desk.core import store, training
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.runs import RunMetadata


def tiny(exp: E.Experiment, batches: int = 3) -> E.Experiment:
    """The experiment on 300 images, 200 validation images; 3 batches of 100 make one epoch."""
    cfg = replace(exp.base.config, epochs=1, max_batches=batches, val_size=200, batch_size=100)
    return replace(exp, base=replace(exp.base, limit=300, config=cfg))


def test_initial_weights_are_the_models_weights_at_step_0(small_split):
    model = training.train(training.TrainConfig(arch="mlp", hparams={"hidden": [16]}, epochs=1, seed=3), small_split,
                           should_stop=lambda: True).model
    start = [np.random.default_rng(i).normal(size=w.shape).astype(w.dtype) for i, w in enumerate(model.get_weights())]
    # stopped before the first batch: what comes back is the model as training would have begun from
    again = training.train(training.TrainConfig(arch="mlp", hparams={"hidden": [16]}, epochs=1, seed=0), small_split,
                           should_stop=lambda: True, initial_weights=start).model
    for a, b in zip(again.get_weights(), start):
        np.testing.assert_array_equal(a, b)


def test_weights_that_do_not_fit_are_a_clear_error(small_split):
    wrong = [np.zeros((3, 3), np.float32)]
    with pytest.raises(TrainingError, match="starting weights do not fit"):
        training.train(training.TrainConfig(arch="linear", epochs=1), small_split, initial_weights=wrong)


def test_variants_with_matching_shapes_start_from_identical_weights(monkeypatch):
    started: list[tuple[str, list]] = []
    real_train = training.train

    def recording_train(config, split, on_progress=None, should_stop=None, *, initial_weights=None, **keywords):
        # the weights the run's model holds at step 0: its timeline's first snapshot (float16 copies)
        result = real_train(config, split, on_progress, should_stop, initial_weights=initial_weights, **keywords)
        first = result.timeline.snapshots[0]
        assert first.step == 0
        started.append((config.to_dict()["hparams"].get("activation", config.arch),
                        [w for name in sorted(first.weights) for w in first.weights[name]]))
        return result

    monkeypatch.setattr(training, "train", recording_train)
    exp = tiny(E.READY_MADE["sigmoid-vs-relu"], batches=2)
    result = E.run_experiment(exp)
    assert [s[0] for s in started] == ["sigmoid", "relu"]
    (_, a), (_, b) = started
    assert a is not None and len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # ... and they trained differently from there
    assert result.variants[0].metadata.history["batch_loss"] != result.variants[1].metadata.history["batch_loss"]


def test_variants_of_other_architectures_get_their_own_weights(monkeypatch):
    shapes = []
    real_train = training.train

    def recording_train(config, split, on_progress=None, should_stop=None, *, initial_weights=None, **keywords):
        shapes.append((config.arch, [w.shape for w in initial_weights]))
        return real_train(config, split, on_progress, should_stop, initial_weights=initial_weights, **keywords)

    monkeypatch.setattr(training, "train", recording_train)
    E.run_experiment(tiny(E.READY_MADE["linear-vs-mlp"], batches=2))
    assert shapes[0] == ("linear", [(784, 10), (10,)])
    assert shapes[1][0] == "mlp" and shapes[1][1][0] == (784, 256)


def test_tiny_experiment_runs_end_to_end_with_table_and_csv(tmp_path):
    before = {m.name for m in store.list_models(include_shipped=False)}
    reports: list[E.ExperimentProgress] = []
    result = E.run_experiment(tiny(E.READY_MADE["linear-vs-dnn"]), reports.append)
    assert [v.label for v in result.variants] == ["linear", "DNN 100-100"]
    # progress says which variant runs; each variant's result is reported as it ends
    assert {r.index for r in reports if r.progress is not None} == {0, 1}
    assert [r.result.label for r in reports if r.result is not None] == ["linear", "DNN 100-100"]
    rows = result.table()
    assert rows[0]["parameters"] == 7850 and rows[1]["parameters"] == 784 * 100 + 100 + 100 * 100 + 100 + 1010
    for row in rows:
        assert row["status"] == "finished"
        assert 0 <= row["final val acc"] <= row["best val acc"] <= 1
        assert 0 <= row["test acc"] <= 1 and row["train seconds"] > 0
    assert all(v.confusion.shape == (10, 10) and v.confusion.sum() == 10_000 for v in result.variants)
    # the variants are not the user's models
    assert {m.name for m in store.list_models(include_shipped=False)} == before
    path = result.write_csv(tmp_path / "t.csv")
    parsed = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [p["variant"] for p in parsed] == ["linear", "DNN 100-100"]
    assert float(parsed[1]["test acc"]) == pytest.approx(rows[1]["test acc"], abs=1e-4)
    assert parsed[0]["s to 99%"] == ""  # a few batches on 300 images never get there


def test_a_stop_ends_the_experiment_after_the_variant_going():
    calls = {"n": 0}

    def stop_after_a_while():
        calls["n"] += 1
        return calls["n"] > 3

    result = E.run_experiment(tiny(E.READY_MADE["sigmoid-vs-relu"], batches=3), should_stop=stop_after_a_while)
    assert result.stopped and len(result.variants) == 1 and result.variants[0].status == "stopped"


def test_an_abort_skips_testing_the_variant_going():
    import threading

    abort = threading.Event()
    polls = []

    def closing():  # the window closes as the first variant begins training: stop, and abort the rest
        polls.append(1)
        if len(polls) > 1:
            abort.set()
        return abort.is_set()

    result = E.run_experiment(tiny(E.READY_MADE["sigmoid-vs-relu"]), should_stop=closing, abort=abort)
    assert result.stopped and len(result.variants) == 1
    assert result.variants[0].test_accuracy is None and result.variants[0].confusion is None


def test_time_to_accuracy_is_the_first_epoch_reaching_it():
    meta = RunMetadata("mlp", {}, {}, "x", {}, {"val_accuracy": [0.95, 0.975, 0.985, 0.97], "seconds": [1.0, 2.0, 3.5, 4.0]},
                       4.0, 4, False, "", "")
    v = E.VariantResult("a", E.READY_MADE["sigmoid-vs-relu"].base, meta, 10)
    assert (v.seconds_to(0.97), v.seconds_to(0.98), v.seconds_to(0.99)) == (2.0, 3.5, None)
    row = v.row()
    assert row["best val acc"] == 0.985 and row["final val acc"] == 0.97


def test_bad_experiments_are_refused_in_user_terms():
    base = E.READY_MADE["sigmoid-vs-relu"]
    with pytest.raises(TrainingError, match="2 to 4"):
        replace(base, variants=base.variants[:1]).validate()
    with pytest.raises(TrainingError, match="bad: .*learning rate"):
        replace(base, variants=(base.variants[0], E.Variant("bad", {"learning_rate": -1.0}))).validate()
    with pytest.raises(TrainingError, match="odd: .*no hyperparameter 'width'"):
        replace(base, variants=(base.variants[0], E.Variant("odd", {"width": 3}))).validate()


def test_ready_made_experiments_are_valid_and_small():
    assert len(E.READY_MADE) == 5
    for exp in E.READY_MADE.values():
        exp.validate()
        assert exp.base.limit <= 20_000 and exp.shows
        assert all(exp.spec_of(v).config.epochs <= 4 for v in exp.variants)


def test_exports_are_valid_png_and_svg(tmp_path):
    from mnist_desk.core.experiment_figures import export_experiment_figure

    result = E.run_experiment(tiny(E.READY_MADE["linear-vs-dnn"], batches=2))
    png = export_experiment_figure(result, tmp_path / "e.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    root = ET.parse(export_experiment_figure(result, tmp_path / "e.svg")).getroot()
    assert root.tag.endswith("svg")
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "DNN 100-100" in texts  # the legend names the variants, as text
    with pytest.raises(Exception, match=r"\.png or \.svg"):
        export_experiment_figure(result, tmp_path / "e.jpg")


def test_settings_text_round_trips_and_bad_text_is_named():
    for exp in E.READY_MADE.values():
        for v in exp.variants:
            text = E.format_settings(v.overrides)
            assert exp.spec_of(E.Variant(v.label, E.parse_settings(text, exp.base.config.arch))) == exp.spec_of(v)
    assert E.parse_settings("optimizer=sgd; learning_rate=0.05; hidden=512,512", "mlp") == {
        "optimizer": "sgd", "learning_rate": 0.05, "hidden": [512, 512]}
    with pytest.raises(TrainingError, match="name=value"):
        E.parse_settings("optimizer sgd", "mlp")
    with pytest.raises(TrainingError, match="unknown setting 'colour'"):
        E.parse_settings("colour=red", "mlp")
    with pytest.raises(TrainingError, match="batch_size"):
        E.parse_settings("batch_size=big", "mlp")
