"""Pure, differentiable tensor operations behind the transforms.

Every function takes a batch ``X`` of shape ``(batch, channels, times)`` and
per-example parameters as tensors already on ``X``'s device. Nothing here draws
random numbers: the transforms in :mod:`braindecode_augnet.transforms` sample
the parameters (with a :class:`torch.Generator`) and pass them in, so that a
draw can be replayed and every operation is differentiable with respect to its
parameters and to ``X``.
"""

import math

import torch
from torch.autograd.function import once_differentiable

__all__ = [
    "amplitude_scale",
    "arange",
    "channels_dropout",
    "channels_permute",
    "channels_shuffle",
    "choice_gate",
    "concatenated_norm",
    "frequency_shift",
    "ft_surrogate",
    "gated_involution",
    "gated_sign_flip",
    "gaussian_noise",
    "hard_relaxed_bernoulli",
    "is_compiling",
    "layer_policy",
    "layers_policy",
    "make_rotation_matrices",
    "masked_channel_permutation",
    "mixture",
    "scalar",
    "scatter_rows",
    "sensors_rotation",
    "sign_flip",
    "smooth_time_mask",
    "smooth_time_mask_at",
    "spherical_spline_inverse",
    "symmetric_range",
    "time_reverse",
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


def hard_relaxed_bernoulli(probability, uniform, temperature, logit_p=None):
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

    Returns
    -------
    torch.Tensor
        Tensor shaped like ``uniform`` holding 0/1 values.

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
    """
    learned = probability if logit_p is None else logit_p
    if not (learned.requires_grad and torch.is_grad_enabled()):
        # no gradient to pass (evaluation, a frozen probability): the hard
        # draw alone, without the relaxation's operators
        return _hard_draw(probability, uniform)
    if logit_p is None:  # gradient 0 outside [eps, 1-eps]
        logit_p = torch.logit(probability, eps=LOGIT_EPS)
    return _HardRelaxedBernoulli.apply(probability, logit_p, uniform, temperature)


def _hard_draw(probability, uniform):
    """``uniform < probability`` as 0/1 floats in one kernel: the comparison
    written into a float tensor (a boolean comparison needs a cast, a
    difference and its sign two kernels)."""
    if is_compiling():  # dynamo does not trace the dtype and shape helpers
        difference = probability - uniform
        return torch.heaviside(difference, torch.zeros_like(difference))
    shape = torch.broadcast_shapes(probability.shape, uniform.shape)
    dtype = torch.result_type(probability, uniform)
    out = torch.empty(shape, dtype=dtype, device=uniform.device)
    return torch.lt(uniform, probability, out=out)


class _HardRelaxedBernoulli(torch.autograd.Function):
    """Value ``uniform < probability``; gradient to ``logit(p)`` that of
    ``sigmoid((logit(p) - logit(u)) / temperature)``, with ``logit(1 - u) =
    -logit(u)``: a few fused ops instead of the ~30 of the composed form."""

    @staticmethod
    def forward(ctx, probability, logit_p, uniform, temperature):
        temperature = scalar(temperature, uniform)
        soft = torch.sub(logit_p, torch.logit(uniform, eps=_EPS))
        soft = soft.div_(temperature).sigmoid_()
        hard = _hard_draw(probability, uniform)
        # the slope of the relaxation, sigmoid' / temperature
        slope = torch.addcmul(soft, soft, soft, value=-1).div_(temperature)
        ctx.save_for_backward(slope)
        ctx.shape = logit_p.shape
        return _cast(hard, soft)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return None, None, None, None
        (slope,) = ctx.saved_tensors
        return None, _sum_to(grad * slope, ctx.shape), None, None


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
    return _constant(
        lambda: torch.arange(n, dtype=dtype, device=device) * step + start,
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
        ``X`` and ``<op(A), B> = <A, op(B)>``), e.g. :func:`time_reverse` or a
        :func:`channels_permute` by a permutation made of swaps.

    Examples
    --------
    >>> import torch
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


def layer_policy(alpha, temperature, raws, mag_ranges=None, logits=False):
    """An augmentation layer's weights, its candidates' op values and the
    products of weights and magnitudes.

    The weights are ``softmax(alpha / temperature)``; each magnitude is its
    raw parameter projected on [0, 1] with the straight-through gradient of
    :func:`~braindecode_augnet.base.unit_interval`, then mapped linearly onto
    its ``(low, high)`` range (what
    :meth:`~braindecode_augnet.base.DifferentiableTransform.magnitude_to_op`
    does); the products ``weights * magnitudes`` are the layer's terms of
    the regulariser. One autograd node for the whole layer: projecting and
    mapping each candidate's magnitude with autograd's operators adds views,
    products and gradient splits per candidate in each pass, which, not the
    arithmetic, make the cost on an accelerator.

    Parameters
    ----------
    alpha : torch.Tensor
        ``(K,)`` logits of the weights.
    temperature : float
        Softmax temperature.
    raws : sequence of torch.Tensor
        ``K`` 0-d raw magnitudes.
    mag_ranges : sequence of (float, float) | None
        ``(low, high)`` op values of magnitudes 0 and 1 of each candidate;
        ``None``: the magnitudes themselves.
    logits : bool
        Also return the op values' logits (see :func:`layers_policy`).

    Returns
    -------
    weights : torch.Tensor
        ``(K,)``.
    op_values : tuple of torch.Tensor
        ``K`` 0-d magnitudes mapped onto their ranges.
    products : torch.Tensor
        ``(K,)`` weights times magnitudes.

    Examples
    --------
    >>> import torch
    >>> raws = [torch.tensor(1.5), torch.tensor(0.3)]
    >>> weights, op_values, products = layer_policy(
    ...     torch.zeros(2), 0.05, raws, mag_ranges=[(0.0, 2.0), (0.0, 1.0)]
    ... )
    >>> weights.tolist(), [round(v.item(), 2) for v in op_values]
    ([0.5, 0.5], [2.0, 0.3])
    >>> [round(p, 2) for p in products.tolist()]
    [0.5, 0.15]
    """
    mag_ranges = None if mag_ranges is None else [mag_ranges]
    (policy,) = layers_policy([alpha], [temperature], [raws], mag_ranges, logits)
    return policy


def layers_policy(alphas, temperatures, raws, mag_ranges=None, logits=False):
    """:func:`layer_policy` of several layers at once, in one autograd node.

    The layers' logits are rows of one matrix (padded with ``-inf``, which
    the softmax weighs 0), their raw magnitudes, op values and products
    elements of one matrix of the same shape: each operator of the policy
    runs once for all the layers in each pass, not once per layer, with the
    values of one :func:`layer_policy` per layer to the bit (element-wise
    arithmetic, and a softmax whose padded entries add exact zeros).

    Parameters
    ----------
    alphas : sequence of torch.Tensor
        ``(K_l,)`` logits of each layer's weights.
    temperatures : sequence of float
        Softmax temperature of each layer.
    raws : sequence of sequence of torch.Tensor
        Each layer's ``K_l`` 0-d raw magnitudes.
    mag_ranges : sequence of sequence of (float, float) | None
        Each layer's ``(low, high)`` ranges (see :func:`layer_policy`).
    logits : bool
        Also hand out ``logit(op_value, eps=1e-6)`` of each candidate, the
        logit of the probability that :func:`hard_relaxed_bernoulli` draws
        with (candidates whose op value is a probability), computed for all
        candidates at once.

    Returns
    -------
    list of tuple
        ``(weights, op_values, products)`` of each layer, as returned by
        :func:`layer_policy`, with ``op_logits`` (0-d tensors) appended when
        ``logits``.

    Examples
    --------
    >>> import torch
    >>> (w0, v0, p0), (w1, v1, p1) = layers_policy(
    ...     [torch.zeros(2), torch.zeros(3)],
    ...     [0.05, 0.05],
    ...     [[torch.tensor(0.5), torch.tensor(1.5)], [torch.tensor(0.3)] * 3],
    ... )
    >>> w0.tolist(), [round(v.item(), 2) for v in v1]
    ([0.5, 0.5], [0.3, 0.3, 0.3])
    """
    sizes = tuple(len(alpha) for alpha in alphas)
    raws = [raw for layer in raws for raw in layer]
    spans = lows = None
    if mag_ranges is not None:
        ranges = tuple((float(lo), float(hi)) for r in mag_ranges for lo, hi in r)
        spans = tuple(high - low for low, high in ranges)
        lows = tuple(low for low, _ in ranges)
        if not any(lows):
            lows = None
    temperatures = tuple(float(t) for t in temperatures)
    outputs = _LayersPolicy.apply(
        sizes, temperatures, spans, lows, bool(logits), *alphas, *raws
    )
    n_layers, n_candidates = len(sizes), len(raws)
    weights = outputs[:n_layers]
    products = outputs[n_layers : 2 * n_layers]
    op_values = outputs[2 * n_layers : 2 * n_layers + n_candidates]
    op_logits = outputs[2 * n_layers + n_candidates :]
    policies, start = [], 0
    for layer, size in enumerate(sizes):
        policy = (weights[layer], op_values[start : start + size], products[layer])
        if logits:
            policy = (*policy, op_logits[start : start + size])
        policies.append(policy)
        start += size
    return policies


def _padded(parts, sizes, width, fill, like):
    """The 1-D ``parts`` (``None``: zeros) as the rows of a ``(len(parts),
    width)`` matrix, each padded with ``fill``: one ``cat`` (none for one
    full row)."""
    if len(parts) == 1 and sizes[0] == width and parts[0] is not None:
        return parts[0].view(1, width)
    pieces = []
    for part, size in zip(parts, sizes):
        if part is None:
            part = _constant(
                lambda n=size: torch.zeros(n, dtype=like.dtype, device=like.device),
                "zeros",
                size,
                like.dtype,
                like.device,
            )
        pieces.append(part)
        if size < width:
            n_pad = width - size
            pieces.append(
                _constant(
                    lambda n=n_pad: torch.full(
                        (n,), fill, dtype=like.dtype, device=like.device
                    ),
                    "fill",
                    fill,
                    n_pad,
                    like.dtype,
                    like.device,
                )
            )
    return torch.cat(pieces).view(len(parts), width)


def _positions(sizes, width):
    """Flat positions of each layer's candidates in the padded matrix."""
    return [row * width + k for row, size in enumerate(sizes) for k in range(size)]


class _LayersPolicy(torch.autograd.Function):
    """Softmax of the weights, straight-through projection of the magnitudes
    and their linear map onto the op ranges, for several layers at once
    (rows of one padded matrix, see :func:`layers_policy`): the raw
    magnitudes gathered by views into one matrix (a ``cat`` of views, not a
    ``stack``, which adds a view per candidate) and handed back as views of
    it: a few kernels in each pass, whatever the number of layers and
    candidates. The products, the mapping and the gradient of each use are
    computed as autograd computes them for one candidate at a time (same
    roundings), so that training is unchanged. First-order only: a double
    backward raises.
    """

    @staticmethod
    def forward(ctx, sizes, temperatures, spans, lows, logits, *inputs):
        ctx.set_materialize_grads(False)
        n_layers, width = len(sizes), max(sizes)
        alphas, raws = inputs[:n_layers], inputs[n_layers:]
        like = alphas[0]
        alpha = _padded(alphas, sizes, width, -math.inf, like)
        if len(set(temperatures)) == 1:
            temperature = scalar(temperatures[0], like)
        else:
            temperature = scalar(temperatures, like).view(n_layers, 1)
        weights = torch.softmax(alpha / temperature, dim=1)
        raw_views = [r.view(1) for r in raws]
        if width * n_layers != len(raws):  # zeros in the padding
            pad = scalar(0, like).view(1)
            positions = set(_positions(sizes, width))
            it = iter(raw_views)
            raw_views = [
                next(it) if i in positions else pad for i in range(n_layers * width)
            ]
        raw = torch.cat(raw_views).view(n_layers, width)
        magnitudes = torch.clamp(raw, scalar(0, raw), scalar(1, raw))
        # > 0 below the range, < 0 above it, 0 inside (see unit_interval)
        inward = magnitudes - raw
        op_values = magnitudes
        if spans is not None:
            spans = _padded_constant(spans, sizes, width, like)
            op_values = magnitudes * spans
            if lows is not None:
                op_values = op_values + _padded_constant(lows, sizes, width, like)
        op_logits = None
        if logits:  # the relaxed Bernoulli's logits, at once
            op_logits = torch.logit(op_values, eps=LOGIT_EPS)
        ctx.save_for_backward(
            weights, temperature, magnitudes, inward, spans, op_values
        )
        ctx.sizes, ctx.width, ctx.logits = sizes, width, logits
        products = weights * magnitudes
        positions = _positions(sizes, width)
        outputs = (
            *_rows(weights, sizes),
            *_rows(products, sizes),
            *_elements(op_values.view(-1), positions),
        )
        if logits:
            outputs = (*outputs, *_elements(op_logits.view(-1), positions))
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        weights, temperature, magnitudes, inward, spans, op_values = ctx.saved_tensors
        sizes, width = ctx.sizes, ctx.width
        n_layers, n_candidates = len(sizes), sum(sizes)
        grad_weights = grads[:n_layers]
        grad_products = grads[n_layers : 2 * n_layers]
        grad_ops = grads[2 * n_layers : 2 * n_layers + n_candidates]
        grad_logits = grads[2 * n_layers + n_candidates :] or (None,) * n_candidates
        needs = ctx.needs_input_grad[5:]
        need_alphas, need_raws = needs[:n_layers], needs[n_layers:]
        like = weights
        # rows with a gradient (None for the others, as autograd gives)
        alpha_rows = [
            need and (gw is not None or gp is not None)
            for need, gw, gp in zip(need_alphas, grad_weights, grad_products)
        ]
        grad_alpha = None
        if any(alpha_rows):
            # d(w m) = m dw + w dm; each use of the weights goes through the
            # softmax on its own, then the two are added: the rounding of
            # separate softmax nodes
            for of_products, use in enumerate((grad_weights, grad_products)):
                if all(g is None for g in use):
                    continue
                grad = _padded(use, sizes, width, 0.0, like)
                if of_products:
                    grad = grad * magnitudes
                grad = torch._softmax_backward_data(
                    grad, weights, 1, weights.dtype
                ).div_(temperature)
                grad_alpha = grad if grad_alpha is None else grad_alpha.add_(grad)
        grads_alpha = [
            _row(grad_alpha, layer, size) if row else None
            for layer, (row, size) in enumerate(zip(alpha_rows, sizes))
        ]
        starts = [sum(sizes[:layer]) for layer in range(n_layers)]
        raw_rows = [
            any(need_raws[start : start + size])
            and (
                grad_products[layer] is not None
                or any(g is not None for g in grad_ops[start : start + size])
                or any(g is not None for g in grad_logits[start : start + size])
            )
            for layer, (start, size) in enumerate(zip(starts, sizes))
        ]
        no_grads = [None] * len(grad_ops)
        if not any(raw_rows):
            return (None, None, None, None, None, *grads_alpha, *no_grads)
        # each path is blocked where a descent step (-grad) moves its
        # magnitude further out, as with one unit_interval per use (in place:
        # every tensor blocked here is made here)
        zero = scalar(0, inward)
        grad = _gathered(grad_ops, sizes, width, zero)
        through_logits = _gathered(grad_logits, sizes, width, zero)
        if through_logits is not None:  # each op value's gradient, then the map
            through_logits = torch.ops.aten.logit_backward(
                through_logits, op_values, LOGIT_EPS
            )
            grad = through_logits if grad is None else grad.add_(through_logits)
        if grad is not None:
            if spans is not None:
                grad = grad * spans
            grad = grad.masked_fill_(inward * grad > zero, 0)
        if any(g is not None for g in grad_products):
            products_raw = _padded(grad_products, sizes, width, 0.0, like) * weights
            products_raw = products_raw.masked_fill_(inward * products_raw > zero, 0)
            grad = products_raw if grad is None else grad.add_(products_raw)
        elements = _elements(grad.view(-1), _positions(sizes, width))
        grads_raw, start = [], 0
        for row, size in zip(raw_rows, sizes):
            part = elements[start : start + size]
            grads_raw.extend(part if row else [None] * size)
            start += size
        return (None, None, None, None, None, *grads_alpha, *grads_raw)


def _gathered(grads, sizes, width, zero):
    """0-d gradients (``None``: zero) as the padded matrix, or ``None`` when
    all are ``None``: one ``cat`` of views."""
    if all(g is None for g in grads):
        return None
    views = [zero.view(1) if g is None else g.view(1) for g in grads]
    if len(sizes) * width != len(views):
        positions = set(_positions(sizes, width))
        it = iter(views)
        views = [
            next(it) if i in positions else zero.view(1)
            for i in range(len(sizes) * width)
        ]
    return torch.cat(views).view(len(sizes), width)


def _padded_constant(values, sizes, width, like):
    """Per-candidate constants as the padded matrix (zeros in the padding),
    built once."""
    flat, start = [], 0
    for size in sizes:
        flat.extend(values[start : start + size])
        flat.extend([0.0] * (width - size))
        start += size
    return scalar(tuple(flat), like).view(len(sizes), width)


def _row(matrix, row, size):
    """Row ``row`` of a padded matrix, its first ``size`` entries (a view)."""
    if matrix.shape[0] == 1 and matrix.shape[1] == size:
        return matrix.view(size)
    if is_compiling():
        return matrix[row, :size]
    stride = matrix.stride()
    return matrix.as_strided((size,), (stride[1],), row * stride[0])


def _rows(matrix, sizes):
    return tuple(_row(matrix, row, size) for row, size in enumerate(sizes))


def _elements(vector, positions=None):
    """The elements of a 1-D tensor (those at ``positions``) as 0-d views:
    what ``unbind`` returns, one operator per element instead of two (a
    ``select`` and the ``as_strided`` it calls)."""
    if positions is None:
        positions = range(len(vector))
    if is_compiling():  # dynamo does not trace storage offsets
        return tuple(vector[k] for k in positions)
    stride, offset = vector.stride(0), vector.storage_offset()
    return tuple(vector.as_strided((), (), offset + k * stride) for k in positions)


def mixture(weights, outputs):
    """The convex combination ``sum_k weights[k] * outputs[k]``.

    What a mixture augmentation layer outputs, as one operator in each pass:
    stacking the outputs and multiplying by the weights with autograd's
    operators adds a view and a gradient split per output, which, not the
    arithmetic, make the cost on an accelerator.

    Parameters
    ----------
    weights : torch.Tensor
        ``(K,)`` weights, in the dtype of the outputs.
    outputs : sequence of torch.Tensor
        ``K`` tensors of one shape.

    Returns
    -------
    torch.Tensor
        Differentiable with respect to the weights and the outputs. A double
        backward differentiates the outputs' gradients, and the weights'
        gradient with respect to the incoming gradient, but not the weights'
        gradient with respect to the outputs (it reads the copy of them
        that the forward pass made).

    Examples
    --------
    >>> import torch
    >>> mixture(torch.tensor([0.25, 0.75]), [torch.zeros(2), torch.ones(2)])
    tensor([0.7500, 0.7500])
    """
    return _Mixture.apply(weights, *outputs)


class _Mixture(torch.autograd.Function):
    """``weights @ stack(outputs)``: the outputs are rows of one ``(K, n)``
    matrix, and their gradients the rows of the outer product of the weights
    and the output's gradient. A double backward differentiates the
    gradients with respect to the weights and to the incoming gradient; the
    weights' gradient reads the copy of the outputs made by the forward pass
    (saving the outputs themselves as well would double what the layer
    keeps), so it is not differentiated again with respect to them."""

    @staticmethod
    def forward(ctx, weights, *outputs):
        shape = outputs[0].shape
        if _splits_rows(shape):  # one concatenation, no view per output
            stacked = torch.cat(outputs).view(len(outputs), -1)
        else:
            stacked = torch.stack(outputs).view(len(outputs), -1)
        ctx.save_for_backward(weights, stacked)
        ctx.shape = shape
        return torch.mm(weights.view(1, -1), stacked).view(shape)

    @staticmethod
    def backward(ctx, grad):
        weights, stacked = ctx.saved_tensors
        # views and a broadcast product: fewer operators than reshape and
        # outer, the same values
        flat = grad.view(-1) if grad.is_contiguous() else grad.reshape(-1)
        grad_weights = torch.mv(stacked, flat) if ctx.needs_input_grad[0] else None
        if not any(ctx.needs_input_grad[1:]):
            return (grad_weights, *([None] * len(stacked)))
        grads = weights.view(-1, 1) * flat
        shape = ctx.shape
        if _splits_rows(shape):  # a split: one view per output, not two
            sizes = [shape[0]] * len(stacked)  # sizes: no narrow per block
            grads = grads.view(-1, *shape[1:]).split_with_sizes(sizes)
        else:
            grads = grads.view(len(stacked), *shape).unbind(0)
        return (grad_weights, *grads)


def _splits_rows(shape):
    """Whether tensors of ``shape`` are stacked as blocks of rows (a
    concatenation along their first axis, split back into blocks)."""
    return len(shape) > 0 and shape[0] > 0


def concatenated_norm(parts):
    """The Euclidean norm of the concatenation of ``parts``,
    ``torch.cat(parts).norm()``.

    The regulariser of a stack of layers (the norm of every layer's weights
    times magnitudes) as one node: autograd's concatenation hands back the
    gradient of each part through three views, and the norm's gradient
    compares with a Python zero (a cast); here, one split into views and a
    tensor zero, with autograd's formula for the rest (the same values to
    the bit; differentiable again).

    Parameters
    ----------
    parts : sequence of torch.Tensor
        1-D tensors of one dtype.

    Returns
    -------
    torch.Tensor
        0-d.

    Examples
    --------
    >>> import torch
    >>> concatenated_norm([torch.tensor([3.0]), torch.tensor([0.0, 4.0])])
    tensor(5.)
    """
    if is_compiling():  # dynamo traces autograd's operators
        return torch.cat(parts).norm()
    return _ConcatenatedNorm.apply(*parts)


class _ConcatenatedNorm(torch.autograd.Function):
    """``norm(cat(parts))``; the backward pass splits the norm's gradient,
    computed with autograd's formula, into views of one operator each."""

    @staticmethod
    def forward(ctx, *parts):
        values = torch.cat(parts)
        norm = torch.linalg.vector_norm(values)
        ctx.save_for_backward(values, norm, *parts)
        ctx.sizes = [len(part) for part in parts]
        return norm

    @staticmethod
    def backward(ctx, grad):
        values, norm, *parts = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: from the saved parts
            values = torch.cat(parts)
            norm = torch.linalg.vector_norm(values)
        # autograd's gradient of the 2-norm (0 where the norm is 0)
        zero = scalar(0, norm)
        grad = grad * (values / norm).masked_fill_(norm == zero, 0)
        return grad.split_with_sizes(ctx.sizes)


def scatter_rows(pieces, index):
    """Put the rows of ``pieces`` back at the positions ``index``.

    ``out[index[i]] = cat(pieces)[i]``: the inverse of
    ``X.index_select(0, index).split(sizes)`` for a permutation ``index``,
    with which a batch regrouped by candidate (e.g. by
    :func:`~braindecode_augnet.layers.apply_grouped`) is put back in order.
    One read through ``index`` in the backward pass; in the forward pass,
    one write at ``index`` (``index_copy_``) on an accelerator, and on CPU a
    read through the inverse permutation (``index_select`` copies whole
    rows there, 1.6x (1280 rows) to 11x (64 rows) faster than the write, for
    one more small operator, the inversion).

    Parameters
    ----------
    pieces : sequence of torch.Tensor
        Tensors of the same trailing shape, as many rows in all as ``index``.
    index : torch.Tensor
        ``(rows,)`` permutation.

    Returns
    -------
    torch.Tensor
        Differentiable with respect to the pieces.

    Examples
    --------
    >>> import torch
    >>> pieces = [torch.tensor([1.0, 2.0]), torch.tensor([3.0])]
    >>> scatter_rows(pieces, torch.tensor([2, 0, 1]))
    tensor([2., 3., 1.])
    """
    return _ScatterRows.apply(index, *pieces)


class _ScatterRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, index, *pieces):
        rows = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
        ctx.save_for_backward(index)
        ctx.sizes = [len(piece) for piece in pieces]
        if rows.device.type != "cpu":  # one write: launches are the cost
            return torch.empty_like(rows).index_copy_(0, index, rows)
        # on CPU, a read of whole rows is faster than a write
        positions = arange(len(index), index.device)
        inverse = torch.empty_like(index).scatter_(0, index, positions)
        return rows.index_select(0, inverse)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return (None, *grad.index_select(0, index).split(ctx.sizes))


def choice_gate(X, out, weights, choice):
    """``out``, with the straight-through gradient of one candidate drawn per
    example.

    Example ``b`` of ``out`` is the output of candidate ``choice[b]``, drawn
    with probability ``weights[choice[b]]``. The value is ``out``; the
    gradients are those of ``lerp(X, out, g)`` with the gate
    ``g_b = w_k / stop_gradient(w_k)`` (of value 1) for ``k = choice[b]``:
    the weights get ``sum_b <grad_b, out_b - X_b> / w_k`` over the examples
    of each candidate (with ``w_k`` at least 1e-3), the gradient of
    ``log w_k`` per example, so that in expectation over the draws they get
    the gradient of the mixture ``sum_k w_k T_k(X)``. One operator in the
    forward pass, and a few in the backward pass, instead of the gate's
    arithmetic and its gathering from the weights.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, ...)`` before augmentation.
    out : torch.Tensor
        The augmented batch, ``X``'s shape.
    weights : torch.Tensor
        ``(K,)`` probabilities of the candidates, in ``out``'s dtype.
    choice : torch.Tensor
        ``(batch,)`` candidate of each example.

    Returns
    -------
    torch.Tensor
        ``out`` (a view), differentiable with respect to ``out`` (the
        identity) and to the weights.

    Examples
    --------
    >>> import torch
    >>> weights = torch.tensor([0.25, 0.75], requires_grad=True)
    >>> X, out = torch.zeros(2, 1), torch.tensor([[1.0], [2.0]])
    >>> choice_gate(X, out, weights, torch.tensor([0, 1])).sum().backward()
    >>> weights.grad  # 1 / 0.25 and 2 / 0.75
    tensor([4.0000, 2.6667])
    """
    return _ChoiceGate.apply(weights, X, out, choice)


class _ChoiceGate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weights, X, out, choice):
        ctx.save_for_backward(weights, X, out, choice)
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        grad_weights = None
        if ctx.needs_input_grad[0]:
            weights, X, out, choice = ctx.saved_tensors
            moved = torch.sub(out, X).mul_(grad)
            dots = moved.sum(dim=tuple(range(1, moved.ndim)))
            sums = torch.zeros_like(weights).index_add_(0, choice, dots)
            grad_weights = sums / weights.detach().clamp_min(scalar(1e-3, weights))
        return grad_weights, None, grad, None


def time_reverse(X):
    """Reverse every signal in time.

    Examples
    --------
    >>> import torch
    >>> time_reverse(torch.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[3., 2., 1.]]])
    """
    return torch.flip(X, dims=[-1])


def gated_sign_flip(X, gate):
    """Flip the sign of the examples whose gate is 1: ``X * (1 - 2 * gate)``.

    Same value and gradients as ``torch.lerp(X, -X, gate)`` for 0/1 gates,
    in one broadcast product (and a cache-friendly backward pass).

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    gate : torch.Tensor
        ``(batch, 1, 1)`` 0/1 gates, possibly carrying a gradient.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[[1.0, -2.0]], [[3.0, 4.0]]])
    >>> gated_sign_flip(X, torch.tensor([[[1.0]], [[0.0]]])).tolist()
    [[[-1.0, 2.0]], [[3.0, 4.0]]]
    """
    if gate.ndim != 3:
        gate = gate.reshape(-1, 1, 1)
    scale = torch.add(scalar(1, X), gate, alpha=-2)
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


def _nextpow2(n):
    return 1 << (int(n) - 1).bit_length()


def frequency_shift(X, delta_freq, sfreq):
    """Shift the spectrum of every signal by ``delta_freq`` Hz.

    Same single-sideband modulation of the analytic signal as braindecode's
    ``frequency_shift`` (zero-padding to the next power of two), vectorised
    over the batch and differentiable with respect to ``delta_freq``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    delta_freq : torch.Tensor
        Per-example shift in Hz, shape ``(batch,)``.
    sfreq : float
        Sampling frequency in Hz.

    Examples
    --------
    A 10 Hz sinusoid shifted by 2 Hz peaks at 12 Hz:

    >>> import math, torch
    >>> t = torch.arange(1000, dtype=torch.float64) / 100
    >>> X = torch.sin(2 * math.pi * 10 * t).reshape(1, 1, -1)
    >>> shifted = frequency_shift(X, torch.tensor([2.0]), sfreq=100)
    >>> freqs = torch.fft.rfftfreq(1000, d=1 / 100)
    >>> freqs[torch.fft.rfft(shifted).abs().argmax()].item()
    12.0
    """
    n_times = X.shape[-1]
    # 2 pi t, in seconds
    two_pi_t = _constant(
        lambda: (
            torch.arange(n_times, dtype=X.dtype, device=X.device)
            * (2 * math.pi / sfreq)
        ),
        "two_pi_t",
        n_times,
        float(sfreq),
        X.dtype,
        X.device,
    )
    return _FrequencyShift.apply(X, _cast(delta_freq, X), two_pi_t)


def _rfft(X, n_fft=None):
    """``torch.fft.rfft(X, n=n_fft, dim=-1)`` through the aten operator it
    calls, for a floating ``X`` and ``n_fft`` at least its length (padding,
    no cropping): the same values to the bit, one operator fewer per call (on
    an accelerator, operators are launches)."""
    n_times = X.shape[-1]
    if n_fft is not None and n_fft != n_times:
        if n_fft < n_times:
            raise ValueError(f"n_fft={n_fft} is below the length {n_times}.")
        X = torch.constant_pad_nd(X, [0, n_fft - n_times])
    return torch._fft_r2c(X, [X.ndim - 1], 0, True)  # norm="backward": none


def _irfft(spectrum, n_times):
    """``torch.fft.irfft(spectrum, n=n_times, dim=-1)`` for the spectrum of
    an :func:`_rfft` of that length (``n_times // 2 + 1`` frequencies),
    through the aten operator it calls."""
    return torch._fft_c2r(spectrum, [spectrum.ndim - 1], 2, n_times)  # by 1/n


def _hilbert(X):
    """Hilbert transform of every signal, zero-padded to the next power of two.

    The analytic signal is ``X + i H(X)``: its real part is ``X`` itself, and
    ``H`` multiplies positive frequencies by ``-i`` (real FFTs).
    """
    n_times = X.shape[-1]
    n_fft = _nextpow2(n_times)
    spectrum = _rfft(X, n_fft)
    rotate = _constant(
        lambda: _hilbert_rotation(spectrum.shape[-1], spectrum.dtype, X.device),
        "hilbert",
        spectrum.shape[-1],
        spectrum.dtype,
        X.device,
    )
    return _irfft(spectrum * rotate, n_fft)[..., :n_times]


class _FrequencyShift(torch.autograd.Function):
    """``X cos(phase) - H(X) sin(phase)``, ``H`` the Hilbert transform, with
    ``phase = delta_freq * 2 pi t``.

    ``H`` (of the zero-padded signal, then cut) is anti-self-adjoint, so the
    gradient to ``X`` is ``g cos + H(g sin)``: one more Hilbert transform in
    the backward pass, where autograd goes back through both FFTs, the
    complex product and the padding (about 50 operators more per call).
    The phase is made here, and the gradient to the shift computed as
    autograd computes it through the product and the view (the same
    roundings), without their nodes. First-order only: a double backward
    raises.
    """

    @staticmethod
    def forward(ctx, X, delta_freq, two_pi_t):
        column = _as_batch_column(delta_freq, X)
        phase = column * two_pi_t
        hilbert = _hilbert(X)
        cos, sin = torch.cos(phase), torch.sin(phase)
        ctx.save_for_backward(X, hilbert, cos, sin, two_pi_t)
        ctx.shapes = phase.shape, column.shape, delta_freq.shape
        return X * cos - hilbert * sin

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        X, hilbert, cos, sin, two_pi_t = ctx.saved_tensors
        need_x, need_delta = ctx.needs_input_grad[:2]
        grad_x = grad_delta = None
        if need_x:
            grad_x = grad * cos + _hilbert(grad * sin)
        if need_delta:  # d out / d phase = -(X sin + H(X) cos)
            phase_shape, column_shape, delta_shape = ctx.shapes
            moved = torch.addcmul(X * sin, hilbert, cos).mul_(grad)
            grad_phase = _sum_to(moved, phase_shape).neg_()
            grad_delta = _sum_to(grad_phase * two_pi_t, column_shape)
            grad_delta = grad_delta.view(delta_shape)  # a new, contiguous sum
        return grad_x, grad_delta, None


def _hilbert_rotation(n_freqs, dtype, device):
    rotate = torch.full((n_freqs,), -1j, dtype=dtype, device=device)
    rotate[0] = 0
    rotate[-1] = 0
    return rotate


def ft_surrogate(X, phase_noise, uniform):
    """Fourier-transform surrogate: add random phases to the spectrum.

    Phases are ``2 * pi * phase_noise * uniform`` for every positive frequency
    (the DC term and, for even lengths, the Nyquist term keep their phase), as
    in braindecode's ``ft_surrogate``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    phase_noise : torch.Tensor
        Scalar phase-noise magnitude in [0, 1].
    uniform : torch.Tensor
        Uniform draws shaped ``(batch, 1 or channels, n_freqs)`` with
        ``n_freqs = times // 2 + 1``.

    Examples
    --------
    >>> import torch
    >>> X = torch.randn(2, 1, 64, dtype=torch.float64)
    >>> out = ft_surrogate(X, torch.tensor(1.0), torch.rand(2, 1, 33))
    >>> torch.allclose(torch.fft.rfft(out).abs(), torch.fft.rfft(X).abs())
    True
    """
    n_times = X.shape[-1]
    # 2 pi, 0 at the frequencies whose phase is kept
    two_pi_keep = _constant(
        lambda: _phase_scale(n_times, X.dtype, X.device),
        "two_pi_keep",
        n_times,
        X.dtype,
        X.device,
    )
    phases = _cast(uniform, X) * two_pi_keep
    return _FTSurrogate.apply(X, _cast(phase_noise, X), phases)


class _FTSurrogate(torch.autograd.Function):
    """``irfft(rfft(X) exp(i m phi))`` for phases ``phi`` null at the DC and
    Nyquist terms, and its gradients in the frequency domain.

    The op is a real circulant operator with response ``exp(i m phi)``: its
    adjoint has the conjugate response, so the gradient to ``X`` is
    ``irfft(rfft(g) exp(-i m phi))``, and by Parseval the gradient to ``m``
    is ``-2 / n sum(phi Im(conj(rfft(g)) rfft(out)))``. One FFT pair in the
    backward pass, where autograd goes back through the polar form, the
    complex products and both FFTs (about 50 operators more per call).
    First-order only: a double backward raises.
    """

    @staticmethod
    def forward(ctx, X, phase_noise, phases):
        rotation = torch.polar(scalar(1, phases), phases * phase_noise)
        rotated = _rfft(X) * rotation
        ctx.save_for_backward(rotated, rotation, phases)
        ctx.noise_shape = phase_noise.shape
        return _irfft(rotated, X.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        rotated, rotation, phases = ctx.saved_tensors
        need_x, need_noise = ctx.needs_input_grad[:2]
        n_times = grad.shape[-1]
        spectrum = _rfft(grad)
        grad_x = grad_noise = None
        if need_x:
            grad_x = _irfft(spectrum * rotation.conj(), n_times)
        if need_noise:
            cross = torch.imag(spectrum.conj() * rotated).mul_(phases)
            grad_noise = _sum_to(cross, ctx.noise_shape)
            grad_noise = grad_noise * scalar(-2 / n_times, grad_noise)
        return grad_x, grad_noise, None


def _phase_scale(n_times, dtype, device):
    scale = torch.full((n_times // 2 + 1,), 2 * math.pi, dtype=dtype, device=device)
    scale[0] = 0
    if n_times % 2 == 0:
        scale[-1] = 0
    return scale


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
        shifted = arange(n_times, X.device, X.dtype) - start
        rising = torch.sigmoid(shifted * scalar(-steep, X))
        falling = torch.sigmoid((shifted - length) * scalar(steep, X))
        mask = rising + falling
        ctx.save_for_backward(X, fraction, span, mask, rising, falling)
        return X * mask

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        X, fraction, span, mask, rising, falling = ctx.saved_tensors
        need_x, need_fraction, need_length = ctx.needs_input_grad
        grad_x = grad * mask if need_x else None
        if not (need_fraction or need_length):
            return grad_x, None, None
        steep = 1000.0 / X.shape[-1]
        grad_mask = _sum_to(grad * X, mask.shape)
        grad_a = torch.ops.aten.sigmoid_backward(grad_mask, rising) * scalar(-steep, X)
        grad_b = torch.ops.aten.sigmoid_backward(grad_mask, falling) * scalar(steep, X)
        # minus the start's gradient, per example
        minus_start = _sum_to(grad_a + grad_b, (len(fraction), 1, 1)).view(-1)
        grad_fraction = grad_length = None
        if need_fraction:
            grad_fraction = (minus_start * span).neg_()
        if need_length:
            grad_length = (minus_start * fraction).sum() - grad_b.sum()
        return grad_x, grad_fraction, grad_length


def channels_dropout(X, drop):
    """Zero the channels where ``drop`` is 1: ``X * (1 - drop)``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    drop : torch.Tensor
        ``(batch, channels)`` drop indicators (0/1, possibly carrying a
        straight-through gradient).

    Examples
    --------
    >>> import torch
    >>> out = channels_dropout(torch.ones(1, 3, 2), torch.tensor([[0.0, 1.0, 0.0]]))
    >>> out[0, :, 0].tolist()
    [1.0, 0.0, 1.0]
    """
    return _scale_rows(X, (scalar(1, X) - drop).unsqueeze(-1))


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
    index = arange(n_channels, device)
    after = arange(n_channels, device, start=n_channels)  # unselected: last
    positions = torch.argsort(torch.where(selected, index, after), dim=1)
    above = arange(n_channels, device, keys.dtype, start=2)  # keys are below 1
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
    shuffle : torch.Tensor
        ``(batch, channels)`` 0/1 shuffle indicators with a straight-through
        gradient (see :func:`hard_relaxed_bernoulli`).
    permutation : torch.Tensor
        ``(batch, channels)`` permutation from :func:`masked_channel_permutation`.
    partners : torch.Tensor
        ``(batch, channels)`` channel each channel would be swapped with.
    selected : torch.Tensor | None
        ``shuffle > 0.5`` (boolean) when the caller holds it (it built the
        permutation from it); ``None``: compared here.
    """
    return _ChannelsShuffle.apply(X, _cast(shuffle, X), permutation, partners, selected)


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
        hard = shuffle > scalar(0.5, shuffle) if selected is None else selected
        index = arange(n_channels, X.device)
        offset = arange(n_batch, X.device, step=n_channels).unsqueeze(1)
        rows = (torch.where(hard, permutation, index) + offset).flatten()
        sources = None
        if ctx.needs_input_grad[1]:  # only the gradient to shuffle reads them
            sources = (torch.where(hard, permutation, partners) + offset).flatten()
        ctx.save_for_backward(X, rows, sources)
        ctx.shuffle_shape = shuffle.shape
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
