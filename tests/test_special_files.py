"""Devices and FIFOs named like files are refused before they are opened, on every path that reads a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mnist_desk.core import data, store
from mnist_desk.core.errors import DataError, ImageError, ModelFileError
from mnist_desk.core.my_digits import MyDigits
from mnist_desk.core.preprocess import load_image_file

from .conftest import REPO

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs and /dev/zero")


@pytest.fixture(params=["fifo", "dev-zero-link"])
def special(request, tmp_path):
    """A factory: ``special(name)`` makes a FIFO, or a link to /dev/zero, called ``name``."""

    def make(name: str):
        path = tmp_path / name
        if request.param == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
        return path

    return make


def test_an_image_that_is_not_a_file(special):
    with pytest.raises(ImageError, match="not a regular file"):
        load_image_file(special("digit.png"))


@pytest.mark.parametrize("name", ["mnist.npz", "digits.csv", "train-images-idx3-ubyte.gz"])
def test_data_that_is_not_a_file(special, name):
    if "idx" in name:
        special("train-labels-idx1-ubyte.gz")  # an IDX file is read with its folder's other files
    with pytest.raises(DataError, match="not a regular file"):
        data.load_dataset(special(name))


def test_a_model_that_is_not_a_file(special):
    with pytest.raises(ModelFileError, match="not a regular file"):
        store.load_model(special("model.keras"))


def test_metadata_that_is_not_a_file_is_no_metadata(special, tmp_path):
    special("model.json")
    assert store.read_metadata(tmp_path / "model.keras") == {}


def test_my_digits_that_are_not_a_file(special):
    with pytest.raises(DataError, match="not a regular file"):
        MyDigits.load(special("my_digits.npz"))


def test_predict_classifies_the_other_images_past_a_fifo(tmp_path, mnist):
    page = tmp_path / "seven.png"
    Image.fromarray(255 - np.asarray(Image.fromarray(mnist.x_test[0]).resize((140, 140)))).save(page)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "mnist_desk.cli", "predict", "--model", "linear", "--json", str(fifo), str(page)],
                       capture_output=True, text=True, timeout=120, env=env)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 0, r.stderr
    assert "not a regular file" in lines[0]["error"]
    assert lines[1]["digit"] == int(mnist.y_test[0])
