"""Starting the window: the window shows first; TensorFlow loads later, in the background."""

from __future__ import annotations

import sys


def run(model: str | None = None, argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from .errors import ExceptionHandler
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("mnist_desk")
    handler = ExceptionHandler().install()
    win = MainWindow(initial_model=model)
    win.show()
    try:
        return app.exec()
    finally:
        handler.uninstall()
