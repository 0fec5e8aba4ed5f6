"""The user's own labelled digits: MNIST-format 28x28 images plus the original drawings, saved atomically.

Stored as one ``.npz`` (no pickle) in the user data folder with arrays ``x`` (N,28,28) uint8 (white ink
on black, as MNIST), ``y`` (N,) uint8, and ``drawings`` (N,H,W) uint8 (the canvas as drawn). Exported
in the Keras layout (``x_train``/``y_train``) so :func:`mnist_desk.core.data.load_dataset` reads it back.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import check_arrays
from .errors import Cancelled, DataError, StoreError
from .files import require_regular_file
from .paths import user_data_dir
from .preprocess import CANVAS_SIDE
from .store import atomic_write, remove_stale_temp_files



def default_path() -> Path:
    return user_data_dir() / "my_digits.npz"


def _unused_name(path: Path, tag: str) -> Path:
    """``my_digits.<tag>-YYYYmmdd-HHMMSS[-n].npz`` beside ``path``, a name no file has yet."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        candidate = path.with_name(f"{path.stem}.{tag}-{stamp}{f'-{n}' if n else ''}{path.suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise StoreError(f"{path.parent}: no free name to keep {path.name} under")


def _fit_drawing(drawing: np.ndarray) -> np.ndarray:
    """Keep the original drawing at a fixed size so the set stays one array (resized if the canvas differs)."""
    d = np.asarray(drawing)
    if d.shape == (CANVAS_SIDE, CANVAS_SIDE) and d.dtype == np.uint8:
        return d
    from PIL import Image

    img = Image.fromarray(np.clip(d, 0, 255).astype(np.uint8))
    return np.asarray(img.resize((CANVAS_SIDE, CANVAS_SIDE), Image.Resampling.LANCZOS))


@dataclass
class MyDigits:
    path: Path = field(default_factory=default_path)
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.uint8))
    y: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.uint8))
    drawings: np.ndarray = field(default_factory=lambda: np.zeros((0, CANVAS_SIDE, CANVAS_SIDE), np.uint8))

    @classmethod
    def load(cls, path: Path | None = None) -> "MyDigits":
        """Load the set (an empty one if there is no file yet). A damaged file raises DataError and is left as is."""
        path = Path(path) if path is not None else default_path()
        remove_stale_temp_files(path.parent)
        if not path.exists() and not path.is_symlink():
            return cls(path)
        require_regular_file(path, DataError)
        try:
            with np.load(path, allow_pickle=False) as z:
                x, y = check_arrays(path, z["x"], z["y"])
                drawings = z["drawings"] if "drawings" in z.files else np.zeros((len(x), CANVAS_SIDE, CANVAS_SIDE), np.uint8)
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - zip/npy errors of a damaged file
            raise DataError(path, f"your digit set could not be read ({type(exc).__name__}: {exc}); it was left untouched") from None
        if drawings.ndim != 3 or drawings.shape[1:] != (CANVAS_SIDE, CANVAS_SIDE) or drawings.dtype != np.uint8:
            raise DataError(path, f"digit set's drawings are {drawings.dtype} {drawings.shape}, not {CANVAS_SIDE}x{CANVAS_SIDE} "
                                  "grey images")
        if len(drawings) != len(x):
            raise DataError(path, "digit set is inconsistent (drawings and digits differ in number)")
        return cls(path, x, y, drawings)

    @classmethod
    def load_or_set_aside(cls, path: Path | None = None) -> tuple["MyDigits", str | None]:
        """The set, or, when the file cannot be read, a new empty set at the same path and why.

        The damaged file is set aside under a new name with a timestamp (never overwritten), so the next
        session finds the new set where it expects it and every later label joins it: no session's digits
        replace another's. If the file cannot even be renamed (a read-only folder), new digits go to a
        file of their own, also named with a timestamp.
        """
        path = Path(path) if path is not None else default_path()
        try:
            return cls.load(path), None
        except DataError as exc:
            problem = exc.problem
        aside = _unused_name(path, "damaged")
        try:
            os.replace(path, aside)
        except OSError:
            new = cls(_unused_name(path, "new"))
            return new, f"{path}: {problem}. It could not be set aside; new digits go to {new.path.name}."
        return cls(path), f"{path}: {problem}. It was kept as {aside.name}; new digits start a new set."

    def __len__(self) -> int:
        return len(self.y)

    def add(self, image28: np.ndarray, label: int, drawing: np.ndarray) -> None:
        """Append one labelled digit (float [0,1] or uint8 28x28) and save at once."""
        if not 0 <= int(label) <= 9:
            raise ValueError("label must be 0-9")
        img = np.asarray(image28)
        if img.dtype != np.uint8:
            img = np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)
        self.x = np.concatenate([self.x, img.reshape(1, 28, 28)])
        self.y = np.concatenate([self.y, np.array([label], np.uint8)])
        self.drawings = np.concatenate([self.drawings, _fit_drawing(drawing)[None]])
        self._save()

    def remove_last(self) -> None:
        if len(self):
            self.x, self.y, self.drawings = self.x[:-1], self.y[:-1], self.drawings[:-1]
            self._save()

    def _save(self) -> None:
        """Write the set; if it cannot be written the change is kept in memory (never lost while the app runs)
        and DigitsNotSaved says so."""
        try:
            self._write(self.path, x=self.x, y=self.y, drawings=self.drawings)
        except StoreError as exc:
            raise DigitsNotSaved(f"{exc}. Your {len(self)} digits are kept until you close; Export… saves them "
                                 "elsewhere.") from exc

    def export(self, path: Path) -> Path:
        """Keras layout, readable by data.load_dataset and by ``--data`` for training."""
        path = Path(path)
        self._write(path, x_train=self.x, y_train=self.y)
        return path

    def counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=10)

    @staticmethod
    def _write(path: Path, **arrays) -> None:
        try:
            atomic_write(path, lambda tmp: np.savez_compressed(tmp, **arrays))
        except OSError as exc:
            reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
            raise StoreError(f"{path}: could not save your digits ({reason}); the previous file is intact") from exc


class DigitsNotSaved(StoreError):
    """The change was made in memory but could not be written to disk."""


def score(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and per-digit errors of one model on the user's digits."""
    pred = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
    wrong = pred != labels
    return {
        "accuracy": float((~wrong).mean()) if len(labels) else float("nan"),
        "errors_per_digit": np.bincount(labels[wrong], minlength=10),
        "count_per_digit": np.bincount(labels, minlength=10),
        "predictions": pred,
    }


def score_models(model_paths: list, x: np.ndarray, y: np.ndarray, should_stop=None) -> list[tuple[str, dict]]:
    """Score each model file on the user's digits with the numpy forward pass (no TensorFlow)."""
    from .numpy_net import NumpyNet

    out = []
    xf = x.astype(np.float32) / 255.0
    for p in model_paths:
        if should_stop is not None and should_stop():
            raise Cancelled("cancelled")
        net = NumpyNet.from_keras_file(p)
        probs = np.concatenate([net.predict(xf[i : i + 256]) for i in range(0, len(xf), 256)]) if len(xf) else np.zeros((0, 10))
        out.append((Path(p).stem, score(probs, y)))
    return out
