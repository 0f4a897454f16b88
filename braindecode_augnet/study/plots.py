"""Figures of sleep staging: confusion matrices, hypnograms, learning curves.

Stages are the classes ``0..len(stage_names) - 1`` named by
:data:`~braindecode_augnet.datasets.SLEEP_STAGE_NAMES` by default; no number
of stages is assumed elsewhere.
"""

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import confusion_matrix

from .._checks import encode_labels
from .._validation import check_positive
from ..datasets import SLEEP_STAGE_NAMES

__all__ = [
    "HYPNOGRAM_ORDER",
    "plot_confusion_matrices",
    "plot_hypnogram",
    "plot_learning_curve",
]

#: Stages of a hypnogram from top to bottom (the clinical convention: wake,
#: REM, then deeper and deeper non-REM sleep).
HYPNOGRAM_ORDER = ("W", "REM", "N1", "N2", "N3")

#: Duration of a scored sleep epoch in seconds.
_EPOCH_S = 30


def _stages(y, name, stage_names):
    """``y`` as stage indices ``0..len(stage_names) - 1``, one per epoch."""
    n = len(stage_names)
    try:
        return encode_labels(None, y, np.arange(n), None, name=name)
    except ValueError as err:
        raise ValueError(
            f"{name} must hold one stage per epoch, its position in stage_names "
            f"({n} names {list(stage_names)}, so 0..{n - 1}); {err} Recode the "
            "stages (e.g. y - 1 for stages coded 1..5) or pass one name per "
            "stage as stage_names."
        ) from None


def _checked_stages(y_true, predicted, stage_names):
    """``y_true`` and the predicted stages of ``predicted`` (by argument
    name) as stage indices, the predictions as long as ``y_true``."""
    y_true = _stages(y_true, "y_true", stage_names)
    checked = {}
    for name, y_pred in predicted.items():
        checked[name] = _stages(y_pred, name, stage_names)
        if len(checked[name]) != len(y_true):
            raise ValueError(
                f"{name} holds {len(checked[name])} stages and y_true "
                f"{len(y_true)}: pass the predicted stage of each epoch of y_true."
            )
    return y_true, checked


def _annotate_cells(ax, matrix):
    """Write each cell's value, white on dark cells."""
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            color="white" if value > 0.5 else "black",
            fontsize=8,
        )


def _draw_confusion(ax, matrix, stage_names, title):
    ticks = np.arange(len(stage_names))
    ax.imshow(matrix, vmin=0, vmax=1, cmap="Blues")
    _annotate_cells(ax, matrix)
    ax.set_xticks(ticks, stage_names)
    ax.set_yticks(ticks, stage_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expert")
    ax.set_title(title)


def plot_confusion_matrices(y_true, predictions, stage_names=SLEEP_STAGE_NAMES):
    """Row-normalised confusion matrices, one panel per method.

    Parameters
    ----------
    y_true : array-like of int
        Expert stages, in ``0..len(stage_names) - 1``.
    predictions : dict
        Predicted stages by method name, each shaped like ``y_true``.
    stage_names : sequence of str
        Name of each stage, in the order of the class indices.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one panel per method in the order of ``predictions``.

    Raises
    ------
    TypeError
        If ``predictions`` is not a dict.
    ValueError
        If ``predictions`` is empty, a stage is not in
        ``0..len(stage_names) - 1`` (e.g. stages coded 1..5) or the
        predictions and ``y_true`` differ in length.
    """
    import matplotlib.pyplot as plt

    if not isinstance(predictions, Mapping):
        raise TypeError(
            "predictions must be a dict of predicted stages by method name, "
            f"e.g. {{'augnet': y_pred}}, got {type(predictions).__name__}."
        )
    if not predictions:
        raise ValueError(
            "predictions is empty: pass the predicted stages of at least one "
            "method, e.g. {'augnet': y_pred}."
        )
    named = {f"predictions[{m!r}]": y for m, y in predictions.items()}
    y_true, named = _checked_stages(y_true, named, stage_names)
    labels = np.arange(len(stage_names))
    n = len(predictions)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False)
    for ax, method, y_pred in zip(axes[0], predictions, named.values()):
        matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
        _draw_confusion(ax, matrix, stage_names, f"{method}: normalised confusion")
    fig.tight_layout()
    return fig


def _stage_levels(stage_names, order):
    """Height of each class index on the hypnogram (top stage at 0)."""
    if order is None or tuple(order) == tuple(HYPNOGRAM_ORDER):  # the default
        order = [name for name in HYPNOGRAM_ORDER if name in stage_names]
    unknown = [name for name in order if name not in stage_names]
    if unknown:
        raise ValueError(
            f"order names stages not in stage_names: {unknown}; list names "
            f"among {stage_names}, or pass None for the clinical order "
            f"{HYPNOGRAM_ORDER}."
        )
    ranked = list(dict.fromkeys(order))
    ranked += [name for name in stage_names if name not in ranked]
    return {stage_names.index(name): -rank for rank, name in enumerate(ranked)}


def plot_hypnogram(
    y_true,
    y_pred,
    subject=None,
    label="AugNet",
    stage_names=SLEEP_STAGE_NAMES,
    order=None,
    epoch_s=_EPOCH_S,
):
    """Expert against predicted hypnogram of one night.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        Expert and predicted stages of consecutive epochs, in
        ``0..len(stage_names) - 1``.
    subject : int | str | None
        Subject named in the title.
    label : str
        Legend of the predicted hypnogram (the method).
    stage_names : sequence of str
        Name of each stage, in the order of the class indices.
    order : sequence of str | None
        Stage names from top to bottom; stages not listed follow, in the
        order of ``stage_names``. None: the stages of
        :data:`HYPNOGRAM_ORDER` that ``stage_names`` names.
    epoch_s : float
        Duration of an epoch in seconds.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If a stage is not in ``0..len(stage_names) - 1``, ``y_true`` and
        ``y_pred`` differ in length, ``order`` names a stage not in
        ``stage_names``, or ``epoch_s`` is not a number > 0.
    """
    import matplotlib.pyplot as plt

    epoch_s = check_positive(epoch_s, "epoch_s")
    stage_names = list(stage_names)
    level = _stage_levels(stage_names, order)
    y_true, checked = _checked_stages(y_true, {"y_pred": y_pred}, stage_names)
    y_pred = checked["y_pred"]
    hours = np.arange(len(y_true)) * epoch_s / 3600
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.step(hours, [level[s] for s in y_true], where="post", label="expert", lw=1.5)
    ax.step(
        hours,
        [level[s] - 0.08 for s in y_pred],
        where="post",
        label=label,
        lw=1.0,
        alpha=0.8,
    )
    by_height = sorted(level, key=level.get, reverse=True)
    ax.set_yticks([level[s] for s in by_height], [stage_names[s] for s in by_height])
    ax.set_xlabel("time (h)")
    night = "Hypnogram" if subject is None else f"Hypnogram of test subject {subject}"
    ax.set_title(f"{night}: expert vs {label}")
    # beside the axes, where it hides no part of the night
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_learning_curve(results, methods=None, score="balanced_accuracy"):
    """Score against training size per method, with interval bands.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per run with ``method``, ``train_size`` (fraction of the
        training subjects), ``n_train_subjects`` and ``score``.
    methods : sequence of str | None
        Methods in order (default: their order in ``results``).
    score : str
        The score drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The median over runs (seeds x folds) of each size, and the
        bootstrap 95 % interval of that median as a band.

    Raises
    ------
    ValueError
        If ``score`` is not a column of ``results`` or a method of
        ``methods`` has no run in it.
    """
    import matplotlib.pyplot as plt

    from .comparison import bootstrap_interval

    if score not in results:
        raise ValueError(
            f"score={score!r} is not a column of results; pass one of "
            f"{list(results.columns)}."
        )
    found = list(dict.fromkeys(results["method"]))
    methods = found if methods is None else methods
    unknown = [m for m in methods if m not in found]
    if unknown:
        raise ValueError(
            f"methods names methods with no run in results: {unknown}; pass "
            f"methods among {found} (or None for all)."
        )
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for method in methods:
        mine = results[results["method"] == method]
        sizes = sorted(mine["train_size"].unique())
        values = [mine.loc[mine["train_size"] == f, score].to_numpy() for f in sizes]
        medians = [np.median(v) for v in values]
        bands = np.array([bootstrap_interval(v) for v in values])
        (line,) = ax.plot(sizes, medians, marker="o", label=method)
        ax.fill_between(
            sizes, bands[:, 0], bands[:, 1], alpha=0.2, color=line.get_color()
        )
    subjects = results.groupby("train_size")["n_train_subjects"].median()
    ax.set_xticks(
        list(subjects.index),
        [f"{f:g}\n({n:g} subj.)" for f, n in subjects.items()],
    )
    ax.set_xlabel("training size (fraction of the training subjects)")
    ax.set_ylabel(f"test {score.replace('_', ' ')}")
    ax.set_title(
        "Learning curve: median over seeds x folds,\n95 % bootstrap band of the median",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
