"""Command line: the sleep-staging comparison, written up in a report folder.

Every argument is checked before any data is loaded or model trained
(argparse's error, exit status 2); ``--out`` is checked (and created) before
loading too. The folder must be new or empty unless ``--overwrite`` is
given: the files an earlier report wrote there
(:data:`~.report.REPORT_FILES`) are replaced when the new report is
written, so that no file of one run stays beside another's; a job claims
the folder while it runs (:data:`JOB_MARKER`). Ctrl-C stops the whole job
(exit 130) and writes ``INTERRUPTED.md``, a run that raises ``FAILED.md``
(exit 1): what ran, no scores, beside an earlier report that
``--overwrite`` would have replaced, which only a finished report does.
"""

import argparse
import datetime
import os
import shlex
import sys
import tempfile
import time
import traceback
from functools import partial
from pathlib import Path

from .._version import __version__
from ..model import SEQUENCE_AUGMENTATIONS
from .pipeline import (
    DATASETS,
    DEFAULT_DATASET,
    DEFAULT_MAX_EPOCHS,
    DEFAULT_METHODS,
    DEFAULT_MODEL,
    DEFAULT_N_COPIES,
    DEFAULT_N_FOLDS,
    DEFAULT_N_HOURS,
    DEFAULT_N_SEEDS,
    DEFAULT_N_SUBJECTS,
    DEFAULT_N_WINDOWS,
    DEFAULT_TRAIN_SIZES,
    METHODS,
    MODELS,
    JobFailed,
    JobInterrupted,
    check_design,
    data_fingerprint,
    load_sleep_windows,
    parse_variant,
    run_comparison,
)
from .report import (
    STOP_NOTES,
    UNSTANDARDIZED,
    clear_report,
    merge_runs,
    read_report,
    warn_training_health,
    write_failed,
    write_interrupted,
    write_report,
)

__all__ = ["build_parser", "main"]

#: Report folder written when ``--out`` is not given.
DEFAULT_OUT = "augnet-report"

#: Exit status of a job stopped by Ctrl-C (128 + SIGINT, as shells use).
EXIT_INTERRUPTED = 130


def _at_least(minimum, kind=int):
    """An argparse type: a ``kind`` number >= ``minimum``."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    return parse


def _positive_float(text):
    value = _at_least(0.0, float)(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _fraction(text):
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(
            f"a fraction of the training subjects in (0, 1], got {text}"
        )
    return value


def build_parser(parser_class=argparse.ArgumentParser):
    """The argument parser of ``python -m braindecode_augnet``."""
    parser = parser_class(
        prog="python -m braindecode_augnet",
        description=(
            "Which augmentation, if any, helps sleep staging on this data, and "
            "how sure is that? Trains each method (default: no augmentation, a "
            "random policy, AugNet) on seeds x leave-subjects-out folds and "
            "writes a report folder with the paired differences of balanced "
            "accuracy (median, bootstrap interval, Wilcoxon p, wins), what the "
            "design can resolve, per-stage F1, confusion matrices, a hypnogram, "
            "the learned policy and, with --train-sizes, a learning curve. Runs "
            "on an embedded synthetic sleep-EEG default when no data set is "
            "given; the default design is smoke-sized (about 10 minutes on 2 CPU "
            "cores): scale it with --seeds, --folds, --n-subjects, --epochs."
        ),
    )
    parser.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        choices=DATASETS,
        help=f"data set (default: {DEFAULT_DATASET}, embedded, offline)",
    )
    parser.add_argument(
        "--data-path",
        default=None,
        help="folder of a local MASS copy, of your own EDF files, or of Sleep-EDF",
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        default=None,
        help="channels to read with --dataset edf (default: those named EEG...)",
    )
    parser.add_argument(
        "--stage-coding",
        default=None,
        help=(
            "hypnogram labels with --dataset edf: stage names by default; rk "
            "(0 W, 1-4, 5 REM), aasm (0 W, 1 N1, 2 N2, 3 N3, 4 REM), prerau "
            "(5 W, 4 REM, 3 N1, 2 N2, 1 N3) or 'label=stage,...' (stage W, N1, "
            "N2, N3, REM or drop)"
        ),
    )
    parser.add_argument(
        "--subjects",
        type=_at_least(0),
        nargs="+",
        default=None,
        help="subject ids to load (sleep-physionet, mass; default: the first n)",
    )
    parser.add_argument(
        "--n-subjects",
        type=_at_least(1),
        default=DEFAULT_N_SUBJECTS,
        help=f"number of subjects (default: {DEFAULT_N_SUBJECTS})",
    )
    parser.add_argument(
        "--n-hours",
        type=_positive_float,
        default=DEFAULT_N_HOURS,
        help=f"hours per synthetic recording (default: {DEFAULT_N_HOURS:g})",
    )
    parser.add_argument(
        "--standardize",
        choices=("recording", "none"),
        default="recording",
        help=(
            "each channel of each recording standardised robustly (median, "
            "interquartile range; default), or 'none': left in microvolts, so "
            "that amplitude differences between subjects reach the models"
        ),
    )
    parser.add_argument(
        "--epochs",
        type=_at_least(1),
        default=DEFAULT_MAX_EPOCHS,
        help=(
            "maximum training epochs per model, the best validation epoch kept "
            f"(default: {DEFAULT_MAX_EPOCHS})"
        ),
    )
    parser.add_argument(
        "--seeds",
        type=_at_least(1),
        default=DEFAULT_N_SEEDS,
        help=(
            "number of seeds; each draws its own folds, initialisations and "
            f"augmentations (default: {DEFAULT_N_SEEDS})"
        ),
    )
    parser.add_argument(
        "--first-seed",
        type=_at_least(0),
        default=0,
        help="first seed: seeds S, S+1, ... (default: 0)",
    )
    parser.add_argument(
        "--folds",
        type=_at_least(2),
        default=DEFAULT_N_FOLDS,
        help=(
            "leave-subjects-out folds per seed; pairs = seeds x folds "
            f"(default: {DEFAULT_N_FOLDS})"
        ),
    )
    parser.add_argument(
        "--train-sizes",
        type=_fraction,
        nargs="+",
        default=list(DEFAULT_TRAIN_SIZES),
        help=(
            "learning curve: fractions of each fold's training subjects to "
            "train on (e.g. 0.25 0.5 1; at least one subject; validation and "
            "test subjects unchanged); several sizes draw learning_curve.png "
            "(default: 1)"
        ),
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=METHOD:KEY=VALUE,...",
        help=(
            "a named variant of an AugNet-family method to compare as a method "
            "of its own, e.g. --variant augnet_05=augnet:init_magnitude=0.5 "
            "--methods none augnet augnet_05 (repeatable; parameters of "
            "AugNetClassifier)"
        ),
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(DEFAULT_METHODS),
        help=(
            "methods to compare, each paired with every method before it "
            f"(default: {' '.join(DEFAULT_METHODS)}; 'fixed' is braindecode's "
            "FTSurrogate, FrequencyShift and SignFlip at fixed settings)"
        ),
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        choices=MODELS,
        help=(
            "trunk: SleepStagerChambon2018 on single windows (chambon), or on "
            "sequences of windows with per-window predictions: TimeDistributed "
            f"SleepStagerChambon2018 (timedistributed) or USleep (default: "
            f"{DEFAULT_MODEL})"
        ),
    )
    parser.add_argument(
        "--n-windows",
        type=_at_least(1),
        default=DEFAULT_N_WINDOWS,
        help=(
            "consecutive windows per sequence of the sequence models (default: "
            f"{DEFAULT_N_WINDOWS})"
        ),
    )
    parser.add_argument(
        "--sequence-augmentation",
        default=SEQUENCE_AUGMENTATIONS[0],
        choices=SEQUENCE_AUGMENTATIONS,
        help=(
            "AugNet on sequences: one draw per window, or one per sequence shared "
            f"by its windows (default: {SEQUENCE_AUGMENTATIONS[0]})"
        ),
    )
    parser.add_argument(
        "--n-copies",
        type=_at_least(1),
        default=DEFAULT_N_COPIES,
        help=f"augmented copies averaged at inference (default: {DEFAULT_N_COPIES})",
    )
    parser.add_argument(
        "--device", default="cpu", help="torch device: cpu, cuda, cuda:N (default: cpu)"
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"report folder, new or empty (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=(
            "write into a folder that holds files: the files of an earlier "
            "report there are replaced once the new report is written (a job "
            "stopped in training writes INTERRUPTED.md or FAILED.md beside "
            "the earlier report, kept), other files are kept"
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="less output")
    parser.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="REPORT",
        help=(
            "instead of running, write one report (--out) from the runs of "
            "finished report folders of one design, e.g. seeds run apart with "
            "--first-seed on several machines; runs two reports share must "
            "agree; the design is read from the reports (only --out, "
            "--overwrite and --quiet apply)"
        ),
    )
    parser.add_argument(
        "--epoch-logs", action="store_true", help="skorch's table of every epoch"
    )
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def _check_device(parser, name):
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as err:
        parser.error(
            f"--device {name!r} is not a torch device ({err}); use cpu or cuda"
        )
    if device.type == "cpu":
        return
    if device.type == "cuda":
        if not torch.cuda.is_available():
            parser.error(
                f"--device {name}: torch sees no CUDA GPU on this machine; use "
                "--device cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            parser.error(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)"
            )
        return
    if device.type == "mps" and torch.backends.mps.is_available():
        return
    parser.error(f"--device {name}: not available here; use cpu or cuda")


#: The file by which a job claims its report folder while it runs.
JOB_MARKER = ".braindecode-augnet-job"


def _prepare_out(parser, name, overwrite):
    """Check that the report folder can be written, create it and claim it
    (:data:`JOB_MARKER`: a second job on the same folder is refused, where
    it would replace this one's report); return the folders created
    (removed again, with the claim, by :func:`_release_out`)."""
    out = Path(name)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {name}: exists and is not a folder; pass a folder path")
    _check_unclaimed(parser, out)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        parser.error(
            f"--out {name}: the folder holds files (an earlier report?); pass "
            "--overwrite to replace the report files in it, or a new or empty "
            "folder"
        )
    created = []
    parent = out.absolute()
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        _remove_empty(created)
        parser.error(
            f"--out {name}: cannot write there ({err}); pass a writable folder"
        )
    try:  # created only if absent: of two jobs started at once, one claims
        fd = os.open(out / JOB_MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        _check_unclaimed(parser, out)
        raise
    with os.fdopen(fd, "w") as marker:
        marker.write(f"pid {os.getpid()}, started {_now()}\n")
    return created


def _check_unclaimed(parser, out):
    marker = out / JOB_MARKER
    if marker.is_file():
        claim = marker.read_text().strip() or "pid unknown"
        parser.error(
            f"--out {out}: another job ({claim}) writes its report there; wait "
            "for it to end or pass another --out (if no job runs there, one was "
            f"killed: remove {marker})"
        )


def _release_out(out, created):
    """Drop the job's claim on its report folder, and the folders it
    created if they are empty (the job wrote nothing)."""
    try:
        (Path(out) / JOB_MARKER).unlink()
    except FileNotFoundError:
        pass
    _remove_empty(created)


def _remove_empty(folders):
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            break


def _check_args(parser, args):
    """Every check that needs no data, before anything is loaded."""
    if args.subjects is not None:
        if args.dataset == "synthetic":
            parser.error(
                "--subjects selects recordings of a real data set; the synthetic "
                "data set has none to select: use --n-subjects"
            )
        if len(set(args.subjects)) != len(args.subjects):
            parser.error(f"--subjects has repeated ids: {args.subjects}")
    if args.data_path is not None and args.dataset == "synthetic":
        parser.error(
            "--data-path reads a real data set, and the synthetic data set (the "
            "default) is generated: add --dataset edf (your own EDF files), mass "
            "or sleep-physionet"
        )
    if args.model == "chambon":  # options of the sequence models, else ignored
        for option in ("n_windows", "sequence_augmentation"):
            if getattr(args, option) != parser.get_default(option):
                flag = "--" + option.replace("_", "-")
                parser.error(
                    f"{flag} applies to the sequence models, and --model chambon "
                    "(the default) reads single windows: add --model "
                    f"timedistributed or usleep, or leave {flag} out"
                )
    variants = {}
    for spec in args.variant:
        try:
            name, variant = parse_variant(spec)
        except ValueError as err:
            parser.error(f"--variant: {err}")
        variants[name] = variant
    args.variants = variants
    unknown = [m for m in args.methods if m not in METHODS and m not in variants]
    if unknown:
        parser.error(
            f"--methods: unknown {' '.join(unknown)} (choose from "
            f"{', '.join(METHODS)}, or name a --variant)"
        )
    if len(set(args.methods)) != len(args.methods):
        parser.error(f"--methods has repeated methods: {' '.join(args.methods)}")
    if len(set(args.train_sizes)) != len(args.train_sizes):
        parser.error(f"--train-sizes has repeated sizes: {args.train_sizes}")
    if "fixed" in args.methods and args.model != "chambon":
        parser.error("--methods fixed (braindecode's transforms) needs --model chambon")
    n_subjects = None
    if args.subjects is not None:
        n_subjects = len(args.subjects)
    elif args.dataset in ("synthetic", "sleep-physionet"):
        n_subjects = args.n_subjects
    if n_subjects is not None:
        try:
            check_design(n_subjects, args.folds)
        except ValueError as err:
            parser.error(f"--n-subjects/--subjects and --folds: {err}")
    _check_device(parser, args.device)


def _now():
    """The date and time written in a report's design."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _design(args, argv):
    command = ["python", "-m", "braindecode_augnet", *argv]
    return {
        "dataset": args.dataset,
        "subjects": args.subjects if args.subjects is not None else args.n_subjects,
        "hours per recording": args.n_hours if args.dataset == "synthetic" else None,
        "standardize": _standardize(args) or UNSTANDARDIZED,
        "model": args.model,
        "methods": " ".join(args.methods),
        "seeds": (
            f"{args.first_seed}"
            if args.seeds == 1
            else f"{args.first_seed}-{args.first_seed + args.seeds - 1}"
        ),
        "folds": args.folds,
        "training sizes": " ".join(f"{f:g}" for f in sorted(args.train_sizes)),
        "max epochs": args.epochs,
        "n_copies": args.n_copies,
        "device": args.device,
        "library": f"braindecode-augnet {__version__}",
        "command": shlex.join(command),
        "date": _now(),
    }


def main(argv=None):
    """Run the sleep-staging comparison; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.merge is not None:
        return _merge(parser, args, argv)
    _check_args(parser, args)
    created = _prepare_out(parser, args.out, args.overwrite)
    verbose = not args.quiet
    design = _design(args, argv)
    start = time.perf_counter()
    try:
        return _run(args, design, verbose, start)
    except KeyboardInterrupt:  # outside training: nothing run to report
        print("\ninterrupted (Ctrl-C): no report written", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _release_out(args.out, created)


def _run(args, design, verbose, start):
    try:
        windows = load_sleep_windows(
            args.dataset,
            data_path=args.data_path,
            subject_ids=args.subjects,
            n_subjects=args.n_subjects,
            n_hours=args.n_hours,
            verbose=verbose,
            channels=args.channels,
            stage_coding=args.stage_coding,
            standardize=_standardize(args),
        )
        n_subjects = windows.description["subject"].nunique()
        check_design(n_subjects, args.folds)
        design["data fingerprint"] = data_fingerprint(windows)
    except (ConnectionError, FileNotFoundError, ValueError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        outcome = run_comparison(
            windows,
            methods=tuple(args.methods),
            n_seeds=args.seeds,
            first_seed=args.first_seed,
            n_folds=args.folds,
            train_sizes=tuple(args.train_sizes),
            max_epochs=args.epochs,
            n_copies=args.n_copies,
            device=args.device,
            verbose=verbose,
            epoch_logs=args.epoch_logs,
            model=args.model,
            n_windows=args.n_windows,
            variants=args.variants,
            augnet_kwargs=(
                None
                if args.model == "chambon"
                else {"sequence_augmentation": args.sequence_augmentation}
            ),
        )
    except JobInterrupted as stop:
        last = stop.runs.iloc[-1] if len(stop.runs) else None
        where = (
            ""
            if last is None
            else f" while training {last['method']!r} (seed {last['seed']}, fold "
            f"{last['fold'] + 1}, {last['epochs']} of {last['max_epochs']} epochs)"
        )
        _stopped(
            args,
            partial(write_interrupted, args.out, stop.runs, design, verbose=False),
            f"interrupted (Ctrl-C){where}",
        )
        return EXIT_INTERRUPTED
    except JobFailed as failure:
        error = failure.__cause__ or failure
        traceback.print_exception(error, file=sys.stderr)
        _stopped(
            args,
            partial(write_failed, args.out, failure.runs, design, error, verbose=False),
            f"error: {failure}",
        )
        return 1
    # the earlier report's files are replaced once the new ones are written
    design["wall time"] = f"{time.perf_counter() - start:.0f} s"
    write_report(args.out, outcome, design, verbose=verbose)
    warn_training_health(outcome["results"], design)
    if verbose:
        print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


def _stopped(args, write_note, headline):
    """A job stopped in training: its note (what ran, no scores), and where
    it is. An earlier report that ``--overwrite`` would have replaced is
    kept (only a finished report replaces it); an earlier job's note goes."""
    if args.overwrite:
        clear_report(args.out, STOP_NOTES)
    path = write_note()
    kept = (Path(args.out) / "report.md").is_file()
    print(
        f"\n{headline}: the job stopped, no report written; what ran is listed "
        f"in {path}"
        + ("; the earlier report in that folder is kept, as it was" if kept else ""),
        file=sys.stderr,
    )


#: Options that a merge takes; the rest of the design comes from the reports.
_MERGE_OPTIONS = ("--merge", "--out", "--overwrite", "--quiet")
#: Options that may differ between the reports of one design: which runs
#: each holds, and where and how it ran.
_PER_REPORT = (
    "seeds",
    "first_seed",
    "methods",
    "train_sizes",
    "variant",
    "device",
    "out",
    "overwrite",
    "quiet",
    "epoch_logs",
    "merge",
    "data_path",  # the same data may lie elsewhere on another machine
)


class _RaisingParser(argparse.ArgumentParser):
    """A parser whose errors raise ValueError (reading a report's command)."""

    def error(self, message):
        raise ValueError(message)


def _run_options(parser, design, folder):
    """The options of the job that wrote a report (its command parsed),
    but those of :data:`_PER_REPORT`, and its variants."""
    command = design.get("run command") or design.get("command") or ""
    try:
        tokens = shlex.split(command)[3:]  # python -m braindecode_augnet ...
        args = build_parser(_RaisingParser).parse_args(tokens)
        variants = dict(parse_variant(spec) for spec in args.variant)
    except ValueError as err:
        parser.error(
            f"--merge {folder}: its command {command!r} cannot be read by this "
            f"version ({err}); merge reports of this version"
        )
    options = {k: v for k, v in vars(args).items() if k not in _PER_REPORT}
    return options, variants


def _merge(parser, args, argv):
    """``--merge``: one report from the runs of several."""
    extra = [
        a for a in argv if a.startswith("--") and a.split("=")[0] not in _MERGE_OPTIONS
    ]
    if extra:
        parser.error(
            f"--merge reads the design from the reports: {' '.join(extra)} does not "
            f"apply (only {', '.join(_MERGE_OPTIONS[1:])})"
        )
    designs, tables = [], []
    for folder in args.merge:
        _check_unclaimed(parser, Path(folder))  # its report may be replaced
        try:
            design, runs = read_report(folder)
        except ValueError as err:
            parser.error(f"--merge: {err}")
        designs.append(design)
        tables.append(runs)
    _check_one_design(parser, args.merge, designs)
    try:
        results = merge_runs(tables, args.merge)
    except ValueError as err:
        parser.error(f"--merge: {err}")
    created = _prepare_out(parser, args.out, args.overwrite)
    try:
        design = _merged_design(designs, results, args.merge, argv)
        write_report(args.out, {"results": results}, design, verbose=not args.quiet)
    finally:
        _release_out(args.out, created)
    warn_training_health(results, design)
    return 0


def _standardize(args):
    """``--standardize`` as :func:`~.load_sleep_windows` takes it."""
    return None if args.standardize == "none" else args.standardize


#: Design entries that reports to merge must share: (key, value of a report
#: without it, ``None`` for not compared; what differs; the fix).
_SHARED_ENTRIES = (
    # reports written before --standardize kept microvolts
    ("standardize", UNSTANDARDIZED, "were standardised otherwise", "one --standardize"),
    ("library", None, "were made by other versions", "one version"),
    # reports written before it was recorded: not compared
    ("data fingerprint", None, "were made on other data", "the same data"),
)


def _check_one_design(parser, folders, designs):
    """Refuse reports of other versions, options or variants than the first."""
    for key, default, what, fix in _SHARED_ENTRIES:
        values = {d.get(key, default): f for d, f in zip(designs, folders)}
        values.pop(None, None)
        if len(values) > 1:
            shown = "; ".join(f"{f}: {value}" for value, f in values.items())
            parser.error(
                f"--merge: the reports {what} ({shown}); their runs cannot be "
                f"paired: run them again with {fix}"
            )
    first, variants = _run_options(parser, designs[0], folders[0])
    for folder, design in zip(folders[1:], designs[1:]):
        options, theirs = _run_options(parser, design, folder)
        differ = [k for k in first if first[k] != options.get(k)]
        if differ:
            shown = "; ".join(
                f"{k}: {first[k]!r} vs {options.get(k)!r}" for k in differ
            )
            parser.error(
                f"--merge: {folders[0]} and {folder} are not of one design "
                f"({shown}): their runs cannot be paired"
            )
        for name, variant in theirs.items():
            if variants.setdefault(name, variant) != variant:
                parser.error(
                    f"--merge: {folder} defines the variant {name!r} otherwise "
                    f"than an earlier report ({variant} vs {variants[name]})"
                )


def _merged_design(designs, results, folders, argv):
    """The first report's design, with the merged runs' methods, seeds,
    sizes and devices, the sources, and the command that made the runs."""
    design = {k: v for k, v in designs[0].items() if k != "wall time"}
    design["methods"] = " ".join(dict.fromkeys(results["method"]))
    design["seeds"] = ", ".join(str(s) for s in sorted(results["seed"].unique()))
    sizes = sorted(results["train_size"].unique())
    design["training sizes"] = " ".join(f"{f:g}" for f in sizes)
    devices = [str(d["device"]) for d in designs if d.get("device")]
    if devices:
        design["device"] = " ".join(dict.fromkeys(devices))
    design["run command"] = designs[0].get("run command") or designs[0].get("command")
    design["merged from"] = " ".join(folders)
    design["command"] = shlex.join(["python", "-m", "braindecode_augnet", *argv])
    design["date"] = _now()
    return design
