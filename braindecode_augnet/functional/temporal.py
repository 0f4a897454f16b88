"""Operations of the temporal transforms.

Those of :mod:`braindecode_augnet.transforms.temporal`.
"""

import torch
from torch.autograd.function import once_differentiable

from ._tensor import (
    _as_batch_column,
    _cast,
    _constant,
    _halves,
    _scale_rows,
    _sum_to,
    arange,
    is_compiling,
    scalar,
)

__all__ = [
    "amplitude_scale",
    "gated_sign_flip",
    "gaussian_noise",
    "sign_flip",
    "smooth_time_mask",
    "smooth_time_mask_at",
    "time_reverse",
]


def time_reverse(X):
    """Reverse every signal in time.

    Examples
    --------
    >>> import torch
    >>> time_reverse(torch.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[3., 2., 1.]]])
    """
    return torch.flip(X, dims=[-1])


def gated_sign_flip(X, gate, factors=False):
    """Flip the sign of the examples whose gate is 1: ``X * (1 - 2 * gate)``.

    Same value and gradients as ``torch.lerp(X, -X, gate)`` for 0/1 gates,
    in one broadcast product (and a cache-friendly backward pass).

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    gate : torch.Tensor
        ``(batch, 1, 1)`` 0/1 gates, possibly carrying a gradient.
    factors : bool
        ``gate`` holds the factors ``1 - 2 * gate`` (e.g.
        ``hard_relaxed_bernoulli(..., output='sign')``, which makes them
        without an operator of its own).

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[[1.0, -2.0]], [[3.0, 4.0]]])
    >>> gated_sign_flip(X, torch.tensor([[[1.0]], [[0.0]]])).tolist()
    [[[-1.0, 2.0]], [[3.0, 4.0]]]
    """
    if gate.ndim != 3:
        gate = gate.reshape(-1, 1, 1)
    scale = gate if factors else torch.add(scalar(1, X), gate, alpha=-2)
    return _scale_rows(X, scale)


def sign_flip(X):
    """Flip the sign of every signal.

    Examples
    --------
    >>> import torch
    >>> sign_flip(torch.tensor([[[1.0, -2.0]]]))
    tensor([[[-1.,  2.]]])
    """
    return -X


def gaussian_noise(X, std, noise):
    """Add white Gaussian noise: ``X + std * noise``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    std : torch.Tensor
        Scalar or per-example standard deviation.
    noise : torch.Tensor
        Standard normal draws shaped like ``X``.

    Examples
    --------
    >>> import torch
    >>> X, noise = torch.zeros(2, 1, 3), torch.ones(2, 1, 3)
    >>> out = gaussian_noise(X, torch.tensor([0.1, 0.2]), noise)  # per example
    >>> [round(value, 3) for value in out[:, 0, 0].tolist()]
    [0.1, 0.2]
    """
    std = _cast(std, X)
    if std.ndim == 1:
        std = _as_batch_column(std, X)
    return _AddScaledNoise.apply(X, std, _cast(noise, X))


class _AddScaledNoise(torch.autograd.Function):
    """``X + std * noise``: the gradient to ``X`` is the output's, the one to
    ``std`` the sum of ``grad * noise`` over its broadcast axes (autograd's
    ``addcmul`` backward adds a multiplication and casts)."""

    @staticmethod
    def forward(ctx, X, std, noise):
        ctx.save_for_backward(std, noise)
        return torch.addcmul(X, std, noise)

    @staticmethod
    def backward(ctx, grad):
        std, noise = ctx.saved_tensors
        grad_std = None
        if ctx.needs_input_grad[1]:
            grad_std = _sum_to(grad * noise, std.shape)
        grad_noise = grad * std if ctx.needs_input_grad[2] else None
        return grad, grad_std, grad_noise


def smooth_time_mask(X, mask_start, mask_len):
    """Smoothly zero a window of every signal (braindecode's sigmoid edges).

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    mask_start : torch.Tensor
        Per-example start sample, shape ``(batch,)`` (may be fractional).
    mask_len : torch.Tensor
        Scalar or per-example mask length in samples (may be fractional).

    Examples
    --------
    >>> import torch
    >>> start, length = torch.tensor([39.5]), torch.tensor(20.0)
    >>> out = smooth_time_mask(torch.ones(1, 1, 100), start, length)
    >>> torch.nonzero(out[0, 0] < 0.5).flatten()[[0, -1]].tolist()  # masked
    [40, 59]
    """
    n_times = X.shape[-1]
    t = arange(n_times, X.device, X.dtype)
    start = _as_batch_column(mask_start, X)
    length = _cast(mask_len, X)
    if length.ndim == 1:
        length = _as_batch_column(length, X)
    steep = 1000.0 / n_times
    shifted = t - start
    mask = torch.sigmoid(shifted * scalar(-steep, X)) + torch.sigmoid(
        (shifted - length) * scalar(steep, X)
    )
    return X * mask


def smooth_time_mask_at(X, fraction, mask_len):
    """:func:`smooth_time_mask` starting at ``fraction * (times - mask_len)``.

    What :class:`~braindecode_augnet.transforms.SmoothTimeMask` applies: a
    mask of learned length at a uniform fraction of the positions where it
    fits. For a scalar length, one node: the start, the mask and their
    gradients computed as autograd computes them through the composed
    operators (the same values to the bit), in fewer kernels (the gradient
    to the length gathered from its two uses before, not after, the
    negations).

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    fraction : torch.Tensor
        ``(batch,)`` fractions in [0, 1).
    mask_len : torch.Tensor
        Scalar or per-example mask length in samples (may be fractional).

    Examples
    --------
    >>> import torch
    >>> fraction, length = torch.tensor([0.49375]), torch.tensor(20.0)
    >>> out = smooth_time_mask_at(torch.ones(1, 1, 100), fraction, length)
    >>> torch.nonzero(out[0, 0] < 0.5).flatten()[[0, -1]].tolist()  # from 39.5
    [40, 59]
    """
    fraction, length = _cast(fraction, X), _cast(mask_len, X)
    if length.ndim or fraction.ndim != 1 or X.ndim != 3 or is_compiling():
        start = fraction * (scalar(X.shape[-1], X) - length)
        return smooth_time_mask(X, start, length)
    return _SmoothTimeMaskAt.apply(X, fraction, length)


class _SmoothTimeMaskAt(torch.autograd.Function):
    """``X * (sigmoid(-s (t - a)) + sigmoid(s (t - a - L)))`` with the start
    ``a = fraction * (n - L)``; the gradients of autograd's composed
    operators, each computed by the same kernel on the same operands. The
    length's gradient, ``-sum(g_b) - sum(-sum_t(g_shift) * fraction)``
    there (two full-size negations, a negated sum, an addition), is
    ``sum(sum_t(g_shift) * fraction) - sum(g_b)`` here: negations are exact
    and sums of negated values the negated sums. First-order only."""

    @staticmethod
    def forward(ctx, X, fraction, length):
        n_times = X.shape[-1]
        span = scalar(n_times, X) - length
        start = (fraction * span).view(-1, 1, 1)
        steep = 1000.0 / n_times
        # the two edges' arguments, then the edges, as the halves of one
        # tensor: one product for both, one backward pass for both
        shape = (2, X.shape[0], 1, n_times)
        shifts = torch.empty(shape, dtype=X.dtype, device=X.device)
        shifted, shifted_end = _halves(shifts)
        torch.sub(arange(n_times, X.device, X.dtype), start, out=shifted)
        torch.sub(shifted, length, out=shifted_end)
        slopes = _edge_slopes(steep, X)
        edges = shifts.mul_(slopes)
        # one sigmoid per edge (its vectorisation as for one edge alone)
        rising, falling = (half.sigmoid_() for half in _halves(edges))
        mask = rising + falling
        ctx.save_for_backward(X, fraction, span, mask, edges)
        return X * mask

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        X, fraction, span, mask, edges = ctx.saved_tensors
        need_x, need_fraction, need_length = ctx.needs_input_grad
        grad_x = grad * mask if need_x else None
        if not (need_fraction or need_length):
            return grad_x, None, None
        steep = 1000.0 / X.shape[-1]
        grad_mask = _sum_to(grad * X, mask.shape)
        # both edges' gradients at once (element-wise: the same values as
        # one edge at a time), times -steep and steep
        slopes = _edge_slopes(steep, X)
        grad_edges = torch.ops.aten.sigmoid_backward(grad_mask, edges).mul_(slopes)
        grad_a, grad_b = _halves(grad_edges)
        # minus the start's gradient, per example
        minus_start = _sum_to(grad_a + grad_b, (len(fraction), 1, 1)).view(-1)
        grad_fraction = grad_length = None
        if need_fraction:
            grad_fraction = (minus_start * span).neg_()
        if need_length:
            grad_length = (minus_start * fraction).sum() - grad_b.sum()
        return grad_x, grad_fraction, grad_length


def _edge_slopes(steep, X):
    """``(-steep, steep)`` shaped ``(2, 1, 1, 1)``: the slopes of a smooth
    mask's rising and falling edges, built once."""
    return _constant(
        lambda: torch.tensor((-steep, steep), dtype=X.dtype, device=X.device).view(
            2, 1, 1, 1
        ),
        "edge slopes",
        steep,
        X.dtype,
        X.device,
    )


def amplitude_scale(X, log2_scale):
    """Scale each channel by ``2 ** log2_scale``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    log2_scale : torch.Tensor
        ``(batch, channels)`` base-2 logarithms of the scale factors.

    Examples
    --------
    >>> import torch
    >>> out = amplitude_scale(torch.ones(1, 2, 3), torch.tensor([[1.0, -1.0]]))
    >>> out[0, :, 0].tolist()
    [2.0, 0.5]
    """
    return _scale_rows(X, torch.exp2(_cast(log2_scale, X)).unsqueeze(-1))
