"""Where things live: shipped resources inside the package, user files in platformdirs' folders."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "mnist_desk"

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
SHIPPED_MODELS_DIR = RESOURCES_DIR / "models"
SHIPPED_MNIST = RESOURCES_DIR / "data" / "mnist.npz"
KERAS_CACHE_MNIST = Path.home() / ".keras" / "datasets" / "mnist.npz"


def user_data_dir() -> Path:
    """The user's data folder; MNIST_DESK_HOME overrides it (tests and portable installs use that)."""
    override = os.environ.get("MNIST_DESK_HOME")
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return _made(base)


def user_models_dir() -> Path:
    return _made(user_data_dir() / "models")


def user_log_dir() -> Path:
    override = os.environ.get("MNIST_DESK_HOME")
    return _made(Path(override) / "logs" if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)))


def _made(folder: Path) -> Path:
    """``folder``, created if it can be. One that cannot (a read-only disk, a file in the way) is still returned:
    reading it finds nothing, writing to it fails with a message, and :func:`unwritable_data_dir` says why."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return folder


def unwritable_data_dir() -> str | None:
    """Why nothing can be saved in the user's data folder, or None if it can.

    Found by writing a file there: permission bits say nothing for root or on a read-only mount.
    """
    folder = user_data_dir()
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        return f"your data folder {folder} cannot be written ({exc.strerror or exc})"
    return None
