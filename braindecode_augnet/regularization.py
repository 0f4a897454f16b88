"""The invariance-promoting regulariser of AugNet."""

import torch

from .functional import concatenated_norm
from .layers import augmentation_layers

__all__ = ["augmentation_regularizer", "augnet_loss"]

REGULARIZER_SCALES = ("magnitude", "displacement")


def augmentation_regularizer(obj, scale="magnitude", reuse_forward=False):
    """``|| concat over layers (weight * magnitude [* displacement]) ||_2``.

    ``magnitude`` is each transform's magnitude in [0, 1] (twice the
    probability for involutions, see :class:`~.Involution`). AugNet's loss
    is ``NLL - reg * R``: the regulariser pushes up the magnitudes of the
    transforms the layers select, and the data term pushes down those that
    hurt the fit.

    A magnitude of 1 means "the top of the candidate's ``mag_range``", a
    different thing for every candidate: a noise of standard deviation 0.1
    may leave the data almost unchanged where a 2 Hz frequency shift
    decorrelates it. With ``scale='displacement'`` each product is multiplied
    by the candidate's ``displacement``, how much its full range changes the
    data (relative RMS change, measured by
    :meth:`~.AugmentationLayer.calibrate` on the first training batch), so
    that a candidate whose whole range is harmless because it barely changes
    the data cannot win the regulariser by sitting at its cap.

    Parameters
    ----------
    obj : AugNet | AugmentationModule | AugmentationLayer | list
        What holds the augmentation layers. The value is computed from the
        current parameters at call time (no model reference is kept), unless
        ``reuse_forward``.
    scale : {'magnitude', 'displacement'}
        ``'magnitude'``: the paper's regulariser on magnitudes in [0, 1];
        ``'displacement'``: magnitudes weighed by each candidate's measured
        displacement (ones until a layer is calibrated).
    reuse_forward : bool
        Reuse the weights and magnitudes of the last training forward pass
        (see :meth:`~.AugmentationLayer.regularizer_terms`), with the graph
        of their projection: what a loss computed right after the forward
        pass of the same step does, with the same values and gradients as a
        fresh computation, without computing the policy a second time
        (about 90 profiler events fewer a step on the EEG preset). Default
        False: computed from the current parameters at call time.

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

    Weighed by how much each candidate changes a batch at full magnitude:

    >>> X = torch.randn(64, 2, 200, generator=torch.Generator().manual_seed(0))
    >>> displacement = module.layers[0].calibrate(X)  # noise std 0.2, random phases
    >>> [round(d, 1) for d in displacement.tolist()]
    [0.2, 1.4]
    >>> reg = augmentation_regularizer(module, scale="displacement")
    """
    if scale not in REGULARIZER_SCALES:
        raise ValueError(f"scale must be one of {REGULARIZER_SCALES}, got {scale!r}.")
    layers = augmentation_layers(obj)
    if not layers:
        return torch.zeros(())
    parts = []
    for layer in layers:
        part = layer.regularizer_terms(reuse_forward)
        if scale == "displacement":
            part = part * layer.displacement.to(part.dtype)
        parts.append(part)
    return concatenated_norm(parts)


def augnet_loss(nll, obj, reg, scale="magnitude", reuse_forward=True):
    """AugNet's training loss, ``nll - reg * R``, and the regulariser ``R``.

    The loss of :meth:`AugNetClassifier.get_loss
    <braindecode_augnet.AugNetClassifier.get_loss>` in training, and of the
    training-step benchmark.

    Parameters
    ----------
    nll : torch.Tensor
        The data term (scalar), e.g. the NLL of the averaged model.
    obj : AugNet | AugmentationModule | list
        What holds the augmentation layers (see
        :func:`augmentation_regularizer`).
    reg : float
        Weight of the regulariser (0: the loss is ``nll``, ``R`` still
        computed, for logging).
    scale : {'magnitude', 'displacement'}
        What the regulariser rewards.
    reuse_forward : bool
        Reuse the policy of the last training forward pass (right after it,
        in the same step), see :func:`augmentation_regularizer`.

    Returns
    -------
    loss, penalty : torch.Tensor
        The loss to minimise, and ``R``.
    """
    penalty = augmentation_regularizer(obj, scale=scale, reuse_forward=reuse_forward)
    loss = nll - reg * penalty if reg else nll
    return loss, penalty
