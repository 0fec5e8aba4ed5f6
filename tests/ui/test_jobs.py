"""The job runner: results and exceptions come back as objects, cancellation is its own signal, a finished
job is freed, and work on the TensorFlow lane never overlaps."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from mnist_desk.core.errors import Cancelled, ModelFileError
from mnist_desk.ui import jobs


class Payload:
    """Stands in for a big result (a trained model): something a weak reference can watch."""


def _wait_done(qtbot, job):
    with qtbot.waitSignal(job.done, timeout=10_000):
        pass


def test_a_finished_job_is_freed_with_its_result_even_if_a_slot_captured_it(qtbot):
    seen = []

    def work(state):
        state.report(1)
        return Payload()

    job = jobs.Job(work, lane="numpy", name="payload")
    # the common pattern that made a reference cycle through Qt: a slot that captures the job itself
    job.done.connect(lambda j=job: seen.append(j.result))
    job.progress.connect(lambda v, j=job: seen.append(v))
    with qtbot.waitSignal(job.done, timeout=10_000):
        job.start()
    qtbot.wait(10)
    assert seen[0] == 1 and isinstance(seen[1], Payload)
    result, ref = weakref.ref(job.result), weakref.ref(job)
    del job, seen
    gc.collect()
    assert ref() is None, "the finished job is still alive"
    assert result() is None, "the finished job's result is still alive"


@pytest.mark.parametrize("error", [ValueError("bad value"), ModelFileError("m.keras", "is damaged")])
def test_an_exception_reaches_the_caller_as_the_object_it_was(qtbot, error):
    def broken(_state):
        raise error

    got = []
    job = jobs.run(broken, name="broken", on_error=got.append)
    _wait_done(qtbot, job)
    assert got == [error] and job.error is error and not job.is_running()
    assert got[0].__traceback__ is not None  # the details are kept for the log and the dialog
    assert jobs.describe(got[0]) in ("ValueError: bad value", "m.keras: is damaged")


@pytest.mark.parametrize("cancel_first", [True, False])
def test_cancellation_is_a_signal_of_its_own_not_a_failure(qtbot, cancel_first):
    started = threading.Event()

    def loop(state):
        started.set()
        while True:
            state.check()
            time.sleep(0.005)

    signals = []
    job = jobs.Job(loop, lane="numpy", name="loop")
    job.cancelled.connect(lambda: signals.append("cancelled"))
    job.failed.connect(lambda exc: signals.append(exc))
    job.finished.connect(lambda r: signals.append(r))
    if cancel_first:
        job.cancel()
    job.start()
    if not cancel_first:
        assert started.wait(5)
        job.cancel()
    _wait_done(qtbot, job)
    assert signals == ["cancelled"] and job.is_cancelled
    assert started.is_set() is (not cancel_first)  # a job cancelled before it began never runs


def test_two_views_asking_for_the_same_keras_model_never_run_it_at_once(qtbot):
    """Jobs on the TensorFlow lane (and parts handed to it from other lanes) run one at a time."""

    class RecordingModel:
        def __init__(self):
            self.running, self.overlaps, self.calls = 0, 0, 0
            self.lock = threading.Lock()

        def __call__(self, x):
            with self.lock:
                self.running += 1
                self.overlaps += self.running > 1
                self.calls += 1
            time.sleep(0.02)
            with self.lock:
                self.running -= 1
            return x

    model = RecordingModel()
    started = [
        jobs.run(lambda _s: [model(i) for i in range(5)], lane="tensorflow", name="gradients"),
        jobs.run(lambda _s: [model(i) for i in range(5)], lane="tensorflow", name="saliency"),
        # a projection on a numpy thread hands its Keras part to the TensorFlow lane
        jobs.run(lambda s: s.on_lane("tensorflow", lambda: [model(i) for i in range(5)]), lane="numpy", name="tsne"),
    ]
    for job in started:
        assert job.wait(20)
    qtbot.waitUntil(lambda: not any(j.is_running() for j in started), timeout=10_000)
    assert model.calls == 15 and model.overlaps == 0


def test_core_work_stops_with_the_cancelled_type(qtbot):
    from mnist_desk.core import my_digits

    import numpy as np

    job = jobs.Job(lambda s: my_digits.score_models(["nowhere.keras"], np.zeros((1, 28, 28), np.uint8),
                                                    np.zeros(1, np.uint8), should_stop=s.should_stop), name="score")
    got = []
    job.cancelled.connect(lambda: got.append("cancelled"))
    job.failed.connect(got.append)
    job.cancel()
    job.start()
    _wait_done(qtbot, job)
    assert got == ["cancelled"]
    assert issubclass(Cancelled, Exception) and not issubclass(Cancelled, InterruptedError)
