"""mnist_desk: draw a digit, watch networks classify it, train them and look inside."""

import os as _os
import sys as _sys

# Must be set before TensorFlow is imported anywhere. oneDNN kernels are off by default on AMD CPUs
# and make training ~2.4x faster there; the log level hides TF's start-up chatter from users.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow for Linux x86_64 is built for CUDA: without NVIDIA's driver (its kernel module, or WSL2's
# library) its search for a GPU ends in an error line ("failed call to cuInit") that means nothing on a
# machine with no GPU to use, so there its errors are hidden too (they reach Python as exceptions anyway).
if _sys.platform.startswith("linux") and not any(
        _os.path.exists(p) for p in ("/proc/driver/nvidia", "/usr/lib/wsl/lib/libcuda.so.1")):
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
