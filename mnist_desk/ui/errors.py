"""One handler for unexpected exceptions in the window: logged to a file, shown with a 'copy details' button.

Nothing is swallowed: every unexpected exception is written to the log in the user log folder and shown.
Expected problems (bad files, failed training) never get here; they are shown as plain messages.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from ..core.paths import user_log_dir

log = logging.getLogger("mnist_desk")


def setup_logging() -> Path | None:
    """Log to a file in the user log folder; None (logging to stderr) when it cannot be written."""
    path = user_log_dir() / "mnist_desk.log"
    root = logging.getLogger("mnist_desk")
    if not any(isinstance(h, (RotatingFileHandler, logging.StreamHandler)) for h in root.handlers):
        try:
            h = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
        except OSError:  # a read-only folder: the window still opens, and says so
            h, path = logging.StreamHandler(), None
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(h)
        root.setLevel(logging.INFO)
    return path


# Names a user should not have to know; an aside naming one (or an exception type) is detail for the log.
LIBRARY_NAMES = ("Pillow", "PIL", "Keras", "TensorFlow", "NumPy", "numpy", "h5py", "SciPy", "scipy", "zlib",
                 "zipfile", "PySide6", "pyqtgraph", "matplotlib", "Traceback")
_TECHNICAL = re.compile(r"\b(" + "|".join(LIBRARY_NAMES) + r")\b|\b[A-Z]\w*(Error|Exception)\b", re.IGNORECASE)
_ASIDE = re.compile(r"\s*\([^()]*\)")


def in_user_terms(text: str) -> str:
    """``text`` without the asides that name a library or an exception type, and without library names
    left in the sentence ("a Keras model file" is "a model file")."""
    text = _ASIDE.sub(lambda m: "" if _TECHNICAL.search(m.group()) else m.group(), text)
    text = re.sub(r"\b[A-Z]\w*(Error|Exception): ", "", text)
    text = re.sub(r"\b(" + "|".join(LIBRARY_NAMES) + r")('s?)? ", "", text)
    return text


class _Relay(QObject):
    """Carries exceptions raised in other threads to the GUI thread."""

    raised = Signal(str, str)


class ExceptionHandler:
    def __init__(self):
        self.log_path = setup_logging()
        self.relay = _Relay()
        self.relay.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.shown: list[str] = []  # summaries of what was shown (tests read this)
        self.dialogs: list[QMessageBox] = []
        self._old_hook = sys.excepthook
        self._old_thread_hook = threading.excepthook

    def install(self) -> "ExceptionHandler":
        sys.excepthook = self.handle
        threading.excepthook = lambda a: self.handle(a.exc_type, a.exc_value, a.exc_traceback)
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._old_hook
        threading.excepthook = self._old_thread_hook

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error:\n%s", details)
        self.relay.raised.emit(f"{exc_type.__name__}: {exc}", details)

    def _show(self, summary: str, details: str) -> None:
        self.shown.append(summary)
        where = f"Details are in {self.log_path}." if self.log_path else "Details are below (the log folder cannot be written)."
        box = QMessageBox(QMessageBox.Icon.Critical, "mnist_desk: unexpected error",
                          f"Something went wrong that the app did not expect:\n\n{summary}\n\n"
                          f"Your drawings, digits and saved models are safe. {where}")
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
        box.addButton(QMessageBox.StandardButton.Close)
        box.setModal(False)
        box.finished.connect(lambda _r: self.dialogs.remove(box) if box in self.dialogs else None)
        self.dialogs.append(box)
        box.open()
