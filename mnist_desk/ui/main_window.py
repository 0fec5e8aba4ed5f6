"""The main window: Draw, Train, Inspect and Lab views around one model hub."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from ..core import store
from ..core.paths import RESOURCES_DIR, unwritable_data_dir
from ..core.tf_library import load_tensorflow_library, training_device
from .closing import CloseGuard
from .draw.view import DrawTab
from .errors import in_user_terms
from .menus import MainMenus
from .models import ModelHub
from .timeline_bar import TimelineBar
from .notice_bar import NoticeBar
from .remembered import open_settings
from .theme import THEMES, apply_theme
from . import jobs

log = logging.getLogger(__name__)


def _import_tensorflow() -> str:
    # warms the import so training and gradients start at once (see core/tf_library.py); says where Keras trains
    return training_device()


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES_DIR / "icon.svg"))


class MainWindow(QMainWindow):
    def __init__(self, initial_model: str | None = None, preload_tensorflow: bool = True):
        super().__init__()
        if preload_tensorflow:  # before the window shows (see core/tf_library.py); the rest loads behind it
            load_tensorflow_library()
        # The canvas predicts with numpy on tiny matrices: multi-threaded BLAS only adds hand-off
        # latency there (forward pass p95 10 ms -> 1.4 ms measured with one thread). TensorFlow
        # keeps its own thread pools, so training and gradients are unaffected.
        from threadpoolctl import threadpool_limits

        self._blas_limit = threadpool_limits(limits=1, user_api="blas")
        self.setWindowIcon(app_icon())
        QGuiApplication.setWindowIcon(self.windowIcon())  # the task bar's and the dialogs' icon too
        self.notices = NoticeBar()
        self.read_only = unwritable_data_dir()
        self._show_title(None)
        if self.read_only:
            self.notices.add(f"Read-only session: {self.read_only}. Models you train, digits you label and settings "
                             "are not kept after you close (Export… and Save… still write elsewhere).")
        store.remove_stale_saves()
        self.hub = ModelHub(self)
        self.tabs = QTabWidget()
        self.draw = DrawTab(self.hub)
        self.tabs.addTab(self.draw, "Draw")
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.notices)
        column.addWidget(self.tabs, 1)
        self.timeline = TimelineBar(self.hub)
        column.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.tf_state = QLabel("TensorFlow: not loaded")
        self.statusBar().addPermanentWidget(self.tf_state)
        self.draw.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.draw.problem.connect(self.show_error)
        self.hub.loadFailed.connect(lambda problem: self.show_error(
            f"Could not load a model: {problem}. The model in use stays; choose another one or train a new one."))
        self.hub.currentChanged.connect(self._show_title)
        self.hub.notice.connect(lambda m: self.statusBar().showMessage(m, 8000))
        # Found while starting, before this window was listening: said once, in the bar, not in dialogs.
        for problem in self.hub.problems + self.draw.startup_problems:
            self.notices.add(problem)
        self.errors: list[str] = []
        self._error_boxes: list[QMessageBox] = []
        self._tf_task: jobs.Job | None = None
        self.training_device: str | None = None  # "CPU" or the GPU's name, once TensorFlow has loaded
        self._extra_tabs()
        self._explain_view_tabs()
        self.menus = MainMenus(self)
        self.close_guard = CloseGuard(self, self.train)
        s = open_settings()
        theme = s.value("theme")
        self.theme = theme if theme in THEMES else "system"
        self.set_theme(self.theme, remember=False)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        geom = s.value("geometry")
        # A hand-edited or damaged settings file may hold anything: a value that is not what we wrote is ignored.
        if not (isinstance(geom, QByteArray) and self.restoreGeometry(geom)):
            avail = self.screen().availableGeometry()  # a laptop screen may be smaller than the default
            self.resize(min(1180, avail.width()), min(760, avail.height()))
        idx = s.value("tab")
        if isinstance(idx, (int, str)) and str(idx).isdigit() and int(idx) < self.tabs.count():
            self.tabs.setCurrentIndex(int(idx))
        self.statusBar().showMessage("Loading the model…")
        self.hub.select(initial_model)
        if preload_tensorflow:
            QTimer.singleShot(1500, self.preload_tensorflow)

    def _extra_tabs(self) -> None:
        """The Train, Inspect, Lab and Lessons views; they share the hub and the Draw view, and report to the status bar."""
        from .inspect.view import InspectTab
        from .lab.view import LabTab
        from .train.view import TrainTab

        self.train = TrainTab(self.hub, self.draw)
        self.inspect = InspectTab(self.hub, self.draw)
        self.lab = LabTab(self.hub, self.draw)
        from .lessons.view import LessonsTab

        self.lessons = LessonsTab(self)
        for view, title in ((self.train, "Train"), (self.inspect, "Inspect"), (self.lab, "Lab"), (self.lessons, "Lessons")):
            self.tabs.addTab(view, title)
            view.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.train.problem.connect(self.show_error)

    def _explain_view_tabs(self) -> None:
        texts = {
            "Draw": ("Draw a digit and watch the models read it",
                     ("Draw a digit; each model gives its probability for every digit, and you can label your "
                      "drawings to build a small data set of your own.")),
            "Train": ("Train a network on MNIST and watch it learn",
                      ("Choose the data, the kind of network and the training settings, then watch the loss and "
                       "accuracy curves as it learns.")),
            "Inspect": ("Look inside the model: weights, gradients, mistakes, hidden layers",
                        "What the chosen model has learned, and where and why it goes wrong."),
            "Lab": ("Experiments on your drawing: robustness, preprocessing, adversarial nudges, breaking a network",
                    "Change your drawing or the network itself and see how the models' answers hold up."),
            "Lessons": ("The five classic MNIST notebooks as guided steps, each checked against the notebook",
                        ("Pick a lesson and press Do it on each step: the app sets itself up, trains or opens the "
                         "view to look at, and compares what it got with what the notebook reported.")),
        }
        for i in range(self.tabs.count()):
            tip, what = texts.get(self.tabs.tabText(i), ("", ""))
            self.tabs.setTabToolTip(i, tip)
            self.tabs.setTabWhatsThis(i, what)

    def _show_title(self, model) -> None:

        title = "mnist_desk" if model is None else f"mnist_desk — {model.name}"
        self.setWindowTitle(f"{title} (read-only)" if self.read_only else title)

    def set_theme(self, name: str, remember: bool = True) -> None:
        """System, Light or Dark for the whole window, plots included; remembered for the next start."""
        self.theme = name
        self.dark = apply_theme(name, self)
        self.menus.check_theme(name)
        if remember and not self.read_only:
            open_settings().setValue("theme", name)

    def _system_scheme_changed(self, _scheme) -> None:
        if self.theme == "system" and self.isVisible():  # a closed window no longer sets the app's palette
            self.set_theme("system", remember=False)

    def preload_tensorflow(self) -> None:
        if self._tf_task is not None:
            return
        self.tf_state.setText("TensorFlow: loading…")
        self._tf_task = jobs.run(lambda _state: _import_tensorflow(), lane="tensorflow", name="import-tensorflow",
                                 on_result=self._tensorflow_ready, on_error=self._tensorflow_failed)

    def _tensorflow_ready(self, device: str) -> None:
        self.training_device = device
        self.tf_state.setText(f"TensorFlow: ready ({device})")

    def _tensorflow_failed(self, exc: BaseException) -> None:
        self.training_device = "none: TensorFlow could not be loaded (the log has the details)"
        self.tf_state.setText(f"TensorFlow: failed ({jobs.describe(exc)})")

    def show_error(self, message: str) -> None:
        """The one way a problem the user can act on is reported (a bad picture, model or data file, a failed
        run): what went wrong and what to do, in a non-blocking message box that stays until closed, and in
        the status bar. The log keeps the full text; the user reads it without library names."""
        log.warning("%s", message)
        message = in_user_terms(message)
        self.errors.append(message)
        self.statusBar().showMessage(message, 15000)
        for open_box in self._error_boxes:
            if open_box.text() == message:  # the same problem again (a file dropped twice): one box, brought forward
                open_box.raise_()
                open_box.activateWindow()
                return
        box = QMessageBox(QMessageBox.Icon.Warning, "mnist_desk", message, QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.finished.connect(lambda _r: self._error_boxes.remove(box) if box in self._error_boxes else None)
        self._error_boxes.append(box)
        box.open()

    def closeEvent(self, event) -> None:
        if not self.close_guard.allow_close():  # a run is going: the user is asked first
            event.ignore()
            return
        if not self.read_only:
            s = open_settings()
            s.setValue("geometry", self.saveGeometry())
            s.setValue("tab", self.tabs.currentIndex())
        for part in (self.train, self.inspect, self.lab, self.lessons, self.draw, self.hub):
            part.shutdown()
        jobs.shutdown_all()
        super().closeEvent(event)
