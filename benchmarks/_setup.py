"""What every benchmark does before it imports the app, TensorFlow or Qt::

    import _setup

    _setup.setup(qt=True, home="temp")

A benchmark runs as ``python benchmarks/NAME.py``, so this folder is first on ``sys.path`` and
``import _setup`` finds this file; ``setup`` then puts the repository root there too, so the
checkout's ``mnist_desk`` and ``tests`` (``tests.ui.support`` drags the mouse) are the ones imported,
whatever is installed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def setup(*, qt: bool = False, home: str | None = None, tf_log: str = "2") -> Path:
    """Prepare ``sys.path`` and the environment; returns the repository root.

    qt: Qt draws offscreen unless QT_QPA_PLATFORM says otherwise.
    home: where the app keeps the user's data (MNIST_DESK_HOME). None: the user's own, untouched (a
    benchmark that only reads may be pointed at the user's models); "temp": a new temporary folder
    unless MNIST_DESK_HOME is set; "fresh": a new temporary folder always (the benchmark saves models
    and must never save them among the user's).
    tf_log: TF_CPP_MIN_LOG_LEVEL unless set ("3" also hides TensorFlow's warnings).
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", tf_log)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if qt:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if home not in (None, "temp", "fresh"):
        raise ValueError(f"home must be None, 'temp' or 'fresh', not {home!r}")
    if home == "fresh" or (home == "temp" and not os.environ.get("MNIST_DESK_HOME")):
        os.environ["MNIST_DESK_HOME"] = tempfile.mkdtemp(prefix=f"mnist_desk_bench_{Path(sys.argv[0]).stem}_")
    return REPO
