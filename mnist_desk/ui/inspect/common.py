"""What every Inspect sub-view shares: cache keys, the job slot with its progress line, the view base class."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ...core.model_cache import file_key
from .. import jobs
from ..help import explain
from .figures import save_figure

log = logging.getLogger(__name__)


class LRU(OrderedDict):
    """A dict that keeps only its ``size`` most recently used entries (caches per drawing grow with every stroke)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def model_key(m) -> tuple[str, int]:
    """Cache key of a stored model: the same as the model cache's for its file."""
    return file_key(m.path)


def image_key(x: np.ndarray | None) -> str | None:
    if x is None:
        return None
    return hashlib.sha1(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()[:16]


# ------------------------------------------------------------------------------ background jobs
class StatusLine(QWidget):
    """What a view is doing: a message, a progress bar (busy when the job gives no fractions) and Cancel.

    Several job slots share one line: it shows the newest running job, or the last message when none runs.
    """

    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel(" ")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        explain(self.bar, "How far the calculation has got",
                "Slow calculations (running thousands of test images through the model, projections, "
                "gradients) run in the background; this bar shows their progress. The window stays usable.")
        explain(self.cancel_button, "Stop the calculation going on",
                "Stops the background calculation; nothing is lost, it starts again when you ask for it.")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self._running: dict[object, list] = {}  # owner -> [text, cancellable, fraction or None]
        self._idle_text = " "
        self._show()

    def busy(self, owner, text: str, cancellable: bool) -> None:
        self._running.pop(owner, None)
        self._running[owner] = [text, cancellable, None]
        self._show()

    def progress(self, owner, fraction: float) -> None:
        if owner in self._running:
            self._running[owner][2] = max(0.0, min(1.0, float(fraction)))
            self._show()

    def idle(self, owner, text: str | None = None) -> None:
        self._running.pop(owner, None)
        if text is not None:
            self._idle_text = text
        self._show()

    def _show(self) -> None:
        if not self._running:
            self.label.setText(self._idle_text)
            self.bar.hide()
            self.cancel_button.hide()
            return
        text, cancellable, fraction = list(self._running.values())[-1]
        self.label.setText(text)
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(round(100 * fraction)))
        self.bar.show()
        self.cancel_button.setVisible(any(r[1] for r in self._running.values()))

    @property
    def is_busy(self) -> bool:
        return bool(self._running)


class JobSlot(QObject):
    """One kind of job of a view: at most one runs; a newer request waits (replacing an older waiting one)
    and the running job is asked to stop; only the newest request's result is delivered."""

    def __init__(self, status: StatusLine, name: str, on_error: Callable[[str], None], parent=None):
        super().__init__(parent)
        self.status, self.name, self.on_error = status, name, on_error
        self.task: jobs.Job | None = None
        self._pending = None
        self._generation = 0
        self._tasks: set[jobs.Job] = set()
        self.last_error: str | None = None
        self.was_cancelled = False  # the newest request was stopped (by the user or a newer request)

    def run(self, fn: Callable[[jobs.JobState], object], *, on_result: Callable, text: str, cancellable: bool = False,
            lane: str = "tensorflow") -> None:
        """Run ``fn(state)`` on ``lane`` (Keras work by default: the one TensorFlow thread)."""
        self._generation += 1
        request = (self._generation, fn, lane, on_result, text, cancellable)
        if self.task is not None and self.task.is_running():
            self._pending = request
            self.task.cancel()
            return
        self._start(request)

    def busy(self) -> bool:
        return self.task is not None and self.task.is_running()

    def cancel(self) -> None:
        self._pending = None
        if self.busy():
            self.was_cancelled = True
            self.task.cancel()

    def discard(self) -> None:
        """Forget every request: a running job is stopped and whatever it returns is dropped (what it was
        about, a drawing or a model, is gone)."""
        self._generation += 1
        self._pending = None
        if self.busy():
            self.task.cancel()
        self.status.idle(self)

    def _start(self, request) -> None:
        gen, fn, lane, on_result, text, cancellable = request
        task = jobs.Job(fn, lane=lane, name=f"inspect-{self.name}")
        self.task = task
        self.last_error, self.was_cancelled = None, False
        self.status.busy(self, text, cancellable)
        task.progress.connect(self._on_progress)
        task.finished.connect(lambda result: self._on_finished(gen, on_result, result))
        task.failed.connect(lambda exc: self._on_failed(gen, jobs.describe(exc)))
        task.cancelled.connect(lambda: self._on_cancelled(gen))
        task.done.connect(lambda: self._on_done(task))
        self._tasks.add(task)
        task.start()

    def _on_progress(self, value) -> None:
        if isinstance(value, (int, float)):
            self.status.progress(self, value)

    def _on_finished(self, gen: int, on_result, result) -> None:
        if gen != self._generation:
            return
        self.status.idle(self, " ")
        try:
            on_result(result)
        except Exception as exc:  # noqa: BLE001 - a display bug must not kill the view; it is logged and shown
            log.exception("showing %s failed", self.name)
            self._on_failed(gen, f"{type(exc).__name__}: {exc}")

    def _on_cancelled(self, gen: int) -> None:
        if gen == self._generation:
            self.was_cancelled = True
            self.status.idle(self, "Cancelled.")

    def _on_failed(self, gen: int, message: str) -> None:
        if gen != self._generation:
            return
        self.last_error = message
        self.status.idle(self, f"Failed: {message}")
        self.on_error(message)

    def _on_done(self, task: jobs.Job) -> None:
        self._tasks.discard(task)
        if task is self.task:
            self.task = None
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._start(request)
        elif self.task is None:
            # (a job stopped on its way to a newer request that was then withdrawn: its own end was not for the
            # newest request, so nothing else says the slot is idle)
            self.status.idle(self, "Cancelled." if self.was_cancelled else None)

    def shutdown(self) -> None:
        self._pending = None
        for t in list(self._tasks):
            t.cancel()


# ------------------------------------------------------------------------------ the view base
class InspectView(QWidget):
    """A sub-view: knows the model and the drawing, computes only while active, exports its figure."""

    message = Signal(str)
    title = "view"

    def __init__(self, hub, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.model = None
        self.drawing: np.ndarray | None = None
        self.active = False
        self.status = StatusLine()
        self._slots: list[JobSlot] = []
        self.export_button = QPushButton("Export PNG/SVG…")
        explain(self.export_button, "Save this view as a PNG or SVG figure (same content and colour scales)",
                "Saves what this view shows as a picture (PNG) or a drawing that scales without blur (SVG), for "
                "a report, slides or a worksheet.")

        self.export_button.clicked.connect(self.export_dialog)

    def slot(self, name: str) -> JobSlot:
        s = JobSlot(self.status, name, lambda msg: self.message.emit(f"{self.title}: {msg}"), self)
        self.status.cancelRequested.connect(s.cancel)
        self._slots.append(s)
        return s

    def busy(self) -> bool:
        return any(s.busy() for s in self._slots)

    # called by InspectTab
    def set_model(self, m) -> None:
        self.model = m
        if self.active:
            self.refresh()

    def set_drawing(self, x: np.ndarray | None) -> None:
        self.drawing = None if x is None else np.asarray(x, np.float32)
        if self.active:
            self.refresh()

    def activate(self) -> None:
        self.active = True
        self.refresh()

    def deactivate(self) -> None:
        self.active = False

    def refresh(self) -> None:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    # export
    def figure(self):
        """A matplotlib Figure of what the view shows, or None when it shows nothing yet."""
        raise NotImplementedError

    def export(self, path) -> Path:
        fig = self.figure()
        if fig is None:
            raise ValueError("nothing to export yet")
        return save_figure(fig, path)

    def export_dialog(self) -> None:
        if self.figure() is None:
            self.message.emit("Nothing to export yet")
            return
        name = f"{self.title.lower().replace(' ', '_')}.png"
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {self.title}", name, "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".svg" if "svg" in chosen.lower() else ".png"
        try:
            self.export(path)
            self.message.emit(f"Saved {path}")
        except (OSError, ValueError) as exc:
            self.message.emit(f"Could not export: {exc}")

    def shutdown(self) -> None:
        for s in self._slots:
            s.shutdown()
