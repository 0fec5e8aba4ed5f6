"""How long the Train form takes to check a chosen data file, and whether the window answers meanwhile.

    python benchmarks/data_check.py [--rows 20000]

Writes a CSV of MNIST training digits (label + 784 pixels a row, as the notebooks' files), types its path
into the Train form's data field and times, with a 10 ms timer in the GUI thread, the longest pause of the
event loop until the field shows the file's image count. A good file is read in full (the training loader);
a bad one is refused at its first bad row.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _setup

_setup.setup(qt=True, home="temp")

import numpy as np  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    app = QApplication([])
    from mnist_desk.core.data import load_mnist
    from mnist_desk.ui.main_window import MainWindow
    from mnist_desk.ui.train.form import DATA_CHECK_DELAY_MS

    ds = load_mnist()
    folder = Path(tempfile.mkdtemp())
    good = folder / "digits.csv"
    rows = np.column_stack([ds.y_train[: args.rows], ds.x_train[: args.rows].reshape(-1, 784)])
    np.savetxt(good, rows, fmt="%d", delimiter=",")
    bad = folder / "bad.csv"
    bad.write_bytes(good.read_bytes() + b"7,1,2\n")  # a short last row: found only after reading the rest
    win = MainWindow(preload_tensorflow=False)
    win.show()
    form = win.train.form
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    for path, done in ((good, "training images"), (bad, "values; expected 785")):
        ticks.clear()
        t0 = time.perf_counter()
        form.data_edit.setText(str(path))
        while done not in form.data_status.text():
            app.processEvents()
            time.sleep(0.002)
        seconds = time.perf_counter() - t0
        gaps = np.diff([t0] + ticks)
        print(f"{path.name} ({path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows): shown after {seconds:.2f} s "
              f"(with the {DATA_CHECK_DELAY_MS} ms typing pause); "
              f"longest event-loop pause {gaps.max() * 1000:.0f} ms; status: {form.data_status.text()[:70]}")
    win.close()


if __name__ == "__main__":
    main()
