"""The contract of differentiable transforms.

:class:`DifferentiableTransform` is a :class:`braindecode.augmentation.Transform`
(so also a :class:`torch.nn.Module`) whose strength is learnable. Every
transform holds one unconstrained parameter, ``raw_magnitude``; the
*magnitude* used is its projection on [0, 1] with a straight-through
gradient (:func:`unit_interval`), never a hard clamp that kills the gradient.
The magnitude maps linearly onto the op's parameter range ``mag_range``
(:meth:`DifferentiableTransform.magnitude_to_op`): a maximal frequency shift
in Hz, a noise standard deviation, a proportion of channels...

Involutions (operations that undo themselves: ``TimeReverse``, ``SignFlip``,
``ChannelsSymmetry``) have no op parameter: what they learn is the
probability of being applied, and that probability is ``magnitude / 2``
(:class:`Involution`). Invariance to an involution is largest when an example
and its transformed version are equally likely, at probability 0.5;
probabilities ``p`` and ``1 - p`` give the same invariance, and probability 1
gives none (every example, at training and test time, is transformed). With
the magnitude on [0, 0.5] the regulariser, which pushes magnitudes up, is
largest exactly where invariance is.

Sampling and applying are separate, as in kornia: :meth:`sample_params` draws
every random quantity that does not depend on the learnable parameters, with a
:class:`torch.Generator` on the input's device, :meth:`apply_transform` is the
operation itself on every example of a batch, and :meth:`augment` (the
template method) applies it to the examples drawn with the transform's
probability. Replaying a draw (``forward(X, params=params)``) gives the same
output, and the output is differentiable with respect to the parameters
through the draw (reparametrisation).
"""

import contextlib
import math
from numbers import Real

import numpy as np
import torch
from braindecode.augmentation import Transform
from torch import nn

from ._random import DeviceGenerators
from ._validation import check_positive, check_unit
from .functional import hard_relaxed_bernoulli, is_compiling, scalar

__all__ = [
    "DifferentiableTransform",
    "Involution",
    "NonFiniteFlag",
    "check_eeg_batch",
    "unit_interval",
]

_LOW_PRECISION = (torch.float16, torch.bfloat16)


class _UnitIntervalStraightThrough(torch.autograd.Function):
    """Clamp to [0, 1]; the backward pass keeps the gradient inside the range
    and, outside it, keeps it only where a descent step moves back inside."""

    @staticmethod
    def forward(ctx, raw):
        # tensor bounds: one operator (Python bounds add a cast)
        value = torch.clamp(raw, scalar(0, raw), scalar(1, raw))
        # inward: > 0 below the range, < 0 above it, 0 inside
        ctx.save_for_backward(value - raw)
        return value

    @staticmethod
    def backward(ctx, grad):
        (inward,) = ctx.saved_tensors
        # blocked where a descent step (-grad) moves further out
        zero = scalar(0, grad)
        return torch.where(inward * grad > zero, zero, grad)


def unit_interval(raw):
    """Project a raw parameter on [0, 1] without killing its gradient.

    The value is ``clamp(raw, 0, 1)``. The gradient is the identity inside
    the interval (so it is never zero there, unlike a hard clamp or a
    saturated sigmoid) and, outside, is let through only when a gradient
    descent step would bring the parameter back towards the interval. A
    magnitude can therefore sit exactly at 0 (the identity transform) and
    still leave it when the loss asks for it.

    Parameters
    ----------
    raw : torch.Tensor
        Unconstrained parameter.

    Returns
    -------
    torch.Tensor
        The parameter projected on [0, 1].

    Examples
    --------
    >>> import torch
    >>> unit_interval(torch.tensor([-0.5, 0.3, 1.7]))
    tensor([0.0000, 0.3000, 1.0000])
    """
    return _UnitIntervalStraightThrough.apply(raw)


_NON_FINITE = (
    "X contains NaN or infinite values; clean or interpolate the signals before "
    "augmenting them."
)


def check_eeg_batch(X, check_finite=True):
    """Check that ``X`` is a finite float batch ``(batch, channels, times)``.

    Parameters
    ----------
    X : torch.Tensor | numpy.ndarray
        Input batch.
    check_finite : bool
        Check the values too. Reading the answer of the check is a host
        synchronisation on an accelerator: :class:`NonFiniteFlag` defers it.

    Returns
    -------
    torch.Tensor
        ``X`` as a floating-point tensor (float32 when given an integer or
        numpy array of another type).

    Raises
    ------
    ValueError
        If ``X`` is not 3-D or holds NaN or infinite values.
    """
    X = torch.as_tensor(X)
    if not torch.is_floating_point(X):
        X = X.float()
    if X.ndim != 3:
        raise ValueError(
            "Expected X of shape (batch, channels, times), got a "
            f"{X.ndim}-D input of shape {tuple(X.shape)}. Add a batch dimension "
            "with X[None] for a single example."
        )
    # a finite sum implies finite values: the exact check runs only when the
    # sum is not finite (NaN, inf, or an overflow)
    if check_finite:
        with torch.no_grad():  # no autograd node for the check
            if not math.isfinite(X.sum().item()) and not torch.isfinite(X).all():
                raise ValueError(_NON_FINITE)
    return X


class NonFiniteFlag:
    """The finite check of :func:`check_eeg_batch`, read later.

    :meth:`record` computes on the batch's device whether it holds NaN or
    infinite values and keeps the answer there, without a host
    synchronisation; :meth:`raise_if_set` reads the answers recorded since
    its last call (one synchronisation, free where the host waits for the
    device anyway, e.g. after the loss is read) and raises the same
    ValueError as :func:`check_eeg_batch`.

    Examples
    --------
    >>> import torch
    >>> flag = NonFiniteFlag()
    >>> flag.record(torch.tensor([[[1.0, float("nan")]]]))  # no error yet
    >>> flag.raise_if_set()
    Traceback (most recent call last):
    ...
    ValueError: X contains NaN or infinite values; ...
    >>> flag.raise_if_set()  # the answer was read: nothing pending
    """

    def __init__(self):
        self._bad = None

    @property
    def pending(self):
        """Whether answers were recorded and not read yet."""
        return self._bad is not None

    def record(self, X):
        """Record, on ``X``'s device, whether ``X`` holds NaN or infinities."""
        bad = ~torch.isfinite(X).all()
        if self._bad is not None and self._bad.device != bad.device:
            self.raise_if_set()  # the device changed: read the old answer
        self._bad = bad if self._bad is None else self._bad | bad

    def raise_if_set(self):
        """Raise a ValueError if a batch recorded since the last call was not
        finite; forget the recorded answers."""
        bad, self._bad = self._bad, None
        if bad is not None and bool(bad):
            raise ValueError(_NON_FINITE)


def _check_mag_range(mag_range):
    try:
        low, high = (float(v) for v in mag_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"mag_range must be a pair (low, high) of numbers, got {mag_range!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"mag_range must be finite, got {mag_range!r}.")
    if low < 0 or high < 0:
        raise ValueError(f"mag_range must be non-negative, got {mag_range!r}.")
    if high < low:
        raise ValueError(
            f"mag_range is reversed: got (low, high) = {mag_range!r} with high < low."
        )
    return low, high


class DifferentiableTransform(Transform):
    """Base class of transforms with a learnable magnitude.

    Subclasses only wire parameters to an op: they implement
    :meth:`apply_transform` (the op on every example of a batch) and, when the
    op draws random quantities, ``_sample_op_params``. The template method
    :meth:`augment` draws which examples are augmented and mixes.

    In :meth:`apply_transform`, ``self._op(X, params, 2)`` is the op
    parameter (the magnitude mapped onto ``mag_range``) in ``X``'s dtype:
    one value (0-d) in training, and a ``(batch, 1, 1)`` tensor where the
    caller sets one magnitude per example (a ``"magnitude"`` entry of
    ``params``: a layer measuring its candidates,
    ``method='random'``). Either broadcasts against ``X``; the last argument
    is the number of singleton axes after the batch one (0 for a value per
    example of shape ``(batch,)``).

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1].
    mag_range : tuple of float
        ``(low, high)`` op-parameter values that magnitudes 0 and 1 map onto.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seeds the :class:`torch.Generator` used to draw per-example
        parameters (one generator per device). ``None`` uses torch's global
        generator, so that :func:`torch.manual_seed` controls it.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli draws (gradient estimator of
        learned probabilities and channel masks).

    Notes
    -----
    Half-precision inputs (float16, bfloat16) are augmented in float32 and
    cast back: FFTs and the spline interpolation are not available, or not
    accurate, in half precision.

    Examples
    --------
    A transform of one's own: a random offset of at most the op value per
    example, drawn in ``_sample_op_params``.

    >>> import torch
    >>> class DCOffset(DifferentiableTransform):
    ...     def _sample_op_params(self, X):
    ...         return {"u": self._uniform((X.shape[0], 1, 1), X)}
    ...
    ...     def apply_transform(self, X, params):
    ...         return X + self._op(X, params, 2) * (2 * params["u"] - 1)
    >>> X = torch.randn(4, 2, 100)
    >>> DCOffset(random_state=0)(X).shape
    torch.Size([4, 2, 100])
    >>> params = {**DCOffset().sample_params(X), "magnitude": torch.ones(4)}
    >>> DCOffset()(X, params=params).shape  # one magnitude per example
    torch.Size([4, 2, 100])
    """

    #: whether the magnitude is the probability of applying an involution
    learns_probability = False

    #: whether the op value is the probability of relaxed Bernoulli draws
    #: (:func:`~.functional.hard_relaxed_bernoulli`), whose logit a layer then
    #: computes with those of its other candidates
    relaxed_op_value = False

    #: the largest op parameter that means anything (e.g. 1 for fully random
    #: phases or all channels), or None when a wider range could be learned;
    #: a ``mag_range`` above it is refused at construction
    op_limit = None
    #: why :attr:`op_limit` is the limit, for the message that refuses a range
    op_limit_reason = ""

    def __init__(
        self,
        probability=1.0,
        magnitude=0.5,
        mag_range=(0.0, 1.0),
        random_state=None,
        relaxation_temperature=0.5,
    ):
        probability = check_unit(probability, "probability")
        magnitude = check_unit(magnitude, "magnitude")
        super().__init__(probability=probability, random_state=None)
        self.random_state = random_state
        self.relaxation_temperature = check_positive(
            relaxation_temperature, "relaxation_temperature"
        )
        self.mag_range = _check_mag_range(mag_range)
        self._check_op_limit()
        self.raw_magnitude = nn.Parameter(torch.tensor(magnitude))

    def _check_op_limit(self):
        """Refuse a ``mag_range`` whose top lies above :attr:`op_limit`.

        Magnitudes mapped above the op's limit cannot apply (phases beyond
        fully random, shifts beyond Nyquist, more than a full turn...): the
        learned value would report a range the op never reaches.
        """
        limit = self.op_limit
        if limit is None or self.mag_range is None or self.mag_range[1] <= limit:
            return
        low, high = self.mag_range
        raise ValueError(
            f"{type(self).__name__}: mag_range=({low:g}, {high:g}) goes above "
            f"{limit:g}, {self.op_limit_reason}: pass a range whose top is at "
            f"most {limit:g}, e.g. mag_range=({min(low, limit):g}, {limit:g})."
        )

    # ------------------------------------------------------------------ state
    @property
    def magnitude(self):
        """Magnitude in [0, 1] (a tensor, differentiable)."""
        return unit_interval(self.raw_magnitude)

    @property
    def probability(self):
        """Probability of augmenting an example."""
        return self._probability

    @probability.setter
    def probability(self, value):
        self._probability = check_unit(value, "probability")

    def magnitude_to_op(self, magnitude):
        """Map magnitudes in [0, 1] onto the op's parameter range.

        The one place where ``mag_range`` is read: :attr:`op_value`,
        the op itself and the per-example magnitudes of a random policy all
        go through it.
        """
        low, high = self.mag_range
        if not isinstance(magnitude, torch.Tensor):
            return low + (high - low) * magnitude
        if low == 0:  # products by tensors of the magnitude's dtype (see scalar)
            return magnitude if high == 1 else magnitude * scalar(high, magnitude)
        return magnitude * scalar(high - low, magnitude) + scalar(low, magnitude)

    @property
    def op_value(self):
        """The learned magnitude in the op's unit (e.g. Hz); ``None`` without
        a magnitude range."""
        if self.mag_range is None:
            return None
        return self.magnitude_to_op(self.magnitude)

    @property
    def at_cap(self):
        """Whether the magnitude sits at the top of its range (within 1%).

        A magnitude at its cap reports the range, not a learned value: widen
        ``mag_range`` to learn how far the invariance goes. A range that
        already reaches the op's own limit (:attr:`op_limit`, e.g. fully
        random phases) has no cap to widen: its top is a learned value.
        """
        if self.op_limit is not None and self.mag_range[1] >= self.op_limit:
            return False
        return bool(self.magnitude.detach() >= 0.99)

    def _op(self, X, params, n_trailing=0):
        """Op parameter in ``X``'s dtype for one application.

        A scalar from the learned magnitude (or the ``"op_value"`` that an
        :class:`~.AugmentationLayer` computed from it) or, when ``params``
        holds per-example ``"magnitude"`` values (a layer's calibration, a
        random policy), a ``(batch, 1, ...)`` tensor with ``n_trailing``
        singleton axes: 2 to broadcast against ``X``, 0 to combine with
        per-example draws of shape ``(batch,)``.
        """
        magnitude = params.get("magnitude")
        value = params.get("op_value") if magnitude is None else None
        if value is None:
            if magnitude is None:
                magnitude = self.magnitude
            value = self.magnitude_to_op(magnitude)
        if value.dtype != X.dtype:
            value = value.to(X.dtype)
        if value.ndim:
            shape = (-1, *([1] * n_trailing))
            # a view of any 1-D tensor (reshape adds an operator)
            value = value.view(shape) if value.ndim == 1 else value.reshape(shape)
        return value

    def _op_logit(self, X, params):
        """The logit of the op value that the caller computed, when it is the
        logit of :meth:`_op`'s value (same dtype, no per-example
        magnitudes), else ``None``."""
        logit = params.get("op_logit")
        if logit is None or "magnitude" in params or logit.dtype != X.dtype:
            return None
        return logit

    def freeze(self):
        """Stop learning: parameters no longer require gradients.

        Returns ``self`` in evaluation mode, ready to be used as a fixed
        braindecode transform (e.g. in
        :class:`braindecode.augmentation.AugmentedDataLoader`).
        """
        for param in self.parameters():
            param.requires_grad_(False)
        return self.eval()

    def extra_repr(self):
        return (
            f"probability={float(self.probability):.3g}, "
            f"magnitude={self.magnitude.item():.3f}, mag_range={self.mag_range}"
        )

    # ----------------------------------------------------------------- random
    @property
    def random_state(self):
        """Seed of the per-device generators; setting it restarts the draws."""
        return self._rng.random_state

    @random_state.setter
    def random_state(self, value):
        self._rng = DeviceGenerators(value)

    def _uniform(self, shape, X):
        """Uniform draws in [0, 1) on ``X``'s device and dtype."""
        return self._rng.uniform(shape, X)

    def _normal(self, shape, X):
        """Standard normal draws on ``X``'s device and dtype."""
        return self._rng.normal(shape, X)

    def reset_random_state(self):
        """Restart the draws from ``random_state`` (no effect when None)."""
        self._rng.reset()

    @contextlib.contextmanager
    def separate_draws(self, seed=0):
        """Draw from a generator seeded with ``seed`` inside a ``with`` block.

        The transform's own stream of draws is left where it was, so that a
        measurement (e.g. :meth:`~.AugmentationLayer.calibrate`) does not
        change the augmentations of training. Under :func:`torch.compile`,
        which cannot trace a seeded generator, an unseeded transform
        (``random_state=None``) draws from torch's default one instead.
        """
        saved = self._rng
        unseeded = is_compiling() and saved.random_state is None
        self._rng = DeviceGenerators(None if unseeded else seed)
        try:
            yield self
        finally:
            self._rng = saved

    # ----------------------------------------------------------------- params
    def sample_params(self, X):
        """Draw the random parameters of one application to ``X``.

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.

        Returns
        -------
        dict of torch.Tensor
            Always holds ``"apply"``: per-example uniform draws deciding which
            examples are augmented, plus the op's own draws. None depends on
            the learnable parameters, so the dict can be replayed with
            ``forward(X, params=params)`` or :meth:`augment`. Adding a
            ``"magnitude"`` entry of shape ``(batch,)`` replaces the learned
            magnitude by per-example values (a 0-d tensor: by one value for
            all).
        """
        shapes = self._uniform_shapes(X)
        if shapes is None or type(self)._sample_op_params is not _SAMPLE_OP_PARAMS:
            params = {"apply": self._uniform((X.shape[0],), X)}
            params.update(self._sample_op_params(X))
            return params
        # the draws of "apply" and of the op in one operator: on CPU the same
        # numbers as one draw after the other (its generator draws them in
        # order); on an accelerator, other numbers of the same distribution
        apply, *draws = self._rng.uniform_parts([(X.shape[0],), *shapes.values()], X)
        return {"apply": apply, **self._op_params(X, dict(zip(shapes, draws)))}

    def _sample_op_params(self, X):
        shapes = self._uniform_shapes(X)
        if shapes is None:
            return {}
        draws = {name: self._uniform(shape, X) for name, shape in shapes.items()}
        return self._op_params(X, draws)

    def _uniform_shapes(self, X):
        """``{name: shape}`` of the op's uniform draws, in the order drawn, for
        ops that draw nothing else (``None``: no such declaration)."""
        return None

    def _op_params(self, X, draws):
        """The op's parameters from its uniform draws (the draws by default)."""
        return draws

    def apply_transform(self, X, params):
        """The operation applied to every example of ``X``.

        Subclasses implement it; :meth:`augment` decides which examples get
        it. Public so that policies can apply a transform unconditionally
        (e.g. :class:`~braindecode_augnet.RandomPolicy`).

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.
        params : dict
            Output of :meth:`sample_params` on a batch of the same shape.

        Returns
        -------
        torch.Tensor
            The transformed batch, of ``X``'s shape.
        """
        raise NotImplementedError(_missing_apply_transform(type(self)))

    def _gate(self, X, transformed, params):
        """Keep the transformed version of the examples drawn to augment."""
        probability = self.probability
        if probability >= 1.0:
            return transformed
        mask = (params["apply"] < probability).reshape(-1, 1, 1)
        return torch.where(mask, transformed, X)

    def augment(self, X, params=None, op_value=None, op_logit=None):
        """Augment a validated batch (the template method, no input checks).

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.
        params : dict | None
            A draw of :meth:`sample_params` to replay; ``None`` draws anew.
        op_value : torch.Tensor | None
            The learned magnitude mapped onto the op's range
            (:meth:`magnitude_to_op`), 0-d, when the caller already holds it:
            an :class:`~.AugmentationLayer` projects and maps the magnitudes
            of all its candidates at once rather than each candidate its own
            (the small operators of these projections, not the arithmetic,
            make the cost of a layer on an accelerator). ``None``: from
            :attr:`magnitude`. A ``"magnitude"`` entry of ``params`` takes
            precedence.
        op_logit : torch.Tensor | None
            ``logit(op_value, eps=1e-6)``, 0-d, when the caller computed it
            (see :attr:`relaxed_op_value`); ignored without ``op_value``.

        Returns
        -------
        torch.Tensor
            The augmented batch, differentiable with respect to ``X`` and to
            the learnable magnitude.
        """
        if X.shape[0] == 0:
            return X
        if X.dtype in _LOW_PRECISION:
            return self.augment(X.float(), params, op_value, op_logit).to(X.dtype)
        if params is None:
            params = self.sample_params(X)
        if op_value is not None and "magnitude" not in params:
            params = {**params, "op_value": op_value}
            if op_logit is not None:
                params["op_logit"] = op_logit
        return self._apply_gated(X, params)

    def _apply_gated(self, X, params):
        """The op applied to the examples drawn to be augmented."""
        return self._gate(X, self.apply_transform(X, params), params)

    def _checked_augment(self, X, params=None):
        """:meth:`augment`, with what a subclass's :meth:`apply_transform`
        returned checked (a tensor of ``X``'s shape) and its failures named.

        For the standalone :meth:`forward` and the one check of a layer's
        candidates (:meth:`~.AugmentationLayer.calibrate`), not for every
        training batch (nor under :func:`torch.compile`).
        """
        if is_compiling():
            return self.augment(X, params)
        apply, named = self.apply_transform, []

        def checked(X, params):
            out = apply(X, params)
            try:
                self._check_output(X, out)
            except (TypeError, ValueError) as error:
                named.append(error)
                raise
            return out

        # checked for this call only: what the gate would broadcast is seen
        self.__dict__["apply_transform"] = checked
        failure = out = None
        try:
            out = self.augment(X, params)
        except Exception as error:
            failure = error
        finally:
            del self.__dict__["apply_transform"]
        if failure is not None:
            if not any(error is failure for error in named):
                self._explain_failure(X, params, failure)
            raise failure
        self._check_output(X, out, "augment")
        return out

    def _checked_full_range(self, X):
        """The transform at magnitude 1 for every example of ``X``, from draws
        of its own (its stream of training draws is left as it was), checked
        as :meth:`forward` checks it: the one check of a candidate by a
        layer's calibration and by the random policy's first batch."""
        full = torch.ones(X.shape[0], device=X.device)
        with torch.no_grad(), self.separate_draws():
            return self._checked_augment(
                X, {**self.sample_params(X), "magnitude": full}
            )

    def _check_output(self, X, out, method="apply_transform", cause=None):
        """Raise where ``out``, returned by ``method`` for ``X``, is not a
        tensor of ``X``'s shape."""
        name = f"{type(self).__name__}.{method}"
        if not isinstance(out, torch.Tensor):
            kind = f"{type(out).__module__}.{type(out).__name__}"
            raise TypeError(
                f"{name} returned a {kind}, not a torch.Tensor: build the "
                "transformed batch with torch operations on X, so that it stays "
                "on X's device and gradients reach the magnitude."
            ) from cause
        if out.shape != X.shape:
            raise ValueError(
                f"{name} returned shape {tuple(out.shape)} for X of shape "
                f"{tuple(X.shape)}: return the transformed batch, of X's shape."
            ) from cause

    def _explain_failure(self, X, params, error=None):
        """Raise an error naming the cause when :meth:`augment` failed (or
        returned another shape) because of :meth:`apply_transform`: an
        output that is no tensor of ``X``'s shape, or an op that takes one
        magnitude but not one per example. Returns where it finds neither
        (the caller raises its own error)."""
        if X.dtype in _LOW_PRECISION:
            X = X.float()
        with torch.no_grad(), self.separate_draws():
            drawn = self.sample_params(X) if params is None else params
            try:
                out = self.apply_transform(X, drawn)
            except Exception:
                magnitude = drawn.get("magnitude")
                if not (isinstance(magnitude, torch.Tensor) and magnitude.ndim):
                    return
                one = {key: v for key, v in drawn.items() if key != "magnitude"}
                try:
                    out = self.apply_transform(X, one)
                except Exception:
                    return
                self._check_output(X, out, cause=error)  # named first
                raise ValueError(
                    f"{type(self).__name__}.apply_transform must accept "
                    "per-example magnitudes: call self._op(X, params, 2), an op "
                    "value that broadcasts against X. Layers measure their "
                    "candidates, and method='random' applies them, at one "
                    f"magnitude per example (params['magnitude'] of shape "
                    f"({X.shape[0]},))."
                ) from error
        self._check_output(X, out, cause=error)

    def forward(self, X, y=None, params=None):
        """Augment a batch.

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.
        y : torch.Tensor | None
            Targets, returned unchanged.
        params : dict | None
            A draw of :meth:`sample_params` to replay, drawn for a batch of
            ``X``'s shape (a draw for another batch size, other channels or
            another length is refused).

        Returns
        -------
        torch.Tensor | tuple of torch.Tensor
            The augmented ``X``, or ``(X, y)`` when ``y`` is given.
        """
        X = check_eeg_batch(X)
        if params is not None:
            _check_replayed(self, params, X)
        out = self._checked_augment(X, params)
        if not bool(torch.isfinite(out).all()):  # X was checked finite
            raise ValueError(
                f"{type(self).__name__} returned NaN or infinite values for a "
                "finite X: make its op finite for every magnitude in [0, 1] and "
                "every input (e.g. no logarithm or division of values that can "
                "be 0); in training it would stop as diverged."
            )
        if y is None:
            return out
        return out, y


_SAMPLE_OP_PARAMS = DifferentiableTransform._sample_op_params


def _missing_apply_transform(cls):
    """The message for a subclass that does not implement apply_transform."""
    return (
        f"{cls.__name__} must implement apply_transform(X, params), the op on "
        "every example of X returning a batch of X's shape (is the method's "
        "name misspelt?)."
    )


def implements_apply_transform(transform):
    """Whether ``transform``'s class implements :meth:`apply_transform`."""
    apply = getattr(type(transform), "apply_transform", None)
    return apply is not DifferentiableTransform.apply_transform


def _check_replayed(transform, params, X):
    """Params to replay drawn for ``X``'s shape: their per-example draws
    would be read out of range, broadcast to other channels (the output then
    has another shape than ``X``), or fail deep in the op otherwise.

    The shapes that ``transform`` draws for ``X`` come from a draw of its
    own (its stream of draws is left as it was): replaying is no training
    step, and the check adds nothing to the layers' forward pass.
    """
    if not isinstance(params, dict):
        raise ValueError(
            "params must be the dict that sample_params(X) returns, got "
            f"{type(params).__name__}."
        )
    apply = params.get("apply")
    if apply is not None and tuple(apply.shape) != (X.shape[0],):
        raise ValueError(
            f"params were drawn for a batch of {len(apply)} examples, X holds "
            f"{X.shape[0]}: replay the params that sample_params(X) drew for "
            "this batch."
        )
    magnitude = params.get("magnitude")
    if isinstance(magnitude, torch.Tensor) and magnitude.ndim:
        if tuple(magnitude.shape) != (X.shape[0],):
            raise ValueError(
                "params['magnitude'] holds one magnitude per example, shape "
                f"({X.shape[0]},) for X of shape {tuple(X.shape)}, or one for "
                f"all (a 0-d tensor), got shape {tuple(magnitude.shape)}."
            )
    with torch.no_grad(), transform.separate_draws():
        expected = transform.sample_params(X)
    for key, value in expected.items():
        given = params.get(key)
        if not (isinstance(value, torch.Tensor) and isinstance(given, torch.Tensor)):
            continue
        if given.shape != value.shape:
            raise ValueError(
                f"params were drawn for X of another shape: params[{key!r}] has "
                f"shape {tuple(given.shape)}, where X of shape {tuple(X.shape)} "
                f"draws {tuple(value.shape)}: draw them anew with "
                "sample_params(X)."
            )


class Involution(DifferentiableTransform):
    """An operation that undoes itself, applied with a learned probability.

    The learned magnitude ``m`` is the probability of applying it, on
    [0, 0.5]: ``probability = m / 2``. Invariance to an involution ``T`` is
    largest when ``x`` and ``T(x)`` are equally likely (probability 0.5); a
    probability ``p`` gives the same invariance as ``1 - p``, and 1 gives
    none at all, since every example is then transformed at training and at
    test time alike. The regulariser, which pushes magnitudes up, therefore
    peaks where invariance does. The gradient to the probability goes
    through a straight-through relaxed Bernoulli draw per example.

    Parameters
    ----------
    probability : float
        Initial probability of applying the operation, in [0, 0.5].
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    learns_probability = True
    relaxed_op_value = True

    def __init__(self, probability=0.25, random_state=None, relaxation_temperature=0.5):
        if isinstance(probability, Real) and 0.5 < float(probability) <= 1.0:
            raise ValueError(
                f"{type(self).__name__} learns a probability in [0, 0.5], got "
                f"probability={probability!r}: applying an involution with "
                "probability p or 1 - p gives the same invariance, and 1 gives "
                "none. Use probability=0.5 for the largest invariance."
            )
        probability = check_unit(probability, "probability", high=0.5)
        super().__init__(
            probability=1.0,
            magnitude=2 * probability,
            mag_range=(0.0, 0.5),
            random_state=random_state,
            relaxation_temperature=relaxation_temperature,
        )

    @property
    def probability(self):
        """Learned probability of applying the operation (a tensor)."""
        return self.magnitude_to_op(self.magnitude)

    @probability.setter
    def probability(self, value):
        probability = check_unit(value, "probability", high=0.5)
        with torch.no_grad():
            self.raw_magnitude.fill_(2 * probability)

    @property
    def at_cap(self):
        """Always False: probability 0.5 is the largest invariance, not a cap."""
        return False

    def _draw_gate(self, X, params):
        """Per-example 0/1 gates ``(batch, 1, 1)``, straight-through relaxed
        Bernoulli draws with the learned probability."""
        uniform = params["apply"]
        return hard_relaxed_bernoulli(
            self._op(X, params, 2),
            uniform.view(-1, 1, 1),
            self.relaxation_temperature,
            self._op_logit(X, params),
        )

    def _gate(self, X, transformed, params):
        """The generic gating: ``lerp(X, transformed, gate)``."""
        return torch.lerp(X, transformed, self._draw_gate(X, params))

    def _gated(self, X, gate, params):
        """Optional fast path: ``lerp(X, apply_transform(X, params), gate)``.

        Subclasses whose op allows it return the gated batch in fewer
        full-size passes (e.g. :func:`~braindecode_augnet.functional.gated_sign_flip`),
        with the same value and gradients as the generic path; ``None`` (the
        default) falls back on :meth:`_gate`.
        """
        return None

    def _apply_gated(self, X, params):
        gate = self._draw_gate(X, params)
        out = self._gated(X, gate, params)
        if out is None:
            out = torch.lerp(X, self.apply_transform(X, params), gate)
        return out

    def extra_repr(self):
        return f"probability={self.probability.item():.3f}"
