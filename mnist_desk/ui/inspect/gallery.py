"""Digits as a clickable icon gallery (a confusion-matrix cell, a drawing's nearest neighbours)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem


def digit_qimage(x: np.ndarray, side: int = 56) -> QImage:
    """A 28x28 digit (uint8 or [0,1] floats, white ink on black) as a greyscale image ``side`` pixels wide."""
    a = np.asarray(x, np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    g = np.ascontiguousarray((np.clip(a, 0, 1) * 255).astype(np.uint8))
    img = QImage(g.data, g.shape[1], g.shape[0], g.shape[1], QImage.Format.Format_Grayscale8).copy()
    return img.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


class Gallery(QListWidget):
    """Digits as icons with captions; ``picked(index)`` carries the item's data (a test-set index)."""

    picked = Signal(int)

    def __init__(self, side: int = 56, parent=None):
        super().__init__(parent)
        self.side = side
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(side, side))
        self.setGridSize(QSize(side + 34, side + 34))
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSpacing(2)
        self._queue = None
        self.itemClicked.connect(lambda it: self.picked.emit(int(it.data(Qt.ItemDataRole.UserRole))))
        self.setToolTip("Test images; click one to load it into the canvas and the Gradients view")
        self.setWhatsThis("Images from MNIST's test set, with what the model answered. Click one to load it into "
                          "the canvas and see, in the Gradients view, which pixels drove the answer. Looking at "
                          "the actual images behind a number is the best way to understand a model's mistakes.")


    CHUNK = 150  # items added per event-loop turn, so a cell of 1,000 images never freezes the window

    def set_items(self, images, captions: list[str], indices, tips: list[str] | None = None) -> None:
        self.clear()
        self._queue = (images, captions, list(indices), tips, 0)
        self._add_chunk()

    def _add_chunk(self) -> None:
        if self._queue is None:
            return
        images, captions, indices, tips, start = self._queue
        stop = min(start + self.CHUNK, len(indices))
        self.setUpdatesEnabled(False)
        for k in range(start, stop):
            it = QListWidgetItem(QIcon(QPixmap.fromImage(digit_qimage(images[k], self.side))), captions[k])
            it.setData(Qt.ItemDataRole.UserRole, int(indices[k]))
            if tips is not None:
                it.setToolTip(tips[k])
            self.addItem(it)
        self.setUpdatesEnabled(True)
        if stop < len(indices):
            self._queue = (images, captions, indices, tips, stop)
            QTimer.singleShot(0, self._add_chunk)
        else:
            self._queue = None

    def clear(self) -> None:
        self._queue = None
        super().clear()

    def indices(self) -> list[int]:
        return [int(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())]
