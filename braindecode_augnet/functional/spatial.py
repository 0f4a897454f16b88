"""Operations of the spatial transforms: channels and sensor positions.

Those of :mod:`braindecode_augnet.transforms.spatial`.
"""

import math

import torch

from ._tensor import (
    _cast,
    _chunks,
    _constant,
    _halves,
    _scale_rows,
    arange,
    is_compiling,
    scalar,
)

__all__ = [
    "channels_dropout",
    "channels_permute",
    "channels_shuffle",
    "make_rotation_matrices",
    "masked_channel_permutation",
    "sensors_rotation",
    "spherical_spline_inverse",
]


def channels_permute(X, permutation):
    """Reorder channels with a fixed permutation (a list of indices).

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[[1.0], [2.0], [3.0]]])  # 3 channels
    >>> channels_permute(X, [1, 0, 2]).flatten().tolist()
    [2.0, 1.0, 3.0]
    """
    if not isinstance(permutation, torch.Tensor):
        key = tuple(int(i) for i in permutation)
        permutation = _constant(
            lambda: torch.tensor(key, dtype=torch.long, device=X.device),
            "permutation",
            key,
            X.device,
        )
    return X.index_select(1, permutation.to(X.device))


def channels_dropout(X, drop, complement=False):
    """Zero the channels where ``drop`` is 1: ``X * (1 - drop)``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    drop : torch.Tensor
        ``(batch, channels)`` drop indicators (0/1, possibly carrying a
        straight-through gradient).
    complement : bool
        ``drop`` holds the indicators of the channels kept, ``1 - drop``
        (e.g. ``hard_relaxed_bernoulli(..., output='complement')``, which
        makes them without an operator of its own): ``X * drop``.

    Examples
    --------
    >>> import torch
    >>> out = channels_dropout(torch.ones(1, 3, 2), torch.tensor([[0.0, 1.0, 0.0]]))
    >>> out[0, :, 0].tolist()
    [1.0, 0.0, 1.0]
    """
    kept = drop if complement else scalar(1, X) - drop
    return _scale_rows(X, kept.unsqueeze(-1))


def masked_channel_permutation(selected, keys):
    """Per-example permutation shuffling only the selected channels.

    Vectorised (no Python loop over examples): selected channels are sorted by
    their random ``keys`` and written back to the selected positions.

    Parameters
    ----------
    selected : torch.Tensor
        Boolean ``(batch, channels)`` mask of channels to shuffle.
    keys : torch.Tensor
        Uniform draws ``(batch, channels)`` that define the random order.

    Returns
    -------
    torch.Tensor
        ``(batch, channels)`` long tensor: output channel ``i`` of example
        ``b`` is input channel ``perm[b, i]``.

    Examples
    --------
    Channels 0 and 2 are selected; their order follows the keys:

    >>> import torch
    >>> selected = torch.tensor([[True, False, True, False]])
    >>> keys = torch.tensor([[0.9, 0.5, 0.1, 0.5]])
    >>> masked_channel_permutation(selected, keys).tolist()
    [[2, 1, 0, 3]]
    """
    n_channels, device = selected.shape[1], selected.device
    above = arange(n_channels, device, keys.dtype, start=2)  # keys are below 1
    if keys.dtype in (torch.float32, torch.float64) and not is_compiling():
        # both orders sorted as the rows of one tensor (channel indices are
        # exact in these dtypes, and distinct: the stable sort is the sort)
        index = arange(n_channels, device, keys.dtype)
        after = arange(n_channels, device, keys.dtype, start=n_channels)
        orders = torch.empty((2, *keys.shape), dtype=keys.dtype, device=device)
        by_position, by_key = _halves(orders)
        torch.where(selected, index, after, out=by_position)  # unselected: last
        torch.where(selected, keys, above, out=by_key)
        positions, sources = _halves(torch.argsort(orders, dim=-1, stable=True))
        return torch.empty_like(positions).scatter_(1, positions, sources)
    index = arange(n_channels, device)
    after = arange(n_channels, device, start=n_channels)  # unselected: last
    positions = torch.argsort(torch.where(selected, index, after), dim=1)
    # stable: in half precision neighbouring values of ``above`` can round to
    # one, and the unselected channels must still keep their order
    sources = torch.argsort(torch.where(selected, keys, above), dim=1, stable=True)
    return torch.empty_like(positions).scatter_(1, positions, sources)


def channels_shuffle(X, shuffle, permutation, partners, selected=None):
    """Shuffle channels with a straight-through estimator of the proportion.

    The value is ``X[b, permutation[b, c]]``. The gradient with respect to
    the shuffle indicators is that of ``X_c + s_c (X_partner(c) - X_c)``,
    where ``partner`` is the permuted channel for shuffled channels and a
    random other channel for the others, so that every channel carries a
    gradient.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    shuffle : torch.Tensor | None
        ``(batch, channels)`` 0/1 shuffle indicators with a straight-through
        gradient (see :func:`hard_relaxed_bernoulli`). With ``selected``,
        only its gradient is used: any tensor of that shape that carries it
        (e.g. the relaxed draw of ``hard_relaxed_bernoulli(...,
        output='mask')``), or ``None`` when none is to pass.
    permutation : torch.Tensor
        ``(batch, channels)`` permutation from :func:`masked_channel_permutation`.
    partners : torch.Tensor
        ``(batch, channels)`` channel each channel would be swapped with.
    selected : torch.Tensor | None
        ``shuffle > 0.5`` (boolean) when the caller holds it and built the
        permutation from it (:func:`masked_channel_permutation`, the identity
        on the other channels, which are then not read here); ``None``:
        compared here.
    """
    if shuffle is None:
        if selected is None:
            raise ValueError(
                "channels_shuffle got shuffle=None without selected: pass the 0/1 "
                "shuffle indicators, or the selection they make as selected."
            )
    else:
        shuffle = _cast(shuffle, X)
    return _ChannelsShuffle.apply(X, shuffle, permutation, partners, selected)


class _ChannelsShuffle(torch.autograd.Function):
    """Value and gradients of ``lerp(X, X[b, source], shuffle)`` with
    ``source = where(shuffle, permutation, partners)`` for 0/1 ``shuffle``.

    Channels are moved as rows of the ``(batch * channels, times)`` view
    (``index_select``/``index_add_``, contiguous copies, instead of a gather
    along the channel axis), and the partners' channels, which only carry the
    gradient to ``shuffle``, are read in the backward pass only.
    """

    @staticmethod
    def forward(ctx, X, shuffle, permutation, partners, selected):
        n_batch, n_channels, n_times = X.shape
        offset = arange(n_batch, X.device, step=n_channels).unsqueeze(1)
        if selected is None:
            hard = shuffle > scalar(0.5, shuffle)
            index = arange(n_channels, X.device)
            rows = (torch.where(hard, permutation, index) + offset).flatten()
        else:  # a masked permutation of these: the identity elsewhere
            hard = selected
            rows = (permutation + offset).flatten()
        sources = None
        if ctx.needs_input_grad[1]:  # only the gradient to shuffle reads them
            sources = (torch.where(hard, permutation, partners) + offset).flatten()
        ctx.save_for_backward(X, rows, sources)
        ctx.shuffle_shape = None if shuffle is None else shuffle.shape
        flat = X.reshape(n_batch * n_channels, n_times)
        return flat.index_select(0, rows).view(n_batch, n_channels, n_times)

    @staticmethod
    def backward(ctx, grad):
        X, rows, sources = ctx.saved_tensors
        need_x, need_shuffle = ctx.needs_input_grad[:2]
        n_batch, n_channels, n_times = X.shape
        flat_grad = grad.reshape(-1, n_times)
        grad_x = grad_shuffle = None
        if need_x:
            grad_x = torch.zeros_like(flat_grad).index_add_(0, rows, flat_grad)
            grad_x = grad_x.view(n_batch, n_channels, n_times)
        if need_shuffle:
            flat = X.reshape(-1, n_times)
            moved = flat.index_select(0, sources)
            if torch.is_grad_enabled():  # double backward: differentiable form
                grad_shuffle = ((moved - flat) * flat_grad).sum(1)
            elif (parts := _chunks(len(rows), n_times, X.device)) is None:
                grad_shuffle = moved.sub_(flat).mul_(flat_grad).sum(1)
            else:
                grad_shuffle = torch.empty(len(rows), dtype=X.dtype, device=X.device)
                for part in parts:
                    diff = moved[part].sub_(flat[part]).mul_(flat_grad[part])
                    torch.sum(diff, dim=1, out=grad_shuffle[part])
            grad_shuffle = grad_shuffle.view(ctx.shuffle_shape)
        return grad_x, grad_shuffle, None, None, None


def make_rotation_matrices(axis, angles_deg):
    """Batch of 3-D rotation matrices around ``axis`` (differentiable).

    Parameters
    ----------
    axis : {'x', 'y', 'z'}
        Rotation axis.
    angles_deg : torch.Tensor
        ``(batch,)`` angles in degrees.

    Returns
    -------
    torch.Tensor
        ``(batch, 3, 3)`` rotation matrices.

    Examples
    --------
    A quarter turn around z takes the x axis to the y axis:

    >>> import torch
    >>> R = make_rotation_matrices("z", torch.tensor([90.0]))
    >>> y = R[0] @ torch.tensor([1.0, 0.0, 0.0])
    >>> torch.allclose(y, torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)
    True
    """
    theta = angles_deg * (math.pi / 180)
    c, s = torch.cos(theta), torch.sin(theta)
    one, zero = torch.ones_like(theta), torch.zeros_like(theta)
    if axis == "x":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    elif axis == "z":
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    else:
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}.")
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def _legendre_series(cosang, stiffness=4, n_legendre_terms=50):
    """Spherical-spline g function (Perrin et al. 1989, as in MNE) and its
    derivative, summed together without autograd."""
    value = torch.zeros_like(cosang)
    deriv = torch.zeros_like(cosang)
    p_prev, p_curr = torch.ones_like(cosang), cosang
    d_prev, d_curr = torch.zeros_like(cosang), torch.ones_like(cosang)
    for n in range(1, n_legendre_terms + 1):
        factor = (2 * n + 1) / (n**stiffness * (n + 1) ** stiffness * 4 * math.pi)
        value = value + factor * p_curr
        deriv = deriv + factor * d_curr
        # P'_{n+1} = P'_{n-1} + (2n + 1) P_n, then Bonnet's recursion
        d_prev, d_curr = d_curr, d_prev + (2 * n + 1) * p_curr
        p_prev, p_curr = p_curr, ((2 * n + 1) * cosang * p_curr - n * p_prev) / (n + 1)
    return value, deriv


_G_NODES = 4096  # intervals of the table of g on [-1, 1]


def _legendre_table(device):
    """g and ``h * g'`` at ``_G_NODES + 1`` equispaced nodes of [-1, 1]."""
    nodes = torch.linspace(-1, 1, _G_NODES + 1, dtype=torch.float64, device=device)
    value, deriv = _legendre_series(nodes)
    return value, deriv * (2 / _G_NODES)


def _legendre_interpolated(cosang):
    """g and g' by cubic Hermite interpolation of a table of the series.

    About 30 operators instead of the ~500 of the 50-term series, within
    1e-16 of it for g and 1e-12 for g' (float64): g is a polynomial whose
    coefficients decay as n**-7.
    """
    values, slopes = _constant(
        lambda: _legendre_table(cosang.device), "legendre", cosang.device
    )
    t = (cosang.to(torch.float64) + 1) * (_G_NODES / 2)
    index = t.floor().clamp_(0, _G_NODES - 1)
    s = t - index
    index = index.long()
    v0, v1 = values[index], values[index + 1]
    d0, d1 = slopes[index], slopes[index + 1]
    # p(s) = v0 + d0 s + a s^2 + b s^3 on the interval, s in [0, 1]
    a = 3 * (v1 - v0) - 2 * d0 - d1
    b = 2 * (v0 - v1) + d0 + d1
    value = v0 + s * (d0 + s * (a + s * b))
    deriv = (d0 + s * (2 * a + 3 * s * b)) * (_G_NODES / 2)
    return value.to(cosang.dtype), deriv.to(cosang.dtype)


class _LegendreG(torch.autograd.Function):
    """g(cosang) with its derivative from the same interpolation: one saved
    tensor and a few dozen operators, instead of the series (about 500) in
    the forward pass and its ~150 small ops in the autograd graph."""

    @staticmethod
    def forward(ctx, cosang):
        value, deriv = _legendre_interpolated(cosang)
        ctx.save_for_backward(deriv)
        return value

    @staticmethod
    def backward(ctx, grad):
        (deriv,) = ctx.saved_tensors
        return grad * deriv


def _legendre_g(cosang):
    return _LegendreG.apply(cosang)


def spherical_spline_inverse(positions, alpha=1e-5):
    """Precompute what spherical-spline interpolation needs from the sensors.

    Parameters
    ----------
    positions : torch.Tensor
        ``(channels, 3)`` sensor positions.
    alpha : float
        Tikhonov regularisation of the spline system (MNE's default).

    Returns
    -------
    unit_positions : torch.Tensor
        ``(channels, 3)`` positions projected on the unit sphere.
    g_from : torch.Tensor
        ``(channels, channels)`` g matrix between the original sensors.
    weights : torch.Tensor
        ``(channels, channels)`` block of the inverse spline system that maps
        g values to interpolation weights.
    """
    unit = positions / positions.norm(dim=1, keepdim=True).clamp_min(1e-12)
    n = unit.shape[0]
    g_from = _legendre_g(unit @ unit.T)
    system = torch.zeros(n + 1, n + 1, dtype=unit.dtype, device=unit.device)
    system[:n, :n] = g_from + alpha * torch.eye(n, dtype=unit.dtype, device=unit.device)
    system[:n, n] = 1
    system[n, :n] = 1
    inverse = torch.linalg.pinv(system)
    return unit, g_from, inverse[:n, :n]


def sensors_rotation(X, rotations, unit_positions, g_from, weights):
    """Interpolate signals on sensors rotated by per-example rotations.

    Spherical-spline interpolation (as in MNE and braindecode), vectorised over
    the batch: the spline system depends only on the original sensors and is
    inverted once (:func:`spherical_spline_inverse`); only the g matrix between
    rotated and original sensors is computed per example. The interpolation is
    written as ``I + (G(rotated, original) - G(original, original)) W`` so
    that a rotation of 0 degrees is exactly the identity (braindecode's
    regularised interpolation is not).

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    rotations : torch.Tensor
        ``(batch, 3, 3)`` rotation matrices.
    unit_positions, g_from, weights : torch.Tensor
        Output of :func:`spherical_spline_inverse`.

    Examples
    --------
    A rotation of 0 degrees is exactly the identity:

    >>> import torch
    >>> positions = torch.randn(6, 3, dtype=torch.float64)
    >>> unit, g_from, weights = spherical_spline_inverse(positions)
    >>> X = torch.randn(2, 6, 50, dtype=torch.float64)
    >>> rotations = make_rotation_matrices("z", torch.zeros(2, dtype=torch.float64))
    >>> torch.allclose(sensors_rotation(X, rotations, unit, g_from, weights), X)
    True
    """
    # The (batch, channels, channels) interpolation matrices are small: build
    # them in float64 (the difference of g matrices cancels to ~1e-16 at 0
    # degrees), then apply them in X's dtype.
    unit = unit_positions.to(torch.float64)
    rotated = unit @ rotations.to(torch.float64).transpose(1, 2)
    g_to_from = _legendre_g(rotated @ unit.T)
    interp = (g_to_from - g_from.to(torch.float64)) @ weights.to(torch.float64)
    return torch.baddbmm(X, interp.to(X.dtype), X)
