"""Every lesson step that trains, run headless as the Lessons view runs it, against the notebooks' figures.

For each training step of ``core.lessons.LESSONS`` (a preset or a ready-made experiment on the step's
documented subset) prints::

    lesson 000 linear s: 12.3
    lesson 000 linear accuracy: app 0.9201 / notebook 0.93  (pass: ...)

Usage: ``python benchmarks/lessons.py [--limit N] [--lesson 003] [--step adam]``. ``--limit`` trains each
step on N images for one epoch (a quick smoke run); the defaults are the lessons' own subsets.
"""

from __future__ import annotations

import argparse
import sys
import time

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(home="fresh")

from mnist_desk.core.lessons import LESSONS, run_step  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="train each step on this many images, 1 epoch")
    ap.add_argument("--lesson", action="append", help="only this lesson (seed, e.g. 003); repeatable")
    ap.add_argument("--step", action="append", help="only this step key; repeatable")
    ap.add_argument("--no-export", action="store_true", help="skip the exported script's accuracy (benchmarks/export_run.py)")
    args = ap.parse_args(argv)
    total = time.perf_counter()
    failed = 0
    for lesson in LESSONS:
        if args.lesson and lesson.seed not in args.lesson:
            continue
        for step in lesson.steps:
            if not step.trains or (args.step and step.key not in args.step):
                continue
            start = time.perf_counter()
            result = run_step(step, limit=args.limit, lesson_seed=lesson.seed)
            seconds = time.perf_counter() - start
            check = step.check(result)
            failed += not check.passed
            app = "diverged" if check.app_value is None else f"{check.app_value:.4f}"
            book = "-" if check.notebook_value is None else f"{check.notebook_value:g}"
            print(f"lesson {lesson.seed} {step.key} s: {seconds:.1f}")
            print(f"lesson {lesson.seed} {step.key} accuracy: app {app} / notebook {book}  "
                  f"({step.notebook_figure.key}; {'pass' if check.passed else 'FAIL'}"
                  f"{'; bad settings' if step.bad_settings else ''})", flush=True)
    print(f"total s: {time.perf_counter() - total:.1f}; checks failed: {failed}")
    if not args.no_export:
        # a teacher hands out the exported script: it should reach what the app reaches on the same data and seed
        import export_run  # benchmarks/export_run.py

        export_run.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
