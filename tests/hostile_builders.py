"""Real hostile files, and a check that each is refused without its payload running.

Shared by ``tests/test_hostile_files.py`` and ``benchmarks/fuzz.py``. Every builder writes one file
(or folder) into a scratch folder and returns a :class:`Hostile`: where it is, which loader should
refuse it, the marker files whose appearance would prove its payload ran, and what the refusal
message should say. :func:`check` runs the loader and reports whether the file was refused with the
documented error, how long that took, and whether the payload ran (a marker appeared, a process was
spawned, or Keras' safe mode was switched off).

Payloads only ever create a marker file in the scratch folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from mnist_desk.core.errors import DataError, ImageError, ModelFileError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
BOMB_BYTES = 4_000_000_000  # what a zip bomb inflates to (fits a plain, non-zip64 header)


@dataclass
class Hostile:
    name: str
    path: Path
    loader: str  # "model", "data" or "image"
    markers: tuple[Path, ...] = ()
    expect: str = ""  # a regular expression the refusal message must match (case-insensitive)
    max_seconds: float = 5.0
    import_path: Path | None = None  # put on sys.path while loading (a module the file names is there)
    # Why the file carries no payload marker (a memory bomb has no code to run); empty for those that do.
    no_payload: str = ""
    search_name: str = ""  # a file name a payload would write somewhere: searched for under the scratch folder


@dataclass
class Result:
    name: str
    refused: bool
    message: str
    payload_ran: bool
    seconds: float
    problem: str | None = None


# ============================================================================ small helpers
def payload_command(marker: Path) -> str:
    """Python source of an expression that creates ``marker`` (through the shell, as real payloads do)."""
    if os.name == "posix":
        return f"__import__('os').system({('touch ' + shlex.quote(str(marker)))!r})"
    return f"open({str(marker)!r}, 'w').close()"


class CreateMarker:
    """Pickles to a call that creates the marker file when unpickled (``open(marker, 'w')``)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _affine_crc_step():
    """crc32 over one zero byte, as an affine map on the 32-bit state: (columns, constant)."""
    const = zlib.crc32(b"\0", 0)
    cols = [zlib.crc32(b"\0", 1 << i) ^ const for i in range(32)]
    return cols, const


def _apply(cols, const, v: int) -> int:
    out = const
    i = 0
    while v:
        if v & 1:
            out ^= cols[i]
        v >>= 1
        i += 1
    return out


def _compose(a, b):
    """a after b."""
    (ca, ka), (cb, kb) = a, b
    cols = [_apply(ca, 0, c) for c in cb]
    return cols, _apply(ca, ka, kb)


def crc32_of_zeros(n: int, start: int = 0) -> int:
    """zlib.crc32(bytes(n), start) without touching n bytes (square-and-multiply of the affine step)."""
    result = ([1 << i for i in range(32)], 0)  # identity
    step = _affine_crc_step()
    while n:
        if n & 1:
            result = _compose(step, result)
        step = _compose(step, step)
        n >>= 1
    return _apply(result[0], result[1], start)


def deflate_zeros(prefix: bytes, n_zeros: int, chunk: int = 1 << 20) -> bytes:
    """A raw deflate stream of ``prefix`` then ``n_zeros`` zero bytes, built without inflating it.

    After a full flush the compressor starts afresh, so every 1 MiB of zeros compresses to the same
    bytes: compress one, repeat it.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    n_blocks, rest = divmod(n_zeros, chunk)
    tail = c.compress(bytes(rest)) + c.flush()
    return head + block * n_blocks + tail


def forged_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand: (name, stored data, method, crc, declared uncompressed size) per member."""
    out = io.BytesIO()
    central = []
    for name, data, method, crc, usize in members:
        offset = out.tell()
        fname = name.encode("utf-8")
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x5821, crc, len(data), usize, len(fname), 0))
        out.write(fname)
        out.write(data)
        central.append(
            struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x5821, crc, len(data), usize,
                        len(fname), 0, 0, 0, 0, 0, offset) + fname
        )
    cd_offset = out.tell()
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), cd_offset, 0))
    return out.getvalue()


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data))


def npy_header(shape: tuple, descr: str = "|u1") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


# ============================================================================ model files
def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def clean_model_archive(folder: Path) -> dict[str, bytes]:
    """The members of a genuine tiny model saved by the store (the base the forgeries start from)."""
    from mnist_desk.core import registry, store

    path = folder / f"clean-{uuid.uuid4().hex[:8]}.keras"
    store.save_model(registry.build_model("linear", seed=0), {"arch": "linear"}, path=path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    path.unlink()
    path.with_suffix(".json").unlink(missing_ok=True)
    return members


def write_archive(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def with_config(members: dict[str, bytes], edit: Callable[[dict], None]) -> dict[str, bytes]:
    cfg = json.loads(members["config.json"])
    edit(cfg)
    out = dict(members)
    out["config.json"] = json.dumps(cfg).encode()
    return out


def _layer(cfg: dict, name: str) -> dict:
    for layer in cfg["config"]["layers"]:
        if layer["config"].get("name") == name:
            return layer
    raise KeyError(name)


def lambda_model(marker: Path):
    """A model of our shape with a Lambda layer whose function runs a shell command (creating ``marker``)."""
    keras = _keras()
    fn = eval(f"lambda x: ({payload_command(marker)}, x)[1]")  # noqa: S307 - the payload under test
    inp = keras.Input(shape=(28, 28, 1), name="image")
    x = keras.layers.Lambda(fn, name="evil")(inp)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(10, name="logits")(x)
    out = keras.layers.Activation("softmax", name="probabilities")(logits)
    model = keras.Model(inp, out, name="linear")
    marker.unlink(missing_ok=True)  # building the model ran the lambda once; only loading counts
    return model


def build_lambda_keras(folder: Path) -> Hostile:
    marker = folder / "MARKER_lambda_keras"
    model = lambda_model(marker)
    path = folder / "lambda_os_system.keras"
    model.save(path)
    marker.unlink(missing_ok=True)
    return Hostile("keras: Lambda calling os.system", path, "model", (marker,), r"lambda|keras\.layers\.lambda")


def build_lambda_h5(folder: Path) -> Hostile:
    marker = folder / "MARKER_lambda_h5"
    model = lambda_model(marker)
    path = folder / "lambda_os_system.h5"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)  # legacy HDF5 (CVE-2025-9905 was a safe_mode bypass in this loader)
    marker.unlink(missing_ok=True)
    return Hostile("legacy .h5 with a Lambda", path, "model", (marker,), r"legacy.*\.h5|\.h5.*legacy")


def build_h5_named_keras(folder: Path) -> Hostile:
    src = build_lambda_h5(folder)
    path = folder / "legacy_in_disguise.keras"
    path.write_bytes(src.path.read_bytes())
    return Hostile("legacy .h5 named .keras", path, "model", src.markers, r"legacy|hdf5")


def build_zip_named_h5(folder: Path) -> Hostile:
    """A .keras archive with a Lambda payload, named .h5: Keras would pick its legacy HDF5 loader by the name."""
    marker = folder / "MARKER_zip_named_h5"
    model = lambda_model(marker)
    path = folder / "archive_named.h5"
    model.save(folder / "archive_named.keras")
    (folder / "archive_named.keras").rename(path)
    marker.unlink(missing_ok=True)
    return Hostile("zip archive named .h5", path, "model", (marker,), r"legacy|\.h5")


def build_hdf5_signature(folder: Path) -> Hostile:
    path = folder / "signature_only.keras"
    path.write_bytes(HDF5_SIGNATURE + bytes(504))
    return Hostile("HDF5 signature in a .keras", path, "model", (), r"legacy|hdf5",
                   no_payload="a bare signature and zeros (the .h5 payload is in 'legacy .h5 named .keras')")


_EXEC_FN = {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"}


def build_builtins_exec_activation(folder: Path) -> Hostile:
    members = with_config(clean_model_archive(folder), lambda c: _layer(c, "probabilities")["config"].__setitem__("activation", dict(_EXEC_FN)))
    path = write_archive(folder / "builtins_exec_activation.keras", members)
    return Hostile("config: builtins.exec activation", path, "model", (), r"builtins|function|not allow",
                   no_payload="Keras would call exec with a tensor: no code of the file's choosing")


def build_builtins_exec_initializer(folder: Path) -> Hostile:
    members = with_config(clean_model_archive(folder), lambda c: _layer(c, "logits")["config"].__setitem__("kernel_initializer", dict(_EXEC_FN)))
    path = write_archive(folder / "builtins_exec_initializer.keras", members)
    return Hostile("config: builtins.exec initializer", path, "model", (), r"builtins|function|not allow",
                   no_payload="Keras would call exec with a shape: no code of the file's choosing")


def build_custom_module(folder: Path) -> Hostile:
    """A layer from an unknown module (which creates the marker when imported) with a custom registered name."""
    marker = folder / "MARKER_custom_module"
    modname = f"mnist_desk_evil_{uuid.uuid4().hex[:8]}"
    moddir = folder / "evil_modules"
    moddir.mkdir(exist_ok=True)
    (moddir / f"{modname}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")

    def edit(c):
        layer = _layer(c, "flatten")
        layer["module"] = modname
        layer["class_name"] = "MyLayer"
        layer["registered_name"] = "MyLayer>Evil"

    path = write_archive(folder / "custom_module.keras", with_config(clean_model_archive(folder), edit))
    return Hostile("config: custom MyLayer>Evil", path, "model", (marker,), r"mylayer|custom|evil", import_path=moddir)


def build_unsafe_toggle(folder: Path) -> Hostile:
    """CVE-2025-9906 shape: a config that calls keras.config.enable_unsafe_deserialization, then a Lambda."""
    marker = folder / "MARKER_unsafe_toggle"
    lam = lambda_model(marker)
    base = clean_model_archive(folder)
    tmp = folder / "lambda_for_toggle.keras"
    lam.save(tmp)
    marker.unlink(missing_ok=True)
    with zipfile.ZipFile(tmp) as zf:
        evil_lambda = _layer(json.loads(zf.read("config.json")), "evil")
    tmp.unlink()

    def edit(c):
        _layer(c, "flatten")["config"]["activation"] = {
            "module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization", "registered_name": "function"}
        c["config"]["layers"].insert(1, evil_lambda)

    path = write_archive(folder / "unsafe_toggle.keras", with_config(base, edit))
    return Hostile("config: enable_unsafe_deserialization", path, "model", (marker,), r"not allow|not one of|refus")


def evil_savedmodel(path: Path, marker: Path) -> Path:
    """A real SavedModel whose ``serve`` endpoint writes ``marker`` (a graph op: no Python needed to run it)."""
    _keras()
    import tensorflow as tf

    class Evil(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        def serve(self, x):
            tf.io.write_file(str(marker), "payload ran")
            return tf.reshape(x, [-1, 784])

    module = Evil()
    tf.saved_model.save(module, str(path), signatures={"serve": module.serve})
    return path


def build_tfsm_layer(folder: Path) -> Hostile:
    marker = folder / "MARKER_tfsm_layer"
    saved = evil_savedmodel(folder / "evil_savedmodel", marker)

    def edit(c):
        layer = _layer(c, "flatten")
        layer["class_name"] = "TFSMLayer"
        layer["config"] = {"name": "flatten", "filepath": str(saved), "call_endpoint": "serve"}

    path = write_archive(folder / "tfsm_layer.keras", with_config(clean_model_archive(folder), edit))
    return Hostile("config: TFSMLayer (loads a SavedModel)", path, "model", (marker,), r"tfsmlayer|not one of")


def build_path_traversal(folder: Path) -> Hostile:
    name = f"mnist_desk_evil_{uuid.uuid4().hex[:8]}.txt"
    members = clean_model_archive(folder)
    members[f"../../{name}"] = b"written outside the extraction folder"
    path = write_archive(folder / "path_traversal.keras", members)
    places = {folder, folder.parent, folder.parent.parent, Path.cwd(), Path.cwd().parent, Path.cwd().parent.parent}
    # check() extracts-to-temp inside the scratch folder and searches all of it for ``name``, wherever a
    # loader (naive or sanitising) would have written the member.
    return Hostile("keras: ../../ member", path, "model", tuple(p / name for p in places), r"unsafe path|\.\./",
                   search_name=name)


def build_absolute_member(folder: Path) -> Hostile:
    name = f"mnist_desk_evil_{uuid.uuid4().hex[:8]}.txt"
    target = Path(tempfile.gettempdir()) / name
    members = clean_model_archive(folder)
    members[str(target)] = b"written to an absolute path"
    path = write_archive(folder / "absolute_member.keras", members)
    return Hostile("keras: absolute-path member", path, "model", (target,), r"unsafe path|unexpected member",
                   search_name=name)


def build_extra_member(folder: Path) -> Hostile:
    marker = folder / "MARKER_extra_member"
    members = clean_model_archive(folder)
    members["evil.py"] = f"{payload_command(marker)}\n".encode()
    path = write_archive(folder / "extra_member.keras", members)
    return Hostile("keras: unexpected member", path, "model", (marker,), r"unexpected member", search_name="evil.py")


def build_keras_zip_bomb(folder: Path) -> Hostile:
    members = clean_model_archive(folder)
    bomb = deflate_zeros(b"", BOMB_BYTES)
    entries = [stored(n, members[n]) for n in ("metadata.json", "config.json")]
    entries.append(("model.weights.h5", bomb, zipfile.ZIP_DEFLATED, crc32_of_zeros(BOMB_BYTES), BOMB_BYTES))
    path = folder / "zip_bomb.keras"
    path.write_bytes(forged_zip(entries))
    return Hostile("keras: 4 GB zip bomb", path, "model", (), r"inflate|refus", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_keras_lying_bomb(folder: Path) -> Hostile:
    """The weights member claims its real size but its stream inflates to 4 GB."""
    members = clean_model_archive(folder)
    w = members["model.weights.h5"]
    bomb = deflate_zeros(w, BOMB_BYTES)
    entries = [stored(n, members[n]) for n in ("metadata.json", "config.json")]
    entries.append(("model.weights.h5", bomb, zipfile.ZIP_DEFLATED, zlib.crc32(w), len(w)))
    path = folder / "lying_zip_bomb.keras"
    path.write_bytes(forged_zip(entries))
    return Hostile("keras: bomb with a lying header", path, "model", (), r"more compressed data|damaged|truncated", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_huge_config(folder: Path) -> Hostile:
    """A 50 KB model whose config asks Keras to build a Dense layer with 10 billion weights."""

    def edit(c):
        _layer(c, "logits")["build_config"]["input_shape"] = [None, 10**9]

    path = write_archive(folder / "huge_config.keras", with_config(clean_model_archive(folder), edit))
    return Hostile("keras: config declaring 10^10 weights", path, "model", (), r"declares .* weights|claims an input of shape", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_h5_shape_bomb(folder: Path) -> Hostile:
    """A weights file whose kernel dataset declares 3.9 GB (just under Keras' own 4 GiB guard) and stores nothing."""
    import h5py

    members = clean_model_archive(folder)
    src = h5py.File(io.BytesIO(members["model.weights.h5"]), "r")
    buf = io.BytesIO()
    with h5py.File(buf, "w") as dst:
        for key in src.attrs:
            dst.attrs[key] = src.attrs[key]

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                g = dst.require_group(name)
                for key in obj.attrs:
                    g.attrs[key] = obj.attrs[key]
            elif obj.shape == (784, 10):  # the Dense kernel (stored as layers/dense/vars/0)
                dst.create_dataset(name, shape=(975_000, 1000), dtype="f4", chunks=(1000, 1000), compression="gzip")
            else:
                dst.create_dataset(name, data=obj[()])

        src.visititems(copy)
    src.close()
    members["model.weights.h5"] = buf.getvalue()
    path = write_archive(folder / "h5_shape_bomb.keras", members)
    return Hostile("keras: HDF5 shape bomb (3.9 GB)", path, "model", (), r"declares|weights", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_savedmodel(folder: Path) -> Hostile:
    marker = folder / "MARKER_savedmodel"
    path = evil_savedmodel(folder / "saved_model_dir", marker)
    return Hostile("TensorFlow SavedModel folder", path, "model", (marker,), r"savedmodel")


def build_savedmodel_named_keras(folder: Path) -> Hostile:
    marker = folder / "MARKER_savedmodel_named_keras"
    path = evil_savedmodel(folder / "savedmodel_dir.keras", marker)
    (path / "config.json").write_text("{}")
    return Hostile("SavedModel folder named .keras", path, "model", (marker,), r"savedmodel|folder")


# ============================================================================ data files
def build_npz_pickle(folder: Path) -> Hostile:
    marker = folder / "MARKER_npz_pickle"
    obj = np.empty(1, dtype=object)
    obj[0] = CreateMarker(marker)
    path = folder / "pickled.npz"
    np.savez(path, x_train=obj, y_train=np.zeros(1, np.uint8))  # np.save pickles object arrays by default
    return Hostile(".npz holding a pickled object", path, "data", (marker,), r"pickle")


def build_pickle_named_npz(folder: Path) -> Hostile:
    import pickle  # noqa: S403 - building the hostile file, never loading one

    marker = folder / "MARKER_pickle_named_npz"
    path = folder / "plain_pickle.npz"
    path.write_bytes(pickle.dumps(CreateMarker(marker)))
    return Hostile("a raw pickle named .npz", path, "data", (marker,), r"not a valid \.npz")


def build_npz_zip_bomb(folder: Path) -> Hostile:
    head = npy_header((BOMB_BYTES // 784 + 1, 28, 28))
    n_zeros = BOMB_BYTES - len(head)
    crc = crc32_of_zeros(n_zeros, zlib.crc32(head))
    entries = [("x_train.npy", deflate_zeros(head, n_zeros), zipfile.ZIP_DEFLATED, crc, BOMB_BYTES),
               stored("y_train.npy", npy(np.zeros(3, np.uint8)))]
    path = folder / "zip_bomb.npz"
    path.write_bytes(forged_zip(entries))
    return Hostile(".npz: 4 GB zip bomb", path, "data", (), r"inflate|refus", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_npz_lying_bomb(folder: Path) -> Hostile:
    real = npy(np.zeros((3, 28, 28), np.uint8))
    entries = [("x_train.npy", deflate_zeros(real, BOMB_BYTES), zipfile.ZIP_DEFLATED, zlib.crc32(real), len(real)),
               stored("y_train.npy", npy(np.zeros(3, np.uint8)))]
    path = folder / "lying_zip_bomb.npz"
    path.write_bytes(forged_zip(entries))
    return Hostile(".npz: bomb with a lying header", path, "data", (), r"more compressed data|corrupt|truncated", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_npz_shape_bomb(folder: Path) -> Hostile:
    body = npy_header((10**12, 28, 28)) + bytes(3 * 784)
    entries = [stored("x_train.npy", body), stored("y_train.npy", npy(np.zeros(3, np.uint8)))]
    path = folder / "shape_bomb.npz"
    path.write_bytes(forged_zip(entries))
    return Hostile(".npz: header claiming 713 TiB", path, "data", (), r"claims shape|holds only|more than the .* allowed", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


def build_idx_count_bomb(folder: Path) -> Hostile:
    d = folder / "idx_bomb"
    d.mkdir()
    (d / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 1_999_999, 28, 28) + bytes(3 * 784))
    (d / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 3) + bytes(3))
    return Hostile("IDX header claiming 1.5 GB", d / "train-images-idx3-ubyte", "data", (), r"truncated|more than the .* allowed", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


# ============================================================================ images
def build_eps_as_png(folder: Path) -> Hostile:
    """PostScript named .png: Pillow would identify it by content and run Ghostscript on it, which (without
    -dSAFER) writes the marker file with PostScript's own file operator."""
    marker = folder / "MARKER_eps_as_png"
    path = folder / "digit.png"
    path.write_bytes(
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n"
        b"(" + str(marker).encode() + b") (w) file dup (payload ran) writestring closefile\n"
        b"0 setgray 4 4 20 20 rectfill\nshowpage\n%%EOF\n"
    )
    return Hostile("PostScript (EPS) named .png", path, "image", (marker,), r"not an image")


def build_png_dims_bomb(folder: Path) -> Hostile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buf, "PNG")
    b = bytearray(buf.getvalue())
    b[16:24] = struct.pack(">II", 65535, 65535)
    b[29:33] = struct.pack(">I", zlib.crc32(bytes(b[12:29])))
    path = folder / "huge_dims.png"
    path.write_bytes(bytes(b))
    return Hostile("PNG claiming 65535x65535", path, "image", (), r"large|allowed", max_seconds=2.0,
                   no_payload="a memory bomb: judged by the memory and time it takes, no code in it")


BUILDERS: tuple[Callable[[Path], Hostile], ...] = (
    build_lambda_keras,
    build_lambda_h5,
    build_h5_named_keras,
    build_zip_named_h5,
    build_hdf5_signature,
    build_builtins_exec_activation,
    build_builtins_exec_initializer,
    build_custom_module,
    build_unsafe_toggle,
    build_tfsm_layer,
    build_path_traversal,
    build_absolute_member,
    build_extra_member,
    build_keras_zip_bomb,
    build_keras_lying_bomb,
    build_huge_config,
    build_h5_shape_bomb,
    build_savedmodel,
    build_savedmodel_named_keras,
    build_npz_pickle,
    build_pickle_named_npz,
    build_npz_zip_bomb,
    build_npz_lying_bomb,
    build_npz_shape_bomb,
    build_idx_count_bomb,
    build_eps_as_png,
    build_png_dims_bomb,
)


def build_all(folder: Path) -> list[Hostile]:
    out = []
    for i, builder in enumerate(BUILDERS):
        sub = Path(folder) / f"h{i:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        out.append(builder(sub))
    return out


# ============================================================================ checking
def loader_for(kind: str) -> tuple[Callable[[Path], object], tuple[type, ...]]:
    if kind == "model":
        from mnist_desk.core import store

        return store.load_model, (ModelFileError,)
    if kind == "data":
        from mnist_desk.core import data

        return data.load_dataset, (DataError,)
    if kind == "image":
        from mnist_desk.core.preprocess import load_image_file, prepare_drawing

        return (lambda p: prepare_drawing(load_image_file(p))), (ImageError,)
    raise ValueError(kind)


@contextlib.contextmanager
def spawn_spy():
    """Record every process started (Ghostscript, a shell...) while loading."""
    spawned: list = []
    real_popen_init = subprocess.Popen.__init__

    def spy(self, args, *a, **k):
        spawned.append(args)
        return real_popen_init(self, args, *a, **k)

    subprocess.Popen.__init__ = spy
    real_system = os.system
    os.system = lambda cmd: (spawned.append(cmd), real_system(cmd))[1]
    try:
        yield spawned
    finally:
        subprocess.Popen.__init__ = real_popen_init
        os.system = real_system


def _keras_safe_mode_switched_off() -> bool:
    if "keras" not in sys.modules:
        return False
    from keras.src.backend.common import global_state

    return global_state.get_global_attribute("safe_mode_saving") is False


def check(h: Hostile) -> Result:
    """Load ``h`` with its loader; refused cleanly, quickly, and nothing ran?"""
    from tests.fuzz.harness import CallTimeout, time_limit

    for m in h.markers:
        m.unlink(missing_ok=True)
    load, allowed = loader_for(h.loader)
    before = set(sys.modules)
    # A loader's temporary folders go inside the scratch folder, three levels down, so a member written
    # through "../../" still lands where the search below looks.
    scratch = h.path.parent
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(scratch / "tmp" / "a" / "b")
    Path(tempfile.tempdir).mkdir(parents=True, exist_ok=True)
    if h.import_path is not None:
        sys.path.insert(0, str(h.import_path))
    refused, message, problem = False, "", None
    t0 = time.perf_counter()
    try:
        with spawn_spy() as spawned, time_limit(max(h.max_seconds * 4, 20.0)):
            try:
                load(h.path)
                message = "loaded without error"
            except allowed as exc:
                refused, message = True, str(exc)
            except CallTimeout:
                message = "hung"
            except Exception as exc:  # noqa: BLE001 - an undocumented error is a problem, not a refusal
                message = f"{type(exc).__name__}: {exc}"
                problem = f"escaped as {type(exc).__name__}"
    finally:
        tempfile.tempdir = saved_tempdir
        if h.import_path is not None:
            sys.path.remove(str(h.import_path))
        for name in set(sys.modules) - before:
            if name.startswith("mnist_desk_evil_"):
                del sys.modules[name]
    seconds = time.perf_counter() - t0
    written = [p for p in scratch.rglob(h.search_name) if p != h.path] if h.search_name else []
    ran = any(m.exists() for m in h.markers) or bool(written) or bool(spawned) or _keras_safe_mode_switched_off()
    if problem is None:
        if not refused:
            problem = f"not refused ({message})"
        elif h.expect and not re.search(h.expect, message, re.IGNORECASE | re.DOTALL):
            problem = f"refused, but the message does not say why ({message})"
        elif seconds > h.max_seconds:
            problem = f"refused only after {seconds:.1f} s"
    if ran:
        problem = "PAYLOAD RAN" + (f"; {problem}" if problem else "")
    for m in h.markers:
        m.unlink(missing_ok=True)
    return Result(h.name, refused, message, ran, seconds, problem)


def check_all(hostiles: list[Hostile]) -> list[Result]:
    return [check(h) for h in hostiles]
