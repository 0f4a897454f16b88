"""Reading and exporting a learned augmentation policy."""

import copy

import numpy as np
import pandas as pd
import torch

from ..layers import augmentation_layers

__all__ = [
    "capped_transforms",
    "fixed_transforms",
    "policy_table",
    "unsettled_transforms",
]

#: Epochs over which :func:`policy_table` measures a magnitude's ``drift``.
DRIFT_EPOCHS = 3
#: Change of a magnitude per epoch (on its [0, 1] scale) above which, when
#: every one of the last :data:`DRIFT_EPOCHS` epochs moved it the same way,
#: the magnitude had not settled by the epoch reported. Adam moves a
#: magnitude pushed one way by about ``magnitude_lr`` per step, whatever the
#: size of the push; the threshold is a fifth of the pace measured in the
#: sleep job (benchmarks/README.rst, "Training long enough").
DRIFT_TOLERANCE = 0.01


def history_arrays(history, key):
    """Per-layer ``(n_epochs, n_transforms)`` arrays of a history key.

    Parameters
    ----------
    history : skorch.History | list of dict | None
        A fitted classifier's ``history`` (None: no epochs): ``aug_weights`` and
        ``aug_magnitudes`` hold, after each epoch, one list per layer
        (recorded by :class:`~.PolicyLogger`).
    key : str
        The history key.

    Returns
    -------
    list of numpy.ndarray
        One array per layer, empty when no epoch recorded ``key``.
    """
    rows = [epoch[key] for epoch in history or [] if key in epoch]
    if not rows:
        return []
    return [np.array([row[i] for row in rows]) for i in range(len(rows[0]))]


def _drift(history, magnitudes):
    """``(drift, moving)`` of every candidate, in the order of the table.

    Measured over the epochs up to the one whose magnitudes the table shows:
    the last epoch that recorded them (the best epoch when a checkpoint was
    restored after training), else the last epoch.
    """
    n_rows = len(magnitudes)
    drift, moving = np.full(n_rows, np.nan), np.zeros(n_rows, dtype=bool)
    layers = history_arrays(history, "aug_magnitudes")
    if not layers:
        return drift, moving
    trajectory = np.hstack(layers)
    if trajectory.shape[1] != n_rows:  # a history of other layers
        return drift, moving
    shown = np.flatnonzero(np.isclose(trajectory, magnitudes, atol=1e-6).all(axis=1))
    end = shown[-1] if len(shown) else len(trajectory) - 1
    if end < DRIFT_EPOCHS:
        return drift, moving
    steps = np.diff(trajectory[end - DRIFT_EPOCHS : end + 1], axis=0)
    drift = steps.mean(axis=0)
    same_way = (np.sign(steps) == np.sign(drift)).all(axis=0)
    # a magnitude that reached the end of [0, 1] it moved to can go no
    # further: it is at its bound (``at_cap``), not on its way
    shown_values = np.asarray(magnitudes, dtype=float)
    at_bound = ((drift > 0) & (shown_values >= 1 - 1e-6)) | (
        (drift < 0) & (shown_values <= 1e-6)
    )
    return drift, same_way & (np.abs(drift) > DRIFT_TOLERANCE) & ~at_bound


_COLUMNS = ["layer", "transform", "weight", "magnitude", "probability"]
_COLUMNS += ["op_value", "mag_range", "at_cap", "displacement"]


def policy_table(obj, history=None):
    """The learned policy as a table.

    Returns
    -------
    pandas.DataFrame
        One row per candidate transform: ``layer``, ``transform``, ``weight``,
        ``magnitude`` (in [0, 1]), ``probability`` (of augmenting an example;
        learned for involutions, where it is ``magnitude / 2``), ``op_value``
        (the magnitude in the unit of the operation, e.g. the maximal
        frequency shift in Hz), ``mag_range`` and ``at_cap`` (True when the
        magnitude sits at the top of its range: the value reported is then
        the range's limit, not a learned value; widen ``mag_range`` to learn
        it; for a ``SmoothTimeMask`` on windows shorter than its range, True
        when the mask reaches the whole window, whose length ``op_value`` then
        reports) and ``displacement`` (how much the candidate's full range changes
        the data, measured on the first training batch, see
        :meth:`~.AugmentationLayer.calibrate`; 1 before training). With a
        ``history``, also ``drift``, the magnitude's mean change per epoch
        over the 3 epochs up to the one the table shows (the last epoch that
        recorded these magnitudes: the best epoch when a checkpoint was
        restored after training; NaN without 3 epochs before it), and
        ``moving``, True when each of those epochs moved it the same way, by
        more than 0.01 per epoch on average: the magnitude had not settled,
        and the value reported is where it was at that epoch, not an
        equilibrium between the data and the regulariser (False once it has
        reached the end of [0, 1] it moved to, where it can go no further:
        ``at_cap`` says so for a magnitude at its top; for an involution,
        probability 0.5 is the largest invariance).

    Parameters
    ----------
    obj : AugNetClassifier | AugNet | AugmentationModule | AugmentationLayer
        What holds the augmentation layers (a fitted classifier too).
    history : skorch.History | list of dict | None
        The training history whose ``aug_magnitudes`` give ``drift`` and
        ``moving``; None: the ``history`` of ``obj`` when it is a fitted
        classifier (as ``clf.policy_``), else no such columns.

    Examples
    --------
    >>> from braindecode_augnet import sinusoid_augmentation
    >>> table = policy_table(sinusoid_augmentation(random_state=0))
    >>> table[["transform", "weight", "magnitude"]].round(3)
            transform  weight  magnitude
    0  FrequencyShift   0.333        0.5
    1     FTSurrogate   0.333        0.5
    2   GaussianNoise   0.333        0.5
    """
    if history is None:
        history = getattr(obj, "history", None)
    rows = []
    with torch.no_grad():
        for i, layer in enumerate(augmentation_layers(obj)):
            weights, displacements = layer.weights.tolist(), layer.displacement.tolist()
            for weight, displacement, tr in zip(
                weights, displacements, layer.transforms
            ):
                op_value = tr.op_value
                rows.append(
                    {
                        "layer": i,
                        "transform": type(tr).__name__,
                        "weight": weight,
                        "magnitude": tr.magnitude.item(),
                        "probability": float(tr.probability),
                        "op_value": float("nan")
                        if op_value is None
                        else float(op_value),
                        "mag_range": tr.mag_range,
                        "at_cap": tr.at_cap,
                        "displacement": displacement,
                    }
                )
    table = pd.DataFrame(rows, columns=_COLUMNS)  # the columns even when empty
    if history is not None:
        magnitudes = [row["magnitude"] for row in rows]
        table["drift"], table["moving"] = _drift(history, magnitudes)
    return table


def _as_table(table):
    """``table`` when it is a policy table, else the policy table of it."""
    return table if isinstance(table, pd.DataFrame) else policy_table(table)


def capped_transforms(table, min_weight=0.1):
    """Human-readable notes on the selected transforms that sit at their cap.

    Parameters
    ----------
    table : pandas.DataFrame | object
        Output of :func:`policy_table`, or what it takes (e.g. a fitted
        classifier).
    min_weight : float
        Only transforms with at least this weight are reported.

    Returns
    -------
    list of str
        One sentence per capped transform, suggesting a wider ``mag_range``
        (a narrower one for a mask as long as the window).

    Examples
    --------
    >>> from braindecode_augnet import AugmentationModule
    >>> from braindecode_augnet.transforms import FTSurrogate, GaussianNoise
    >>> module = AugmentationModule([[GaussianNoise(magnitude=1.0), FTSurrogate()]])
    >>> for note in capped_transforms(policy_table(module)):
    ...     print(note)
    layer 0, GaussianNoise: magnitude at the top of mag_range=(0, 0.2); 0.2 is
    the range's limit, not a learned value: widen mag_range to learn how far
    the invariance goes.
    """
    table = _as_table(table)
    notes = []
    capped = table[table["at_cap"] & (table["weight"] >= min_weight)]
    for row in capped.itertuples():
        low, high = row.mag_range
        if row.op_value < high - 0.01 * (high - low):
            # capped below the range's top by the inputs: a SmoothTimeMask
            # mask as long as the windows
            notes.append(
                f"layer {row.layer}, {row.transform}: op_value {row.op_value:g} "
                "is the most the op does on these inputs (a mask as long as the "
                "window), not a learned value: mag_range=("
                f"{low:g}, {high:g}) goes beyond it; pass a range whose top is at "
                f"most {row.op_value:g}."
            )
            continue
        notes.append(
            f"layer {row.layer}, {row.transform}: magnitude at the top of "
            f"mag_range=({low:g}, {high:g}); {high:g} is the range's limit, not a "
            "learned value: widen mag_range to learn how far the invariance goes."
        )
    return notes


def unsettled_transforms(table, min_weight=0.1):
    """Human-readable notes on the selected magnitudes still moving.

    Parameters
    ----------
    table : pandas.DataFrame | object
        Output of :func:`policy_table` with a ``history`` (``clf.policy_``),
        or what it takes (e.g. a fitted classifier, whose history is used).
    min_weight : float
        Only transforms with at least this weight are reported.

    Returns
    -------
    list of str
        One sentence per transform whose magnitude had not settled at the
        epoch the table shows (``moving``), with its drift per epoch.

    Examples
    --------
    >>> from braindecode_augnet import AugmentationModule
    >>> from braindecode_augnet.transforms import FTSurrogate
    >>> module = AugmentationModule([[FTSurrogate(magnitude=0.65)]])
    >>> history = [{"aug_magnitudes": [[m]]} for m in (0.5, 0.55, 0.6, 0.65)]
    >>> for note in unsettled_transforms(policy_table(module, history)):
    ...     print(note)
    layer 0, FTSurrogate: magnitude still rising by 0.050 per epoch over the
    3 epochs up to the reported one; 0.65 is where it was then, not a settled
    value: train for more epochs before reading it as the data's invariance.
    """
    table = _as_table(table)
    if "moving" not in table:
        return []
    notes = []
    moving = table[table["moving"] & (table["weight"] >= min_weight)]
    for row in moving.itertuples():
        way = "rising" if row.drift > 0 else "falling"
        notes.append(
            f"layer {row.layer}, {row.transform}: magnitude still {way} by "
            f"{abs(row.drift):.3f} per epoch over the {DRIFT_EPOCHS} epochs up to the "
            f"reported one; {row.magnitude:.3g} is where it was then, not a settled "
            "value: train for more epochs before reading it as the data's "
            "invariance."
        )
    return notes


def fixed_transforms(obj, min_weight=0.0):
    """Frozen copies of the learned transforms, for fixed augmentation.

    Each layer becomes its most weighted transform (or every transform whose
    weight is at least ``min_weight`` when it is given), frozen at its
    learned magnitude, ready for
    :class:`braindecode.augmentation.AugmentedDataLoader`.

    Parameters
    ----------
    obj : AugNetClassifier | AugNet | AugmentationModule | AugmentationLayer
        What holds the augmentation layers.
    min_weight : float
        Keep every transform with at least this weight; 0 keeps only the
        most weighted transform of each layer.

    Returns
    -------
    list of DifferentiableTransform
        Frozen transforms (no gradient, evaluation mode).

    Examples
    --------
    >>> import torch
    >>> from braindecode_augnet import AugmentationModule
    >>> from braindecode_augnet.transforms import FTSurrogate, GaussianNoise
    >>> module = AugmentationModule([[GaussianNoise(), FTSurrogate()]])
    >>> with torch.no_grad():
    ...     _ = module.layers[0].alpha.copy_(torch.tensor([0.0, 1.0]))
    >>> fixed_transforms(module)  # the most weighted transform of each layer
    [FTSurrogate(probability=1, magnitude=0.500, mag_range=(0.0, 1.0))]
    >>> fixed_transforms(module)[0].raw_magnitude.requires_grad
    False
    """
    chosen = []
    for layer in augmentation_layers(obj):
        weights = layer.weights.detach()
        if min_weight > 0:
            keep = [k for k, w in enumerate(weights.tolist()) if w >= min_weight]
        else:
            keep = [int(weights.argmax())]
        chosen.extend(copy.deepcopy(layer.transforms[k]).freeze() for k in keep)
    return chosen
