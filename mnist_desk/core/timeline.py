"""A run's history of weights: snapshots to scrub through, in memory during the session and saved beside
the model (``<name>.timeline.npz``), so a reloaded model can be watched learning too.

Snapshots are dense where most is learned: the untrained network, every tenth of the first epoch, then
each epoch's end. They are float16 copies of every layer's weights (batch-norm statistics included), by
layer name, which is how the numpy forward pass takes them; the last point of a finished run is the
model itself (``weights`` None), so scrubbing to the end gives exactly the final model's answers.

On disk each snapshot is kept as its bitwise difference (XOR) from the one before, split into a high- and a
low-byte plane and deflated: successive snapshots share most of their sign and exponent bits, so this is
lossless and a little over half the size of the plain float16 copies. The file is read without pickle, after
its size, member count and every array's shape are checked against the model it belongs to.
"""

from __future__ import annotations

import math
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .files import require_regular_file

SNAPSHOTS_IN_FIRST_EPOCH = 10
MAX_SNAPSHOTS = 1000
MAX_TIMELINE_BYTES = 512 * 1024 * 1024


@dataclass
class Snapshot:
    step: int  # batches done when it was taken
    epoch: float  # the same, in epochs
    seconds: float  # training time when it was taken
    weights: dict[str, list[np.ndarray]] | None  # float16, by layer name; None: the final model itself


@dataclass
class Timeline:
    """The snapshots of one run, in order; appended to by the training thread while the GUI reads them."""

    steps_per_epoch: int = 1
    snapshots: list[Snapshot] = field(default_factory=list)
    lr_changes: list[tuple[float, float]] = field(default_factory=list)  # (epoch, new learning rate)
    layer_configs: list | None = None  # the network's layers, for a run not saved yet (else its model file has them)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _nets: dict = field(default_factory=dict, repr=False, compare=False)
    _lr_request: float | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.snapshots)

    def add(self, snapshot: Snapshot) -> None:
        with self._lock:
            if self.snapshots and self.snapshots[-1].step == snapshot.step:
                self.snapshots[-1] = snapshot  # (an epoch's end after its last tenth: the later copy wins)
            else:
                self.snapshots.append(snapshot)

    def request_learning_rate(self, lr: float) -> None:
        """Ask the run going on to train with ``lr`` from its next batch (any thread; the latest ask wins)."""
        with self._lock:
            self._lr_request = float(lr)

    def take_learning_rate_request(self) -> float | None:
        with self._lock:
            lr, self._lr_request = self._lr_request, None
        return lr

    def at(self, index: int) -> Snapshot:
        with self._lock:
            return self.snapshots[index]

    def end_with_final_model(self, step: int, seconds: float) -> None:
        """Mark the last point as the final model (its weights are the model's own, not a float16 copy)."""
        self.add(Snapshot(step, step / max(self.steps_per_epoch, 1), seconds, None))

    def net_at(self, index: int, final_net=None):
        """The numpy forward pass as it was at snapshot ``index``; ``final_net`` is the finished model (it gives
        the layers of a saved run, and is itself the last point). None if neither can give the layers."""
        from .numpy_net import NumpyNet

        snap = self.at(index)
        if snap.weights is None:
            return final_net
        key = (index, snap.step)
        with self._lock:
            net = self._nets.get(key)
        if net is None:
            if final_net is not None:
                net = final_net.with_weights(snap.weights)
            elif self.layer_configs is not None:
                net = NumpyNet(NumpyNet._layers_from(self.layer_configs, snap.weights, None))
            else:
                return None
            with self._lock:
                if len(self._nets) >= 8:  # scrubbing back and forth: the few most recent are enough
                    self._nets.pop(next(iter(self._nets)))
                self._nets[key] = net
        return net

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for s in list(self.snapshots) if s.weights for ws in s.weights.values() for a in ws)

    def describe(self, index: int) -> str:
        s = self.at(index)
        if s.step == 0:
            return "before training (random weights)"
        where = f"epoch {s.epoch:.1f}" if s.epoch % 1 else f"end of epoch {int(s.epoch)}"
        return f"{where} (batch {s.step:,})" + (" — the final model" if s.weights is None else "")


def schedule(steps_per_epoch: int) -> set[int]:
    """The batches of the first epoch after which a snapshot is taken (epoch ends are always taken)."""
    every = max(1, math.ceil(steps_per_epoch / SNAPSHOTS_IN_FIRST_EPOCH))
    return set(range(every, steps_per_epoch, every))


def weights_by_layer(model) -> dict[str, list[np.ndarray]]:
    """Every layer's weights as float16 copies, by name (call on the thread that trains the model)."""
    return {layer.name: [np.asarray(w, dtype=np.float16) for w in layer.weights] for layer in model.layers if layer.weights}


# ------------------------------------------------------------------------------------------ the file
def timeline_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.parent / f"{p.stem}.timeline.npz"


def save_timeline(timeline: Timeline, model_path: str | Path) -> Path | None:
    """Write the timeline beside the model, atomically; None when it is empty (and then no older file of
    that name is left to pass for this model's)."""
    from .store import atomic_write

    snaps = list(timeline.snapshots)
    if not snaps:
        timeline_path(model_path).unlink(missing_ok=True)
        return None
    names = sorted({n for s in snaps if s.weights for n in s.weights})
    arrays: dict[str, np.ndarray] = {
        "layer_names": np.array(names, dtype=str),
        "steps": np.array([s.step for s in snaps], np.int64),
        "seconds": np.array([s.seconds for s in snaps], np.float64),
        "is_final": np.array([s.weights is None for s in snaps], bool),
        "steps_per_epoch": np.array([timeline.steps_per_epoch], np.int64),
        "lr_changes": np.array(timeline.lr_changes, np.float64).reshape(-1, 2),
    }
    previous: dict[tuple[int, int], np.ndarray] = {}
    for i, s in enumerate(snaps):
        for k, name in enumerate(names):
            for j, w in enumerate((s.weights or {}).get(name, [])):
                bits = np.ascontiguousarray(w, dtype="<f2").view("<u2").ravel()
                before = previous.get((k, j))
                previous[(k, j)] = bits
                delta = bits if before is None else bits ^ before
                arrays[f"s{i}_{k}_{j}"] = np.stack([(delta >> 8).astype(np.uint8), (delta & 0xFF).astype(np.uint8)])
    path = timeline_path(model_path)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)
    return path


def load_timeline(model_path: str | Path, expected: dict[str, list[tuple]]) -> Timeline | None:
    """The timeline saved beside a model, checked against the model's layers (``expected``: name -> weight
    shapes); None when there is none. Raises ModelFileError for a damaged or foreign file."""
    path = timeline_path(model_path)
    if not path.exists() and not path.is_symlink():
        return None
    size = require_regular_file(path, ModelFileError).st_size
    if size > MAX_TIMELINE_BYTES:
        raise ModelFileError(path, f"is implausibly large for a timeline ({size:,} bytes)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_SNAPSHOTS * 64 + 16:
                raise ModelFileError(path, "holds too many arrays for a timeline")
            if sum(i.file_size for i in infos) > MAX_TIMELINE_BYTES:
                raise ModelFileError(path, "would unpack to more than a timeline can hold")
        with np.load(path, allow_pickle=False) as z:
            return _timeline_from(z, expected, path)
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip/npy errors of a damaged file, said in one message
        raise ModelFileError(path, f"could not be read as a timeline ({type(exc).__name__}: {exc})") from None


def _timeline_from(z, expected: dict[str, list[tuple]], path: Path) -> Timeline:
    names = [str(n) for n in z["layer_names"]]
    steps, seconds, is_final = z["steps"], z["seconds"], z["is_final"]
    n = len(steps)
    if not (0 < n <= MAX_SNAPSHOTS and len(seconds) == n and len(is_final) == n):
        raise ModelFileError(path, "has an inconsistent list of snapshots")
    if not set(names) <= set(expected):
        raise ModelFileError(path, "does not belong to this model (its layers differ)")
    spe = int(z["steps_per_epoch"][0])
    if spe < 1:
        raise ModelFileError(path, "has an invalid number of batches per epoch")
    lr = z["lr_changes"]
    tl = Timeline(steps_per_epoch=spe, lr_changes=[(float(a), float(b)) for a, b in lr.reshape(-1, 2)])
    previous: dict[tuple[int, int], np.ndarray] = {}
    for i in range(n):
        weights = None
        if not is_final[i]:
            weights = {}
            for k, name in enumerate(names):
                arrays = []
                for j, shape in enumerate(expected[name]):
                    planes = z[f"s{i}_{k}_{j}"]
                    if planes.dtype != np.uint8 or planes.shape != (2, math.prod(shape)):
                        raise ModelFileError(path, f"snapshot {i} of layer {name!r} does not fit the model")
                    bits = (planes[0].astype("<u2") << 8) | planes[1]
                    if (k, j) in previous:
                        bits ^= previous[(k, j)]
                    previous[(k, j)] = bits
                    arrays.append(bits.view("<f2").astype(np.float16).reshape(shape))
                weights[name] = arrays
        step = int(steps[i])
        tl.snapshots.append(Snapshot(step, step / spe, float(seconds[i]), weights))
    return tl
