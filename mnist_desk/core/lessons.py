"""Lessons: the five seed notebooks as guided steps, each checked against the figure its notebook reported.

A :class:`Lesson` is one notebook; its :class:`Step`\\ s each explain one idea, name what the app should do
(``action``: plain data the window interprets: train a :class:`~.runs.TrainSpec`, run a ready-made
experiment, or show a view), quote the notebook's figure, and judge the app's result against it
(``check``). The window runs a step through the Train view or the Experiments window, so the run is the
same ``TrainSpec`` as here; :func:`run_step` runs it headless (tests, ``benchmarks/lessons.py``).

The notebooks trained on 50,000-55,000 images for up to 40 epochs; on a 2-core CPU a lesson must take a few
minutes, so the steps train on documented subsets (``limit``, fewer epochs) and say so.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

from . import registry
from .errors import Cancelled, TrainingError
from .experiments import READY_MADE
from .runs import TrainSpec
from .training import TrainConfig

# The views a ShowAction may open, and their sub-views (by the start of the sub-view's title, as
# ui/subviews.py ``show_view`` finds them; tests/ui/test_lessons_view.py opens each one in the real window).
VIEWS: dict[str, tuple[str, ...]] = {
    "draw": (),
    "train": (),
    "inspect": ("weights", "gradients", "errors", "hidden features", "summary"),
    "lab": ("robustness", "preprocessing", "nudges", "its idea", "break it"),
}


# ------------------------------------------------------------------------------ actions
@dataclass(frozen=True)
class TrainAction:
    """Train ``spec`` (in the window: load it into the Train view's form and Start)."""

    spec: TrainSpec
    preset: str | None = None  # the preset it starts from (the Train view's list shows it)
    tensorboard: bool = False  # write TensorBoard logs (into the user data folder's lessons/ folder)


@dataclass(frozen=True)
class ExperimentAction:
    """Run the ready-made experiment ``name`` on ``images`` training images (the Experiments window)."""

    name: str
    images: int | None = None  # None: the experiment's own subset
    epochs: int | None = None


@dataclass(frozen=True)
class ShowAction:
    """Open a view (and one of its sub-views) on the model the lesson trained last."""

    view: str
    subview: str | None = None


Action = TrainAction | ExperimentAction | ShowAction


# ------------------------------------------------------------------------------ figures and checks
class Figure(NamedTuple):
    """A figure the notebook reported: ``key`` names the value in a :class:`StepResult` it compares with."""

    key: str
    value: float | None
    note: str = ""  # what the notebook ran to get it

    def text(self) -> str:
        shown = "—" if self.value is None else _fmt(self.key, self.value)
        return f"{self.key}: {shown}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Check:
    passed: bool
    app_value: float | None
    notebook_value: float | None
    why: str  # one line on why the app's figure differs from the notebook's (empty when they agree)

    def line(self, key: str) -> str:
        app = "—" if self.app_value is None else _fmt(key, self.app_value)
        book = "—" if self.notebook_value is None else _fmt(key, self.notebook_value)
        out = f"{'✓' if self.passed else '✗'} {key}: app {app} / notebook {book}"
        return f"{out}. {self.why}" if self.why else out


@dataclass
class StepResult:
    """What a step's run gave: named values (``val accuracy``, ``test accuracy``, ``seconds``, an
    experiment's ``<variant> test accuracy``...), and whether it diverged or was stopped."""

    values: dict[str, float] = field(default_factory=dict)
    status: str = "finished"  # finished | stopped | diverged
    summary: str = ""

    def to_dict(self) -> dict:
        return {"values": dict(self.values), "status": self.status, "summary": self.summary}

    @classmethod
    def from_dict(cls, d: dict) -> "StepResult":
        raw = d.get("values")  # (from the settings file: anything a hand edit or damage left there)
        values = {str(k): float(v) for k, v in raw.items() if isinstance(v, (int, float))} if isinstance(raw, dict) else {}
        return cls(values, str(d.get("status", "finished")), str(d.get("summary", "")))


def _fmt(key: str, value: float) -> str:
    if "accuracy" in key or "gap" in key:
        return f"{value * 100:.1f}%"
    if "seconds" in key:
        return f"{value:.0f} s"
    return f"{value:g}"


def reaches(figure: Figure, tolerance: float, why: str) -> Callable[[StepResult], Check]:
    """Passes when the app's value is within ``tolerance`` below the notebook's (or above it); ``why`` is
    said whenever the two differ by more than half a point."""
    def check(result: StepResult) -> Check:
        app = result.values.get(figure.key)
        if app is None:
            return Check(False, None, figure.value, f"the run {result.status} before giving this figure")
        close = figure.value is None or abs(app - figure.value) <= 0.005
        return Check(figure.value is None or app >= figure.value - tolerance, app, figure.value, "" if close else why)
    return check


def falls_short(figure: Figure, margin: float, why: str) -> Callable[[StepResult], Check]:
    """For a "bad settings" step: passes (the lesson is learnt) when the run diverged or its value is at
    least ``margin`` below the good settings' figure."""
    def check(result: StepResult) -> Check:
        app = result.values.get(figure.key)
        if result.status == "diverged":
            return Check(True, app, figure.value, "the run diverged (the loss became NaN): " + why)
        if app is None:
            return Check(False, None, figure.value, f"the run {result.status} before giving this figure")
        return Check(app <= figure.value - margin, app, figure.value, why)
    return check


def exceeds(key: str, threshold: float, why: str) -> Callable[[StepResult], Check]:
    """Passes when the app's value is above ``threshold`` (e.g. an overfitting gap that opened)."""
    def check(result: StepResult) -> Check:
        app = result.values.get(key)
        return Check(app is not None and app > threshold, app, threshold, why)
    return check


# ------------------------------------------------------------------------------ lessons
@dataclass(frozen=True)
class Step:
    key: str
    title: str
    text: str
    action: Action
    notebook_figure: Figure | None = None
    check: Callable[[StepResult], Check] | None = None  # None: a step that only shows (done once shown)
    bad_settings: bool = False

    @property
    def trains(self) -> bool:
        return isinstance(self.action, (TrainAction, ExperimentAction))


@dataclass(frozen=True)
class Lesson:
    seed: str
    title: str
    intro: str
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)


def preset_spec(name: str, limit: int | None, epochs: int | None = None, **changes) -> TrainSpec:
    """A preset's run on the first ``limit`` MNIST images (plain MNIST: no added drawings)."""
    p = registry.PRESETS[name]
    training = dict(p.training) | ({"epochs": epochs} if epochs else {})
    hparams = dict(p.hparams) | dict(changes.pop("hparams", {}))
    config = replace(TrainConfig(arch=p.arch, hparams=hparams, **training), **changes)
    return TrainSpec(config, limit=limit, drawn_style=0, pen_digits=0, not_digits=0)


def arch_spec(arch: str, limit: int | None, **config) -> TrainSpec:
    return TrainSpec(TrainConfig.for_arch(arch, **config), limit=limit, drawn_style=0, pen_digits=0, not_digits=0)


def train_preset(name: str, limit: int | None, epochs: int | None = None, tensorboard: bool = False,
                 **changes) -> TrainAction:
    """Train preset ``name`` with ``changes`` (TrainConfig fields, ``hparams``) on ``limit`` images."""
    return TrainAction(preset_spec(name, limit, epochs, **changes), preset=name, tensorboard=tensorboard)


SUBSET = 20_000  # training images most steps use: a few minutes per lesson on a 2-core CPU

LESSONS: list[Lesson] = [
    Lesson(
        "000", "Softmax regression, then an MLP",
        "Seed 000 builds a linear classifier (softmax regression) from the pixels, then adds two hidden layers "
        "and watches validation accuracy climb from ~93% to ~97%.",
        (
            Step("linear", "Softmax regression",
                 "Each of the ten classes gets a weighted sum of the 784 pixels; softmax turns the ten sums into "
                 "probabilities and cross-entropy punishes a low one for the true digit. Adam at 0.004, as in the "
                 f"notebook, but on {SUBSET:,} images for 3 epochs instead of 50,000 for 40. Watch the validation "
                 "curve flatten in the Train view.",
                 train_preset("linear", SUBSET, 3),
                 Figure("val accuracy", 0.93, "the notebook's target, 40 epochs on 50,000 images"),
                 reaches(Figure("val accuracy", 0.93), 0.015,
                         "fewer images and epochs here; a linear model levels off near 92-93% either way")),
            Step("mlp", "Two hidden layers",
                 "Two hidden layers of 256 sigmoid units let the model combine strokes before deciding. Adam at "
                 f"0.01 as the notebook's MLP cell, batches of 512, on {SUBSET:,} images for 10 epochs instead of 40.",
                 train_preset("mlp-256-256-sigmoid", SUBSET, 10, learning_rate=0.01),
                 Figure("val accuracy", 0.97, "the notebook's target, 40 epochs"),
                 reaches(Figure("val accuracy", 0.97), 0.02,
                         "10 epochs on 20,000 images: sigmoid units learn slowly, the notebook trained 10x longer")),
            Step("too-high-lr", "Bad settings: a learning rate far too high",
                 "The same MLP with plain SGD at a learning rate of 20: each step overshoots, the loss jumps around "
                 "or becomes NaN and the Train view marks where it diverged. What to learn: when the loss explodes, "
                 "divide the learning rate by 10 before changing anything else.",
                 train_preset("mlp-256-256-sigmoid", SUBSET, 1, optimizer="sgd", learning_rate=20.0),
                 Figure("val accuracy", 0.97, "with good settings"),
                 falls_short(Figure("val accuracy", 0.97), 0.05,
                             "steps that large throw the weights around instead of down the slope"),
                 bad_settings=True),
            Step("compare", "Linear vs MLP, same data, same start",
                 "The ready-made experiment trains both on the same 20,000 images from the same seed, so the gap "
                 "is the hidden layers' doing. Compare the two curves and the test accuracies in the table.",
                 ExperimentAction("linear-vs-mlp"),
                 Figure("MLP 256-256 test accuracy", 0.97, "the notebook's MLP target"),
                 reaches(Figure("MLP 256-256 test accuracy", 0.97), 0.02,
                         "3 epochs on 20,000 images with relu units, not 40 epochs with sigmoid")),
        ),
    ),
    Lesson(
        "001", "What a network looks at: weight templates and gradients",
        "Seed 001 trains a softmax regression and shows its weights as ten digit-like templates, then a 1500-unit "
        "relu layer, and the gradient of each class's output with respect to the input pixels.",
        (
            Step("linear", "Softmax regression, Adam 0.003, batch 64",
                 f"The notebook's first network: 784 pixels to 10 classes, 5 epochs with batches of 64; here on "
                 f"{SUBSET:,} images. A linear model is its weights: the next step shows them.",
                 train_preset("linear", SUBSET, 5, learning_rate=0.003, batch_size=64),
                 Figure("test accuracy", 0.92, "typical for softmax regression on MNIST"),
                 reaches(Figure("test accuracy", 0.92), 0.015, "20,000 images rather than 55,000")),
            Step("templates", "The ten weight templates",
                 "Inspect > Weights shows each class's 784 weights as a 28x28 image: red where ink raises the "
                 "class's score, blue where it lowers it. The 0 is a ring, the 1 a stroke; without a weight "
                 "penalty the edges are noisy, since pixels that are never inked get no gradient.",
                 ShowAction("inspect", "weights"),
                 Figure("templates", None, "the notebook plots W1 as ten images")),
            Step("mlp-1500", "One hidden layer of 1500 relu units",
                 f"Seed 001's exercise: a 1500-unit relu layer, Adam 0.001, batches of 64, on {SUBSET:,} images "
                 "for 5 epochs as the notebook. The exercise asks for >98.5% test accuracy with 3+ layers.",
                 train_preset("mlp-1500-relu", SUBSET, 5),
                 Figure("test accuracy", 0.985, "the exercise's target"),
                 reaches(Figure("test accuracy", 0.985), 0.02,
                         "one hidden layer, 5 epochs on 20,000 images: the target is for 3+ layers on all data")),
            Step("gradients", "Per-class gradients",
                 "Inspect > Gradients shows, for a digit, how each pixel would move each class's score: the "
                 "notebook's tf.gradients of each output over the input. Draw a 3 and see which pixels would "
                 "turn it into an 8.",
                 ShowAction("inspect", "gradients"),
                 Figure("gradients", None, "the notebook shows the gradient of the top output for each image")),
            Step("sigmoid-sgd", "Bad settings: sigmoid units with plain SGD",
                 "Two layers of 256 sigmoid units trained by SGD at 0.01, no momentum: the gradients that reach "
                 "the first layer are tiny, so after an epoch the network still guesses. What to learn: saturating "
                 "units need an adaptive optimizer (Adam) or relu units.",
                 train_preset("mlp-256-256-sigmoid", SUBSET, 1, optimizer="sgd", learning_rate=0.01,
                                         batch_size=128),
                 Figure("val accuracy", 0.97, "the same net with Adam (seed 000)"),
                 falls_short(Figure("val accuracy", 0.97), 0.2,
                             "sigmoid's flat ends shrink the gradient layer by layer; SGD has no way to rescale it"),
                 bad_settings=True),
        ),
    ),
    Lesson(
        "002", "Linear vs DNN: confusion matrices and hidden units",
        "Seed 002 trains a linear classifier and a DNN (Adagrad), compares their confusion matrices and draws the "
        "first hidden layer's weights as images.",
        (
            Step("compare", "Linear vs a 100-100 DNN",
                 "The ready-made experiment trains both on the same 20,000 images for 3 epochs. The notebook asked "
                 "for about 0.9 from the linear model and 0.95 from the DNN; the table shows both, and the "
                 "confusion matrices which digits only the DNN tells apart (4 from 9, 3 from 5).",
                 ExperimentAction("linear-vs-dnn"),
                 Figure("DNN 100-100 test accuracy", 0.95, "the notebook's target"),
                 reaches(Figure("DNN 100-100 test accuracy", 0.95), 0.0,
                         "Adam and 3 epochs here against Adagrad in the notebook: a 100-100 relu net passes 0.95 "
                         "easily")),
            Step("dnn", "The DNN with the notebook's Adagrad",
                 f"Adagrad at 0.05 with batches of 10, as the notebook; 2 epochs on {SUBSET:,} images. The model is "
                 "saved, so the next steps can look inside it.",
                 train_preset("dnn-adagrad", SUBSET, 2),
                 Figure("test accuracy", 0.95, "the notebook's target"),
                 reaches(Figure("test accuracy", 0.95), 0.01, "20,000 images and 2 epochs, not all 50,000")),
            Step("confusion", "Its confusion matrix",
                 "Inspect > Errors: rows are the true digit, columns the prediction. Click a cell to see the images "
                 "behind it; most mistakes are digits a person would hesitate over too.",
                 ShowAction("inspect", "errors"),
                 Figure("confusion matrix", None, "the notebook prints one after each training")),
            Step("hidden-units", "Hidden units as images",
                 "Inspect > Weights on the DNN shows each first-layer unit's 784 weights as an image, as the "
                 "notebook's Task 3 does: after training they look like stroke and blob detectors.",
                 ShowAction("inspect", "weights"),
                 Figure("hidden units", None, "Task 3: the first layer's weights after 10, 100 and 1000 steps")),
            Step("too-high-lr", "Bad settings: Adagrad's rate 100 times too high",
                 "The same DNN with Adagrad at 5: the first steps are so large that relu units die (never fire "
                 "again) or the loss explodes. What to learn: a learning rate that worked for one optimizer is no "
                 "guide for another; if accuracy sits near 10%, lower it.",
                 train_preset("dnn-adagrad", 10_000, 1, learning_rate=5.0),
                 Figure("test accuracy", 0.95, "with Adagrad 0.05"),
                 falls_short(Figure("test accuracy", 0.95), 0.1, "the first updates overshoot and kill the units"),
                 bad_settings=True),
        ),
    ),
    Lesson(
        "003", "LeNet-5: SGD vs Adam, and TensorBoard",
        "Seed 003 builds LeNet-5, trains it with gradient descent and then Adam, fills a table of test accuracy "
        "and training time, and follows the runs in TensorBoard.",
        (
            Step("sgd", "LeNet-5 with gradient descent",
                 "Two 5x5 convolutions with pooling, then 120-84-10. SGD at 0.01, batches of 100, as the notebook; "
                 "3 epochs on 20,000 images (the notebook: 40 epochs, 18 minutes). TensorBoard logs are written "
                 "into the lessons folder: run tensorboard --logdir on it.",
                 train_preset("lenet5-sgd", SUBSET, 3, tensorboard=True),
                 Figure("test accuracy", 0.954, "40 epochs, 18 min 39 s"),
                 reaches(Figure("test accuracy", 0.954), 0.1,
                         "3 epochs of plain SGD: the notebook's loss sat near 2.30 for its first 8 epochs too")),
            Step("adam", "LeNet-5 with Adam",
                 "The same network with Adam at 0.001: it adapts each weight's step, so the same 3 epochs go much "
                 "further. Compare the training seconds with the SGD run in the Train view's history.",
                 train_preset("lenet5-adam", SUBSET, 3, tensorboard=True),
                 Figure("test accuracy", 0.998, "40 epochs, 18 min 52 s"),
                 reaches(Figure("test accuracy", 0.998), 0.03,
                         "3 epochs on 20,000 images; the notebook's 99.8% is beyond what LeNet-5 usually reaches "
                         "(~99.0-99.2%)")),
            Step("compare", "SGD vs Adam from the same weights",
                 "The ready-made experiment starts both optimizers from identical weights, so the difference in "
                 "accuracy and seconds to 97% is the optimizer's alone.",
                 ExperimentAction("sgd-vs-adam-lenet5"),
                 Figure("Adam 0.001 test accuracy", 0.998, "the notebook's table"),
                 reaches(Figure("Adam 0.001 test accuracy", 0.998), 0.03,
                         "3 epochs on 20,000 images against 40 on 55,000")),
            Step("too-high-lr", "Bad settings: Adam at 0.1",
                 "Adam with a learning rate 100 times the notebook's: the relu units die in the first steps and "
                 "LeNet-5 predicts one class for everything (about 10%). What to learn: Adam's usual 0.001 is "
                 "usual for a reason.",
                 train_preset("lenet5-adam", 10_000, 1, learning_rate=0.1),
                 Figure("test accuracy", 0.998, "Adam 0.001"),
                 falls_short(Figure("test accuracy", 0.998), 0.1, "the first updates overshoot and kill the units"),
                 bad_settings=True),
        ),
    ),
    Lesson(
        "004", "The 512-512 MLP, dropout, and looking at layers",
        "Seed 004 trains a 512-512 relu MLP in Keras with SGD, adds dropout against overfitting, and looks at a "
        "hidden layer's features with t-SNE.",
        (
            Step("slow-sgd", "The 512-512 MLP with SGD 0.001",
                 "The notebook's first run: plain SGD at 0.001, batches of 128, 2 epochs, about 88% validation "
                 "accuracy; here too on all 50,000 training images. The small learning rate is why it is still "
                 "climbing.",
                 train_preset("mlp-512-512-dropout", None, 2, hparams={"dropout": 0.0},
                                         optimizer="sgd", learning_rate=0.001, momentum=0.0),
                 Figure("val accuracy", 0.88, "2 epochs on the full training set"),
                 reaches(Figure("val accuracy", 0.88), 0.08,
                         "the notebook's model comes from a solution file it does not show; its text says binary "
                         "cross-entropy, under which Keras' accuracy scores each of the 10 outputs apart (90% for "
                         "always saying no), so its 88% is not a digit accuracy")),
            Step("dropout", "Dropout 0.2 with SGD + momentum",
                 "The preset: dropout 0.2 after each hidden layer and SGD 0.05 with momentum 0.9, 4 epochs as the "
                 "notebook's exercise. Dropout silences random units in training only, so no unit can rely on "
                 "another.",
                 train_preset("mlp-512-512-dropout", SUBSET, 4),
                 Figure("val accuracy", 0.97, "the exercise's 4 epochs with dropout"),
                 reaches(Figure("val accuracy", 0.97), 0.01, "20,000 images, not 50,000")),
            Step("layers", "Inspect a hidden layer: t-SNE",
                 "Inspect > Hidden features projects the second hidden layer's 512 activations of test images to "
                 "2D; choose t-SNE as the notebook does. Each digit forms its own cluster: the layer has already "
                 "sorted them.",
                 ShowAction("inspect", "hidden features"),
                 Figure("t-SNE clusters", None, "the notebook: t-SNE of 1,000 hidden features")),
            Step("overfit", "Bad settings: no dropout, little data, many epochs",
                 "The same MLP without dropout on only 1,000 images for 30 epochs: training accuracy reaches 100% "
                 "while validation accuracy stops far below. What to learn: the gap between the two curves is "
                 "overfitting; dropout, more data or fewer epochs narrow it.",
                 train_preset("mlp-512-512-dropout", 1_000, 30, hparams={"dropout": 0.0}),
                 Figure("train-val accuracy gap", None, "the notebook: validation loss rises if training goes on"),
                 exceeds("train-val accuracy gap", 0.05,
                         "1,000 images are learnt by heart; the validation images are not among them"),
                 bad_settings=True),
            Step("compare", "Dropout vs none, same weights",
                 "The ready-made experiment trains the 512-512 MLP with and without dropout from identical weights; "
                 "compare the gap between training and validation curves.",
                 ExperimentAction("dropout-vs-none"),
                 Figure("dropout 0.2 test accuracy", 0.97, "the notebook's exercise"),
                 reaches(Figure("dropout 0.2 test accuracy", 0.97), 0.01, "20,000 images, 4 epochs")),
        ),
    ),
]


def lesson(seed: str) -> Lesson:
    for les in LESSONS:
        if les.seed == seed:
            return les
    raise KeyError(seed)


# ------------------------------------------------------------------------------ running a step
def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def step_spec(lesson_seed: str, step: Step, limit: int | None = None, epochs: int | None = None) -> TrainSpec:
    """The TrainSpec a training step runs: ``limit`` (and ``epochs``) shrink it (tests: a few hundred images,
    1 epoch); the validation set shrinks with it so a tiny run stays tiny. TensorBoard logs, when asked for and
    available, go to ``<user data>/lessons/tensorboard/<seed>-<step>``."""
    if not isinstance(step.action, TrainAction):
        raise TypeError(f"step {step.key!r} does not train a single model")
    spec = step.action.spec
    config = spec.config
    if step.action.tensorboard and tensorboard_available():
        from .paths import user_data_dir

        config = replace(config, tensorboard_dir=str(user_data_dir() / "lessons" / "tensorboard" / f"{lesson_seed}-{step.key}"))
    if limit:
        config = replace(config, val_size=min(config.val_size, max(1000, limit)))
        spec = replace(spec, limit=min(limit, spec.limit or limit))
    if epochs:
        config = replace(config, epochs=epochs)
    return replace(spec, config=config)


def step_experiment(step: Step, limit: int | None = None, epochs: int | None = None):
    """The ready-made experiment an ExperimentAction runs, on its own subset or ``limit`` images."""
    action = step.action
    if not isinstance(action, ExperimentAction):
        raise TypeError(f"step {step.key!r} does not run an experiment")
    exp = READY_MADE[action.name]
    images = limit or action.images or exp.base.limit
    config = exp.base.config
    if limit:
        config = replace(config, val_size=min(config.val_size, max(1000, limit)))
    config = replace(config, epochs=epochs or action.epochs or config.epochs)
    return replace(exp, base=replace(exp.base, limit=images, config=config))


def result_of_run(outcome) -> StepResult:
    """A StepResult from a finished ``runs.RunOutcome`` (the headless runner's and the Train view's)."""
    r = outcome.result
    h = r.history
    values: dict[str, float] = {"seconds": float(r.seconds)}
    vals = [v for v in h.get("val_accuracy", []) if v is not None]
    trains = [v for v in h.get("accuracy", []) if v is not None]
    if vals:
        values["val accuracy"] = float(vals[-1])
    if trains:
        values["train accuracy"] = float(trains[-1])
    if vals and trains:
        values["train-val accuracy gap"] = float(trains[-1] - vals[-1])
    if outcome.test_accuracy is not None:
        values["test accuracy"] = float(outcome.test_accuracy)
    status = "diverged" if r.failure else "stopped" if r.stopped else "finished"
    summary = r.divergence.summary if r.divergence is not None else \
        f"{r.epochs_done} epochs on {outcome.n_train:,} images in {r.seconds:.0f} s"
    return StepResult(values, status, summary)


def result_of_experiment(result) -> StepResult:
    """A StepResult from an ``experiments.ExperimentResult``: each variant's test accuracy and seconds."""
    values: dict[str, float] = {}
    for v in result.variants:
        if v.test_accuracy is not None:
            values[f"{v.label} test accuracy"] = float(v.test_accuracy)
        vals = v.val_accuracies()
        if vals:
            values[f"{v.label} val accuracy"] = float(vals[-1])
        if v.metadata is not None:
            values[f"{v.label} seconds"] = float(v.metadata.training_seconds)
    status = "stopped" if result.stopped else "finished"
    summary = ", ".join(f"{v.label}: {v.status}" for v in result.variants)
    return StepResult(values, status, summary)


def run_step(step: Step, limit: int | None = None, on_progress: Callable[[float], None] | None = None,
             should_stop: Callable[[], bool] | None = None, *, lesson_seed: str = "", epochs: int | None = None) -> StepResult:
    """Run a training step headless in the calling thread (nothing is saved) and return its result.

    ``limit`` trains on that many images for one epoch (unless ``epochs`` says otherwise). Raises
    ``Cancelled`` when ``should_stop`` ended it, TypeError for a step that only shows a view."""
    from .experiments import run_experiment
    from .runs import run_training

    report = on_progress or (lambda _f: None)
    if limit and epochs is None:
        epochs = 1
    start = time.perf_counter()
    if isinstance(step.action, TrainAction):
        spec = step_spec(lesson_seed, step, limit, epochs)
        out = run_training(spec, lambda p: report(p.fraction_done), should_stop, save=False)
        if out.result.stopped:
            raise Cancelled()
        result = result_of_run(out)
    elif isinstance(step.action, ExperimentAction):
        exp = step_experiment(step, limit, epochs)
        n = len(exp.variants)

        def progress(p) -> None:
            if p.progress is not None:
                report((p.index + p.progress.fraction_done) / n)
        res = run_experiment(exp, progress, should_stop)
        if res.stopped:
            raise Cancelled()
        result = result_of_experiment(res)
    else:
        raise TypeError(f"step {step.key!r} shows a view: there is nothing to run headless")
    result.values.setdefault("seconds", time.perf_counter() - start)
    report(1.0)
    return result


def validate_lessons(lessons: list[Lesson] | None = None) -> list[str]:
    """Problems with the lessons' definitions (unknown presets, experiments or views; missing parts)."""
    problems = []
    for les in lessons or LESSONS:
        keys = [s.key for s in les.steps]
        if len(set(keys)) != len(keys):
            problems.append(f"lesson {les.seed}: step keys repeat")
        for s in les.steps:
            where = f"lesson {les.seed} step {s.key}"
            a = s.action
            if isinstance(a, TrainAction):
                try:
                    a.spec.config.validate()
                except (ValueError, TrainingError) as exc:
                    problems.append(f"{where}: {exc}")
                if a.preset is not None and a.preset not in registry.PRESETS:
                    problems.append(f"{where}: no preset {a.preset!r}")
            elif isinstance(a, ExperimentAction):
                if a.name not in READY_MADE:
                    problems.append(f"{where}: no ready-made experiment {a.name!r}")
                elif s.notebook_figure is not None and not any(
                        s.notebook_figure.key.startswith(v.label + " ") for v in READY_MADE[a.name].variants):
                    problems.append(f"{where}: {s.notebook_figure.key!r} is no variant's figure")
            elif isinstance(a, ShowAction):
                if a.view not in VIEWS or (a.subview is not None and a.subview not in VIEWS[a.view]):
                    problems.append(f"{where}: no view {a.view}/{a.subview}")
            else:
                problems.append(f"{where}: unknown action {a!r}")
            if s.trains and (s.check is None or s.notebook_figure is None):
                problems.append(f"{where}: a training step needs a notebook figure and a check")
    return problems
