"""A bar above the views for what the user should know from the start: a read-only session, a damaged file
set aside. Each notice is said once, stays until dismissed, and never blocks the window (unlike a dialog)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton


class NoticeBar(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setStyleSheet("#noticeBar { background: #fff4c2; border-bottom: 1px solid #d9c16a; }"
                           "#noticeBar QLabel { color: #3d3000; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide these notices")
        close.setWhatsThis("Hides this yellow bar. It lists things found while starting (a file set aside, a "
                           "folder that cannot be written) that need no answer now.")

        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.notices: list[str] = []
        self.hide()

    def add(self, notice: str) -> None:
        if notice in self.notices:
            return
        self.notices.append(notice)
        self.label.setText("\n".join(self.notices))
        self.show()
