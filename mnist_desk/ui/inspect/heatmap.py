"""The confusion matrix as a heat map painted with QPainter: cheap to draw, cells clickable, counts written in."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from .figures import confusion_colours
from .panels import HEAT, colourise


class ConfusionHeatmap(QWidget):
    """Rows are true labels, columns predictions; colour is log(1 + count), as in the exported figure."""

    cellClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self._rgb: np.ndarray | None = None
        self._dark: np.ndarray | None = None
        self.selected: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(320, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, matrix: np.ndarray | None) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix)
        self.selected = None
        if self.matrix is not None:
            v, vmax = confusion_colours(self.matrix)
            self._rgb = colourise(v, HEAT, 0.0, vmax)
            self._dark = v > 0.6 * vmax
        self.update()

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        self.selected = cell
        self.update()

    # ------------------------------------------------------------------ geometry
    def _grid(self) -> tuple[float, float, float]:
        """(x0, y0, cell side) of the 10x10 grid inside the widget, leaving room for labels."""
        left, top, bottom = 52.0, 10.0, 46.0
        side = max(10.0, min(self.width() - left - 10, self.height() - top - bottom)) / 10
        return left, top, side

    def cell_rect(self, i: int, j: int) -> QRectF:
        x0, y0, s = self._grid()
        return QRectF(x0 + j * s, y0 + i * s, s, s)

    def cell_at(self, p: QPointF) -> tuple[int, int] | None:
        x0, y0, s = self._grid()
        j, i = int((p.x() - x0) // s), int((p.y() - y0) // s)
        return (i, j) if 0 <= i < 10 and 0 <= j < 10 and p.x() >= x0 and p.y() >= y0 else None

    # ------------------------------------------------------------------ painting and mouse
    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        x0, y0, s = self._grid()
        font = QFont(self.font())
        font.setPixelSize(max(8, int(s * 0.28)))
        p.setFont(font)
        p.setPen(QColor(60, 60, 60))
        for k in range(10):
            p.drawText(QRectF(x0 + k * s, y0 + 10 * s + 2, s, 16), Qt.AlignmentFlag.AlignCenter, str(k))
            p.drawText(QRectF(x0 - 22, y0 + k * s, 18, s), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(k))
        p.drawText(QRectF(x0, y0 + 10 * s + 20, 10 * s, 18), Qt.AlignmentFlag.AlignCenter, "predicted")
        p.save()
        p.translate(x0 - 32, y0 + 5 * s)
        p.rotate(-90)
        p.drawText(QRectF(-60, -18, 120, 18), Qt.AlignmentFlag.AlignCenter, "true label")
        p.restore()
        if self.matrix is None:
            p.drawText(QRectF(x0, y0, 10 * s, 10 * s), Qt.AlignmentFlag.AlignCenter, "…")
            return
        for i in range(10):
            for j in range(10):
                r = self.cell_rect(i, j)
                p.fillRect(r, QColor(*(int(c) for c in self._rgb[i, j])))
                n = int(self.matrix[i, j])
                if n:
                    p.setPen(Qt.GlobalColor.white if self._dark[i, j] else Qt.GlobalColor.black)
                    p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(n))
        p.setPen(QPen(QColor(150, 150, 150), 1))
        p.drawRect(QRectF(x0, y0, 10 * s, 10 * s))
        if self.selected is not None:
            p.setPen(QPen(QColor(220, 30, 30), 3))
            p.drawRect(self.cell_rect(*self.selected).adjusted(1.5, 1.5, -1.5, -1.5))
        p.end()

    def mousePressEvent(self, e) -> None:
        cell = self.cell_at(e.position())
        if cell is not None and self.matrix is not None and e.button() == Qt.MouseButton.LeftButton:
            self.cellClicked.emit(*cell)

    def mouseMoveEvent(self, e) -> None:
        cell = self.cell_at(e.position())
        if cell is None or self.matrix is None:
            self.setToolTip("")
            return
        i, j = cell
        what = "correct" if i == j else "errors"
        text = f"true {i}, predicted {j}: {int(self.matrix[i, j])} images ({what}); click to see them"
        self.setToolTip(text)
        QToolTip.showText(e.globalPosition().toPoint(), text, self)
