"""The invariance-promoting regulariser of AugNet."""

import torch
from torch import nn

from .layers import AugmentationLayer, AugmentationModule

__all__ = ["augmentation_layers", "augmentation_regularizer"]


def augmentation_layers(obj):
    """The augmentation layers held by ``obj``.

    Parameters
    ----------
    obj : AugNetClassifier | AugNet | AugmentationModule | AugmentationLayer | list
        Anything holding augmentation layers (an :class:`~.AugNet` through its
        ``augmentation`` attribute, a fitted classifier through ``module_``).

    Returns
    -------
    list of AugmentationLayer
    """
    if isinstance(obj, AugmentationLayer):
        return [obj]
    if isinstance(obj, AugmentationModule):
        return list(obj.layers)
    if callable(getattr(obj, "augmentation_layers", None)):  # e.g. RandomPolicy
        return list(obj.augmentation_layers())
    if isinstance(obj, nn.Module) and hasattr(obj, "augmentation"):
        return augmentation_layers(obj.augmentation)
    module = getattr(obj, "module_", None)  # a fitted AugNetClassifier
    if isinstance(module, nn.Module):
        return augmentation_layers(module)
    if isinstance(obj, (list, tuple, nn.ModuleList)):
        return [layer for item in obj for layer in augmentation_layers(item)]
    raise TypeError(f"{type(obj).__name__} holds no augmentation layers.")


def augmentation_regularizer(obj):
    """``|| concat over layers (strength * weight) ||_2``.

    ``strength`` is each transform's magnitude, or its probability for
    transforms without a magnitude. AugNet's loss is ``NLL - reg * R``:
    the regulariser pushes up the magnitudes of the transforms the layers
    select, and the data term pushes down those that hurt the fit.

    Parameters
    ----------
    obj : AugNet | AugmentationModule | AugmentationLayer | list
        What holds the augmentation layers. The value is computed from the
        current parameters at call time (no model reference is kept).

    Returns
    -------
    torch.Tensor
        Scalar, differentiable with respect to magnitudes, probabilities and
        layer weights.
    """
    layers = augmentation_layers(obj)
    if not layers:
        return torch.zeros(())
    return torch.cat([layer.weights * layer.strengths() for layer in layers]).norm()
