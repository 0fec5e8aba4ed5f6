"""Kill-during-save benchmark: SIGKILL a process at random moments while it saves, then check the files.

A child process saves, over and over, a model with ``store.save_model(model, meta, path=P)`` and a
"my digits" set through ``store.atomic_write`` (``np.savez`` into the temporary file). Each save
writes a new *version*: every weight of the model and every pixel/label of the digits encodes it.
The child is killed with SIGKILL after a random delay; then the files must be either absent (only if
no save had completed yet) or complete and self-consistent:

* the model loads with ``store.load_model`` and all its weights hold one version;
* its metadata ``.json`` parses and names a version;
* the digits load with ``data.load_dataset`` (and ``np.load(..., allow_pickle=False)``) with every
  array holding one version;
* a file that was there before the kill is still there (the previous version, or a newer one).

Importing TensorFlow takes seconds, so a "zygote" process imports it once and forks one saver per
kill (the saver builds its model after the fork: TensorFlow has run nothing before it). Prints::

    kills: 50, corrupted files: 0
    leftover temporary files: N   (a kill between mkstemp and rename leaves one; listings skip them)

Usage::

    python benchmarks/kill_during_save.py                # 50 kills
    python benchmarks/kill_during_save.py --kills 5 --seed 1 --verbose
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

REPO = _setup.setup(tf_log="3")

MODEL_NAME = "my-model.keras"
DIGITS_NAME = "my-digits.npz"
N_DIGITS = 64
SAVER_MAX_SECONDS = 60.0


def model_value(version: int) -> float:
    return (version % 100_000) / 1024.0  # exact in float32


def digits_arrays(version: int):
    import numpy as np

    return {
        "x_train": np.full((N_DIGITS, 28, 28), version % 256, np.uint8),
        "y_train": np.full((N_DIGITS,), version % 10, np.uint8),
        "version": np.array([version], np.int64),
    }


# =============================================================================== the saver
def saver(folder: Path, round_no: int) -> None:
    """Runs in the forked child: build a model, then save new versions until killed."""
    import numpy as np

    from mnist_desk.core import registry, store

    model = registry.build_model("linear", seed=0)
    print(f"started {os.getpid()}", flush=True)
    give_up = time.monotonic() + SAVER_MAX_SECONDS  # never outlive a driver that died before killing us
    for k in range(1, 10**9):
        if time.monotonic() > give_up:
            return
        version = round_no * 100_000 + k
        v = model_value(version)
        model.set_weights([np.full(w.shape, v, w.dtype) for w in model.get_weights()])
        t0 = time.perf_counter()
        store.save_model(model, {"arch": "linear", "version": version}, path=folder / MODEL_NAME)
        arrays = digits_arrays(version)
        store.atomic_write(folder / DIGITS_NAME, lambda tmp: np.savez(tmp, **arrays))
        print(f"cycle {time.perf_counter() - t0:.4f}", flush=True)


def zygote(folder: Path) -> None:
    """Import everything once, then fork a saver per ``go N`` line on stdin; report its end."""
    import keras  # noqa: F401 - the slow import, done once

    import numpy  # noqa: F401

    from mnist_desk.core import data, registry, store  # noqa: F401

    print("zygote ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] != "go":
            break
        pid = os.fork()
        if pid == 0:
            try:
                saver(folder, int(parts[1]))
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        print(f"reaped {pid} {status}", flush=True)


# =============================================================================== checking
def check_model(path: Path) -> str | None:
    """None if the model file is complete and holds one version; else what is wrong."""
    import numpy as np

    from mnist_desk.core import store
    from mnist_desk.core.errors import MnistDeskError

    try:
        model = store.load_model(path)
    except MnistDeskError as exc:
        return f"model does not load: {exc}"
    values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
    if len(values) != 1:
        return f"model mixes {len(values)} versions"
    return None


def check_metadata(path: Path) -> str | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return f"metadata does not parse: {exc}"
    if not isinstance(meta, dict) or not isinstance(meta.get("version"), int):
        return "metadata has no version"
    return None


def check_digits(path: Path) -> str | None:
    import numpy as np

    from mnist_desk.core import data
    from mnist_desk.core.errors import DataError

    try:
        ds = data.load_dataset(path)
        with np.load(path, allow_pickle=False) as z:
            version = int(z["version"][0])
    except (DataError, OSError, ValueError, KeyError) as exc:
        return f"digits do not load: {type(exc).__name__}: {exc}"
    want = digits_arrays(version)
    if not (np.array_equal(ds.x_train, want["x_train"]) and np.array_equal(ds.y_train, want["y_train"])):
        return "digits mix versions"
    return None


def check_folder(folder: Path, existed: dict[str, bool]) -> list[str]:
    """Problems with the saved files after a kill (an empty list: all intact)."""
    problems = []
    checks = {MODEL_NAME: check_model, MODEL_NAME.replace(".keras", ".json"): check_metadata, DIGITS_NAME: check_digits}
    for name, check in checks.items():
        p = folder / name
        if not p.exists():
            if existed.get(name):
                problems.append(f"{name}: was there before the kill and is gone")
            continue
        problem = check(p)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


# =============================================================================== the driver
class Zygote:
    def __init__(self, folder: Path):
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--zygote", str(folder)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(REPO),
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float, on_other=None) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {prefix!r} line from the zygote in {timeout:.0f} s") from None
            if line is None:
                raise RuntimeError("the zygote died")
            if line.startswith(prefix):
                return line
            if on_other is not None:
                on_other(line)

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def run(kills: int = 50, seed: int = 0, verbose: bool = False, folder: Path | None = None) -> dict:
    """Kill a saver ``kills`` times; returns counts (and the problems found)."""
    rng = random.Random(seed)
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="mnist_desk_kill_")) if own else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MNIST_DESK_HOME", str(folder / "home"))
    z = Zygote(folder)
    cycles: list[float] = []
    corrupted = 0
    problems: list[str] = []
    completed_before_kill = 0
    t_start = time.perf_counter()
    try:
        z.expect("zygote ready", timeout=300)
        for i in range(kills):
            if i % 10 == 0:  # now and then start from nothing: a kill before the first save completes
                for p in folder.glob("my-*"):
                    p.unlink()
            existed = {n: (folder / n).exists() for n in (MODEL_NAME, MODEL_NAME.replace(".keras", ".json"), DIGITS_NAME)}
            z.send(f"go {i + 1}")
            line = z.expect("started", timeout=120)
            pid = int(line.split()[1])
            window = 2.5 * (sorted(cycles)[len(cycles) // 2] if cycles else 0.4)
            delay = rng.uniform(0.0, window)
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            n_cycles = 0

            def note(other, _acc=[]):  # noqa: B006 - counts cycle lines of this round
                nonlocal n_cycles
                if other.startswith("cycle"):
                    n_cycles += 1
                    cycles.append(float(other.split()[1]))

            z.expect(f"reaped {pid}", timeout=60, on_other=note)
            completed_before_kill += n_cycles > 0
            found = check_folder(folder, existed)
            if found:
                corrupted += len(found)
                problems += [f"kill {i + 1} after {delay:.3f} s: {p}" for p in found]
            if verbose:
                print(f"kill {i + 1:2d} after {delay:.3f} s ({n_cycles} saves completed): {'; '.join(found) or 'intact'}", flush=True)
    finally:
        z.close()
    leftovers = len([p for p in folder.iterdir() if p.name.startswith(".my-") and ".tmp-" in p.name])
    if own:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "kills": kills,
        "corrupted": corrupted,
        "problems": problems,
        "leftover_tmp": leftovers,
        "rounds_with_completed_saves": completed_before_kill,
        "median_cycle_s": sorted(cycles)[len(cycles) // 2] if cycles else None,
        "seconds": time.perf_counter() - t_start,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--zygote", metavar="FOLDER", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.zygote:
        zygote(Path(args.zygote))
        return 0
    if not hasattr(os, "fork"):
        print("this benchmark needs os.fork (Linux or macOS)", file=sys.stderr)
        return 2
    r = run(args.kills, args.seed, args.verbose)
    for p in r["problems"]:
        print("PROBLEM", p)
    print(f"kills: {r['kills']}, corrupted files: {r['corrupted']}")
    print(f"leftover temporary files: {r['leftover_tmp']} (kills that landed between creating and renaming one)")
    print(f"rounds where at least one full save completed before the kill: {r['rounds_with_completed_saves']}; "
          f"median save cycle {r['median_cycle_s'] or 0:.3f} s; {r['seconds']:.0f} s in all")
    return 1 if r["corrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
