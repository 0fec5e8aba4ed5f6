"""One numpy net and one Keras model per model file, shared by every job that needs them.

Thread-safe: jobs on any thread ask for a model; a model file is read once however many ask at the same
time (a lock per file), and the GUI thread can ask without waiting (``cached_net``). Entries are keyed by
the file and its modification time (a file saved again is a new model) and the least recently used go
first. The Keras models are only ever *run* on the one TensorFlow thread (the ui's job runner), which is
what keeps two views from running the same model at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from . import store
from .numpy_net import NumpyNet


def file_key(path) -> tuple[str, int]:
    """A model file as a cache key: its path and modification time (a file saved again is a new model)."""
    try:
        return str(path), Path(path).stat().st_mtime_ns
    except OSError:
        return str(path), 0


class ModelCache:
    def __init__(self, size: int = 16):
        self.size = size
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}
        self._nets: OrderedDict[tuple, NumpyNet] = OrderedDict()
        self._keras: OrderedDict[tuple, object] = OrderedDict()

    # ------------------------------------------------------------------ numpy nets (any thread)
    def cached_net(self, path) -> NumpyNet | None:
        """The net if it is loaded; never reads a file (for the GUI thread)."""
        with self._lock:
            return self._get(self._nets, file_key(path))

    def net(self, path) -> NumpyNet:
        """The net of a ``.keras`` file, read and vetted once (raises ModelFileError for a bad file)."""
        return self._load(self._nets, path, NumpyNet.from_keras_file)

    def put_net(self, path, net: NumpyNet) -> None:
        """A net made in memory (a model just trained and saved)."""
        with self._lock:
            self._put(self._nets, file_key(path), net)

    # ------------------------------------------------------------------ Keras models (the TensorFlow thread)
    def keras(self, path):
        """The Keras model of a ``.keras`` file, loaded once. May import TensorFlow: never on the GUI thread."""
        return self._load(self._keras, path, store.load_model)

    def forget(self, path) -> None:
        """Drop a file's models (it failed on a drawing): the next request reads and checks it again."""
        with self._lock:
            for table in (self._nets, self._keras):
                for k in [k for k in table if k[0] == str(path)]:
                    del table[k]

    # ------------------------------------------------------------------
    def _load(self, table: OrderedDict, path, read):
        key = file_key(path)
        with self._lock:
            found = self._get(table, key)
            if found is not None:
                return found
            file_lock = self._loading.setdefault(key + (id(table),), threading.Lock())
        with file_lock:  # a second asker waits for the first reading instead of reading again
            with self._lock:
                found = self._get(table, key)
            if found is None:
                found = read(path)
                with self._lock:
                    self._put(table, key, found)
        with self._lock:
            self._loading.pop(key + (id(table),), None)
        return found

    @staticmethod
    def _get(table: OrderedDict, key):
        value = table.get(key)
        if value is not None:
            table.move_to_end(key)
        return value

    def _put(self, table: OrderedDict, key, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)
