"""Load TensorFlow's C++ library before the window shows, so its background import never freezes it.

Python loads an extension module with the GIL held. TensorFlow's is large enough that, if that happens
in the background import while the window is up, the window cannot repaint or take a stroke for a
noticeable fraction of a second. Loaded first, on the main thread before the event loop runs, it is
found in ``sys.modules`` by the background import, and the rest of that import lets the window run.
"""

from __future__ import annotations

import gc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from pathlib import Path

from .memory import freeze_long_lived

log = logging.getLogger(__name__)

MODULE = "tensorflow.python._pywrap_tensorflow_internal"


def load_tensorflow_library() -> bool:
    """Load the extension module TensorFlow's import would load; False (and nothing done) if it can't be."""
    if MODULE in sys.modules:
        return True
    try:
        spec = importlib.util.find_spec("tensorflow")
        if spec is None or spec.origin is None:
            return False
        folder = Path(spec.origin).parent / "python"
        path = next((folder / f"_pywrap_tensorflow_internal{s}" for s in importlib.machinery.EXTENSION_SUFFIXES
                     if (folder / f"_pywrap_tensorflow_internal{s}").is_file()), None)
        if path is None:
            return False
        loader = importlib.machinery.ExtensionFileLoader(MODULE, str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(MODULE, path, loader=loader))
        sys.modules[MODULE] = module
        loader.exec_module(module)
        return True
    except Exception:  # noqa: BLE001 - a layout this does not know: TensorFlow's own import does the work later
        sys.modules.pop(MODULE, None)
        log.debug("could not load TensorFlow's library ahead of its import", exc_info=True)
        return False


_import_lock = threading.Lock()
_imported = False


def import_tensorflow() -> None:
    """Import Keras and TensorFlow once, from whichever thread first needs them, without stalling others.

    Automatic garbage collection is off during the import: a full collection then walks every object the
    import has made so far, holding the GIL (and so the window) for a few hundred ms at a time. Once
    imported, those objects are frozen out of later collections, so collecting a finished run's model
    walks only what came after, not the millions of objects TensorFlow leaves for the process's life.
    Call it before any model is built: what is alive at the freeze is never collected.
    """
    global _imported
    if _imported:
        return
    with _import_lock:
        if _imported:
            return
        load_tensorflow_library()
        enabled = gc.isenabled()
        gc.disable()
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401

            freeze_long_lived()
            _imported = True
        finally:
            if enabled:
                gc.enable()


def training_device() -> str:
    """Where Keras trains: "CPU", or the first GPU's name. Imports TensorFlow if it was not yet (call it off
    the GUI thread); listing devices does not start CUDA, so this stays cheap once TensorFlow is in."""
    import_tensorflow()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    try:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name") or gpus[0].name
    except (ValueError, RuntimeError):  # a build that cannot describe its devices still names them
        log.debug("no details for %s", gpus[0].name, exc_info=True)
        name = gpus[0].name
    return name if len(gpus) == 1 else f"{name} (and {len(gpus) - 1} more GPUs)"


def installed_version(module: str, *distributions: str) -> str:
    """A library's version without importing it (TensorFlow takes seconds): the imported module's if it is
    in, else its installed distribution's (tensorflow and tensorflow-cpu install the same module)."""
    loaded = sys.modules.get(module)
    if loaded is not None and getattr(loaded, "__version__", None):
        return str(loaded.__version__)
    from importlib import metadata

    for dist in distributions or (module,):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"
