"""A few of the fuzz benchmark's window cases, each in a fresh window process, as the benchmark runs them."""

from __future__ import annotations

import os

import pytest

from tests.fuzz import window as wf

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def test_the_issues_causes_through_the_real_window(tmp_path):
    sentinel = tmp_path / "secret.bin"
    sentinel.write_bytes(b"\x01" * 4096)
    wanted = ("model: input (784,)", "model: kernel kept in another file", "model: kernel kept in a FIFO",
              "model: 1x1 conv", "image: a link to /dev/zero", "home: a model's JSON b'{\"metrics\"",
              "home: three sessions")
    cases = wf.model_cases(tmp_path / "models", sentinel) + wf.image_cases(tmp_path / "images") + \
        wf.home_cases(tmp_path / "homes")
    cases = [c for c in cases if c.name.startswith(wanted)]
    assert len(cases) == len(wanted)
    results = wf.run_all(cases, tmp_path / "run")
    summary = wf.summarise(results)
    assert all(r.get("opened") for r in results), results
    for key in ("window crashes", "hangs", "dialog floods", "over memory cap", "files read outside the given file",
                "window failed to open", "digits lost"):
        assert summary[key] == 0, (key, results)
    by_name = {r["name"]: r for r in results}
    assert by_name["model: input (784,)"]["dialogs"] == 1  # refused with one message
    assert by_name["home: three sessions labelling on a damaged set"]["digits_lost"] == 0


def test_the_checks_can_fail(tmp_path):
    """A case that reads the off-limits file is seen doing so (the access-time watch works here)."""
    sentinel = tmp_path / "secret.bin"
    sentinel.write_bytes(b"\x01" * 4096)
    os.utime(sentinel, (1_000_000, sentinel.stat().st_mtime))
    sentinel.read_bytes()
    assert os.stat(sentinel).st_atime > 1_000_001
