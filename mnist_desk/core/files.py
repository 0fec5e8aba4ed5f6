"""Only regular files are read: a path is checked with ``stat`` (following links) before it is opened.

A device (``/dev/zero``, ``/dev/urandom``) reports size 0, so a size cap never sees it, and reading it never
ends; a FIFO blocks the reader until someone writes. A link named ``digit.png`` may point at either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import DataError


def require_regular_file(path: str | Path, error: type = DataError) -> os.stat_result:
    """The file's ``stat``; raises ``error(path, problem)`` for a missing path, a folder, or anything not a file."""
    path = Path(path)
    try:
        st = os.stat(path)  # follows links: a link to a device is a device
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except OSError as exc:
        raise error(path, f"cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(path, "is not a regular file (a device, a pipe or a socket); only files are read")
    return st
