"""A view made of sub-views in tabs (Inspect, Lab), of which only the one shown computes."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QWidget


class SubViewTabs(QWidget):
    """Holds ``views`` (each with ``title``, ``message``, ``activate``/``deactivate``, ``busy``, ``shutdown``)
    in a tab bar; the shown one is active while this widget is visible."""

    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.views: list = []
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(lambda _i: self._update_active())
        self._active = None

    def add_views(self, views: list) -> None:
        for v in views:
            self.views.append(v)
            self.tabs.addTab(v, v.title)
            v.message.connect(self.message)

    def explain_tabs(self, texts: dict[str, tuple[str, str]]) -> None:
        """Each sub-view's tab gets its (tooltip, What's This) from ``texts``, by the view's title."""
        for i, v in enumerate(self.views):
            tip, what = texts[v.title]
            self.tabs.setTabToolTip(i, tip)
            self.tabs.setTabWhatsThis(i, what)

    def show_view(self, name: str) -> None:

        """Switch to a sub-view by the start of its title or class name (tests, benchmarks, screenshots)."""
        for v in self.views:
            if v.title.lower().startswith(name.lower()) or type(v).__name__.lower().startswith(name.lower()):
                self.tabs.setCurrentWidget(v)
                return
        raise KeyError(name)

    def _update_active(self) -> None:
        current = self.tabs.currentWidget() if self.isVisible() else None
        if current is self._active:
            return
        if self._active is not None:
            self._active.deactivate()
        self._active = current
        if current is not None:
            current.activate()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._update_active()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._update_active()

    def busy(self) -> bool:
        return any(v.busy() for v in self.views)

    def shutdown(self) -> None:
        for v in self.views:
            v.shutdown()
