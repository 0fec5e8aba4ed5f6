"""A combo box that shows a long item elided in the middle, with the whole text in its tooltip.

Model labels such as "strided-fast (strided, test 99.02%) [yours]" are told apart by both ends: the name
at the start and the accuracy and origin at the end. QComboBox cuts the end off when the label is wider
than the box; here the middle goes instead, and the popup list and the tooltips keep the full text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter


class ElidedComboBox(QComboBox):
    def __init__(self, purpose: str = "", parent=None):
        super().__init__(parent)
        self.purpose = purpose  # what the box is for; the tooltip adds the chosen item's full text
        self.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.currentIndexChanged.connect(self._update_tooltip)
        self._update_tooltip()

    def addItem(self, text: str, data=None) -> None:
        super().addItem(text, data)
        self.setItemData(self.count() - 1, text, Qt.ItemDataRole.ToolTipRole)

    def _update_tooltip(self, _index=None) -> None:
        text = self.currentText()
        self.setToolTip("\n\n".join(t for t in (text, self.purpose) if t))

    def _option(self) -> QStyleOptionComboBox:
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        return opt

    def displayed_text(self) -> str:
        """The current item's text as painted in the box: whole if it fits, else with its middle elided."""
        opt = self._option()
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle, max(field.width(), 0))

    def showPopup(self) -> None:
        # The list is as wide as its longest item, so every name shows in full there.
        self.view().setMinimumWidth(self.view().sizeHintForColumn(0) + 2 * self.view().frameWidth() + 8)
        super().showPopup()

    def paintEvent(self, _event) -> None:
        painter = QStylePainter(self)
        opt = self._option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        opt.currentText = self.displayed_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)
