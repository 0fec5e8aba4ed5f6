"""Running core functions off the GUI thread: a QObject worker moved to a QThread, results by queued signals.

``Task`` wraps any plain function ``fn(*args, on_progress=..., should_stop=...)`` (the core's
``run(..., state)`` shape). The GUI keeps the Task, connects to its signals, may ``cancel()`` it, and
``shutdown()`` waits for the thread so no QThread is destroyed while running.
"""

from __future__ import annotations

import atexit
import inspect
import logging
import threading
import traceback
import warnings
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.errors import MnistDeskError

log = logging.getLogger(__name__)


class _Worker(QObject):
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)  # message for the user, details (traceback or "")

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, stop: threading.Event):
        super().__init__()
        self._fn, self._args, self._kwargs, self._stop = fn, args, kwargs, stop

    @Slot()
    def run(self) -> None:
        kwargs = dict(self._kwargs)
        params = _param_names(self._fn)
        if "on_progress" in params:
            kwargs["on_progress"] = self.progress.emit
        if "should_stop" in params:
            kwargs["should_stop"] = self._stop.is_set
        try:
            result = self._fn(*self._args, **kwargs)
        except InterruptedError:
            self.failed.emit("cancelled", "")
        except MnistDeskError as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # noqa: BLE001 - reported to the user with details, and logged; never swallowed
            details = traceback.format_exc()
            log.error("task %s failed:\n%s", getattr(self._fn, "__name__", self._fn), details)
            self.failed.emit(f"{type(exc).__name__}: {exc}", details)
        else:
            self.finished.emit(result)


def _param_names(fn) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


_live_tasks: set["Task"] = set()


class Task(QObject):
    """One background job. Signals are delivered in the GUI thread (queued connections)."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)
    done = Signal()  # after finished or failed, when the thread has ended

    def __init__(self, fn: Callable, *args: Any, name: str = "task", **kwargs: Any):
        super().__init__()
        self.name = name
        self._stop = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName(f"mnist_desk-{name}")
        self._worker = _Worker(fn, args, kwargs, self._stop)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._thread.finished.connect(self._on_thread_finished)
        self.result: Any = None
        self.error: str | None = None
        self._running = False

    def start(self) -> "Task":
        _live_tasks.add(self)
        self._running = True
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def is_running(self) -> bool:
        return self._running

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Ask the job to stop and wait for its thread; True if it ended."""
        self._stop.set()
        if self._thread.isRunning():
            self._thread.quit()
            return self._thread.wait(timeout_ms)
        return True

    def _on_finished(self, result) -> None:
        self.result = result
        self._thread.quit()
        self.finished.emit(result)

    def _on_failed(self, message: str, details: str) -> None:
        self.error = message
        self._thread.quit()
        self.failed.emit(message, details)

    def _on_thread_finished(self) -> None:
        self._running = False
        _live_tasks.discard(self)
        self.done.emit()
        self._release_connections()

    def _release_connections(self) -> None:
        """Drop every slot connected to this task's signals once it is over.

        Callers connect lambdas that capture the task (``task.done.connect(lambda: tasks.discard(task))``).
        Qt holds those lambdas, so task -> connection -> lambda -> task is a cycle Python's garbage
        collector cannot see, and the task leaked with its result (a trained Keras model and its traced
        functions: ~25 MB per training run in the soak benchmark). A finished task emits nothing more.
        """
        with warnings.catch_warnings():
            # PySide warns (and on some versions raises) when a signal has nothing connected: expected here
            warnings.simplefilter("ignore", RuntimeWarning)
            for signal in (self.progress, self.finished, self.failed, self.done):
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError, SystemError):
                    pass  # nothing was connected to this signal


def shutdown_all(timeout_ms: int = 30_000) -> None:
    for t in list(_live_tasks):
        t.shutdown(timeout_ms)


# A script or test that ends without closing the window must not destroy a running QThread.
atexit.register(shutdown_all)
