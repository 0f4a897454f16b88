"""Time-domain transforms: reversal, sign flip, noise, masking, scaling."""

import warnings

import torch

from .. import functional as F
from ..base import DifferentiableTransform, Involution
from ._relaxed import relaxed_draw

__all__ = [
    "AmplitudeScale",
    "GaussianNoise",
    "SignFlip",
    "SmoothTimeMask",
    "TimeReverse",
]


class TimeReverse(Involution):
    """Reverse each signal in time, with a learned probability in [0, 0.5].

    Parameters
    ----------
    probability : float
        Initial probability of reversing an example, in [0, 0.5] (learned:
        see :class:`~braindecode_augnet.base.Involution`).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.

    References
    ----------
    .. [1] Rommel, C., Paillard, J., Moreau, T., & Gramfort, A. (2022). Data
       augmentation for learning predictive models on EEG: a systematic
       comparison. Journal of Neural Engineering, 19(6), 066020.

    Examples
    --------
    >>> import torch
    >>> tr = TimeReverse(probability=0.5, random_state=0)
    >>> out = tr(torch.randn(8, 2, 100))
    >>> out.shape, round(tr.probability.item(), 2)
    (torch.Size([8, 2, 100]), 0.5)
    """

    takes_logit_over_temperature = True

    def apply_transform(self, X, params):
        return F.time_reverse(X)

    def _draw_gate(self, X, params):
        return relaxed_draw(self, X, params, params["apply"].view(-1, 1, 1), 2)

    def _gated(self, X, gate, params):
        return F.gated_involution(X, gate, F.time_reverse)


class SignFlip(Involution):
    """Flip the sign of each signal, with a learned probability in [0, 0.5].

    Parameters
    ----------
    probability : float
        Initial probability of flipping an example, in [0, 0.5] (learned:
        see :class:`~braindecode_augnet.base.Involution`).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.

    References
    ----------
    .. [1] Rommel, C., Paillard, J., Moreau, T., & Gramfort, A. (2022). Data
       augmentation for learning predictive models on EEG: a systematic
       comparison. Journal of Neural Engineering, 19(6), 066020.

    Examples
    --------
    The learned probability is half the magnitude, on [0, 0.5]:

    >>> import torch
    >>> tr = SignFlip(probability=0.25, random_state=0)
    >>> round(tr.probability.item(), 2), round(tr.magnitude.item(), 2)
    (0.25, 0.5)
    >>> X = torch.randn(4, 2, 100)
    >>> torch.equal(tr.apply_transform(X, tr.sample_params(X)), -X)  # the op
    True

    Probability 1 is refused: every example would then be flipped, at
    training and at test time alike, which gives no invariance.

    >>> SignFlip(probability=1.0)
    Traceback (most recent call last):
    ...
    ValueError: SignFlip learns a probability in [0, 0.5], ...
    """

    takes_logit_over_temperature = True

    def apply_transform(self, X, params):
        return F.sign_flip(X)

    def _draw_gate(self, X, params):
        return relaxed_draw(self, X, params, params["apply"].view(-1, 1, 1), 2)

    def _gated(self, X, gate, params):
        return F.gated_sign_flip(X, gate)

    def _apply_gated(self, X, params):
        # the factors 1 - 2 d of the gates d drawn as such: one operator
        # fewer in each pass than the gates mapped onto them
        uniform = params["apply"].view(-1, 1, 1)
        factors = relaxed_draw(self, X, params, uniform, 2, output="sign")
        return F.gated_sign_flip(X, factors, factors=True)


class GaussianNoise(DifferentiableTransform):
    """Add white Gaussian noise whose standard deviation is learned.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Noise standard deviations that magnitudes 0 and 1 map onto.
        Defaults to (0, 0.2), in the units of ``X`` (braindecode's
        convention), or in units of each channel's standard deviation when
        ``relative=True``.
    relative : bool
        Scale the noise by each example's per-channel standard deviation
        (detached), so that the learned value is a noise-to-signal ratio that
        means the same whatever the units of ``X`` (volts, microvolts,
        z-scores). Default False, as braindecode's transform.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Wang, F., Zhong, S. H., Peng, J., Jiang, J., & Liu, Y. (2018). Data
       augmentation for EEG-based emotion recognition with deep convolutional
       neural networks. MultiMedia Modeling, 82-93.

    Examples
    --------
    With ``relative=True`` the learned standard deviation is a fraction of
    each channel's, whatever the units of ``X``:

    >>> import torch
    >>> tr = GaussianNoise(magnitude=0.5, relative=True, random_state=0)
    >>> round(tr.op_value.item(), 3)  # 0.5 of the way through (0, 0.2)
    0.1
    >>> X = 1e-5 * torch.randn(64, 2, 1000)  # e.g. volts
    >>> noise = tr(X) - X
    >>> round((noise.std() / X.std()).item(), 1)
    0.1
    """

    def __init__(
        self,
        probability=1.0,
        magnitude=0.5,
        mag_range=(0.0, 0.2),
        relative=False,
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self.relative = bool(relative)

    def _sample_op_params(self, X):
        return {"noise": self._normal(X.shape, X)}

    def apply_transform(self, X, params):
        noise = params["noise"]
        if self.relative:
            noise = noise * X.detach().std(dim=-1, keepdim=True)
        return F.gaussian_noise(X, self._op(X, params), noise)


class SmoothTimeMask(DifferentiableTransform):
    """Smoothly zero a window whose length is learned.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Mask lengths in samples that magnitudes 0 and 1 map onto.
        Defaults to (0, 100). A mask longer than the window is clamped to
        the whole window: on windows shorter than ``mag_range[1]`` samples
        every magnitude mapped beyond the window does the same thing, and a
        ``UserWarning`` says so once per window length (pass
        ``mag_range=(0, n_times)``, or less). :attr:`op_value` and
        :attr:`at_cap` then report the clamped mask.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Mohsenvand, M. N., Izadi, M. R., & Maes, P. (2020). Contrastive
       representation learning for electroencephalogram classification.
       Machine Learning for Health, 238-253.

    Examples
    --------
    >>> import torch
    >>> tr = SmoothTimeMask(magnitude=0.25, random_state=0)
    >>> round(tr.op_value.item())  # mask length in samples
    25
    >>> out = tr(torch.ones(2, 1, 300))
    >>> bool((out < 0.5).sum(dim=-1).eq(25).all())  # 25 samples masked
    True

    On windows shorter than the range, the mask is the whole window:

    >>> import warnings
    >>> tr = SmoothTimeMask(magnitude=0.8, random_state=0)  # 80 samples
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = tr(torch.ones(2, 1, 60))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    SmoothTimeMask: mag_range=(0, 100) samples goes beyond the 60-sample ...
    >>> round(tr.op_value.item()), tr.at_cap  # the mask applied: 60 samples
    (60, True)
    """

    def __init__(
        self, probability=1.0, magnitude=0.5, mag_range=(0.0, 100.0), random_state=None
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self._window = None  # the window length that clamps the mask, if any

    def _uniform_shapes(self, X):
        return {"start": (X.shape[0],)}

    def apply_transform(self, X, params):
        length = self._op(X, params)
        if self.mag_range[1] > X.shape[-1]:  # else the clamp is the identity
            if not F.is_compiling():  # no Python state in a traced graph
                self._note_short_window(X.shape[-1])
            length = torch.clamp(length, max=F.scalar(X.shape[-1], length))
        elif getattr(self, "_window", None) is not None and not F.is_compiling():
            self._window = None  # windows that hold the range again
        return F.smooth_time_mask_at(X, params["start"], length)

    def _note_short_window(self, n_times):
        """Remember the window that clamps the mask (for :attr:`op_value` and
        :attr:`at_cap`), and warn once per window length."""
        self._window = n_times
        warned = self.__dict__.setdefault("_warned_windows", set())
        if n_times in warned:
            return
        warned.add(n_times)
        low, high = self.mag_range
        warnings.warn(
            f"SmoothTimeMask: mag_range=({low:g}, {high:g}) samples goes beyond "
            f"the {n_times}-sample windows of X: masks longer than the window "
            "are clamped to the whole window, so every magnitude above "
            f"{max(n_times - low, 0) / (high - low):.2f} masks the same and learns "
            "nothing. Pass a range that fits the windows, e.g. "
            f"SmoothTimeMask(mag_range=(0, {n_times})) or less.",
            UserWarning,
            stacklevel=2,
        )

    @property
    def op_value(self):
        """The learned mask length in samples, clamped to the window once a
        window shorter than ``mag_range[1]`` was seen (the mask applied)."""
        value = super().op_value
        window = getattr(self, "_window", None)
        if window is None:
            return value
        return torch.clamp(value, max=float(window))

    @property
    def at_cap(self):
        """As for every transform, or, on windows shorter than
        ``mag_range[1]``, whether the mask reaches the whole window (within
        1%): the value reported is then the window's length, not a learned
        value."""
        window = getattr(self, "_window", None)
        if window is None:
            return super().at_cap
        unclamped = self.magnitude_to_op(self.magnitude.detach())
        return bool(unclamped >= 0.99 * window)


class AmplitudeScale(DifferentiableTransform):
    """Scale each channel by ``2 ** v``, ``v`` uniform in ``[-max, max]``.

    ``max`` is learned (``magnitude`` mapped onto ``mag_range``); the default
    range (0, 1) reaches braindecode's default interval (0.5, 2) at magnitude
    1, drawn log-uniformly so that shrinking and growing are equally likely.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Maximal base-2 log scale factors that magnitudes 0 and 1 map onto.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Mohsenvand, M. N., Izadi, M. R., & Maes, P. (2020). Contrastive
       representation learning for electroencephalogram classification.
       Machine Learning for Health, 238-253.

    Examples
    --------
    >>> import torch
    >>> tr = AmplitudeScale(magnitude=1.0, random_state=0)
    >>> tr.op_value.item(), tr.at_cap  # scales within [1/2, 2], at the cap
    (1.0, True)
    >>> scale = tr(torch.ones(8, 2, 10))[..., 0]
    >>> bool(((scale >= 0.5) & (scale <= 2.0)).all())
    True
    """

    #: 2 ** 127 is the largest power of 2 in float32 (the augmentation's dtype)
    op_limit = 127.0
    op_limit_reason = (
        "the largest base-2 log scale that float32 holds (2 ** 128 is infinite)"
    )

    def __init__(
        self, probability=1.0, magnitude=0.5, mag_range=(0.0, 1.0), random_state=None
    ):
        super().__init__(probability, magnitude, mag_range, random_state)

    def _uniform_shapes(self, X):
        return {"u": X.shape[:2]}

    def apply_transform(self, X, params):
        log2_scale = F.symmetric_range(params["u"], self._op(X, params, 1))
        return F.amplitude_scale(X, log2_scale)
