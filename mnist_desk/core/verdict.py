"""What a prediction tells the user: a digit, "unsure" between two, "not a digit", or nothing drawn.

A network's top probability alone is not an answer: trained on digits only, it is "100% sure" of a
scribble. The models this app trains with non-digit drawings (outlier exposure, see
:func:`mnist_desk.core.training.outlier_exposure_loss`) answer a drawing unlike any digit with their
probability spread over all ten; temperature scaling (:mod:`mnist_desk.core.calibration`) makes the
top probability mean what it says. The verdict reads both:

* ``digit``: the top probability reaches the model's ``unsure_below`` threshold (set per model on
  held-out digits so that only a small share of real digits falls below it);
* ``unsure``: below it, but two digits hold most of the probability ("4 or 9?");
* ``not a digit``: below it, and the probability is spread over many digits.

No TensorFlow, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIGIT, UNSURE, NOT_A_DIGIT, EMPTY = "digit", "unsure", "not a digit", "empty"

# For a model that was never calibrated (trained before verdicts existed, or by a user's short run):
# below an even chance of its top class, it does not claim a digit.
DEFAULT_UNSURE_BELOW = 0.5
# Two digits holding at least this much between them make "unsure", not "not a digit".
PAIR_MASS = 0.8
# A second digit named in "a or b?" holds at least this much.
RUNNER_UP = 0.1
# Shown confidence is capped: a model is never 100% sure of a drawing.
MAX_SHOWN = 0.999


@dataclass(frozen=True)
class Thresholds:
    unsure_below: float = DEFAULT_UNSURE_BELOW
    pair_mass: float = PAIR_MASS

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> "Thresholds":
        """The thresholds stored with a model (``metadata["calibration"]``), else the defaults.

        Values out of range in a damaged metadata file fall back to the defaults too.
        """
        cal = metadata.get("calibration") if isinstance(metadata, dict) else None
        t = cal.get("unsure_below") if isinstance(cal, dict) else None
        if not isinstance(t, (int, float)) or isinstance(t, bool):
            return cls()
        try:
            t = float(t)
        except OverflowError:  # a huge integer in a damaged file
            return cls()
        return cls(unsure_below=t) if 0.1 <= t <= 0.999 else cls()


@dataclass(frozen=True)
class Verdict:
    kind: str  # DIGIT, UNSURE, NOT_A_DIGIT or EMPTY
    digit: int | None  # the top class (None when EMPTY, or when the model gave no finite probabilities)
    confidence: float  # the top class's probability (0 when EMPTY)
    runner_up: int | None = None  # the second class, named for UNSURE when it is plausible

    @property
    def text(self) -> str:
        """One line for a person: "7 (98.2% sure)", "4 or 9?", "not a digit", "nothing drawn"."""
        if self.kind == DIGIT:
            return f"{self.digit} ({format_confidence(self.confidence)} sure)"
        if self.kind == UNSURE:
            return f"{self.digit} or {self.runner_up}?" if self.runner_up is not None else f"{self.digit}?"
        if self.kind == NOT_A_DIGIT:
            return "not a digit"
        return "nothing drawn"

    @property
    def short(self) -> str:
        """The answer alone, for a line of several models: "7", "4 or 9?", "not a digit", "–"."""
        if self.kind == DIGIT:
            return str(self.digit)
        if self.kind in (UNSURE, NOT_A_DIGIT):
            return self.text
        return "–"


def format_confidence(p: float) -> str:
    """A probability as a person reads it, never "100.0%": 0.99997 -> "99.9%"."""
    p = float(p)
    if not np.isfinite(p):
        return "–"
    return f"{min(max(p, 0.0), MAX_SHOWN) * 100:.1f}%"


def decide_many(probs: np.ndarray, thresholds: Thresholds = Thresholds()) -> np.ndarray:
    """The verdict kinds of many drawings at once: an array of DIGIT / UNSURE / NOT_A_DIGIT strings.

    Rows that are not 10 finite probabilities are NOT_A_DIGIT (a broken model claims nothing).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 10:
        return np.full(len(p) if p.ndim == 2 else 1, NOT_A_DIGIT, dtype=object)
    out = np.full(len(p), NOT_A_DIGIT, dtype=object)
    ok = np.all(np.isfinite(p), axis=1)
    srt = np.sort(np.where(ok[:, None], p, 0.0), axis=1)
    top, second = srt[:, -1], srt[:, -2]
    out[ok & (top + second >= thresholds.pair_mass)] = UNSURE
    out[ok & (top >= thresholds.unsure_below)] = DIGIT
    return out


def decide(probs, thresholds: Thresholds = Thresholds()) -> Verdict:
    """The verdict on one drawing from a model's 10 probabilities.

    "Unsure" names the runner-up only when it is plausible itself (at least RUNNER_UP of the probability):
    "4 or 9?"; otherwise the top digit alone, with a question mark.
    """
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    kind = decide_many(p.reshape(1, -1), thresholds)[0]
    if p.size != 10 or not np.all(np.isfinite(p)):
        return Verdict(NOT_A_DIGIT, None, 0.0)
    order = np.argsort(p)[::-1]
    first, second = int(order[0]), int(order[1])
    if kind == UNSURE:
        return Verdict(UNSURE, first, float(p[first]), second if p[second] >= RUNNER_UP else None)
    return Verdict(kind, first, float(p[first]))


EMPTY_VERDICT = Verdict(EMPTY, None, 0.0)
