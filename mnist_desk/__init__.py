"""mnist_desk: draw a digit, watch networks classify it, train them and look inside."""

__version__ = "0.1.0"
