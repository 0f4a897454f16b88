"""Planted invariances: which nuisances of the synthetic data AugNet recovers.

:func:`braindecode_augnet.datasets.make_synthetic_sleep` gives every subject
nuisances that an augmentation can undo, and records them in each
recording's ``description``:

==============  ==========================  ==================================
nuisance        planted (per subject)       candidate that recovers it
==============  ==========================  ==================================
polarity        ``polarity_flipped``        ``SignFlip`` (probability)
                (sign flip, p = 0.5)
channel_swap    ``channels_swapped``        ``ChannelsSymmetry`` (probability)
                (channel order reversed,    when the channel names have
                p = 0.5)                    left/right pairs, else
                                            ``ChannelsShuffle`` (proportion)
alpha_peak      ``alpha_peak_hz``           ``FrequencyShift`` (max shift, Hz)
                (8.5-11.5 Hz)
amplitude       ``amplitude_scale``         ``AmplitudeScale`` (max base-2
                (0.6-1.7)                   log factor)
==============  ==========================  ==================================

For each seed the script generates a synthetic night per subject
(``random_state=seed``: each seed is a new population of subjects with its
own nuisances), splits it by subject and trains ``AugNetClassifier``
(method ``'augnet'``) with exactly the settings of
:func:`braindecode_augnet.study.pipeline.train_sleep_models` (same split, scaling,
model, optimiser, class weights, best-epoch checkpoint), except for the
augmentation: the ``'eeg'`` preset plus an ``AmplitudeScale`` candidate.

Augmentation (see :func:`planted_augmentation`): the layers of
:func:`braindecode_augnet.presets.eeg_augmentation` (built from the data's
``sfreq`` and channel names, seeded by the seed, initial magnitude 0.5 as
the classifier's default) are taken as lists of transforms, and an
``AmplitudeScale`` (default ``mag_range=(0, 1)``: scales within [1/2, 2])
is appended to both time-frequency layers, next to ``FrequencyShift``. The
lists are passed as ``augmentation=``, so the classifier builds the layers
with its own temperature and sampling mode, as it does for ``'eeg'``. The
preset has no amplitude candidate: without one, the amplitude nuisance
could not be recovered at all.

The planted values are read from the descriptions of the *training*
subjects (the ones the policy is learned on) by
:func:`braindecode_augnet.datasets.planted_nuisances`, which also names the
candidate transforms and units:

* polarity: fraction of training subjects with a flipped sign;
* channel_swap: fraction of training subjects with swapped channels;
* alpha_peak: half-width of the planted alpha range in Hz, the largest
  ``|alpha_peak_hz - 10|``;
* amplitude: the largest ``|log2(amplitude_scale)|``.

The learned value of each nuisance is put on the planted value's scale:
the probability of ``SignFlip`` / ``ChannelsSymmetry`` (learned on [0, 0.5]),
the maximal shift of ``FrequencyShift`` in Hz, the maximal log2 factor of
``AmplitudeScale``. ``ChannelsShuffle`` learns a proportion ``p`` of
channels to shuffle; with the 2 channels of the sleep data, both channels
are selected with probability ``p**2`` and then swapped half of the time,
so its learned value is the swap probability ``p**2 / 2`` (its proportion
is kept in ``op_value``). An involution applied with probability ``q`` gives
the largest invariance at ``q = 0.5``, which is the planted fraction when
half the subjects are flipped (swapped); with any fraction strictly between
0 and 1 the full invariance (0.5) is what a model of new subjects needs, so
read the fractions as "is the nuisance present, and how often". Which
polarity (channel order) counts as the original is arbitrary: a fraction
``f`` and ``1 - f`` are the same nuisance, so the rows also give
``planted_comparable = min(f, 1 - f)`` (``planted_nuisances``'s
``comparable``), on the [0, 0.5] scale of the learned
probability (the planted value itself for the alpha peak and amplitude).
With every training subject flipped (or none), ``planted_comparable`` is 0:
the training data hold no such nuisance.

For each nuisance and seed the script reports the candidate's weight (max
over the layers that hold it), its learned value, probability and op value
(in the layer of largest weight), whether it sits at its cap, and the
planted value; then, over seeds, how many selected it (weight >=
``--min-weight`` in some layer), the mean +- std of the learned and planted
values (and of the learned value over the seeds that selected it: the
gradients reaching a candidate, from the data and from the regulariser,
are scaled by its weight, so the magnitude of a candidate of weight ~0
barely carries information; Adam's normalised steps still move it).
AugNet's balanced accuracy per seed is reported alongside, so the policy is
read with the model's quality. A PNG draws, per nuisance, the
learned value of every seed next to a dash at its planted value.

Usage::

    python -m benchmarks.bench_planted [--quick|--smoke] [--min-weight 0.5]
"""

import math
import shutil
import time

import numpy as np

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.bench_planted (repository root)")

from . import _common as C  # noqa: E402

NAME = "bench_planted"

#: What the numbers of each planted nuisance are. Its description column,
#: candidate transforms (the first present in the policy is read) and unit
#: come from :func:`braindecode_augnet.datasets.planted_nuisances`.
NUISANCES = {
    "polarity": {
        "planted": "fraction of training subjects with a sign flip",
        "learned": "SignFlip probability",
    },
    "channel_swap": {
        "planted": "fraction of training subjects with swapped channels",
        "learned": "swap probability (ChannelsSymmetry probability, or "
        "p**2 / 2 for a 2-channel ChannelsShuffle of proportion p)",
    },
    "alpha_peak": {
        "planted": "max |alpha_peak_hz - 10| over training subjects",
        "learned": "FrequencyShift max shift (Hz)",
    },
    "amplitude": {
        "planted": "max |log2(amplitude_scale)| over training subjects",
        "learned": "AmplitudeScale max |log2 factor|",
    },
}

#: Keys of a per-seed row (one row per nuisance and seed).
ROW_KEYS = (
    "seed",
    "nuisance",
    "candidate",
    "weight",
    "layer_weights",
    "layer",
    "learned",
    "op_value",
    "probability",
    "magnitude",
    "at_cap",
    "cap",
    "selected",
    "planted",
    "planted_comparable",
    "unit",
)


# ------------------------------------------------------------ augmentation
def planted_augmentation(sfreq, ch_names, seed, magnitude=0.5):
    """The ``'eeg'`` preset's layers plus an ``AmplitudeScale`` candidate.

    Parameters
    ----------
    sfreq : float
        Sampling frequency in Hz.
    ch_names : list of str
        Channel names in the order of the data.
    seed : int
        Seed of the preset's transforms (the added ``AmplitudeScale`` is left
        unseeded: the classifier seeds it from its ``random_state``).
    magnitude : float
        Initial magnitude of every transform (the classifier's default
        ``init_magnitude``).

    Returns
    -------
    list of list of DifferentiableTransform
        One list of candidates per layer, for ``AugNetClassifier(
        augmentation=...)``: the spatial layer of
        :func:`~braindecode_augnet.presets.eeg_augmentation`, then its two
        time-frequency layers, each with ``AmplitudeScale`` appended.
    """
    from braindecode_augnet.presets import eeg_augmentation
    from braindecode_augnet.transforms import AmplitudeScale

    preset = eeg_augmentation(
        sfreq, ch_names=list(ch_names), magnitude=magnitude, random_state=seed
    )
    layers = [list(layer.transforms) for layer in preset.layers]
    for layer in layers[1:]:
        layer.append(AmplitudeScale(magnitude=magnitude))
    return layers


# ---------------------------------------------------------------- planted
def planted_values(description):
    """The planted nuisance values of a set of subjects, as a dict.

    Parameters
    ----------
    description : pandas.DataFrame
        Descriptions of the subjects' recordings (``subject`` and the
        nuisance columns of :func:`~braindecode_augnet.datasets.
        make_synthetic_sleep`); a subject's recordings share its nuisances
        and count once.

    Returns
    -------
    dict of str -> float
        The ``planted`` column of :func:`~braindecode_augnet.datasets.
        planted_nuisances`, by nuisance: ``polarity`` and ``channel_swap``:
        fractions of subjects flipped / swapped; ``alpha_peak``: max
        ``|alpha_peak_hz - 10|`` in Hz; ``amplitude``: max
        ``|log2(amplitude_scale)|``.
    """
    from braindecode_augnet.datasets import planted_nuisances

    table = planted_nuisances(description)
    return dict(zip(table["nuisance"], table["planted"].astype(float)))


def _subject_records(description, columns):
    """The training subjects' nuisances, one JSON-safe record per subject."""
    subjects = description.drop_duplicates("subject")[["subject", *columns]]
    return [
        {k: v.item() if hasattr(v, "item") else v for k, v in rec.items()}
        for rec in subjects.to_dict(orient="records")
    ]


# ------------------------------------------------------------------ policy
def _learned(candidate, row, n_chans):
    """A candidate's learned value on the scale of the planted value."""
    if candidate == "ChannelsShuffle":
        # 2 channels: both selected with probability p**2, then put in a
        # random order (swapped half of the time); one selected: unchanged
        return row["op_value"] ** 2 / 2 if n_chans == 2 else row["op_value"]
    if candidate in ("SignFlip", "ChannelsSymmetry"):
        return row["probability"]
    return row["op_value"]


def _cap(candidate, row, n_chans):
    """Largest learned value the candidate can reach (same scale)."""
    high = float(row["mag_range"][1])
    if candidate == "ChannelsShuffle" and n_chans == 2:
        return high**2 / 2
    return high


def nuisance_rows(policy, planted, seed, n_chans, min_weight=0.5):
    """One row per nuisance: what the learned policy says about it.

    Parameters
    ----------
    policy : pandas.DataFrame
        :func:`~braindecode_augnet.analysis.policy.policy_table` of the fitted model.
    planted : pandas.DataFrame
        Output of :func:`~braindecode_augnet.datasets.planted_nuisances` for
        the training subjects (nuisances, candidates, planted values, units).
    seed : int
        Seed of the run.
    n_chans : int
        Number of channels of the data.
    min_weight : float
        A candidate is ``selected`` when its weight reaches this in some
        layer.

    Returns
    -------
    list of dict
        Keys :data:`ROW_KEYS`. ``weight``: max over the layers holding the
        candidate (``layer_weights`` gives each); ``layer``, ``op_value``,
        ``probability``, ``magnitude``, ``at_cap``: of the layer of largest
        weight; ``learned``: on the planted value's scale (see the module
        docstring); ``cap``: the largest value ``learned`` can take.
    """
    rows = []
    for spec in planted.to_dict(orient="records"):
        present = [c for c in spec["candidates"] if c in set(policy["transform"])]
        row = {
            "seed": seed,
            "nuisance": spec["nuisance"],
            "candidate": present[0] if present else None,
            "weight": 0.0,
            "layer_weights": {},
            "layer": None,
            "learned": None,
            "op_value": None,
            "probability": None,
            "magnitude": None,
            "at_cap": False,
            "cap": None,
            "selected": False,
            "planted": float(spec["planted"]),
            "planted_comparable": float(spec["comparable"]),
            "unit": spec["unit"],
        }
        if present:
            mine = policy[policy["transform"] == present[0]]
            best = mine.loc[mine["weight"].idxmax()]
            row.update(
                weight=float(mine["weight"].max()),
                layer_weights={
                    str(int(r.layer)): float(r.weight) for r in mine.itertuples()
                },
                layer=int(best["layer"]),
                learned=float(_learned(present[0], best, n_chans)),
                op_value=_nan_to_none(best["op_value"]),
                probability=float(best["probability"]),
                magnitude=float(best["magnitude"]),
                at_cap=bool(best["at_cap"]),
                cap=float(_cap(present[0], best, n_chans)),
                selected=bool(mine["weight"].max() >= min_weight),
            )
        rows.append(row)
    return rows


def _nan_to_none(value):
    value = float(value)
    return None if math.isnan(value) else value


def _records(frame):
    """A DataFrame as JSON-safe records (NaN -> None, tuples kept)."""
    return [
        {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in rec.items()
        }
        for rec in frame.to_dict(orient="records")
    ]


# ----------------------------------------------------------------- summary
def summarize(rows, seeds):
    """Per nuisance, over seeds: selections, learned and planted values."""
    summary = {}
    for nuisance in NUISANCES:
        mine = [r for r in rows if r["nuisance"] == nuisance]
        summary[nuisance] = {
            "candidates": sorted({r["candidate"] for r in mine if r["candidate"]}),
            "n_seeds": len(seeds),
            "n_selected": sum(r["selected"] for r in mine),
            "n_at_cap": sum(r["at_cap"] for r in mine),
            "weight": C.mean_std([r["weight"] for r in mine]),
            "learned": C.mean_std([r["learned"] for r in mine]),
            "learned_selected": C.mean_std(
                [r["learned"] for r in mine if r["selected"]]
            ),
            "planted": C.mean_std([r["planted"] for r in mine]),
            "planted_comparable": C.mean_std([r["planted_comparable"] for r in mine]),
            "unit": mine[0]["unit"] if mine else None,
        }
    return summary


def _pm(stats, digits=3):
    if stats["mean"] is None:
        return "-"
    return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"


def _num(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def _planted(row):
    """The planted value, with its comparable value when it differs."""
    text = _num(row["planted"])
    if abs(row["planted_comparable"] - row["planted"]) > 1e-12:
        text += f" (= {_num(row['planted_comparable'])})"
    return text


def format_rows(rows):
    """Table of the per-seed rows."""
    table = []
    for r in rows:
        table.append(
            [
                r["seed"],
                r["nuisance"],
                r["candidate"] or "-",
                _num(r["weight"]),
                "-" if r["layer"] is None else r["layer"],
                _num(r["learned"]),
                _num(r["op_value"]),
                _num(r["probability"]),
                "yes" if r["at_cap"] else "no",
                "yes" if r["selected"] else "no",
                _planted(r),
                r["unit"],
            ]
        )
    headers = ["seed", "nuisance", "candidate", "weight", "layer", "learned"]
    headers += ["op", "prob.", "at cap", "selected", "planted (comparable)", "unit"]
    return C.format_table(headers, table)


def top_per_layer(policy):
    """The most weighted candidate of each layer of a policy (records)."""
    top = {}
    for rec in policy:
        best = top.get(rec["layer"])
        if best is None or rec["weight"] > best["weight"]:
            top[rec["layer"]] = rec
    return [
        {
            "layer": layer,
            "transform": rec["transform"],
            "weight": rec["weight"],
            "op_value": rec["op_value"],
            "at_cap": rec["at_cap"],
        }
        for layer, rec in sorted(top.items())
    ]


def format_top(per_seed):
    """Table of the most weighted candidate of each layer, per seed."""
    table = []
    for seed, result in per_seed.items():
        cells = [
            f"{t['transform']} ({t['weight']:.2f}"
            + ("" if t["op_value"] is None else f", op {t['op_value']:.3g}")
            + (", cap" if t["at_cap"] else "")
            + ")"
            for t in result["top_per_layer"]
        ]
        table.append([seed, *cells])
    n_layers = max(len(r["top_per_layer"]) for r in per_seed.values())
    return C.format_table(["seed", *(f"layer {k}" for k in range(n_layers))], table)


def format_summary(summary, min_weight):
    """Table of the summary over seeds."""
    table = []
    for nuisance, s in summary.items():
        table.append(
            [
                nuisance,
                "/".join(s["candidates"]) or "-",
                f"{s['n_selected']}/{s['n_seeds']}",
                _pm(s["weight"]),
                _pm(s["learned"]),
                _pm(s["learned_selected"]),
                f"{s['n_at_cap']}/{s['n_seeds']}",
                _pm(s["planted"]),
                _pm(s["planted_comparable"]),
                s["unit"],
            ]
        )
    headers = ["nuisance", "candidate", f"selected (w>={min_weight:g})", "weight"]
    headers += ["learned", "learned if sel.", "at cap", "planted", "comparable"]
    headers += ["unit"]
    return C.format_table(headers, table)


def format_accuracy(scores):
    """Table of AugNet's test scores per seed, then mean ± std."""
    table = [
        [
            s["seed"],
            f"{s['balanced_accuracy']:.3f}",
            f"{s['kappa']:.3f}",
            f"{s['macro_f1']:.3f}",
            f"{s['train_time_s']:.1f}",
            s["best_epoch"],
        ]
        for s in scores
    ]
    stats = {k: C.mean_std([s[k] for s in scores]) for k in _SCORE_KEYS}
    table.append(
        [
            "mean ± std",
            _pm(stats["balanced_accuracy"]),
            _pm(stats["kappa"]),
            _pm(stats["macro_f1"]),
            _pm(stats["train_time_s"], 1),
            "",
        ]
    )
    headers = ["seed", "balanced acc.", "kappa", "macro-F1", "train (s)", "best ep."]
    return C.format_table(headers, table), stats


_SCORE_KEYS = ("balanced_accuracy", "kappa", "macro_f1", "train_time_s")


# ------------------------------------------------------------------ figure
def plot_planted(rows, seeds, path, title):
    """Per nuisance: learned value per seed next to a dash at its planted value.

    Black dash: planted value; grey dashed dash: ``min(f, 1 - f)`` for a
    fraction ``f`` above 0.5. Filled dots: candidate selected (weight >= min
    weight); hollow: not selected; triangles: magnitude at its cap (the value
    is the range's limit, not a learned one). Dotted line: the cap.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(NUISANCES), figsize=(3.2 * len(NUISANCES), 3.6))
    x_of = {seed: k for k, seed in enumerate(seeds)}
    for ax, nuisance in zip(np.atleast_1d(axes), NUISANCES):
        mine = [r for r in rows if r["nuisance"] == nuisance]
        for r in mine:
            x = x_of[r["seed"]]
            ax.hlines(
                r["planted"],
                x - 0.35,
                x + 0.35,
                color="black",
                linewidth=2,
            )
            if abs(r["planted_comparable"] - r["planted"]) > 1e-12:
                ax.hlines(
                    r["planted_comparable"],
                    x - 0.35,
                    x + 0.35,
                    color="gray",
                    linestyle="--",
                    linewidth=1.5,
                )
            if r["learned"] is None:
                continue
            marker = "^" if r["at_cap"] else "o"
            ax.scatter(
                [x],
                [r["learned"]],
                marker=marker,
                s=60,
                color="tab:red",
                facecolors="tab:red" if r["selected"] else "none",
                zorder=3,
            )
        caps = {r["cap"] for r in mine if r["cap"] is not None}
        for cap in caps:
            ax.axhline(cap, color="gray", linestyle=":", linewidth=1)
        candidates = "/".join(sorted({r["candidate"] for r in mine if r["candidate"]}))
        ax.set_title(f"{nuisance}\n({candidates or 'no candidate'})", fontsize=9)
        ax.set_xticks(range(len(seeds)))
        ax.set_xticklabels([str(s) for s in seeds])
        ax.set_xlim(-0.7, len(seeds) - 0.3)
        ax.set_xlabel("seed")
        ax.set_ylabel(mine[0]["unit"] if mine else "")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    handles = [
        plt.Line2D([], [], color="black", linewidth=2, label="planted"),
        plt.Line2D(
            [], [], color="gray", linestyle="--", label="planted, min(f, 1 - f)"
        ),
        plt.Line2D(
            [], [], marker="o", color="tab:red", linestyle="none", label="selected"
        ),
        plt.Line2D(
            [],
            [],
            marker="o",
            markerfacecolor="none",
            color="tab:red",
            linestyle="none",
            label="not selected",
        ),
        plt.Line2D(
            [], [], marker="^", color="tab:red", linestyle="none", label="at cap"
        ),
        plt.Line2D([], [], color="gray", linestyle=":", label="cap"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ helpers
def run_seed(args, seed, settings, device):
    """Data, split, AugNet training and the policy's rows for one seed."""
    from braindecode_augnet.datasets import planted_nuisances, split_by_subject
    from braindecode_augnet.study import pipeline as P

    windows = P.load_sleep_windows(
        "synthetic",
        n_subjects=settings["n_subjects"],
        n_hours=settings["n_hours"],
        random_state=seed,
        verbose=args.verbose,
        standardize=None,  # the planted amplitude scales kept (microvolts)
    )
    # the training subjects, as prepare_sleep_split draws them for this seed
    train, _, test = split_by_subject(
        windows, test_size=0.2, valid_size=0.2, random_state=seed
    )
    planted = planted_nuisances(train.description)
    first = windows.datasets[0]
    info = first.windows.info if hasattr(first, "windows") else first.raw.info
    ch_names, sfreq = list(info["ch_names"]), float(info["sfreq"])
    layers = planted_augmentation(sfreq, ch_names, seed)
    out = P.train_sleep_models(
        windows,
        methods=("augnet",),
        seed=seed,
        max_epochs=settings["max_epochs"],
        batch_size=args.batch_size,
        lr=args.lr,
        n_copies=settings["n_copies"],
        device=str(device),
        verbose=args.verbose,
        augnet_kwargs={
            "augmentation": layers,
            # None: the estimator's own default (the one set of defaults)
            **(
                {}
                if args.aug_lr_factor is None
                else {"aug_lr": args.aug_lr_factor * args.lr}
            ),
        },
    )
    clf = out["models"]["augnet"]
    test_subjects = sorted(set(np.asarray(out["test"][2]).tolist()))
    if test_subjects != sorted(set(test.description["subject"].tolist())):
        raise RuntimeError(
            f"seed {seed}: the test subjects of train_sleep_models differ from "
            "split_by_subject's: the planted values would not be those of the "
            "training subjects."
        )
    score = out["results"].to_dict(orient="records")[0]
    score = {k: v.item() if hasattr(v, "item") else v for k, v in score.items()}
    score["best_epoch"] = C.best_epoch(clf)[0]
    policy = clf.policy_
    rows = nuisance_rows(policy, planted, seed, len(ch_names), args.min_weight)
    for folder in C.checkpoint_dirs(clf):  # the pipeline leaves them
        if folder.name.startswith("augnet-ckpt-"):
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "rows": rows,
        "score": score,
        "policy": _records(policy),
        "top_per_layer": top_per_layer(_records(policy)),
        "train_subjects": _subject_records(train.description, planted["column"]),
        "test_subjects": test_subjects,
        "n_windows": len(windows),
        "ch_names": ch_names,
        "sfreq": sfreq,
    }


# --------------------------------------------------------------------- main
def main(argv=None):
    """Run the benchmark; return the JSON payload's path."""

    parser = C.base_parser(__doc__.splitlines()[0])
    C.add_sleep_training_arguments(parser)
    parser.add_argument(
        "--min-weight",
        type=C.fraction,
        default=0.5,
        help="a candidate is selected when its weight reaches this in some "
        "layer, in [0, 1] (default 0.5)",
    )
    parser.add_argument(
        "--aug-lr-factor",
        type=C.positive_float,
        default=None,
        help="learning rate of AugNet's layer weights as a multiple of --lr "
        "(default: AugNetClassifier's own default)",
    )
    args = parser.parse_args(argv)
    defaults = C.sleep_training_defaults(n_seeds=(5, 2, 1))
    C.prepare_output(parser, args, NAME, defaults)
    device = C.setup(args)
    settings = {
        "dataset": "synthetic",
        "n_subjects": C.pick(args, *defaults["n_subjects"], given=args.n_subjects),
        "n_hours": C.pick(args, *defaults["n_hours"], given=args.n_hours),
        "max_epochs": C.pick(args, *defaults["epochs"], given=args.epochs),
        "n_copies": C.pick(args, *defaults["n_copies"], given=args.n_copies),
        "batch_size": args.batch_size,
        "lr": args.lr,
        "aug_lr": (
            "the estimator's default"
            if args.aug_lr_factor is None
            else args.aug_lr_factor * args.lr
        ),
        "min_weight": args.min_weight,
        "method": "augnet",
        "augmentation": "eeg preset + AmplitudeScale in both time-frequency "
        "layers (planted_augmentation)",
        "model": "SleepStagerChambon2018",
        "split": "per subject, 20% test, 20% valid (seeded)",
        "data": "make_synthetic_sleep(random_state=seed): one population per seed",
        "nuisances": NUISANCES,
    }
    n_seeds = C.pick(args, *defaults["n_seeds"], given=args.n_seeds)
    seeds = [args.seed + k for k in range(n_seeds)]
    settings["seeds"] = seeds
    C.print_header("Planted invariances: what AugNet's policy recovers", args, device)
    print(
        f"subjects={settings['n_subjects']} hours={settings['n_hours']} "
        f"seeds={seeds} epochs={settings['max_epochs']} "
        f"n_copies={settings['n_copies']} min_weight={args.min_weight:g}",
        flush=True,
    )

    started = time.perf_counter()
    rows, scores, per_seed = [], [], {}
    for seed in seeds:
        seed_start = time.perf_counter()
        result = run_seed(args, seed, settings, device)
        rows += result.pop("rows")
        scores.append(result.pop("score"))
        per_seed[str(seed)] = result
        s = scores[-1]
        print(
            f"  seed {seed}: bacc {s['balanced_accuracy']:.3f} kappa "
            f"{s['kappa']:.3f} train {s['train_time_s']:.0f} s, "
            f"{len(result['train_subjects'])} training subjects "
            f"({time.perf_counter() - seed_start:.0f} s in all)",
            flush=True,
        )
    wall_s = time.perf_counter() - started

    summary = summarize(rows, seeds)
    print("\nPer seed: candidate weight (max over layers), learned value on the")
    print("planted scale, op value and probability (layer of largest weight):")
    print(format_rows(rows))
    print("\nMost weighted candidate of each layer (weight, op value, at cap):")
    print(format_top(per_seed))
    print(f"\nOver {n_seeds} seed(s): learned and planted values, mean ± std:")
    print(format_summary(summary, args.min_weight))
    accuracy_table, accuracy_stats = format_accuracy(scores)
    print("\nAugNet test scores:")
    print(accuracy_table)

    plot_path = C.results_path(NAME, args, "png")
    plot_planted(
        rows,
        seeds,
        plot_path,
        f"planted vs learned: {settings['n_subjects']} subjects x "
        f"{settings['n_hours']} h, {settings['max_epochs']} epochs, "
        f"{n_seeds} seed(s)",
    )
    print(f"\nwrote {plot_path}")
    print(f"total wall time {wall_s:.0f} s")
    results = {
        "per_seed": rows,
        "summary": summary,
        "accuracy": scores,
        "accuracy_summary": accuracy_stats,
        "seeds": per_seed,
        "wall_s": wall_s,
        "plot": str(plot_path),
    }
    return C.write_results(NAME, args, device, settings, results)


if __name__ == "__main__":
    main()
