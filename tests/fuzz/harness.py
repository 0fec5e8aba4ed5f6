"""Seed files, mutations and a guarded runner, shared by ``tests/fuzz`` and ``benchmarks/fuzz.py``.

Seeds are *real* small files built from the shipped MNIST copy (IDX raw and gzipped, .npz plain and
compressed, CSV, PNG/JPEG/BMP/GIF/TIFF pictures) and a tiny ``linear`` model saved with the store.
A mutation turns a seed into a damaged or forged input: truncation, bit flips, header overwrites,
forged huge dimension fields, an empty file, a folder instead of a file, random bytes under the
right name, and format-aware mutations of what is inside a container (the members of a zip, the
stream of a gzip file, the JSON of a model config, the cells of a CSV, the dtype of an array),
re-packed with valid checksums so that the parsers behind the checksums are reached too.

:func:`run_guarded` calls a loader and classifies the outcome:

``ok``     the loader returned, and what it returned is well formed;
``clean``  it raised one of the documented errors (DataError/ImageError, ModelFileError, EmptyDrawing);
``crash``  any other exception escaped, or a result was malformed;
``hang``   it ran past the per-call time limit;
``alloc``  it allocated (or tried to allocate) far more memory than the input justifies.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
import os
import random
import shutil
import signal
import struct
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mnist_desk.core.errors import DataError, EmptyDrawing, ImageError, ModelFileError

DIRECTORY = "<directory>"  # a mutation result meaning: put a folder where the file should be

# Per call: generous for a shared 2-core machine, far below what a hang or a bomb takes.
TIME_LIMIT_S = 20.0
# Python-visible allocations (numpy, bytes, lists) a call on a seed-sized input may make.
TRACED_LIMIT_BYTES = 128 * 1024 * 1024
# Pictures: prepare_drawing's _resample pads the whole ink image out to the crop box, so a thin, tall
# picture (2 x 2048 after loading) costs up to ~210 MiB of float copies - bounded, because
# load_image_file shrinks pictures to 2048 px; cropping before padding would make it tiny.
IMAGE_TRACED_LIMIT_BYTES = 256 * 1024 * 1024
# Growth of the process' peak resident memory (catches TensorFlow's and Pillow's C allocations).
RSS_LIMIT_BYTES = 512 * 1024 * 1024

N_TRAIN, N_TEST = 24, 8
N_CSV = 6


# ====================================================================================== seeds
def idx_bytes(arr: np.ndarray) -> bytes:
    magic = 2051 if arr.ndim == 3 else 2049
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(np.uint8).tobytes()


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return buf.getvalue()


def zip_members(data: bytes) -> tuple[dict[str, bytes], int]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        return {i.filename: zf.read(i) for i in infos}, (infos[0].compress_type if infos else zipfile.ZIP_STORED)


def npz_bytes(arrays: dict[str, np.ndarray], compressed: bool) -> bytes:
    return zip_bytes({f"{k}.npy": npy_bytes(v) for k, v in arrays.items()},
                     zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED)


def csv_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    lines = ["label," + ",".join(f"pixel{i}" for i in range(784))]
    lines += [f"{int(lab)}," + ",".join(str(int(v)) for v in img.ravel()) for img, lab in zip(x, y)]
    return ("\n".join(lines) + "\n").encode()


def digit_picture(digit: np.ndarray, side: int = 112) -> np.ndarray:
    """An MNIST digit as a photo-like picture: black ink on white, ``side`` px."""
    from PIL import Image

    big = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    return 255 - np.asarray(big)


def image_bytes(picture: np.ndarray, fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    im = Image.fromarray(picture)
    if fmt == "png":
        im.save(buf, "PNG")
    elif fmt == "png_rgba":
        rgba = np.zeros(picture.shape + (4,), np.uint8)
        rgba[..., 3] = 255 - picture  # black ink on a transparent background
        Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    elif fmt == "png16":
        Image.fromarray(picture.astype(np.uint16) * 257).save(buf, "PNG")
    elif fmt == "jpeg":
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate, so exif_transpose has work to do
        im.convert("RGB").save(buf, "JPEG", quality=90, exif=exif.tobytes())
    elif fmt == "bmp":
        im.save(buf, "BMP")
    elif fmt == "gif":
        im.save(buf, "GIF")
    elif fmt == "tiff":
        im.save(buf, "TIFF")
    else:  # pragma: no cover
        raise ValueError(fmt)
    return buf.getvalue()


def keras_seed_bytes(folder: Path) -> bytes:
    """A tiny ``linear`` model saved by the store, as bytes."""
    from mnist_desk.core import registry, store

    model = registry.build_model("linear", seed=0)
    path = store.save_model(model, {"arch": "linear", "hparams": {}}, path=Path(folder) / "seed_linear.keras")
    return path.read_bytes()


@dataclass
class Seeds:
    files: dict[str, bytes]
    sample_image: np.ndarray  # float32 (28,28) in [0,1], to run a loaded model on

    @classmethod
    def build(cls, folder: Path, with_model: bool = True) -> "Seeds":
        from mnist_desk.core import data

        ds = data.load_mnist()
        xtr, ytr = ds.x_train[:N_TRAIN], ds.y_train[:N_TRAIN]
        xte, yte = ds.x_test[:N_TEST], ds.y_test[:N_TEST]
        arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}
        picture = digit_picture(ds.x_test[0])
        files = {
            "idx_images": idx_bytes(xtr),
            "idx_labels": idx_bytes(ytr),
            "idx_test_images": idx_bytes(xte),
            "idx_test_labels": idx_bytes(yte),
            "npz": npz_bytes(arrays, compressed=False),
            "npz_compressed": npz_bytes(arrays, compressed=True),
            "csv": csv_bytes(xtr[:N_CSV], ytr[:N_CSV]),
        }
        for fmt in ("png", "png_rgba", "png16", "jpeg", "bmp", "gif", "tiff"):
            files[fmt] = image_bytes(picture, fmt)
        if with_model:
            files["keras"] = keras_seed_bytes(folder)
        return cls(files, ds.x_test[0].astype(np.float32) / 255.0)


# ================================================================================== mutations
SPECIAL_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)


def m_truncate(b: bytes, rng: random.Random) -> bytes:
    return b[: rng.randrange(len(b))] if b else b


def m_flip(b: bytes, rng: random.Random) -> bytes:
    if not b:
        return b
    out = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def m_header(b: bytes, rng: random.Random) -> bytes:
    """Overwrite a few bytes among the first 64 (magic numbers, sizes, dimension fields)."""
    if not b:
        return b
    out = bytearray(b)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(min(len(out), 64))
        out[i] = rng.choice(SPECIAL_BYTES) if rng.random() < 0.6 else rng.randrange(256)
    return bytes(out)


def m_overwrite(b: bytes, rng: random.Random) -> bytes:
    if not b:
        return b
    i = rng.randrange(len(b))
    n = rng.randint(1, 64)
    fill = rng.choice([bytes([rng.choice(SPECIAL_BYTES)]) * n, rng.randbytes(n)])
    return b[:i] + fill + b[i + n :]


def m_insert(b: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(b) + 1)
    return b[:i] + rng.randbytes(rng.randint(1, 256)) + b[i:]


def m_delete(b: bytes, rng: random.Random) -> bytes:
    if not b:
        return b
    i = rng.randrange(len(b))
    return b[:i] + b[i + rng.randint(1, 256) :]


def m_splice(b: bytes, rng: random.Random) -> bytes:
    """Copy a chunk of the file over another place (repeated headers, shifted structures)."""
    if len(b) < 2:
        return b
    i, j = rng.randrange(len(b)), rng.randrange(len(b))
    chunk = b[i : i + rng.randint(1, 512)]
    return b[:j] + chunk + b[j + len(chunk) :]


def m_zero(b: bytes, rng: random.Random) -> bytes:
    return b""


def m_random(b: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([1, 7, 64, 512, 4096, 40_000]))


BYTE_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncate": m_truncate,
    "flip": m_flip,
    "header": m_header,
    "overwrite": m_overwrite,
    "insert": m_insert,
    "delete": m_delete,
    "splice": m_splice,
}
# Mutations applied to a payload inside a container, re-packed with valid checksums.
INNER_MUTATIONS = ("truncate", "flip", "header", "overwrite", "insert", "delete", "splice")

HUGE_COUNTS = (0xFFFFFFFF, 0x7FFFFFFF, 2_000_000, 1_999_999, 10**9, 0)


# ---------------------------------------------------------------------------------- IDX
def huge_idx(b: bytes, rng: random.Random) -> bytes:
    out = bytearray(b)
    if len(out) < 8:
        return bytes(out)
    ndim = out[3]
    field_i = rng.randrange(max(1, min(ndim, (len(out) - 4) // 4)))
    value = rng.choice(HUGE_COUNTS + (rng.randrange(N_TRAIN + 1, 2**32),)) if field_i == 0 else rng.choice((0, 1, 0xFFFFFFFF, 27, 29, 784))
    out[4 + 4 * field_i : 8 + 4 * field_i] = struct.pack(">I", value)
    if rng.random() < 0.2:
        out[3] = rng.choice((0, 2, 4, 255))  # the number of dimensions
    return bytes(out)


# ---------------------------------------------------------------------------------- npy / npz
HUGE_SHAPES = (
    (10**12, 28, 28),
    (2_000_000, 28, 28),
    (1_999_999, 784),
    (2**62,),
    (2**31, 2**31, 28, 28),
    (2**32, 2**32),
    (N_TRAIN, 28, 28, 10**6),
    (0, 28, 28),
    (),
)
ODD_DESCRS = ("<f8", "<f2", "|b1", "<c8", "<c16", "<i8", ">u2", "<U100000000", "|V1000000000", "|O", "<M8[s]", "<m8[s]", "|S3")


def npy_split(b: bytes) -> tuple[dict, bytes]:
    """(header dict, body) of an .npy file; raises ValueError if it is not one."""
    f = io.BytesIO(b)
    version = np.lib.format.read_magic(f)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = reader(f)
    return {"shape": shape, "fortran_order": fortran, "descr": np.lib.format.dtype_to_descr(dtype)}, b[f.tell() :]


def npy_with_header(header: dict, body: bytes) -> bytes:
    """Write a header dict verbatim (shape and descr may be nonsense) followed by ``body``."""
    text = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (header["descr"], header["fortran_order"], tuple(header["shape"]))
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + " " * pad + "\n"
    if len(text) < 65536:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1") + body
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text.encode("latin1") + body


def huge_npy(b: bytes, rng: random.Random) -> bytes:
    try:
        header, body = npy_split(b)
    except Exception:  # noqa: BLE001 - not an npy: forge one
        header, body = {"descr": "|u1", "fortran_order": False, "shape": (N_TRAIN, 28, 28)}, b
    roll = rng.random()
    if roll < 0.6:
        header["shape"] = rng.choice(HUGE_SHAPES)
    elif roll < 0.9:
        header["descr"] = rng.choice(ODD_DESCRS)
    else:
        header["shape"] = rng.choice(HUGE_SHAPES)
        header["descr"] = rng.choice(ODD_DESCRS)
    if rng.random() < 0.2:
        header["fortran_order"] = True
    return npy_with_header(header, body)


def _odd_images(rng: random.Random, k: int) -> np.ndarray:
    shape = rng.choice([(k, 28, 28), (k, 784), (k, 28, 28, 1), (k, 28, 28, 3), (k, 27, 28), (k,), (), (k, 1, 28, 28)])
    kind = rng.choice(["u1", "f4", "f8", "f2", "i8", "i1", ">u2", "?", "c8", "c16", "U3", "S3", "V4", "M8[s]", "m8[s]", "struct", "nanf", "neg", "big"])
    if kind == "struct":
        return np.zeros(shape, dtype=[("a", "u1"), ("b", "f4")])
    if kind == "nanf":
        a = np.full(shape, np.nan, np.float32)
        return a
    if kind == "neg":
        return np.full(shape, -1, np.int16)
    if kind == "big":
        return np.full(shape, 2**40, np.int64)
    vals = np.array([rng.randrange(256) for _ in range(16)])
    a = np.resize(vals, shape) if shape else np.array(vals[0])
    if kind in ("U3", "S3"):
        return a.astype(kind)
    if kind == "V4":
        return np.zeros(shape, "V4")
    return a.astype(kind)


def _odd_labels(rng: random.Random, k: int) -> np.ndarray:
    kind = rng.choice(["u1", "i8", "f4", "nan", "neg", "ten", "bool", "onehot", "onehot_str", "U1", "c8", "2d", "empty", "m8"])
    base = np.array([rng.randrange(10) for _ in range(k)], dtype=np.int64)
    if kind == "nan":
        return np.where(base > 4, np.nan, base).astype(np.float64)
    if kind == "neg":
        return (-base - 1).astype(np.int8)
    if kind == "ten":
        return (base + 10).astype(np.int64)
    if kind == "bool":
        return base.astype(bool)
    if kind == "onehot":
        return np.eye(10, dtype=np.float32)[base]
    if kind == "onehot_str":
        return np.eye(10)[base].astype("U1")
    if kind == "2d":
        return base.reshape(k, 1) if k else base.reshape(0, 1)
    if kind == "empty":
        return np.zeros((0,), np.uint8)
    if kind == "m8":
        return base.astype("m8[s]")
    return base.astype(kind)


def dtype_npz(b: bytes, rng: random.Random, compressed: bool) -> bytes:
    """A *valid* .npz whose arrays have odd dtypes and shapes (the checks after np.load)."""
    k = rng.choice([0, 1, 3, 5])
    arrays = {"x_train": _odd_images(rng, k), "y_train": _odd_labels(rng, k)}
    if rng.random() < 0.3:
        arrays["x_test"], arrays["y_test"] = _odd_images(rng, k), _odd_labels(rng, k)
    if rng.random() < 0.15:
        arrays = {"x": arrays["x_train"], "y": arrays["y_train"]}
    if rng.random() < 0.1:
        arrays = {"a": next(iter(arrays.values()))}
    return npz_bytes(arrays, compressed)


# ---------------------------------------------------------------------------------- zip
def zip_inner(b: bytes, rng: random.Random, inner: Callable[[bytes, random.Random], bytes], member: str | None = None) -> bytes:
    members, compression = zip_members(b)
    name = member if member in members else rng.choice(sorted(members))
    members[name] = inner(members[name], rng)
    return zip_bytes(members, compression)


def zip_members_mutation(b: bytes, rng: random.Random) -> bytes:
    """Drop, rename, duplicate or add members (central directory stays valid)."""
    members, compression = zip_members(b)
    names = sorted(members)
    roll = rng.random()
    if roll < 0.3 and names:
        del members[rng.choice(names)]
    elif roll < 0.6 and names:
        n = rng.choice(names)
        members[rng.choice(["x_train", "../x_train.npy", "/abs.npy", "a/b/c.npy", "config.json", "x" * 300, "é.npy", n + ".bak"])] = members.pop(n)
    elif roll < 0.8:
        members[rng.choice(["extra.npy", "evil.py", "assets/x.bin", "metadata.json"])] = rng.randbytes(rng.randint(0, 100))
    else:
        # many tiny members
        for i in range(rng.randint(10, 300)):
            members[f"m{i}.npy"] = b""
    return zip_bytes(members, compression)


# ---------------------------------------------------------------------------------- gzip
def gzip_inner(b: bytes, rng: random.Random, inner: Callable[[bytes, random.Random], bytes]) -> bytes:
    return gzip.compress(inner(gzip.decompress(b), rng), mtime=0)


# ---------------------------------------------------------------------------------- CSV
NASTY_CELLS = ("", "nan", "inf", "-inf", "1e309", "-1", "256", "3.5", "0x10", "1_0", " 7 ", "abc", "\x00", "9" * 400, "1e-400", '"5"', "10", "-0")


def csv_cells(b: bytes, rng: random.Random) -> bytes:
    lines = b.decode("utf-8", "replace").split("\n")
    for _ in range(rng.randint(1, 6)):
        li = rng.randrange(len(lines))
        cells = lines[li].split(",")
        roll = rng.random()
        if roll < 0.6:
            cells[rng.randrange(len(cells))] = rng.choice(NASTY_CELLS)
        elif roll < 0.8:
            del cells[rng.randrange(len(cells))]
        else:
            cells.insert(rng.randrange(len(cells) + 1), rng.choice(NASTY_CELLS))
        lines[li] = ",".join(cells)
    if rng.random() < 0.2:
        lines = ["\ufeff" + lines[0]] + lines[1:]
    if rng.random() < 0.1:
        lines = [lines[0]] + [";".join(l.split(",")) for l in lines[1:]]
    return "\n".join(lines).encode("utf-8")


def huge_csv(b: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.3:  # one row with very many columns
        return b + ("0," * rng.choice([786, 10_000, 200_000])).encode() + b"0\n"
    if roll < 0.6:  # one enormous field (beyond the csv module's field limit)
        return b + b"1," + b"9" * rng.choice([200_000, 1_000_000]) + b"\n"
    if roll < 0.8:  # an unterminated quote swallowing the rest
        return b[:100] + b'"' + b[100:]
    return b + b"\r\n" * 50_000  # many empty rows


# ---------------------------------------------------------------------------------- images
def png_chunks(b: bytes):
    """Yield (offset, length, type) of each chunk; stops at damage."""
    i = 8
    while i + 8 <= len(b):
        length = struct.unpack(">I", b[i : i + 4])[0]
        ctype = b[i + 4 : i + 8]
        yield i, length, ctype
        i += 12 + length


def fix_png_crcs(b: bytes) -> bytes:
    out = bytearray(b)
    for off, length, _ in png_chunks(b):
        end = off + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(out[off + 4 : end])))
    return bytes(out)


def png_inner(b: bytes, rng: random.Random) -> bytes:
    """A byte mutation after the signature with every chunk CRC fixed, so the decoders see it."""
    mutate = BYTE_MUTATIONS[rng.choice(("flip", "overwrite", "header", "splice"))]
    body = mutate(b[8:], rng) if rng.random() < 0.5 else b[8:]
    if rng.random() < 0.5:  # mutate the pixel stream itself (filter bytes, rows)
        out = bytearray(b)
        for off, length, ctype in png_chunks(b):
            if ctype == b"IDAT" and off + 8 + length <= len(b):
                try:
                    raw = bytearray(zlib.decompress(b[off + 8 : off + 8 + length]))
                except zlib.error:
                    break
                raw = BYTE_MUTATIONS[rng.choice(("flip", "overwrite", "truncate", "insert"))](bytes(raw), rng)
                comp = zlib.compress(raw)
                out[off : off + 12 + length] = struct.pack(">I", len(comp)) + b"IDAT" + comp + b"\0\0\0\0"
                break
        body = bytes(out[8:])
    return fix_png_crcs(b[:8] + body)


def huge_png(b: bytes, rng: random.Random) -> bytes:
    out = bytearray(b)
    if len(out) < 33 or out[12:16] != b"IHDR":
        return bytes(out)
    w, h = rng.choice([(0x7FFFFFFF, 0x7FFFFFFF), (65535, 65535), (7000, 7000), (50_000_001, 1), (1, 50_000_000), (0, 10), (10, 0), (1, 1), (112, 0xFFFFFFFF)])
    out[16:24] = struct.pack(">II", w, h)
    if rng.random() < 0.3:
        out[24] = rng.choice((1, 2, 4, 8, 16, 32, 255))  # bit depth
        out[25] = rng.choice((0, 2, 3, 4, 6, 7))  # colour type
    return fix_png_crcs(bytes(out))


def huge_jpeg(b: bytes, rng: random.Random) -> bytes:
    out = bytearray(b)
    i = 2
    while i + 9 < len(out):
        if out[i] != 0xFF:
            break
        marker = out[i + 1]
        seg = struct.unpack(">H", out[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = rng.choice([(65535, 65535), (0, 112), (112, 0), (65500, 1000), (1, 1)])
            out[i + 5 : i + 9] = struct.pack(">HH", h, w)
            if rng.random() < 0.3:
                out[i + 9] = rng.choice((0, 2, 4, 255))  # components
            break
        i += 2 + seg
    return bytes(out)


_PIL_FORMAT = {"png": "PNG", "png-rgba": "PNG", "png16": "PNG", "jpeg": "JPEG", "bmp": "BMP", "gif": "GIF", "tiff": "TIFF"}


def odd_picture(target: str, rng: random.Random) -> bytes:
    """A *valid* picture of odd size, content and mode (what prepare_drawing must cope with)."""
    from PIL import Image

    w, h = rng.choice([(1, 1), (1, 2), (2, 1), (1, 300), (300, 1), (3, 3), (5, 200), (28, 28), (64, 48), (2, 2100)])
    content = rng.choice(["black", "white", "noise", "checker", "dot", "line", "half", "grey", "gradient", "frame"])
    a = np.full((h, w), 255.0)
    if content == "black":
        a[:] = 0
    elif content == "noise":
        a = np.array([[rng.randrange(256) for _ in range(w)] for _ in range(h)], float)
    elif content == "checker":
        a = (np.indices((h, w)).sum(0) % 2) * 255.0
    elif content == "dot":
        a[h // 2, w // 2] = 0
    elif content == "line":
        a[h // 2, :] = 0
    elif content == "half":
        a[:, : w // 2] = 0
    elif content == "grey":
        a[:] = 128
    elif content == "gradient":
        a = np.tile(np.linspace(0, 255, w), (h, 1))
    elif content == "frame":
        a[0, :] = a[-1, :] = a[:, 0] = a[:, -1] = 0
    fmt = _PIL_FORMAT[target]
    modes = {"PNG": ["L", "1", "P", "RGB", "RGBA", "LA", "I;16"], "JPEG": ["L", "RGB", "CMYK"], "BMP": ["L", "1", "P", "RGB"],
             "GIF": ["L", "P", "1"], "TIFF": ["L", "1", "RGB", "RGBA", "CMYK", "I", "F", "I;16", "LA"]}[fmt]
    mode = rng.choice(modes)
    im = Image.fromarray((a * 257).astype(np.uint16)) if mode == "I;16" else Image.fromarray(a.astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def huge_image_generic(b: bytes, rng: random.Random) -> bytes:
    """BMP/GIF/TIFF: overwrite likely size fields with big values."""
    out = bytearray(b)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(min(len(out), 64) - 4) if len(out) > 8 else 0
        out[i : i + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\xff\xff\x00\x00", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"])
    return bytes(out)


# ---------------------------------------------------------------------------------- .keras
ALLOWED_STRINGS = ("Dense", "Conv2D", "Flatten", "Dropout", "InputLayer", "Functional", "keras.layers", "keras", "float64", "float16",
                   "bfloat16", "mixed_float16", "relu", "softmax", "channels_first", "same", "valid", "logits", "image", "")
HOSTILE_STRINGS = ("Lambda", "builtins", "exec", "os", "system", "function", "keras.src.saving", "__main__", "TFSMLayer",
                   "enable_unsafe_deserialization", "keras.config", "MyLayer>Evil", "../x", "x" * 5000)
ODD_VALUES = (0, -1, 1, 2**31, 2**63, 10**12, 10**30, 1e308, -1e308, 0.5, float("nan"), "7", None, True, [], {}, [None], [0, 0], {"class_name": None})


def _json_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _json_paths(v, prefix + (i,))


def _get(node, path):
    for p in path:
        node = node[p]
    return node


def _set(root, path, value):
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def mutate_config(cfg, rng: random.Random):
    """One semantic mutation of a Keras config (numbers, names, structure)."""
    cfg = copy.deepcopy(cfg)
    paths = list(_json_paths(cfg))
    path = rng.choice(paths)
    value = _get(cfg, path)
    roll = rng.random()
    if roll < 0.1 and path:
        parent = _get(cfg, path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        return cfg
    if roll < 0.15 and isinstance(value, list) and value:
        value.append(copy.deepcopy(rng.choice(value)))
        return cfg
    if isinstance(value, bool) or value is None:
        new = rng.choice(ODD_VALUES)
    elif isinstance(value, (int, float)):
        new = rng.choice(ODD_VALUES + (value * 1000, -value, value + 1))
    elif isinstance(value, str):
        new = rng.choice(ALLOWED_STRINGS + HOSTILE_STRINGS + ODD_VALUES)  # names may become lists, dicts, numbers
    else:
        new = rng.choice(ODD_VALUES)
    return _set(cfg, path, new)


def huge_config(cfg, rng: random.Random):
    """Forge the size fields that decide how much memory Keras allocates when it builds the model."""
    cfg = copy.deepcopy(cfg)
    layers = cfg.get("config", {}).get("layers", [])
    big = rng.choice([10**3, 10**4, 10**5, 10**6, 10**8, 10**12, 2**31, 2**63])
    roll = rng.random()
    for layer in layers:
        conf = layer.get("config", {})
        if roll < 0.35 and "units" in conf:
            conf["units"] = big
            layer.get("build_config", {})["input_shape"] = [None, rng.choice([784, big])]
        elif roll < 0.7 and layer.get("build_config"):
            shape = layer["build_config"].get("input_shape") or [None, 784]
            layer["build_config"]["input_shape"] = [None] * (len(shape) - 1) + [big]
        elif layer.get("class_name") == "InputLayer":
            conf["batch_shape"] = [None, big, big, 1] if roll < 0.9 else [big, 28, 28, 1]
    return cfg


def keras_config_mutation(b: bytes, rng: random.Random, huge: bool = False) -> bytes:
    members, compression = zip_members(b)
    cfg = json.loads(members["config.json"])
    if huge:
        cfg = huge_config(cfg, rng)
    else:
        for _ in range(rng.randint(1, 3)):
            cfg = mutate_config(cfg, rng)
    text = json.dumps(cfg, allow_nan=True)
    if not huge and rng.random() < 0.05:  # deeply nested JSON (recursion limits)
        text = text[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    members["config.json"] = text.encode()
    return zip_bytes(members, compression)


# ================================================================================== targets
def _check_dataset(ds) -> None:
    from mnist_desk.core.data import Dataset

    if not isinstance(ds, Dataset):
        raise BadResult(f"returned {type(ds).__name__}, not a Dataset")
    for x, y, what in ((ds.x_train, ds.y_train, "train"), (ds.x_test, ds.y_test, "test")):
        if not (isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim == 3 and x.shape[1:] == (28, 28)):
            raise BadResult(f"{what} images are {getattr(x, 'dtype', '?')} {getattr(x, 'shape', '?')}")
        if not (isinstance(y, np.ndarray) and y.dtype == np.uint8 and y.shape == (len(x),)):
            raise BadResult(f"{what} labels are {getattr(y, 'dtype', '?')} {getattr(y, 'shape', '?')} for {len(x)} images")
        if y.size and int(y.max()) > 9:
            raise BadResult(f"{what} label {int(y.max())} > 9")


def _check_grey(grey) -> None:
    if not (isinstance(grey, np.ndarray) and grey.ndim == 2 and grey.size and np.issubdtype(grey.dtype, np.floating)):
        raise BadResult(f"load_image_file returned {type(grey).__name__} {getattr(grey, 'shape', '')} {getattr(grey, 'dtype', '')}")
    if not (np.all(np.isfinite(grey)) and grey.min() >= 0 and grey.max() <= 1):
        raise BadResult("load_image_file returned values outside [0, 1]")


def _check_prepared(x) -> None:
    if not (isinstance(x, np.ndarray) and x.shape == (28, 28) and x.dtype == np.float32):
        raise BadResult(f"prepare_drawing returned {getattr(x, 'dtype', '?')} {getattr(x, 'shape', '?')}")
    if not (np.all(np.isfinite(x)) and x.min() >= 0 and x.max() <= 1):
        raise BadResult("prepare_drawing returned values outside [0, 1]")


@dataclass(frozen=True)
class Target:
    name: str
    seed: str
    filename: str
    kinds: tuple[str, ...]
    allowed: tuple[type, ...]
    companions: tuple[tuple[str, str], ...] = ()  # (file name, seed key) written beside the input
    traced_limit: int = TRACED_LIMIT_BYTES


_GENERIC = ("truncate", "flip", "header", "overwrite", "insert", "delete", "splice", "zero", "directory", "random")
_DATA = (DataError,)
_IMAGE = (ImageError, EmptyDrawing)
_MODEL = (ModelFileError,)
_IDX_COMPANIONS = (("t10k-images-idx3-ubyte", "idx_test_images"), ("t10k-labels-idx1-ubyte", "idx_test_labels"))

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("idx-images", "idx_images", "train-images-idx3-ubyte", _GENERIC + ("huge",), _DATA,
               (("train-labels-idx1-ubyte", "idx_labels"),) + _IDX_COMPANIONS),
        Target("idx-labels", "idx_labels", "train-labels-idx1-ubyte", _GENERIC + ("huge",), _DATA,
               (("train-images-idx3-ubyte", "idx_images"),) + _IDX_COMPANIONS),
        Target("idx-images-gz", "idx_images", "train-images-idx3-ubyte.gz", _GENERIC + ("huge", "inner"), _DATA,
               (("train-labels-idx1-ubyte", "idx_labels"),) + _IDX_COMPANIONS),
        Target("idx-labels-gz", "idx_labels", "train-labels-idx1-ubyte.gz", _GENERIC + ("huge", "inner"), _DATA,
               (("train-images-idx3-ubyte", "idx_images"),) + _IDX_COMPANIONS),
        Target("npz", "npz", "digits.npz", _GENERIC + ("huge", "inner", "members", "dtype"), _DATA),
        Target("npz-compressed", "npz_compressed", "digits.npz", _GENERIC + ("huge", "inner", "members", "dtype"), _DATA),
        Target("csv", "csv", "digits.csv", _GENERIC + ("huge", "cells"), _DATA),
        Target("png", "png", "digit.png", _GENERIC + ("huge", "inner", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("png-rgba", "png_rgba", "digit.png", _GENERIC + ("huge", "inner", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("png16", "png16", "digit.png", _GENERIC + ("huge", "inner", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("jpeg", "jpeg", "digit.jpg", _GENERIC + ("huge", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("bmp", "bmp", "digit.bmp", _GENERIC + ("huge", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("gif", "gif", "digit.gif", _GENERIC + ("huge", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("tiff", "tiff", "digit.tiff", _GENERIC + ("huge", "picture"), _IMAGE, traced_limit=IMAGE_TRACED_LIMIT_BYTES),
        Target("keras", "keras", "model.keras", _GENERIC + ("huge", "inner", "members", "config", "config-bytes"), _MODEL),
    )
}
IMAGE_TARGETS = ("png", "png-rgba", "png16", "jpeg", "bmp", "gif", "tiff")
DATA_TARGETS = ("idx-images", "idx-labels", "idx-images-gz", "idx-labels-gz", "npz", "npz-compressed", "csv")


def mutate(target: Target, seed_bytes: bytes, kind: str, rng: random.Random):
    """The mutated input: bytes, or DIRECTORY."""
    name = target.name
    gz = name.endswith("-gz")
    base = gzip.compress(seed_bytes, mtime=0) if gz else seed_bytes
    if kind == "directory":
        return DIRECTORY
    if kind == "zero":
        return b""
    if kind == "random":
        return m_random(base, rng)
    if kind in BYTE_MUTATIONS:
        return BYTE_MUTATIONS[kind](base, rng)
    if name.startswith("idx"):
        if kind == "huge":
            return gzip.compress(huge_idx(seed_bytes, rng), mtime=0) if gz else huge_idx(seed_bytes, rng)
        if kind == "inner":
            return gzip_inner(base, rng, BYTE_MUTATIONS[rng.choice(INNER_MUTATIONS)] if rng.random() < 0.7 else huge_idx)
    if name.startswith("npz"):
        if kind == "huge":
            return zip_inner(base, rng, huge_npy, member=rng.choice(["x_train.npy", "y_train.npy", "x_test.npy"]))
        if kind == "inner":
            return zip_inner(base, rng, BYTE_MUTATIONS[rng.choice(INNER_MUTATIONS)])
        if kind == "members":
            return zip_members_mutation(base, rng)
        if kind == "dtype":
            return dtype_npz(base, rng, compressed=name == "npz-compressed")
    if name == "csv":
        if kind == "huge":
            return huge_csv(base, rng)
        if kind == "cells":
            return csv_cells(base, rng)
    if name in IMAGE_TARGETS:
        if kind == "huge":
            if name.startswith("png"):
                return huge_png(base, rng)
            if name == "jpeg":
                return huge_jpeg(base, rng)
            return huge_image_generic(base, rng)
        if kind == "inner":
            return png_inner(base, rng)
        if kind == "picture":
            return odd_picture(name, rng)
    if name == "keras":
        if kind == "huge":
            return keras_config_mutation(base, rng, huge=True)
        if kind == "config":
            return keras_config_mutation(base, rng)
        if kind == "config-bytes":
            return zip_inner(base, rng, BYTE_MUTATIONS[rng.choice(INNER_MUTATIONS)], member="config.json")
        if kind == "inner":
            return zip_inner(base, rng, BYTE_MUTATIONS[rng.choice(INNER_MUTATIONS)])
        if kind == "members":
            return zip_members_mutation(base, rng)
    raise ValueError(f"mutation {kind!r} does not apply to {name}")


# ================================================================================== the runner
class CallTimeout(BaseException):
    """Raised by the alarm inside a call that ran too long (BaseException: no ``except Exception`` swallows it)."""


class BadResult(Exception):
    """A loader returned, but what it returned is malformed."""


@contextlib.contextmanager
def time_limit(seconds: float):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CallTimeout(f"still running after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_ALLOC_WORDS = ("memoryerror", "unable to allocate", "out of memory", "not enough memory", "resourceexhausted", "oom when allocating", "bad_alloc")


@dataclass
class Outcome:
    kind: str  # ok, clean, crash, hang, alloc
    detail: str
    seconds: float
    traced_peak: int = 0
    rss_growth: int = 0

    @property
    def bad(self) -> bool:
        return self.kind in ("crash", "hang", "alloc")


def run_guarded(fn: Callable[[], object], allowed: tuple[type, ...], time_limit_s: float = TIME_LIMIT_S,
                traced_limit: int = TRACED_LIMIT_BYTES, rss_limit: int = RSS_LIMIT_BYTES) -> Outcome:
    """Call ``fn`` under a time limit while measuring its memory; classify what happened."""
    rss_ok = _reset_peak_rss()
    rss0 = _peak_rss()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with time_limit(time_limit_s):
            fn()
        kind, detail = "ok", ""
    except CallTimeout as exc:
        kind, detail = "hang", str(exc)
    except allowed as exc:
        kind, detail = "clean", f"{type(exc).__name__}: {exc}"
        if any(w in str(exc).lower() for w in _ALLOC_WORDS):
            kind = "alloc"  # a clean message, but only because a giant allocation failed
    except Exception as exc:  # noqa: BLE001 - that is the point: anything else is a crash
        kind, detail = "crash", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = max(0, _peak_rss() - rss0) if rss_ok else 0
    if kind != "hang" and seconds > time_limit_s:
        kind, detail = "hang", f"took {seconds:.1f} s (in code the alarm could not interrupt); {detail}"
    elif kind != "crash" and traced > traced_limit:
        kind, detail = "alloc", f"Python-visible peak {traced / 2**20:,.0f} MiB; {detail}"
    elif kind != "crash" and rss_growth > rss_limit:
        kind, detail = "alloc", f"resident memory grew {rss_growth / 2**20:,.0f} MiB; {detail}"
    return Outcome(kind, detail[:500], seconds, traced, rss_growth)


@dataclass
class Fuzzer:
    """Writes mutated inputs into a scratch folder and runs the matching loader on each."""

    workdir: Path
    seeds: Seeds
    counter: int = 0
    _model_checked: bool = field(default=False, repr=False)

    def make_input(self, target: Target, kind: str, seed: int):
        rng = random.Random(f"{target.name}/{kind}/{seed}")
        return mutate(target, self.seeds.files[target.seed], kind, rng)

    def call_for(self, target: Target, folder: Path, path: Path) -> Callable[[], object]:
        if target.name.startswith("idx"):
            from mnist_desk.core import data

            return lambda: _check_dataset(data.load_idx_folder(folder))
        if target.name in DATA_TARGETS:
            from mnist_desk.core import data

            return lambda: _check_dataset(data.load_dataset(path))
        if target.name in IMAGE_TARGETS:
            from mnist_desk.core.preprocess import load_image_file, prepare_drawing

            def image_call():
                grey = load_image_file(path)
                _check_grey(grey)
                _check_prepared(prepare_drawing(grey))

            return image_call
        if target.name == "keras":
            from mnist_desk.core import store
            from mnist_desk.core.training import predict_probabilities

            def model_call():
                model = store.load_model(path)
                probs = predict_probabilities(model, self.seeds.sample_image[None])
                if probs.shape != (1, 10):
                    raise BadResult(f"predict gave shape {probs.shape}")

            return model_call
        raise ValueError(target.name)  # pragma: no cover

    def run_input(self, target: Target, payload, **limits) -> Outcome:
        self.counter += 1
        folder = self.workdir / f"case{self.counter}"
        folder.mkdir(parents=True)
        try:
            for fname, key in target.companions:
                (folder / fname).write_bytes(self.seeds.files[key])
            path = folder / target.filename
            if payload == DIRECTORY:
                path.mkdir()
            else:
                path.write_bytes(payload)
            limits.setdefault("traced_limit", target.traced_limit)
            return run_guarded(self.call_for(target, folder, path), target.allowed, **limits)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def run(self, target: Target | str, kind: str, seed: int, **limits) -> Outcome:
        target = TARGETS[target] if isinstance(target, str) else target
        return self.run_input(target, self.make_input(target, kind, seed), **limits)

    def check_seeds(self) -> None:
        """Every unmutated seed must load (else the fuzzing proves nothing). Also warms Keras up."""
        for target in TARGETS.values():
            if target.seed not in self.seeds.files:
                continue
            base = self.seeds.files[target.seed]
            if target.name.endswith("-gz"):
                base = gzip.compress(base, mtime=0)
            out = self.run_input(target, base, time_limit_s=120.0, rss_limit=2**40, traced_limit=2**40)
            if out.kind != "ok":
                raise AssertionError(f"seed for {target.name} does not load: {out.detail}")


def describe(target: str, kind: str, seed: int, out: Outcome) -> str:
    return f"{target}/{kind}/seed={seed}: {out.kind} after {out.seconds:.2f} s: {out.detail}"


def python_env_note() -> str:
    return f"python {sys.version.split()[0]}, numpy {np.__version__}, pid {os.getpid()}"
