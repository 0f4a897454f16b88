"""Reading and exporting a learned augmentation policy."""

import copy

import pandas as pd
import torch

from .layers import augmentation_layers

__all__ = ["capped_transforms", "fixed_transforms", "policy_table"]


def policy_table(obj):
    """The learned policy as a table.

    Parameters
    ----------
    obj : AugNetClassifier | AugNet | AugmentationModule | AugmentationLayer
        What holds the augmentation layers (a fitted classifier too).

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
        it) and ``displacement`` (how much the candidate's full range changes
        the data, measured on the first training batch, see
        :meth:`~.AugmentationLayer.calibrate`; 1 before training).

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
    return pd.DataFrame(rows)


def capped_transforms(table, min_weight=0.1):
    """Human-readable notes on the selected transforms that sit at their cap.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`policy_table`.
    min_weight : float
        Only transforms with at least this weight are reported.

    Returns
    -------
    list of str
        One sentence per capped transform, suggesting a wider ``mag_range``.

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
    notes = []
    capped = table[table["at_cap"] & (table["weight"] >= min_weight)]
    for row in capped.itertuples():
        low, high = row.mag_range
        notes.append(
            f"layer {row.layer}, {row.transform}: magnitude at the top of "
            f"mag_range=({low:g}, {high:g}); {high:g} is the range's limit, not a "
            "learned value: widen mag_range to learn how far the invariance goes."
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
