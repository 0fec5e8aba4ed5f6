"""The installed Qt binding must not corrupt reference counts (PySide6 6.12.0 does on Python < 3.12)."""

from __future__ import annotations

import sys


def test_painter_calls_keep_none_refcount(qapp):
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QImage, QPainter

    img = QImage(40, 40, QImage.Format.Format_Grayscale8)
    img.fill(255)
    dst = QImage(60, 60, QImage.Format.Format_ARGB32)
    p = QPainter(dst)
    before = sys.getrefcount(None)
    for _ in range(500):
        p.drawImage(QRectF(0, 0, 50, 50), img)
        p.drawLine(QPointF(1, 1), QPointF(5, 5))
    after = sys.getrefcount(None)
    p.end()
    # Python >= 3.12 has an immortal None (its count is a constant); below that it must not fall
    assert after >= before - 50, f"None lost {before - after} references: this PySide6 build is broken"
