"""The report folder of the sleep-staging job.

:func:`write_report` writes, from the outputs of
:func:`~braindecode_augnet.pipeline.train_sleep_models`:

* ``scores.csv`` and ``scores.json``: the scores per method and seed, and
  their mean and standard deviation over seeds;
* ``confusion_matrix.png``: one normalised confusion matrix per method;
* with an ``'augnet'`` model, ``hypnogram.png`` (expert vs AugNet on the
  first test subject), ``policy.csv`` and ``policy.png``;
* ``report.md``, which puts them together.
"""

import json
import math
from pathlib import Path

from ..analysis.policy import capped_transforms, unsettled_transforms
from .pipeline import log_progress
from .plots import plot_confusion_matrices, plot_hypnogram

__all__ = ["summarize_scores", "write_report"]

#: Columns of the markdown score table: (header, summary column, format).
_TABLE_COLUMNS = (
    ("balanced accuracy", "balanced_accuracy_mean", ".3f"),
    ("kappa", "kappa_mean", ".3f"),
    ("macro-F1", "macro_f1_mean", ".3f"),
    ("train time (s)", "train_time_s_mean", ".0f"),
)

_DPI = 110


def summarize_scores(results):
    """Mean and standard deviation of each score over seeds, per method.

    Parameters
    ----------
    results : pandas.DataFrame
        Scores, one row per method and seed (``method``, ``seed`` and numeric
        score columns).

    Returns
    -------
    pandas.DataFrame
        Indexed by method (in order of appearance), with columns
        ``<score>_mean`` and ``<score>_std`` (NaN with a single seed).
    """
    summary = (
        results.drop(columns="seed").groupby("method", sort=False).agg(["mean", "std"])
    )
    summary.columns = [f"{score}_{stat}" for score, stat in summary.columns]
    return summary


def _json_records(frame):
    """A DataFrame as JSON-safe records (NaN becomes null)."""
    return [
        {
            key: None if isinstance(value, float) and math.isnan(value) else value
            for key, value in record.items()
        }
        for record in frame.to_dict(orient="records")
    ]


def _write_scores(out, results, summary):
    """``scores.csv`` (per seed) and ``scores.json`` (per seed and summary)."""
    results.to_csv(out / "scores.csv", index=False)
    payload = {
        "per_seed": _json_records(results),
        "summary": _json_records(summary.reset_index()),
    }
    (out / "scores.json").write_text(json.dumps(payload, indent=2))


def _mean_std(row, mean_column, fmt):
    """``'mean ± std'``, or the mean alone with a single seed (std NaN)."""
    mean, std = row[mean_column], row.get(mean_column.replace("_mean", "_std"))
    if std is None or not math.isfinite(std):
        return f"{mean:{fmt}}"
    return f"{mean:{fmt}} ± {std:{fmt}}"


def _score_table(summary):
    """Markdown lines of the test scores per method: mean ± std over seeds."""
    headers = ["method"] + [header for header, _, _ in _TABLE_COLUMNS]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for method, row in summary.iterrows():
        cells = [method] + [_mean_std(row, col, fmt) for _, col, fmt in _TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _save_figure(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _confusion_section(out, predictions, y):
    """``confusion_matrix.png`` of every method, and its markdown lines."""
    _save_figure(plot_confusion_matrices(y, predictions), out / "confusion_matrix.png")
    return ["![confusion](confusion_matrix.png)", ""]


def _hypnogram_section(out, y_pred, y, subjects):
    """``hypnogram.png`` of the first test subject, and its markdown lines."""
    first = subjects[0]
    mask = subjects == first
    fig = plot_hypnogram(y[mask], y_pred[mask], subject=first)
    _save_figure(fig, out / "hypnogram.png")
    return ["![hypnogram](hypnogram.png)", ""]


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
        "Learned policy:",
        "",
        # tabulate, which to_markdown needs, comes with skorch
        policy.to_markdown(index=False, floatfmt=".3f"),
        "",
        *notes,
        "![policy](policy.png)",
        "",
    ]


def write_report(
    out_dir, results, models, test, verbose=True, predictions=None, model=None
):
    """Write the report folder: scores, confusion matrices, hypnogram, policy.

    Parameters
    ----------
    out_dir : str | pathlib.Path
        Folder to write (created).
    results : pandas.DataFrame
        Scores, one row per method and seed.
    models : dict
        Fitted estimators of one seed, by method. With an ``'augnet'`` one,
        the report adds its hypnogram and its learned policy.
    test : tuple
        ``(X, y, subjects)`` of the test windows of that seed.
    verbose : bool
        Print what is written.
    predictions : dict | None
        Predicted stage of each test window, by method (what
        :func:`~braindecode_augnet.pipeline.train_sleep_models` returns; a
        sequence model predicts windows from the sequences covering them).
        ``None``: ``clf.predict(X)`` of every model.
    model : str | None
        Name of the trunk, written in the report.

    Returns
    -------
    pathlib.Path
        The report folder.
    """
    import matplotlib

    matplotlib.use("Agg")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y, subjects = test
    if predictions is None:
        predictions = {method: clf.predict(X) for method, clf in models.items()}
    summary = summarize_scores(results)
    _write_scores(out, results, summary)
    lines = ["# Sleep staging report", ""]
    if model is not None:
        lines += [f"Trunk: {model}.", ""]
    seeds = sorted(results["seed"].unique().tolist())
    lines += [
        "Test-set scores (per-subject split), mean and standard deviation over "
        f"{len(seeds)} seed(s) ({', '.join(map(str, seeds))}):",
        "",
    ]
    lines += _score_table(summary) + [""]
    lines += _confusion_section(out, predictions, y)
    augnet = models.get("augnet")
    if augnet is not None:
        lines += _hypnogram_section(out, predictions["augnet"], y, subjects)
        lines += _policy_section(out, augnet)
    (out / "report.md").write_text("\n".join(lines))
    log_progress(f"report written to {out.resolve()}", verbose)
    return out
