"""Operations of the augmentation layers and their policy.

The layer's weights and projected magnitudes (:func:`layer_policy`), the
mixture of the candidates' outputs (:func:`mixture`), the regulariser's norm
(:func:`concatenated_norm`), and the regrouping of examples drawn per
candidate (:func:`scatter_rows`, :func:`choice_gate`).
"""

import math

import torch
from torch.autograd.function import once_differentiable

from ._tensor import LOGIT_EPS, _constant, _halves, arange, is_compiling, scalar

__all__ = [
    "choice_gate",
    "concatenated_norm",
    "gather_rows",
    "inverse_permutation",
    "layer_policy",
    "layers_policy",
    "mixture",
    "scatter_rows",
]


def layer_policy(
    alpha, temperature, raws, mag_ranges=None, logits=False, logit_scales=None
):
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
    logit_scales : sequence of float | None
        See :func:`layers_policy`.

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
    (policy,) = layers_policy(
        [alpha], [temperature], [raws], mag_ranges, logits, logit_scales=logit_scales
    )
    return policy


def layers_policy(
    alphas,
    temperatures,
    raws,
    mag_ranges=None,
    logits=False,
    floors=False,
    logit_scales=None,
):
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
    floors : bool
        Also hand out the weights floored at 1e-3, without a gradient, that
        the sampled mode's gate divides by (:func:`choice_gate`'s
        ``floor``), computed for all the layers at once.
    logit_scales : sequence of float | None
        With ``logits``, each candidate's logit is handed out multiplied by
        its scale (all the layers' candidates in order), e.g. ``1 /
        temperature`` of a relaxed Bernoulli (its ``logit_over_temperature``),
        and its gradient multiplied by it on the way back: one operator in
        each pass for all the candidates. Powers of two scale exactly (the
        same bits as a division of each draw's argument and slope).

    Returns
    -------
    list of tuple
        ``(weights, op_values, products)`` of each layer, as returned by
        :func:`layer_policy`, with ``op_logits`` (0-d tensors) appended when
        ``logits``, then the floored weights when ``floors``.

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
    if logit_scales is not None:
        logit_scales = tuple(float(scale) for scale in logit_scales)
        if not logits or all(scale == 1 for scale in logit_scales):
            logit_scales = None
    wanted = (bool(logits), bool(floors), logit_scales)
    outputs = _LayersPolicy.apply(
        sizes, temperatures, spans, lows, wanted, *alphas, *raws
    )
    n_layers, n_candidates = len(sizes), len(raws)
    weights = outputs[:n_layers]
    products = outputs[n_layers : 2 * n_layers]
    op_values = outputs[2 * n_layers : 2 * n_layers + n_candidates]
    end = 2 * n_layers + n_candidates + (n_candidates if logits else 0)
    op_logits = outputs[2 * n_layers + n_candidates : end]
    floored = outputs[end:]
    policies, start = [], 0
    for layer, size in enumerate(sizes):
        policy = (weights[layer], op_values[start : start + size], products[layer])
        if logits:
            policy = (*policy, op_logits[start : start + size])
        if floors:
            policy = (*policy, floored[layer])
        policies.append(policy)
        start += size
    return policies


def _stacked(blocks, n_rows, width, like):
    """Blocks of pieces (see :func:`_padded_pieces`, :func:`_gathered_pieces`;
    ``None``: absent) as the ``(n_rows, width)`` matrices of one tensor,
    made by one ``cat``; ``None`` for the absent ones."""
    present = [pieces for pieces in blocks if pieces is not None]
    if not present:
        return [None] * len(blocks)
    shape = (len(present), n_rows, width)
    out = torch.empty(shape, dtype=like.dtype, device=like.device)
    torch.cat([piece for pieces in present for piece in pieces], out=out.view(-1))
    if is_compiling():  # dynamo does not trace storage offsets
        matrices = iter(out.unbind())
    else:
        stride, offset = out.stride(), out.storage_offset()
        matrices = iter(
            out.as_strided(shape[1:], stride[1:], offset + k * stride[0])
            for k in range(len(present))
        )
    return [None if pieces is None else next(matrices) for pieces in blocks]


def _padded_pieces(parts, sizes, width, fill, like):
    """The 1-D ``parts`` (``None``: zeros), each padded with ``fill``, as the
    pieces of the rows of a ``(len(parts), width)`` matrix, in order."""
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
    return pieces


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
    def forward(ctx, sizes, temperatures, spans, lows, wanted, *inputs):
        ctx.set_materialize_grads(False)
        logits, floors, logit_scales = wanted
        n_layers, width = len(sizes), max(sizes)
        alphas, raws = inputs[:n_layers], inputs[n_layers:]
        like = alphas[0]
        if len(set(temperatures)) == 1:
            temperature = scalar(temperatures[0], like)
        else:
            temperature = scalar(temperatures, like).view(n_layers, 1)
        # the logits and the raw magnitudes gathered by one cat (padded with
        # -inf, which the softmax weighs 0, and with zeros)
        if spans is not None:
            spans = _padded_constant(spans, sizes, width, like)
        # one tensor [logits, raw magnitudes, (spans,) magnitudes, weights]:
        # the first blocks gathered by one cat (the logits padded with -inf,
        # which the softmax weighs 0, the magnitudes with zeros); the last two
        # the halves that the backward pass multiplies by the products'
        # gradient at once; with spans, [spans, magnitudes] times
        # [magnitudes, weights] (overlapping halves) makes the op values and
        # the products in one product
        pieces = [
            *_padded_pieces(alphas, sizes, width, -math.inf, like),
            *_gathered_pieces(raws, sizes, width, scalar(0, like)),
        ]
        n_gathered = 2 if spans is None else 3
        if spans is not None:
            pieces.append(spans.view(-1))
        blocks = torch.empty(
            (n_gathered + 2, n_layers, width), dtype=like.dtype, device=like.device
        )
        torch.cat(pieces, out=blocks[:n_gathered].view(-1))
        alpha, raw = blocks[0], blocks[1]
        policy = blocks[n_gathered:]
        magnitudes, weights = _halves(policy)
        torch._softmax(alpha / temperature, 1, False, out=weights)
        torch.clamp(raw, scalar(0, raw), scalar(1, raw), out=magnitudes)
        # > 0 below the range, < 0 above it, 0 inside (see unit_interval)
        inward = magnitudes - raw
        if spans is None:
            op_values, products = magnitudes, weights * magnitudes
        else:
            op_values, products = _halves(policy * blocks[2:4])
            if lows is not None:
                op_values = op_values + _padded_constant(lows, sizes, width, like)
        op_logits = None
        if logits:  # the relaxed Bernoulli's logits, at once
            op_logits = torch.logit(op_values, eps=LOGIT_EPS)
            if logit_scales is not None:
                logit_scales = _padded_constant(logit_scales, sizes, width, like)
                op_logits = op_logits * logit_scales
        ctx.logit_scales = logit_scales
        ctx.save_for_backward(policy, temperature, inward, spans, op_values)
        ctx.sizes, ctx.width, ctx.logits = sizes, width, logits
        positions = _positions(sizes, width)
        outputs = (
            *_rows(weights, sizes),
            *_rows(products, sizes),
            *_elements(op_values.view(-1), positions),
        )
        if logits:
            outputs = (*outputs, *_elements(op_logits.view(-1), positions))
        if floors:  # what the sampled mode's gates divide by
            floored = torch.clamp_min(weights, scalar(CHOICE_FLOOR, weights))
            floored = _rows(floored, sizes)
            ctx.mark_non_differentiable(*floored)
            outputs = (*outputs, *floored)
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        policy, temperature, inward, spans, op_values = ctx.saved_tensors
        magnitudes, weights = _halves(policy)
        sizes, width = ctx.sizes, ctx.width
        n_layers, n_candidates = len(sizes), sum(sizes)
        grad_weights = grads[:n_layers]
        grad_products = grads[n_layers : 2 * n_layers]
        grad_ops = grads[2 * n_layers : 2 * n_layers + n_candidates]
        grad_logits = (None,) * n_candidates  # the floors have none
        if ctx.logits:
            start = 2 * n_layers + n_candidates
            grad_logits = grads[start : start + n_candidates]
        needs = ctx.needs_input_grad[5:]
        need_alphas, need_raws = needs[:n_layers], needs[n_layers:]
        like = weights
        # rows with a gradient (None for the others, as autograd gives)
        alpha_rows = [
            need and (gw is not None or gp is not None)
            for need, gw, gp in zip(need_alphas, grad_weights, grad_products)
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
        # the incoming gradients as padded matrices, gathered by one cat
        zero = scalar(0, inward)
        want_weights = any(alpha_rows) and any(g is not None for g in grad_weights)
        want_products = any(g is not None for g in grad_products)  # both paths
        want_raws = any(raw_rows)
        padded_weights, padded_products, grad, through_logits = _stacked(
            [
                _padded_pieces(grad_weights, sizes, width, 0.0, like)
                if want_weights
                else None,
                _padded_pieces(grad_products, sizes, width, 0.0, like)
                if want_products
                else None,
                _gathered_pieces(grad_ops, sizes, width, zero) if want_raws else None,
                _gathered_pieces(grad_logits, sizes, width, zero)
                if want_raws
                else None,
            ],
            n_layers,
            width,
            like,
        )
        grad_alpha = by_products = None
        if padded_products is not None:
            # [d(w m) m, d(w m) w, the op values' gradient (made below)]: the
            # products' gradient times the magnitudes and the weights at once
            by_products = torch.empty(
                (3, n_layers, width), dtype=like.dtype, device=like.device
            )
            torch.mul(padded_products, policy, out=by_products[:2])
        if any(alpha_rows):
            # d(w m) = m dw + w dm; each use of the weights goes through the
            # softmax on its own (the rounding of separate softmax nodes), as
            # the halves of one tensor when both have a gradient, then the
            # two are added
            uses = [padded_weights] if padded_weights is not None else []
            if by_products is not None:
                uses.append(by_products[0])
            if len(uses) == 1:
                grad_alpha = torch._softmax_backward_data(
                    uses[0], weights, 1, weights.dtype
                ).div_(temperature)
            else:
                both = torch.empty_like(policy)
                for use, out in zip(uses, _halves(both)):
                    torch.ops.aten._softmax_backward_data.out(
                        use, weights, 1, weights.dtype, grad_input=out
                    )
                grad_alpha = torch.add(*_halves(both.div_(temperature)))
        grads_alpha = [
            _row(grad_alpha, layer, size) if row else None
            for layer, (row, size) in enumerate(zip(alpha_rows, sizes))
        ]
        no_grads = [None] * len(grad_ops)
        if not want_raws:
            return (None, None, None, None, None, *grads_alpha, *no_grads)
        # each path is blocked where a descent step (-grad) moves its
        # magnitude further out, as with one unit_interval per use (in place:
        # every tensor blocked here is made here)
        if through_logits is not None and ctx.logit_scales is not None:
            through_logits = through_logits * ctx.logit_scales
        if through_logits is not None:  # each op value's gradient, then the map
            through_logits = torch.ops.aten.logit_backward(
                through_logits, op_values, LOGIT_EPS
            )
            grad = through_logits if grad is None else grad.add_(through_logits)
        if grad is not None and by_products is not None and spans is not None:
            # the two paths as the halves of one tensor: each blocked by the
            # same element-wise operators, one of each kind for both
            torch.mul(grad, spans, out=by_products[2])
            both = by_products[1:]
            both = both.masked_fill_(inward * both > zero, 0)
            grad = torch.add(*_halves(both))
        else:
            if grad is not None:
                if spans is not None:
                    grad = grad * spans
                grad = grad.masked_fill_(inward * grad > zero, 0)
            if by_products is not None:
                products_raw = by_products[1]
                products_raw = products_raw.masked_fill_(
                    inward * products_raw > zero, 0
                )
                grad = products_raw if grad is None else grad.add_(products_raw)
        elements = _elements(grad.view(-1), _positions(sizes, width))
        grads_raw, start = [], 0
        for row, size in zip(raw_rows, sizes):
            part = elements[start : start + size]
            grads_raw.extend(part if row else [None] * size)
            start += size
        return (None, None, None, None, None, *grads_alpha, *grads_raw)


def _gathered_pieces(grads, sizes, width, zero):
    """0-d gradients (``None``: zero) as the pieces of the padded matrix, or
    ``None`` when all are ``None``."""
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
    return views


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
    offset = matrix.storage_offset() + row * stride[0]
    return matrix.as_strided((size,), (stride[1],), offset)


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


def gather_rows(X, index, sizes, inverse=None):
    """``X.index_select(0, index).split(sizes)``: the examples of ``X``
    regrouped (e.g. by candidate, see
    :func:`~braindecode_augnet.layers.apply_grouped`), with a backward pass
    that puts the pieces' gradients back in one operator after their
    concatenation (autograd's zeros, then an ``index_add``, make two).

    Parameters
    ----------
    X : torch.Tensor
        ``(rows, ...)``.
    index : torch.Tensor
        ``(rows,)`` permutation.
    sizes : sequence of int
        Rows of each piece.
    inverse : torch.Tensor | None
        The inverse permutation of ``index`` when the caller holds it (on
        CPU the backward pass then reads rows through it, faster there than
        a write, see :func:`scatter_rows`); ``None``: the backward pass
        writes the rows at ``index``.

    Returns
    -------
    tuple of torch.Tensor
        Differentiable with respect to ``X``.

    Examples
    --------
    >>> import torch
    >>> gather_rows(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2, 0, 1]), [1, 2])
    (tensor([3.]), tensor([1., 2.]))
    """
    if is_compiling():  # dynamo traces autograd's operators
        return X.index_select(0, index).split(list(sizes))
    return _GatherRows.apply(X, index, inverse, tuple(sizes))


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, index, inverse, sizes):
        ctx.save_for_backward(index, inverse)
        ctx.sizes, ctx.row_shape = sizes, X.shape[1:]
        return X.index_select(0, index).split(list(sizes))

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        index, inverse = ctx.saved_tensors
        like = next(g for g in grads if g is not None)
        grads = [
            g if g is not None else _zero_rows(size, ctx.row_shape, like)
            for g, size in zip(grads, ctx.sizes)
        ]
        rows = torch.cat(grads) if len(grads) > 1 else grads[0]
        if inverse is not None:
            return rows.index_select(0, inverse), None, None, None
        return torch.empty_like(rows).index_copy_(0, index, rows), None, None, None


def _zero_rows(n_rows, row_shape, like):
    """The gradient of a piece that got none: nothing to fill when empty."""
    if n_rows == 0:
        return torch.empty(0, *row_shape, dtype=like.dtype, device=like.device)
    return torch.zeros(n_rows, *row_shape, dtype=like.dtype, device=like.device)


def inverse_permutation(index):
    """``inverse[index[i]] = i``: the permutation that undoes ``index``.

    Examples
    --------
    >>> import torch
    >>> inverse_permutation(torch.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    positions = arange(len(index), index.device)
    return torch.empty_like(index).scatter_(0, index, positions)


def scatter_rows(pieces, index, inverse=None):
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
    inverse : torch.Tensor | None
        Its inverse (:func:`inverse_permutation`) when the caller holds it;
        ``None``: made here on CPU.

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
    return _ScatterRows.apply(index, inverse, *pieces)


class _ScatterRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, index, inverse, *pieces):
        rows = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
        ctx.save_for_backward(index)
        ctx.sizes = [len(piece) for piece in pieces]
        if inverse is None and rows.device.type != "cpu":
            # one write: launches are the cost
            return torch.empty_like(rows).index_copy_(0, index, rows)
        # on CPU, a read of whole rows is faster than a write
        if inverse is None:
            inverse = inverse_permutation(index)
        return rows.index_select(0, inverse)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return (None, None, *grad.index_select(0, index).split(ctx.sizes))


#: the smallest weight that the sampled mode's gates divide by
CHOICE_FLOOR = 1e-3


def choice_gate(X, out, weights, choice, floor=None):
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
    floor : torch.Tensor | None
        ``weights`` floored at 1e-3 (without a gradient) when the caller
        computed them (:func:`layers_policy`'s ``floors``, for all the
        layers at once); ``None``: computed here in the backward pass.

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
    return _ChoiceGate.apply(weights, X, out, choice, floor)


class _ChoiceGate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weights, X, out, choice, floor):
        ctx.save_for_backward(weights, X, out, choice, floor)
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        grad_weights = None
        if ctx.needs_input_grad[0]:
            weights, X, out, choice, floor = ctx.saved_tensors
            moved = torch.sub(out, X).mul_(grad)
            dots = moved.sum(dim=tuple(range(1, moved.ndim)))
            sums = torch.zeros_like(weights).index_add_(0, choice, dots)
            if floor is None:
                floor = weights.detach().clamp_min(scalar(CHOICE_FLOOR, weights))
            grad_weights = sums / floor
        return grad_weights, None, grad, None, None
