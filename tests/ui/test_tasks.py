"""The worker wrapper: results come back by signals, cancel reaches the job, and a finished task is freed."""

from __future__ import annotations

import gc
import weakref

import pytest


class Payload:
    """Stands in for a big result (a trained model): something a weak reference can watch."""


def _job(on_progress=None, should_stop=None):
    on_progress(1)
    return Payload()


def _wait_done(qtbot, task):
    with qtbot.waitSignal(task.done, timeout=10_000):
        pass


def test_finished_task_is_freed_with_its_result_even_if_a_slot_captured_it(qtbot):
    from mnist_desk.ui.tasks import Task

    seen = []
    task = Task(_job, name="payload")
    # the common pattern that made a reference cycle through Qt: a slot that captures the task itself
    task.done.connect(lambda t=task: seen.append(t.result))
    task.progress.connect(lambda v, t=task: seen.append(v))
    with qtbot.waitSignal(task.done, timeout=10_000):
        task.start()
    qtbot.wait(10)
    assert seen[0] == 1 and isinstance(seen[1], Payload)
    result, ref = weakref.ref(task.result), weakref.ref(task)
    del task, seen
    gc.collect()
    assert ref() is None, "the finished Task is still alive"
    assert result() is None, "the finished Task's result is still alive"


def test_failure_reaches_the_caller_with_details(qtbot):
    from mnist_desk.ui.tasks import Task

    def broken():
        raise ValueError("bad value")

    task = Task(broken, name="broken")
    with qtbot.waitSignal(task.failed, timeout=10_000) as blocker:
        task.start()
    message, details = blocker.args
    assert message == "ValueError: bad value" and "Traceback" in details
    _wait_done(qtbot, task)
    assert task.error == message and not task.is_running()


@pytest.mark.parametrize("cancel_first", [True, False])
def test_cancel_is_seen_by_the_job(qtbot, cancel_first):
    import threading

    from mnist_desk.ui.tasks import Task

    started = threading.Event()

    def loop(should_stop=None):
        started.set()
        while not should_stop():
            threading.Event().wait(0.005)
        return "stopped"

    task = Task(loop, name="loop")
    if cancel_first:
        task.cancel()
    task.start()
    assert started.wait(5)
    task.cancel()
    _wait_done(qtbot, task)
    assert task.result == "stopped" and task.cancelled
