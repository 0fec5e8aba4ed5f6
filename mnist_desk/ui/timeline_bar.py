"""The timeline under every view: a slider through the snapshots of the current model's training (or of the
run going on now) and Play. Moving it sets the hub's moment; the Draw, Train and Inspect views show
their model as it was then. At the right end the views show the model as it is now.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QWidget

from .help import explain
from .models import ModelHub

PLAY_STEP_MS = 400  # one snapshot per step: slow enough to read the bars change


class TimelineBar(QWidget):
    def __init__(self, hub: ModelHub, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.play_button = QPushButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setText("Play")
        explain(self.play_button, "Replay the training: every view shows the model as it was, snapshot by snapshot",
                "Plays the model's training like a film: the app kept copies of the weights (snapshots) while it "
                "trained, and Play steps through them. Watch the bars on your drawing, the weights and the "
                "confusion matrix change as the network learns: early snapshots guess almost at random.")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        explain(self.slider, "Training timeline: drag to see the model as it was at that point of its training "
                "(the right end is the model as it is now)",
                "Each step of this slider is a snapshot of the model's weights saved during training, after some "
                "batches or epochs (an epoch is one pass through all the training images). Drag left to go back "
                "in time: the Draw, Train and Inspect views show the model as it was then. A model opened from a "
                "file without its training history has no timeline.")
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel()
        self.label.setMinimumWidth(260)
        explain(self.label, "Which snapshot the views show",
                "Which moment of the training the views show now: the epoch and batch of the snapshot.")

        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        title = QLabel("Timeline")
        title.setStyleSheet("font-weight: bold")
        lay.addWidget(title)
        lay.addWidget(self.play_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self._player = QTimer(self)
        self._player.setInterval(PLAY_STEP_MS)
        self._player.timeout.connect(self._play_step)
        self._grow = QTimer(self)  # a run's timeline grows while it trains: the slider's range follows
        self._grow.setInterval(500)
        self._grow.timeout.connect(self._update_range)
        hub.subjectChanged.connect(self._on_subject)
        hub.momentChanged.connect(self._show_moment)
        self._on_subject()

    @property
    def count(self) -> int:
        s = self.hub.subject
        return 0 if s is None or s.timeline is None else len(s.timeline)

    def _on_subject(self) -> None:
        self._player.stop()
        self._set_play_icon(False)
        live = self.hub.subject is not None and self.hub.subject.model is None
        self._grow.start() if live else self._grow.stop()
        self._update_range()
        self._show_moment()

    def _update_range(self) -> None:
        n = self.count
        at_end = self.hub.moment is None
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        if at_end:
            self.slider.setValue(max(n - 1, 0))
        self.slider.blockSignals(False)
        usable = n >= 2
        self.slider.setEnabled(usable)
        self.play_button.setEnabled(usable)
        if at_end:
            self._show_moment()

    def _on_slider(self, value: int) -> None:
        n = self.count
        subj = self.hub.subject
        last_is_now = subj is not None and subj.timeline is not None and subj.model is not None
        # The right end of a saved model's timeline is the model itself; of a run still going, its latest snapshot.
        self.hub.set_moment(None if (value >= n - 1 and last_is_now) else value)

    def _show_moment(self) -> None:
        subj = self.hub.subject
        if subj is None:
            self.label.setText("No model")
            return
        n = self.count
        if n < 2:
            self.label.setText(f"{subj.name}: no training history saved with this model" if subj.timeline is None or n == 0
                               else f"{subj.name}: training is starting…")
            return
        i = self.hub.moment
        if i is None:
            self.label.setText(f"{subj.name}: now ({n} snapshots)")
            if self.slider.value() != n - 1 and subj.model is not None:
                self.slider.blockSignals(True)
                self.slider.setValue(n - 1)
                self.slider.blockSignals(False)
        else:
            self.label.setText(f"{subj.name}: {subj.timeline.describe(i)}")
            if self.slider.value() != i:
                self.slider.blockSignals(True)
                self.slider.setValue(i)
                self.slider.blockSignals(False)

    def toggle_play(self) -> None:
        if self._player.isActive():
            self._player.stop()
            self._set_play_icon(False)
            return
        if self.count < 2:
            return
        if self.slider.value() >= self.count - 1:
            self.slider.setValue(0)
        self._player.start()
        self._set_play_icon(True)

    def _play_step(self) -> None:
        if self.slider.value() >= self.count - 1:
            self._player.stop()
            self._set_play_icon(False)
            return
        self.slider.setValue(self.slider.value() + 1)

    def _set_play_icon(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")
