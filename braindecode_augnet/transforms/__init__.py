"""Differentiable EEG transforms with learnable magnitudes.

Drop-in counterparts of :mod:`braindecode.augmentation` transforms, with the
same class names: swapping the import is enough. Each one takes
``probability``, ``magnitude`` (initial value in [0, 1]), ``mag_range`` (the
op-parameter range that magnitudes 0..1 map onto; defaults from Rommel et al.,
NeurIPS 2022) and ``random_state``, plus the op's own arguments. Involutions
(``TimeReverse``, ``SignFlip``, ``ChannelsSymmetry``) learn their probability
on [0, 0.5] instead (see :class:`~braindecode_augnet.base.Involution`).

Grouped by family, as in kornia: :mod:`.temporal` (time domain),
:mod:`.spectral` (frequency domain) and :mod:`.spatial` (channels and
sensors).
"""

from .spatial import (
    ChannelsDropout,
    ChannelsShuffle,
    ChannelsSymmetry,
    SensorsRotation,
    SensorsXRotation,
    SensorsYRotation,
    SensorsZRotation,
)
from .spectral import FrequencyShift, FTSurrogate
from .temporal import (
    AmplitudeScale,
    GaussianNoise,
    SignFlip,
    SmoothTimeMask,
    TimeReverse,
)

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
]
