"""mnist_desk: draw a digit, watch networks classify it, train them and look inside."""

import os as _os

# Must be set before TensorFlow is imported anywhere. oneDNN kernels are off by default on AMD CPUs
# and make training ~2.4x faster there; the log level hides TF's start-up chatter from users.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
