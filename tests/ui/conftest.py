"""Window tests (offscreen Qt): a fresh user folder per window, and no test may leave a job running.

Every job goes through the job runner (``mnist_desk.ui.jobs``), which keeps the jobs not yet delivered;
after a test, any still running (after a short grace period with events processed, so a job that already
returned is delivered) fails the test, naming it.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

GRACE_S = 2.0


@pytest.fixture(autouse=True)
def no_job_left_running():
    from PySide6.QtWidgets import QApplication

    from mnist_desk.ui import jobs

    yield
    app = QApplication.instance()
    deadline = time.monotonic() + GRACE_S
    while jobs._live and time.monotonic() < deadline:
        if app is not None:
            app.processEvents()
        time.sleep(0.01)
    leaked = [j.name for j in jobs._live]
    if not leaked:
        return
    jobs.shutdown_all()  # so the next tests start clean, then fail this one
    if app is not None:
        app.processEvents()
    jobs._live.clear()
    pytest.fail(f"{len(leaked)} job(s) still running after the test: {leaked}", pytrace=False)


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
