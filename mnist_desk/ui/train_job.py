"""The Train view's job: a plain function run in a worker thread (data, training, test, snapshot, save).

``run_training`` builds, compiles and fits in the calling thread through ``core.training.train``; the view
runs it in a :class:`~mnist_desk.ui.tasks.Task`. No Qt here: it is as usable from a script as from the window.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from ..core import store


def format_value(value) -> str:
    """A hyperparameter as a form or table shows it: 512, 512 / 0.001 / relu."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class RunOutcome:
    """What one run hands back to the window."""

    result: object  # core.training.TrainResult (its Keras model stays usable for a later save)
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
    metadata: dict | None = None
    stored: store.StoredModel | None = None  # set once saved
    aborted: bool = False  # the window was closing: nothing evaluated or saved

    @property
    def failure(self) -> str | None:
        return self.result.failure

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / max(self.result.config.batch_size, 1))


def run_training(config, data_path=None, use_my_digits=False, limit=None, on_progress=None, should_stop=None, *,
                 save=True, save_name=None, my_digits_path=None, drawn_style: int = 0, pen_digits: int = 0,
                 not_digits: int = 0, abort: threading.Event | None = None) -> RunOutcome:
    """Load data, train, evaluate on the test set, snapshot and (unless stopped or failed) save. Worker thread.

    A diverged run (``result.failure``) is returned as is: never evaluated, never saved. A run stopped by
    the user is evaluated but not saved (the window offers Save). ``abort`` set (the window is closing)
    skips everything after training.
    """
    from ..cli import metadata_for
    from ..core import training
    from ..core.calibration import calibrate_run
    from ..core.numpy_net import NumpyNet

    from ..core.training_data import prepare_training_data

    prepared = prepare_training_data(config.val_size, data_path, limit=limit, use_my_digits=use_my_digits,
                                     my_digits_path=my_digits_path, drawn_style=drawn_style, seed=config.seed,
                                     pen_digits=pen_digits, not_digits=not_digits, should_stop=should_stop)
    ds, split, n_mine = prepared.dataset, prepared.split, prepared.n_my_digits
    result = training.train(config, split, on_progress=on_progress, should_stop=should_stop)
    out = RunOutcome(result, ds.source, len(split.x_train), len(split.x_val), n_mine, n_drawn_style=prepared.n_drawn_style,
                     n_pen_digits=prepared.n_pen_digits, n_not_digits=prepared.n_not_digits)
    if abort is not None and abort.is_set():
        out.aborted = True
        return out
    if not result.ok:
        return out
    metrics = {"val_accuracy": result.history["val_accuracy"][-1] if result.history["val_accuracy"] else None}
    calibration = calibrate_run(result.model, prepared)
    if ds.has_test:
        ev = training.evaluate(result.model, ds.x_test, ds.y_test)
        out.test_accuracy, out.test_log_loss = ev["accuracy"], ev["log_loss"]
        out.confusion = confusion_matrix(ds.y_test, ev["predictions"])
        metrics.update(test_accuracy=out.test_accuracy, test_log_loss=out.test_log_loss, confusion_matrix=out.confusion.tolist())
    out.net = NumpyNet.from_model(result.model)
    out.metadata = metadata_for(result, ds.source, metrics, limit=limit, my_digits=n_mine, drawn_style=out.n_drawn_style,
                                pen_digits=out.n_pen_digits, not_digits=out.n_not_digits,
                                steps_per_epoch=out.steps_per_epoch, train_images=out.n_train)
    if calibration:
        out.metadata["calibration"] = calibration
    if save and not result.stopped and not (abort is not None and abort.is_set()):
        out.stored = save_outcome(out, save_name)
    return out


def save_outcome(out: RunOutcome, name: str | None = None) -> store.StoredModel:
    """Save the run's model and metadata atomically to the user's store (worker thread)."""
    path = store.save_model(out.result.model, out.metadata, name=name or out.result.config.arch)
    out.stored = store.StoredModel(path.stem, path, store.read_metadata(path) or out.metadata, shipped=False)
    return out.stored


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = 10) -> np.ndarray:
    return np.bincount(np.asarray(y_true, int) * n + np.asarray(y_pred, int), minlength=n * n).reshape(n, n)


def confusion_summary(cm: np.ndarray, top: int = 3) -> str:
    """'most confused: 4→9 ×12, …; weakest digit 9 (97.1%)'."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    pairs = [f"{i // 10}→{i % 10} ×{off.flat[i]}" for i in order if off.flat[i] > 0]
    counts = cm.sum(axis=1)
    per_digit = np.where(counts > 0, np.diag(cm) / np.maximum(counts, 1), np.nan)  # digits absent: no verdict
    if np.isnan(per_digit).all():
        return "no test images"
    worst = int(np.nanargmin(per_digit))
    confused = ", ".join(pairs) if pairs else "none"
    return f"most confused (true→predicted): {confused}; weakest digit {worst} ({per_digit[worst] * 100:.1f}%)"


def confusion_text(cm: np.ndarray) -> str:
    lines = ["true \\ predicted", "     " + "".join(f"{j:>6}" for j in range(10))]
    lines += [f"{i:>5}" + "".join(f"{v:>6}" for v in cm[i]) for i in range(10)]
    return "\n".join(lines)


def fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def pct(v) -> str:
    return f"{v * 100:.2f}%" if isinstance(v, (int, float)) and math.isfinite(v) else "–"


def describe_training(t: dict) -> str:
    parts = [f"{t.get('optimizer', '?')} lr {format_value(t.get('learning_rate', '?'))}"]
    if t.get("momentum"):
        parts[0] += f" m {format_value(t['momentum'])}"
    parts.append(f"batch {t.get('batch_size', '?')}")
    if t.get("lr_schedule") not in (None, "constant"):
        parts.append(str(t["lr_schedule"]))
    if t.get("augment"):
        parts.append("augment")
    if t.get("limit"):
        parts.append(f"first {t['limit']} images")
    if t.get("my_digits"):
        parts.append(f"+{t['my_digits']} my digits")
    if t.get("drawn_style"):
        parts.append(f"+{t['drawn_style']} drawn-style")
    if t.get("pen_digits"):
        parts.append(f"+{t['pen_digits']} pen digits")
    if t.get("not_digits"):
        parts.append(f"+{t['not_digits']} non-digits")
    parts.append(f"seed {t.get('seed', 0)}")
    return ", ".join(parts)
