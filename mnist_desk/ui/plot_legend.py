"""A pyqtgraph legend in its own cell of the plot's layout, beside or below the view box.

pyqtgraph's ``addLegend`` floats the legend over the view box, where it hides whatever data lies under
its corner (the tallest bars, a whole t-SNE cluster, the end of a curve). Here the plot's own grid
layout gives the legend a row below the bottom axis or a column right of the view box, so the view box
shrinks to make room instead.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

# Cells of PlotItem's grid layout: the view box is (2, 1), the bottom axis (3, 1), the right axis (2, 2).
_BELOW = (4, 1)
_BESIDE = (2, 3)


class LayoutLegend(pg.LegendItem):
    """A LegendItem placed by the plot's layout rather than anchored over the view box."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.width_available: float | None = None  # for a legend below the plot: as many columns as fit

    def updateSize(self):
        # The base class moves a floating legend to (0, 0) and fixes its size; in a layout cell the size
        # hint of the legend's own grid decides, and the plot's layout places it.
        self.updateGeometry()

    def addItem(self, item, name):
        super().addItem(item, name)
        self.fit_columns()

    def fit_columns(self, width: float | None = None) -> None:
        """Lay the entries out in as many columns as fit in ``width`` (entries go row by row): a legend
        wider than its plot would push the plot's right part out of sight."""
        if width is not None:
            self.width_available = width
        if self.width_available is None or not self.items:
            return
        spacing = self.layout.horizontalSpacing() + 3
        cells = [sample.width() + label.width() + 2 * spacing for sample, label in self.items]
        columns = 1
        for c in range(2, len(cells) + 1):
            if sum(max(cells[i::c]) for i in range(c)) > self.width_available:
                break
            columns = c
        if columns != self.columnCount:
            self.setColumnCount(columns)


def legend_outside(plot: pg.PlotWidget | pg.PlotItem, where: str = "beside", columns: int = 1, **options) -> LayoutLegend:
    """Add a legend to ``plot`` in a layout cell of its own: ``"beside"`` (right of the data) or ``"below"``."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    legend = LayoutLegend(offset=None, colCount=columns, **options)
    # At its preferred size: a growing legend would spread its entries over the whole plot height.
    legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    row, col = _BESIDE if where == "beside" else _BELOW
    align = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft if where == "beside" else Qt.AlignmentFlag.AlignHCenter
    item.layout.addItem(legend, row, col, alignment=align)
    if where != "beside":
        item.geometryChanged.connect(lambda: legend.fit_columns(item.width() - item.getAxis("left").width() - 8))
    item.legend = legend  # PlotItem.plot(name=...) then adds its items to this legend, as with addLegend
    return legend
