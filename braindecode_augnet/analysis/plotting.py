"""Plots of learned augmentation policies."""

import numpy as np

from ..layers import unwrap_module
from .policy import history_arrays, policy_table

__all__ = ["plot_policy"]

#: Width of the figures, in inches: about the width of a documentation page
#: or of a notebook cell at 100 dpi, so that 10-pt text is shown at 10 pt.
_WIDTH = 6.4
_TICKS = [0.0, 0.25, 0.5, 0.75, 1.0]


def _label(row):
    """Legend entry of a candidate: its name and final weight and magnitude."""
    cap = ", cap" if row.at_cap else ""
    moving = ", moving" if getattr(row, "moving", False) else ""
    return f"{row.transform} (w {row.weight:.2f}, m {row.magnitude:.2f}{cap}{moving})"


def _draw_final_policy(ax, rows):
    """Horizontal bars: weight and magnitude of each candidate of a layer."""
    names = rows["transform"].tolist()
    y = np.arange(len(names))
    ax.barh(y - 0.2, rows["weight"], height=0.4, color="C0", label="weight")
    ax.barh(y + 0.2, rows["magnitude"], height=0.4, color="C1", label="magnitude")
    for k in np.flatnonzero(rows["at_cap"].to_numpy()):
        ax.annotate(
            "cap",
            (1.0, y[k] + 0.2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
        )
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # first candidate on top, as in the policy table
    ax.set_xlim(0, 1.12)
    ax.set_xticks(_TICKS)
    ax.grid(axis="x", alpha=0.3)


def _draw_trajectories(axes, rows, weights, magnitudes):
    """Weights and magnitudes of a layer's candidates after each epoch."""
    epochs = np.arange(1, len(weights) + 1)
    handles = []
    for k, row in enumerate(rows.itertuples()):
        color = f"C{k % 10}"
        (line,) = axes[0].plot(epochs, weights[:, k], color=color, lw=1.8)
        axes[1].plot(epochs, magnitudes[:, k], color=color, lw=1.8)
        if row.at_cap:  # the reported magnitude is the range's limit
            axes[1].plot(epochs[-1], magnitudes[-1, k], "^", color=color, ms=8)
        handles.append(line)
    for ax, label in zip(axes, ("weight", "magnitude")):
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.set_ylim(-0.03, 1.03)
        ax.set_yticks(_TICKS)
        ax.grid(alpha=0.3)
        if len(epochs) <= 10:
            ax.set_xticks(epochs)
    return handles


def plot_policy(estimator, axes=None, show_trajectory=True):
    """Draw a learned policy and its trajectories over epochs.

    One row per augmentation layer. With a fitted classifier, the row shows
    the weight (left) and the magnitude (right) of each candidate at the end
    of each epoch, read from its ``history``, and the legend below gives their
    final values (``w``: weight, ``m``: magnitude; ``cap`` and a triangle mark
    a magnitude at the top of its range, whose reported value is the range's
    limit rather than a learned value; ``moving`` marks one that had not
    settled at the epoch shown, see :func:`~.policy_table`). Otherwise
    the row shows the final
    weights and magnitudes as bars. For involutions (``TimeReverse``,
    ``SignFlip``, ``ChannelsSymmetry``), the magnitude is twice the learned
    probability.

    The figure is sized for a documentation page or a notebook cell (6.4
    inches wide) with matplotlib's default font sizes.

    Parameters
    ----------
    estimator : AugNetClassifier | AugNet | AugmentationModule
        A fitted :class:`~.AugNetClassifier` (trajectories come from its
        ``history``) or a module holding augmentation layers (final policy
        only).
    axes : array of matplotlib.axes.Axes | None
        Axes to draw on, shaped ``(n_layers, 2)`` with trajectories or
        ``(n_layers, 1)`` for the final policy only. Created, in a new figure,
        when ``None``.
    show_trajectory : bool
        Draw the weight and magnitude trajectories when a history exists;
        otherwise draw the final policy.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from braindecode_augnet import sinusoid_augmentation
    >>> fig = plot_policy(sinusoid_augmentation())  # final policy only
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    history = getattr(estimator, "history", None)
    table = policy_table(unwrap_module(estimator), history=history)
    weights_traj = history_arrays(history, "aug_weights")
    magnitudes_traj = history_arrays(history, "aug_magnitudes")
    with_traj = show_trajectory and bool(weights_traj)
    if table.empty:
        raise ValueError(
            f"{type(estimator).__name__} holds no learned augmentation layer "
            "(e.g. method='none' or 'random'): there is no policy to plot."
        )
    n_layers = int(table["layer"].max()) + 1
    n_cols = 2 if with_traj else 1
    layers = [table[table["layer"] == i] for i in range(n_layers)]

    if axes is not None:  # the caller's axes: legends inside them
        axes = np.asarray(axes).reshape(n_layers, n_cols)
        for i, rows in enumerate(layers):
            if with_traj:
                handles = _draw_trajectories(
                    axes[i], rows, weights_traj[i], magnitudes_traj[i]
                )
                labels = [_label(row) for row in rows.itertuples()]
                axes[i, 1].legend(handles, labels, fontsize="small")
            else:
                _draw_final_policy(axes[i, 0], rows)
                axes[i, 0].set_title(f"Layer {i}")
                axes[i, 0].legend(fontsize="small")
        return axes[0, 0].figure

    if not with_traj:
        heights = [0.6 + 0.4 * len(rows) for rows in layers]
        fig, final_axes = plt.subplots(
            n_layers,
            1,
            figsize=(_WIDTH, sum(heights) + 0.8),
            height_ratios=heights,
            sharex=True,
            squeeze=False,
            layout="constrained",
        )
        for i, (ax, rows) in enumerate(zip(final_axes[:, 0], layers)):
            _draw_final_policy(ax, rows)
            ax.set_title(f"Layer {i}", fontweight="bold")
        final_axes[-1, 0].set_xlabel("final value")
        handles, labels = final_axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False)
        return fig

    heights = [2.6 + 0.25 * int(np.ceil(len(rows) / 2)) for rows in layers]
    fig = plt.figure(figsize=(_WIDTH, sum(heights)), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(n_layers, 1, height_ratios=heights))
    for i, (subfig, rows) in enumerate(zip(subfigs, layers)):
        subfig.suptitle(f"Layer {i}", fontweight="bold")
        row_axes = subfig.subplots(1, 2)
        handles = _draw_trajectories(
            row_axes, rows, weights_traj[i], magnitudes_traj[i]
        )
        subfig.legend(
            handles,
            [_label(r) for r in rows.itertuples()],
            loc="outside lower center",
            ncol=2,
            frameon=False,
        )
    return fig
