"""Closing the window while a run is going: ask whether to stop and save it, discard it, or keep training.

The question is a window-modal box opened without a nested event loop; the close is refused meanwhile and
made again once the answer (and, for "Stop and save", the stopped run's save) has come back.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

log = logging.getLogger(__name__)

QUESTION = "A training run is going. Stop it and save its model, discard it, or keep training?"
UNSAVED = "The stopped run's model could not be saved (see the message). Try saving it again, discard it, or stay?"


class CloseGuard(QObject):
    def __init__(self, window: QMainWindow, train):
        super().__init__(window)
        self.window = window
        self.train = train
        self.question: QMessageBox | None = None
        self._may_close = False
        self._saving = False
        self._save_failed = False  # "Stop and save" could not save: the stopped model is still only in memory
        train.runFinished.connect(self._on_run_finished)
        train.saveFinished.connect(self._on_saved)

    def allow_close(self) -> bool:
        """Whether the window may close now; if not, the question is open or the stopped run is being saved."""
        if self._may_close or not (self.train.is_running() or self._saving or self._save_failed):
            return True
        if self._saving:
            self.window.statusBar().showMessage("Saving the stopped run's model; the window closes once it is saved.")
        elif self.question is None or not self.question.isVisible():
            self._ask()
        return False

    def _ask(self) -> None:
        running = self.train.is_running()
        box = QMessageBox(QMessageBox.Icon.Question, "mnist_desk", QUESTION if running else UNSAVED,
                          QMessageBox.StandardButton.NoButton, self.window)
        self.stop_and_save = box.addButton("Stop and save" if running else "Save", QMessageBox.ButtonRole.AcceptRole)
        self.discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        self.keep = box.addButton("Keep training" if running else "Stay", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(self.keep)
        box.setEscapeButton(self.keep)
        box.finished.connect(lambda _result: self._answered(box.clickedButton()))
        self.question = box
        box.open()

    def _answered(self, button) -> None:
        if button is self.discard:
            self._close_now()
        elif button is self.stop_and_save:
            self._saving, self._save_failed = True, False
            if self.train.is_running():
                self.train.stop()  # the run ends after its batch; _on_run_finished saves it
            else:  # it ended while the question was open
                self._save_or_close()

    def _on_run_finished(self, _outcome) -> None:
        if self._saving:
            self._save_or_close()

    def _save_or_close(self) -> None:
        # save_last refuses what has nothing to save: a run stopped before training, one that failed, or
        # one that finished and was saved on its own. Then there is nothing to wait for.
        if not self.train.save_last():
            self._close_now()
        else:
            self.window.statusBar().showMessage("Saving the stopped run's model…")

    def _on_saved(self, ok: bool) -> None:
        if not self._saving:
            return
        if ok:
            self._close_now()
        else:  # the Train view shows why; the window stays, and closing again asks to retry or discard
            self._saving, self._save_failed = False, True
            log.warning("the stopped run's model could not be saved while closing; the window stays open")

    def _close_now(self) -> None:
        self._saving = False
        self._may_close = True
        self.window.close()
