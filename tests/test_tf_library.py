"""TensorFlow's library loaded ahead of its import (as the window does before it shows) leaves TensorFlow working."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys
from mnist_desk.core.tf_library import MODULE, load_tensorflow_library
assert 'tensorflow' not in sys.modules
assert load_tensorflow_library() and MODULE in sys.modules and 'tensorflow' not in sys.modules
ahead = sys.modules[MODULE]
import tensorflow as tf
assert sys.modules[MODULE] is ahead  # the import used the library already loaded
print(int(tf.constant(2) + 1))
"""


def test_tensorflow_imports_and_runs_after_its_library_was_loaded_ahead():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("3")
