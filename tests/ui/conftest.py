"""Window tests (offscreen Qt): a fresh user folder per window, and no test may leave a QThread running.

The thread check follows napari's conftest: ``QThread.start`` is wrapped to remember every thread a
test starts (with the stack that started it); after the test, any still running fails the test. A
short grace period (events processed) lets a job that already returned finish its thread: a Task's
thread quits when the GUI thread handles the job's queued ``finished`` signal.
"""

from __future__ import annotations

import os
import time
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

GRACE_S = 1.0


def _running(thread) -> bool:
    try:
        return bool(thread.isRunning())
    except RuntimeError:  # the C++ object is already deleted: not running
        return False


@pytest.fixture(autouse=True)
def no_qthread_left_running(monkeypatch):
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    from mnist_desk.ui import tasks

    started: list[tuple[object, str]] = []
    real_start = QThread.start

    def tracking_start(self, *args, **kwargs):
        started.append((self, "".join(traceback.format_stack(limit=12)[:-1])))
        return real_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", tracking_start)
    yield
    app = QApplication.instance()
    deadline = time.monotonic() + GRACE_S
    while any(_running(t) for t, _ in started) and time.monotonic() < deadline:
        if app is not None:
            app.processEvents()
        time.sleep(0.01)
    leaked = [(t, stack) for t, stack in started if _running(t)]
    if not leaked:
        return
    # Clean up so the next tests start clean, then fail this one.
    names = [t.objectName() or repr(t) for t, _ in leaked]
    for task in list(tasks._live_tasks):
        task.cancel()
    for t, _ in leaked:
        t.quit()
        t.wait(30_000)
    pytest.fail(f"{len(leaked)} QThread(s) still running after the test: {names}\nstarted at:\n{leaked[0][1]}", pytrace=False)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The main window, shown offscreen, with its own user folder (models, digits, settings); closed after."""
    monkeypatch.setenv("MNIST_DESK_HOME", str(tmp_path / "home"))
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
