"""Where things live: shipped resources inside the package, user files in platformdirs' folders."""

from __future__ import annotations

import os
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
    base.mkdir(parents=True, exist_ok=True)
    return base


def user_models_dir() -> Path:
    d = user_data_dir() / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def user_log_dir() -> Path:
    override = os.environ.get("MNIST_DESK_HOME")
    d = Path(override) / "logs" if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    d.mkdir(parents=True, exist_ok=True)
    return d
