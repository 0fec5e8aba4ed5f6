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

    def updateSize(self):
        # The base class moves a floating legend to (0, 0) and fixes its size; in a layout cell the size
        # hint of the legend's own grid decides, and the plot's layout places it.
        self.updateGeometry()


def legend_outside(plot: pg.PlotWidget | pg.PlotItem, where: str = "beside", columns: int = 1, **options) -> LayoutLegend:
    """Add a legend to ``plot`` in a layout cell of its own: ``"beside"`` (right of the data) or ``"below"``."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    legend = LayoutLegend(offset=None, colCount=columns, **options)
    # At its preferred size: a growing legend would spread its entries over the whole plot height.
    legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    row, col = _BESIDE if where == "beside" else _BELOW
    align = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft if where == "beside" else Qt.AlignmentFlag.AlignHCenter
    item.layout.addItem(legend, row, col, alignment=align)
    item.legend = legend  # PlotItem.plot(name=...) then adds its items to this legend, as with addLegend
    return legend
