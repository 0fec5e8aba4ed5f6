"""The exported script's test accuracy beside the app's own run of the same spec.

One spec (default: LeNet-5, Adam 0.001, batch 64, 2 epochs, seed 0, validation the last 5,000 training
images, trained on the first 5,000 of the others) is run by ``core.runs.run_training`` (save=False, as
the Train view does) and, exported by ``core.export_run.script_for``, by a fresh interpreter that cannot
import mnist_desk, on the same shipped MNIST file. The two differ only in the order the batches come in
(the app shuffles with tf.data, the script with Keras' own shuffling), so their accuracies should agree
to a point or so. Prints::

    exported script accuracy: script 0.xxxx / app 0.yyyy

and the seconds of each to stderr. Usage: ``python benchmarks/export_run.py [--arch mlp] [--limit 5000]``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(home="fresh")

from mnist_desk.core.export_run import script_for  # noqa: E402
from mnist_desk.core.paths import SHIPPED_MNIST  # noqa: E402
from mnist_desk.core.runs import TrainSpec, run_training  # noqa: E402
from mnist_desk.core.training import TrainConfig  # noqa: E402

WITHOUT_MNIST_DESK = ("import runpy, sys; sys.modules['mnist_desk'] = None; script = sys.argv[1]; "
                      "sys.argv = sys.argv[1:]; runpy.run_path(script, run_name='__main__')")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=("lenet5", "mlp"), default="lenet5")
    ap.add_argument("--limit", type=int, default=5000, help="training images (default 5000)")
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args(argv)

    config = TrainConfig.for_arch(args.arch, epochs=args.epochs, batch_size=64, val_size=5000, seed=0)
    spec = TrainSpec(config, limit=args.limit, drawn_style=0, pen_digits=0, not_digits=0)
    t0 = time.perf_counter()
    app = run_training(spec, save=False)
    app_s = time.perf_counter() - t0
    if app.failure:
        print(f"the app's run failed: {app.failure}", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "run.py"
        script.write_text(script_for(spec, run_name=f"{args.arch}-benchmark"))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", WITHOUT_MNIST_DESK, str(script), "--data", str(SHIPPED_MNIST)],
                           cwd=folder, env=env, capture_output=True, text=True)
        script_s = time.perf_counter() - t0
    found = re.search(r"^test accuracy: (0\.\d+)$", r.stdout, re.M)
    if r.returncode != 0 or found is None:
        print(f"the exported script failed ({r.returncode}):\n{r.stderr[-3000:]}", file=sys.stderr)
        return 1
    print(f"exported script accuracy: script {float(found.group(1)):.4f} / app {app.test_accuracy:.4f}")
    print(f"{args.arch}, {args.limit} images, {args.epochs} epochs: app {app_s:.1f} s, script {script_s:.1f} s "
          "(with its interpreter's start and TensorFlow's import)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
