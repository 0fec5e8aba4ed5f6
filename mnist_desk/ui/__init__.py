"""The window: Qt widgets only. Talks to mnist_desk.core; long work runs in worker threads."""
