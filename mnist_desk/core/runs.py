"""A training run, owned in one place: what to train on (``TrainSpec``), the one function that runs it
(``run_training``) for both ``mnist-desk train`` and the Train view, and the record it leaves
(``RunMetadata``, the JSON stored beside the model).

A run: assemble the training set, train, fit the calibration, evaluate on the test set, snapshot the
numpy forward pass, write the metadata, save. A run that diverged is never evaluated or saved; a run the
user stopped is saved only when the caller asks (the CLI saves it as it is, the window offers Save).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from . import registry, store
from .timeline import save_timeline
from .training import TrainConfig, TrainResult


@dataclass(frozen=True)
class TrainSpec:
    """Everything that decides a run: the training configuration and the data it learns from.

    Counts of added drawings left as None take the architecture's defaults on the shipped MNIST (the cnn
    learns from 50,000 re-drawn MNIST digits, 20,000 pen digits and 16,000 non-digits), and none on the
    user's own data files.
    """

    config: TrainConfig
    data_path: str | None = None
    limit: int | None = None
    use_my_digits: bool = False
    my_digits_path: str | None = None
    drawn_style: int | None = None
    pen_digits: int | None = None
    not_digits: int | None = None

    def resolved(self) -> "TrainSpec":
        defaults = registry.get_architecture(self.config.arch).data_defaults if self.data_path is None else {}
        return replace(self, **{k: int(getattr(self, k) if getattr(self, k) is not None else defaults.get(k, 0))
                                for k in ("drawn_style", "pen_digits", "not_digits")})


def spec_from_metadata(meta: dict) -> TrainSpec:
    """The spec that made a saved run, from its metadata JSON (``RunMetadata``'s ``arch``, ``hparams``,
    ``training`` and ``data_source``). Raises ``MnistDeskError`` for a model that has no training record
    or one that does not describe a valid run.

    The counts of added drawings are the ones the run used (its record holds counts, not None), so the
    spec does not take the architecture's defaults again; a run on the shipped MNIST gets ``data_path``
    None, so it reads the shipped copy wherever the package is installed.
    """
    from dataclasses import fields

    from .errors import MnistDeskError

    training = meta.get("training")
    if not isinstance(training, dict) or not training or not meta.get("arch"):
        raise MnistDeskError("this model has no record of how it was trained, so there is no run to export")
    known = {f.name for f in fields(TrainConfig)} - {"arch", "hparams", "tensorboard_dir"}
    config = TrainConfig(arch=str(meta["arch"]), hparams=dict(meta.get("hparams") or {}),
                         **{k: v for k, v in training.items() if k in known and v is not None})
    try:
        config.validate()
    except (ValueError, TypeError) as exc:  # a record edited by hand, or from another version of the app
        raise MnistDeskError(f"this model's training record does not describe a run this app knows ({exc})") from None
    source = str(meta.get("data_source") or "")
    shipped = source == "" or Path(source).as_posix().endswith("resources/data/mnist.npz")

    def count(key: str) -> int:
        value = training.get(key) or 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MnistDeskError(f"this model's training record has an invalid {key} ({value!r})")
        return value

    return TrainSpec(config, data_path=None if shipped else source, limit=count("limit") or None,
                     use_my_digits=count("my_digits") > 0, drawn_style=count("drawn_style"),
                     pen_digits=count("pen_digits"), not_digits=count("not_digits"))


@dataclass
class RunMetadata:
    """The record of a run, as stored in the model's JSON; read back by the store, the curves and the history."""

    arch: str
    hparams: dict
    training: dict
    data_source: str
    metrics: dict
    history: dict
    training_seconds: float
    epochs_done: int
    stopped_early: bool
    date: str
    app_version: str
    calibration: dict | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["calibration"] is None:
            del d["calibration"]
        return d

    @classmethod
    def from_dict(cls, meta: dict) -> "RunMetadata":
        """From a JSON object the store has checked (``store.read_metadata``); missing fields get empty values."""
        training = dict(meta.get("training") or {})
        history = dict(meta.get("history") or {})
        return cls(
            arch=str(meta.get("arch", "?")), hparams=dict(meta.get("hparams") or {}), training=training,
            data_source=str(meta.get("data_source", "")), metrics=dict(meta.get("metrics") or {}), history=history,
            training_seconds=float(meta.get("training_seconds") or 0.0),
            epochs_done=int(meta.get("epochs_done") or len(history.get("loss", []))),
            stopped_early=bool(meta.get("stopped_early", False)), date=str(meta.get("date", "")),
            app_version=str(meta.get("app_version", "")), calibration=meta.get("calibration"),
        )

    @property
    def steps_per_epoch(self) -> int | None:
        v = self.training.get("steps_per_epoch")
        return int(v) if isinstance(v, (int, float)) and v > 0 else None


@dataclass
class RunOutcome:
    """What one run hands back (to the CLI or the window)."""

    spec: TrainSpec
    result: TrainResult  # its Keras model stays usable for a later save
    data_source: str
    n_train: int
    n_val: int
    n_my_digits: int = 0
    n_drawn_style: int = 0
    n_pen_digits: int = 0
    n_not_digits: int = 0
    test_accuracy: float | None = None
    test_log_loss: float | None = None
    confusion: np.ndarray | None = None  # 10x10, rows: true digit, columns: predicted
    net: object | None = None  # NumpyNet snapshot for the canvas
    metadata: RunMetadata | None = None
    stored: store.StoredModel | None = None  # set once saved
    aborted: bool = False  # the caller was closing: nothing evaluated or saved

    @property
    def failure(self) -> str | None:
        return self.result.failure

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / max(self.result.config.batch_size, 1))


def run_training(spec: TrainSpec, on_progress: Callable | None = None, should_stop: Callable[[], bool] | None = None, *,
                 save_name: str | None = None, out_path: str | Path | None = None, save_stopped: bool = False,
                 abort: threading.Event | None = None, on_stage: Callable[[str], None] | None = None,
                 timeline=None, initial_weights: list | None = None, save: bool = True) -> RunOutcome:
    """Run ``spec`` in the calling thread: data, training, calibration, test, snapshot, metadata, save.

    ``should_stop`` ends training within one batch (and stops drawing the added images, raising
    ``Cancelled``). ``abort`` set (the window is closing) skips everything after training. ``on_stage``
    hears what the run is doing between the training batches ("calibrating", "testing", "saving").
    ``timeline`` (a ``core.timeline.Timeline``) receives the weight snapshots as they are taken.
    ``initial_weights`` start training from given weights (``training.train``); ``save=False`` keeps the
    model and its record in the outcome only (an experiment's variants are not the user's models).
    """
    from .calibration import calibrate_run
    from .confusion import confusion_matrix
    from .numpy_net import NumpyNet
    from .training import evaluate, recompute_batch_norm_statistics, train
    from .training_data import prepare_training_data

    spec = spec.resolved()
    stage = on_stage or (lambda _s: None)
    config = spec.config
    prepared = prepare_training_data(config.val_size, spec.data_path, limit=spec.limit, use_my_digits=spec.use_my_digits,
                                     my_digits_path=spec.my_digits_path, drawn_style=spec.drawn_style, seed=config.seed,
                                     pen_digits=spec.pen_digits, not_digits=spec.not_digits, should_stop=should_stop)
    ds, split = prepared.dataset, prepared.split
    result = train(config, split, on_progress=on_progress, should_stop=should_stop, timeline=timeline,
                   initial_weights=initial_weights)
    out = RunOutcome(spec, result, ds.source, len(split.x_train), len(split.x_val), prepared.n_my_digits,
                     prepared.n_drawn_style, prepared.n_pen_digits, prepared.n_not_digits)
    metrics = {"val_accuracy": result.history["val_accuracy"][-1] if result.history["val_accuracy"] else None}
    out.metadata = metadata_of(out, metrics)  # the record even of a run that goes no further; completed below
    if abort is not None and abort.is_set():
        out.aborted = True
        return out
    if not result.ok:
        return out
    stage("calibrating")
    if result.stopped:  # a finished run's batch-norm statistics were measured after its last epoch
        recompute_batch_norm_statistics(result.model, split.x_train, config.batch_size, seed=config.seed)
    result.timeline.end_with_final_model(result.batches_done, result.seconds)
    out.metadata.calibration = calibrate_run(result.model, prepared)
    if ds.has_test:
        stage("testing")
        ev = evaluate(result.model, ds.x_test, ds.y_test)
        out.test_accuracy, out.test_log_loss = ev["accuracy"], ev["log_loss"]
        out.confusion = confusion_matrix(ds.y_test, ev["predictions"])
        out.metadata.metrics.update(test_accuracy=out.test_accuracy, test_log_loss=out.test_log_loss,
                                    confusion_matrix=out.confusion.tolist())
    out.net = NumpyNet.from_model(result.model)
    if save and (save_stopped or not result.stopped) and not (abort is not None and abort.is_set()):
        stage("saving")
        save_outcome(out, save_name, out_path)
    return out


def metadata_of(out: RunOutcome, metrics: dict) -> RunMetadata:
    r, spec = out.result, out.spec
    training = {k: v for k, v in r.config.to_dict().items() if k not in ("arch", "hparams", "report_every_s")}
    training |= {"limit": spec.limit, "my_digits": out.n_my_digits, "drawn_style": out.n_drawn_style,
                 "pen_digits": out.n_pen_digits, "not_digits": out.n_not_digits,
                 "steps_per_epoch": out.steps_per_epoch, "train_images": out.n_train}
    return RunMetadata(
        arch=r.config.arch, hparams=r.config.hparams, training=training, data_source=out.data_source, metrics=metrics,
        history=r.history, training_seconds=round(r.seconds, 2), epochs_done=r.epochs_done, stopped_early=r.stopped,
        date=dt.datetime.now().isoformat(timespec="seconds"), app_version=__version__,
    )


def save_outcome(out: RunOutcome, name: str | None = None, path: str | Path | None = None) -> store.StoredModel:
    """Save the run's model and metadata atomically (to the user's store unless ``path`` is given)."""
    meta = out.metadata.to_dict()
    saved = store.save_model(out.result.model, meta, name=name or out.result.config.arch,
                             path=Path(path) if path else None)
    if out.result.timeline is not None:
        save_timeline(out.result.timeline, saved)
    out.stored = store.StoredModel(saved.stem, saved, meta | {"name": saved.stem}, shipped=False)
    return out.stored

