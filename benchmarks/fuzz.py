"""Fuzz benchmark: thousands of damaged and forged files through every loader, then the hostile files.

The same seeds and mutations as ``tests/fuzz`` (see ``tests/fuzz/harness.py``), but many more of
them, drawn from a seeded random generator so every run fuzzes the same inputs. Every call runs in
this process under a per-call time limit, with its memory measured. Prints::

    fuzzed inputs: N, clean errors: N, crashes: 0, hangs: 0
    ok loads: K, giant allocations: 0
    hostile files: N (M carry a payload marker), payloads run: 0
    window cases: N, window crashes: 0, hangs: 0, dialog floods: 0, over memory cap: 0
    payloads run: 0, files read outside the given file: 0, window failed to open: 0, digits lost: 0
    peak MB: X (case), max GUI stall ms: Y (case)

The window cases (``tests/fuzz/window.py``) go through a real ``MainWindow``, offscreen, in a child process
under an address-space limit: open a model, drop an image, start training on a data file, open the window
on a damaged data folder, label digits over three sessions on a damaged set. ``over memory cap`` counts
cases whose peak resident size passed 1,500 MB.

``clean errors`` are the documented errors (DataError/ImageError, ModelFileError, EmptyDrawing);
``ok loads`` inputs that still loaded as well-formed arrays or a model; ``crashes`` any other
exception (or a malformed result); ``hangs`` calls past the time limit. Exits 1 if anything is
not clean.

Usage::

    python benchmarks/fuzz.py                 # 2,400 inputs (160 per format) + the hostile files
    python benchmarks/fuzz.py --per-target 40 --seed 7 --verbose
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import _setup  # benchmarks/_setup.py: sys.path and environment, before the app is imported

_setup.setup(home="temp", tf_log="3")

from tests.fuzz import harness  # noqa: E402


def fuzz(per_target: int, seed: int, verbose: bool, targets: list[str]) -> tuple[collections.Counter, list[str], dict]:
    counts: collections.Counter = collections.Counter()
    problems: list[str] = []
    per_target_counts: dict[str, collections.Counter] = {}
    warnings.simplefilter("ignore")  # Pillow warns about every corrupt EXIF block and TIFF tag it skips
    slowest: dict[str, tuple[float, str]] = {}
    with tempfile.TemporaryDirectory(prefix="mnist_desk_fuzz_") as tmp:
        tmp = Path(tmp)
        seeds = harness.Seeds.build(tmp)
        fz = harness.Fuzzer(tmp / "cases", seeds)
        fz.check_seeds()
        for name in targets:
            target = harness.TARGETS[name]
            c = per_target_counts.setdefault(name, collections.Counter())
            rng = random.Random(f"{seed}/{name}")  # each format's inputs do not depend on which others run
            t0 = time.perf_counter()
            for i in range(per_target):
                kind = target.kinds[i % len(target.kinds)] if i < len(target.kinds) else rng.choice(target.kinds)
                case_seed = rng.randrange(2**32)
                out = fz.run(target, kind, case_seed)
                counts[out.kind] += 1
                c[out.kind] += 1
                if out.seconds > slowest.get(name, (0.0, ""))[0]:
                    slowest[name] = (out.seconds, f"{kind}/seed={case_seed}")
                if out.bad:
                    problems.append(harness.describe(name, kind, case_seed, out))
                    if verbose:
                        print("  !!", problems[-1], flush=True)
            if verbose:
                worst = slowest.get(name, (0.0, "-"))
                print(f"{name:15s} {dict(c)} in {time.perf_counter() - t0:.1f} s (slowest call {worst[0]:.2f} s: {worst[1]})", flush=True)
    return counts, problems, per_target_counts


def hostile(verbose: bool) -> tuple[int, int, list[str]]:
    from tests import hostile_builders as hb

    with tempfile.TemporaryDirectory(prefix="mnist_desk_hostile_") as tmp:
        hostiles = hb.build_all(Path(tmp))
        results = hb.check_all(hostiles)
    problems = [f"{r.name}: {r.problem}" for r in results if r.problem]
    if verbose:
        for r in results:
            print(f"  hostile {r.name:28s} refused={r.refused} payload_ran={r.payload_ran} {r.seconds:.2f} s  {r.message[:110]}")
    return len(results), sum(bool(h.markers) for h in hostiles), sum(r.payload_ran for r in results), problems


def window(per_target: int, seed: int, verbose: bool) -> int:
    """The window cases; prints their figures and returns how many went wrong."""
    from tests.fuzz import window as wf

    with tempfile.TemporaryDirectory(prefix="mnist_desk_window_fuzz_") as tmp:
        cases = wf.build_cases(Path(tmp) / "cases", per_target=per_target, seed=seed)
        results = wf.run_all(cases, Path(tmp) / "run", verbose=verbose)
    s = wf.summarise(results)
    for r in results:
        wrong = [k for k in ("crash", "hang", "memory_error", "payload_ran", "read_outside") if r.get(k)]
        wrong += ["unexpected error dialog"] if r.get("unexpected") else []
        wrong += ["dialog flood"] if r.get("dialogs", 0) > 1 else []
        wrong += ["window did not open"] if r.get("opened") is False else []
        wrong += ["over memory cap"] if r.get("peak_mb", 0) > wf.MEMORY_CAP_MB else []
        wrong += ["digits lost"] if r.get("digits_lost") else []
        if wrong:
            print("PROBLEM window", r["name"], ", ".join(wrong), r.get("unexpected") or "")
    print(f"window cases: {s['window cases']}, window crashes: {s['window crashes']}, hangs: {s['hangs']}, "
          f"dialog floods: {s['dialog floods']}, over memory cap: {s['over memory cap']}")
    print(f"payloads run: {s['payloads run']}, files read outside the given file: {s['files read outside the given file']}, "
          f"window failed to open: {s['window failed to open']}, digits lost: {s['digits lost']}")
    print(f"peak MB: {s['peak MB']} ({s['worst case']}), max GUI stall ms: {s['max GUI stall ms']} ({s['stalled case']})")
    return sum(s[k] for k in ("window crashes", "hangs", "dialog floods", "over memory cap", "payloads run",
                              "files read outside the given file", "window failed to open", "digits lost"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-target", type=int, default=160, help="inputs per format (15 formats; default 160 = 2,400 inputs)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--target", action="append", choices=list(harness.TARGETS), help="only these formats")
    ap.add_argument("--no-hostile", action="store_true")
    ap.add_argument("--no-window", action="store_true", help="skip the cases through the real window")
    ap.add_argument("--window-per-target", type=int, default=2, help="mutated files per format through the window")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    counts, problems, _ = fuzz(args.per_target, args.seed, args.verbose, args.target or list(harness.TARGETS))
    total = sum(counts.values())
    for p in problems:
        print("PROBLEM", p)
    print(f"fuzzed inputs: {total}, clean errors: {counts['clean']}, crashes: {counts['crash']}, hangs: {counts['hang']}")
    print(f"ok loads: {counts['ok']}, giant allocations: {counts['alloc']}")
    bad = counts["crash"] + counts["hang"] + counts["alloc"]
    if not args.no_hostile:
        n, marked, ran, hproblems = hostile(args.verbose)
        for p in hproblems:
            print("PROBLEM", p)
        print(f"hostile files: {n} ({marked} carry a payload marker), payloads run: {ran}")
        bad += len(hproblems)
    if not args.no_window:
        bad += window(args.window_per_target, args.seed, args.verbose)
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
