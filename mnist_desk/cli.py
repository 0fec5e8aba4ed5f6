"""``mnist-desk``: opens the window by default; ``train``, ``evaluate``, ``predict`` and ``export`` work headless.

Exit codes: 0 success; 1 a user error (bad file, bad model, failed training; no screen or missing system
libraries for the window), with one clear message on stderr; 2 a usage error (unknown option or value); 130 interrupted twice with Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading

from . import __version__
from .core import registry
from .core.errors import MnistDeskError

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2


def _count(minimum: int):
    """An argparse type: an integer of at least ``minimum`` (a clear usage error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small (at least {minimum})")
        return value

    return parse


def _all_params() -> dict[str, registry.Param]:
    params: dict[str, registry.Param] = {}
    for arch in registry.ARCHITECTURES.values():
        for p in arch.params:
            params.setdefault(p.name, p)
    return params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnist-desk",
        description="Draw digits and watch networks classify them; train and inspect MNIST models. "
        "With no command, opens the window.",
        epilog="Exit codes: 0 ok, 1 user error (bad file, model or training failure), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"mnist-desk {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", help="model to start with (name or .keras path)")

    t = sub.add_parser("train", help="train a model headless and save it",
                       description="Train an architecture from the registry. Hyperparameters left out take the "
                       "architecture's defaults (see `mnist-desk train --list`).")
    t.add_argument("--arch", choices=list(registry.ARCHITECTURES), help="architecture")
    t.add_argument("--preset", choices=list(registry.PRESETS), help="a seed notebook's model and settings")
    t.add_argument("--list", action="store_true", help="list architectures, their hyperparameters and the presets")
    for p in _all_params().values():
        t.add_argument(f"--{p.name}", dest=f"hp_{p.name}", metavar=p.kind.upper(), help=f"{p.help} (default {p.default})")
    t.add_argument("--optimizer", choices=registry.OPTIMIZERS)
    t.add_argument("--lr", "--learning-rate", dest="learning_rate", type=float)
    t.add_argument("--momentum", type=float)
    t.add_argument("--batch-size", type=_count(1))
    t.add_argument("--epochs", type=_count(1))
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--val-size", type=_count(0), default=10_000, help="last N training images kept for validation (default 10000)")
    t.add_argument("--schedule", dest="lr_schedule", choices=registry.LR_SCHEDULES)
    t.add_argument("--augment", dest="augment", action="store_true", default=None, help="random small rotations/zooms/shifts")
    t.add_argument("--no-augment", dest="augment", action="store_false")
    t.add_argument("--drawn-style", type=_count(0), default=None, metavar="N",
                   help="add N MNIST digits re-drawn as pen strokes on a canvas (makes drawn digits read better)")
    t.add_argument("--pen-digits", type=_count(0), default=None, metavar="N",
                   help="add N drawings of real pen digits (writers 1-20 of the shared pendigits set; default for cnn: 20000)")
    t.add_argument("--not-digits", type=_count(0), default=None, metavar="N",
                   help="add N drawings that are not digits (Omniglot characters, doodles), so the model learns to "
                   "answer them with no digit (default for cnn: 16000)")
    t.add_argument("--limit", type=_count(1), help="use only the first N training images (quick runs)")
    t.add_argument("--data", help="MNIST files: a Keras .npz, a CSV, or a folder of IDX files (default: the shipped copy)")
    t.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs here")
    t.add_argument("--out", help="write the model to this .keras file (default: the user's model store)")
    t.add_argument("--name", help="name in the model store")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="test accuracy, log loss and confusion matrix of a model")
    e.add_argument("model", help="model name or .keras path")
    e.add_argument("--data", help="MNIST files (default: the shipped copy)")
    e.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("predict", help="classify image files of handwritten digits")
    p.add_argument("images", nargs="+", help="PNG/JPEG/... files, one digit each, any size, either polarity")
    p.add_argument("--model", help="model name or .keras path (default: cnn)")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")
    p.add_argument("--batch-size", type=_count(1), default=512)

    sub.add_parser("models", help="list shipped and saved models")

    x = sub.add_parser("export", help="write a model's training run as a standalone Python script or Jupyter notebook",
                       description="Write the run that trained MODEL (read from its saved details) as plain Keras "
                       "code a student can run without mnist-desk.")
    x.add_argument("model", help="model name or .keras path")
    x.add_argument("--script", metavar="OUT.py", help="write a Python script here")
    x.add_argument("--notebook", metavar="OUT.ipynb", help="write a Jupyter notebook here")
    return parser


# ------------------------------------------------------------------------------ train
def _training_config(args, parser):
    from .core.training import TrainConfig

    if args.preset:
        preset = registry.PRESETS[args.preset]
        arch, hparams, base = preset.arch, dict(preset.hparams), dict(preset.training)
        if args.arch and args.arch != arch:
            parser.error(f"--preset {args.preset} is a {arch} model; leave out --arch {args.arch}")
    elif args.arch:
        arch, hparams, base = args.arch, {}, dict(registry.ARCHITECTURES[args.arch].training_defaults)
    else:
        parser.error("give --arch or --preset (see mnist-desk train --list)")
    known = {q.name for q in registry.ARCHITECTURES[arch].params}
    for name in _all_params():
        value = getattr(args, f"hp_{name}")
        if value is None:
            continue
        if name not in known:
            parser.error(f"--{name} does not apply to {arch} (its hyperparameters: {', '.join(sorted(known)) or 'none'})")
        hparams[name] = value
    try:
        hparams = registry.ARCHITECTURES[arch].resolve(hparams)
    except ValueError as exc:
        parser.error(str(exc))
    for key in ("optimizer", "learning_rate", "momentum", "batch_size", "epochs", "lr_schedule", "augment"):
        v = getattr(args, key)
        if v is not None:
            base[key] = v
    return TrainConfig(arch=arch, hparams=hparams, seed=args.seed, val_size=args.val_size,
                       tensorboard_dir=args.tensorboard, **base)


def _print_registry() -> None:
    for a in registry.ARCHITECTURES.values():
        print(f"{a.name}: {a.title}. {a.description}")
        for p in a.params:
            choices = f" [{'|'.join(p.choices)}]" if p.choices else ""
            print(f"    --{p.name} {p.kind}{choices} default {p.default}: {p.help}")
        print(f"    training defaults: {a.training_defaults}")
    print("presets:")
    for p in registry.PRESETS.values():
        print(f"  --preset {p.name}: {p.title}")


def cmd_train(args, parser) -> int:
    if args.list:
        _print_registry()
        return EXIT_OK
    config = _training_config(args, parser)
    from .core.runs import TrainSpec, run_training

    spec = TrainSpec(config, data_path=args.data, limit=args.limit, drawn_style=args.drawn_style,
                     pen_digits=args.pen_digits, not_digits=args.not_digits).resolved()
    if spec.drawn_style or spec.pen_digits or spec.not_digits:
        print(f"adding {spec.drawn_style} drawn-style digits, {spec.pen_digits} real pen digits, {spec.not_digits} "
              "non-digits (drawn on a canvas)...", file=sys.stderr)

    stop = threading.Event()
    interrupts = [0]

    def on_sigint(signum, frame):
        interrupts[0] += 1
        if interrupts[0] >= 2:
            print("\ninterrupted again: quitting without saving", file=sys.stderr)
            raise SystemExit(130)
        print("\nstopping after this batch (Ctrl+C again to quit without saving)...", file=sys.stderr)
        stop.set()

    old = signal.signal(signal.SIGINT, on_sigint)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=1, unit="batch", dynamic_ncols=True, file=sys.stderr, desc=config.arch)

    def on_progress(p):
        if bar is None:
            return
        bar.total = p.epochs * p.batches_per_epoch
        bar.n = p.total_batches_done
        post = {"epoch": f"{p.epoch + 1}/{p.epochs}", "loss": f"{p.epoch_loss:.4f}", "acc": f"{p.epoch_accuracy:.4f}",
                "img/s": f"{p.samples_per_s:.0f}"}
        if p.kind == "epoch" and p.val_accuracy is not None:
            post["val_acc"] = f"{p.val_accuracy:.4f}"
            bar.write(f"epoch {p.epoch + 1}/{p.epochs}: loss {p.loss:.4f} acc {p.accuracy:.4f} "
                      f"val_loss {p.val_loss:.4f} val_acc {p.val_accuracy:.4f} ({p.elapsed_s:.0f} s)")
        bar.set_postfix(post, refresh=False)
        bar.refresh()

    def on_stage(_stage):  # training is over: the bar's line is finished before the results are printed
        if bar is not None:
            bar.close()

    try:
        out = run_training(spec, on_progress, stop.is_set, save_name=args.name or config.arch, out_path=args.out,
                           save_stopped=True, on_stage=on_stage)
    finally:
        signal.signal(signal.SIGINT, old)
        if bar is not None:
            bar.close()
    if not out.result.ok:
        print(f"error: {out.result.failure}", file=sys.stderr)
        return EXIT_USER_ERROR
    if out.result.stopped:
        print(f"stopped by the user after {out.result.batches_done} batches; saved the model as it is", file=sys.stderr)
    cal = out.metadata.calibration
    if cal:
        print(f"calibrated on {cal['fitted_on']}: temperature {cal['temperature']:.3f}, "
              f"unsure below {cal['unsure_below']:.3f}, calibration error there {cal['calibration_error_on_fit_set']:.4f}")
    if out.test_accuracy is not None:
        print(f"test accuracy {out.test_accuracy:.4f}, log loss {out.test_log_loss:.4f}")
    print(f"saved {out.stored.path}")
    return EXIT_OK


# ------------------------------------------------------------------------------ evaluate / predict
def cmd_evaluate(args) -> int:
    from .core import data, store
    from .core.calibration import expected_calibration_error
    from .core.confusion import confusion_matrix, confusion_text
    from .core.training import evaluate

    model = store.load_model(store.find_model(args.model))
    ds = data.load_mnist(args.data)
    if not ds.has_test:
        raise MnistDeskError(f"{ds.source}: has no test set to evaluate on")
    ev = evaluate(model, ds.x_test, ds.y_test)
    cm = confusion_matrix(ds.y_test, ev["predictions"])
    ece = expected_calibration_error(ev["probabilities"], ds.y_test)
    if args.json:
        print(json.dumps({"model": args.model, "data": ds.source, "accuracy": ev["accuracy"], "log_loss": ev["log_loss"],
                          "calibration_error": ece, "confusion_matrix": cm.tolist()}))
        return EXIT_OK
    print(f"model: {args.model}\ndata: {ds.source} ({len(ds.y_test)} test images)")
    print(f"test accuracy: {ev['accuracy']:.4f}\nlog loss: {ev['log_loss']:.4f}")
    print(f"calibration error (ECE of the top probability, 10 bins): {ece:.4f}")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(confusion_text(cm))
    return EXIT_OK


def cmd_predict(args) -> int:
    import numpy as np

    from .core import store
    from .core.errors import EmptyDrawing
    from .core.preprocess import load_image_file, prepare_drawing
    from .core.training import predict_probabilities
    from .core.verdict import EMPTY_VERDICT, UNSURE, Thresholds, decide

    model_path = store.find_model(args.model)
    model = store.load_model(model_path)
    failures = 0

    thresholds = Thresholds.from_metadata(store.read_metadata(model_path))

    def emit(path, probs=None, reason=None, error=None):
        v = decide(probs, thresholds) if probs is not None else (EMPTY_VERDICT if error is None else None)
        if args.json:
            obj = {"path": path, "digit": None if v is None else v.digit,
                   # a broken model's NaN would be invalid JSON: null instead
                   "probabilities": None if probs is None else [round(float(q), 6) if math.isfinite(q) else None
                                                                for q in probs]}
            if v is not None:
                obj["verdict"] = v.kind
            if v is not None and v.kind == UNSURE:
                obj["runner_up"] = v.runner_up
            if reason:
                obj["reason"] = reason
            if error:
                obj["error"] = error
            print(json.dumps(obj), flush=False)
        elif error:
            print(f"{path}: error: {error}", file=sys.stderr)
        elif probs is None:
            print(f"{path}: no digit ({reason})")
        else:
            print(f"{path}: {v.text}")

    pending_paths, pending_x = [], []

    def flush():
        if pending_x:
            probs = predict_probabilities(model, np.stack(pending_x), batch_size=args.batch_size)
            for pth, pr in zip(pending_paths, probs):
                emit(pth, pr)
            pending_paths.clear()
            pending_x.clear()

    for path in args.images:
        try:
            x = prepare_drawing(load_image_file(path))
        except EmptyDrawing as exc:
            flush()  # keep output in input order
            emit(path, reason=str(exc))
            continue
        except MnistDeskError as exc:
            flush()
            failures += 1
            emit(path, error=getattr(exc, "problem", str(exc)))
            continue
        pending_paths.append(path)
        pending_x.append(x)
        if len(pending_x) >= args.batch_size:
            flush()
    flush()
    sys.stdout.flush()
    return EXIT_USER_ERROR if failures == len(args.images) else EXIT_OK


def cmd_models() -> int:
    from .core import store

    for m in store.list_models():
        print(f"{m.label}\t{m.path}")
    return EXIT_OK


def cmd_export(args, parser) -> int:
    from .core import store
    from .core.errors import ModelFileError
    from .core.export_run import left_out, write_notebook, write_script
    from .core.runs import spec_from_metadata

    if not (args.script or args.notebook):
        parser.error("give --script OUT.py, --notebook OUT.ipynb or both")
    path = store.find_model(args.model)
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    spec = spec_from_metadata(store.read_metadata(path))
    for out in filter(None, (args.script and write_script(spec, args.script, path.stem),
                             args.notebook and write_notebook(spec, args.notebook, path.stem))):
        print(f"wrote {out}")
    for note in left_out(spec):
        print(f"left out: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_gui(args) -> int:
    from .ui.display_check import window_start_problem

    problem = window_start_problem()  # before Qt, which would end the process with a message about plugins
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USER_ERROR
    from .ui.app import run

    return run(model=getattr(args, "model", None))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "gui"):
            return cmd_gui(args)
        if args.command == "train":
            if not args.list:
                from .core import store

                store.remove_stale_saves()  # what killed saves left, before this run saves beside them
            return cmd_train(args, parser)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "models":
            return cmd_models()
        if args.command == "export":
            return cmd_export(args, parser)
    except MnistDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
