"""Sleep-staging accuracy of AugNet against augmentation baselines.

Trains ``SleepStagerChambon2018`` on the synthetic sleep default (or on
Sleep-EDF / MASS with ``--dataset sleep-physionet|mass --data-path DIR``)
with eight kinds of augmentation, under the common settings of
:func:`braindecode_augnet.study.pipeline.train_sleep_models` (per-subject split,
Adam, balanced class weights, best validation balanced accuracy kept):

* ``none``: no augmentation (plain ``EEGClassifier``);
* ``fixed``: braindecode's own transforms at typical sleep settings, each
  applied with probability 0.5, through
  :class:`braindecode.augmentation.AugmentedDataLoader` in a plain
  ``EEGClassifier`` (the pipeline's ``'fixed'`` method,
  :func:`braindecode_augnet.study.pipeline.fixed_augmentation`);
* ``random``: TrivialAugment-style random policy over AugNet's candidates;
* ``augerino``: Augerino-style learned ranges (Benton et al. 2020);
* ``adda``, ``cadda``: policies searched by bilevel optimisation (ADDA and
  its class-wise variant CADDA, Rommel et al. ICLR 2022, after DADA), one
  unrolled policy step per training batch on 20% of the training windows
  held out (``AugNetClassifier(method='adda' | 'cadda')``);
* ``augnet``: AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022), the
  paper's mixture layers;
* ``augnet_sampled``: AugNet with one candidate drawn per example
  (``sampling='sampled'``).

Every method is trained by the pipeline (its estimator factory,
:func:`~braindecode_augnet.study.pipeline.make_estimator`, through
``train_sleep_models``), with several seeds (each seed draws its own subject
split, initialisation and augmentations). The script reports balanced
accuracy, Cohen's kappa, macro-F1 and wall-clock training time per method as
mean +- std over seeds, the differences of balanced accuracy paired by seed
(each method minus none, fixed and random: mean +- std and the number of
seeds ahead), the ratio of ADDA's (and CADDA's) training time to AugNet's,
writes the per-seed scores and the learned policies into the
JSON, and plots balanced accuracy against training time (as Figure 6 of the
paper) into a PNG next to it.

Usage::

    python -m benchmarks.bench_accuracy [--quick] [--dataset mass --data-path DIR]
    python -m benchmarks.bench_accuracy --merge A.json B.json  # pool seeds
"""

import json
import math
import shutil
import time
from pathlib import Path

import numpy as np

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.bench_accuracy (repository root)")

from . import _common as C  # noqa: E402

NAME = "bench_accuracy"

#: Methods in reporting order.
METHODS = (
    "none",
    "fixed",
    "random",
    "augerino",
    "adda",
    "cadda",
    "augnet",
    "augnet_sampled",
)

#: Methods with a learned policy worth saving.
LEARNED = ("augerino", "adda", "cadda", "augnet", "augnet_sampled")

#: Benchmark methods that are an ``AugNetClassifier`` method with other
#: settings: (classifier method, extra parameters).
VARIANTS = {"augnet_sampled": ("augnet", {"sampling": "sampled"})}

METRICS = ("balanced_accuracy", "kappa", "macro_f1", "train_time_s")

#: Marker and colour of each method in the plot.
STYLE = {
    "none": ("o", "tab:gray"),
    "fixed": ("s", "tab:blue"),
    "random": ("^", "tab:orange"),
    "augerino": ("D", "tab:green"),
    "adda": ("v", "tab:purple"),
    "cadda": ("P", "tab:brown"),
    "augnet": ("*", "tab:red"),
    "augnet_sampled": ("X", "tab:pink"),
}


# --------------------------------------------------------------- fixed policy
def _describe(transform):
    """Name and main settings of a braindecode transform."""
    keys = ("probability", "max_delta_freq", "phase_noise_magnitude")
    settings = {k: getattr(transform, k) for k in keys if hasattr(transform, k)}
    return {"transform": type(transform).__name__, **settings}


# ------------------------------------------------------------------ helpers
def warm_up(n_chans, n_times, sfreq, batch_size, device, steps=3):
    """A few untimed trunk steps, so that the first method timed does not
    pay the one-off costs (kernel selection, allocator growth)."""
    import torch
    from braindecode.models import SleepStagerChambon2018

    model = SleepStagerChambon2018(
        n_chans=n_chans, n_times=n_times, n_outputs=5, sfreq=sfreq
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters())
    X = torch.randn(batch_size, n_chans, n_times, device=device)
    y = torch.randint(0, 5, (batch_size,), device=device)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    with torch.no_grad():
        model.eval()(X)


def _records(frame):
    """A DataFrame as JSON-safe records (NaN -> None)."""
    records = frame.to_dict(orient="records")
    return [
        {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in rec.items()
        }
        for rec in records
    ]


def summarize_rows(rows, methods):
    """Mean, std (0 with one seed) and count of each metric per method."""
    summary = {}
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        summary[method] = {}
        for metric in METRICS:
            summary[method][metric] = C.mean_std(r[metric] for r in mine)
    return summary


def paired_differences(rows, methods, baselines=("none", "fixed", "random")):
    """Per-seed differences of balanced accuracy, paired by seed.

    For each method and baseline measured on common seeds: the mean and
    standard deviation over seeds of ``method - baseline`` (the same split
    and data for both), the number of seeds where the method is ahead, the
    seeds compared, and the main job's paired statistics
    (:func:`braindecode_augnet.study.comparison.paired_stats`: median,
    bootstrap interval, Wilcoxon p-value, ties, losses, minimal detectable
    difference). Paired differences remove the spread that the split's
    difficulty puts on both methods alike, which dominates the unpaired
    standard deviations of small sleep benchmarks.
    """
    from braindecode_augnet.study.comparison import paired_stats

    score = {(r["method"], r["seed"]): r["balanced_accuracy"] for r in rows}
    paired = {}
    for method in methods:
        for base in baselines:
            if METHODS.index(base) >= METHODS.index(method):
                continue  # each pair once: a method against earlier baselines
            seeds = sorted(s for (m, s) in score if m == method and (base, s) in score)
            if not seeds:
                continue
            diffs = [score[method, s] - score[base, s] for s in seeds]
            stats = paired_stats(diffs)
            paired[f"{method} - {base}"] = {
                **{k: stats[k] for k in ("median", "ci_low", "ci_high")},
                **{k: stats[k] for k in ("p_value", "ties", "losses", "mdd")},
                **C.mean_std(diffs),
                "wins": sum(d > 0 for d in diffs),
                "seeds": seeds,
            }
    return paired


def format_paired(paired):
    """Table of the paired differences of balanced accuracy."""
    rows = [
        [
            name,
            _pm(stats),
            f"{stats['median']:+.3f} [{stats['ci_low']:+.3f}, {stats['ci_high']:+.3f}]",
            "-" if stats["p_value"] is None else f"{stats['p_value']:.3g}",
            f"{stats['wins']}/{stats['ties']}/{stats['losses']}",
        ]
        for name, stats in paired.items()
    ]
    headers = ["difference", "mean ± std (paired)", "median [95% CI]"]
    return C.format_table([*headers, "Wilcoxon p", "wins/ties/losses"], rows)


def _pm(stats, digits=3):
    return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"


def format_summary(summary):
    """Table of mean ± std over seeds, with the gain over no augmentation."""
    base = summary.get("none", {}).get("balanced_accuracy", {}).get("mean")
    rows = []
    for method, stats in summary.items():
        bacc = stats["balanced_accuracy"]["mean"]
        gain = "-" if base is None or method == "none" else f"{bacc - base:+.3f}"
        rows.append(
            [
                method,
                _pm(stats["balanced_accuracy"]),
                gain,
                _pm(stats["kappa"]),
                _pm(stats["macro_f1"]),
                _pm(stats["train_time_s"], 1),
                stats["balanced_accuracy"]["n"],
            ]
        )
    headers = ["method", "balanced acc.", "vs none", "kappa", "macro-F1"]
    return C.format_table(headers + ["train time (s)", "seeds"], rows)


def plot_accuracy_vs_time(summary, rows, path, title):
    """Balanced accuracy against training time (mean, error bars over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for method, stats in summary.items():
        marker, color = STYLE.get(method, ("o", None))
        seeds = [r for r in rows if r["method"] == method]
        ax.scatter(
            [r["train_time_s"] for r in seeds],
            [r["balanced_accuracy"] for r in seeds],
            marker=marker,
            color=color,
            alpha=0.3,
            s=20,
        )
        ax.errorbar(
            stats["train_time_s"]["mean"],
            stats["balanced_accuracy"]["mean"],
            xerr=stats["train_time_s"]["std"],
            yerr=stats["balanced_accuracy"]["std"],
            marker=marker,
            color=color,
            markersize=11 if marker == "*" else 8,
            capsize=3,
            linestyle="none",
            label=method,
        )
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("test balanced accuracy")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def time_ratios(summary):
    """Mean training time of ADDA and CADDA over AugNet's (mixture and
    sampled), for the pairs measured."""

    def mean_time(method):
        return summary.get(method, {}).get("train_time_s", {}).get("mean")

    ratios = {}
    for bilevel in ("adda", "cadda"):
        for augnet in ("augnet", "augnet_sampled"):
            value = C.ratio(mean_time(bilevel), mean_time(augnet))
            if value is not None:
                ratios[f"{bilevel} / {augnet}"] = value
    return ratios


def report(rows, methods, title, plot_path):
    """Print the tables of ``rows`` (per-seed scores) and draw the plot.

    Returns the ``summary``, ``paired`` and ``time_ratios`` entries of the
    JSON.
    """
    summary = summarize_rows(rows, methods)
    n_seeds = len({r["seed"] for r in rows})
    print(f"\nTest scores, mean ± std over {n_seeds} seed(s):")
    print(format_summary(summary))
    paired = paired_differences(rows, methods)
    if paired:
        print("\nPaired by seed (same split for both):")
        print(format_paired(paired))
    ratios = time_ratios(summary)
    for name, value in ratios.items():
        print(f"training time {name}: {C.fmt_ratio(value)}")
    plot_accuracy_vs_time(summary, rows, plot_path, f"{title}, {n_seeds} seed(s)")
    print(f"\nwrote {plot_path}")
    return {"summary": summary, "paired": paired, "time_ratios": ratios}


#: Settings in which the runs pooled by :func:`merge` may differ (the data
#: path: the same recordings may lie elsewhere on another machine).
MERGE_FREE = ("seeds", "methods", "data_path")


def _load_run(path):
    """The payload of a bench_accuracy result file (ValueError otherwise)."""
    try:
        payload = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        payload = None
    results = payload.get("results") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("benchmark") != NAME
        or not isinstance(payload.get("settings"), dict)
        or not isinstance(results, dict)
        or not isinstance(results.get("per_seed"), list)
    ):
        found = payload.get("benchmark") if isinstance(payload, dict) else None
        raise ValueError(
            f"{path} is not a {NAME} result (benchmark: {found!r}): --merge "
            f"pools the JSON files that {NAME} writes."
        )
    return payload


def merge(paths, out_dir):
    """Pool the per-seed scores of several runs (e.g. seeds run on several
    machines) into one summary, table, plot and JSON.

    The runs must share their data and training settings (all but
    :data:`MERGE_FREE`), which are recorded under ``runs``; a seed met twice
    for the same method is an error.

    Raises
    ------
    ValueError
        If a file is not a bench_accuracy result, if the runs' settings
        differ (the differing keys named) or if a seed is met twice.
    """
    payloads = [_load_run(p) for p in paths]
    first = {k: v for k, v in payloads[0]["settings"].items() if k not in MERGE_FREE}
    for path, payload in zip(paths[1:], payloads[1:]):
        other = {k: v for k, v in payload["settings"].items() if k not in MERGE_FREE}
        changed = C.differences(first, other, ("first", "second"))
        if changed:
            raise ValueError(
                f"the runs of {paths[0]} (first) and {path} (second) differ in "
                f"their data or settings, so their seeds cannot be pooled: "
                f"{'; '.join(changed)}."
            )
    rows, seen = [], set()
    for payload in payloads:
        for row in payload["results"]["per_seed"]:
            key = (row["method"], row["seed"])
            if key in seen:
                raise ValueError(
                    f"seed {row['seed']} of {row['method']!r} is in several of "
                    f"{list(map(str, paths))}: merge runs of different seeds."
                )
            seen.add(key)
            rows.append(row)
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = report(rows, methods, "merged runs", out_dir / f"{NAME}_merged.png")
    results["per_seed"] = rows
    results["runs"] = [
        {"file": str(p), "command": pl["command"], "settings": pl["settings"]}
        for p, pl in zip(paths, payloads)
    ]
    path = out_dir / f"{NAME}_merged.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return path


def _targets(summary, mode, wall_s, ratios=None):
    targets = []
    for name, value in (ratios or {}).items():
        # the paper reports AugNet as the faster of the two
        targets.append(C.target(f"training time {name}", value, 1.0, ">="))
    augnet = summary.get("augnet", {}).get("balanced_accuracy", {}).get("mean")
    for other in ("none", "fixed"):
        base = summary.get(other, {}).get("balanced_accuracy", {}).get("mean")
        if augnet is not None and base is not None:
            targets.append(
                C.target(
                    f"AugNet - {other} balanced accuracy", augnet - base, 0.0, ">="
                )
            )
    if mode == "quick":
        targets.append(C.target("quick run wall time (s)", wall_s, 900.0))
    return targets


# --------------------------------------------------------------------- main
def main(argv=None):
    """Run the benchmark; return the JSON payload's path."""
    from braindecode_augnet.study import pipeline as P

    parser = C.base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default=P.DEFAULT_DATASET,
        choices=P.DATASETS,
        help=f"sleep data set (default: {P.DEFAULT_DATASET})",
    )
    parser.add_argument(
        "--data-path", default=None, help="folder of MASS / Sleep-EDF recordings"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        choices=METHODS,
        help=f"methods to compare (default: {list(METHODS)})",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        default=None,
        help="pool the per-seed scores of earlier runs (JSON files of other "
        "seeds, same data and settings) into one table, plot and "
        "bench_accuracy_merged.json in --out-dir, instead of training",
    )
    C.add_sleep_training_arguments(parser)
    args = parser.parse_args(argv)
    if args.merge:
        given = [
            "--" + dest.replace("_", "-")
            for dest, value in vars(args).items()
            if dest not in (*C.INCIDENTAL, "merge")
            and value != parser.get_default(dest)
        ]
        if given:
            parser.error(
                f"--merge pools recorded runs, with their own settings: "
                f"{', '.join(given)} would have no effect (only --out-dir applies)."
            )
        C.make_out_dir(parser, args.out_dir)
        try:
            return merge(args.merge, args.out_dir)
        except ValueError as exc:
            parser.error(f"argument --merge: {exc}")
    args.methods = [m for m in METHODS if m in args.methods]  # reporting order
    defaults = C.sleep_training_defaults(n_seeds=(3, 2, 1))
    C.prepare_output(parser, args, NAME, defaults)
    device = C.setup(args)
    mode = C.mode_name(args)
    n_subjects = C.pick(args, *defaults["n_subjects"], given=args.n_subjects)
    n_hours = C.pick(args, *defaults["n_hours"], given=args.n_hours)
    n_seeds = C.pick(args, *defaults["n_seeds"], given=args.n_seeds)
    max_epochs = C.pick(args, *defaults["epochs"], given=args.epochs)
    n_copies = C.pick(args, *defaults["n_copies"], given=args.n_copies)
    seeds = [args.seed + k for k in range(n_seeds)]
    methods = args.methods
    settings = {
        "dataset": args.dataset,
        "data_path": args.data_path,
        "n_subjects": n_subjects,
        "n_hours": n_hours if args.dataset == "synthetic" else None,
        "seeds": seeds,
        "max_epochs": max_epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "n_copies": n_copies,
        "methods": methods,
        "model": "SleepStagerChambon2018",
        "split": "per subject, 20% test, 20% valid (seeded)",
    }
    C.print_header("Sleep-staging accuracy: AugNet vs baselines", args, device)
    print(
        f"dataset={args.dataset} subjects={n_subjects} hours={n_hours} "
        f"seeds={seeds} epochs={max_epochs} n_copies={n_copies}",
        flush=True,
    )

    started = time.perf_counter()
    windows = P.load_sleep_windows(
        args.dataset,
        data_path=args.data_path,
        n_subjects=n_subjects,
        n_hours=n_hours,
        random_state=args.seed,
        verbose=args.verbose,
    )
    load_s = time.perf_counter() - started
    n_windows = len(windows)
    sfreq = float(windows.datasets[0].raw.info["sfreq"])
    print(f"{n_windows} windows loaded in {load_s:.0f} s", flush=True)
    n_chans, n_times = windows[0][0].shape
    warm_up(n_chans, n_times, sfreq, args.batch_size, device)

    rows, policies = [], {m: {} for m in LEARNED}
    for seed in seeds:
        y_test_ref = None
        for method in methods:
            clf_method, extra = VARIANTS.get(method, (method, None))
            out = P.train_sleep_models(
                windows,
                methods=(clf_method,),
                seed=seed,
                max_epochs=max_epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                n_copies=n_copies,
                device=str(device),
                verbose=args.verbose,
                augnet_kwargs=extra,
            )
            row = out["results"].to_dict(orient="records")[0]
            row["method"] = method
            clf, y_test = out["models"][clf_method], out["test"][1]
            if y_test_ref is None:
                y_test_ref = y_test
            elif not np.array_equal(y_test, y_test_ref):
                raise RuntimeError(
                    f"seed {seed}: the test set of {method!r} differs from the "
                    "other methods'."
                )
            row = {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}
            epoch, valid_bacc = C.best_epoch(clf)
            row.update(best_epoch=epoch, valid_bacc_best=valid_bacc)
            rows.append(row)
            if method in LEARNED:
                policies[method][str(seed)] = _records(clf.policy_)
            for folder in C.checkpoint_dirs(clf):  # the pipeline leaves them
                if folder.name.startswith("augnet-ckpt-"):
                    shutil.rmtree(folder, ignore_errors=True)
            print(
                f"  seed {seed} {method:<14} bacc {row['balanced_accuracy']:.3f} "
                f"kappa {row['kappa']:.3f} F1 {row['macro_f1']:.3f} "
                f"train {row['train_time_s']:.1f} s (best epoch {epoch})",
                flush=True,
            )
            del clf
    wall_s = time.perf_counter() - started

    plot_path = C.results_path(NAME, args, "png")
    tables = report(
        rows,
        methods,
        f"{args.dataset}: {n_subjects} subjects, {max_epochs} epochs",
        plot_path,
    )
    summary, ratios = tables["summary"], tables["time_ratios"]
    for method in LEARNED:
        if policies[method]:
            last = policies[method][str(seeds[-1])]
            print(f"\nLearned {method} policy (seed {seeds[-1]}):")
            print(
                C.format_table(
                    [
                        "class",
                        "layer",
                        "transform",
                        "weight",
                        "magnitude",
                        "prob.",
                        "op",
                    ],
                    [
                        [
                            r.get("class", "all"),
                            r["layer"],
                            r["transform"],
                            f"{r['weight']:.3f}",
                            "-" if r["magnitude"] is None else f"{r['magnitude']:.3f}",
                            f"{r['probability']:.3f}",
                            "-" if r["op_value"] is None else f"{r['op_value']:.3g}",
                        ]
                        for r in last
                    ],
                )
            )
    print(f"total wall time {wall_s:.0f} s (data loading {load_s:.0f} s)")
    targets = C.mode_targets(args, _targets(summary, mode, wall_s, ratios))
    if targets:
        print()
        print(C.format_targets(targets))
    results = {
        "per_seed": rows,
        **tables,
        "policies": {m: p for m, p in policies.items() if p},
        "braindecode_fixed_augmentation": [
            _describe(t) for t in P.fixed_augmentation(sfreq, 0)
        ],
        "n_windows": n_windows,
        "sfreq": sfreq,
        "load_s": load_s,
        "wall_s": wall_s,
        "plot": str(plot_path),
    }
    return C.write_results(NAME, args, device, settings, results, targets)


if __name__ == "__main__":
    main()
