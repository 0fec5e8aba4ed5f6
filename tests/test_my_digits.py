"""Your labelled digits are never lost: a damaged set is set aside, never overwritten, and later labels all stay."""

from __future__ import annotations

import numpy as np

from mnist_desk.core.my_digits import MyDigits


def _label(digits: MyDigits, mnist, n: int, start: int) -> None:
    for i in range(start, start + n):
        digits.add(mnist.x_test[i], int(mnist.y_test[i]), np.full((280, 280), 255, np.uint8))


def test_three_sessions_on_a_damaged_set_keep_every_digit(tmp_path, mnist):
    path = tmp_path / "my_digits.npz"
    path.write_bytes(b"PK\x03\x04 truncated")  # a set damaged by a crash or a full disk
    damaged = path.read_bytes()
    counts = []
    for session in range(3):
        digits, problem = MyDigits.load_or_set_aside(path)
        assert (problem is not None) == (session == 0)  # reported once, in the session that found it
        _label(digits, mnist, 2, start=2 * session)
        counts.append(len(MyDigits.load(path)))
    assert counts == [2, 4, 6]
    final = MyDigits.load(path)
    np.testing.assert_array_equal(final.y, mnist.y_test[:6])
    kept = list(tmp_path.glob("my_digits.damaged-*.npz"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # the damaged file is kept as it was


def test_a_second_damaged_set_does_not_overwrite_the_first(tmp_path):
    path = tmp_path / "my_digits.npz"
    for content in (b"first damage", b"second damage"):
        path.write_bytes(content)
        MyDigits.load_or_set_aside(path)
    kept = sorted(p.read_bytes() for p in tmp_path.glob("my_digits.damaged-*.npz"))
    assert kept == [b"first damage", b"second damage"]


def test_a_set_that_cannot_be_set_aside_gets_a_new_file(tmp_path, mnist, monkeypatch):
    import os

    path = tmp_path / "my_digits.npz"
    path.write_bytes(b"damaged")

    def no_rename(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", no_rename)
    digits, problem = MyDigits.load_or_set_aside(path)
    assert digits.path != path and digits.path.name.startswith("my_digits.new-") and "could not be set aside" in problem
    monkeypatch.undo()
    _label(digits, mnist, 1, start=0)
    assert len(MyDigits.load(digits.path)) == 1 and path.read_bytes() == b"damaged"


def test_drawings_of_the_wrong_kind_are_a_damaged_set(tmp_path, mnist):
    path = tmp_path / "my_digits.npz"
    x, y = mnist.x_test[:2], mnist.y_test[:2]
    for drawings in (np.array(["a", "b"]), np.array(5, np.uint8), np.zeros((2, 10, 10), np.uint8)):
        np.savez(path, x=x, y=y, drawings=drawings)
        digits, problem = MyDigits.load_or_set_aside(path)
        assert problem and "drawings" in problem and len(digits) == 0
