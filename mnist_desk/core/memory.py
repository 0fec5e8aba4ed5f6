"""Garbage of finished runs, freed promptly without stalling the window.

Jobs run on a few persistent threads (ui/jobs.py), so no malloc arena cap is needed: with a thread per
job, freed memory stayed fragmented in each dead thread's arena. ``benchmarks/soak.py`` measures both
what is left here and what the GC freeze buys (``--no-gc-freeze``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import time

log = logging.getLogger(__name__)

_LIBC = None  # the C library once loaded; False where there is none


def _libc():
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        name = ctypes.util.find_library("c")
        try:
            _LIBC = ctypes.CDLL(name) if name else False
        except OSError:
            _LIBC = False
    return _LIBC or None


def release_free_memory() -> None:
    """Give the pages malloc holds free back to the system (glibc's malloc_trim); a no-op elsewhere."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


_frozen = False


def freeze_long_lived() -> None:
    """Exclude every object alive now from later garbage collections (CPython's ``gc.freeze``).

    Call once TensorFlow is imported and before any model is trained: what is alive then (modules,
    the window) lives as long as the process, and a full collection walking it takes ~300 ms here
    against a few ms without it. Anything alive at the freeze is never collected, hence "before".
    """
    global _frozen
    if not _frozen:
        gc.freeze()  # (no collection first: it would stall the window ~300 ms for a few MB of garbage)
        _frozen = True


def collect_garbage() -> float:
    """Free the cyclic garbage of finished jobs now; returns the seconds it took.

    A Keras model is a web of reference cycles, so a replaced one (the previous run's model) is freed
    only by a full collection, which CPython runs rarely: the soak benchmark grew ~12 MB per cycle
    until one ran, and stayed flat with one per cycle. Any thread may call it (CPython's automatic
    collections run on whichever thread allocates, workers included); the GUI thread should only where
    the garbage is small. Cheap once :func:`freeze_long_lived` has run.
    Then :func:`release_free_memory` (on any thread: it holds no Python lock) returns the pages.
    """
    t = time.perf_counter()
    gc.collect()
    return time.perf_counter() - t
