"""Command line: sleep staging with AugNet, written up in a report folder."""

import argparse
import sys
import time

from ._version import __version__

__all__ = ["main"]


def build_parser():
    """The argument parser of ``python -m braindecode_augnet``."""
    parser = argparse.ArgumentParser(
        prog="python -m braindecode_augnet",
        description=(
            "Sleep staging with AugNet (SleepStagerChambon2018 trunk) next to the "
            "same model without augmentation. Writes a report folder with "
            "balanced accuracy, Cohen's kappa and macro-F1, confusion matrices, "
            "a hypnogram and the learned augmentation policy. Runs on an "
            "embedded synthetic sleep-EEG default when no data set is given."
        ),
    )
    parser.add_argument(
        "--dataset",
        default="synthetic",
        choices=["synthetic", "sleep-physionet", "mass"],
        help="data set (default: synthetic, embedded, offline)",
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
        "--n-subjects", type=int, default=10, help="number of subjects (default: 10)"
    )
    parser.add_argument(
        "--n-hours",
        type=float,
        default=1.5,
        help="hours per synthetic recording (default: 1.5)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=10,
        help="maximum training epochs per model (default: 10)",
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
        default=["none", "augnet"],
        choices=["none", "augnet", "augerino", "random"],
        help="methods to compare (default: none augnet)",
    )
    parser.add_argument(
        "--n-copies",
        type=int,
        default=20,
        help="augmented copies averaged at inference (default: 20)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument(
        "--out",
        default="augnet-report",
        help="report folder (default: ./augnet-report)",
    )
    parser.add_argument("--quiet", action="store_true", help="less output")
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def main(argv=None):
    """Run the sleep-staging job; returns the process exit code."""
    args = build_parser().parse_args(argv)
    import pandas as pd

    from .pipeline import load_sleep_windows, train_sleep_models, write_report

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
        )
        results.append(last["results"])
    write_report(
        args.out,
        pd.concat(results, ignore_index=True),
        last["models"],
        last["test"],
        verbose=verbose,
    )
    if verbose:
        print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
