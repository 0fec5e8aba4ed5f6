"""Every control explained: each visible widget a user can act on or read a picture from carries a tooltip
(what it does) and a What's This text (Shift+F1: what it is and the idea behind it), in every view, every
Inspect and Lab sub-view and the Experiments window; and Shift+F1 enters What's This mode, Esc leaves it."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollBar,
    QTabBar,
    QWhatsThis,
    QWidget,
)

# The kinds a user acts on or reads: buttons (push, tool, check, radio), choices, numbers, sliders, text
# fields, tables and lists, plots (pyqtgraph's views), progress bars, group boxes of controls, pictures
# (labels showing a pixmap) and our own widgets that paint themselves (the canvas, the image views).
CHECKED_KINDS = (QAbstractButton, QComboBox, QAbstractSpinBox, QAbstractSlider, QLineEdit, QAbstractItemView,
                 pg.GraphicsView, QProgressBar, QGroupBox)


def paints_itself(w: QWidget) -> bool:
    """One of our own widgets that draws its content (canvas, image panes): a picture the user reads."""
    cls = type(w)
    return cls.__module__.startswith("mnist_desk.") and cls.paintEvent is not QWidget.paintEvent


def shows_a_picture(w: QWidget) -> bool:
    return isinstance(w, QLabel) and w.pixmap() is not None and not w.pixmap().isNull()


def exempt(w: QWidget) -> bool:
    """Qt's and pyqtgraph's own parts of a widget, which carry their owner's help, not their own:
    - objectName ``qt_*``: Qt's internals (a spin box's or combo box's line edit, a scroll area's viewport,
      a table's corner button);
    - scroll bars, and the scroll arrows of a tab bar: they only move what they belong to;
    - a table's header (part of the table; its sections already name the columns);
    - a line edit inside a spin box or an editable combo box (the box carries the help);
    - anything inside a pyqtgraph view other than the view itself (its internals)."""
    parent = w.parentWidget()
    if w.objectName().startswith("qt_") or isinstance(w, (QScrollBar, QHeaderView)):
        return True
    if isinstance(parent, QTabBar):
        return True
    if isinstance(w, QLineEdit) and isinstance(parent, (QAbstractSpinBox, QComboBox)):
        return True
    p = parent
    while p is not None:
        if isinstance(p, pg.GraphicsView):
            return True
        p = p.parentWidget()
    return False


def needs_help(w: QWidget) -> bool:
    return (w.isVisible() and not exempt(w)
            and (isinstance(w, CHECKED_KINDS) or paints_itself(w) or shows_a_picture(w)))


def describe(w: QWidget) -> str:
    chain, p = [], w.parentWidget()
    while p is not None and len(chain) < 6:
        chain.append(type(p).__name__ + (f"({p.objectName()})" if p.objectName() else ""))
        p = p.parentWidget()
    text = ""
    for attr in ("text", "title", "currentText", "placeholderText"):
        get = getattr(w, attr, None)
        if callable(get):
            try:
                value = get()
            except TypeError:
                continue
            if isinstance(value, str) and value:
                text = value
                break
    return f"{type(w).__name__} {text!r} in {' < '.join(chain)}"


def missing_help(top: QWidget, already: set[int] | None = None) -> list[str]:
    """Widgets under ``top`` (itself included) that lack a tooltip or a What's This text; those whose id is in
    ``already`` are not listed again (the timeline bar shows under every view)."""
    missing = []
    for w in [top, *top.findChildren(QWidget)]:
        if not needs_help(w) or (already is not None and id(w) in already):
            continue
        if already is not None:
            already.add(id(w))
        lacks = [name for name, value in (("toolTip", w.toolTip()), ("whatsThis", w.whatsThis()))
                 if not value.strip()]
        if lacks:
            missing.append(f"{describe(w)}: no {' or '.join(lacks)}")
    return missing


def tabs_missing_help(top: QWidget) -> list[str]:
    """Tabs of the visible tab bars under ``top`` without a tooltip or a What's This text (the views and
    sub-views are tabs: their names alone do not say what they are for)."""
    return [f"tab {bar.tabText(i)!r} of {describe(bar)}" for bar in top.findChildren(QTabBar) if bar.isVisible()
            for i in range(bar.count()) if not (bar.tabToolTip(i).strip() and bar.tabWhatsThis(i).strip())]


def checked_count(top: QWidget) -> int:
    return sum(needs_help(w) for w in [top, *top.findChildren(QWidget)])


@pytest.fixture
def win(window, qtbot):
    qtbot.waitUntil(lambda: window.hub.current is not None and window.hub.net(window.hub.current) is not None,
                    timeout=20_000)
    return window


def test_every_visible_control_of_every_view_has_help(win, qtbot):
    missing: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    reported: set[int] = set()
    missing_tabs: set[str] = set()


    def check(where: str, top: QWidget) -> None:
        qtbot.wait(50)  # layouts settle, late widgets show
        counts[where] = checked_count(top)
        found = missing_help(top, reported) + [t for t in tabs_missing_help(top) if t not in missing_tabs]
        missing_tabs.update(tabs_missing_help(top))

        if found:
            missing[where] = found

    for page, title in ((win.draw, "Draw"), (win.train, "Train")):
        win.tabs.setCurrentWidget(page)
        check(title, win)
    for container, title in ((win.inspect, "Inspect"), (win.lab, "Lab")):
        win.tabs.setCurrentWidget(container)
        for v in container.views:
            container.tabs.setCurrentWidget(v)
            check(f"{title} > {v.title}", win)
    win.tabs.setCurrentWidget(win.train)
    win.train.open_experiments()
    qtbot.waitUntil(lambda: win.train.experiments is not None and win.train.experiments.isVisible())
    check("Experiments", win.train.experiments)
    win.train.experiments.close()

    report = "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in missing.items())
    assert not missing, f"widgets without help ({sum(map(len, missing.values()))}):\n{report}"
    # the walk really reached the controls (a walk that found nothing would pass vacuously)
    assert counts["Draw"] >= 20 and counts["Train"] >= 20 and counts["Experiments"] >= 5, counts
    assert all(n > 5 for n in counts.values()), counts


def test_the_check_finds_a_control_without_help(win):
    button = win.draw.findChildren(QAbstractButton)[0]
    tip, what = button.toolTip(), button.whatsThis()
    win.tabs.setCurrentWidget(win.draw)
    button.setWhatsThis("")
    try:
        assert any(describe(button) in line for line in missing_help(win.draw))
    finally:
        button.setToolTip(tip)
        button.setWhatsThis(what)


def test_shift_f1_enters_whats_this_mode_and_escape_leaves_it(win, qtbot):
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5_000)
    assert not QWhatsThis.inWhatsThisMode()
    qtbot.keyClick(win.draw.canvas, Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(QWhatsThis.inWhatsThisMode, timeout=2_000)
    qtbot.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not QWhatsThis.inWhatsThisMode(), timeout=2_000)
    QWhatsThis.leaveWhatsThisMode()
