"""Random gates of the involutions: relaxed Bernoulli draws and gated application."""

import math

import torch

from ._tensor import (
    _EPS,
    LOGIT_EPS,
    _cast,
    _chunks,
    _moved_minus,
    _sum_to,
    is_compiling,
    scalar,
)

__all__ = [
    "gated_involution",
    "hard_relaxed_bernoulli",
    "symmetric_range",
]


def symmetric_range(uniform, bound):
    """Map uniform draws on [0, 1) onto ``[-bound, bound)``: ``(2 u - 1) bound``.

    The draws of a transform whose op parameter is symmetric around the
    identity (a frequency shift, a rotation angle, a log scale factor), with
    ``bound`` the learned maximum (differentiable).

    Examples
    --------
    >>> import torch
    >>> symmetric_range(torch.tensor([0.0, 0.5, 0.75]), torch.tensor(2.0))
    tensor([-2.,  0.,  1.])
    """
    return torch.add(scalar(-1, uniform), uniform, alpha=2) * bound


#: what :func:`hard_relaxed_bernoulli` can return, as ``(offset, scale)`` of
#: the draw ``d``: ``offset + scale * d``
_OUTPUTS = {"draw": (0, 1), "complement": (1, -1), "sign": (1, -2), "mask": (0, 1)}


def hard_relaxed_bernoulli(
    probability,
    uniform,
    temperature,
    logit_p=None,
    output="draw",
    logit_over_temperature=None,
):
    """Straight-through relaxed Bernoulli sample.

    The value is the hard draw ``uniform < probability`` (so exactly 0 or 1,
    and exactly 0 everywhere when ``probability`` is 0), while the gradient is
    that of the binary Concrete relaxation
    ``sigmoid((logit(p) + logit(1 - u)) / temperature)`` (Maddison et al.
    2017; Jang et al. 2017), which is non-zero for every draw.

    Parameters
    ----------
    probability : torch.Tensor
        Probability of drawing 1, broadcastable to ``uniform``.
    uniform : torch.Tensor
        Uniform draws in [0, 1).
    temperature : float
        Temperature of the relaxation (smaller is closer to the hard draw).
    logit_p : torch.Tensor | None
        ``logit(probability, eps=1e-6)`` when the caller holds it (an
        augmentation layer computes those of all its candidates at once, see
        :func:`layers_policy`); the gradient goes through it. ``None``:
        computed here.
    output : {'draw', 'complement', 'sign', 'mask'}
        Return the draw ``d``, ``1 - d`` (e.g. the channels kept by a
        dropout) or ``1 - 2 d`` (e.g. the factors of a sign flip), with the
        gradients of these maps: the same values to the bit as the map
        applied to the draw, without the map's operator in each pass.
        ``'mask'``: the pair ``(d as booleans, relaxed)``, for an op that
        selects with the draw (e.g. the channels a shuffle permutes) and
        takes the gradient from ``relaxed``, the relaxed draw itself
        (``None`` when no gradient is to pass): no float draw made.
    logit_over_temperature : torch.Tensor | None
        ``logit(probability, eps=1e-6) / temperature`` when the caller holds
        it (an augmentation layer computes those of all its candidates at
        once, for temperatures that are powers of two, see
        :func:`layers_policy`'s ``logit_scales``), in place of ``logit_p``:
        the relaxation's argument in one operator and its slope in one fewer,
        the gradient going through this input (with such a temperature, the
        same values to the bit as through ``logit_p``).

    Returns
    -------
    torch.Tensor | tuple of torch.Tensor
        Tensor shaped like ``uniform`` holding 0/1 values (-1/1 for
        ``'sign'``; for ``'mask'``, see above).

    Examples
    --------
    >>> import torch
    >>> p = torch.tensor(0.3, requires_grad=True)
    >>> u = torch.tensor([0.1, 0.5, 0.9])
    >>> draw = hard_relaxed_bernoulli(p, u, temperature=0.5)
    >>> draw.tolist()  # exactly u < p
    [1.0, 0.0, 0.0]
    >>> draw.sum().backward()
    >>> bool(p.grad > 0)  # every draw passes a gradient to p
    True
    >>> hard_relaxed_bernoulli(p, u, 0.5, output="sign").tolist()
    [-1.0, 1.0, 1.0]
    """
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {tuple(_OUTPUTS)}, got {output!r}.")
    scaled = logit_over_temperature is not None
    if scaled:
        logit_p = logit_over_temperature
    learned = probability if logit_p is None else logit_p
    if not (learned.requires_grad and torch.is_grad_enabled()):
        # no gradient to pass (evaluation, a frozen probability): the hard
        # draw alone, without the relaxation's operators
        if output == "mask":
            return uniform < probability, None
        return _hard_draw(probability, uniform, output)
    if logit_p is None:  # gradient 0 outside [eps, 1-eps]
        logit_p = torch.logit(probability, eps=LOGIT_EPS)
    outputs = _HardRelaxedBernoulli.apply(
        probability, logit_p, uniform, temperature, output, scaled
    )
    return tuple(outputs) if output == "mask" else outputs


def _hard_draw(probability, uniform, output="draw"):
    """``uniform < probability`` as 0/1 floats in one kernel (its complement
    ``uniform >= probability`` too; the sign, ``1 - 2 d``, in two): the
    comparison written into a float tensor (a boolean comparison needs a
    cast, a difference and its sign two kernels)."""
    if is_compiling():  # dynamo does not trace the dtype and shape helpers
        difference = probability - uniform
        draw = torch.heaviside(difference, torch.zeros_like(difference))
        offset, scale = _OUTPUTS[output]
        return draw if output == "draw" else offset + scale * draw
    shape = torch.broadcast_shapes(probability.shape, uniform.shape)
    dtype = torch.result_type(probability, uniform)
    out = torch.empty(shape, dtype=dtype, device=uniform.device)
    if output == "complement":
        return torch.ge(uniform, probability, out=out)
    draw = torch.lt(uniform, probability, out=out)
    if output == "sign":  # as gated_sign_flip makes it
        return torch.add(scalar(1, draw), draw, alpha=-2)
    return draw


class _HardRelaxedBernoulli(torch.autograd.Function):
    """Value ``uniform < probability`` (or its map, see
    :func:`hard_relaxed_bernoulli`); gradient to ``logit(p)`` that of
    ``sigmoid((logit(p) - logit(u)) / temperature)``, with ``logit(1 - u) =
    -logit(u)``: a few fused ops instead of the ~30 of the composed form.
    The map's factor ``c`` (-1, -2) is in the slope, ``sigmoid' / (T / c)``:
    the same values to the bit as ``c * (sigmoid' / T)`` (a division by a
    power of two and a negation are exact), which autograd would multiply
    the gradient by. With ``scaled``, ``logit_p`` is ``logit(p) /
    temperature``: the argument is ``logit_p - logit(u) / temperature`` (one
    ``add``), and the gradient to it is the slope without the division
    (``c sigmoid'``; for a temperature that is a power of two, these are
    the values above to the bit, scaled exactly)."""

    @staticmethod
    def forward(ctx, probability, logit_p, uniform, temperature, output, scaled):
        factor = _OUTPUTS[output][1]
        logit_u = torch.logit(uniform, eps=_EPS)
        if scaled:
            soft = torch.add(logit_p, logit_u, alpha=-1 / temperature).sigmoid_()
        else:
            soft = torch.sub(logit_p, logit_u)
            soft = soft.div_(scalar(temperature, uniform)).sigmoid_()
        if output == "mask":
            hard = torch.lt(uniform, probability)
        else:
            hard = _hard_draw(probability, uniform, output)
        # the slope of the relaxation, sigmoid' / temperature, times the map's
        slope = torch.addcmul(soft, soft, soft, value=-1)
        if scaled:
            if factor != 1:
                slope = slope.mul_(scalar(float(factor), uniform))
        else:
            divisor = temperature if factor == 1 else temperature / factor
            slope = slope.div_(scalar(divisor, uniform))
        ctx.save_for_backward(slope)
        ctx.shape = logit_p.shape
        if output == "mask":  # the relaxed draw carries the gradient
            ctx.mark_non_differentiable(hard)
            ctx.set_materialize_grads(False)  # none made for the mask
            return hard, soft
        return _cast(hard, soft)

    @staticmethod
    def backward(ctx, *grads):
        grad = grads[-1]
        if not ctx.needs_input_grad[1] or grad is None:
            return None, None, None, None, None, None
        (slope,) = ctx.saved_tensors
        return None, _sum_to(grad * slope, ctx.shape), None, None, None, None


class _GatedInvolution(torch.autograd.Function):
    """``lerp(X, op(X), gate)`` for a self-adjoint ``op`` and 0/1 gates.

    ``op`` is a per-example involution that is its own adjoint (a time
    reversal, a channel permutation made of swaps), so that the gradient to
    ``X`` is ``lerp(grad, op(grad), gate)`` and the gradient to the gate,
    ``<grad, op(X) - X>``, is ``<op(grad) - grad, X>``: the backward pass
    never builds ``op(X) - X``, and needs nothing saved but ``X``. On CPU,
    large batches go through both passes in cache-sized chunks of examples.
    """

    @staticmethod
    def forward(ctx, X, gate, op):
        ctx.save_for_backward(X, gate)
        ctx.op = op
        parts = _chunks(X.shape[0], math.prod(X.shape[1:]), X.device)
        if parts is None:
            return torch.lerp(X, op(X), gate)
        out = torch.empty_like(X)
        for part in parts:
            Xp = X[part]
            torch.lerp(Xp, op(Xp), gate[part], out=out[part])
        return out

    @staticmethod
    def backward(ctx, grad):
        X, gate = ctx.saved_tensors
        op = ctx.op
        need_x, need_gate = ctx.needs_input_grad[:2]
        parts = _chunks(X.shape[0], math.prod(X.shape[1:]), X.device)
        if parts is None or torch.is_grad_enabled():
            # one pass (and the differentiable form for a double backward)
            moved = op(grad)
            grad_x = torch.lerp(grad, moved, gate) if need_x else None
            grad_gate = None
            if need_gate:
                moved = _moved_minus(moved, grad)
                grad_gate = _sum_to(moved.mul_(X), gate.shape)
            return grad_x, grad_gate, None
        grad_x = torch.empty_like(grad) if need_x else None
        dots = torch.empty(X.shape[0], dtype=X.dtype, device=X.device)
        for part in parts:
            g = grad[part]
            moved = op(g)
            if need_x:
                torch.lerp(g, moved, gate[part], out=grad_x[part])
            if need_gate:
                moved = _moved_minus(moved, g)
                moved.mul_(X[part])
                torch.sum(moved.flatten(1), dim=1, out=dots[part])
        grad_gate = _sum_to(dots.view(-1, 1, 1), gate.shape) if need_gate else None
        return grad_x, grad_gate, None


def gated_involution(X, gate, op):
    """Apply a self-adjoint involution to the examples whose gate is 1.

    Same value and gradients as ``torch.lerp(X, op(X), gate)`` for gates of
    0/1 values (e.g. straight-through draws of :func:`hard_relaxed_bernoulli`),
    in fewer full-size passes: see :class:`_GatedInvolution`.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    gate : torch.Tensor
        ``(batch, 1, 1)`` 0/1 gates, possibly carrying a gradient.
    op : callable
        Per-example linear involution equal to its adjoint (``op(op(X))`` is
        ``X`` and ``<op(A), B> = <A, op(B)>``), e.g. :func:`~.time_reverse` or a
        :func:`~.channels_permute` by a permutation made of swaps.

    Examples
    --------
    >>> import torch
    >>> from braindecode_augnet.functional import time_reverse
    >>> X = torch.tensor([[[1.0, 2.0]], [[3.0, 4.0]]])
    >>> gated_involution(X, torch.tensor([[[1.0]], [[0.0]]]), time_reverse)
    tensor([[[2., 1.]],
    <BLANKLINE>
            [[3., 4.]]])
    """
    gate = _cast(gate, X)
    if gate.shape != (X.shape[0], 1, 1):
        gate = gate.expand(X.shape[0], 1, 1)
    if is_compiling():  # dynamo traces autograd's operators
        return torch.lerp(X, op(X), gate)
    return _GatedInvolution.apply(X, gate, op)
