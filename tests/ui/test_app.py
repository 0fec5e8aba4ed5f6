"""The window as ``mnist-desk`` starts it: ``cli.main([])`` in a fresh process (offscreen, its own user
folder), TensorFlow preloaded in the background as the app does.

The child script only watches from outside the app: a timer looks for the main window among the top-level
widgets, waits until its status bar says TensorFlow is ready and the Draw view shows the default model,
prints what it saw, and closes the window as the user's close button does. The test then checks the
process exit status, stderr and the app's log file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WATCHER = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication(sys.argv[:1])  # run() uses the application that exists
t0 = time.monotonic()


def look():
    wins = [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
    if not wins:
        return
    win = wins[0]
    status = [l.text() for l in win.statusBar().findChildren(QLabel)]
    if any(s.startswith("TensorFlow: ready (") for s in status) and win.draw.model_combo.currentText():
        print("READY", win.windowTitle(), "|", win.draw.model_combo.currentText(), "|", *status, flush=True)
        timer.stop()
        win.close()
    elif time.monotonic() - t0 > float(sys.argv[1]):
        print("TIMEOUT", status, flush=True)
        timer.stop()
        win.close()


timer = QTimer()
timer.timeout.connect(look)
timer.start(50)

from mnist_desk import cli

code = cli.main([])
print("EXIT", code, flush=True)
sys.exit(code)
"""


def test_mnist_desk_starts_loads_tensorflow_and_closes_cleanly(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MNIST_DESK_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", WATCHER, "150"], env=env, cwd=str(tmp_path), capture_output=True,
                          text=True, timeout=240)
    out, err = proc.stdout, proc.stderr
    assert "READY" in out, f"the window never said TensorFlow was ready:\n{out}\n{err}"
    ready = next(line for line in out.splitlines() if line.startswith("READY"))
    assert ready.startswith("READY mnist_desk — cnn | cnn")  # the title names the default model, shown in the picker
    assert "TensorFlow: ready (" in ready  # and where Keras trains: CPU or the GPU's name
    assert proc.returncode == 0 and "EXIT 0" in out, f"exit {proc.returncode}:\n{out}\n{err}"
    # TensorFlow's start-up notes (oneDNN, absl) may be there; a Python or Qt failure may not
    for bad in ("Traceback", "Exception", "QThread: Destroyed", "Segmentation fault", "Fatal"):
        assert bad not in err, f"{bad!r} on stderr:\n{err}"
    log = home / "logs" / "mnist_desk.log"
    text = log.read_text() if log.exists() else ""
    assert " ERROR " not in text and " WARNING " not in text and " CRITICAL " not in text, text
