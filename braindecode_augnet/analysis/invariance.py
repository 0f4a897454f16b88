"""Measuring how invariant a model is to a transform."""

import contextlib

import numpy as np
import torch
from torch import nn

from .._validation import check_int
from ..base import DifferentiableTransform, check_eeg_batch
from ..layers import AugmentationLayer, unwrap_module

__all__ = ["invariance", "invariance_scores"]

#: Cosine distance under which ``f(x')`` points (nearly) the way ``f(x)``
#: does: the example's score, a ratio over it, is undefined (nan), where it
#: would be a huge number that says nothing of the transform.
_SAME_DIRECTION = 1e-9


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


def _check_transform(transform):
    if isinstance(transform, type):
        raise TypeError(
            f"transform must be a transform, got the class {transform.__name__}: "
            f"pass an instance, e.g. {transform.__name__}()."
        )
    if not callable(transform):
        raise TypeError(
            "transform must be a callable (e.g. a frozen DifferentiableTransform), "
            f"got {type(transform).__name__}."
        )


def _modes(*objects):
    """Each module's training mode under ``objects``, to restore."""
    roots = [m for m in objects if isinstance(m, nn.Module)]
    return [(m, m.training) for root in roots for m in root.modules()]


def _restore(saved):
    for m, mode in saved:
        m.training = mode


@contextlib.contextmanager
def _augmenting(transform):
    """``transform`` applied as augmentation is in training, in training mode
    (in evaluation :class:`~.RandomPolicy` and most augmentations pass
    examples unchanged), except AugNet's :class:`~.AugmentationLayer`, which
    augments in evaluation too (one candidate drawn per example, as at
    AugNet's inference) and would mix its candidates or calibrate in
    training. Its modes are restored after the block, so that a transform
    that is part of the model (e.g. its own policy) does not augment the
    model's outputs on the untransformed examples."""
    saved = _modes(transform)
    if isinstance(transform, nn.Module):
        transform.train()
        for m in transform.modules():
            if isinstance(m, AugmentationLayer):
                m.eval()
    try:
        yield
    finally:
        _restore(saved)


@contextlib.contextmanager
def _seeded(random_state, device):
    """torch's global generators of the CPU and ``device`` seeded with
    ``random_state`` in the block, the caller's states restored after it."""
    if random_state is None:
        yield
        return
    generators = [torch.default_generator]
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        generators.append(torch.cuda.default_generators[index])
    states = [g.get_state() for g in generators]
    try:
        for g in generators:
            g.manual_seed(random_state)
        yield
    finally:
        for g, state in zip(generators, states):
            g.set_state(state)


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


def _flat(out, n, name):
    """The outputs ``(n, features)`` of a batch of ``n``: at least 3
    features, finite."""
    if out.ndim < 1 or out.shape[0] != n:
        raise ValueError(
            f"{name} must give one output row per example, got outputs of shape "
            f"{tuple(out.shape)} for a batch of {n} examples."
        )
    if out.ndim < 2 or out[0].numel() < 3:
        raise ValueError(
            f"{name} must give at least 3 outputs per example, got outputs of "
            f"shape {tuple(out.shape)} for {n} examples: centring each "
            "example's outputs leaves only a sign of 2 values (e.g. a binary "
            "classifier's logits) and nothing of 1. Pass embedding= a callable "
            "giving >= 3 features per example (e.g. the trunk without its final "
            "layer)."
        )
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            f"{name} gave NaN or infinite outputs on finite examples: the "
            "invariance is undefined. Check the model (e.g. its weights) first."
        )
    return out.flatten(1)


def _outputs(f, transform, X, batch_size, device, name):
    """``f(X)`` and ``f(T(X))``, ``(n, features)`` each, in float64."""
    outputs, outputs_t = [], []
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            xb = X[start : start + batch_size].to(device)
            outputs.append(_flat(f(xb), len(xb), name))
            with _augmenting(transform):
                xb_t = _transformed(transform, xb)
            outputs_t.append(_flat(f(xb_t), len(xb), name))
    return torch.cat(outputs).double(), torch.cat(outputs_t).double()


def _cosine_distance(a, b):
    return 1 - torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12)


def _scores(out, out_t, other):
    """``1 - d(f(x), f(Tx)) / d(f(x), f(x'))``, nan where undefined."""
    out = out - out.mean(1, keepdim=True)
    out_t = out_t - out_t.mean(1, keepdim=True)
    d_other = _cosine_distance(out, out[torch.as_tensor(other)])
    undefined = d_other <= _SAME_DIRECTION
    if bool(undefined.all()):
        raise ValueError(
            "Every example of X gives the model's outputs the direction of "
            "those of the other example it is compared with (X's examples are "
            "alike, or the model's outputs do not depend on them): the "
            "invariance is undefined. Measure it on distinct examples."
        )
    scores = 1 - _cosine_distance(out, out_t) / d_other
    return scores.masked_fill(undefined, float("nan")).cpu().numpy()


def invariance_scores(
    model, X, transform, embedding=None, batch_size=256, random_state=None
):
    """Per-example invariance ``1 - d(f(x), f(Tx)) / d(f(x), f(x'))``.

    ``d`` is the cosine distance and ``x'`` another example of ``X`` drawn at
    random (Rommel et al. 2022). Outputs are centred over their values
    before comparing them, so that logits and log-probabilities (which differ
    by a constant per example) give the same score; hence at least 3 outputs
    per example (centring leaves only a sign of 2): for a binary classifier,
    pass an ``embedding``.

    Parameters
    ----------
    model : torch.nn.Module | skorch.NeuralNet | callable
        The model ``f`` (set to evaluation mode while measuring), e.g. an
        :class:`~.AugNet`, a bare trunk or a fitted classifier, giving at
        least 3 outputs per example.
    X : array-like
        Examples ``(n, channels, times)``, at least 2.
    transform : callable
        The transform ``T`` (e.g. a frozen
        :class:`~braindecode_augnet.transforms.FrequencyShift`). A module is
        applied as augmentation is in training, in training mode (e.g. a
        :class:`~.RandomPolicy`, which passes examples unchanged in
        evaluation), except AugNet's augmentation layers, applied in
        evaluation mode as at AugNet's inference (one candidate drawn per
        example). Modes are restored afterwards.
    embedding : callable | None
        Compare ``embedding(x)`` (at least 3 features per example, e.g. the
        trunk without its final layer) instead of the model's outputs.
    batch_size : int
        Examples per forward pass, at least 1.
    random_state : int | None
        Seed of the choice of ``x'`` and of the transform's draws when it
        uses torch's global generator (seeded for the measure only: the
        caller's global random state is restored).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` invariance scores (1: invariant; 0: ``T`` moves the output
        as much as changing the example; negative: more). ``nan`` where
        ``f(x')`` points (nearly, cosine distance <= 1e-9) the way ``f(x)``
        does (e.g. duplicated examples), where the ratio is undefined.

    Raises
    ------
    ValueError
        If ``f`` gives fewer than 3 outputs per example or non-finite ones, or
        if every score is undefined.

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
    name = "model" if embedding is None else "embedding"
    f, device = _as_function(embedding if embedding is not None else model)
    _check_transform(transform)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if random_state is not None:
        random_state = check_int(random_state, "random_state")
    X = check_eeg_batch(X)
    n = X.shape[0]
    if n < 2:
        raise ValueError("invariance needs at least 2 examples.")
    rng = np.random.default_rng(random_state)
    other = (np.arange(n) + rng.integers(1, n, size=n)) % n
    saved = _modes(f, transform)
    if isinstance(f, nn.Module):
        f.eval()  # measured in evaluation mode
    try:
        with _seeded(random_state, device):
            out, out_t = _outputs(f, transform, X, batch_size, device, name)
    finally:
        _restore(saved)
    return _scores(out, out_t, other)


def invariance(model, X, transform, embedding=None, batch_size=256, random_state=None):
    """Median invariance of ``model`` to ``transform`` over ``X``.

    See :func:`invariance_scores` for the definition and the parameters.

    Returns
    -------
    float
        The median of the per-example scores (of those defined).

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
    return float(np.nanmedian(scores))
