"""Process memory settings for a long session with many short-lived worker threads.

glibc gives each new thread that allocates its own malloc arena (up to 8 per core). The window runs
every job (training, gradients, loads) in a fresh thread; memory a job frees stays in that thread's
arena, fragmented, so the process grew ~17 MB per training run (headless loop of Train-view runs, one
QThread each) against ~2 MB when every run used the same thread. Capping the arenas at two keeps the
growth at ~2 MB per run; setting them to one would serialise every allocation of the GUI and
TensorFlow's pool threads on one lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import time

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
_applied: int | None = None
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


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (call before worker threads start); False where there is no glibc."""
    global _applied
    if _applied == arenas:
        return True
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)  # musl and other libcs have none
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, int(arenas)) != 1:
        log.warning("mallopt(M_ARENA_MAX, %d) was refused", arenas)
        return False
    _applied = arenas
    return True


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
    until one ran, and stayed flat with one per cycle. Call it from the GUI thread: garbage may hold
    Qt objects, which must die in their own thread. Cheap once :func:`freeze_long_lived` has run.
    """
    t = time.perf_counter()
    gc.collect()
    release_free_memory()
    return time.perf_counter() - t
