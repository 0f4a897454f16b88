"""Plots of learned augmentation policies."""

import numpy as np

from .layers import unwrap_module
from .policy import policy_table

__all__ = ["plot_policy"]


def _history_arrays(history, key):
    """Per-layer ``(n_epochs, n_transforms)`` arrays of a history key."""
    rows = [epoch[key] for epoch in history if key in epoch]
    if not rows:
        return []
    return [np.array([row[i] for row in rows]) for i in range(len(rows[0]))]


def plot_policy(estimator, axes=None, show_trajectory=True):
    """Draw a learned policy and its trajectories over epochs.

    The top row shows, per layer, the weights and magnitudes of the
    candidates (twice the probability for involutions; "cap" marks a
    magnitude at the top of its range); with a fitted
    classifier, the next rows show their values at the end of each epoch.

    Parameters
    ----------
    estimator : AugNetClassifier | AugNet | AugmentationModule
        A fitted :class:`~.AugNetClassifier` (trajectories come from its
        ``history``) or a module holding augmentation layers (final policy
        only).
    axes : array of matplotlib.axes.Axes | None
        Axes to draw on, shaped ``(n_rows, n_layers)`` with 1 row (final
        policy) or 3 rows (with trajectories). Created when ``None``.
    show_trajectory : bool
        Draw the weight and magnitude trajectories when a history exists.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    table = policy_table(unwrap_module(estimator))
    history = getattr(estimator, "history", None)
    weights_traj = _history_arrays(history, "aug_weights") if history else []
    magnitudes_traj = _history_arrays(history, "aug_magnitudes") if history else []
    with_traj = show_trajectory and bool(weights_traj)
    n_layers = int(table["layer"].max()) + 1
    n_rows = 3 if with_traj else 1
    if axes is None:
        fig, axes = plt.subplots(
            n_rows, n_layers, figsize=(4.2 * n_layers, 3.2 * n_rows), squeeze=False
        )
    else:
        axes = np.asarray(axes).reshape(n_rows, n_layers)
        fig = axes[0, 0].figure
    for i in range(n_layers):
        rows = table[table["layer"] == i]
        names = rows["transform"].tolist()
        x = np.arange(len(names))
        ax = axes[0, i]
        ax.bar(x - 0.2, rows["weight"], width=0.4, label="weight")
        ax.bar(x + 0.2, rows["magnitude"], width=0.4, label="magnitude")
        for k in np.flatnonzero(rows["at_cap"].to_numpy()):
            ax.annotate("cap", (x[k] + 0.2, 1.0), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, names, rotation=40, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Layer {i}: learned policy")
        if i == 0:
            ax.legend(fontsize=7, loc="upper left")
        if with_traj:
            for row, (traj, label) in enumerate(
                [(weights_traj[i], "weight"), (magnitudes_traj[i], "magnitude")], 1
            ):
                ax = axes[row, i]
                epochs = np.arange(1, len(traj) + 1)
                for k, name in enumerate(names):
                    ax.plot(epochs, traj[:, k], label=name)
                ax.set_xlabel("epoch")
                ax.set_ylabel(label)
                ax.set_ylim(-0.02, 1.02)
                if row == 1:
                    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
