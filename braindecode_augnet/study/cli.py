"""Command line: sleep staging with AugNet, written up in a report folder."""

import argparse
import sys
import time

import pandas as pd

from .._version import __version__
from ..model import SEQUENCE_AUGMENTATIONS
from .pipeline import (
    DATASETS,
    DEFAULT_DATASET,
    DEFAULT_MAX_EPOCHS,
    DEFAULT_METHODS,
    DEFAULT_MODEL,
    DEFAULT_N_COPIES,
    DEFAULT_N_HOURS,
    DEFAULT_N_SUBJECTS,
    DEFAULT_N_WINDOWS,
    METHODS,
    MODELS,
    load_sleep_windows,
    train_sleep_models,
)
from .report import write_report

__all__ = ["build_parser", "main"]

#: Report folder written when ``--out`` is not given.
DEFAULT_OUT = "augnet-report"


def build_parser():
    """The argument parser of ``python -m braindecode_augnet``."""
    parser = argparse.ArgumentParser(
        prog="python -m braindecode_augnet",
        description=(
            "Sleep staging with AugNet (a SleepStagerChambon2018 trunk, or a "
            "sequence model: TimeDistributed SleepStagerChambon2018 or USleep) "
            "next to the same model without augmentation. Writes a report folder with "
            "balanced accuracy, Cohen's kappa and macro-F1, confusion matrices, "
            "a hypnogram and the learned augmentation policy. Runs on an "
            "embedded synthetic sleep-EEG default when no data set is given."
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
        help="folder of a local MASS copy (or of Sleep-EDF files)",
    )
    parser.add_argument(
        "--subjects",
        type=int,
        nargs="*",
        default=None,
        help="subject ids to load (default: the first n)",
    )
    parser.add_argument(
        "--n-subjects",
        type=int,
        default=DEFAULT_N_SUBJECTS,
        help=f"number of subjects (default: {DEFAULT_N_SUBJECTS})",
    )
    parser.add_argument(
        "--n-hours",
        type=float,
        default=DEFAULT_N_HOURS,
        help=f"hours per synthetic recording (default: {DEFAULT_N_HOURS:g})",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_MAX_EPOCHS,
        help=f"maximum training epochs per model (default: {DEFAULT_MAX_EPOCHS})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="seeds of split and training (default: 0)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(DEFAULT_METHODS),
        choices=METHODS,
        help=f"methods to compare (default: {' '.join(DEFAULT_METHODS)})",
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
        type=int,
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
        type=int,
        default=DEFAULT_N_COPIES,
        help=f"augmented copies averaged at inference (default: {DEFAULT_N_COPIES})",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"report folder (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument("--quiet", action="store_true", help="less output")
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def main(argv=None):
    """Run the sleep-staging job; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_windows < 1:
        parser.error(f"--n-windows must be at least 1, got {args.n_windows}.")
    verbose = not args.quiet
    start = time.perf_counter()
    try:
        windows = load_sleep_windows(
            args.dataset,
            data_path=args.data_path,
            subject_ids=args.subjects,
            n_subjects=args.n_subjects,
            n_hours=args.n_hours,
            verbose=verbose,
        )
    except (ConnectionError, FileNotFoundError, ValueError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results, last = [], None
    for seed in args.seeds:
        last = train_sleep_models(
            windows,
            methods=tuple(args.methods),
            seed=seed,
            max_epochs=args.epochs,
            n_copies=args.n_copies,
            device=args.device,
            verbose=verbose,
            model=args.model,
            n_windows=args.n_windows,
            augnet_kwargs=(
                None
                if args.model == "chambon"
                else {"sequence_augmentation": args.sequence_augmentation}
            ),
        )
        results.append(last["results"])
    write_report(
        args.out,
        pd.concat(results, ignore_index=True),
        last["models"],
        last["test"],
        verbose=verbose,
        predictions=last["predictions"],
        model=args.model,
    )
    if verbose:
        print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
