"""Help beside every control: a short tooltip (what it does) and a What's This text (Help > What is this?,
Shift+F1, then a click: what it is, what to try and the idea behind it), written for students of the
classic MNIST notebooks."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def explain(widget: QWidget, tip: str | None, what: str) -> QWidget:
    """Give ``widget`` its What's This text and, where ``tip`` is given, its tooltip (``None`` keeps a tooltip
    set elsewhere, e.g. one that changes with the widget's state)."""
    if tip is not None:
        widget.setToolTip(tip)
    widget.setWhatsThis(what)
    return widget
