"""Differentiable EEG transforms with learnable magnitudes.

Drop-in counterparts of :mod:`braindecode.augmentation` transforms, with the
same class names: swapping the import is enough. Each one takes
``probability``, ``magnitude`` (initial value in [0, 1]), ``mag_range`` (the
op-parameter range that magnitudes 0..1 map onto; defaults from Rommel et al.,
NeurIPS 2022) and ``random_state``, plus the op's own arguments.
"""

import re

import mne
import numpy as np
import torch

from . import functional as F
from .base import DifferentiableTransform

__all__ = [
    "AmplitudeScale",
    "ChannelsDropout",
    "ChannelsShuffle",
    "ChannelsSymmetry",
    "FTSurrogate",
    "FrequencyShift",
    "GaussianNoise",
    "SensorsRotation",
    "SensorsXRotation",
    "SensorsYRotation",
    "SensorsZRotation",
    "SignFlip",
    "SmoothTimeMask",
    "TimeReverse",
    "hemisphere_symmetric_permutation",
    "standard_positions",
]


def _check_sfreq(sfreq):
    if sfreq is None:
        raise ValueError("sfreq is required: pass the sampling frequency in Hz.")
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError):
        raise ValueError(f"sfreq must be a positive number, got {sfreq!r}.") from None
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"sfreq must be a positive number, got {sfreq!r}.")
    return sfreq


def _check_ch_names(ordered_ch_names):
    if isinstance(ordered_ch_names, str) or not all(
        isinstance(ch, str) for ch in ordered_ch_names or []
    ):
        raise ValueError(
            "ordered_ch_names must be a list of channel names (str), got "
            f"{ordered_ch_names!r}."
        )
    names = list(ordered_ch_names)
    if not names:
        raise ValueError("ordered_ch_names is empty.")
    return names


def _check_n_channels(X, n_channels, name):
    if X.shape[1] != n_channels:
        raise ValueError(
            f"{name} was built for {n_channels} channels (ordered_ch_names) but X "
            f"has {X.shape[1]}."
        )


# --------------------------------------------------------------- time domain
class _FixedOperation(DifferentiableTransform):
    """A parameter-free operation applied with a learned probability.

    Subclasses set ``operation`` (``X -> X'``) and a docstring.
    """

    has_magnitude = False

    def __init__(self, probability=0.5, random_state=None, relaxation_temperature=0.5):
        super().__init__(
            probability=probability,
            random_state=random_state,
            relaxation_temperature=relaxation_temperature,
        )

    def _transform(self, X, params):
        return self.operation(X)


class TimeReverse(_FixedOperation):
    """Reverse each signal in time, with a learned probability.

    Parameters
    ----------
    probability : float
        Initial probability of reversing an example (learned through a
        straight-through relaxed Bernoulli draw).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    operation = staticmethod(F.time_reverse)


class SignFlip(_FixedOperation):
    """Flip the sign of each signal, with a learned probability.

    Parameters
    ----------
    probability : float
        Initial probability of flipping an example (learned through a
        straight-through relaxed Bernoulli draw).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    operation = staticmethod(F.sign_flip)


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
        Defaults to (0, 0.2).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    """

    operation = staticmethod(F.gaussian_noise)

    def __init__(
        self, probability=1.0, magnitude=0.1, mag_range=(0.0, 0.2), random_state=None
    ):
        super().__init__(probability, magnitude, mag_range, random_state)

    def _sample_op_params(self, X):
        return {"noise": self._normal(X.shape, X)}

    def _transform(self, X, params):
        return F.gaussian_noise(X, self._op(X, params), params["noise"])


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
        Defaults to (0, 100).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    """

    operation = staticmethod(F.smooth_time_mask)

    def __init__(
        self, probability=1.0, magnitude=0.1, mag_range=(0.0, 100.0), random_state=None
    ):
        super().__init__(probability, magnitude, mag_range, random_state)

    def _sample_op_params(self, X):
        return {"start": self._uniform((X.shape[0],), X)}

    def _transform(self, X, params):
        length = self._op(X, params).clamp(max=X.shape[-1])
        start = params["start"] * (X.shape[-1] - length)
        return F.smooth_time_mask(X, start, length)


# ---------------------------------------------------------- frequency domain
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
    """

    operation = staticmethod(F.frequency_shift)

    def __init__(
        self,
        probability=1.0,
        sfreq=None,
        magnitude=0.1,
        mag_range=(0.0, 5.0),
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self.sfreq = _check_sfreq(sfreq)

    def _sample_op_params(self, X):
        return {"u": self._uniform((X.shape[0],), X)}

    def _transform(self, X, params):
        delta = (2 * params["u"] - 1) * self._op(X, params)
        return F.frequency_shift(X, delta, self.sfreq)


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
    """

    operation = staticmethod(F.ft_surrogate)

    def __init__(
        self,
        probability=1.0,
        magnitude=0.1,
        mag_range=(0.0, 1.0),
        channel_indep=False,
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        self.channel_indep = bool(channel_indep)

    def _sample_op_params(self, X):
        n_channels = X.shape[1] if self.channel_indep else 1
        shape = (X.shape[0], n_channels, X.shape[-1] // 2 + 1)
        return {"u": self._uniform(shape, X)}

    def _transform(self, X, params):
        return F.ft_surrogate(X, self._op(X, params, 2), params["u"])


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
    """

    operation = staticmethod(F.amplitude_scale)

    def __init__(
        self, probability=1.0, magnitude=0.1, mag_range=(0.0, 1.0), random_state=None
    ):
        super().__init__(probability, magnitude, mag_range, random_state)

    def _sample_op_params(self, X):
        return {"u": self._uniform(X.shape[:2], X)}

    def _transform(self, X, params):
        return F.amplitude_scale(X, (2 * params["u"] - 1) * self._op(X, params, 1))


# ------------------------------------------------------------------- spatial
class _ChannelProportion(DifferentiableTransform):
    """A transform whose op parameter is a proportion of channels."""

    def __init__(
        self,
        probability=1.0,
        magnitude=0.1,
        mag_range=(0.0, 1.0),
        random_state=None,
        relaxation_temperature=0.5,
    ):
        _check_probability_range(mag_range)
        super().__init__(
            probability, magnitude, mag_range, random_state, relaxation_temperature
        )


class ChannelsDropout(_ChannelProportion):
    """Zero each channel with a learned probability ``p_drop``.

    Channel masks are straight-through relaxed Bernoulli draws: the forward
    pass drops channels for real, and every draw passes a gradient to
    ``p_drop`` (braindecode's steep sigmoid passes one only when a draw falls
    within about 0.01 of the threshold).

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Dropout probabilities that magnitudes 0 and 1 map onto.
        Defaults to (0, 1).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    operation = staticmethod(F.channels_dropout)

    def _sample_op_params(self, X):
        return {"u": self._uniform(X.shape[:2], X)}

    def _transform(self, X, params):
        drop = F.hard_relaxed_bernoulli(
            self._op(X, params, 1), params["u"], self.relaxation_temperature
        )
        return F.channels_dropout(X, drop)


class ChannelsShuffle(_ChannelProportion):
    """Shuffle a learned proportion of the channels of each example.

    Each channel is selected with probability ``p_shuffle`` and the selected
    channels are permuted among themselves (vectorised, no loop over
    examples). The proportion gets a straight-through relaxed-Bernoulli
    gradient (see :func:`braindecode_augnet.functional.channels_shuffle`).

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Shuffle proportions that magnitudes 0 and 1 map onto.
        Defaults to (0, 1).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    operation = staticmethod(F.channels_shuffle)

    def _sample_op_params(self, X):
        n_batch, n_channels = X.shape[:2]
        keys = self._uniform((n_batch, n_channels), X)
        offset = torch.floor(self._uniform((n_batch, 1), X) * (n_channels - 1)) + 1
        index = torch.arange(n_channels, device=X.device)
        partners = (index + offset.long()) % max(n_channels, 1)
        return {
            "u": self._uniform((n_batch, n_channels), X),
            "keys": keys,
            "partners": partners,
        }

    def _transform(self, X, params):
        shuffle = F.hard_relaxed_bernoulli(
            self._op(X, params, 1), params["u"], self.relaxation_temperature
        )
        permutation = F.masked_channel_permutation(
            shuffle.detach() > 0.5, params["keys"]
        )
        return F.channels_shuffle(X, shuffle, permutation, params["partners"])


def _check_probability_range(mag_range):
    if mag_range is not None and max(mag_range) > 1:
        raise ValueError(
            f"mag_range holds probabilities and must lie in [0, 1], got {mag_range!r}."
        )


_DIGITS = re.compile(r"(?<=[A-Za-z])(\d+)")


def hemisphere_symmetric_permutation(ordered_ch_names, on_missing="raise"):
    """Channel permutation swapping left and right (10-20 naming).

    Odd electrode numbers are on the left, even on the right: ``C3`` swaps
    with ``C4``, ``EEG F7-CLE`` with ``EEG F8-CLE``. Midline channels (``z``)
    and names without electrode numbers stay in place.

    Parameters
    ----------
    ordered_ch_names : list of str
        Channel names in the order of the data.
    on_missing : {'raise', 'warn', 'ignore'}
        What to do when a lateral channel has no counterpart among the names.
        With 'warn' or 'ignore' it stays in place.

    Returns
    -------
    list of int
        ``permutation[i]`` is the channel that goes to position ``i``.
    """
    names = _check_ch_names(ordered_ch_names)
    if on_missing not in ("raise", "warn", "ignore"):
        raise ValueError("on_missing must be 'raise', 'warn' or 'ignore'.")

    def swap(match):
        number = int(match.group(1))
        return str(number + 1 if number % 2 else number - 1)

    permutation, missing = [], []
    for idx, name in enumerate(names):
        counterpart = _DIGITS.sub(swap, name)
        if counterpart == name:
            permutation.append(idx)
        elif counterpart in names:
            permutation.append(names.index(counterpart))
        else:
            missing.append(f"{name} (expected {counterpart})")
            permutation.append(idx)
    if missing:
        message = (
            "No symmetric counterpart among ordered_ch_names for: "
            + ", ".join(missing)
            + ". Pass on_missing='ignore' to leave such channels in place."
        )
        if on_missing == "raise":
            raise ValueError(message)
        if on_missing == "warn":
            mne.utils.warn(message)
    return permutation


class ChannelsSymmetry(DifferentiableTransform):
    """Swap left and right channels, with a learned probability.

    Parameters
    ----------
    probability : float
        Initial probability of swapping an example (learned through a
        straight-through relaxed Bernoulli draw).
    ordered_ch_names : list of str
        Channel names (10-20 nomenclature) in the order of the data.
    on_missing : {'raise', 'warn', 'ignore'}
        What to do when a lateral channel has no counterpart.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.
    """

    has_magnitude = False
    operation = staticmethod(F.channels_permute)

    def __init__(
        self,
        probability=0.5,
        ordered_ch_names=None,
        on_missing="raise",
        random_state=None,
        relaxation_temperature=0.5,
    ):
        super().__init__(
            probability=probability,
            random_state=random_state,
            relaxation_temperature=relaxation_temperature,
        )
        self.ordered_ch_names = _check_ch_names(ordered_ch_names)
        self.permutation = hemisphere_symmetric_permutation(
            self.ordered_ch_names, on_missing=on_missing
        )

    def _transform(self, X, params):
        _check_n_channels(X, len(self.permutation), type(self).__name__)
        return F.channels_permute(X, self.permutation)


def _montage_positions(montage):
    builtin = mne.channels.get_builtin_montages()
    if montage == "standard_1020" and "colin27_1020" in builtin:
        montage = "colin27_1020"  # same positions, name used from MNE 1.13 on
    positions = mne.channels.make_standard_montage(montage).get_positions()
    return positions["ch_pos"]


def _bare_electrode(name):
    """'EEG C3-CLE' -> 'C3', 'C3-A2' -> 'C3', 'Fz' -> 'Fz'."""
    name = re.sub(r"^(EEG|eeg)\s+", "", name.strip())
    return re.split(r"[-\s]", name)[0]


def standard_positions(ordered_ch_names, montage="standard_1020"):
    """3-D positions of channels in a standard montage.

    Names are matched case-insensitively, first as given then as bare
    electrode names (``'EEG C3-CLE'`` is looked up as ``'C3'``).

    Parameters
    ----------
    ordered_ch_names : list of str
        Channel names in the order of the data.
    montage : str
        Name of an MNE standard montage.

    Returns
    -------
    numpy.ndarray
        ``(n_channels, 3)`` positions.

    Raises
    ------
    ValueError
        If a channel is not in the montage.
    """
    names = _check_ch_names(ordered_ch_names)
    ch_pos = {k.lower(): v for k, v in _montage_positions(montage).items()}
    positions, unknown = [], []
    for name in names:
        pos = ch_pos.get(name.lower(), ch_pos.get(_bare_electrode(name).lower()))
        if pos is None:
            unknown.append(name)
        else:
            positions.append(pos)
    if unknown:
        raise ValueError(
            f"Channel(s) {unknown} have no position in the {montage!r} montage; "
            "sensor rotations need the 3-D position of every channel. Rename "
            "them to 10-20 names or pass sensors_positions."
        )
    return np.asarray(positions, dtype=float)


class SensorsRotation(DifferentiableTransform):
    """Interpolate the signals on sensors rotated by a learned maximal angle.

    Angles are drawn uniformly in ``[-max, max]`` degrees per example. The
    spherical-spline interpolation is vectorised over the batch (one matrix
    inverse per transform, not per example), differentiable with respect to
    the angle, and exactly the identity at 0 degrees.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    ordered_ch_names : list of str | None
        Channel names in the order of the data, looked up in ``montage``.
    axis : {'x', 'y', 'z'}
        Rotation axis.
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Maximal angles in degrees that magnitudes 0 and 1 map onto.
        Defaults to (0, 30).
    sensors_positions : array-like | None
        ``(n_channels, 3)`` positions, instead of a montage look-up.
    montage : str
        MNE standard montage used with ``ordered_ch_names``.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    """

    operation = staticmethod(F.sensors_rotation)

    def __init__(
        self,
        probability=1.0,
        ordered_ch_names=None,
        axis="z",
        magnitude=0.1,
        mag_range=(0.0, 30.0),
        sensors_positions=None,
        montage="standard_1020",
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        if axis not in ("x", "y", "z"):
            raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}.")
        self.axis = axis
        if sensors_positions is None:
            if ordered_ch_names is None:
                raise ValueError(
                    "Sensor rotations need ordered_ch_names (10-20 names) or "
                    "sensors_positions."
                )
            sensors_positions = standard_positions(ordered_ch_names, montage)
        positions = torch.as_tensor(np.asarray(sensors_positions, dtype=float))
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError(
                "sensors_positions must have shape (n_channels, 3), got "
                f"{tuple(positions.shape)}."
            )
        if not torch.isfinite(positions).all():
            raise ValueError("sensors_positions holds NaN or infinite values.")
        unit, g_from, weights = F.spherical_spline_inverse(positions)
        self.register_buffer("unit_positions", unit)
        self.register_buffer("g_from", g_from)
        self.register_buffer("spline_weights", weights)

    def _sample_op_params(self, X):
        return {"u": self._uniform((X.shape[0],), X)}

    def _transform(self, X, params):
        _check_n_channels(X, self.unit_positions.shape[0], type(self).__name__)
        angles = (2 * params["u"] - 1) * self._op(X, params)
        rotations = F.make_rotation_matrices(self.axis, angles)
        return F.sensors_rotation(
            X, rotations, self.unit_positions, self.g_from, self.spline_weights
        )


class _FixedAxisRotation(SensorsRotation):
    _axis = "z"

    def __init__(
        self,
        probability=1.0,
        ordered_ch_names=None,
        magnitude=0.1,
        mag_range=(0.0, 30.0),
        sensors_positions=None,
        montage="standard_1020",
        random_state=None,
    ):
        super().__init__(
            probability,
            ordered_ch_names,
            self._axis,
            magnitude,
            mag_range,
            sensors_positions,
            montage,
            random_state,
        )


class SensorsXRotation(_FixedAxisRotation):
    """Rotate the sensors around the x (left-right) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).
    """

    _axis = "x"


class SensorsYRotation(_FixedAxisRotation):
    """Rotate the sensors around the y (front-back) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).
    """

    _axis = "y"


class SensorsZRotation(_FixedAxisRotation):
    """Rotate the sensors around the z (vertical) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).
    """

    _axis = "z"
