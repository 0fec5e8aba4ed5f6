"""The malloc arena cap the window sets before its worker threads start (glibc)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = r"""
import ctypes, ctypes.util, re, sys, tempfile, threading
from mnist_desk.core.memory import limit_malloc_arenas
if sys.argv[1] == "cap":
    assert limit_malloc_arenas(2)
barrier = threading.Barrier(8)
def job():
    barrier.wait()  # all eight allocate at once: glibc hands out an arena per contending thread
    blocks = [bytearray(1000) for _ in range(20_000)]
    barrier.wait()
threads = [threading.Thread(target=job) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
path = tempfile.mktemp()
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
print(len(re.findall(r"<heap nr=", open(path).read())))
"""


def _arenas(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_cap_limits_the_arenas_of_concurrent_threads():
    capped, default = _arenas("cap"), _arenas("none")
    assert capped <= 2
    assert default > capped  # what the cap prevents: one arena per contending thread


def test_cap_is_idempotent():
    from mnist_desk.core.memory import limit_malloc_arenas

    first = limit_malloc_arenas(2)
    assert limit_malloc_arenas(2) == first


def test_collect_garbage_frees_a_reference_cycle():
    import weakref

    from mnist_desk.core.memory import collect_garbage

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    del a, b
    seconds = collect_garbage()
    assert ref() is None and seconds >= 0
