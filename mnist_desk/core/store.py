"""The model store: save trained models with their metadata, list them, load them safely.

A stored model is ``NAME.keras`` plus ``NAME.json`` (metadata). Both are written atomically: to a
temporary file in the same folder, flushed, then renamed over the target, so a crash mid-save leaves
the previous file intact. Loading a ``.keras`` file first reads its ``config.json`` ourselves and accepts
only the layer and object classes our registry produces, *then* lets Keras load it with safe_mode on.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import __version__
from . import model_plan, registry
from .errors import MnistDeskError, ModelFileError, StoreError
from .files import require_regular_file
from .tf_library import import_tensorflow
from .paths import SHIPPED_MODELS_DIR, user_data_dir, user_models_dir

log = logging.getLogger(__name__)

DEFAULT_MODEL = "cnn"
# A .keras file of ours is a few MB; this bounds what a forged archive may make us inflate.
MAX_ARCHIVE_BYTES = model_plan.MAX_WEIGHT_BYTES + 16 * 1024 * 1024
MAX_CONFIG_BYTES = 16 * 1024 * 1024
_EXPECTED_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}


@dataclass
class StoredModel:
    name: str
    path: Path
    metadata: dict
    shipped: bool

    @property
    def arch(self) -> str:
        return str(self.metadata.get("arch", "?"))

    @property
    def test_accuracy(self) -> float | None:
        return (self.metadata.get("metrics") or {}).get("test_accuracy")

    @property
    def label(self) -> str:
        acc = self.test_accuracy
        acc_txt = f", test {acc * 100:.2f}%" if isinstance(acc, (int, float)) else ""
        return f"{self.name} ({self.arch}{acc_txt}){' [shipped]' if self.shipped else ''}"


# ------------------------------------------------------------------------------ atomic writes
def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path`` and rename it over ``path``.

    The old file stays intact until the rename; a failure (full disk, kill) leaves no half-written target.
    The temporary name keeps the suffix (Keras insists on ``.keras``) and starts with a dot, so listings skip it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; saved files should have the usual mode
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask is process-wide and not thread-safe to probe later


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _save_error(path: Path, exc: BaseException) -> StoreError:
    if isinstance(exc, OSError) and exc.errno == 28:
        return StoreError(f"{path}: the disk is full; nothing was overwritten. Free some space or save elsewhere.")
    if isinstance(exc, PermissionError):
        return StoreError(f"{path}: no permission to write here; save elsewhere.")
    return StoreError(f"{path}: could not save ({type(exc).__name__}: {exc})")


# ------------------------------------------------------------------------------ saving
def safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip(".-")
    return cleaned[:80] or "model"


def shipped_names() -> set[str]:
    return {p.stem for p in _model_files(SHIPPED_MODELS_DIR)} if SHIPPED_MODELS_DIR.is_dir() else set()


def same_test_images(a: StoredModel, b: StoredModel) -> bool:
    """Whether two models' test accuracies were measured on the same images: both on the shipped MNIST's
    test set (the shipped models record it relative to the package, a run by its full path), or both on
    the same data file."""
    sources = [str(m.metadata.get("data_source") or "") for m in (a, b)]
    shipped = [Path(src).as_posix().endswith("resources/data/mnist.npz") for src in sources]
    return all(shipped) or (not any(shipped) and sources[0] != "" and sources[0] == sources[1])


def unique_name(name: str, folder: Path | None = None) -> str:
    """``name`` made safe and free: "cnn" becomes "cnn-2" when a model of the folder or a shipped one has it.

    A shipped model's name counts as taken in any folder: a saved run named like one would be listed
    beside it under the same name, and choosing by name would pick either.
    """
    folder = folder or user_models_dir()
    base = safe_name(name)
    taken = shipped_names()
    candidate, i = base, 2
    while candidate in taken or any((folder / f"{candidate}{suffix}").exists() for suffix in (".keras", ".json", ".timeline.npz")):
        candidate, i = f"{base}-{i}", i + 1
    return candidate


def inference_copy(model):
    """The same network and weights without optimizer state or compile settings: smaller and simpler to vet."""
    import keras

    # from_config builds an uncompiled twin (clone_model would carry the compile config and optimizer over)
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def save_model(model, metadata: dict, name: str | None = None, folder: Path | None = None, path: Path | None = None) -> Path:
    """Save ``model`` and its metadata atomically; returns the ``.keras`` path.

    Give ``path`` to write exactly there (the CLI's --out), else ``name`` inside ``folder`` (default:
    the user's model folder), made unique. Raises :class:`StoreError` with a clear reason (full disk...).
    """
    if path is None:
        folder = Path(folder) if folder is not None else user_models_dir()
        path = folder / f"{unique_name(name or metadata.get('arch', 'model'), folder)}.keras"
    path = Path(path)
    if path.suffix != ".keras":
        path = path.with_suffix(".keras")
    meta = dict(metadata)
    meta.setdefault("name", path.stem)
    meta.setdefault("saved", _dt.datetime.now().isoformat(timespec="seconds"))
    meta.setdefault("app_version", __version__)
    clean = inference_copy(model)
    try:
        atomic_write(path, lambda tmp: clean.save(tmp))
        atomic_write_bytes(path.with_suffix(".json"), json.dumps(meta, indent=2, default=_json_default).encode())
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - every save failure becomes one clear message
        raise _save_error(path, exc) from exc
    return path


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


# ------------------------------------------------------------------------------ listing
def read_metadata(model_path: Path, problems: list[str] | None = None) -> dict:
    """A model's details (the JSON beside it), or {} when there are none or they are damaged.

    Every field the app reads is checked for its type here, so no view meets a list where a dict belongs;
    a damaged file is said once in ``problems`` (the model itself is still listed and opens).
    """
    meta_path = Path(model_path).with_suffix(".json")
    if not meta_path.exists() and not meta_path.is_symlink():
        return {}
    try:
        if require_regular_file(meta_path).st_size > MAX_CONFIG_BYTES:
            raise ValueError("it is implausibly large")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        _check_metadata(meta)
        return meta
    except (OSError, ValueError, RecursionError, MnistDeskError) as exc:  # damaged, or not a file
        problem = f"the details of model {Path(model_path).stem!r} ({meta_path.name}) could not be read " \
                  f"({getattr(exc, 'problem', None) or exc}); it is listed without them"
        if problems is not None:
            problems.append(problem)
        else:
            log.warning("%s", problem)
        return {}


_META_TEXT = ("arch", "data_source", "date", "app_version", "name", "saved", "reproduce")
_META_DICTS = ("hparams", "training", "metrics", "history", "calibration")
_MAX_HISTORY = 10_000_000


def _is_number(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _check_metadata(meta) -> None:
    """Raise ValueError naming the first field of the wrong type."""
    if not isinstance(meta, dict):
        raise ValueError(f"it holds a {type(meta).__name__}, not an object")
    for k in _META_TEXT:
        if k in meta and not isinstance(meta[k], str):
            raise ValueError(f"{k!r} is not text")
    for k in _META_DICTS:
        if k in meta and not isinstance(meta[k], dict):
            raise ValueError(f"{k!r} is not an object")
    for k in ("training_seconds", "epochs_done"):
        if k in meta and not _is_number(meta[k]):
            raise ValueError(f"{k!r} is not a number")
    if "stopped_early" in meta and not isinstance(meta["stopped_early"], bool):
        raise ValueError("'stopped_early' is not true or false")
    for name, v in (meta.get("metrics") or {}).items():
        table = name == "confusion_matrix" and isinstance(v, list) and len(v) <= 10 and all(
            isinstance(row, list) and len(row) <= 10 and all(map(_is_number, row)) for row in v)
        if not (_is_number(v) or table):
            raise ValueError(f"metrics.{name} is not a number")
    for name, v in (meta.get("calibration") or {}).items():
        if not (_is_number(v) or isinstance(v, str)):
            raise ValueError(f"calibration.{name} is not a plain value")
    for name, v in (meta.get("training") or {}).items():
        if not (_is_number(v) or isinstance(v, (str, bool))):
            raise ValueError(f"training.{name} is not a plain value")
    for name, v in (meta.get("hparams") or {}).items():
        if not (_is_number(v) or isinstance(v, (str, bool)) or (isinstance(v, list) and all(map(_is_number, v)))):
            raise ValueError(f"hparams.{name} is not a plain value")
    total = 0
    for name, v in (meta.get("history") or {}).items():
        if not isinstance(v, list) or not all(map(_is_number, v)):
            raise ValueError(f"history.{name} is not a list of numbers")
        total += len(v)
        if total > _MAX_HISTORY:
            raise ValueError("its history is implausibly long")


def _model_files(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.keras") if not p.name.startswith(".")]


def remove_stale_temp_files(folder: Path, older_than_s: float = 3600.0) -> int:
    """Delete ``.NAME.tmp-*`` files that a killed save left behind (never the target files themselves).

    Only files older than ``older_than_s`` go, so a save in progress in another process is left alone.
    """
    import time

    removed = 0
    now = time.time()
    for p in Path(folder).glob(".*.tmp-*"):
        try:
            if p.is_file() and now - p.stat().st_mtime > older_than_s:
                p.unlink()
                removed += 1
        except OSError:
            pass  # another process removed or renamed it first
    return removed


def remove_stale_saves() -> int:
    """:func:`remove_stale_temp_files` in the user's model folder; run when the window or a training run starts."""
    try:
        return remove_stale_temp_files(user_models_dir())
    except OSError:
        return 0  # a damaged folder is reported where the models are listed


def list_models(include_shipped: bool = True, problems: list[str] | None = None) -> list[StoredModel]:
    """Shipped models first (the default ``cnn`` leading), then the user's, newest first. Removes nothing
    (what killed saves left is cleared by :func:`remove_stale_saves` when the app starts)."""
    out: list[StoredModel] = []
    if include_shipped and SHIPPED_MODELS_DIR.is_dir():
        shipped = sorted(_model_files(SHIPPED_MODELS_DIR), key=lambda p: (p.stem != DEFAULT_MODEL, p.stem))
        out += [StoredModel(p.stem, p, read_metadata(p, problems), True) for p in shipped]
    try:
        folder = user_models_dir()
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(20, "a file is where the folder belongs")
        user = sorted(_model_files(folder), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError as exc:
        # A damaged user folder (a file where the models folder belongs, no permission) must not hide the
        # shipped models: they are listed, and ``problems`` (or the log) says why the user's are not.
        problem = f"your models in {user_data_dir() / 'models'} cannot be listed ({exc.strerror or exc})"
        if problems is not None:
            problems.append(problem)
        else:
            log.warning("%s", problem)
        user = []
    out += [StoredModel(p.stem, p, read_metadata(p, problems), False) for p in user]
    return out


def find_model(name_or_path: str | Path | None) -> Path:
    """A model by path, by stored name, or the default when None."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    p = Path(name_or_path).expanduser()
    if p.suffix or p.exists() or os.sep in str(name_or_path):
        return p
    for m in list_models():
        if m.name == str(name_or_path):
            return m.path
    names = ", ".join(m.name for m in list_models()) or "none"
    raise ModelFileError(None, f"no model named {name_or_path!r} (available: {names})")


# ------------------------------------------------------------------------------ vetting and loading
def vet_model_archive(path: Path) -> dict:
    """Check a ``.keras`` archive without running anything from it; returns its parsed config.

    Refuses: files that are not zip archives, legacy .h5/SavedModel, unexpected or path-traversing
    members, archives that would inflate beyond MAX_ARCHIVE_BYTES, and any config naming a class
    outside the registry's (Lambda layers, custom objects, functions from arbitrary modules).
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise ModelFileError(path, "is a TensorFlow SavedModel; only .keras model files are accepted (SavedModels can run code)")
        raise ModelFileError(path, "is a folder, not a model file")
    if path.suffix.lower() in (".h5", ".hdf5"):  # Keras picks its legacy HDF5 loader by this suffix, whatever the content
        raise ModelFileError(path, "is a legacy HDF5 (.h5) model; only .keras files are accepted (legacy files can bypass Keras' safe mode)")
    require_regular_file(path, ModelFileError)
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        raise ModelFileError(path, "is a legacy HDF5 (.h5) model; only .keras files are accepted (legacy files can bypass Keras' safe mode)")
    if not head.startswith(b"PK"):
        raise ModelFileError(path, "is not a Keras model file (.keras archives are zip files)")
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(path, f"is damaged or truncated ({exc})") from None
    with zf:
        total = 0
        names = set()
        for info in infos:
            n = info.filename
            if n.startswith(("/", "\\")) or ".." in Path(n).parts or ":" in n:
                raise ModelFileError(path, f"has a member with an unsafe path {n!r}; refusing")
            if n not in _EXPECTED_MEMBERS:
                raise ModelFileError(path, f"has an unexpected member {n!r}; not a model saved by this app")
            if info.compress_size > _max_compressed_size(info.file_size):
                raise ModelFileError(path, f"member {n!r} holds more compressed data than its declared size; refusing (a zip bomb?)")
            total += info.file_size
            names.add(n)
        if total > MAX_ARCHIVE_BYTES:
            raise ModelFileError(path, f"would inflate to {total:,} bytes; refusing")
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ModelFileError(path, "is not a Keras model archive (config.json or weights missing)")
        try:
            with zf.open("config.json") as f:
                raw = f.read(MAX_CONFIG_BYTES + 1)
            if len(raw) > MAX_CONFIG_BYTES:
                raise ModelFileError(path, "model config is implausibly large; refusing")
            config = json.loads(raw)
            with zf.open("model.weights.h5") as f:  # CRC check of the weights: a truncated file fails here
                while f.read(1 << 20):
                    pass
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - zip/CRC/JSON errors of a damaged file
            raise ModelFileError(path, f"is damaged or truncated ({type(exc).__name__}: {exc})") from None
        check_config(config, path)
        weights_size = zf.getinfo("model.weights.h5").file_size
        # Before Keras builds anything: the weights and activations the config asks for, from its sizes alone.
        model_plan.check_costs(model_plan.plan_model(config, path), weights_size, path)
        _check_weights_file(zf, weights_size, path)
    return config


def _max_compressed_size(file_size: int) -> int:
    """The most compressed bytes an honest zip member of ``file_size`` bytes needs (deflate's worst case, with room).

    A member whose stream is longer declares a small size but inflates to much more: zipfile (and Keras,
    reading it whole) would inflate far beyond the declared size before cutting it there.
    """
    return file_size + file_size // 100 + 1024


def _check_weights_file(zf: zipfile.ZipFile, weights_size: int, path: Path | None) -> None:
    """Refuse a weights file whose datasets declare more data than the file holds (HDF5 shape bombs), that keeps
    data in other files (external storage, virtual datasets) or that links one name to another (soft, external)."""
    import io

    import h5py

    declared = 0
    problems: list[str] = []  # (raising inside h5py's visit callbacks comes out as a SystemError)

    def visit_link(name, link) -> None:
        # A soft link can make one weight another's (a bias that is the kernel); an external link reads a file.
        if not isinstance(link, h5py.HardLink):
            problems.append(f"weights file makes {name!r} a {type(link).__name__}; refusing")

    def visit(name, obj) -> None:
        nonlocal declared
        if isinstance(obj, h5py.Dataset):
            if obj.external or obj.is_virtual:  # data kept in other files, which a model must never read
                problems.append(f"weights file keeps {name!r} in other files (external or virtual storage); refusing")
            n = 1
            for d in obj.shape or ():
                n *= int(d)
            declared += n * obj.dtype.itemsize

    try:
        with zf.open("model.weights.h5") as f:
            raw = f.read(weights_size + 1)
        with h5py.File(io.BytesIO(raw), "r") as h5:
            h5.visititems_links(visit_link)
            if not problems:
                h5.visititems(visit)
    except Exception as exc:  # noqa: BLE001 - h5py raises many types for a damaged file
        raise ModelFileError(path, f"has a damaged weights file ({type(exc).__name__}: {exc})") from None
    if problems:
        raise ModelFileError(path, problems[0])
    if declared > weights_size + (1 << 20):
        raise ModelFileError(path, f"weights file declares {declared:,} bytes of weights but holds only {weights_size:,}; refusing")


# The dtypes a layer of ours may compute in (a "string" input loads in Keras, then fails at every prediction).
FLOAT_DTYPES = frozenset({"float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16"})


def check_config(config, path: Path | None = None) -> None:
    """Raise ModelFileError if the config names anything outside our registry's classes."""

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            cls = node.get("class_name")
            if cls is not None:
                module = node.get("module")
                if not isinstance(cls, str) or not isinstance(module, (str, type(None))):
                    raise ModelFileError(path, f"model config is malformed (a class name or module at {where} is not text)")
                if module is None:
                    if cls not in registry.ALLOWED_MARKERS:
                        raise ModelFileError(path, f"model uses {cls!r} (at {where}), which this app does not allow")
                elif (module, cls) not in registry.ALLOWED_CLASSES:
                    raise ModelFileError(
                        path, f"model uses {module}.{cls} (at {where}), which is not one of this app's layers; refusing to load it"
                    )
                reg = node.get("registered_name")
                if reg not in (None, cls):
                    raise ModelFileError(path, f"model registers a custom object {reg!r}; refusing to load it")
            dtype = node.get("dtype")
            if cls in ("DTypePolicy", "FloatDTypePolicy") and isinstance(node.get("config"), dict):
                dtype = node["config"].get("name")
            if isinstance(dtype, str) and dtype not in FLOAT_DTYPES:
                raise ModelFileError(path, f"model computes in {dtype!r} (at {where}); this app's models take and give floats")
            if node.get("lora_rank") not in (None, 0, False):  # LoRA weights are not counted in the declared sizes
                raise ModelFileError(path, f"model adds LoRA weights (at {where}); this app's models have none")
            act = node.get("activation")
            if isinstance(act, str) and act not in registry.ALLOWED_ACTIVATIONS:
                raise ModelFileError(path, f"model uses activation {act!r}, which this app does not allow")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    if not isinstance(config, dict):
        raise ModelFileError(path, "model config is not a JSON object")
    walk(config, "config")


def load_model(path: str | Path):
    """Load one of our models safely; checks it takes 28x28x1 images and gives 10 classes."""
    path = Path(path)
    vet_model_archive(path)
    import_tensorflow()
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ModelFileError(path, f"could not be loaded as a Keras model ({type(exc).__name__}: {exc})") from None
    in_shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    out_shape = tuple(model.outputs[0].shape[1:]) if getattr(model, "outputs", None) else None
    if in_shape != (28, 28, 1):
        raise ModelFileError(path, f"takes inputs of shape {in_shape}; this app's models take 28x28x1 images")
    if out_shape != (10,):
        raise ModelFileError(path, f"gives outputs of shape {out_shape}; expected 10 class probabilities")
    try:
        model.get_layer(registry.LOGITS_LAYER)
    except ValueError:
        raise ModelFileError(path, f"has no '{registry.LOGITS_LAYER}' layer; not a model built by this app") from None
    return model
