"""Experiments: 2-4 runs that differ in chosen settings, on the same data and from the same starting weights.

An :class:`Experiment` is a base :class:`~.runs.TrainSpec` and its :class:`Variant`\\ s, each a label and
the settings it changes (``TrainConfig`` fields such as ``optimizer`` or ``batch_size``, ``arch``, or the
architecture's hyperparameters such as ``dropout`` or ``activation``). ``run_experiment`` runs them one
after another through ``runs.run_training`` (the one run function), with the same seed and data, and
hands variants whose weights have the same shapes the same initial weights (TensorFlow Playground's
"rewind"): a difference in the results is then the settings' doing, not the draw of the weights.
Variants are not saved as the user's models; their records (history, metrics) stay in the result.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import registry
from .errors import TrainingError
from .runs import RunMetadata, TrainSpec
from .training import Progress, TrainConfig

THRESHOLDS = (0.97, 0.98, 0.99)
_CONFIG_FIELDS = {f.name for f in fields(TrainConfig)} - {"hparams"}


@dataclass(frozen=True)
class Variant:
    """One run of an experiment: ``overrides`` maps TrainConfig fields or hyperparameter names to values."""

    label: str
    overrides: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    name: str
    shows: str  # one line: what the comparison shows
    base: TrainSpec
    variants: tuple[Variant, ...]

    @property
    def subset(self) -> str:
        """What the runs train on, for titles: "20,000 training images, 3 epochs"."""
        images = f"{self.base.limit:,} training images" if self.base.limit else "all training images"
        return f"{images}, {self.base.config.epochs} epochs"

    def spec_of(self, variant: Variant) -> TrainSpec:
        """The base spec with the variant's settings; hyperparameters of another architecture are dropped."""
        config = self.base.config
        changes = {k: v for k, v in variant.overrides.items() if k in _CONFIG_FIELDS}
        hparams = {} if changes.get("arch", config.arch) != config.arch else dict(config.hparams)
        hparams.update(variant.overrides.get("hparams", {}))
        hparams.update({k: v for k, v in variant.overrides.items() if k not in _CONFIG_FIELDS and k != "hparams"})
        return replace(self.base, config=replace(config, hparams=hparams, **changes))

    def validate(self) -> None:
        """Raise TrainingError, in the user's terms, for an experiment that cannot run."""
        if not 2 <= len(self.variants) <= 4:
            raise TrainingError(f"an experiment compares 2 to 4 runs, not {len(self.variants)}")
        labels = [v.label for v in self.variants]
        if len(set(labels)) != len(labels):
            raise TrainingError("each run of an experiment needs its own label")
        for v in self.variants:
            try:
                self.spec_of(v).config.validate()
            except (ValueError, TypeError, TrainingError) as exc:
                raise TrainingError(f"{v.label}: {exc}") from None


def format_settings(overrides: dict) -> str:
    """A variant's settings as the user edits them: ``optimizer=sgd; learning_rate=0.01; hidden=512,512``."""
    def text(v) -> str:
        return ",".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)

    flat = {k: v for k, v in overrides.items() if k != "hparams"} | dict(overrides.get("hparams", {}))
    return "; ".join(f"{k}={text(v)}" for k, v in flat.items())


def parse_settings(text: str, base_arch: str) -> dict:
    """The inverse of :func:`format_settings`; raises TrainingError naming the setting that is wrong."""
    pairs = [p.strip() for p in text.split(";") if p.strip()]
    raw: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise TrainingError(f"write each setting as name=value, not {pair!r}")
        raw[key] = value
    arch = raw.get("arch", base_arch)
    try:
        params = {p.name: p for p in registry.get_architecture(arch).params}
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    defaults = TrainConfig()
    out: dict = {}
    for key, value in raw.items():
        try:
            if key in _CONFIG_FIELDS:
                kind = type(getattr(defaults, key))
                if kind is bool:
                    out[key] = value.lower() in ("1", "true", "yes", "on")
                elif key == "max_batches" or kind in (int, float):
                    out[key] = (int if kind is not float else float)(value)
                else:
                    out[key] = value
            elif key in params:
                out[key] = params[key].parse(value)
            else:
                known = ", ".join(sorted(_CONFIG_FIELDS - {"report_every_s", "tensorboard_dir"}) + sorted(params))
                raise TrainingError(f"unknown setting {key!r} (settings: {known})")
        except ValueError as exc:
            raise TrainingError(f"{key}: {exc}") from None
    return out


@dataclass
class VariantResult:
    """What one variant left: its record (history, metrics) without its Keras model."""

    label: str
    spec: TrainSpec
    metadata: RunMetadata | None
    parameters: int
    test_accuracy: float | None = None
    confusion: np.ndarray | None = None
    status: str = "finished"  # finished | stopped | diverged

    def val_accuracies(self) -> list[float]:
        h = self.metadata.history if self.metadata else {}
        return [v for v in h.get("val_accuracy", []) if v is not None]

    def seconds_to(self, threshold: float) -> float | None:
        """Training seconds until validation accuracy first reached ``threshold`` (measured at epoch ends)."""
        h = self.metadata.history if self.metadata else {}
        for acc, secs in zip(h.get("val_accuracy", []), h.get("seconds", [])):
            if acc is not None and acc >= threshold:
                return float(secs)
        return None

    def row(self) -> dict:
        vals = self.val_accuracies()
        out = {"variant": self.label, "status": self.status,
               "final val acc": vals[-1] if vals else None, "best val acc": max(vals) if vals else None,
               "test acc": self.test_accuracy,
               "train seconds": self.metadata.training_seconds if self.metadata else None}
        out |= {f"s to {round(t * 100)}%": self.seconds_to(t) for t in THRESHOLDS}
        out["parameters"] = self.parameters
        return out


@dataclass
class ExperimentResult:
    experiment: Experiment
    variants: list[VariantResult] = field(default_factory=list)
    stopped: bool = False

    def table(self) -> list[dict]:
        return [v.row() for v in self.variants]

    def csv_text(self) -> str:
        return table_csv(self.table())

    def write_csv(self, path: str | Path) -> Path:
        from .store import atomic_write_bytes

        path = Path(path)
        atomic_write_bytes(path, self.csv_text().encode("utf-8"))
        return path


COLUMNS = ("variant", "status", "final val acc", "best val acc", "test acc", "train seconds",
           *(f"s to {round(t * 100)}%" for t in THRESHOLDS), "parameters")


def table_csv(rows: list[dict]) -> str:
    """The results table as CSV; a threshold never reached is an empty cell."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if r.get(c) is None else (f"{r[c]:.4f}" if isinstance(r[c], float) else r[c]) for c in COLUMNS])
    return buf.getvalue()


@dataclass
class ExperimentProgress:
    """One report of a running experiment: which variant, and either its training progress or its result."""

    index: int  # 0-based variant
    count: int
    label: str
    progress: Progress | None = None
    result: VariantResult | None = None
    stage: str | None = None  # "calibrating", "testing" between batches


def _initial_weights(spec: TrainSpec, cache: dict) -> list:
    """The starting weights for ``spec``: built once per set of weight shapes and shared by every variant
    with those shapes (sigmoid and relu nets of the same sizes start alike; linear and mlp cannot)."""
    from .tf_library import import_tensorflow

    import_tensorflow()
    config = spec.config
    model = registry.build_model(config.arch, config.hparams, seed=config.seed)
    weights = model.get_weights()
    key = (config.arch, tuple(w.shape for w in weights))
    return cache.setdefault(key, weights)


def run_experiment(exp: Experiment, on_progress: Callable[[ExperimentProgress], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, abort=None) -> ExperimentResult:
    """Run the variants one after another in the calling thread; a stop ends the variant going and the rest.

    ``abort`` (a ``threading.Event``, set when the window closes) also skips testing the stopped variant."""
    from .runs import run_training

    exp.validate()
    report = on_progress or (lambda _p: None)
    out = ExperimentResult(exp)
    weights: dict = {}
    n = len(exp.variants)
    for i, variant in enumerate(exp.variants):
        if should_stop is not None and should_stop():
            out.stopped = True
            break
        spec = exp.spec_of(variant)
        start = _initial_weights(spec, weights)
        run = run_training(spec, lambda p, i=i, v=variant: report(ExperimentProgress(i, n, v.label, progress=p)),
                           should_stop, initial_weights=start, save=False, abort=abort,
                           on_stage=lambda s, i=i, v=variant: report(ExperimentProgress(i, n, v.label, stage=s)))
        r = run.result
        status = "diverged" if r.failure else "stopped" if r.stopped else "finished"
        vr = VariantResult(variant.label, spec, run.metadata, int(r.model.count_params()), run.test_accuracy,
                           run.confusion, status)
        out.variants.append(vr)
        report(ExperimentProgress(i, n, variant.label, result=vr))
        if r.stopped or run.aborted:
            out.stopped = True
            break
    return out


# ---------------------------------------------------------------------------- ready-made
# A subset every ready-made experiment trains on, so each takes a few minutes on a 2-core CPU: the first
# 20,000 MNIST training images; validation on the usual last 10,000, the test set whole.
QUICK_LIMIT = 20_000


def _spec(arch: str, epochs: int, **config) -> TrainSpec:
    cfg = TrainConfig.for_arch(arch, epochs=epochs, **config)
    # plain MNIST for every variant: no added drawings, whatever the architecture's defaults
    return TrainSpec(cfg, limit=QUICK_LIMIT, drawn_style=0, pen_digits=0, not_digits=0)


READY_MADE: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            "sgd-vs-adam-lenet5",
            "Seed 003: LeNet-5 with SGD 0.01 vs Adam 0.001 from the same weights; Adam learns far faster per "
            "second.",
            _spec("lenet5", 3, batch_size=100),
            (Variant("SGD 0.01", {"optimizer": "sgd", "learning_rate": 0.01}),
             Variant("Adam 0.001", {"optimizer": "adam", "learning_rate": 0.001})),
        ),
        Experiment(
            "linear-vs-dnn",
            "Seed 002: softmax regression vs a 100-100 relu DNN; the confusion matrices show which digits "
            "only the DNN separates.",
            _spec("mlp", 3, optimizer="adam", learning_rate=0.001, batch_size=32),
            (Variant("linear", {"arch": "linear", "learning_rate": 0.004}),
             Variant("DNN 100-100", {"hidden": [100, 100], "activation": "relu"})),
        ),
        Experiment(
            "dropout-vs-none",
            "Seed 004: the 512-512 relu MLP with and without dropout 0.2, same weights; dropout narrows the "
            "gap between training and validation accuracy.",
            _spec("mlp", 4, hparams={"hidden": [512, 512], "activation": "relu"}, optimizer="sgd",
                  learning_rate=0.05, momentum=0.9),
            (Variant("no dropout", {"dropout": 0.0}), Variant("dropout 0.2", {"dropout": 0.2})),
        ),
        Experiment(
            "linear-vs-mlp",
            "Seed 000: softmax regression vs the 256-256 MLP; a hidden layer is worth several points of "
            "accuracy.",
            _spec("mlp", 3, hparams={"hidden": [256, 256], "activation": "relu"}, batch_size=128),
            (Variant("linear", {"arch": "linear", "learning_rate": 0.004}), Variant("MLP 256-256", {})),
        ),
        Experiment(
            "sigmoid-vs-relu",
            "Seed 001: the 256-256 MLP with sigmoid vs relu units, same weights; relu learns faster.",
            _spec("mlp", 3, hparams={"hidden": [256, 256]}, batch_size=128),
            (Variant("sigmoid", {"activation": "sigmoid"}), Variant("relu", {"activation": "relu"})),
        ),
    )
}
