"""Tensor plumbing shared by the operations: casts, constants, chunking.

Not pure in one respect: :func:`scalar` and :func:`arange` keep the constants
they make in a process-wide cache (``_CONSTANTS``, keyed by value, dtype and
device), so that the hot paths do not build the same small tensors at every
call. :func:`is_compiling` tells when ``torch.compile`` traces, where the
fused paths fall back on autograd's operators.
"""

import torch

__all__ = [
    "arange",
    "is_compiling",
    "scalar",
]


_EPS = 1e-6


#: the clamp of the relaxed Bernoulli's logits (:func:`hard_relaxed_bernoulli`)
LOGIT_EPS = _EPS


def _cast(values, X):
    """``values`` in ``X``'s dtype, without an operator when they already are."""
    return values if values.dtype == X.dtype else values.to(X.dtype)


def _as_batch_column(values, X):
    """Shape per-example values ``(batch,)`` to broadcast over ``X``."""
    values = _cast(values, X)
    shape = (-1, *([1] * (X.ndim - 1)))
    # a view of any 1-D tensor (reshape adds an operator)
    return values.view(shape) if values.ndim == 1 else values.reshape(shape)


def _sum_to(values, shape):
    """``values.sum_to_size(shape)`` as the one reduction it makes (the same
    kernel, so the same values to the bit) without its wrapper operators:
    the gradients of per-example or scalar parameters, in every backward
    pass of every candidate."""
    shape = tuple(shape)
    if values.shape == shape:
        return values
    if not shape:
        return values.sum()
    lead = values.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i
        for i, size in enumerate(shape)
        if size == 1 and values.shape[lead + i] != 1
    )
    summed = values.sum(dims, keepdim=True)
    return summed.view(shape) if lead else summed


def _halves(pair):
    """``pair[0], pair[1]`` of a tensor of two stacked halves, as one view
    each (indexing makes two operators per half); indexed under
    :func:`torch.compile`, whose dynamo does not trace storage offsets."""
    if is_compiling():
        return pair[0], pair[1]
    shape, stride = pair.shape[1:], pair.stride()[1:]
    offset, step = pair.storage_offset(), pair.stride(0)
    return pair.as_strided(shape, stride, offset), pair.as_strided(
        shape, stride, offset + step
    )


def is_compiling():
    """Whether :func:`torch.compile` (dynamo) is tracing the caller.

    The fused autograd nodes of this module read tensor metadata and fill
    caches that dynamo does not trace: under compilation the callers use
    autograd's own operators instead.
    """
    check = getattr(getattr(torch, "compiler", None), "is_compiling", None)
    return bool(check is not None and check())


def _constant(make, *key):
    """A constant tensor built once per key (shape, device, dtype).

    Built outside inference mode, so that a tensor first made while
    predicting can serve a later training step.
    """
    if is_compiling():  # the graph holds the constant; no cache to fill
        return make()
    value = _CONSTANTS.get(key)
    if value is None:
        with torch.inference_mode(False):
            value = _CONSTANTS[key] = make()
    return value


_CONSTANTS = {}


def scalar(value, like):
    """``value`` as a 0-d tensor of ``like``'s dtype and device, built once.

    Arithmetic between a tensor and a Python number wraps the number in a
    float64 tensor, which CPU kernels of float32 operands first copy to
    float32: four more operators per operation, in the forward pass and, for
    a product, again in the backward pass. A 0-d tensor of the operand's
    dtype is used as is, so the small arithmetic that every candidate of an
    augmentation layer does on its parameters uses these. On the operand's
    device, so that every operator takes it (``where`` and ``polar`` do not
    take a CPU scalar with CUDA tensors); built on the first call, outside
    any captured region. A tuple of numbers gives a 1-D tensor (e.g. one
    constant per candidate of a layer, see :func:`layer_policy`).

    Examples
    --------
    >>> import torch
    >>> X = torch.ones(2, dtype=torch.float64)
    >>> scalar(0.5, X)
    tensor(0.5000, dtype=torch.float64)
    >>> scalar(0.5, X) is scalar(0.5, X)  # built once
    True
    >>> scalar((0.5, 2.0), X)
    tensor([0.5000, 2.0000], dtype=torch.float64)
    """
    dtype, device = like.dtype, like.device
    return _constant(
        lambda: torch.tensor(value, dtype=dtype, device=device),
        "scalar",
        value,
        dtype,
        device,
    )


def arange(n, device, dtype=torch.long, step=1, start=0):
    """``start + step * arange(n)``, a constant built once per arguments.

    Index tensors (channels, rows of a batch) and time axes that the
    per-example ops need at every call.

    Examples
    --------
    >>> arange(3, "cpu", step=4)
    tensor([0, 4, 8])
    """
    device = torch.device(device)

    def make():
        if not dtype.is_floating_point or (step, start) == (1, 0):
            # one operator: integers are exact either way (the sampled
            # mode's row offsets take a new size at nearly every call)
            end = start + step * n
            return torch.arange(start, end, step, dtype=dtype, device=device)
        return torch.arange(n, dtype=dtype, device=device) * step + start

    return _constant(
        make,
        "arange",
        n,
        device,
        dtype,
        step,
        start,
    )


#: Elements per chunk of the CPU backward passes below: a chunk of the
#: gradient, of ``X`` and their temporaries stays in cache (1 MiB in float32).
_CHUNK_ELEMENTS = 1 << 18


def _chunks(n, per_item, device):
    """Slices of ``range(n)`` of about ``_CHUNK_ELEMENTS / per_item`` items,
    or ``None`` for one slice with everything.

    ``None`` off CPU (one kernel per op is what counts there) and for small
    batches; cache-sized slices on CPU, where memory traffic dominates the
    element-wise ops and reductions of large batches.
    """
    if device.type != "cpu" or n * per_item <= 2 * _CHUNK_ELEMENTS:
        return None
    step = max(1, _CHUNK_ELEMENTS // max(per_item, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class _ScaleRows(torch.autograd.Function):
    """``X * scale`` with ``scale`` of shape ``(batch, channels or 1, 1)``.

    The value and gradients are those of the product; the backward pass
    computes the gradient to ``X`` and the per-row dot products that make the
    gradient to ``scale`` in one sweep of cache-sized chunks (autograd's
    ``MulBackward`` writes, then reads, a full-size ``grad * X`` temporary).
    Used on CPU for large batches only (see :func:`_scale_rows`).
    """

    @staticmethod
    def forward(ctx, X, scale):
        ctx.save_for_backward(X, scale)
        return X * scale

    @staticmethod
    def backward(ctx, grad):
        X, scale = ctx.saved_tensors
        need_x, need_scale = ctx.needs_input_grad[:2]
        if not need_scale or torch.is_grad_enabled():
            # one product when the scale is frozen (nothing to share a sweep
            # with), and the differentiable form for a double backward
            grad_x = grad * scale if need_x else None
            grad_scale = _sum_to(grad * X, scale.shape) if need_scale else None
            return grad_x, grad_scale
        n_batch, n_channels, n_times = X.shape
        rows = n_batch * n_channels
        grad = grad.reshape(rows, n_times)
        Xr = X.reshape(rows, n_times)
        scale_r = scale.expand(n_batch, n_channels, 1).reshape(rows, 1)
        grad_x = torch.empty_like(grad) if need_x else None
        dots = torch.empty_like(scale_r) if need_scale else None
        parts = _chunks(rows, n_times, X.device) or [slice(None)]
        # one buffer for the products of every chunk, not one per chunk
        buffer = torch.empty_like(grad[parts[0]]) if need_scale else None
        for part in parts:
            g = grad[part]
            if need_x:
                torch.mul(g, scale_r[part], out=grad_x[part])
            if need_scale:
                products = buffer if len(g) == len(buffer) else buffer[: len(g)]
                torch.mul(g, Xr[part], out=products)
                torch.sum(products, dim=1, keepdim=True, out=dots[part])
        if need_x:
            grad_x = grad_x.view(n_batch, n_channels, n_times)
        if need_scale:
            dots = _sum_to(dots.view(n_batch, n_channels, 1), scale.shape)
        return grad_x, dots


def _scale_rows(X, scale):
    """``X * scale`` for a ``(batch, channels or 1, 1)`` scale; on CPU, for
    large batches, with a cache-friendly backward pass (:class:`_ScaleRows`)."""
    scale = _cast(scale, X)
    if (
        X.ndim != 3
        or scale.ndim != 3
        or scale.shape[-1] != 1
        or _chunks(X.shape[0] * X.shape[1], X.shape[-1], X.device) is None
    ):
        return X * scale
    return _ScaleRows.apply(X, scale)


def _moved_minus(moved, grad):
    """``op(grad) - grad`` in the place of ``op(grad)``, or out of place
    where that would change a tensor still needed: ``moved`` saved by a
    differentiable backward pass, or a view of ``grad`` returned by ``op``."""
    shared = moved.untyped_storage().data_ptr() == grad.untyped_storage().data_ptr()
    if shared or torch.is_grad_enabled():
        return moved - grad
    return moved.sub_(grad)
