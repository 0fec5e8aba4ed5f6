"""The window's menu bar: every command is one QAction, with its shortcut, shown in the menus, in the
buttons' tooltips and in Help > Keyboard shortcuts (built from the actions, so it cannot drift).

Window-wide commands use Qt.WindowShortcut: they fire whichever view or child has focus. Esc and the digit
keys belong to the Draw view (its own actions, WidgetWithChildrenShortcut): elsewhere they mean nothing.
"""

from __future__ import annotations

import html
import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, qVersion
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWhatsThis,
    QWidget,
)

from .. import __version__
from ..core.paths import (
    SHIPPED_MODELS_DIR,
    user_data_dir,
    user_log_dir,
    user_models_dir,
)
from ..core.tf_library import installed_version
from .theme import THEMES

Key = QKeySequence.StandardKey


def key_sequences(standard: Key | None, fallback: str | None = None) -> list[QKeySequence]:
    """The platform's keys for a standard command; ``fallback`` where the platform has none (Quit on Windows)."""
    keys = QKeySequence.keyBindings(standard) if standard is not None else []
    return keys or ([QKeySequence(fallback)] if fallback else [])


def on_a_common_keyboard(keys: QKeySequence) -> bool:
    """Whether a person can type ``keys`` on an ordinary keyboard. The platform's standard bindings also list
    dedicated keys (Open, Undo, Sun's F14): they still work, but listing them only confuses."""
    combo = keys[0]
    if combo.keyboardModifiers() & ~Qt.KeyboardModifier.KeypadModifier:
        return True
    key = combo.key()
    return key < Qt.Key.Key_Escape or key == Qt.Key.Key_Escape or Qt.Key.Key_F1 <= key <= Qt.Key.Key_F12


def shortcut_text(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
                     if not k.isEmpty() and on_a_common_keyboard(k))


def add_shortcut_to_tooltip(widget: QWidget, action: QAction) -> None:
    """The action's main key after the widget's tooltip; the full list is in Help > Keyboard shortcuts."""
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    if keys:
        widget.setToolTip(f"{widget.toolTip() or action.text().replace('&', '')} ({keys})")


def menu_actions(menu: QMenu, path: str = ""):
    """(``File > Open image…``, action) for every command in ``menu`` and its submenus, in menu order."""
    for a in menu.actions():
        if a.isSeparator():
            continue
        name = f"{path} > {a.text().replace('&', '')}" if path else a.text().replace("&", "")
        if a.menu() is not None:
            yield from menu_actions(a.menu(), name)
        else:
            yield name, a


class MainMenus(QObject):
    """Builds the window's menus; ``actions`` holds them by name (tests and the shortcuts list use it)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.actions: dict[str, QAction] = {}
        self.shortcuts_dialog: QDialog | None = None
        self.about_box: QMessageBox | None = None
        self._build()

    def _action(self, name: str, text: str, slot, keys: list[QKeySequence] | None = None,
                menu: QMenu | None = None) -> QAction:
        a = QAction(text, self.window)
        if keys:
            a.setShortcuts(keys)
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(a)  # the window's, so it fires even while the menu bar is hidden
        if menu is not None:
            menu.addAction(a)
        self.actions[name] = a
        return a

    def _build(self) -> None:
        w = self.window
        draw, bar = w.draw, w.menuBar()

        file = bar.addMenu("&File")
        self._action("open_image", "Open &image…", draw.open_image, key_sequences(Key.Open, "Ctrl+O"), file)
        self._action("open_model", "Open &model…", draw.open_model, [QKeySequence("Ctrl+Shift+O")], file)
        self._action("save_drawing", "&Save drawing…", draw.save_image, key_sequences(Key.Save, "Ctrl+S"), file)
        self._action("export_digits", "&Export digits…", draw.export_digits, [QKeySequence("Ctrl+E")], file)
        file.addSeparator()
        quit_action = self._action("quit", "&Quit", w.close, key_sequences(Key.Quit, "Ctrl+Q"), file)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit = bar.addMenu("&Edit")
        self._action("undo", "&Undo", draw.canvas.undo, key_sequences(Key.Undo, "Ctrl+Z"), edit)
        self._action("redo", "&Redo", draw.canvas.redo, key_sequences(Key.Redo, "Ctrl+Shift+Z"), edit)
        edit.addAction(draw.clear_action)
        self.actions["clear"] = draw.clear_action
        label = edit.addMenu("&Label drawing as")
        for d, a in enumerate(draw.label_actions):
            label.addAction(a)
            self.actions[f"label_{d}"] = a

        view = bar.addMenu("&View")
        views = QActionGroup(self)
        # (each with its own Alt letter: Lab and Lessons both start with L)
        for i, (name, text, page) in enumerate((("draw", "&Draw", draw), ("train", "&Train", w.train),
                                                ("inspect", "&Inspect", w.inspect), ("lab", "&Lab", w.lab),
                                                ("lessons", "L&essons", w.lessons))):
            a = self._action(f"view_{name}", text, lambda page=page: w.tabs.setCurrentWidget(page),
                             [QKeySequence(f"Ctrl+{i + 1}")], view)
            a.setCheckable(True)
            views.addAction(a)
        w.tabs.currentChanged.connect(self._check_current_view)
        self._check_current_view(w.tabs.currentIndex())
        view.addSeparator()
        theme = view.addMenu("&Theme")
        themes = QActionGroup(self)
        for name in THEMES:
            a = self._action(f"theme_{name}", f"&{name.capitalize()}", lambda name=name: w.set_theme(name), menu=theme)
            a.setCheckable(True)
            themes.addAction(a)

        help_menu = bar.addMenu("&Help")
        self._action("shortcuts", "&Keyboard shortcuts", self.show_shortcuts, key_sequences(Key.HelpContents, "F1"),
                     help_menu)
        # Shift+F1, then a click on any control: a few plain sentences on what it is and the idea behind it
        self._action("whats_this", "&What is this?", QWhatsThis.enterWhatsThisMode,
                     key_sequences(Key.WhatsThis, "Shift+F1"), help_menu)
        about = self._action("about", "&About mnist_desk", self.show_about, menu=help_menu)
        about.setMenuRole(QAction.MenuRole.AboutRole)

        for name, button in draw.buttons.items():
            add_shortcut_to_tooltip(button, self.actions[name])

    def _check_current_view(self, index: int) -> None:
        names = ("view_draw", "view_train", "view_inspect", "view_lab", "view_lessons")
        if 0 <= index < len(names):
            self.actions[names[index]].setChecked(True)

    def check_theme(self, name: str) -> None:
        self.actions[f"theme_{name}"].setChecked(True)

    # ------------------------------------------------------------------ Help
    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(command, keys) for every menu command that has keys, as the menus name them."""
        rows = []
        for top in self.window.menuBar().actions():
            if top.menu() is not None:
                rows += [(name, shortcut_text(a)) for name, a in menu_actions(top.menu(), top.text().replace("&", ""))
                         if a.shortcuts()]
        return rows

    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            dialog = QDialog(self.window)
            dialog.setWindowTitle("Keyboard shortcuts")
            rows = self.shortcut_rows()
            table = QTableWidget(len(rows), 2, dialog)
            table.setHorizontalHeaderLabels(["Command", "Keys"])
            table.verticalHeader().setVisible(False)
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
            for r, (command, keys) in enumerate(rows):
                table.setItem(r, 0, QTableWidgetItem(command))
                table.setItem(r, 1, QTableWidgetItem(keys))
            close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            close.rejected.connect(dialog.reject)
            lay = QVBoxLayout(dialog)
            lay.addWidget(table)
            lay.addWidget(close)
            dialog.resize(460, 520)
            dialog.setModal(False)  # it can stay open beside the window while the keys are tried
            self.shortcuts_dialog = dialog
            self.shortcuts_table = table
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()

    def about_text(self) -> str:
        w = self.window
        tensorflow = installed_version("tensorflow", "tensorflow", "tensorflow-cpu", "tensorflow-macos")
        rows = [
            ("TensorFlow", tensorflow),
            ("Keras", installed_version("keras")),
            ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
            ("Python", f"{platform.python_version()} ({sys.implementation.name})"),
            ("Training device", w.training_device or "not known yet: TensorFlow is still loading"),
            ("Your models", str(user_models_dir())),
            ("Your data and settings", str(user_data_dir())),
            ("Logs", str(user_log_dir())),
            ("Shipped models", str(SHIPPED_MODELS_DIR)),
        ]
        table = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return (f"<h3>mnist_desk {__version__}</h3><p>Draw a digit and watch networks read it; train the classic "
                f"MNIST models and look inside them.</p><table>{table}</table>")

    def show_about(self) -> None:
        if self.about_box is None:
            box = QMessageBox(self.window)
            box.setWindowTitle("About mnist_desk")
            box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setStandardButtons(QMessageBox.StandardButton.Ok)
            self.about_box = box
        self.about_box.setText(self.about_text())  # the device is known only once TensorFlow has loaded
        self.about_box.open()
