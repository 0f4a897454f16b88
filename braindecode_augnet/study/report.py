"""The report folder of the sleep-staging job.

:func:`write_report` writes, from the output of
:func:`~braindecode_augnet.study.pipeline.run_comparison`:

* ``scores.csv``: one row per run (method, seed, fold, training size,
  epochs, scores, per-stage F1, training time);
* ``paired.csv``: the paired statistics of every pair of methods
  (:func:`~braindecode_augnet.study.comparison.compare_methods`);
* ``scores.json``: the design, the runs, the summaries and the paired
  statistics;
* ``confusion_matrix.png`` (every test subject of the first seed, one panel
  per method), ``hypnogram.png`` (first test subject);
* with several training sizes, ``learning_curve.png``;
* with an ``'augnet'`` model, ``policy.csv`` and ``policy.png`` (the last
  run's learned policy);
* ``report.md``, which puts them together.

:func:`write_interrupted` writes ``INTERRUPTED.md`` when Ctrl-C stopped
the job, :func:`write_failed` ``FAILED.md`` when a run raised: what ran,
and for how many epochs; no scores (beside an earlier report, the note
says that report is an earlier job's).
:func:`read_report` and :func:`merge_runs` read the runs of finished
reports back, so that jobs of one design run apart (seeds on several
machines) make one report.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.policy import capped_transforms, unsettled_transforms
from ..datasets import SLEEP_STAGE_NAMES
from .comparison import compare_methods, resolution_sentence
from .pipeline import log_progress
from .plots import plot_confusion_matrices, plot_hypnogram, plot_learning_curve

__all__ = [
    "REPORT_FILES",
    "STOP_NOTES",
    "UNSTANDARDIZED",
    "clear_report",
    "merge_runs",
    "read_report",
    "summarize_scores",
    "training_health",
    "warn_training_health",
    "write_failed",
    "write_interrupted",
    "write_report",
]

#: The notes of a job stopped in training; written beside an earlier
#: report, which only a finished report replaces.
STOP_NOTES = ("INTERRUPTED.md", "FAILED.md")

#: Every file the job may write in its folder: a new report replaces them
#: all (those it does not write removed), so that no file of an earlier run
#: stays beside it.
REPORT_FILES = (
    "report.md",
    "scores.csv",
    "scores.json",
    "paired.csv",
    "confusion_matrix.png",
    "hypnogram.png",
    "learning_curve.png",
    "policy.csv",
    "policy.png",
    *STOP_NOTES,
)

#: Scores summarised per method: (column, header, format).
_SCORES = (
    ("balanced_accuracy", "balanced accuracy", ".3f"),
    ("kappa", "kappa", ".3f"),
    ("macro_f1", "macro-F1", ".3f"),
    ("epochs", "epochs", ".0f"),
    ("best_epoch", "best epoch", ".0f"),
    ("train_time_s", "train time (s)", ".0f"),
)

#: Below this many pairs the report calls its design smoke-sized.
_SMOKE_PAIRS = 20

#: How a report's design names recordings left in microvolts
#: (``--standardize none``); reports written before that option existed
#: left them so and do not say.
UNSTANDARDIZED = "none (microvolts)"

#: Cohen's kappa at or below which a run's agreement with the expert stages
#: is "slight" at best (Landis and Koch, 1977): a failed training.
_FAILED_KAPPA = 0.2

_DPI = 110


def clear_report(out_dir, names=REPORT_FILES):
    """Remove the files of :data:`REPORT_FILES` (or of ``names``) from
    ``out_dir``; return their names."""
    removed = []
    for name in dict.fromkeys(names):
        path = Path(out_dir) / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(name)
    return removed


def summarize_scores(results, methods=None):
    """Median and quartiles of each score over runs, per method.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per run (``method`` and score columns).
    methods : sequence of str | None
        Order of the rows (default: order of appearance).

    Returns
    -------
    pandas.DataFrame
        Indexed by method, with ``n_runs`` and, for each score column
        present, ``<score>_median``, ``<score>_q1`` and ``<score>_q3``
        (per-stage F1 ignores runs whose test set lacks the stage).
    """
    if methods is None:
        methods = list(dict.fromkeys(results["method"]))
    columns = [c for c, _, _ in _SCORES if c in results]
    columns += [c for c in results if c.startswith("f1_")]
    rows = []
    for method in methods:
        mine = results[results["method"] == method]
        row = {"method": method, "n_runs": len(mine)}
        for column in columns:
            values = mine[column].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            q1, median, q3 = (
                np.percentile(values, [25, 50, 75]) if values.size else [math.nan] * 3
            )
            row.update(
                {
                    f"{column}_median": float(median),
                    f"{column}_q1": float(q1),
                    f"{column}_q3": float(q3),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def _records(frame):
    return [_json_safe(r) for r in frame.to_dict(orient="records")]


#: The columns that name a run: a pair is two methods' runs with the same
#: seed, fold and training size.
RUN_KEYS = ("method", "seed", "fold", "train_size")


def read_report(report_dir):
    """The design and the runs of a finished report folder (its
    ``scores.json``).

    Returns
    -------
    design : dict
    runs : pandas.DataFrame
        One row per run, as in ``scores.csv``.

    Raises
    ------
    ValueError
        If the folder holds no ``scores.json`` (an interrupted job writes
        none) or the file is not a report's.
    """
    path = Path(report_dir) / "scores.json"
    if not path.is_file():
        raise ValueError(
            f"{report_dir}: not a finished report (no scores.json; an "
            "interrupted job writes none): pass the --out folders of jobs "
            "that ended with 'report written'."
        )
    try:
        payload = json.loads(path.read_text())
        design, runs = payload["design"], pd.DataFrame(payload["runs"])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a report's scores.json ({err}).") from None
    missing = [key for key in RUN_KEYS if key not in runs.columns]
    if missing:  # (no runs at all: every key missing)
        raise ValueError(f"{path}: its runs lack {', '.join(missing)}.")
    return design, runs


def merge_runs(tables, names=None, atol=1e-9):
    """The runs of several reports of one design as one table.

    A run that two reports hold (same method, seed, fold and training
    size) must have the same scores in both: the job is deterministic, so
    a difference means another design, library version or device, and
    pairing such runs would mix them. It is kept once.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Runs of each report (:func:`read_report`).
    names : sequence of str | None
        What to call each report in errors.
    atol : float
        Largest difference of a shared run's balanced accuracy.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        If a shared run's scores differ.
    """
    names = list(names) if names is not None else [f"#{i}" for i in range(len(tables))]
    keys = list(RUN_KEYS)
    tagged = [t.assign(_report=name) for t, name in zip(tables, names)]
    runs = pd.concat(tagged, ignore_index=True)
    shared = runs[runs.duplicated(keys, keep=False)]
    for key, group in shared.groupby(keys, sort=False):
        scores = group["balanced_accuracy"].astype(float)
        if scores.max() - scores.min() > atol:
            method, seed, fold, size = key
            found = ", ".join(f"{r} {s:.4f}" for r, s in zip(group["_report"], scores))
            raise ValueError(
                f"the run of {method!r} (seed {seed}, fold {fold}, training "
                f"size {size:g}) differs between reports ({found}): they were "
                "not run alike (library version, device, or an option); merge "
                "reports of one design only."
            )
    return runs.drop_duplicates(keys).drop(columns="_report").reset_index(drop=True)


def _fmt(value, fmt=".3f", signed=False):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:{'+' if signed else ''}{fmt}}"


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return lines


def _score_table(summary):
    """Markdown lines: median [quartiles] of each score per method."""
    present = [(c, h, f) for c, h, f in _SCORES if f"{c}_median" in summary]
    rows = []
    for method, row in summary.iterrows():
        cells = [method, int(row["n_runs"])]
        for column, _, fmt in present:
            median = _fmt(row[f"{column}_median"], fmt)
            q1, q3 = _fmt(row[f"{column}_q1"], fmt), _fmt(row[f"{column}_q3"], fmt)
            cells.append(median if q1 == q3 else f"{median} [{q1}, {q3}]")
        rows.append(cells)
    return _table(["method", "runs", *[h for _, h, _ in present]], rows)


def _stage_table(summary):
    """Markdown lines: median per-stage F1 per method."""
    stages = [s for s in SLEEP_STAGE_NAMES if f"f1_{s}_median" in summary]
    rows = [
        [method, *[_fmt(row[f"f1_{s}_median"]) for s in stages]]
        for method, row in summary.iterrows()
    ]
    return _table(["method", *[f"F1 {s}" for s in stages]], rows)


def _paired_table(paired):
    """Markdown lines of the paired statistics, and one resolution sentence
    per pair."""
    rows, sentences = [], []
    for _, row in paired.iterrows():
        p = row["p_value"]
        rows.append(
            [
                row["pair"],
                row["n"],
                _fmt(row["median"], signed=True),
                f"[{_fmt(row['ci_low'], signed=True)}, "
                f"{_fmt(row['ci_high'], signed=True)}]",
                _fmt(row["mean"], signed=True),
                "-"
                if p is None or (isinstance(p, float) and math.isnan(p))
                else f"{p:.3g}",
                f"{row['wins']}/{row['ties']}/{row['losses']}",
            ]
        )
        sentences.append(f"- {row['pair']}: {resolution_sentence(row)}")
    headers = [
        "pair (a - b)",
        "n pairs",
        "median diff.",
        "95 % CI of median (bootstrap)",
        "mean diff.",
        "Wilcoxon p",
        "wins/ties/losses of a",
    ]
    return _table(headers, rows) + [""] + sentences


def _save_figure(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _figures_section(out, predictions, methods):
    """Confusion matrices pooled over the first seed's folds (every subject
    tested once) and the hypnogram of its first test subject."""
    if not predictions:
        return []
    seed = min(seed for _, seed, _ in predictions)
    folds = sorted({fold for _, s, fold in predictions if s == seed})
    shown = [m for m in methods if (m, seed, folds[0]) in predictions]
    first = predictions[shown[0], seed, folds[0]]
    y = np.concatenate([predictions[shown[0], seed, f][0] for f in folds])
    pooled = {
        m: np.concatenate([predictions[m, seed, f][1] for f in folds]) for m in shown
    }
    _save_figure(plot_confusion_matrices(y, pooled), out / "confusion_matrix.png")
    label = "augnet" if "augnet" in shown else shown[-1]
    y_true, _, subjects = first
    y_pred = predictions[label, seed, folds[0]][1]
    mask = subjects == subjects[0]
    fig = plot_hypnogram(y_true[mask], y_pred[mask], subject=subjects[0], label=label)
    _save_figure(fig, out / "hypnogram.png")
    return [
        f"Confusion matrices of seed {seed}, every subject tested once "
        f"({len(folds)} folds pooled):",
        "",
        "![confusion](confusion_matrix.png)",
        "",
        "![hypnogram](hypnogram.png)",
        "",
    ]


def _policy_section(out, clf):
    """``policy.csv`` and ``policy.png`` of a fitted AugNet, and its lines."""
    from ..analysis.plotting import plot_policy

    policy = clf.policy_
    policy.to_csv(out / "policy.csv", index=False)
    _save_figure(plot_policy(clf), out / "policy.png")
    notes = []
    for title, found in (
        (
            "Magnitudes at the top of their range (not learned values):",
            capped_transforms(policy),
        ),
        (
            "Magnitudes still moving at the reported epoch (not settled values):",
            unsettled_transforms(policy),
        ),
    ):
        if found:
            notes += [title, "", *[f"- {note}" for note in found], ""]
    return [
        "## Learned AugNet policy (last run)",
        "",
        # tabulate, which to_markdown needs, comes with skorch
        policy.to_markdown(index=False, floatfmt=".3f"),
        "",
        *notes,
        "![policy](policy.png)",
        "",
    ]


def training_health(results):
    """Runs per method that stopped while still learning, and that failed.

    Parameters
    ----------
    results : pandas.DataFrame
        The runs (``method``, ``epochs``, ``best_epoch``, ``kappa``).

    Returns
    -------
    pandas.DataFrame
        Per method: ``runs``; ``still_learning``, the runs whose best
        validation epoch is their last (training stopped while the score
        still rose: more epochs may change the comparison); ``failed``, the
        runs whose Cohen's kappa with the expert stages is at most 0.2
        (slight agreement at best, e.g. one stage predicted for most
        windows).
    """
    frame = results.assign(
        still_learning=results["best_epoch"] >= results["epochs"],
        failed=results["kappa"] <= _FAILED_KAPPA,
    )
    grouped = frame.groupby("method", sort=False)
    return pd.DataFrame(
        {
            "runs": grouped.size(),
            "still_learning": grouped["still_learning"].sum(),
            "failed": grouped["failed"].sum(),
        }
    )


def _standardized(design):
    """Whether the design's recordings were standardised (reports written
    before ``--standardize`` existed left them in microvolts)."""
    return design.get("standardize", UNSTANDARDIZED) != UNSTANDARDIZED


def _health_sentences(health, standardized=True):
    """What :func:`training_health` found, in words (empty when nothing)."""
    total = int(health["runs"].sum())
    learning, failed = int(health["still_learning"].sum()), int(health["failed"].sum())
    sentences = []
    if learning:
        sentences.append(
            f"{learning} of {total} runs had their best validation score at their "
            "last epoch: they stopped while still learning, and more epochs "
            "(--epochs) may change the comparison."
        )
    if failed:
        remedies = "more training subjects or epochs"
        if not standardized:
            remedies += ", or recordings standardised (--standardize recording),"
        sentences.append(
            f"{failed} of {total} runs failed to learn (Cohen's kappa <= "
            f"{_FAILED_KAPPA:g} on their test subjects): their pairs compare "
            f"failed trainings; {remedies} make them rarer."
        )
    return sentences


def warn_training_health(results, design, file=None):
    """Print :func:`training_health`'s findings as warnings (standard error)."""
    health = training_health(results)
    for sentence in _health_sentences(health, _standardized(design)):
        print(f"warning: {sentence}", file=file or sys.stderr)


def _health_section(results, design):
    health = training_health(results)
    rows = [
        [method, int(r["runs"]), int(r["still_learning"]), int(r["failed"])]
        for method, r in health.iterrows()
    ]
    failed = f"failed (kappa <= {_FAILED_KAPPA:g})"
    headers = ["method", "runs", "best epoch = last epoch", failed]
    return [
        "## Training health",
        "",
        *_table(headers, rows),
        "",
        *(
            _health_sentences(health, _standardized(design))
            or ["Every run learned and settled."]
        ),
        "",
    ]


def _design_lines(design):
    lines = []
    if design.get("command"):
        lines += ["Command:", "", f"    {design['command']}", ""]
    if design.get("run command"):  # a merged report: what made its runs
        lines += ["Runs made by (seeds aside):", "", f"    {design['run command']}", ""]
    if design.get("date"):
        lines += [f"Date: {design['date']}.", ""]
    described = ", ".join(
        f"{key} {value}"
        for key, value in design.items()
        if key not in ("command", "run command", "date") and value is not None
    )
    lines += [
        f"Design: {described}. Leave-subjects-out folds: within "
        "a seed every subject is tested once; every method of a (seed, fold, "
        "training size) trains on the same subjects from the same torch seed, "
        "so differences between methods are paired.",
        "",
    ]
    return lines


def write_report(out_dir, outcome, design, verbose=True):
    """Write the report folder of a comparison.

    Parameters
    ----------
    out_dir : str | pathlib.Path
        Folder to write (created).
    outcome : dict
        Output of :func:`~braindecode_augnet.study.pipeline.run_comparison`
        (``results``; optionally ``predictions`` and ``models``).
    design : dict
        What was run (data set, subjects, model, folds, ... and optionally
        ``command`` and ``date``), written at the top of the report and in
        ``scores.json``.
    verbose : bool
        Print where the report is.

    Returns
    -------
    pathlib.Path
        The report folder.
    """
    import matplotlib

    matplotlib.use("Agg")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # written into a hidden folder beside, then moved in at once: a crash or
    # Ctrl-C while writing leaves the folder as it was, never part of a
    # report (scores.json, which marks a finished one, moved last)
    staging = Path(tempfile.mkdtemp(prefix=".report-partial-", dir=out))
    try:
        _write_report_files(staging, outcome, design)
        _move_report(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log_progress(f"report written to {out.resolve()}", verbose)
    return out


def _move_report(staging, out):
    """Replace the report files of ``out`` by those of ``staging`` (those
    of an earlier report that this one lacks removed: none left to be read
    as this one's), ``report.md`` then ``scores.json`` last."""
    written = {path.name for path in staging.iterdir()}
    last = ("report.md", "scores.json")
    # what marks the earlier report goes first: were the moves cut short,
    # the folder would hold no report rather than a mixed one
    gone = [*last, *(name for name in REPORT_FILES if name not in written)]
    order = sorted(written, key=lambda name: last.index(name) if name in last else -1)
    with _sigint_deferred():
        clear_report(out, gone)
        for name in order:
            os.replace(staging / name, out / name)


@contextlib.contextmanager
def _sigint_deferred():
    """Ctrl-C held back (delivered on leaving) while the report's files are
    moved in, where signals can be masked (POSIX, the main thread)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _write_report_files(out, outcome, design):
    results = outcome["results"]
    methods = list(dict.fromkeys(results["method"]))
    sizes = sorted(results["train_size"].unique())
    largest = results[results["train_size"] == sizes[-1]]
    summary = summarize_scores(largest, methods)
    paired = compare_methods(results, methods)
    paired["resolution"] = [resolution_sentence(r) for _, r in paired.iterrows()]
    results.to_csv(out / "scores.csv", index=False)
    paired.to_csv(out / "paired.csv", index=False)
    payload = {
        "design": _json_safe(dict(design)),
        "runs": _records(results),
        "summary": _records(summary.reset_index()),
        "paired": _records(paired),
    }
    (out / "scores.json").write_text(json.dumps(payload, indent=2))

    n_pairs = int(paired["n"].max()) if len(paired) else 0
    lines = ["# Sleep staging: paired comparison of augmentation methods", ""]
    lines += _design_lines(design)
    if n_pairs < _SMOKE_PAIRS:
        lines += [
            f"**A smoke-sized design ({n_pairs} pairs).** It checks that the job "
            "runs and shows how large the noise is; it cannot resolve small "
            "differences (see the sentences under the table). Scale it up with "
            "--seeds, --folds, --n-subjects, --n-hours and --epochs (and "
            "--device cuda) before reading a difference as a finding.",
            "",
        ]
    for size in sizes:
        title = "## Paired differences of test balanced accuracy"
        if len(sizes) > 1:
            title += f", training size {size:g}"
        lines += [title, ""]
        lines += _paired_table(paired[paired["train_size"] == size]) + [""]
    size_note = f" (training size {sizes[-1]:g})" if len(sizes) > 1 else ""
    lines += [
        f"## Test scores per method{size_note}",
        "",
        "Median over runs (seeds x folds), [first, third quartile]:",
        "",
        *_score_table(summary),
        "",
        'Per-stage F1, median over runs ("-": the stage is in no test set of '
        "these runs):",
        "",
        *_stage_table(summary),
        "",
    ]
    lines += _health_section(results, design)
    if len(sizes) > 1:
        _save_figure(plot_learning_curve(results, methods), out / "learning_curve.png")
        lines += ["## Learning curve", "", "![learning curve](learning_curve.png)", ""]
    lines += _figures_section(out, outcome.get("predictions") or {}, methods)
    augnet = (outcome.get("models") or {}).get("augnet")
    if augnet is not None:
        lines += _policy_section(out, augnet)
    (out / "report.md").write_text("\n".join(lines))


def write_interrupted(out_dir, runs, design, verbose=True):
    """Write ``INTERRUPTED.md``: the runs started and their epochs, no
    scores (an interrupted comparison is not a result).

    Parameters
    ----------
    out_dir : str | pathlib.Path
        Folder to write (created).
    runs : pandas.DataFrame
        ``JobInterrupted.runs`` of
        :func:`~braindecode_augnet.study.pipeline.run_comparison`.
    design : dict
        What was run.
    verbose : bool
        Print where the note is.

    Returns
    -------
    pathlib.Path
        The note's path.
    """
    n_done = int((runs["status"] == "complete").sum()) if len(runs) else 0
    lines = [
        "# INTERRUPTED: no report",
        "",
        f"Ctrl-C stopped the job after {n_done} complete run(s); the runs are "
        "not comparable (the last one trained for fewer epochs than the "
        "others), so no scores are reported. Run the job again.",
    ]
    return _write_note(out_dir, "INTERRUPTED.md", lines, runs, design, verbose)


def write_failed(out_dir, runs, design, error, verbose=True):
    """Write ``FAILED.md``: the error of the run that raised, the runs
    started and their epochs, no scores (the runs cannot be paired without
    the failed one). The parameters are :func:`write_interrupted`'s (``runs``:
    ``JobFailed.runs``), with ``error``, the failed run's exception; returns
    the note's path."""
    n_done = int((runs["status"] == "complete").sum()) if len(runs) else 0
    failed = runs[runs["status"] == "failed"]
    which = "The job"
    if len(failed):
        last = failed.iloc[-1]
        which = (
            f"The run of {last['method']!r} (seed {last['seed']}, fold "
            f"{last['fold'] + 1}, training size {last['train_size']:g}, after "
            f"{last['epochs']} epochs)"
        )
    lines = [
        "# FAILED: no report",
        "",
        f"{which} raised after {n_done} complete run(s); the runs "
        "cannot be paired without it, so no scores are reported. Fix the "
        "cause and run the job again (each run is deterministic given its "
        "seed: --first-seed and --seeds run the seeds left).",
        "",
        "Error:",
        "",
        f"    {type(error).__name__}: {error}",
    ]
    return _write_note(out_dir, "FAILED.md", lines, runs, design, verbose)


def _write_note(out_dir, name, head, runs, design, verbose):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = ["method", "seed", "fold", "train_size", "epochs", "max_epochs", "status"]
    rows = [[r[c] for c in columns] for r in runs.to_dict(orient="records")]
    lines = [*head, ""]
    if (out / "report.md").is_file():
        lines += [
            "The report in this folder (report.md and its files) is an "
            "earlier job's, kept as it was: this job wrote none.",
            "",
        ]
    lines += [*_design_lines(design), *_table(columns, rows), ""]
    path = out / name
    path.write_text("\n".join(lines))
    log_progress(f"{name.split('.')[0].lower()}: wrote {path.resolve()}", verbose)
    return path
