"""The headless half of mnist_desk. Nothing here imports Qt (tests/test_architecture.py checks it)."""
