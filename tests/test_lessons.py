"""The lessons: well-formed, referring to what exists, and each training step runs headless and is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_desk.core import lessons as L
from mnist_desk.core import registry
from mnist_desk.core.errors import Cancelled
from mnist_desk.core.experiments import READY_MADE

TINY = 300  # images per training step, one epoch


def test_five_lessons_one_per_seed_each_with_three_steps_and_bad_settings():
    assert [les.seed for les in L.LESSONS] == ["000", "001", "002", "003", "004"]
    for les in L.LESSONS:
        assert len(les.steps) >= 3, les.seed
        bad = [s for s in les.steps if s.bad_settings]
        assert bad and all(s.trains and s.check is not None for s in bad), les.seed
        assert all(s.title and len(s.text) > 60 for s in les.steps)  # a few sentences, not a label


def test_every_action_refers_to_presets_experiments_and_views_that_exist():
    assert L.validate_lessons() == []
    for les in L.LESSONS:
        for s in les.steps:
            a = s.action
            if isinstance(a, L.TrainAction):
                preset = registry.PRESETS[a.preset]  # a KeyError names a preset that does not exist
                assert a.spec.config.arch == preset.arch, (les.seed, s.key)
            elif isinstance(a, L.ExperimentAction):
                labels = [v.label for v in READY_MADE[a.name].variants]
                # the figure it is checked on is one of the experiment's variants
                assert any(s.notebook_figure.key == f"{label} test accuracy" for label in labels), (les.seed, s.key)
            else:
                assert a.subview in L.VIEWS[a.view]


def test_validation_names_what_does_not_exist():
    broken = L.Lesson("999", "t", "i", (
        L.Step("a", "t", "x", L.ExperimentAction("no-such-experiment")),
        L.Step("b", "t", "x", L.ShowAction("inspect", "no-such-view")),
        L.Step("c", "t", "x", L.TrainAction(L.arch_spec("linear", 100, optimizer="nope"))),
        L.Step("d", "t", "x", L.TrainAction(L.arch_spec("linear", 100), preset="no-such-preset")),
    ))
    problems = L.validate_lessons([broken])
    assert len(problems) >= 4  # each bad action, and the training steps with no figure or check
    assert any("no-such-experiment" in p for p in problems) and any("no-such-view" in p for p in problems)
    assert any("nope" in p for p in problems) and any("no-such-preset" in p for p in problems)


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_each_lessons_training_steps_run_headless_on_a_tiny_subset(seed):
    les = L.lesson(seed)
    for step in (s for s in les.steps if s.trains):
        fractions = []
        result = L.run_step(step, limit=TINY, on_progress=fractions.append, lesson_seed=seed)
        assert result.status in ("finished", "diverged"), (seed, step.key)
        assert fractions and fractions[-1] == 1.0
        check = step.check(result)
        assert check.notebook_value == step.notebook_figure.value or step.notebook_figure.value is None
        if result.status == "finished":
            assert check.app_value is not None and 0.0 <= abs(check.app_value) <= 1.0, (seed, step.key)
        line = check.line(step.notebook_figure.key)
        assert line.startswith(("✓", "✗")) and "app" in line and "notebook" in line


def test_a_tiny_run_uses_the_tiny_subset_and_one_epoch():
    step = L.lesson("000").step("linear")
    spec = L.step_spec("000", step, limit=TINY)
    assert spec.limit == TINY and spec.config.val_size == 1000
    assert L.step_spec("000", step).limit == L.SUBSET and L.step_spec("000", step).config.epochs == 3
    result = L.run_step(step, limit=TINY)
    assert result.summary.startswith(f"1 epochs on {TINY:,} images")


def test_checks_judge_the_value_against_the_notebook():
    fig = L.Figure("val accuracy", 0.93)
    reach = L.reaches(fig, 0.02, "fewer epochs")
    assert reach(L.StepResult({"val accuracy": 0.931})) == L.Check(True, 0.931, 0.93, "")  # close: no why
    assert reach(L.StepResult({"val accuracy": 0.915})).passed and reach(L.StepResult({"val accuracy": 0.915})).why
    assert not reach(L.StepResult({"val accuracy": 0.90})).passed
    assert not reach(L.StepResult({}, status="stopped")).passed
    short = L.falls_short(fig, 0.05, "too high")
    assert short(L.StepResult({"val accuracy": 0.5})).passed
    assert not short(L.StepResult({"val accuracy": 0.92})).passed  # bad settings that did fine: not learnt
    assert short(L.StepResult({}, status="diverged")).passed
    gap = L.exceeds("train-val accuracy gap", 0.05, "overfit")
    assert gap(L.StepResult({"train-val accuracy gap": 0.2})).passed
    assert not gap(L.StepResult({"train-val accuracy gap": 0.01})).passed


def test_results_round_trip_through_their_dicts():
    r = L.StepResult({"val accuracy": 0.9, "seconds": 3.0}, "finished", "3 epochs")
    assert L.StepResult.from_dict(r.to_dict()) == r
    assert L.StepResult.from_dict({"values": {"x": "junk", "y": 1}}).values == {"y": 1.0}
    for damaged in ([1, 2], "ab", 3, None):  # a settings file damaged or edited by hand
        assert L.StepResult.from_dict({"values": damaged, "status": "finished"}).values == {}


def test_tensorboard_steps_write_logs_into_the_lessons_folder(home):
    if not L.tensorboard_available():
        pytest.skip("tensorboard is not installed")
    step = L.lesson("003").step("sgd")
    L.run_step(step, limit=200, lesson_seed="003")
    logs = Path(home) / "lessons" / "tensorboard" / "003-sgd"
    assert any(p.name.startswith("events.out.tfevents") for p in logs.rglob("*"))


def test_a_stop_ends_the_step_and_a_show_step_cannot_run_headless():
    with pytest.raises(Cancelled):
        L.run_step(L.lesson("000").step("linear"), limit=TINY, should_stop=lambda: True)
    with pytest.raises(TypeError):
        L.run_step(L.lesson("001").step("templates"))
