"""The contract of differentiable transforms.

:class:`DifferentiableTransform` is a :class:`braindecode.augmentation.Transform`
(so also a :class:`torch.nn.Module`) whose strength is learnable:

- transforms with a *magnitude* hold an unconstrained parameter
  ``raw_magnitude``; the magnitude used is its projection on [0, 1] with a
  straight-through gradient (:func:`unit_interval`), never a hard clamp that
  kills the gradient. The magnitude maps linearly onto the op's parameter
  range ``mag_range``. Their ``probability`` is a fixed hyper-parameter (not
  learned);
- transforms without a magnitude (``TimeReverse``, ``SignFlip``,
  ``ChannelsSymmetry``) learn their ``probability`` instead, through a
  straight-through relaxed Bernoulli draw.

Sampling and applying are separate, as in kornia: :meth:`sample_params` draws
every random quantity that does not depend on the learnable parameters, with a
:class:`torch.Generator` on the input's device, and :meth:`apply` turns a draw
into the augmented batch with the current parameters. Replaying a draw gives
the same output, and the output is differentiable with respect to the
parameters through the draw (reparametrisation).
"""

from numbers import Real

import numpy as np
import torch
from braindecode.augmentation import Transform
from torch import nn

from ._random import DeviceGenerators
from .functional import hard_relaxed_bernoulli

__all__ = ["DifferentiableTransform", "check_eeg_batch", "unit_interval"]


class _UnitIntervalStraightThrough(torch.autograd.Function):
    """Clamp to [0, 1]; the backward pass keeps the gradient inside the range
    and, outside it, keeps it only where a descent step moves back inside."""

    @staticmethod
    def forward(ctx, raw):
        ctx.save_for_backward(raw)
        return raw.clamp(0.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        (raw,) = ctx.saved_tensors
        blocked = ((raw < 0) & (grad > 0)) | ((raw > 1) & (grad < 0))
        return grad.masked_fill(blocked, 0.0)


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
    """
    return _UnitIntervalStraightThrough.apply(raw)


def check_eeg_batch(X):
    """Check that ``X`` is a finite float batch ``(batch, channels, times)``.

    Parameters
    ----------
    X : torch.Tensor | numpy.ndarray
        Input batch.

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
    if not torch.isfinite(X.sum()) and not torch.isfinite(X).all():
        raise ValueError(
            "X contains NaN or infinite values; clean or interpolate the "
            "signals before augmenting them."
        )
    return X


def _check_unit(value, name):
    if isinstance(value, torch.Tensor):
        value = value.item()
    if not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
    return float(value)


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
    """Base class of transforms with a learnable magnitude or probability.

    Subclasses set ``has_magnitude`` and implement :meth:`sample_params` and
    ``_transform``.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example. For transforms with a
        magnitude it is fixed (not learned); for transforms without one
        (``has_magnitude = False``) it is the initial value of the learned
        probability.
    magnitude : float | None
        Initial magnitude in [0, 1]; ``None`` for transforms without one.
    mag_range : tuple of float | None
        ``(low, high)`` op-parameter values that magnitudes 0 and 1 map onto.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seeds the :class:`torch.Generator` used to draw per-example
        parameters (one generator per device). ``None`` uses torch's global
        generator, so that :func:`torch.manual_seed` controls it.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli draws (gradient estimator of
        probabilities and channel masks).
    """

    has_magnitude = True

    def __init__(
        self,
        probability=1.0,
        magnitude=None,
        mag_range=None,
        random_state=None,
        relaxation_temperature=0.5,
    ):
        probability = _check_unit(probability, "probability")
        super().__init__(probability=probability, random_state=None)
        self.random_state = random_state
        self._rng = DeviceGenerators(random_state)
        if relaxation_temperature <= 0:
            raise ValueError(
                "relaxation_temperature must be positive, got "
                f"{relaxation_temperature!r}."
            )
        self.relaxation_temperature = float(relaxation_temperature)
        if self.has_magnitude:
            magnitude = _check_unit(magnitude, "magnitude")
            self.mag_range = _check_mag_range(mag_range)
            self.raw_magnitude = nn.Parameter(torch.tensor(magnitude))
        else:
            self.mag_range = None
            self.raw_probability = nn.Parameter(torch.tensor(probability))

    # ------------------------------------------------------------------ state
    @property
    def magnitude(self):
        """Magnitude in [0, 1] (a tensor), or ``None`` without one."""
        if not self.has_magnitude:
            return None
        return unit_interval(self.raw_magnitude)

    @property
    def probability(self):
        """Probability of augmenting an example (a tensor when learned)."""
        if self.has_magnitude:
            return self._probability
        return unit_interval(self.raw_probability)

    @property
    def strength(self):
        """The learned quantity: the magnitude, or the probability without."""
        return self.magnitude if self.has_magnitude else self.probability

    @property
    def op_value(self):
        """The magnitude mapped onto ``mag_range`` (the op's parameter)."""
        low, high = self.mag_range
        return low + (high - low) * self.magnitude

    def _op(self, X, params, n_trailing=0):
        """Op parameter in ``X``'s dtype for one application.

        A scalar from the learned magnitude or, when ``params`` holds
        per-example ``"magnitude"`` values (e.g. drawn by a random policy),
        a ``(batch, 1, ...)`` tensor with ``n_trailing`` singleton axes.
        """
        magnitude = params.get("magnitude")
        if magnitude is None:
            magnitude = self.magnitude
        low, high = self.mag_range
        value = (low + (high - low) * magnitude).to(X.dtype)
        if value.ndim:
            value = value.reshape(-1, *([1] * n_trailing))
        return value

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
        if self.has_magnitude:
            text = (
                f"probability={self._probability:g}, "
                f"magnitude={self.magnitude.item():.3f}, mag_range={self.mag_range}"
            )
        else:
            text = f"probability={self.probability.item():.3f}"
        return text

    # ----------------------------------------------------------------- random
    def _uniform(self, shape, X):
        """Uniform draws in [0, 1) on ``X``'s device and dtype."""
        return self._rng.uniform(shape, X)

    def _normal(self, shape, X):
        """Standard normal draws on ``X``'s device and dtype."""
        return self._rng.normal(shape, X)

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
            :meth:`apply`. Adding a ``"magnitude"`` entry of shape
            ``(batch,)`` replaces the learned magnitude by per-example values.
        """
        params = {"apply": self._uniform((X.shape[0],), X)}
        params.update(self._sample_op_params(X))
        return params

    def _sample_op_params(self, X):
        return {}

    def apply(self, X, params):
        """Augment ``X`` with a draw from :meth:`sample_params`.

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.
        params : dict
            Output of :meth:`sample_params` on a batch of the same shape.

        Returns
        -------
        torch.Tensor
            The augmented batch, differentiable with respect to ``X`` and to
            the learnable magnitude (or probability).
        """
        transformed = self._transform(X, params)
        if self.has_magnitude:
            if self._probability >= 1.0:
                return transformed
            mask = (params["apply"] < self._probability).reshape(-1, 1, 1)
            return torch.where(mask, transformed, X)
        gate = hard_relaxed_bernoulli(
            self.probability.to(X.dtype), params["apply"], self.relaxation_temperature
        ).reshape(-1, 1, 1)
        return X + gate * (transformed - X)

    def _transform(self, X, params):
        raise NotImplementedError

    def forward(self, X, y=None):
        """Augment a batch.

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``, float32 or float64.
        y : torch.Tensor | None
            Targets, returned unchanged.

        Returns
        -------
        torch.Tensor | tuple of torch.Tensor
            The augmented ``X``, or ``(X, y)`` when ``y`` is given.
        """
        X = check_eeg_batch(X)
        out = self.apply(X, self.sample_params(X))
        if y is None:
            return out
        return out, y
