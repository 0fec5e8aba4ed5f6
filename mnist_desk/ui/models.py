"""The models the window knows: shipped ones, the user's store, and files opened by hand.

Predictions on the canvas use :class:`NumpyNet` (no TensorFlow, milliseconds per drawing). The nets and
Keras models live in a :class:`~mnist_desk.core.model_cache.ModelCache` (``hub.cache``), which jobs are
handed instead of this Qt object; the hub only says which model is current and which exist.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core import store
from ..core.model_cache import ModelCache
from ..core.numpy_net import NumpyNet
from ..core.timeline import Timeline, load_timeline
from . import jobs

log = logging.getLogger(__name__)
TIMELINES_KEPT = 4


@dataclass
class TimelineSubject:
    """Whose history the timeline shows: a run going on now (``model`` None) or a model's."""

    name: str
    timeline: Timeline | None  # None: this model has no history (trained before timelines, or not read yet)
    model: store.StoredModel | None = None


class ModelHub(QObject):
    listChanged = Signal()
    currentChanged = Signal(object)  # StoredModel
    loadFailed = Signal(str)
    netLoaded = Signal(str)  # path of a model whose numpy net is now cached
    subjectChanged = Signal()  # the timeline shows another run or model
    momentChanged = Signal()  # the point in time the views show moved
    notice = Signal(str)  # something to say in the status bar

    def __init__(self, parent=None):
        super().__init__(parent)
        self.models: list[store.StoredModel] = []
        self._extra: list[store.StoredModel] = []  # opened from files elsewhere
        self.cache = ModelCache()
        self.current: store.StoredModel | None = None
        self._jobs: set[jobs.Job] = set()
        self._selection = 0  # counts the user's choices of a model: only the latest one becomes current
        self.problems: list[str] = []  # what could not be listed (the first refresh runs before anyone listens)
        # By model path (None: it has none). A few at a time: a long cnn run's snapshots take tens of MB, and
        # one dropped here is read again from beside its model when needed.
        self.timelines: OrderedDict[str, Timeline | None] = OrderedDict()
        self.subject: TimelineSubject | None = None
        self.moment: int | None = None  # a snapshot of the subject's timeline; None: as it is now
        self._live_run: TimelineSubject | None = None
        self.currentChanged.connect(lambda _m: self._follow_current())
        self.refresh()

    # ------------------------------------------------------------------ listing
    def refresh(self) -> None:
        problems: list[str] = []
        try:
            self.models = store.list_models(problems=problems) + [m for m in self._extra if m.path.exists()]
        except OSError as exc:
            problems.append(f"could not list models: {exc}")
        for p in problems:
            if p not in self.problems:  # said once, not at every refresh
                self.problems.append(p)
                self.loadFailed.emit(p)
        self.listChanged.emit()

    def find(self, key: str | Path | None) -> store.StoredModel | None:
        if key is None:
            return self.models[0] if self.models else None
        for m in self.models:
            if m.name == str(key) or str(m.path) == str(key):
                return m
        return None

    # ------------------------------------------------------------------ loading
    def net(self, m: store.StoredModel | None) -> NumpyNet | None:
        return None if m is None else self.cache.cached_net(m.path)

    def select(self, key: str | Path | None) -> None:
        """Make a model current once its weights are read (in a worker). On failure the old model stays."""
        m = self.find(key)
        if m is None:
            self.loadFailed.emit(f"no model {key!r}")
            return
        self._selection += 1  # a load still under way for an earlier choice must not override this one
        if self.cache.cached_net(m.path) is not None:
            self.current = m
            self.currentChanged.emit(m)
            return
        self._load(m, make_current=True)

    def ensure_net(self, m: store.StoredModel) -> None:
        if self.cache.cached_net(m.path) is None:
            self._load(m, make_current=False)

    def _load(self, m: store.StoredModel, make_current: bool) -> None:
        cache, path, selection = self.cache, m.path, self._selection

        def ok(_net):
            self.netLoaded.emit(str(m.path))
            if make_current and selection == self._selection:  # (the user has not chosen another since)
                self.current = m
                self.currentChanged.emit(m)

        self._track(jobs.Job(lambda _state: cache.net(path), lane="numpy", name=f"load-{m.name}"), ok)

    def open_file(self, path: str | Path) -> None:
        """Add a .keras file from anywhere; vetted and loaded in a worker; an error keeps the current model."""
        path = Path(path)
        meta = store.read_metadata(path)
        m = store.StoredModel(path.stem, path, meta, shipped=False)
        cache = self.cache
        self._selection += 1
        selection = self._selection

        def ok(_net):
            if all(str(e.path) != str(path) for e in self._extra):
                self._extra.append(m)
            self.refresh()
            if selection != self._selection:
                return  # listed, but the user has chosen another model since
            self.current = m
            self.currentChanged.emit(m)

        self._track(jobs.Job(lambda _state: cache.net(path), lane="numpy", name="open-model"), ok)

    def forget(self, m: store.StoredModel) -> None:
        """Drop a model's cached net (it failed on a drawing): choosing it again reloads and re-checks it."""
        self.cache.forget(m.path)

    def add_trained(self, m: store.StoredModel, net: NumpyNet) -> store.StoredModel:
        """A model just trained and saved: list it and cache its net, so that choosing it is instant.

        It does not become current: the Train view decides that (see ``select``).
        """
        self.cache.put_net(m.path, net)
        self.refresh()
        return self.find(str(m.path)) or m

    # ------------------------------------------------------------------ the timeline
    def watch_run(self, name: str, timeline: Timeline) -> None:
        """A run has started: the timeline follows it (scrubbable up to its latest snapshot) until it ends."""
        self._live_run = TimelineSubject(name, timeline)
        self._set_subject(self._live_run)

    def run_ended(self, timeline: Timeline, saved: store.StoredModel | None) -> None:
        """The run is over; the timeline follows the current model again."""
        if saved is not None:
            self.remember_timeline(saved, timeline)
        self._live_run = None
        self._follow_current()

    def remember_timeline(self, m: store.StoredModel, timeline: Timeline | None) -> None:
        """A run just saved as ``m``: its history, kept in memory (it was also written beside the model)."""
        self._keep_timeline(str(m.path), timeline)

    def set_moment(self, index: int | None) -> None:
        if index != self.moment:
            self.moment = index
            self.momentChanged.emit()

    def moment_net(self) -> tuple[str, NumpyNet] | None:
        """What the views show at the chosen moment, as (a name for it, its forward pass); None: as it is now."""
        subj = self.subject
        if self.moment is None or subj is None or subj.timeline is None or self.moment >= len(subj.timeline):
            return None
        final = self.net(subj.model) if subj.model is not None else None
        net = subj.timeline.net_at(self.moment, final)
        if net is None:
            return None
        return f"{subj.name} at {subj.timeline.describe(self.moment)}", net

    def moment_snapshot(self, m: store.StoredModel | None):
        """(a name for the moment, its ``Snapshot``) when a point before the end of model ``m``'s own timeline
        is chosen; None otherwise (the views then show ``m`` as it is)."""
        subj, i = self.subject, self.moment
        if (m is None or i is None or subj is None or subj.model is None or subj.timeline is None
                or str(subj.model.path) != str(m.path) or i >= len(subj.timeline)):
            return None
        snap = subj.timeline.at(i)
        return None if snap.weights is None else (f"{subj.name} at {subj.timeline.describe(i)}", snap)

    def _keep_timeline(self, key: str, timeline: Timeline | None) -> None:
        self.timelines[key] = timeline
        self.timelines.move_to_end(key)
        while len(self.timelines) > TIMELINES_KEPT:
            self.timelines.popitem(last=False)

    def _follow_current(self) -> None:
        if self._live_run is not None:
            return
        m = self.current
        if m is None:
            self._set_subject(None)
            return
        key = str(m.path)
        self._set_subject(TimelineSubject(m.name, self.timelines.get(key), m))
        if key not in self.timelines:
            self._load_timeline(m)

    def _set_subject(self, subject: TimelineSubject | None) -> None:
        self.subject = subject
        moved = self.moment is not None  # (at "now" the views already show the model as it is)
        self.moment = None
        self.subjectChanged.emit()
        if moved:
            self.momentChanged.emit()

    def _load_timeline(self, m: store.StoredModel) -> None:
        cache, path = self.cache, m.path

        def read(_state):
            return load_timeline(path, cache.net(path).weight_shapes())

        def ok(timeline):
            self._keep_timeline(str(path), timeline)
            if self.subject is not None and self.subject.model is not None and self.subject.model.path == path:
                self._set_subject(TimelineSubject(m.name, timeline, m))

        def failed(exc):
            self._keep_timeline(str(path), None)
            self.notice.emit(f"The training history of {m.name} could not be read: {jobs.describe(exc)}")

        self._track(jobs.Job(read, lane="numpy", name=f"timeline-{m.name}"), ok, failed)

    def _track(self, job: jobs.Job, ok, failed=None) -> None:
        """Start ``job``, kept until done; a failure goes to ``failed`` (default: the load-failure message)."""
        job.finished.connect(ok)
        job.failed.connect(failed or (lambda exc: self.loadFailed.emit(jobs.describe(exc))))
        self._jobs.add(job)
        job.done.connect(lambda: self._jobs.discard(job))
        job.start()

    def shutdown(self) -> None:
        for job in list(self._jobs):
            job.cancel()
