"""The models the window knows: shipped ones, the user's store, and files opened by hand.

Predictions on the canvas use :class:`NumpyNet` (no TensorFlow, milliseconds per drawing); the Keras
model of an entry is loaded on demand inside a worker (for gradients, inspection).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core import store
from ..core.numpy_net import NumpyNet
from .tasks import Task

log = logging.getLogger(__name__)


class ModelHub(QObject):
    listChanged = Signal()
    currentChanged = Signal(object)  # StoredModel
    loadFailed = Signal(str)
    netLoaded = Signal(str)  # path of a model whose numpy net is now cached

    def __init__(self, parent=None):
        super().__init__(parent)
        self.models: list[store.StoredModel] = []
        self._extra: list[store.StoredModel] = []  # opened from files elsewhere
        self._nets: dict[str, NumpyNet] = {}
        self._keras: dict[str, object] = {}  # only touched from worker threads (see keras_model)
        self.current: store.StoredModel | None = None
        self._tasks: set[Task] = set()
        self.problems: list[str] = []  # what could not be listed (the first refresh runs before anyone listens)
        self.refresh()

    # ------------------------------------------------------------------ listing
    def refresh(self) -> None:
        problems: list[str] = []
        try:
            self.models = store.list_models(problems=problems) + [m for m in self._extra if m.path.exists()]
        except OSError as exc:
            problems.append(f"could not list models: {exc}")
        for p in problems:
            if p not in self.problems:  # said once, not at every refresh
                self.problems.append(p)
                self.loadFailed.emit(p)
        self.listChanged.emit()

    def find(self, key: str | Path | None) -> store.StoredModel | None:
        if key is None:
            return self.models[0] if self.models else None
        for m in self.models:
            if m.name == str(key) or str(m.path) == str(key):
                return m
        return None

    # ------------------------------------------------------------------ loading
    def net(self, m: store.StoredModel | None) -> NumpyNet | None:
        return None if m is None else self._nets.get(str(m.path))

    def select(self, key: str | Path | None) -> None:
        """Make a model current once its weights are read (in a worker). On failure the old model stays."""
        m = self.find(key)
        if m is None:
            self.loadFailed.emit(f"no model {key!r}")
            return
        if str(m.path) in self._nets:
            self.current = m
            self.currentChanged.emit(m)
            return
        self._load(m, make_current=True)

    def ensure_net(self, m: store.StoredModel) -> None:
        if str(m.path) not in self._nets:
            self._load(m, make_current=False)

    def _load(self, m: store.StoredModel, make_current: bool) -> None:
        task = Task(NumpyNet.from_keras_file, m.path, name=f"load-{m.name}")

        def ok(net):
            self._nets[str(m.path)] = net
            self.netLoaded.emit(str(m.path))
            if make_current:
                self.current = m
                self.currentChanged.emit(m)

        task.finished.connect(ok)
        task.failed.connect(lambda msg, details: self.loadFailed.emit(msg))
        self._track(task)

    def open_file(self, path: str | Path) -> None:
        """Add a .keras file from anywhere; vetted and loaded in a worker; an error keeps the current model."""
        path = Path(path)
        meta = store.read_metadata(path)
        m = store.StoredModel(path.stem, path, meta, shipped=False)
        task = Task(NumpyNet.from_keras_file, path, name="open-model")

        def ok(net):
            self._nets[str(path)] = net
            if all(str(e.path) != str(path) for e in self._extra):
                self._extra.append(m)
            self.refresh()
            self.current = m
            self.currentChanged.emit(m)

        task.finished.connect(ok)
        task.failed.connect(lambda msg, details: self.loadFailed.emit(msg))
        self._track(task)

    def forget(self, m: store.StoredModel) -> None:
        """Drop a model's cached net (it failed on a drawing): choosing it again reloads and re-checks it."""
        self._nets.pop(str(m.path), None)

    def add_in_memory(self, m: store.StoredModel, net: NumpyNet) -> None:
        """A model just trained and saved: cache its net and make it current."""
        self._nets[str(m.path)] = net
        self.refresh()
        found = self.find(str(m.path)) or m
        self.current = found
        self.currentChanged.emit(found)

    def keras_model(self, m: store.StoredModel):
        """The Keras model of an entry. Call only from a worker thread (it may import TensorFlow)."""
        key = str(m.path)
        if key not in self._keras:
            self._keras[key] = store.load_model(m.path)
        return self._keras[key]

    def _track(self, task: Task) -> None:
        self._tasks.add(task)
        task.done.connect(lambda: self._tasks.discard(task))
        task.start()

    def shutdown(self) -> None:
        for t in list(self._tasks):
            t.shutdown()
