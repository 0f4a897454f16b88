"""Differentiable EEG transforms with learnable magnitudes.

Counterparts of :mod:`braindecode.augmentation` transforms, with the same
class names and the same operations (``AmplitudeScale`` draws its scales
log-uniformly, braindecode's uniformly; the sensor rotations are exactly the
identity at 0 degrees), whose strength is learned. The
constructors differ: braindecode's op arguments (``std``, ``max_delta_freq``,
``mask_len_samples``, ``phase_noise_magnitude``, ``p_drop``, ``p_shuffle``,
``interval``, ``max_degrees``) are not accepted, so swapping the import is not
enough. Each transform takes ``probability``, ``magnitude`` (initial value in
[0, 1]), ``mag_range`` (the op-parameter range that magnitudes 0..1 map onto;
defaults from Rommel et al., NeurIPS 2022) and ``random_state``, plus the op's
own arguments (:ref:`a table <from_braindecode>` maps each braindecode
argument onto its equivalent here). Involutions (``TimeReverse``, ``SignFlip``,
``ChannelsSymmetry``) learn their probability on [0, 0.5] instead (see
:class:`~braindecode_augnet.base.Involution`): ``TimeReverse(probability=0.8)``
is refused. The transforms take batches ``(batch, channels, times)`` only: a
single example ``(channels, times)`` needs a batch dimension (``X[None]``).

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
