"""Widgets shared by the Inspect sub-views: the tile grid, the job slot with its progress line, the gallery."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..tasks import Task
from .figures import save_figure
from .panels import Panel, mosaic

log = logging.getLogger(__name__)


def model_key(m) -> tuple[str, int]:
    """Cache key of a stored model: its path and modification time (a file saved again is a new model)."""
    try:
        return str(m.path), Path(m.path).stat().st_mtime_ns
    except OSError:
        return str(m.path), 0


def image_key(x: np.ndarray | None) -> str | None:
    if x is None:
        return None
    return hashlib.sha1(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()[:16]


def digit_qimage(x: np.ndarray, side: int = 56) -> QImage:
    """A 28x28 digit (uint8 or [0,1] floats, white ink on black) as a greyscale image ``side`` pixels wide."""
    a = np.asarray(x, np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    g = np.ascontiguousarray((np.clip(a, 0, 1) * 255).astype(np.uint8))
    img = QImage(g.data, g.shape[1], g.shape[0], g.shape[1], QImage.Format.Format_Grayscale8).copy()
    return img.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


# ------------------------------------------------------------------------------ tile grid
class MosaicView(QWidget):
    """A Panel drawn as one image in a zoomable, pannable pyqtgraph view; hover names the tile under the pointer."""

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
        self.bar: pg.ColorBarItem | None = None
        self._texts: list[pg.TextItem] = []
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.hover = QLabel(" ")
        self.hover.setStyleSheet("color: #444")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.hover)
        self.glw.scene().sigMouseMoved.connect(self._on_move)
        self.glw.scene().sigMouseClicked.connect(self._on_click)

    @property
    def tile_count(self) -> int:
        return 0 if self.panel is None else len(self.panel.tiles)

    def set_panel(self, panel: Panel | None) -> None:
        self.panel = panel
        for t in self._texts:
            self.vb.removeItem(t)
        self._texts = []
        if self.bar is not None:
            self.glw.removeItem(self.bar)
            self.bar = None
        if panel is None or not panel.tiles:
            self.mosaic = None
            self.image.clear()
            self.title.setText("" if panel is None else panel.title)
            self.hover.setText(panel.note if panel is not None and panel.note else " ")
            return
        self.title.setText(panel.title)
        self.mosaic = m = mosaic(panel)
        self.image.setImage(m.rgb, autoLevels=False, levels=(0, 255))
        if m.caption and len(panel.tiles) <= self.MAX_CAPTIONS:
            for t, (oy, ox) in zip(panel.tiles, m.origins):
                if t.title:
                    txt = pg.TextItem(t.title, color=(30, 30, 30), anchor=(0.5, 1.0))
                    txt.setPos(ox + m.cell[1] / 2, oy - 1)
                    self.vb.addItem(txt)
                    self._texts.append(txt)
        if panel.colourbar is not None:
            cb = panel.colourbar
            self.bar = pg.ColorBarItem(values=(cb.vmin, cb.vmax), colorMap=pg.colormap.get(cb.cmap, source="matplotlib"),
                                       interactive=False, width=14, label=cb.label or None, colorMapMenu=False)
            self.glw.addItem(self.bar, row=0, col=1)
        self.vb.autoRange(padding=0.01)
        self.hover.setText(panel.note or f"{len(panel.tiles)} images; point at one for its values (wheel zooms, drag pans)")

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


# ------------------------------------------------------------------------------ gallery
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
        self.itemClicked.connect(lambda it: self.picked.emit(int(it.data(Qt.ItemDataRole.UserRole))))

    def set_items(self, images, captions: list[str], indices, tips: list[str] | None = None) -> None:
        self.setUpdatesEnabled(False)
        self.clear()
        for k, (img, cap, idx) in enumerate(zip(images, captions, indices)):
            it = QListWidgetItem(QIcon(QPixmap.fromImage(digit_qimage(img, self.side))), cap)
            it.setData(Qt.ItemDataRole.UserRole, int(idx))
            if tips is not None:
                it.setToolTip(tips[k])
            self.addItem(it)
        self.setUpdatesEnabled(True)

    def indices(self) -> list[int]:
        return [int(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())]


# ------------------------------------------------------------------------------ background jobs
class StatusLine(QWidget):
    """What a view is doing: a message, a progress bar (busy when the job gives no fractions) and Cancel.

    Several job slots share one line: it shows the newest running job, or the last message when none runs.
    """

    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel(" ")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self._running: dict[object, list] = {}  # owner -> [text, cancellable, fraction or None]
        self._idle_text = " "
        self._show()

    def busy(self, owner, text: str, cancellable: bool) -> None:
        self._running.pop(owner, None)
        self._running[owner] = [text, cancellable, None]
        self._show()

    def progress(self, owner, fraction: float) -> None:
        if owner in self._running:
            self._running[owner][2] = max(0.0, min(1.0, float(fraction)))
            self._show()

    def idle(self, owner, text: str | None = None) -> None:
        self._running.pop(owner, None)
        if text is not None:
            self._idle_text = text
        self._show()

    def _show(self) -> None:
        if not self._running:
            self.label.setText(self._idle_text)
            self.bar.hide()
            self.cancel_button.hide()
            return
        text, cancellable, fraction = list(self._running.values())[-1]
        self.label.setText(text)
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(round(100 * fraction)))
        self.bar.show()
        self.cancel_button.setVisible(any(r[1] for r in self._running.values()))

    @property
    def is_busy(self) -> bool:
        return bool(self._running)


class JobSlot(QObject):
    """One kind of job of a view: at most one runs; a newer request waits (replacing an older waiting one)
    and the running job is asked to stop; only the newest request's result is delivered."""

    def __init__(self, status: StatusLine, name: str, on_error: Callable[[str], None], parent=None):
        super().__init__(parent)
        self.status, self.name, self.on_error = status, name, on_error
        self.task: Task | None = None
        self._pending = None
        self._generation = 0
        self._tasks: set[Task] = set()
        self.last_error: str | None = None

    def run(self, fn, *args, on_result: Callable, text: str, cancellable: bool = False, **kwargs) -> None:
        self._generation += 1
        request = (self._generation, fn, args, kwargs, on_result, text, cancellable)
        if self.task is not None and self.task.is_running():
            self._pending = request
            self.task.cancel()
            return
        self._start(request)

    def busy(self) -> bool:
        return self.task is not None and self.task.is_running()

    def cancel(self) -> None:
        self._pending = None
        if self.busy():
            self.task.cancel()

    def _start(self, request) -> None:
        gen, fn, args, kwargs, on_result, text, cancellable = request
        task = Task(fn, *args, name=f"inspect-{self.name}", **kwargs)
        self.task = task
        self.last_error = None
        self.status.busy(self, text, cancellable)
        task.progress.connect(self._on_progress)
        task.finished.connect(lambda result: self._on_finished(gen, on_result, result))
        task.failed.connect(lambda msg, details: self._on_failed(gen, msg))
        task.done.connect(lambda: self._on_done(task))
        self._tasks.add(task)
        task.start()

    def _on_progress(self, value) -> None:
        if isinstance(value, (int, float)):
            self.status.progress(self, value)

    def _on_finished(self, gen: int, on_result, result) -> None:
        if gen != self._generation:
            return
        self.status.idle(self, "")
        try:
            on_result(result)
        except Exception as exc:  # noqa: BLE001 - a display bug must not kill the view; it is logged and shown
            log.exception("showing %s failed", self.name)
            self._on_failed(gen, f"{type(exc).__name__}: {exc}")

    def _on_failed(self, gen: int, message: str) -> None:
        if gen != self._generation:
            return
        self.last_error = message
        if message == "cancelled":
            self.status.idle(self, "Cancelled.")
        else:
            self.status.idle(self, f"Failed: {message}")
            self.on_error(message)

    def _on_done(self, task: Task) -> None:
        self._tasks.discard(task)
        if task is self.task:
            self.task = None
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._start(request)

    def shutdown(self) -> None:
        self._pending = None
        for t in list(self._tasks):
            t.shutdown()


# ------------------------------------------------------------------------------ the view base
class InspectView(QWidget):
    """A sub-view: knows the model and the drawing, computes only while active, exports its figure."""

    message = Signal(str)
    title = "view"

    def __init__(self, hub, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.model = None
        self.drawing: np.ndarray | None = None
        self.active = False
        self.status = StatusLine()
        self._slots: list[JobSlot] = []
        self.export_button = QPushButton("Export PNG/SVG…")
        self.export_button.setToolTip("Save this view as a PNG or SVG figure (same content and colour scales)")
        self.export_button.clicked.connect(self.export_dialog)

    def slot(self, name: str) -> JobSlot:
        s = JobSlot(self.status, name, lambda msg: self.message.emit(f"{self.title}: {msg}"), self)
        self.status.cancelRequested.connect(s.cancel)
        self._slots.append(s)
        return s

    def busy(self) -> bool:
        return any(s.busy() for s in self._slots)

    # called by InspectTab
    def set_model(self, m) -> None:
        self.model = m
        if self.active:
            self.refresh()

    def set_drawing(self, x: np.ndarray | None) -> None:
        self.drawing = None if x is None else np.asarray(x, np.float32)
        if self.active:
            self.refresh()

    def activate(self) -> None:
        self.active = True
        self.refresh()

    def deactivate(self) -> None:
        self.active = False

    def refresh(self) -> None:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    # export
    def figure(self):
        """A matplotlib Figure of what the view shows, or None when it shows nothing yet."""
        raise NotImplementedError

    def export(self, path) -> Path:
        fig = self.figure()
        if fig is None:
            raise ValueError("nothing to export yet")
        return save_figure(fig, path)

    def export_dialog(self) -> None:
        if self.figure() is None:
            self.message.emit("Nothing to export yet")
            return
        name = f"{self.title.lower().replace(' ', '_')}.png"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", name, "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        try:
            self.export(path)
            self.message.emit(f"Saved {path}")
        except (OSError, ValueError) as exc:
            self.message.emit(f"Could not export: {exc}")

    def shutdown(self) -> None:
        for s in self._slots:
            s.shutdown()
