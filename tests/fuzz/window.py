"""The window's side of the fuzz benchmark: bad files and damaged data folders through a real ``MainWindow``.

``build_cases`` writes every case into a scratch folder: the issue's reproduced causes (models the numpy pass
must refuse, weights kept in other files, memory bombs, devices and FIFOs named like files, a JPEG of
thousands of scans, blank pictures, damaged user data folders, a damaged digit set labelled over three
sessions), the hostile files, and a sample of the fuzzer's mutated files. ``run_all`` runs each in a fresh
``python -m tests.fuzz.window CASE.json``: offscreen, under an address-space limit, printing one JSON line.

A case is judged as the user would see it: the window opened; the action gave at most one message; no
"unexpected error" dialog; nothing read a file the case names as off limits (its access time is watched);
no payload marker appeared; the GUI thread never stalled long; memory stayed under the cap.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import random
import struct
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MEMORY_CAP_MB = 1500  # the most a case may take (peak RSS of the whole window process)
ADDRESS_LIMIT = 12 * 2**30  # RLIMIT_AS of the child: past it an allocation fails instead of the machine swapping
WAIT_S = 25.0  # the longest a case's action may take before it counts as a hang


@dataclass
class WindowCase:
    name: str
    action: str  # open-model, drop-image, train-data, open-window, label-3-sessions
    path: str = ""
    home: str = ""  # the user data folder the window opens with ("" = a clean one)
    sentinel: str = ""  # a file the case must not read
    markers: tuple[str, ...] = ()  # files a payload would create
    expect_digits: int = 0


# ============================================================================ building the cases
def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return path


def _config_edit(base: dict[str, bytes], edit) -> dict[str, bytes]:
    cfg = json.loads(base["config.json"])
    edit(cfg)
    return {**base, "config.json": json.dumps(cfg).encode()}


def _weights_edit(base: dict[str, bytes], edit) -> dict[str, bytes]:
    import h5py

    bio = io.BytesIO(base["model.weights.h5"])
    with h5py.File(bio, "r+") as h5:
        names: list[str] = []
        h5.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        edit(h5, names)
    return {**base, "model.weights.h5": bio.getvalue()}


def _layer(cfg: dict, cls: str) -> dict:
    return next(x for x in cfg["config"]["layers"] if x["class_name"] == cls)


def _inserted(cfg: dict, after: str, new_layers: list[dict]) -> None:
    """Insert layers (dicts in the saved format) after layer ``after``, rewiring the chain."""
    layers = cfg["config"]["layers"]
    i = next(k for k, x in enumerate(layers) if x["config"]["name"] == after)
    prev = after
    for j, layer in enumerate(new_layers):
        layer["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [prev, 0, 0]}}],
                                   "kwargs": {}}]
        layers.insert(i + 1 + j, layer)
        prev = layer["config"]["name"]
    follower = layers[i + 1 + len(new_layers)]
    follower["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = prev
    follower.pop("build_config", None)


def _conv(name: str, filters: int, k: int) -> dict:
    return {"module": "keras.layers", "class_name": "Conv2D", "registered_name": None,
            "config": {"name": name, "filters": filters, "kernel_size": [k, k], "strides": [1, 1], "padding": "same",
                       "data_format": "channels_last", "use_bias": True}}


def model_cases(folder: Path, sentinel: Path) -> list[WindowCase]:
    import h5py

    from mnist_desk.core import registry, store

    folder.mkdir(parents=True, exist_ok=True)
    clean = store.save_model(registry.build_model("linear", seed=0), {"arch": "linear"}, path=folder / "clean.keras")
    base = _members(clean)
    fifo = folder / "weights.fifo"
    os.mkfifo(fifo)

    def external_to(target: Path):
        def edit(h5, names):
            d = h5[names[-1]]
            shape, dtype, parent, key = d.shape, d.dtype, d.parent, d.name.rsplit("/", 1)[1]
            del parent[key]
            parent.create_dataset(key, shape=shape, dtype=dtype, external=[(str(target), 0, h5py.h5f.UNLIMITED)])
        return edit

    def soft_bias(h5, names):
        kernel, bias = h5[names[0]], h5[names[1]]
        parent, key = bias.parent, bias.name.rsplit("/", 1)[1]
        del parent[key]
        parent[key] = h5py.SoftLink(kernel.name)

    def nan_weights(h5, names):
        for n in names:
            h5[n][...] = np.nan

    def declared_508_mb(cfg):
        _inserted(cfg, "flatten", [{"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                                    "config": {"name": "wide", "units": 162_000, "use_bias": True}}])

    def wide_weights(h5, names):  # the weights of that layer, 508 MB of zeros in gzip chunks of a tiny file
        g = h5.require_group("layers/dense_wide/vars")
        g.attrs["name"] = "wide"
        g.create_dataset("0", shape=(784, 162_000), dtype="f4", chunks=(784, 1000), compression="gzip")
        g.create_dataset("1", shape=(162_000,), dtype="f4", chunks=(1000,), compression="gzip")

    def set_(path_keys, value):
        def edit(cfg):
            node = cfg
            for k in path_keys[:-1]:
                node = node[k] if not callable(k) else k(node)
            node[path_keys[-1]] = value
        return edit

    dense = lambda c: _layer(c, "Dense")  # noqa: E731
    first = lambda c: c["config"]["layers"][0]  # noqa: E731
    forged = {
        "input (784,)": _config_edit(base, set_((first, "config", "batch_shape"), [None, 784])),
        "input (32,32,3)": _config_edit(base, set_((first, "config", "batch_shape"), [None, 32, 32, 3])),
        "a kernel of the wrong size": _config_edit(base, set_((dense, "config", "use_bias"), False)),
        "activation given as a dict": _config_edit(base, set_((dense, "config", "activation"), {"class_name": "Softmax"})),
        "units 0": _config_edit(base, set_((dense, "config", "units"), 0)),
        "units -3": _config_edit(base, set_((dense, "config", "units"), -3)),
        "an unknown argument": _config_edit(base, set_((dense, "config", "evil_argument"), 1)),
        "input dtype string": _config_edit(base, set_((first, "config", "dtype"), "string")),
        "LoRA rank 100,000": _config_edit(base, set_((dense, "config", "lora_rank"), 100_000)),
        "1x1 conv to 4,096 then a 28x28 conv": _config_edit(
            base, lambda c: _inserted(c, first(c)["config"]["name"], [_conv("wide", 4096, 1), _conv("huge", 1, 28)])),
        "508 MB of declared weights": _weights_edit(_config_edit(base, declared_508_mb), wide_weights),
        "bias as a soft link to the kernel": _weights_edit(base, soft_bias),
        "kernel kept in another file": _weights_edit(base, external_to(sentinel)),
        "kernel kept in a FIFO": _weights_edit(base, external_to(fifo)),
        "NaN weights": _weights_edit(base, nan_weights),
    }
    cases = []
    for i, (name, members) in enumerate(forged.items()):
        path = _write_zip(folder / f"forged{i:02d}.keras", members)
        cases.append(WindowCase(f"model: {name}", "open-model", str(path), sentinel=str(sentinel)))
    # a model whose metadata JSON beside it is damaged: the model still opens
    for i, meta in enumerate((b"[1, 2]", b'{"test_accuracy": "high"}', b"[" * 100_000 + b"]" * 100_000)):
        path = folder / f"meta{i}.keras"
        path.write_bytes(clean.read_bytes())
        path.with_suffix(".json").write_bytes(meta)
        cases.append(WindowCase(f"model: damaged JSON beside it ({meta[:12]!r})", "open-model", str(path)))
    path = folder / "metafifo.keras"
    path.write_bytes(clean.read_bytes())
    os.mkfifo(path.with_suffix(".json"))
    cases.append(WindowCase("model: a FIFO as the JSON beside it", "open-model", str(path)))
    return cases


def image_cases(folder: Path) -> list[WindowCase]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, target in (("dev-zero.png", "/dev/zero"), ("dev-urandom.png", "/dev/urandom")):
        (folder / name).symlink_to(target)
        cases.append(WindowCase(f"image: a link to {target}", "drop-image", str(folder / name)))
    os.mkfifo(folder / "fifo.png")
    cases.append(WindowCase("image: a FIFO", "drop-image", str(folder / "fifo.png")))
    buf = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buf, "JPEG", progressive=True)
    jpeg = buf.getvalue()
    body, eoi = jpeg[:-2], jpeg[-2:]
    (folder / "scans.jpg").write_bytes(body + body[body.rindex(b"\xff\xda"):] * 3000 + eoi)
    cases.append(WindowCase("image: a JPEG of 3,000 scans", "drop-image", str(folder / "scans.jpg")))
    Image.new("L", (200, 200), 255).save(folder / "blank.png")
    cases.append(WindowCase("image: a blank picture", "drop-image", str(folder / "blank.png")))
    return cases


def data_cases(folder: Path) -> list[WindowCase]:
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for name in ("digits.csv", "digits.npz", "train-images-idx3-ubyte.gz"):
        os.mkfifo(folder / name)
        cases.append(WindowCase(f"data: a FIFO named {name}", "train-data", str(folder / name)))
    n = 600_000
    blank = np.zeros((n, 28, 28), np.uint8)
    np.savez_compressed(folder / "blank.npz", x_train=blank, y_train=np.zeros(n, np.uint8))
    cases.append(WindowCase("data: 600,000 blank images in a 1 MB .npz", "train-data", str(folder / "blank.npz")))
    idx = folder / "idx"
    idx.mkdir()
    with gzip.open(idx / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28) + blank.tobytes())
    with gzip.open(idx / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 2049, n) + bytes(n))
    cases.append(WindowCase("data: 600,000 blank images as IDX .gz", "train-data", str(idx)))
    with open(folder / "long_line.csv", "wb") as f:
        f.write(b"label," + b",".join(b"pixel%d" % i for i in range(784)) + b"\n")
        f.write(b"7," + b"0," * (50 * 2**20))
    cases.append(WindowCase("data: a CSV with a 100 MB line", "train-data", str(folder / "long_line.csv")))
    return cases


def _user_model(home: Path, meta: bytes | None = None, special: str = "") -> None:
    from mnist_desk.core import registry, store

    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    path = store.save_model(registry.build_model("linear", seed=0), {"arch": "linear"}, path=models / "mine.keras")
    json_path = path.with_suffix(".json")
    json_path.unlink()
    if special == "fifo":
        os.mkfifo(json_path)
    elif special == "dev-zero":
        json_path.symlink_to("/dev/zero")
    else:
        json_path.write_bytes(meta or b"")


def home_cases(folder: Path) -> list[WindowCase]:
    from mnist_desk.core import my_digits as md

    def home(name: str) -> Path:
        h = folder / name
        h.mkdir(parents=True)
        return h

    cases = []
    for i, meta in enumerate((b"[1, 2]", b'{"metrics": "high", "test_accuracy": "x"}', b"[" * 100_000 + b"]" * 100_000)):
        h = home(f"meta{i}")
        _user_model(h, meta)
        cases.append(WindowCase(f"home: a model's JSON {meta[:16]!r}", "open-window", home=str(h)))
    for special in ("fifo", "dev-zero"):
        h = home(f"meta-{special}")
        _user_model(h, special=special)
        cases.append(WindowCase(f"home: a model's JSON is a {special}", "open-window", home=str(h)))
    for i, ini in enumerate(("[General]\ntab=abc\n", f"[General]\ntab={10**40}\n", "[General]\ngeometry=hello\n",
                             "\x00\xff\xfe garbage")):
        h = home(f"settings{i}")
        (h / "settings.ini").write_text(ini, errors="surrogateescape") if "\x00" not in ini else (h / "settings.ini").write_bytes(
            ini.encode("latin-1"))
        cases.append(WindowCase(f"home: settings.ini {ini.strip()[:20]!r}", "open-window", home=str(h)))
    blocker = folder / "a file in the way"
    blocker.write_text("not a folder")
    cases.append(WindowCase("home: a data folder that cannot be written", "open-window", home=str(blocker / "home")))
    for piece in ("logs", "models"):
        h = home(f"file-as-{piece}")
        (h / piece).write_text("a file where a folder belongs")
        cases.append(WindowCase(f"home: a file where {piece}/ belongs", "open-window", home=str(h)))
    h = home("digits-truncated")
    (h / "my_digits.npz").write_bytes(b"PK\x03\x04 truncated by a crash")
    cases.append(WindowCase("home: a truncated my_digits.npz", "open-window", home=str(h)))
    for name, drawings in (("strings", np.array(["a"] * 2)), ("0-d", np.array(5))):
        h = home(f"digits-{name}")
        np.savez(h / "my_digits.npz", x=np.zeros((2, 28, 28), np.uint8), y=np.array([1, 2], np.uint8), drawings=drawings)
        cases.append(WindowCase(f"home: my digits' drawings are {name}", "open-window", home=str(h)))
    h = home("digits-3-sessions")
    (h / "my_digits.npz").write_bytes(b"PK\x03\x04 truncated by a crash")
    cases.append(WindowCase("home: three sessions labelling on a damaged set", "label-3-sessions", home=str(h),
                            expect_digits=3))
    _ = md  # the count is taken with the app's own reader, in the child
    return cases


def hostile_cases(folder: Path) -> list[WindowCase]:
    from tests import hostile_builders as hb

    action = {"model": "open-model", "image": "drop-image", "data": "train-data"}
    out = []
    for h in hb.build_all(folder):
        path = h.path.parent if h.loader == "data" and h.path.name.startswith("train-") else h.path
        out.append(WindowCase(f"hostile: {h.name}", action[h.loader], str(path), markers=tuple(map(str, h.markers))))
    return out


def fuzzed_cases(folder: Path, per_target: int, seed: int) -> list[WindowCase]:
    """Mutated files from the fuzzer's seeds, each through the window action of its format."""
    from tests.fuzz import harness

    seeds = harness.Seeds.build(folder)
    out = []
    for name, target in harness.TARGETS.items():
        rng = random.Random(f"window/{seed}/{name}")
        action = "open-model" if name == "keras" else "drop-image" if name in harness.IMAGE_TARGETS else "train-data"
        for i in range(per_target):
            kind = rng.choice(target.kinds)
            data = harness.mutate(target, seeds.files[target.seed], kind, rng)
            case_dir = folder / f"{name}-{i}"
            case_dir.mkdir(parents=True)
            path = case_dir / target.filename
            if data == harness.DIRECTORY:
                path.mkdir()
            else:
                path.write_bytes(data)
            for companion, key in target.companions:
                (case_dir / companion).write_bytes(seeds.files[key])
            given = case_dir if name.startswith("idx") else path
            out.append(WindowCase(f"fuzzed {name}: {kind}", action, str(given)))
    return out


def build_cases(folder: Path, per_target: int = 2, seed: int = 2024) -> list[WindowCase]:
    folder.mkdir(parents=True, exist_ok=True)
    sentinel = folder / "secret.bin"
    sentinel.write_bytes(b"\x01" * 4096)
    return (model_cases(folder / "models", sentinel) + image_cases(folder / "images") + data_cases(folder / "data")
            + home_cases(folder / "homes") + hostile_cases(folder / "hostile") + fuzzed_cases(folder / "fuzzed", per_target, seed))


# ============================================================================ running them (in the child)
class _PeakMemory:
    """The largest resident size of this process since ``reset``, sampled every 5 ms from another thread
    (the kernel's own high-water mark cannot be reset everywhere)."""

    def __init__(self):
        import threading

        self.peak = 0
        threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)

    def reset(self) -> None:
        self.peak = self.rss()


class _Stalls:
    """The longest the GUI thread went without running a 10 ms timer."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def reset(self):
        self.last, self.worst = time.perf_counter(), 0.0


def _wait(app, done, seconds: float) -> bool:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.005)
    return done()


def _draw(canvas, n: int = 3) -> None:
    from tests.ui.support import drag

    for k in range(n):
        drag(canvas, [(90 + 40 * k, 40 + 8 * i) for i in range(26)])


def _open_window(app, handler):
    from mnist_desk.ui.main_window import MainWindow

    w = MainWindow(preload_tensorflow=False)
    w.show()
    ok = _wait(app, lambda: w.hub.current is not None and w.hub.net(w.hub.current) is not None, WAIT_S)
    return w, ok


def _count_digits(home: Path) -> int:
    from mnist_desk.core.errors import MnistDeskError
    from mnist_desk.core.my_digits import MyDigits

    n = 0
    for p in home.glob("my_digits*.npz"):
        try:
            n += len(MyDigits.load(p))
        except MnistDeskError:
            pass
    return n


def _closed(app, w) -> float:
    """Close a window as the user does and free it; the seconds closing took."""
    import gc

    t = time.perf_counter()
    w.close()
    w.deleteLater()
    app.processEvents()
    gc.collect()
    return time.perf_counter() - t


def run_case(app, handler, stalls, memory, case: WindowCase, clean_home: Path) -> dict:
    home = Path(case.home) if case.home else clean_home
    os.environ["MNIST_DESK_HOME"] = str(home)
    if case.sentinel:
        os.utime(case.sentinel, (1_000_000, time.time()))
    for m in case.markers:
        Path(m).unlink(missing_ok=True)
    shown_before = len(handler.shown)
    memory.reset()
    t0 = time.perf_counter()
    result = {"name": case.name, "opened": True, "hang": False, "messages": 0, "digits_lost": 0}
    windows_messages = 0
    if case.action == "label-3-sessions":
        for _ in range(3):
            w, ok = _open_window(app, handler)
            result["opened"] &= ok
            _draw(w.draw.canvas, 1)
            w.draw.canvas.setFocus()
            from PySide6.QtCore import Qt
            from PySide6.QtTest import QTest

            QTest.keyClick(w.draw.canvas, Qt.Key.Key_1)
            _closed(app, w)
        result["digits_lost"] = max(case.expect_digits - _count_digits(home), 0)
    else:
        w, ok = _open_window(app, handler)
        result["opened"] = ok
        stalls.reset()
        if case.action == "open-model":
            seen: list[str] = []
            w.hub.currentChanged.connect(seen.append)
            w.hub.loadFailed.connect(seen.append)
            w.hub.open_file(case.path)
            result["hang"] = not _wait(app, lambda: bool(seen), WAIT_S)
            _draw(w.draw.canvas, 3)
            _wait(app, lambda: False, 0.3)
        elif case.action == "drop-image":
            from tests.ui.support import drop_file

            drop_file(w.draw.canvas, case.path)
            _wait(app, lambda: False, 0.2)
        elif case.action == "train-data":
            t = w.train
            t.form.apply_arch("linear")
            for spin in (t.form.drawn_spin, t.form.pen_spin, t.form.non_digit_spin):
                spin.setValue(0)
            t.form.limit_spin.setValue(64)
            t.form.epochs_spin.setValue(1)
            t.form.data_edit.setText(case.path)
            t.name_edit.setText("fuzz")
            finished: list = []
            t.runFinished.connect(finished.append)
            if t.start():
                result["hang"] = not _wait(app, lambda: bool(finished) or not t.is_running(), 4 * WAIT_S)
        elif case.action == "open-window":
            _draw(w.draw.canvas, 1)
            _wait(app, lambda: False, 0.2)
        windows_messages = len(w.errors)
        result["stall_ms"] = round(stalls.worst * 1000)
        result["close_s"] = round(_closed(app, w), 2)
        if result["close_s"] > 10:
            result["hang"] = True
    result["dialogs"] = windows_messages + (len(handler.shown) - shown_before)
    result["unexpected"] = handler.shown[shown_before:]
    result["read_outside"] = bool(case.sentinel) and os.stat(case.sentinel).st_atime > 1_000_001
    result["payload_ran"] = any(Path(m).exists() for m in case.markers)
    result["peak_mb"] = round(memory.peak / 2**20)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def child_main(cases_file: str) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from PySide6.QtWidgets import QApplication

    from mnist_desk.ui.errors import ExceptionHandler

    spec = json.loads(Path(cases_file).read_text())
    cases = [WindowCase(**c) for c in spec["cases"]]
    app = QApplication.instance() or QApplication([])
    handler = ExceptionHandler().install()
    stalls, memory = _Stalls(), _PeakMemory()
    for case in cases:
        print("START " + case.name, flush=True)
        try:
            out = run_case(app, handler, stalls, memory, case, Path(spec["clean_home"]))
        except MemoryError as exc:
            out = {"name": case.name, "memory_error": str(exc)}
        print("RESULT " + json.dumps(out), flush=True)
    return 0


def as_json(cases: list[WindowCase]) -> list[dict]:
    return [dataclasses.asdict(c) for c in cases]


# ============================================================================ driving the child (in the benchmark)
def run_all(cases: list[WindowCase], scratch: Path, case_timeout_s: float = 150.0, verbose: bool = False) -> list[dict]:
    """Run each case in a fresh child process (its memory is that case's alone, as for a user who opens that
    file in a new window); a child that dies or stops answering is recorded as a crash or a hang."""
    import subprocess

    results: list[dict] = []
    for i, case in enumerate(cases):
        spec = scratch / f"case-{i}.json"
        home = scratch / f"clean-home-{i}"
        home.mkdir(parents=True, exist_ok=True)
        spec.write_text(json.dumps({"cases": as_json([case]), "clean_home": str(home)}))
        try:
            proc = subprocess.run([sys.executable, "-m", "tests.fuzz.window", str(spec)], capture_output=True, text=True,
                                  timeout=case_timeout_s, cwd=Path(__file__).resolve().parents[2])
        except subprocess.TimeoutExpired:
            results.append({"name": case.name, "hang": True, "killed": "no answer in time"})
            continue
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if lines:
            results.append(json.loads(lines[-1][7:]))
        else:
            results.append({"name": case.name, "crash": True, "returncode": proc.returncode,
                            "stderr": proc.stderr[-400:]})
        if verbose:
            print("  window", json.dumps(results[-1])[:240], flush=True)
    return results


def summarise(results: list[dict]) -> dict:
    def bad(r, key):
        return bool(r.get(key))

    worst = max(results, key=lambda r: r.get("peak_mb", 0), default={})
    return {
        "window cases": len(results),
        "window crashes": sum(bad(r, "crash") or bool(r.get("unexpected")) for r in results),
        "hangs": sum(bad(r, "hang") for r in results),
        "dialog floods": sum(r.get("dialogs", 0) > 1 for r in results),
        "over memory cap": sum(bad(r, "memory_error") or r.get("peak_mb", 0) > MEMORY_CAP_MB for r in results),
        "payloads run": sum(bad(r, "payload_ran") for r in results),
        "files read outside the given file": sum(bad(r, "read_outside") for r in results),
        "window failed to open": sum(r.get("opened") is False for r in results),
        "digits lost": sum(r.get("digits_lost", 0) for r in results),
        "peak MB": worst.get("peak_mb", 0),
        "worst case": worst.get("name", ""),
        "max GUI stall ms": max((r.get("stall_ms", 0) for r in results), default=0),
        "stalled case": max(results, key=lambda r: r.get("stall_ms", 0), default={}).get("name", ""),
    }


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))
