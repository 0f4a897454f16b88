"""The invariance-promoting regulariser of AugNet."""

import torch

from .layers import augmentation_layers

__all__ = ["augmentation_regularizer"]


def augmentation_regularizer(obj):
    """``|| concat over layers (magnitude * weight) ||_2``.

    ``magnitude`` is each transform's magnitude in [0, 1] (twice the
    probability for involutions, see :class:`~.Involution`). AugNet's loss
    is ``NLL - reg * R``: the regulariser pushes up the magnitudes of the
    transforms the layers select, and the data term pushes down those that
    hurt the fit.

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

    Examples
    --------
    One layer of two candidates with equal weights (0.5) and magnitudes 0.5:

    >>> from braindecode_augnet import AugmentationModule
    >>> from braindecode_augnet.transforms import FTSurrogate, GaussianNoise
    >>> module = AugmentationModule([[GaussianNoise(), FTSurrogate()]])
    >>> reg = augmentation_regularizer(module)
    >>> round(reg.item(), 4)  # || (0.5 * 0.5, 0.5 * 0.5) ||
    0.3536
    >>> reg.backward()  # pushes up magnitudes (and weights) when subtracted
    """
    layers = augmentation_layers(obj)
    if not layers:
        return torch.zeros(())
    return torch.cat([layer.weights * layer.magnitudes() for layer in layers]).norm()
