"""Frequency-domain transforms: frequency shift and Fourier surrogates."""

import numpy as np

from .. import functional as F
from ..base import DifferentiableTransform

__all__ = ["FTSurrogate", "FrequencyShift", "check_sfreq"]


def check_sfreq(sfreq):
    """``sfreq`` as a positive float, or a ValueError saying what to pass.

    Examples
    --------
    >>> check_sfreq(100)
    100.0
    >>> check_sfreq(None)
    Traceback (most recent call last):
    ...
    ValueError: sfreq is required: pass the sampling frequency in Hz.
    """
    if sfreq is None:
        raise ValueError("sfreq is required: pass the sampling frequency in Hz.")
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError):
        raise ValueError(f"sfreq must be a positive number, got {sfreq!r}.") from None
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"sfreq must be a positive number, got {sfreq!r}.")
    return sfreq


class FrequencyShift(DifferentiableTransform):
    """Shift the spectrum by a random frequency in ``[-max, max]`` Hz.

    The maximal shift is learned: ``max = magnitude`` mapped onto
    ``mag_range``.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    sfreq : float
        Sampling frequency of the signals in Hz.
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Maximal shifts in Hz that magnitudes 0 and 1 map onto.
        Defaults to (0, 5).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Rommel, C., Moreau, T., Paillard, J., & Gramfort, A. (2022). CADDA:
       Class-wise automatic differentiable data augmentation for EEG signals.
       International Conference on Learning Representations.

    Examples
    --------
    >>> import torch
    >>> tr = FrequencyShift(sfreq=100.0, magnitude=0.2, random_state=0)
    >>> round(tr.op_value.item(), 3)  # maximal shift in Hz
    1.0
    >>> X = torch.randn(4, 2, 300)
    >>> params = tr.sample_params(X)
    >>> torch.equal(tr(X, params=params), tr(X, params=params))  # replay
    True
    """

    def __init__(
        self,
        probability=1.0,
        sfreq=None,
        magnitude=0.5,
        mag_range=(0.0, 5.0),
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self.sfreq = check_sfreq(sfreq)
        self._check_op_limit()

    @property
    def op_limit(self):
        """Nyquist frequency, ``sfreq / 2``: larger shifts alias (``None``
        before ``sfreq`` is set)."""
        sfreq = getattr(self, "sfreq", None)
        return None if sfreq is None else sfreq / 2

    op_limit_reason = "the Nyquist frequency (sfreq / 2) in Hz: larger shifts alias"

    def _uniform_shapes(self, X):
        return {"u": (X.shape[0],)}

    def apply_transform(self, X, params):
        return F.frequency_shift_symmetric(
            X, params["u"], self._op(X, params), self.sfreq
        )


class FTSurrogate(DifferentiableTransform):
    """Fourier-transform surrogate with a learned phase-noise magnitude.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Phase-noise magnitudes (fractions of 2 pi) that magnitudes 0 and 1 map
        onto. Defaults to (0, 1).
    channel_indep : bool
        Draw phases independently for each channel (braindecode's argument).
        Keep False when spatial information matters.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Schwabedal, J. T., Snyder, J. C., Cakmak, A., Nemati, S., &
       Clifford, G. D. (2018). Addressing class imbalance in classification
       problems of noisy signals by using Fourier transform surrogates.
       arXiv:1806.08675.

    Examples
    --------
    Random phases leave the amplitude spectrum of each signal unchanged:

    >>> import torch
    >>> tr = FTSurrogate(magnitude=1.0, random_state=0)
    >>> X = torch.randn(4, 2, 256, dtype=torch.float64)
    >>> spectrum = torch.fft.rfft(tr(X)).abs()
    >>> torch.allclose(spectrum, torch.fft.rfft(X).abs())
    True
    """

    op_limit = 1.0  # fully random phases
    op_limit_reason = "fully random phases (phase noise in fractions of 2 pi)"

    def __init__(
        self,
        probability=1.0,
        magnitude=0.5,
        mag_range=(0.0, 1.0),
        channel_indep=False,
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self.channel_indep = bool(channel_indep)

    def _uniform_shapes(self, X):
        n_channels = X.shape[1] if self.channel_indep else 1
        return {"u": (X.shape[0], n_channels, X.shape[-1] // 2 + 1)}

    def apply_transform(self, X, params):
        return F.ft_surrogate(X, self._op(X, params, 2), params["u"])
