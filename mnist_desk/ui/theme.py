"""Light and dark: the application's palette and every pyqtgraph plot's colours, from one choice.

"system" follows the desktop's colour scheme (Qt 6.5+ ``QStyleHints.colorScheme``) and changes with it.
Dark and Light use the Fusion style, whose palette is entirely ours; the native style is kept for
"system" on a light desktop, so that the app looks as it did before themes existed.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES = ("system", "light", "dark")

# (background, foreground) of the plots; light is pyqtgraph's look as the views have always used it
PLOT_COLOURS = {False: ("w", "d"), True: ("#1e1f22", "#c8c8c8")}

_native: tuple[str, QPalette] | None = None  # the style and palette the app started with
_applied = "native"  # the look the application has now: native, light or dark


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hasattr(hints, "colorScheme") and hints.colorScheme() == Qt.ColorScheme.Dark


def is_dark(choice: str) -> bool:
    return choice == "dark" or (choice == "system" and system_is_dark())


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#2b2d30"), QColor("#1e1f22"), QColor("#e0e0e0")
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor("#26282b"),
        QPalette.ColorRole.ToolTipBase: QColor("#3c3f41"), QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8c8c8c"), QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#3c3f41"), QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"), QPalette.ColorRole.Link: QColor("#6aa9ff"),
        QPalette.ColorRole.Highlight: QColor("#3d6fb4"), QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Light: QColor("#4a4d50"), QPalette.ColorRole.Midlight: QColor("#404346"),
        QPalette.ColorRole.Mid: QColor("#303235"), QPalette.ColorRole.Dark: QColor("#1a1b1d"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def apply_theme(choice: str, root: QWidget | None = None) -> bool:
    """Set the app's palette for ``choice`` and recolour the plots under ``root``; True if it is dark."""
    global _native
    app = QApplication.instance()
    if _native is None:
        _native = (app.style().name(), QPalette(app.palette()))
    global _applied
    dark = is_dark(choice)
    look = "dark" if dark else "light" if choice == "light" else "native"
    # Setting a style repolishes every widget: skipped when the look is already the one asked for
    # (each window sets its theme as it opens).
    if look != _applied:
        if look == "dark":
            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        elif look == "light":
            app.setStyle("Fusion")
            app.setPalette(QPalette(QColor("#efefef")))  # Qt derives the other roles: white base, black text
        else:
            app.setStyle(_native[0])
            app.setPalette(_native[1])
        _applied = look
    # The views make their plots light; walking every plot's items takes tens of ms, so only a change does.
    if root is not None and bool(root.property("darkPlots")) != dark:
        theme_plots(root, dark)
        root.setProperty("darkPlots", dark)
    return dark


def theme_plots(root: QWidget, dark: bool) -> None:
    """Background, axes, titles and legend text of every pyqtgraph view under ``root`` (PlotWidget,
    GraphicsLayoutWidget, ImageView's view), and the defaults for plots made later."""
    background, foreground = PLOT_COLOURS[dark]
    pg.setConfigOptions(background=background, foreground=foreground)
    pen = pg.mkPen(foreground)
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(background)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(pen)
                item.setTextPen(pen)
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(foreground)
            elif isinstance(item, pg.LabelItem) and item.text:
                item.setText(item.text, color=foreground)
