"""The one job runner: work off the GUI thread, on a small pool of threads that live as long as the app.

A job is a function of one argument, a :class:`JobState`, through which it reports progress and learns
that it should stop; callers pass them on to core functions explicitly, e.g.
``jobs.run(lambda state: core.f(x, on_progress=state.report, should_stop=state.should_stop), on_result=...)``.
Results and exceptions come back to the GUI thread as objects, through queued signals; a job that stopped
because it was asked to ends with ``cancelled``, not ``failed``.

Lanes (in the style of superqt's workers and Orange's concurrent widgets, with persistent threads):

- ``tensorflow``: one thread for everything that runs a shared Keras model (gradients, inspection,
  saliency), so two views never run the same model at once;
- ``train``: one thread for training runs, which own the model they train;
- ``numpy``: two threads for numpy work (reading model files, t-SNE, scoring digits).

A job may hand part of its work to another lane and wait for it (``state.on_lane``): a projection runs
its Keras part on the TensorFlow thread and its t-SNE on a numpy thread.
"""

from __future__ import annotations

import logging
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..core.errors import Cancelled, MnistDeskError

log = logging.getLogger(__name__)

LANES = {"tensorflow": 1, "train": 1, "numpy": 2}
_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_live: set["Job"] = set()


def _pool(lane: str) -> ThreadPoolExecutor:
    with _pools_lock:
        if lane not in _pools:
            _pools[lane] = ThreadPoolExecutor(max_workers=LANES[lane], thread_name_prefix=f"mnist_desk-{lane}")
        return _pools[lane]


class JobState:
    """What a running job is given: a way to report progress and to learn it should stop."""

    def __init__(self, job: "Job"):
        self._job = job

    def report(self, value) -> None:
        self._job.progress.emit(value)

    def should_stop(self) -> bool:
        return self._job._stop.is_set()

    def check(self) -> None:
        """Raise Cancelled if the job was asked to stop."""
        if self.should_stop():
            raise Cancelled(f"{self._job.name} was stopped")

    def on_lane(self, lane: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on another lane's thread and wait for its result (its exception is raised here)."""
        if threading.current_thread().name.startswith(f"mnist_desk-{lane}"):
            return fn()
        return _pool(lane).submit(fn).result()


def describe(exc: BaseException) -> str:
    """An exception as one line for the user: our own errors say what happened; others name their type."""
    return str(exc) if isinstance(exc, MnistDeskError) else f"{type(exc).__name__}: {exc}"


class Job(QObject):
    """One piece of background work. Its signals arrive in the GUI thread, ``done`` last."""

    progress = Signal(object)
    finished = Signal(object)  # the result
    failed = Signal(object)  # the exception (MnistDeskError: a message for the user; others: a bug, logged)
    cancelled = Signal()
    done = Signal()
    _ended = Signal()

    def __init__(self, fn: Callable[[JobState], Any], lane: str = "numpy", name: str = "job"):
        super().__init__()
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        self.fn, self.lane, self.name = fn, lane, name
        self._stop = threading.Event()
        self._finished_event = threading.Event()
        self._running = False
        self.result: Any = None
        self.error: BaseException | None = None
        self._ended.connect(self._on_ended)
        self._future: Future | None = None

    def start(self) -> "Job":
        _live.add(self)
        self._running = True
        self._future = _pool(self.lane).submit(self._execute)
        return self

    def cancel(self) -> None:
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def is_running(self) -> bool:
        return self._running

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job's function has returned (tests, shutdown); True if it has."""
        return self._finished_event.wait(timeout_s)

    def _execute(self) -> None:  # in the lane's thread
        try:
            if self._stop.is_set():
                raise Cancelled(f"{self.name} was stopped before it began")
            result = self.fn(JobState(self))
        except Cancelled:
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI as an object, and logged if unexpected
            if not isinstance(exc, MnistDeskError):
                log.error("job %s failed", self.name, exc_info=exc)
            self.error = exc
            self.failed.emit(exc)
        else:
            self.result = result
            self.finished.emit(result)
        finally:
            self._finished_event.set()
            self._ended.emit()

    @Slot()
    def _on_ended(self) -> None:  # in the GUI thread, after finished/failed/cancelled were delivered
        self._running = False
        _live.discard(self)
        self.done.emit()
        self._release_connections()

    def _release_connections(self) -> None:
        """Drop every slot connected to this job's signals once it is over.

        Callers connect lambdas that capture the job; Qt holds those lambdas, so job -> connection ->
        lambda -> job is a cycle Python's garbage collector cannot see, and the job would leak with its
        result (a trained Keras model). A finished job emits nothing more.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a signal with nothing connected
            for signal in (self.progress, self.finished, self.failed, self.cancelled, self.done):
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError, SystemError):
                    pass


def run(fn: Callable[[JobState], Any], lane: str = "numpy", name: str = "job", *, on_result=None, on_error=None,
        on_progress=None, on_cancel=None, on_done=None) -> Job:
    """Start ``fn(state)`` on ``lane`` with these handlers connected first (a signal emitted before a slot is
    connected reaches nobody, and a quick job may end before this function returns)."""
    job = Job(fn, lane, name)
    for signal, slot in ((job.finished, on_result), (job.failed, on_error), (job.progress, on_progress),
                         (job.cancelled, on_cancel), (job.done, on_done)):
        if slot is not None:
            signal.connect(slot)
    return job.start()


def shutdown_all(timeout_s: float = 30.0) -> bool:
    """Ask every job to stop and wait for them (closing the window); True if all ended in time."""
    for job in list(_live):
        job.cancel()
    return all(job.wait(timeout_s) for job in list(_live))
