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


def data_scene_shapes(plot_item):
    """The scene rectangles of everything ``plot_item`` plots: one per bar, a zero-size one per point of a
    curve or scatter (where the user sees the data, in scene coordinates)."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import QRectF

    shapes = []
    for item in plot_item.items:
        if not item.isVisible():
            continue
        if isinstance(item, pg.BarGraphItem):
            o = item.opts
            x, h = np.broadcast_to(o["x"], np.shape(o["height"])), np.asarray(o["height"], float)
            w = np.broadcast_to(o["width"], h.shape)
            for xi, hi, wi in zip(x, h, w):
                shapes.append(item.mapRectToScene(QRectF(xi - wi / 2, 0.0, wi, hi).normalized()))
        elif isinstance(item, (pg.ScatterPlotItem, pg.PlotDataItem, pg.PlotCurveItem)):
            xs, ys = item.getData()
            if xs is None:
                continue
            for x, y in zip(np.asarray(xs, float), np.asarray(ys, float)):
                if np.isfinite(x) and np.isfinite(y):
                    p = item.mapToScene(QPointF(x, y))
                    shapes.append(QRectF(p, p))
    return shapes


def legend_covers(legend, plot_item) -> list:
    """The plotted shapes that ``legend``'s scene rectangle covers, and the view box if the legend lies on it
    (none, for a legend outside the data).

    Fails when the legend is empty or hidden, where the answer would say nothing."""
    assert legend.isVisible() and legend.items, "the legend shows no entry"
    box = legend.mapRectToScene(legend.boundingRect())
    assert box.width() > 0 and box.height() > 0
    shapes = data_scene_shapes(plot_item)
    assert shapes, "nothing is plotted"
    covered = [s for s in shapes if box.intersects(s) or box.contains(s.topLeft())]
    # Data moves (a bar grows, a run adds epochs): a legend inside the view box would cover some later.
    view = plot_item.vb.mapRectToScene(plot_item.vb.rect())
    if box.intersects(view):
        covered.append(view)
    return covered
