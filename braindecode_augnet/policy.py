"""Reading and exporting a learned augmentation policy."""

import copy

import pandas as pd
import torch

from .regularization import augmentation_layers

__all__ = ["fixed_transforms", "policy_table"]


def policy_table(obj):
    """The learned policy as a table.

    Parameters
    ----------
    obj : AugNet | AugmentationModule | AugmentationLayer
        What holds the augmentation layers.

    Returns
    -------
    pandas.DataFrame
        One row per candidate transform: ``layer``, ``transform``, ``weight``,
        ``magnitude`` (NaN without one), ``probability`` and ``op_value`` (the
        magnitude mapped onto the op's range, e.g. the maximal frequency shift
        in Hz; NaN without a magnitude).
    """
    rows = []
    with torch.no_grad():
        for i, layer in enumerate(augmentation_layers(obj)):
            for weight, tr in zip(layer.weights.tolist(), layer.transforms):
                probability = tr.probability
                rows.append(
                    {
                        "layer": i,
                        "transform": type(tr).__name__,
                        "weight": weight,
                        "magnitude": (
                            tr.magnitude.item() if tr.has_magnitude else float("nan")
                        ),
                        "probability": float(probability),
                        "op_value": (
                            tr.op_value.item() if tr.has_magnitude else float("nan")
                        ),
                    }
                )
    return pd.DataFrame(rows)


def fixed_transforms(obj, min_weight=0.0):
    """Frozen copies of the learned transforms, for fixed augmentation.

    Each layer becomes its most weighted transform (or every transform whose
    weight is at least ``min_weight`` when it is given), frozen at its
    learned magnitude, ready for
    :class:`braindecode.augmentation.AugmentedDataLoader`.

    Parameters
    ----------
    obj : AugNet | AugmentationModule | AugmentationLayer
        What holds the augmentation layers.
    min_weight : float
        Keep every transform with at least this weight; 0 keeps only the
        most weighted transform of each layer.

    Returns
    -------
    list of DifferentiableTransform
        Frozen transforms (no gradient, evaluation mode).
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
