"""Every loader on small files the test writes (and on ../shared/data when present), and every bad input."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from mnist_desk.core import data
from mnist_desk.core.errors import DataError

from .conftest import SHARED_DATA


def _idx_images(x: np.ndarray, magic: int = 2051) -> bytes:
    return struct.pack(">IIII", magic, len(x), 28, 28) + x.astype(np.uint8).tobytes()


def _idx_labels(y: np.ndarray, magic: int = 2049) -> bytes:
    return struct.pack(">II", magic, len(y)) + y.astype(np.uint8).tobytes()


@pytest.fixture
def sample(mnist):
    return mnist.x_train[:50], mnist.y_train[:50], mnist.x_test[:20], mnist.y_test[:20]


def _write_idx_folder(folder, x, y, xt, yt, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if gz else open
    ext = ".gz" if gz else ""
    for name, payload in (("train-images-idx3-ubyte", _idx_images(x)), ("train-labels-idx1-ubyte", _idx_labels(y)),
                          ("t10k-images-idx3-ubyte", _idx_images(xt)), ("t10k-labels-idx1-ubyte", _idx_labels(yt))):
        with opener(folder / (name + ext), "wb") as f:
            f.write(payload)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_gz_and_raw(tmp_path, sample, gz):
    x, y, xt, yt = sample
    ds = data.load_dataset(_write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=gz))
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (50, 28, 28)
    np.testing.assert_array_equal(ds.x_train, x)
    np.testing.assert_array_equal(ds.y_test, yt)


def test_npz_keras_layout(tmp_path, sample):
    x, y, xt, yt = sample
    np.savez(tmp_path / "m.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    ds = data.load_dataset(tmp_path / "m.npz")
    np.testing.assert_array_equal(ds.x_train, x)
    np.testing.assert_array_equal(ds.y_test, yt)


def test_npz_one_hot_labels(tmp_path, sample):
    x, y, _, _ = sample
    onehot = np.eye(10, dtype=np.float32)[y]
    np.savez(tmp_path / "m.npz", x_train=x, y_train=onehot)
    np.testing.assert_array_equal(data.load_dataset(tmp_path / "m.npz").y_train, y)
    for bad in (np.full_like(onehot, np.nan), np.zeros_like(onehot), onehot * 0.5):
        np.savez(tmp_path / "bad.npz", x_train=x, y_train=bad)
        with pytest.raises(DataError, match="not a single 1"):
            data.load_dataset(tmp_path / "bad.npz")


def test_npz_float_images_in_unit_range_are_rescaled(tmp_path, sample):
    x, y, _, _ = sample
    np.savez(tmp_path / "f.npz", x_train=x.astype(np.float32) / 255.0, y_train=y)
    ds = data.load_dataset(tmp_path / "f.npz")
    assert np.abs(ds.x_train.astype(int) - x.astype(int)).max() <= 1
    assert not ds.has_test


@pytest.mark.parametrize("header", [True, False])
def test_csv_seed_layout(tmp_path, sample, header):
    x, y, _, _ = sample
    rows = np.column_stack([y, x.reshape(len(x), -1)]).astype(int)
    lines = ([",".join(["label"] + [f"pixel{i}" for i in range(784)])] if header else []) + [",".join(map(str, r)) for r in rows]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    ds = data.load_dataset(tmp_path / "d.csv")
    np.testing.assert_array_equal(ds.x_train, x)
    np.testing.assert_array_equal(ds.y_train, y)


def test_csv_train_test_pair_in_folder(tmp_path, sample):
    x, y, xt, yt = sample
    for name, (a, b) in {"mnist_train_small.csv": (x, y), "mnist_test.csv": (xt, yt)}.items():
        rows = np.column_stack([b, a.reshape(len(a), -1)]).astype(int)
        (tmp_path / name).write_text("\n".join(",".join(map(str, r)) for r in rows))
    ds = data.load_dataset(tmp_path)
    assert len(ds.x_train) == 50 and len(ds.x_test) == 20


def test_all_loaders_agree_on_shared_data():
    if not (SHARED_DATA / "mnist").exists():
        pytest.skip("../shared/data not present")
    a = data.load_dataset(SHARED_DATA / "mnist")  # IDX .gz folder
    b = data.load_dataset(SHARED_DATA / "mnist" / "mnist.npz")
    assert a.x_train.shape == (60000, 28, 28) and a.x_test.shape == (10000, 28, 28)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_default_source_is_the_shipped_copy(mnist):
    assert mnist.source.endswith("mnist.npz") and "resources" in mnist.source
    assert len(mnist.x_train) == 60000 and len(mnist.x_test) == 10000


def test_validation_is_the_last_images_by_default(mnist):
    s = data.split_validation(mnist.x_train, mnist.y_train)
    assert len(s.x_train) == 50000 and len(s.x_val) == 10000
    np.testing.assert_array_equal(s.x_val, mnist.x_train[-10000:])
    s2 = data.split_validation(mnist.x_train[:100], mnist.y_train[:100], 30)
    assert len(s2.x_train) == 70 and len(s2.x_val) == 30


# ------------------------------------------------------------------------------ bad input
def _expect(path, *fragments):
    with pytest.raises(DataError) as info:
        data.load_dataset(path)
    msg = str(info.value)
    assert str(path.name) in msg or str(path) in msg
    for f in fragments:
        assert f in msg.lower(), msg
    return msg


def test_bad_idx_magic(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=False)
    (folder / "train-images-idx3-ubyte").write_bytes(_idx_images(x, magic=1234))
    _expect(folder, "magic")


def test_truncated_idx(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=False)
    raw = _idx_images(x)
    (folder / "train-images-idx3-ubyte").write_bytes(raw[: len(raw) // 2])
    _expect(folder, "truncated")


def test_truncated_gzip_idx(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=True)
    raw = (folder / "train-images-idx3-ubyte.gz").read_bytes()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) // 2])
    _expect(folder, "truncated")


def test_idx_header_claiming_terabytes_is_refused_before_allocating(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=False)
    (folder / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 4_000_000_000, 28, 28) + b"\0" * 100)
    _expect(folder, "header claims")


def test_idx_wrong_image_size(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=False)
    (folder / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 2, 32, 32) + b"\0" * 2048)
    _expect(folder, "28x28")


def test_labels_outside_0_9(tmp_path, sample):
    x, y, _, _ = sample
    bad = y.copy()
    bad[3] = 12
    np.savez(tmp_path / "m.npz", x_train=x, y_train=bad)
    _expect(tmp_path / "m.npz", "label 12", "outside 0-9")


def test_count_mismatch(tmp_path, sample):
    x, y, _, _ = sample
    np.savez(tmp_path / "m.npz", x_train=x, y_train=y[:-1])
    _expect(tmp_path / "m.npz", "50 images but 49 labels")


def test_wrong_shape(tmp_path, sample):
    x, y, _, _ = sample
    np.savez(tmp_path / "m.npz", x_train=np.zeros((50, 32, 32), np.uint8), y_train=y)
    _expect(tmp_path / "m.npz", "shape")


def test_nan_pixels(tmp_path, sample):
    x, y, _, _ = sample
    xf = x.astype(np.float32)
    xf[0, 5, 5] = np.nan
    np.savez(tmp_path / "m.npz", x_train=xf, y_train=y)
    _expect(tmp_path / "m.npz", "nan")


def test_negative_pixels(tmp_path, sample):
    x, y, _, _ = sample
    xf = x.astype(np.int16)
    xf[0, 5, 5] = -3
    np.savez(tmp_path / "m.npz", x_train=xf, y_train=y)
    _expect(tmp_path / "m.npz", "outside 0-255")


def test_csv_negative_and_nan(tmp_path):
    row = ["3"] + ["0"] * 784
    row[10] = "-4"
    (tmp_path / "neg.csv").write_text(",".join(row))
    _expect(tmp_path / "neg.csv", "negative")
    row[10] = "nan"
    (tmp_path / "nan.csv").write_text(",".join(row))
    _expect(tmp_path / "nan.csv", "nan")


def test_csv_wrong_row_length(tmp_path):
    (tmp_path / "short.csv").write_text("3," + ",".join(["0"] * 700))
    _expect(tmp_path / "short.csv", "701 values", "expected 785")


def test_npz_with_pickled_objects_is_refused(tmp_path, sample):
    x, y, _, _ = sample
    np.savez(tmp_path / "p.npz", x_train=np.array([{"a": 1}] * 3, dtype=object), y_train=y[:3])
    _expect(tmp_path / "p.npz", "pickle")


def test_not_an_npz(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file at all")
    _expect(tmp_path / "junk.npz", "not a valid .npz")


def test_truncated_npz(tmp_path, sample):
    x, y, xt, yt = sample
    np.savez_compressed(tmp_path / "t.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    raw = (tmp_path / "t.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(raw[: len(raw) - 200])
    with pytest.raises(DataError):
        data.load_dataset(tmp_path / "t.npz")


def test_missing_path_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.load_mnist(tmp_path / "nothing-here.npz")
    (tmp_path / "x.txt").write_text("hello")
    _expect(tmp_path / "x.txt", "unknown format")
    (tmp_path / "empty").mkdir()
    _expect(tmp_path / "empty", "no mnist idx files")


def test_npy_header_over_10_kb_is_called_what_it_is(tmp_path):
    import zipfile

    arr = np.zeros((2, 28, 28), np.uint8)
    hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28), " + " " * 20_000 + "}"
    hdr += " " * ((64 - (len(hdr) + 13) % 64) % 64) + "\n"
    npy = b"\x93NUMPY\x02\x00" + len(hdr).to_bytes(4, "little") + hdr.encode() + arr.tobytes()
    with zipfile.ZipFile(tmp_path / "big_header.npz", "w") as z:
        z.writestr("x_train.npy", npy)
        z.writestr("y_train.npy", npy)
    with pytest.raises(DataError, match="oversized header") as info:
        data.load_dataset(tmp_path / "big_header.npz")
    assert "pickle" not in str(info.value)


def test_gzip_idx_with_a_wrong_checksum_is_refused(tmp_path, sample):
    x, y, xt, yt = sample
    folder = _write_idx_folder(tmp_path / "idx", x, y, xt, yt, gz=True)
    raw = bytearray((folder / "train-labels-idx1-ubyte.gz").read_bytes())
    raw[-8] ^= 0xFF  # the CRC-32 of the trailer: the data inflate fine, the checksum does not match
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(bytes(raw))
    _expect(folder, "checksum")


def test_csv_with_an_endless_line_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "digits.csv"
    with open(path, "w") as f:
        f.write("label," + ",".join(f"p{i}" for i in range(784)) + "\n")
        f.write("7," + "0," * 4_000_000 + "0\n")  # 8 MB on one line
    with pytest.raises(DataError, match="line 2 is over"):
        data.load_dataset(path)


def test_a_small_file_of_too_many_blank_images_is_refused_before_it_is_inflated(tmp_path):
    """600,000 blank images compress to under 1 MB; the count is refused from the header, as .npz and as IDX .gz."""
    import resource

    n = data.MAX_IMAGES + 100_000
    blank = np.zeros((n, 28, 28), np.uint8)
    np.savez_compressed(tmp_path / "blank.npz", x_train=blank, y_train=np.zeros(n, np.uint8))
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28) + blank.tobytes())
    del blank
    assert (tmp_path / "blank.npz").stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DataError, match="more than the 500,000 images allowed"):
        data.load_dataset(tmp_path / "blank.npz")
    with pytest.raises(DataError, match="more than the 500,000 allowed"):
        data.read_idx(tmp_path / "train-images-idx3-ubyte.gz", data.IDX_IMAGES_MAGIC)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: nothing was inflated


def test_a_large_npz_is_held_once_while_read(tmp_path):
    """The images are read in chunks into their array, not read as bytes and then copied."""
    import resource
    import subprocess
    import sys

    n = 200_000  # 157 MB of pixels
    np.savez_compressed(tmp_path / "big.npz", x_train=np.zeros((n, 28, 28), np.uint8), y_train=np.zeros(n, np.uint8))
    code = (
        "import resource, sys; from mnist_desk.core import data; "
        "a = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; ds = data.load_dataset(sys.argv[1]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - a)"
    )
    grew_kb = int(subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.npz")], capture_output=True,
                                 text=True, check=True).stdout.strip())
    assert grew_kb < 1.5 * n * 784 / 1024, grew_kb  # twice the pixels would be 2.0x


def test_check_source_counts_a_good_file_and_refuses_an_empty_or_wrong_one(tmp_path):
    from mnist_desk.core.data import check_source

    good = tmp_path / "digits.npz"
    np.savez(good, x_train=np.zeros((30, 28, 28), np.uint8), y_train=np.arange(30, dtype=np.uint8) % 10,
             x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8))
    s = check_source(good)
    assert (s.name, s.n_train, s.n_test) == ("digits.npz", 30, 5)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="the file is empty"):
        check_source(empty)
    short = tmp_path / "short.csv"
    short.write_text("7,0,0\n")
    with pytest.raises(DataError, match="row 1 has 3 values"):
        check_source(short)
    with pytest.raises(DataError, match="no such file"):
        check_source(tmp_path / "missing.npz")
