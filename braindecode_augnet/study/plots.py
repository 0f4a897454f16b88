"""Figures of sleep staging: confusion matrices and hypnograms.

Stages are the classes ``0..len(stage_names) - 1`` named by
:data:`~braindecode_augnet.datasets.SLEEP_STAGE_NAMES` by default; no number
of stages is assumed elsewhere.
"""

import numpy as np
from sklearn.metrics import confusion_matrix

from ..datasets import SLEEP_STAGE_NAMES

__all__ = ["HYPNOGRAM_ORDER", "plot_confusion_matrices", "plot_hypnogram"]

#: Stages of a hypnogram from top to bottom (the clinical convention: wake,
#: REM, then deeper and deeper non-REM sleep).
HYPNOGRAM_ORDER = ("W", "REM", "N1", "N2", "N3")

#: Duration of a scored sleep epoch in seconds.
_EPOCH_S = 30


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
    """
    import matplotlib.pyplot as plt

    labels = np.arange(len(stage_names))
    n = len(predictions)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False)
    for ax, (method, y_pred) in zip(axes[0], predictions.items()):
        matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
        _draw_confusion(ax, matrix, stage_names, f"{method}: normalised confusion")
    fig.tight_layout()
    return fig


def _stage_levels(stage_names, order):
    """Height of each class index on the hypnogram (top stage at 0)."""
    ranked = [name for name in order if name in stage_names]
    ranked += [name for name in stage_names if name not in ranked]
    return {stage_names.index(name): -rank for rank, name in enumerate(ranked)}


def plot_hypnogram(
    y_true,
    y_pred,
    subject=None,
    label="AugNet",
    stage_names=SLEEP_STAGE_NAMES,
    order=HYPNOGRAM_ORDER,
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
    order : sequence of str
        Stage names from top to bottom; stages not listed follow, in the
        order of ``stage_names``.
    epoch_s : float
        Duration of an epoch in seconds.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    stage_names = list(stage_names)
    level = _stage_levels(stage_names, order)
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
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
