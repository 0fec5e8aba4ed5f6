"""How long the GUI thread was held: a 5 ms precise timer whose gaps between ticks are recorded (a gap much
longer than 5 ms is the time the event loop could not run: the window did not respond)."""

from __future__ import annotations


class StallWatch:
    def __init__(self):
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._last: float | None = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> "StallWatch":
        self.gaps, self._last = [], None
        self._clock.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest(self) -> float:
        """The longest gap in ms (0 when none was recorded)."""
        return max(self.gaps, default=0.0)


def pump_until(cond, timeout: float = 180.0) -> None:
    """Process the window's events until ``cond()`` holds; a benchmark that waits longer than ``timeout``
    seconds stops with "timed out" rather than hanging."""
    import time

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    end = time.time() + timeout
    while not cond():
        if time.time() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.002)
