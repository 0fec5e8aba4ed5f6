"""The drawing canvas: smooth anti-aliased strokes with mouse or pen, eraser, undo/redo, open, drop, save.

The drawing is a fixed-size greyscale image (dark ink on white), shown scaled to the widget, so the
same drawing gives the same pixels whatever the window size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTabletEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.errors import EmptyDrawing, ImageError
from ...core.preprocess import CANVAS_SIDE, ink_from_grey, load_image_file, to_grey

UNDO_LIMIT = 100


def qimage_to_array(img: QImage) -> np.ndarray:
    """A Grayscale8 QImage -> (H, W) uint8 copy (rows may be padded in the QImage)."""
    img = img.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, :w].copy()


def array_to_qimage(a: np.ndarray) -> QImage:
    a = np.ascontiguousarray(a, dtype=np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class DrawingCanvas(QWidget):
    changed = Signal()  # the drawing changed (during a stroke too)
    strokeFinished = Signal()  # a stroke ended, or undo/redo/clear/open changed the drawing
    fileError = Signal(str)

    def __init__(self, parent=None, side: int = CANVAS_SIDE):
        super().__init__(parent)
        self.side = side
        self.image = QImage(side, side, QImage.Format.Format_Grayscale8)
        self.image.fill(255)
        self.pen_width = 18.0
        self.eraser = False
        self.pressure_sensitive = True
        self._undo: list[QImage] = []
        self._redo: list[QImage] = []
        self._last: QPointF | None = None
        self._drawing = False
        self._overlay: QImage | None = None  # e.g. the saliency map, drawn over the canvas
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit. Ctrl+Z undo, Ctrl+Shift+Z redo, Esc clear, 0-9 label it for 'My digits'.")
        self.setWhatsThis("The drawing canvas. Draw one digit with the mouse, a pen or a finger; every model "
                          "reads it after each stroke. You can also drop a picture of a digit here. Right-click "
                          "or Esc clears it; the keys 0-9 label your drawing and keep it in My digits, a small "
                          "data set of your own to test (or train) models with.")


    # ------------------------------------------------------------------ geometry
    def _target_rect(self) -> QRectF:
        s = min(self.width(), self.height())
        return QRectF((self.width() - s) / 2, (self.height() - s) / 2, s, s)

    def widget_to_image(self, p: QPointF) -> QPointF:
        r = self._target_rect()
        k = self.side / r.width()
        return QPointF((p.x() - r.x()) * k, (p.y() - r.y()) * k)

    def image_to_widget(self, p: QPointF) -> QPointF:
        r = self._target_rect()
        k = r.width() / self.side
        return QPointF(r.x() + p.x() * k, r.y() + p.y() * k)

    # ------------------------------------------------------------------ state
    def is_empty(self) -> bool:
        return bool(qimage_to_array(self.image).min() == 255)

    def to_array(self) -> np.ndarray:
        return qimage_to_array(self.image)

    def set_array(self, grey: np.ndarray, record_undo: bool = True) -> None:
        """Show a grey image (dark ink on light, any size) on the canvas, fitted and centred."""
        from PIL import Image

        a = np.clip(np.asarray(grey), 0, 255).astype(np.uint8)
        h, w = a.shape
        k = self.side / max(h, w)
        resized = np.asarray(Image.fromarray(a).resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.LANCZOS))
        out = np.full((self.side, self.side), 255, np.uint8)
        y0, x0 = (self.side - resized.shape[0]) // 2, (self.side - resized.shape[1]) // 2
        out[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
        if record_undo:
            self._push_undo()
        self.image = array_to_qimage(out)
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def set_mnist_image(self, x28: np.ndarray) -> None:
        """Show an MNIST-style 28x28 (white ink on black, uint8 or [0,1] floats) as a drawing."""
        x = np.asarray(x28, np.float32)
        if x.max() > 1.0:
            x = x / 255.0
        self.set_array((255 * (1.0 - x)).astype(np.uint8))

    def load_file(self, path: str | Path) -> bool:
        """Open an image file of a digit (either polarity). A bad file emits fileError and keeps the drawing."""
        try:
            grey = to_grey(load_image_file(path))
        except ImageError as exc:
            self.fileError.emit(str(exc))
            return False
        except ValueError as exc:
            self.fileError.emit(f"{path}: {exc}")
            return False
        try:
            ink = ink_from_grey(grey)  # 1 = ink, whatever the polarity of the picture
        except EmptyDrawing:
            self.fileError.emit(f"{path}: the picture is blank: no ink to read as a digit")
            return False
        self.set_array((255 * (1.0 - ink)).astype(np.uint8))
        return True

    def save_png(self, path: str | Path) -> bool:
        from ...core.store import atomic_write

        try:
            atomic_write(Path(path), lambda tmp: self._save_qimage(tmp))
        except OSError as exc:
            self.fileError.emit(f"{path}: could not save ({exc.strerror or exc})")
            return False
        return True

    def _save_qimage(self, tmp: Path) -> None:
        if not self.image.save(str(tmp), "PNG"):
            raise OSError(f"Qt could not write {tmp}")

    def set_overlay(self, overlay: QImage | None) -> None:
        self._overlay = overlay
        self.update()

    # ------------------------------------------------------------------ edits
    def _push_undo(self) -> None:
        self._undo.append(self.image.copy())
        if len(self._undo) > UNDO_LIMIT:
            self._undo.pop(0)
        self._redo.clear()

    def clear(self) -> None:
        if self.is_empty():
            return
        self._push_undo()
        self.image.fill(255)
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def undo(self) -> None:
        if not self._undo:
            return
        self._redo.append(self.image)
        self.image = self._undo.pop()
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def redo(self) -> None:
        if not self._redo:
            return
        self._undo.append(self.image)
        self.image = self._redo.pop()
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    # ------------------------------------------------------------------ strokes
    def _pen(self, pressure: float = 1.0) -> QPen:
        width = self.pen_width * (0.35 + 0.65 * pressure if self.pressure_sensitive else 1.0)
        pen = QPen(QColor(255, 255, 255) if self.eraser else QColor(0, 0, 0))
        pen.setWidthF(max(1.0, width * (1.6 if self.eraser else 1.0)))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _begin(self, pos: QPointF, pressure: float = 1.0) -> None:
        self._push_undo()
        self._drawing = True
        self._last = self.widget_to_image(pos)
        self._segment(self._last, self._last, pressure)

    def _extend(self, pos: QPointF, pressure: float = 1.0) -> None:
        if not self._drawing or self._last is None:
            return
        p = self.widget_to_image(pos)
        self._segment(self._last, p, pressure)
        self._last = p

    def _end(self) -> None:
        if self._drawing:
            self._drawing = False
            self._last = None
            self.strokeFinished.emit()

    def _segment(self, a: QPointF, b: QPointF, pressure: float) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._pen(pressure))
        if a == b:
            painter.drawPoint(a)
        else:
            painter.drawLine(a, b)
        painter.end()
        w = self.pen_width * 1.7 + 4
        r = QRectF(a, b).normalized().adjusted(-w, -w, w, w)
        tl, br = self.image_to_widget(r.topLeft()), self.image_to_widget(r.bottomRight())
        self.update(QRectF(tl, br).toAlignedRect())
        self.changed.emit()

    def mousePressEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton:
            self._begin(e.position())
        elif e.button() == Qt.MouseButton.RightButton:
            self.clear()

    def mouseMoveEvent(self, e):
        if e.buttons() & Qt.MouseButton.LeftButton:
            self._extend(e.position())

    def mouseReleaseEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton:
            self._end()

    def tabletEvent(self, e: QTabletEvent):
        t = e.type()
        pressure = float(e.pressure()) if e.pressure() > 0 else 1.0
        if t == QTabletEvent.Type.TabletPress:
            self.eraser = e.pointerType() == e.pointerType().Eraser or self.eraser
            self._begin(e.position(), pressure)
        elif t == QTabletEvent.Type.TabletMove:
            self._extend(e.position(), pressure)
        elif t == QTabletEvent.Type.TabletRelease:
            self._end()
        e.accept()

    # ------------------------------------------------------------------ drop
    def dragEnterEvent(self, e):
        if e.mimeData().hasUrls() and any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e):
        for url in e.mimeData().urls():
            if url.isLocalFile():
                self.load_file(url.toLocalFile())
                e.acceptProposedAction()
                return

    # ------------------------------------------------------------------ paint
    def paintEvent(self, e):
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        r = self._target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(r, self.image)
        if self._overlay is not None:
            painter.setOpacity(0.55)
            painter.drawImage(r, self._overlay)
            painter.setOpacity(1.0)
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        painter.drawRect(r.adjusted(0, 0, -1, -1))
