"""The Train view's form: data, architecture with its registry Params, training settings, presets.

``HParamForm`` is generated from an architecture's registry Params: one widget per hyperparameter.

int -> QSpinBox, float -> QLineEdit (so 1e-4 and 0.3 both read naturally), ints -> QLineEdit ("512, 512"),
choice -> QComboBox, bool -> QCheckBox. ``values()`` parses every field with ``Param.parse`` and raises
ValueError with the parameter's own message when one is wrong.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core import registry
from ...core.data import check_source
from ...core.errors import DataError
from .. import jobs
from ..errors import in_user_terms
from ..help import explain
from ..remembered import read_json, write_json
from .format import format_value

log = logging.getLogger(__name__)

# A typed path is checked once the typing pauses, not at every key.
DATA_CHECK_DELAY_MS = 400

SHIPPED_DATA = "MNIST (shipped with the app)"

# What's This texts of the architectures' hyperparameters, by Param name (the tooltip is the Param's own help).
PARAM_IDEAS = {
    "hidden": "How many units (neurons) each hidden layer has, one number per layer: \"256, 256\" is two layers "
              "of 256. More units can learn more patterns but take longer and may memorise the training images "
              "(overfitting).",
    "activation": "The function each hidden unit applies to its weighted sum. Without one, stacked layers would "
                  "collapse into a single linear model. relu (max(0, x)) is the usual choice: fast and easy to "
                  "train; sigmoid and tanh are the older ones.",
    "dropout": "During training, this share of units is switched off at random at every step, so the network "
               "cannot rely on any single unit and has to spread what it learns. It fights overfitting; 0 means "
               "none, 0.5 drops half. Dropout is off when the model is used.",
    "l2": "A penalty on large weights added to the loss (weight decay): it keeps the weights small, which makes "
          "the model smoother and less likely to overfit. 0 means no penalty; try 0.0001.",
    "width": "How many filters the first convolution layer has. A filter is a small 3x3 or 5x5 pattern detector "
             "slid over the whole image (edges, curves, line ends); the next block doubles the count. More filters "
             "see more kinds of pattern, at more cost.",
    "dense": "The number of units in the fully connected (dense) layer after the convolutions: it combines the "
             "patterns the filters found into evidence for each digit.",
}
GENERIC_PARAM_IDEA = ("A hyperparameter: a setting of the network you choose before training (unlike the weights, "
                      "which training learns).")




def _combo() -> QComboBox:
    """A combo box whose width follows the form, not its longest item (preset titles are long)."""
    c = QComboBox()
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(8)
    return c


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
            explain(w, p.help, f"{p.help[:1].upper()}{p.help[1:]}. {PARAM_IDEAS.get(p.name, GENERIC_PARAM_IDEA)}")
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
            w = _combo()
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


class TrainForm(QWidget):
    """Data, model and training settings; ``config_from_form()`` turns them into a TrainConfig."""

    message = Signal(str)
    defaultNameChanged = Signal(str)  # the name a run gets when the user typed none (arch or preset)
    # The data field was checked: the problem with its file (None: it can be read, or it is being checked)
    dataChecked = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.default_name = "cnn"
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(self._build_data_box())
        v.addWidget(self._build_model_box())
        v.addWidget(self._build_training_box())
        v.addStretch(1)

    def _build_data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        explain(box, "Which images the model learns from and is checked on",
                "The training data. MNIST holds 60,000 training and 10,000 test images of handwritten digits, "
                "28x28 grey pixels each, with their labels. The model learns from the training images; some are "
                "held out for validation (checked during training) and the test images are only used at the end, "
                "to say how well it does on digits it never saw.")
        f = QFormLayout(box)
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText(SHIPPED_DATA)
        self.data_edit.setToolTip("A Keras .npz, a CSV (label + 784 pixels) or a folder of MNIST IDX files; "
                                  "empty for the MNIST copy shipped with the app")
        self.data_edit.setWhatsThis("Where the training images come from. Leave it empty to use MNIST, which ships "
                                    "with the app; or give a Keras-style .npz (x_train, y_train, x_test, y_test), a "
                                    "CSV with the label then 784 pixel values per row, or a folder of the original "
                                    "MNIST IDX files. The line under it says what the file holds or what is wrong.")
        row = QHBoxLayout()
        for text, slot in (("File…", self._choose_data_file), ("Folder…", self._choose_data_folder),
                           ("MNIST", lambda: self.data_edit.clear())):
            b = QPushButton(text)
            b.setAutoDefault(False)
            explain(b, {"File…": "Choose a data file (.npz or .csv)", "Folder…": "Choose a folder of MNIST IDX files",
                        "MNIST": "Back to the MNIST copy shipped with the app"}[text],
                    "Sets the training data source above. Other digit data sets in MNIST's layout (for example "
                    "ones you exported from My digits, or EMNIST digits) can be trained on the same way.")
            b.clicked.connect(slot)
            row.addWidget(b)
        f.addRow("Source", self.data_edit)
        f.addRow("", row)
        # what the chosen file holds, or what is wrong with it, read off the GUI thread (see _check_data)
        self.data_status = QLabel()
        self.data_status.setWordWrap(True)
        self.data_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_status.hide()
        f.addRow("", self.data_status)
        self.data_problem: str | None = None
        self._data_job: jobs.Job | None = None
        self._checking_path: str | None = None
        self._data_check_again = False
        self._data_check_timer = QTimer(self)
        self._data_check_timer.setSingleShot(True)
        self._data_check_timer.setInterval(DATA_CHECK_DELAY_MS)
        self._data_check_timer.timeout.connect(self._check_data)
        self.data_edit.textChanged.connect(lambda _t: self._data_check_timer.start())
        self.my_digits_box = QCheckBox("Add my digits to the training set")
        explain(self.my_digits_box, "The digits you labelled in the Draw view",
                "Mixes the digits you labelled in the Draw view into the training images. A few of your own "
                "drawings teach the model your handwriting and your pen: the kind of data it will actually meet.")
        f.addRow(self.my_digits_box)
        self.drawn_spin = QSpinBox()
        self.drawn_spin.setRange(0, 50_000)
        self.drawn_spin.setSingleStep(10_000)
        self.drawn_spin.setSpecialValueText("none")
        self.drawn_spin.setToolTip("Add MNIST digits re-drawn as pen strokes, like digits drawn on the canvas: models "
                                   "trained with them read your drawings better. Drawn once (about a minute for "
                                   "50,000), then cached.")
        self.drawn_spin.setWhatsThis("MNIST digits were written on paper and scanned; the canvas draws with an even "
                                     "pen. Adding MNIST digits redrawn from their pen traces closes that gap: "
                                     "models trained with them read canvas drawings better. 'none' adds nothing.")
        from ...core.strokes import default_mnist_strokes_path

        strokes = default_mnist_strokes_path()
        if not strokes.exists():  # the stroke traces are not shipped with the app (see README)
            self.drawn_spin.setEnabled(False)
            self.drawn_spin.setToolTip(f"Needs MNIST's pen-stroke traces, which were not found at {strokes} "
                                       "(set MNIST_DESK_SHARED to the folder holding data/mnist_strokes/)")
        f.addRow("Drawn-style digits", self.drawn_spin)
        from ...core.non_digits import default_omniglot_path
        from ...core.strokes import default_pendigits_path

        self.pen_spin = self._addition_spin(
            default_pendigits_path(), "pendigits",
            "Add drawings of real pen digits (writers 1-20 of the shared pendigits set, each drawn again with its own "
            "pen, size and slant): models trained with them read other people's handwriting better.")
        self.pen_spin.setWhatsThis("More variety of handwriting: digits written on a tablet by other people, "
                                   "drawn again with different pens, sizes and slants. Varied training data makes "
                                   "a model generalise, that is, do well on handwriting it never saw.")
        f.addRow("Real pen digits", self.pen_spin)
        self.non_digit_spin = self._addition_spin(
            default_omniglot_path(), "omniglot",
            "Add drawings that are not digits (letters of other alphabets, scribbles, shapes), trained toward no "
            "digit at all: the model learns to answer \"not a digit\" instead of guessing.")
        self.non_digit_spin.setWhatsThis("A network trained on digits only must pick a digit for anything, even a "
                                         "smiley. Training with drawings that are not digits, with the lesson "
                                         "'spread your probability over all ten', teaches it to say \"not a "
                                         "digit\" (called outlier exposure).")
        f.addRow("Non-digit drawings", self.non_digit_spin)
        # The added drawings follow the same rule as the CLI (runs.TrainSpec): the architecture's defaults on
        # the shipped MNIST, none on the user's own files.
        self.data_edit.textChanged.connect(lambda _t: self._set_data_defaults())
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 2_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all")
        explain(self.limit_spin, "Use only the first N training images (quick runs); 'all' uses every one",
                "How many training images to learn from. Fewer train faster, but the model sees less variety "
                "and usually ends less accurate: try 1,000 against all and compare the curves.")
        f.addRow("Training images", self.limit_spin)
        self.val_spin = QSpinBox()
        self.val_spin.setRange(0, 100_000)
        self.val_spin.setSingleStep(1000)
        self.val_spin.setValue(10_000)
        explain(self.val_spin, "The last N training images are held out for validation",
                "The validation set: images kept out of training and checked after every epoch. When the "
                "training loss keeps falling but the validation loss rises, the model is memorising its "
                "training images instead of learning digits (overfitting).")
        f.addRow("Validation size", self.val_spin)
        return box

    def _build_model_box(self) -> QGroupBox:
        box = QGroupBox("Model")
        explain(box, "The network's architecture and its size",
                "What kind of network to train: its layers and how big they are. The presets are the models of "
                "the five classic MNIST notebooks, from a linear model to convolutional networks.")
        v = QVBoxLayout(box)
        self.preset_combo = _combo()
        self.preset_combo.addItem("Presets: the seeds' models…", None)
        for p in registry.PRESETS.values():
            self.preset_combo.addItem(p.title, p.name)
        explain(self.preset_combo, "Fill the whole form with a seed notebook's model and settings",
                "Each preset is the model and training settings of one classic MNIST notebook. Pick one to "
                "retrace the notebook, then change one setting at a time to see what it does.")
        self.preset_combo.activated.connect(lambda i: self.apply_preset(self.preset_combo.itemData(i)) if self.preset_combo.itemData(i) else None)
        v.addWidget(self.preset_combo)
        self.arch_combo = _combo()
        for a in registry.ARCHITECTURES.values():
            self.arch_combo.addItem(a.title, a.name)
        self.arch_combo.activated.connect(lambda i: self.apply_arch(self.arch_combo.itemData(i)))
        explain(self.arch_combo, "The kind of network: its layers",
                "The architecture. A linear model (logistic regression) weighs each pixel once per digit; a "
                "multi-layer perceptron (MLP) adds hidden layers of units; a convolutional network (convnet, "
                "LeNet) slides small filters over the image to find strokes and shapes wherever they are, which "
                "suits pictures best. The line below describes the chosen one.")
        v.addWidget(self.arch_combo)
        self.arch_help = QLabel()
        self.arch_help.setWordWrap(True)
        self.arch_help.setStyleSheet("color: #555")
        v.addWidget(self.arch_help)
        self.hparam_form = HParamForm()
        v.addWidget(self.hparam_form)
        return box

    def _build_training_box(self) -> QGroupBox:
        box = QGroupBox("Training")
        explain(box, "How the network learns: optimizer, learning rate, batches and epochs",
                "Training repeats one step: take a batch of images, measure how wrong the network is (the loss), "
                "and nudge every weight a little in the direction that lowers the loss (gradient descent). These "
                "settings choose how big the nudges are, how many images per step and how many passes.")
        f = QFormLayout(box)
        self.optimizer_combo = _combo()
        self.optimizer_combo.addItems(list(registry.OPTIMIZERS))
        self.optimizer_combo.currentTextChanged.connect(self._update_momentum_enabled)
        explain(self.optimizer_combo, "The rule that updates the weights from the gradients",
                "sgd (stochastic gradient descent) moves each weight against its gradient by the learning rate; "
                "adam and rmsprop adapt the step for each weight from the recent gradients and usually need less "
                "tuning. Compare them in Experiments… on the same model.")
        self.lr_edit = QLineEdit()
        explain(self.lr_edit, "How big each weight update is, e.g. 0.001 or 1e-3",
                "The learning rate: how far the weights move at each step. Too small and training crawls; too "
                "large and the loss jumps about or blows up. 0.001 suits adam; sgd often wants 0.01 to 0.1.")
        self.momentum_edit = QLineEdit("0")
        explain(self.momentum_edit, "SGD and RMSprop momentum",
                "Momentum lets each update keep part of the previous one, like a ball rolling downhill: it "
                "speeds up steady progress and smooths out zig-zags. 0 is none, 0.9 is common. Adam has its own.")
        self.schedule_combo = _combo()
        self.schedule_combo.addItems(list(registry.LR_SCHEDULES))
        explain(self.schedule_combo, "constant; onecycle (warm up, then cosine down); cosine decay",
                "How the learning rate changes during training. constant keeps it; cosine lowers it smoothly to "
                "almost 0 by the end, so the last steps fine-tune; onecycle first raises it, then lowers it. "
                "Large steps early, small steps late often reach a better model.")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 65_536)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10_000)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.augment_box = QCheckBox("Augment (small rotations, zooms, shifts)")
        explain(self.batch_spin, "How many images each training step looks at",
                "The batch size: the gradient is averaged over this many images before the weights move. Small "
                "batches give noisy but many steps; large ones give fewer, steadier steps and use the processor "
                "better. 32 to 256 is usual.")
        explain(self.epochs_spin, "How many times training goes through all the training images",
                "An epoch is one full pass over the training set. More epochs let the model learn more, until "
                "it starts memorising the training images: watch the validation curve flatten or rise.")
        explain(self.seed_spin, "The random seed: the same seed gives the same starting weights and shuffling",
                "Training starts from random weights and shuffles the images randomly. The seed fixes that "
                "randomness, so a run can be repeated exactly; change only the seed to see how much results "
                "vary by chance alone.")
        explain(self.augment_box, "Train on slightly rotated, zoomed and shifted copies of the images",
                "Data augmentation: every epoch the images are changed a little, the way real handwriting varies. "
                "The model sees more variety without new data, and reads drawings that are off-centre or tilted "
                "better. Training gets a little slower.")

        for label, w in (("Optimizer", self.optimizer_combo), ("Learning rate", self.lr_edit), ("Momentum", self.momentum_edit),
                         ("Schedule", self.schedule_combo), ("Batch size", self.batch_spin), ("Epochs", self.epochs_spin),
                         ("Seed", self.seed_spin)):
            f.addRow(label, w)
        f.addRow(self.augment_box)
        return box

    # ------------------------------------------------------------------ form
    def _update_momentum_enabled(self, opt: str) -> None:
        self.momentum_edit.setEnabled(opt in ("sgd", "rmsprop"))

    def _set_training_fields(self, t: dict) -> None:
        self.optimizer_combo.setCurrentText(t.get("optimizer", "adam"))
        self.lr_edit.setText(format_value(float(t.get("learning_rate", 1e-3))))
        self.momentum_edit.setText(format_value(float(t.get("momentum", 0.0))))
        self.schedule_combo.setCurrentText(t.get("lr_schedule", "constant"))
        self.batch_spin.setValue(int(t.get("batch_size", 128)))
        self.epochs_spin.setValue(int(t.get("epochs", 5)))
        self.augment_box.setChecked(bool(t.get("augment", False)))
        self._update_momentum_enabled(self.optimizer_combo.currentText())

    def _set_default_name(self, name: str) -> None:
        self.default_name = name
        self.defaultNameChanged.emit(name)

    def apply_arch(self, arch: str, hparams: dict | None = None, training: dict | None = None) -> None:
        a = registry.get_architecture(arch)
        self.arch_combo.setCurrentIndex(self.arch_combo.findData(arch))
        self.arch_help.setText(a.description)
        self.hparam_form.set_arch(arch, hparams)
        base = {"lr_schedule": "constant", "augment": False, "momentum": 0.0}
        self._set_training_fields({**base, **(a.training_defaults if training is None else training)})
        self._set_data_defaults()
        self._set_default_name(arch)

    def _set_data_defaults(self) -> None:
        arch = self.arch_combo.currentData()
        if arch is None:
            return
        from ...core.runs import TrainSpec
        from ...core.training import TrainConfig

        spec = TrainSpec(TrainConfig(arch=arch), data_path=self.data_path()).resolved()
        for spin, value in ((self.drawn_spin, spec.drawn_style), (self.pen_spin, spec.pen_digits),
                            (self.non_digit_spin, spec.not_digits)):
            spin.setValue(value if spin.isEnabled() else 0)

    def apply_preset(self, name: str) -> None:
        """Fill the form with one of the seeds' models and settings (one click in the preset list)."""
        p = registry.PRESETS[name]
        self.apply_arch(p.arch, p.hparams, dict(p.training))
        self._set_default_name(p.name)
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))
        self.message.emit(f"Preset: {p.title}")

    def config_from_form(self):
        """A TrainConfig from the form; ValueError with a readable message when a field is wrong."""
        from ...core.training import TrainConfig

        arch = self.arch_combo.currentData()
        hparams = self.hparam_form.values()
        try:
            lr = float(self.lr_edit.text())
        except ValueError:
            raise ValueError(f"learning rate: {self.lr_edit.text()!r} is not a number") from None
        try:
            momentum = float(self.momentum_edit.text() or 0)
        except ValueError:
            raise ValueError(f"momentum: {self.momentum_edit.text()!r} is not a number") from None
        return TrainConfig(
            arch=arch, hparams=hparams, optimizer=self.optimizer_combo.currentText(), learning_rate=lr, momentum=momentum,
            batch_size=self.batch_spin.value(), epochs=self.epochs_spin.value(), seed=self.seed_spin.value(),
            val_size=self.val_spin.value(), lr_schedule=self.schedule_combo.currentText(), augment=self.augment_box.isChecked(),
        )

    # ------------------------------------------------------------------ remembered between sessions
    def remember(self, settings) -> None:
        """The form's values, as typed (a field being edited may not parse yet), into ``settings``."""
        write_json(settings, "train/form", {
            "data": self.data_edit.text(), "my_digits": self.my_digits_box.isChecked(),
            "drawn_style": self.drawn_spin.value(), "pen_digits": self.pen_spin.value(),
            "not_digits": self.non_digit_spin.value(), "limit": self.limit_spin.value(), "val_size": self.val_spin.value(),
            "arch": self.arch_combo.currentData(), "hparams": self.hparam_form.raw_values(),
            "optimizer": self.optimizer_combo.currentText(), "learning_rate": self.lr_edit.text(),
            "momentum": self.momentum_edit.text(), "lr_schedule": self.schedule_combo.currentText(),
            "batch_size": self.batch_spin.value(), "epochs": self.epochs_spin.value(), "seed": self.seed_spin.value(),
            "augment": self.augment_box.isChecked(),
        })

    def restore(self, settings) -> None:
        """Refill the form from ``settings``; values that are not what ``remember`` writes are skipped."""
        v = read_json(settings, "train/form", dict)
        if v is None:
            return
        if isinstance(v.get("data"), str):
            self.data_edit.setText(v["data"])
            # A remembered file is not read again at every start-up (a large CSV takes seconds, and closing
            # would wait for it): only whether it is still there; Start reads it, as for a file just chosen.
            self._data_check_timer.stop()
            path = self.data_path()
            if path is not None:
                name = Path(path).name or path
                if Path(path).expanduser().exists():
                    self._show_data_state(None, f"{name}: read when you press Start")
                else:
                    self._show_data_state("the file is not there any more", f"{name}: the file is not there any more")
        if isinstance(v.get("arch"), str) and v["arch"] in registry.ARCHITECTURES:
            self.apply_arch(v["arch"])
            hparams = v.get("hparams")
            # Only a value that parses goes back in: the form must still make a run as it opens.
            params = {p.name: p for p in registry.get_architecture(v["arch"]).params}
            for name, raw in (hparams.items() if isinstance(hparams, dict) else ()):
                if name in params:
                    self._restore_field(f"hyperparameter {name}", lambda p=params[name], x=raw: (
                        p.parse(x), self.hparam_form.set_values({p.name: x})))
        for key, combo in (("optimizer", self.optimizer_combo), ("lr_schedule", self.schedule_combo)):
            if isinstance(v.get(key), str) and v[key] in [combo.itemText(i) for i in range(combo.count())]:
                combo.setCurrentText(v[key])
        for key, edit in (("learning_rate", self.lr_edit), ("momentum", self.momentum_edit)):
            if isinstance(v.get(key), str):
                edit.setText(v[key])
        for key, box in (("my_digits", self.my_digits_box), ("augment", self.augment_box)):
            if isinstance(v.get(key), bool):
                box.setChecked(v[key])
        for key, spin in (("drawn_style", self.drawn_spin), ("pen_digits", self.pen_spin), ("not_digits", self.non_digit_spin),
                          ("limit", self.limit_spin), ("val_size", self.val_spin), ("batch_size", self.batch_spin),
                          ("epochs", self.epochs_spin), ("seed", self.seed_spin)):
            value = v.get(key)
            if type(value) is int and spin.minimum() <= value <= spin.maximum() and spin.isEnabled():
                spin.setValue(value)
        self._update_momentum_enabled(self.optimizer_combo.currentText())
        self._set_default_name(self.arch_combo.currentData() or self.default_name)

    @staticmethod
    def _restore_field(what: str, fill) -> None:
        try:
            fill()
        except (TypeError, ValueError, OverflowError) as exc:
            log.info("settings: ignored the saved %s (%s)", what, exc)

    def _choose_data_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MNIST-like data", "", "Digit data (*.npz *.csv *.gz *ubyte);;All files (*)")
        if path:
            self.data_edit.setText(path)
            self._check_data()  # chosen, not typed: no pause to wait for

    def _choose_data_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of MNIST IDX (or train/test CSV) files")
        if path:
            self.data_edit.setText(path)
            self._check_data()

    def _check_data(self) -> None:
        """Read the data field's file with the training loader, in a worker: a big file takes seconds. One
        check at a time; a field changed meanwhile is checked when the running one ends."""
        self._data_check_timer.stop()
        path = self.data_path()
        if path is None:
            self._show_data_state(None, "")
            return
        if self._data_job is not None and self._data_job.is_running():
            self._data_check_again = True
            return
        self._show_data_state(None, f"Checking {Path(path).name or path}…")
        self._checking_path = path
        # bound methods, not lambdas: Qt drops them with the form, so a check that ends after the window
        # has closed reaches nothing
        self._data_job = jobs.run(lambda _state: check_source(path), lane="numpy", name="check-data",
                                  on_result=self._data_readable, on_error=self._data_unreadable,
                                  on_done=self._data_check_done)

    def _data_check_done(self) -> None:
        if self._data_check_again:
            self._data_check_again = False
            self._check_data()

    def _data_readable(self, summary) -> None:
        self._data_checked(self._checking_path, summary, None)

    def _data_unreadable(self, exc: BaseException) -> None:
        self._data_checked(self._checking_path, None, exc)

    def _data_checked(self, path: str, summary, exc: BaseException | None) -> None:
        if path != self.data_path():
            return  # the field has changed since: its own check follows
        if exc is None:
            test = f", {summary.n_test:,} test images" if summary.n_test else ", no test set (no test accuracy)"
            self._show_data_state(None, f"{summary.name}: {summary.n_train:,} training images{test}")
            return
        if isinstance(exc, DataError):  # named by the file at fault (in a folder: the file inside it)
            name, problem = (exc.path.name if exc.path is not None else Path(path).name), in_user_terms(exc.problem)
        else:  # no problem of a file's we know of (the job runner has logged it)
            name, problem = Path(path).name, "could not be read (the log has the details)"
        self._show_data_state(problem, f"{name or path}: {problem}")

    def _show_data_state(self, problem: str | None, text: str) -> None:
        self.data_problem = problem
        self.data_status.setText(text)
        self.data_status.setVisible(bool(text))
        self.data_status.setStyleSheet("color: #b00020" if problem else "")
        self.dataChecked.emit(problem)

    def data_path(self) -> str | None:
        return self.data_edit.text().strip() or None

    def drawn_style(self) -> int:
        return self.drawn_spin.value()

    def pen_digits(self) -> int:
        return self.pen_spin.value()

    def not_digits(self) -> int:
        return self.non_digit_spin.value()

    @staticmethod
    def _addition_spin(needs, folder: str, tip: str) -> QSpinBox:
        """A count of generated training drawings (0 = none), greyed out when its source file is missing."""
        spin = QSpinBox()
        spin.setRange(0, 40_000)
        spin.setSingleStep(4_000)
        spin.setSpecialValueText("none")
        spin.setToolTip(tip + " Drawn once, then cached.")
        if not needs.exists():
            spin.setEnabled(False)
            spin.setToolTip(f"Needs {needs.name}, which was not found at {needs} (set MNIST_DESK_SHARED to the folder "
                            f"holding data/{folder}/)")
        return spin

    def limit(self) -> int | None:
        return self.limit_spin.value() or None
