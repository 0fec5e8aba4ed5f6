"""Real input for tests and benchmarks: mouse drags as QMouseEvents sent to a widget (button held throughout).

Kept beside the tests, not in the package: the app itself never needs it. Benchmarks import it as
``tests.ui.support`` with the repository root on ``sys.path``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def _event(kind, widget, p: QPointF, button, buttons) -> QMouseEvent:
    return QMouseEvent(kind, p, widget.mapToGlobal(p), button, buttons, Qt.KeyboardModifier.NoModifier)


def drag(canvas, image_points, before_move=None, process_events: bool = True) -> None:
    """Press at the first point, move through the rest with the left button held, release at the last.

    Points are in canvas-image pixels (0..side). ``before_move(i)`` runs before each move event
    (benchmarks timestamp there); events go through QApplication.sendEvent like real input.
    """
    pts = [canvas.image_to_widget(QPointF(float(x), float(y))) for x, y in image_points]
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    QApplication.sendEvent(canvas, _event(QEvent.Type.MouseButtonPress, canvas, pts[0], left, left))
    for i, p in enumerate(pts[1:]):
        if before_move is not None:
            before_move(i)
        QApplication.sendEvent(canvas, _event(QEvent.Type.MouseMove, canvas, p, none, left))
        if process_events:
            QApplication.processEvents()
    QApplication.sendEvent(canvas, _event(QEvent.Type.MouseButtonRelease, canvas, pts[-1], left, none))
    if process_events:
        QApplication.processEvents()


def drop_file(widget, path) -> bool:
    """Drag a local file over ``widget`` and drop it (DragEnter, then Drop, as a real drag delivers them)."""
    import warnings

    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    centre = QPoint(widget.width() // 2, widget.height() // 2)
    none, mods, copy = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.DropAction.CopyAction
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, copy, mime, none, mods)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(widget, QDropEvent(QPointF(centre), copy, mime, none, mods))
    return True


def choose(qtbot, combo, data) -> None:
    """Pick the item of ``combo`` whose data is ``data`` with the keyboard, as a user can: focus it, Home,
    then Down until it shows. Each key emits ``activated``, as a click in the list does."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentData() == data:
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == data, f"no item {data!r} in the combo box"


def click(qtbot, widget, button=Qt.MouseButton.LeftButton) -> None:
    """A mouse click in the middle of ``widget`` (a button, a check box)."""
    qtbot.mouseClick(widget, button, pos=widget.rect().center())


def modal_dialog(qtbot, timeout: int = 10_000):
    """The dialog that has just opened over the window (a question, a file dialog), once it is up."""
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None, timeout=timeout)
    return QApplication.activeModalWidget()


def click_dialog_button(qtbot, dialog, text: str) -> None:
    """Click the button of ``dialog`` that reads ``text`` (a QMessageBox's own, or a QDialogButtonBox's)."""
    from PySide6.QtWidgets import QAbstractButton

    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.text().replace("&", "") == text and b.isVisible()]
    assert buttons, f"no button {text!r} in {[b.text() for b in dialog.findChildren(QAbstractButton)]}"
    click(qtbot, buttons[0])
