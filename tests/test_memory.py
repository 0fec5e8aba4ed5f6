"""Garbage of finished runs is freed when the window asks."""

from __future__ import annotations


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
