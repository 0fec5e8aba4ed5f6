"""Errors a user can act on. Each carries a message that names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class MnistDeskError(Exception):
    """Base class of every error that is shown to the user as a plain message."""


class DataError(MnistDeskError):
    """A data file could not be read as digits and labels."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class ImageError(DataError):
    """An image file could not be read as a picture of a digit."""


class EmptyDrawing(MnistDeskError):
    """The drawing holds too little ink to classify."""

    def __init__(self, problem: str = "nothing to classify: the drawing is empty"):
        super().__init__(problem)


class ModelFileError(MnistDeskError):
    """A file could not be loaded as one of our models."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class TrainingError(MnistDeskError):
    """Training could not start or had to stop (e.g. the loss became NaN)."""


class StoreError(MnistDeskError):
    """A model or digit set could not be saved."""


class Cancelled(Exception):
    """Work stopped because its caller asked it to (not a failure: nothing to report to the user)."""
