"""The tile grid: a Panel drawn as one zoomable image (pyqtgraph), with captions and a colour bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..help import explain
from .panels import Panel, lut, mosaic


class MosaicView(QWidget):
    """A Panel drawn as one image in a zoomable, pannable pyqtgraph view; hover names the tile under the pointer.

    Cheap to update (the GUI thread only uploads the image): the mosaic may come precomputed from a worker,
    captions are plain Qt text items kept in a pool, and the colour bar is created once.
    """

    tileHovered = Signal(int)
    tileClicked = Signal(int)

    MAX_CAPTIONS = 120  # more tiles than this: no captions (hover tells), so 1500 units stay fast

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panel: Panel | None = None
        self.mosaic = None
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        self.vb = self.glw.addViewBox(row=0, col=0)
        self.vb.setAspectLocked(True)
        self.vb.invertY(True)
        self.vb.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.bar = ColourBarWidget()
        explain(self.bar, "Which colour means which value",
                "The colour scale of the pictures beside it: which colour stands for which number. With a "
                "red-blue scale, red is positive, blue negative and white zero.")

        self._captions: list[QGraphicsSimpleTextItem] = []
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.hover = QLabel(" ")
        self.hover.setStyleSheet("color: #444")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        row = QHBoxLayout()
        row.setSpacing(0)
        row.addWidget(self.glw, 1)
        row.addWidget(self.bar)
        lay.addLayout(row, 1)
        lay.addWidget(self.hover)
        self.glw.scene().sigMouseMoved.connect(self._on_move)
        self.glw.scene().sigMouseClicked.connect(self._on_click)

    @property
    def tile_count(self) -> int:
        return 0 if self.panel is None else len(self.panel.tiles)

    def set_panel(self, panel: Panel | None, mos=None) -> None:
        """Show ``panel``; ``mos`` is its mosaic when a worker already built it."""
        self.panel = panel
        if panel is None or not panel.tiles:
            self.mosaic = None
            self.image.clear()
            self._set_captions([])
            self._set_bar(None)
            self.title.setText("" if panel is None else panel.title)
            self.hover.setText(panel.note if panel is not None and panel.note else " ")
            return
        self.title.setText(panel.title)
        self.mosaic = m = mos if mos is not None else mosaic(panel)
        self.image.setImage(m.rgb, autoLevels=False, levels=(0, 255))
        caps = []
        if m.caption and len(panel.tiles) <= self.MAX_CAPTIONS:
            caps = [(t.title, ox + m.cell[1] / 2, oy - 1) for t, (oy, ox) in zip(panel.tiles, m.origins) if t.title]
        self._set_captions(caps)
        self._set_bar(panel.colourbar)
        self.vb.autoRange(padding=0.01)
        hint = f"{len(panel.tiles)} images; point at one for its values (wheel zooms, drag pans)"
        self.hover.setText(f"{panel.note}. {hint}" if panel.note else hint)

    def _set_captions(self, caps) -> None:
        while len(self._captions) < len(caps):
            item = QGraphicsSimpleTextItem()
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            item.setParentItem(self.vb.childGroup)
            self._captions.append(item)
        for item, (text, x, y) in zip(self._captions, caps):
            item.setText(text)
            r = item.boundingRect()
            item.setTransform(QTransform.fromTranslate(-r.width() / 2, -r.height()))  # centred above (x, y)
            item.setPos(x, y)
            item.setVisible(True)
        for item in self._captions[len(caps):]:
            item.setVisible(False)

    def _set_bar(self, cb) -> None:
        self.bar.set_scale(cb)

    def tile_at_scene(self, scene_pos) -> int | None:
        if self.mosaic is None:
            return None
        p = self.vb.mapSceneToView(scene_pos)
        return self.mosaic.tile_at(p.x(), p.y())

    def _on_move(self, scene_pos) -> None:
        i = self.tile_at_scene(scene_pos)
        if i is None or self.panel is None:
            return
        t = self.panel.tiles[i]
        text = t.info or t.title or f"tile {i}"
        self.hover.setText(text)
        self.glw.setToolTip(text)
        self.tileHovered.emit(i)

    def _on_click(self, ev) -> None:
        i = self.tile_at_scene(ev.scenePos())
        if i is not None:
            self.tileClicked.emit(i)


class ColourBarWidget(QWidget):
    """A vertical colour bar (a panel's colour map and limits), painted with QPainter: instant to update."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scale = None
        self._image: QImage | None = None
        self._ticks: list[float] = []
        self.setFixedWidth(84)
        self.hide()

    def set_scale(self, cb) -> None:
        self.scale = cb
        if cb is None:
            self.hide()
            return
        from matplotlib.ticker import MaxNLocator

        rgb = np.ascontiguousarray(lut(cb.cmap)[::-1][:, None, :].repeat(12, axis=1))  # top = vmax
        self._image = QImage(rgb.data, 12, 256, 36, QImage.Format.Format_RGB888).copy()
        self._ticks = [t for t in MaxNLocator(7).tick_values(cb.vmin, cb.vmax) if cb.vmin <= t <= cb.vmax]
        self.show()
        self.update()

    def paintEvent(self, _e) -> None:
        if self.scale is None or self._image is None:
            return
        cb = self.scale
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        top, bottom = 14, self.height() - 14
        bar = QRectF(8, top, 14, max(10, bottom - top))
        p.drawImage(bar, self._image)
        p.setPen(QColor(90, 90, 90))
        p.drawRect(bar)
        font = QFont(self.font())
        font.setPixelSize(10)
        p.setFont(font)
        span = (cb.vmax - cb.vmin) or 1.0
        for t in self._ticks:
            y = bar.bottom() - (t - cb.vmin) / span * bar.height()
            p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 3, y))
            p.drawText(QRectF(bar.right() + 5, y - 7, 60, 14), Qt.AlignmentFlag.AlignVCenter, f"{t:.3g}")
        if cb.label:
            p.save()
            p.translate(self.width() - 4, (top + bottom) / 2)
            p.rotate(-90)
            p.drawText(QRectF(-bar.height() / 2, -12, bar.height(), 12), Qt.AlignmentFlag.AlignCenter, cb.label)
            p.restore()
        p.end()
