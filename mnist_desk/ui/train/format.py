"""How the Train view words a run: hyperparameters, confusion, durations, the training settings.

(The run itself is ``core.runs.run_training``, the same function the CLI calls.)"""

from __future__ import annotations

import math

import numpy as np


def format_value(value) -> str:
    """A hyperparameter as a form or table shows it: 512, 512 / 0.001 / relu."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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


def draw_model_choice(new_name: str, new_accuracy, current_name: str | None, current_accuracy,
                      same_test_set: bool = True) -> tuple[bool, str]:
    """Whether a just-saved run replaces the Draw view's model, and the sentence that says so and why.

    Only a run that beats the current model on the test set replaces it: a run on a few hundred images,
    or one gone wrong, must not silently become what every drawing is read with. When either accuracy
    is unknown (no test set, a model opened from a file without details), or the two were tested on
    different images (``same_test_set`` False: 99.7% on 300 easy rows of a CSV beats nothing), nothing is switched.
    """
    saved = f"{new_name} saved."
    if current_name is None:
        return True, f"{saved} The Draw view had no model: it now uses {new_name}."
    keeps = f"the Draw view keeps {current_name}. Use for drawing to switch anyway."
    if not _is_accuracy(new_accuracy):
        return False, f"{saved} It has no test accuracy to compare with {current_name}'s: {keeps}"
    if not _is_accuracy(current_accuracy):
        return False, f"{saved} Test accuracy {pct(new_accuracy)}; {current_name}'s is unknown: {keeps}"
    if not same_test_set:
        return False, (f"{saved} Test accuracy {pct(new_accuracy)}, on other test images than {current_name}'s "
                       f"{pct(current_accuracy)}: {keeps}")
    if new_accuracy > current_accuracy:
        return True, (f"{saved} Test accuracy {pct(new_accuracy)} > {pct(current_accuracy)} of {current_name}: "
                      f"the Draw view now uses {new_name}.")
    return False, f"{saved} Test accuracy {pct(new_accuracy)} ≤ {pct(current_accuracy)} of {current_name}: {keeps}"


def _is_accuracy(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
