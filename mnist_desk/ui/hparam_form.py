"""A form generated from an architecture's registry Params: one widget per hyperparameter.

int -> QSpinBox, float -> QLineEdit (so 1e-4 and 0.3 both read naturally), ints -> QLineEdit ("512, 512"),
choice -> QComboBox, bool -> QCheckBox. ``values()`` parses every field with ``Param.parse`` and raises
ValueError with the parameter's own message when one is wrong.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from ..core import registry


def format_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class HParamForm(QWidget):
    """The hyperparameters of one architecture; rebuilt when the architecture changes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.arch: str | None = None
        self.widgets: dict[str, QWidget] = {}
        self._params: dict[str, registry.Param] = {}
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_arch(self, arch: str, values: dict | None = None) -> None:
        a = registry.get_architecture(arch)
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.widgets.clear()
        self._params = {p.name: p for p in a.params}
        self.arch = arch
        for p in a.params:
            w = self._make_widget(p)
            w.setToolTip(p.help)
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(p.help)
            self._layout.addRow(label, w)
            self.widgets[p.name] = w
        if not a.params:
            self._layout.addRow(QLabel("(no hyperparameters: the architecture is fixed)"))
        self.set_values({**a.defaults(), **(values or {})})

    @staticmethod
    def _make_widget(p: registry.Param) -> QWidget:
        if p.kind == "int":
            w = QSpinBox()
            w.setRange(int(p.minimum) if p.minimum is not None else 0, int(p.maximum) if p.maximum is not None else 1_000_000)
            return w
        if p.kind == "choice":
            w = QComboBox()
            w.addItems(list(p.choices))
            return w
        if p.kind == "bool":
            return QCheckBox()
        w = QLineEdit()
        if p.kind == "ints":
            w.setPlaceholderText("sizes, e.g. 512, 512")
        return w

    def set_values(self, values: dict) -> None:
        for name, value in values.items():
            w = self.widgets.get(name)
            if w is None:
                continue
            if isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            else:
                w.setText(format_value(value))

    def raw_values(self) -> dict:
        out = {}
        for name, w in self.widgets.items():
            if isinstance(w, QSpinBox):
                out[name] = w.value()
            elif isinstance(w, QComboBox):
                out[name] = w.currentText()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            else:
                out[name] = w.text()
        return out

    def values(self) -> dict:
        """Parsed values; ValueError (naming the parameter) if one does not parse or is out of range."""
        out = {}
        for name, raw in self.raw_values().items():
            try:
                out[name] = self._params[name].parse(raw)
            except ValueError as exc:
                msg = str(exc)
                raise ValueError(msg if msg.startswith(name) else f"{name}: {msg}") from None
        return out
