"""Measuring how invariant a model is to a transform."""

import numpy as np
import torch
from torch import nn

from ..base import DifferentiableTransform, check_eeg_batch
from ..layers import unwrap_module

__all__ = ["invariance", "invariance_scores"]


def _as_function(model):
    """A callable tensor -> tensor, and the device it expects."""
    module = unwrap_module(model)
    if isinstance(module, nn.Module):
        try:
            device = next(module.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        return module, device
    if callable(module):
        return module, torch.device("cpu")
    raise TypeError(
        f"model must be a torch module, a fitted net or a callable, "
        f"got {type(model).__name__}."
    )


def _transformed(transform, X):
    """``T(X)``: the operation itself, applied to every example.

    A :class:`~.DifferentiableTransform` is applied through
    :meth:`~.DifferentiableTransform.apply_transform`, whatever its
    probability: invariance is measured to the operation (at the transform's
    magnitude), not to the mixture of it and the identity.
    """
    if isinstance(transform, DifferentiableTransform):
        return transform.apply_transform(X, transform.sample_params(X))
    return transform(X)


def _cosine_distance(a, b):
    return 1 - torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12)


def invariance_scores(
    model, X, transform, embedding=None, batch_size=256, random_state=None
):
    """Per-example invariance ``1 - d(f(x), f(Tx)) / d(f(x), f(x'))``.

    ``d`` is the cosine distance and ``x'`` another example of ``X`` drawn at
    random (Rommel et al. 2022). Outputs are centred over their last axis
    before comparing them, so that logits and log-probabilities (which differ
    by a constant per example) give the same score.

    Parameters
    ----------
    model : torch.nn.Module | skorch.NeuralNet | callable
        The model ``f`` (set to evaluation mode while measuring), e.g. an
        :class:`~.AugNet`, a bare trunk or a fitted classifier.
    X : array-like
        Examples ``(n, channels, times)``, at least 2.
    transform : callable
        The transform ``T`` (e.g. a frozen
        :class:`~braindecode_augnet.transforms.FrequencyShift`).
    embedding : callable | None
        Compare ``embedding(x)`` instead of the model's outputs.
    batch_size : int
        Examples per forward pass.
    random_state : int | None
        Seed of the choice of ``x'`` and of the transform's draws when it
        uses torch's global generator.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` invariance scores (1: invariant; 0: ``T`` moves the output
        as much as changing the example; negative: more).

    Examples
    --------
    A model that reads the power of each channel is invariant to sign flips;
    one that reads the mean is not:

    >>> import torch
    >>> from braindecode_augnet.transforms import SignFlip
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(16, 4, 100)
    >>> power = lambda x: x.pow(2).mean(-1)
    >>> scores = invariance_scores(power, X, SignFlip(), random_state=0)
    >>> scores.shape, round(float(scores.min()), 6)
    ((16,), 1.0)
    >>> mean = lambda x: x.mean(-1)
    >>> bool(invariance_scores(mean, X, SignFlip(), random_state=0).max() < 1)
    True
    """
    f, device = _as_function(embedding if embedding is not None else model)
    X = check_eeg_batch(X)
    n = X.shape[0]
    if n < 2:
        raise ValueError("invariance needs at least 2 examples.")
    rng = np.random.default_rng(random_state)
    other = (np.arange(n) + rng.integers(1, n, size=n)) % n
    if random_state is not None:
        torch.manual_seed(random_state)
    modules = [m for m in (f, transform) if isinstance(m, nn.Module)]
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        with torch.no_grad():
            outputs, outputs_t = [], []
            for start in range(0, n, batch_size):
                xb = X[start : start + batch_size].to(device)
                outputs.append(f(xb).flatten(1))
                outputs_t.append(f(_transformed(transform, xb)).flatten(1))
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)
    out = torch.cat(outputs).double()
    out_t = torch.cat(outputs_t).double()
    out = out - out.mean(1, keepdim=True)
    out_t = out_t - out_t.mean(1, keepdim=True)
    d_transform = _cosine_distance(out, out_t)
    d_other = _cosine_distance(out, out[torch.as_tensor(other)])
    return (1 - d_transform / d_other.clamp_min(1e-12)).cpu().numpy()


def invariance(model, X, transform, embedding=None, batch_size=256, random_state=None):
    """Median invariance of ``model`` to ``transform`` over ``X``.

    See :func:`invariance_scores` for the definition and the parameters.

    Returns
    -------
    float
        The median of the per-example scores.

    Examples
    --------
    The operation of a transform is applied to every example, whatever its
    probability, so ``SignFlip()`` measures the invariance to sign flips:

    >>> import torch
    >>> from braindecode_augnet.transforms import SignFlip
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(16, 4, 100)
    >>> score = invariance(lambda x: x.pow(2).mean(-1), X, SignFlip(), random_state=0)
    >>> round(score, 6)
    1.0
    """
    scores = invariance_scores(model, X, transform, embedding, batch_size, random_state)
    return float(np.median(scores))
