"""Loading MNIST-like data: one loader per format, each returning the same uint8 arrays.

Every loader returns images as ``uint8 (N, 28, 28)`` and labels as ``uint8 (N,)`` and raises
:class:`DataError` (naming the file and the problem) for anything it cannot read. Sizes are checked
against header fields *before* anything is allocated, so a forged header cannot ask for terabytes.
"""

from __future__ import annotations

import csv
import gzip
import os
import math
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .files import require_regular_file
from .paths import KERAS_CACHE_MNIST, SHIPPED_MNIST

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10
# Far above any real digit set (MNIST has 70,000; EMNIST's digits 280,000); refuses forged headers before
# allocating, and bounds what a small file of blank images may make us hold (392 MB as uint8).
MAX_IMAGES = 500_000
# An .npz member may not inflate beyond this (zip bombs).
MAX_NPZ_MEMBER_BYTES = MAX_IMAGES * N_PIXELS

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


@dataclass
class Dataset:
    """Train and test digits. ``x_*`` are uint8 (N, 28, 28), ``y_*`` uint8 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def has_test(self) -> bool:
        return len(self.x_test) > 0


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def _empty_images() -> np.ndarray:
    return np.zeros((0, IMAGE_SIDE, IMAGE_SIDE), np.uint8)


def _empty_labels() -> np.ndarray:
    return np.zeros((0,), np.uint8)


def check_arrays(path: Path | str | None, images: np.ndarray, labels: np.ndarray, what: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate and normalise images/labels to uint8 (N,28,28) / uint8 (N,)."""
    prefix = f"{what}: " if what else ""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype == object or labels.dtype == object:
        raise DataError(path, f"{prefix}holds Python objects, not numbers")
    if images.ndim == 2 and images.shape[1] == N_PIXELS:
        images = images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(path, f"{prefix}images have shape {images.shape}; expected (N, 28, 28) or (N, 784)")
    if labels.ndim == 2 and labels.shape[1] == N_CLASSES:  # one-hot, as some notebooks save them
        if labels.dtype.kind not in "biuf":
            raise DataError(path, f"{prefix}labels are of type {labels.dtype}, not numbers")
        if not np.all((labels == 0) | (labels == 1)) or np.any(labels.sum(axis=1) != 1):
            # argmax would read a row of NaN or of zeros as the digit 0
            raise DataError(path, f"{prefix}labels look one-hot (10 columns) but some rows are not a single 1 among 0s")
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        raise DataError(path, f"{prefix}labels have shape {labels.shape}; expected (N,)")
    if len(images) != len(labels):
        raise DataError(path, f"{prefix}{len(images)} images but {len(labels)} labels")
    if images.dtype.kind not in "biuf":  # not complex, timedelta (numpy counts both as numbers), strings...
        raise DataError(path, f"{prefix}images are of type {images.dtype}, not numbers")
    if np.issubdtype(images.dtype, np.floating):
        if not np.all(np.isfinite(images)):
            raise DataError(path, f"{prefix}images contain NaN or infinite pixel values")
        lo, hi = (float(images.min()), float(images.max())) if images.size else (0.0, 0.0)
        if lo < 0:
            raise DataError(path, f"{prefix}images contain negative pixel values (min {lo:g})")
        if hi <= 1.0:  # floats in [0, 1], as the notebooks normalise them
            images = images * 255.0
        elif hi > 255:
            raise DataError(path, f"{prefix}pixel values go up to {hi:g}; expected 0-255")
        images = np.rint(images).astype(np.uint8)
    else:
        if images.size and (int(images.min()) < 0 or int(images.max()) > 255):
            raise DataError(path, f"{prefix}pixel values outside 0-255 (min {images.min()}, max {images.max()})")
        images = images.astype(np.uint8)
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise DataError(path, f"{prefix}labels are not whole numbers")
    elif labels.dtype.kind not in "iu":
        raise DataError(path, f"{prefix}labels are of type {labels.dtype}, not integers")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = labels[(labels < 0) | (labels > 9)][0]
        raise DataError(path, f"{prefix}label {bad:g} is outside 0-9")
    return np.ascontiguousarray(images), labels.astype(np.uint8)


# --------------------------------------------------------------------------------------- .npz
def load_npz(path: str | Path) -> Dataset:
    """Keras layout: ``x_train, y_train`` and optionally ``x_test, y_test`` (also ``x, y`` for one set)."""
    path = Path(path)
    _require_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataError(path, f"not a valid .npz archive ({exc})") from None
    with zf:
        try:
            infos = zf.infolist()
        except Exception as exc:  # noqa: BLE001 - corrupt central directory
            raise DataError(path, f"corrupt .npz archive ({exc})") from None
        for info in infos:
            if info.file_size > MAX_NPZ_MEMBER_BYTES:
                raise DataError(path, f"member {info.filename!r} would inflate to {info.file_size:,} bytes, more than the "
                                      f"{MAX_IMAGES:,} images allowed take; refusing")
            if info.compress_size > info.file_size + info.file_size // 100 + 1024:  # a stream longer than it claims
                raise DataError(path, f"member {info.filename!r} holds more compressed data than its declared size; refusing")
        members = {Path(i.filename).stem: i for i in infos if i.filename.endswith(".npy")}

        def read(name: str) -> np.ndarray:
            try:
                _check_npy_header(path, zf, members[name], name)
                # numpy reads a stream in chunks into the array it allocates, so the member is held once, not
                # twice; the stream ends at the declared size (longer streams were refused above).
                with zf.open(members[name]) as f:
                    return np.lib.format.read_array(f, allow_pickle=False)
            except DataError:
                raise
            except ValueError as exc:
                if "max_header_size" in str(exc):  # numpy's refusal names allow_pickle as the way around it
                    raise DataError(path, f"array {name!r} has an oversized header (over 10 KB); not a digit array") from None
                if "pickle" in str(exc).lower():
                    raise DataError(path, f"array {name!r} holds pickled Python objects; refusing to load it") from None
                raise DataError(path, f"array {name!r} is corrupt or truncated ({exc})") from None
            except Exception as exc:  # noqa: BLE001 - zlib/zip/CRC/EOF errors of a damaged file
                raise DataError(path, f"array {name!r} is corrupt or truncated ({type(exc).__name__}: {exc})") from None

        if "x_train" in members and "y_train" in members:
            x_tr, y_tr = check_arrays(path, read("x_train"), read("y_train"), "training set")
        elif "x" in members and "y" in members:
            x_tr, y_tr = check_arrays(path, read("x"), read("y"), "digits")
        else:
            raise DataError(path, f"expected arrays x_train and y_train (Keras layout); found {sorted(members) or 'none'}")
        if "x_test" in members and "y_test" in members:
            x_te, y_te = check_arrays(path, read("x_test"), read("y_test"), "test set")
        else:
            x_te, y_te = _empty_images(), _empty_labels()
    return Dataset(x_tr, y_tr, x_te, y_te, source=str(path))


def _check_npy_header(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member whose .npy header claims more data than the member holds, before numpy allocates it."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise DataError(path, f"array {name!r} has an unsupported .npy format version {version}")
        if dtype.hasobject:
            raise DataError(path, f"array {name!r} holds pickled Python objects; refusing to load it")
        if shape and shape[0] > MAX_IMAGES:
            raise DataError(path, f"array {name!r} holds {shape[0]:,} items; more than the {MAX_IMAGES:,} allowed")
        n_bytes = math.prod(shape) * dtype.itemsize
        room = info.file_size - f.tell()
        if n_bytes > room:
            raise DataError(path, f"array {name!r} claims shape {shape} ({n_bytes:,} bytes) but holds only {room:,} bytes")


# ---------------------------------------------------------------------------------------- IDX
def _open_maybe_gzip(path: Path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def _read_exact(f, n: int, path: Path, what: str) -> bytes:
    buf = bytearray(n)
    _read_into(f, memoryview(buf), path, what)
    return bytes(buf)


def _read_into(f, buf: memoryview, path: Path, what: str) -> None:
    """Fill ``buf`` from ``f`` a chunk at a time (the data is held once, in its final array)."""
    got, n = 0, len(buf)
    try:
        while got < n:
            chunk = f.read(min(n - got, 1 << 20))
            if not chunk:
                break
            buf[got : got + len(chunk)] = chunk
            got += len(chunk)
    except Exception as exc:  # noqa: BLE001 - OSError, EOFError, gzip.BadGzipFile, zlib.error of a damaged file
        raise DataError(path, f"corrupt or truncated {what} ({type(exc).__name__}: {exc})") from None
    if got < n:
        raise DataError(path, f"file is truncated: {what} needs {n:,} bytes, found {got:,}")


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """One IDX file (gzipped or raw): images (magic 2051) -> (N,28,28), labels (2049) -> (N,)."""
    path = Path(path)
    _require_file(path)
    try:
        f = _open_maybe_gzip(path)
    except OSError as exc:
        raise DataError(path, f"cannot open ({exc.strerror or exc})") from None
    with f:
        header = _read_exact(f, 4, path, "the IDX header")
        magic = struct.unpack(">I", header)[0]
        if magic != expected_magic:
            kind = "images" if expected_magic == IDX_IMAGES_MAGIC else "labels"
            raise DataError(path, f"bad IDX magic number {magic} (0x{magic:08x}); expected {expected_magic} for {kind}")
        ndim = header[3]
        if not 1 <= ndim <= 3:
            raise DataError(path, f"IDX header says {ndim} dimensions; digit files have 1 (labels) or 3 (images)")
        dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, path, "the IDX dimensions"))
        if expected_magic == IDX_IMAGES_MAGIC and tuple(dims[1:]) != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataError(path, f"images are {dims[1:]} pixels; expected 28x28")
        if dims[0] > MAX_IMAGES:
            raise DataError(path, f"header claims {dims[0]:,} items; more than the {MAX_IMAGES:,} allowed")
        n_bytes = math.prod(dims)
        if not isinstance(f, gzip.GzipFile) and os.fstat(f.fileno()).st_size < f.tell() + n_bytes:
            raise DataError(path, f"file is truncated: {dims[0]:,} items need {n_bytes:,} bytes, "
                                  f"found {os.fstat(f.fileno()).st_size - f.tell():,}")
        out = np.empty(dims, np.uint8)
        if n_bytes:
            _read_into(f, memoryview(out.reshape(-1)), path, f"{dims[0]:,} items")
        if isinstance(f, gzip.GzipFile):
            # gzip checks its CRC only once a read reaches the end of the stream: read one byte past the data
            try:
                f.read(1)
            except Exception as exc:  # noqa: BLE001 - BadGzipFile (wrong CRC or length), zlib.error, EOFError
                raise DataError(path, f"corrupt gzip file: the data does not match its checksum ({exc})") from None
    return out


_IDX_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def _find_idx(folder: Path, key: str) -> Path | None:
    for stem in _IDX_NAMES[key]:
        for suffix in (".gz", ""):
            p = folder / (stem + suffix)
            if p.exists():
                return p
    return None


def load_idx_folder(folder: str | Path) -> Dataset:
    """The four MNIST IDX files (gzipped or raw) in one folder; the test pair is optional."""
    folder = Path(folder)
    files = {k: _find_idx(folder, k) for k in _IDX_NAMES}
    if files["x_train"] is None or files["y_train"] is None:
        raise DataError(folder, "no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in this folder")
    x_tr = read_idx(files["x_train"], IDX_IMAGES_MAGIC)
    y_tr = read_idx(files["y_train"], IDX_LABELS_MAGIC)
    x_tr, y_tr = check_arrays(folder, x_tr, y_tr, "training set")
    if files["x_test"] is not None and files["y_test"] is not None:
        x_te, y_te = check_arrays(
            folder, read_idx(files["x_test"], IDX_IMAGES_MAGIC), read_idx(files["y_test"], IDX_LABELS_MAGIC), "test set"
        )
    else:
        x_te, y_te = _empty_images(), _empty_labels()
    return Dataset(x_tr, y_tr, x_te, y_te, source=str(folder))


# ---------------------------------------------------------------------------------------- CSV
MAX_CSV_LINE = 64 * 1024  # a row of 785 numbers is under 10,000 characters even with decimals


def read_csv_digits(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The notebooks' CSV layout: label, then 784 pixel values per row; an optional header row.

    Read a row at a time into float32 blocks, with a cap on the length of a row and on the number of rows:
    a whole file held as text and a list of strings took 20 times its size in memory.
    """
    path = Path(path)
    _require_file(path)
    blocks, block, n_in_block, n_rows, row_no = [], None, 0, 0, 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            while True:
                line = f.readline(MAX_CSV_LINE + 1)
                if not line:
                    break
                row_no += 1
                if len(line) > MAX_CSV_LINE:
                    raise DataError(path, f"line {row_no} is over {MAX_CSV_LINE:,} characters; a row of digits is far shorter")
                fields = next(csv.reader([line]), [])
                if not fields or not any(c.strip() for c in fields):
                    continue
                if n_rows == 0 and not blocks and n_in_block == 0 and not _is_number(fields[0]):
                    continue  # header
                if len(fields) != 1 + N_PIXELS:
                    raise DataError(path, f"row {n_rows + 1} has {len(fields)} values; expected 785 (label, then 784 pixels)")
                if n_rows >= MAX_IMAGES:
                    raise DataError(path, f"more than {MAX_IMAGES:,} rows")
                if block is None or n_in_block == len(block):
                    if block is not None:
                        blocks.append(block)
                    block, n_in_block = np.empty((4096, 1 + N_PIXELS), np.float32), 0
                try:
                    block[n_in_block] = np.asarray(fields, dtype=np.float64)
                except ValueError as exc:
                    raise DataError(path, f"a value in row {n_rows + 1} is not a number ({exc})") from None
                n_in_block += 1
                n_rows += 1
    except UnicodeDecodeError:
        raise DataError(path, "not a text CSV file") from None
    except csv.Error as exc:
        raise DataError(path, f"not a CSV of digits ({exc})") from None
    except OSError as exc:
        raise DataError(path, f"cannot read ({exc.strerror or exc})") from None
    if block is not None:
        blocks.append(block[:n_in_block])
    if n_rows == 0:
        raise DataError(path, "no rows of digits")
    arr = np.concatenate(blocks)
    if not np.all(np.isfinite(arr)):
        raise DataError(path, "contains NaN or infinite values")
    return arr[:, 1:], arr[:, 0]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _pixels_as_uint8(path: Path, pixels: np.ndarray) -> np.ndarray:
    if pixels.size and pixels.min() < 0:
        raise DataError(path, f"negative pixel value {pixels.min():g}")
    if pixels.size and pixels.max() > 255:
        raise DataError(path, f"pixel value {pixels.max():g} is above 255")
    return np.rint(pixels).astype(np.uint8)  # CSV pixels are always read as 0-255, never rescaled


def load_csv(path: str | Path, test_path: str | Path | None = None) -> Dataset:
    """One CSV (training set), or a train/test pair of CSVs."""
    path = Path(path)
    px, lab = read_csv_digits(path)
    x_tr, y_tr = check_arrays(path, _pixels_as_uint8(path, px), lab)
    if test_path is not None:
        tpx, tlab = read_csv_digits(test_path)
        x_te, y_te = check_arrays(test_path, _pixels_as_uint8(Path(test_path), tpx), tlab)
    else:
        x_te, y_te = _empty_images(), _empty_labels()
    return Dataset(x_tr, y_tr, x_te, y_te, source=str(path))


def _csv_pair(folder: Path) -> tuple[Path, Path | None] | None:
    csvs = sorted(folder.glob("*.csv"))
    train = [p for p in csvs if "train" in p.name.lower()]
    test = [p for p in csvs if "test" in p.name.lower()]
    if train:
        return train[0], (test[0] if test else None)
    return None


# ------------------------------------------------------------------------------------ sources
def _require_file(path: Path) -> None:
    require_regular_file(path, DataError)


def load_dataset(path: str | Path) -> Dataset:
    """Any supported format, chosen by what ``path`` is: .npz, .csv, or a folder of IDX (or CSV) files."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(path, "no such file or folder")
    if path.is_dir():
        if _find_idx(path, "x_train") is not None:
            return load_idx_folder(path)
        pair = _csv_pair(path)
        if pair is not None:
            return load_csv(*pair)
        if (path / "mnist.npz").exists():
            return load_npz(path / "mnist.npz")
        raise DataError(path, "folder holds no MNIST IDX files, no train/test CSV and no mnist.npz")
    suffix = "".join(path.suffixes[-2:]).lower()
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    if path.suffix.lower() == ".csv":
        return load_csv(path)
    if "idx" in path.name.lower() or suffix.endswith(".gz"):
        return load_idx_folder(path.parent)
    raise DataError(path, "unknown format; give a Keras .npz, a CSV (label + 784 pixels) or a folder of IDX files")


@dataclass(frozen=True)
class SourceSummary:
    """What a data file or folder holds, as the Train form shows it when the file is chosen."""

    name: str
    n_train: int
    n_test: int


def check_source(path: str | Path) -> SourceSummary:
    """Read ``path`` with the loader training uses (``load_dataset``), raising its DataError.

    The cheap checks come first (exists, not empty, a format we read; the loaders check each header's
    sizes before reading the data), so a wrong file is refused at once whatever its size."""
    path = Path(path).expanduser()
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(path, "the file is empty")
    ds = load_dataset(path)
    return SourceSummary(path.name or str(path), len(ds.x_train), len(ds.x_test))


def default_sources() -> list[Path]:
    """Where MNIST is looked for when the user names nothing, in order."""
    return [SHIPPED_MNIST, KERAS_CACHE_MNIST]


def load_mnist(path: str | Path | None = None) -> Dataset:
    """The user's path if given; else MNIST shipped in the package; else the Keras cache. Never downloads."""
    if path is not None:
        return load_dataset(path)
    for candidate in default_sources():
        if candidate.exists():
            return load_npz(candidate)
    raise DataError(
        None,
        "MNIST not found: the copy shipped in the package is missing and there is no "
        f"{KERAS_CACHE_MNIST}; point the app at MNIST files with --data PATH",
    )


def split_validation(x: np.ndarray, y: np.ndarray, val_size: int = 10_000) -> Split:
    """Validation = the last ``val_size`` training images, as the notebooks do; the test set stays apart."""
    if val_size < 0:
        raise ValueError("validation size must be >= 0")
    val_size = min(val_size, max(len(x) - 1, 0))
    if val_size == 0:
        return Split(x, y, x[:0], y[:0])
    return Split(x[:-val_size], y[:-val_size], x[-val_size:], y[-val_size:])


def to_float_images(x: np.ndarray) -> np.ndarray:
    """uint8 (N,28,28) -> float32 (N,28,28,1) in [0,1], what every model takes."""
    return (x.astype(np.float32) / 255.0)[..., None]
