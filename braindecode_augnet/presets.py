"""Ready-made augmentation layers."""

from . import transforms as T
from ._random import seed_stream
from ._validation import check_int
from .channels import check_ch_names
from .layers import AugmentationModule

__all__ = ["eeg_augmentation", "sinusoid_augmentation"]


def _time_frequency_layer(sfreq, magnitude, seeds):
    return [
        T.TimeReverse(probability=magnitude / 2, random_state=next(seeds)),
        T.GaussianNoise(magnitude=magnitude, random_state=next(seeds)),
        T.SmoothTimeMask(magnitude=magnitude, random_state=next(seeds)),
        T.FTSurrogate(magnitude=magnitude, random_state=next(seeds)),
        T.FrequencyShift(sfreq=sfreq, magnitude=magnitude, random_state=next(seeds)),
    ]


def eeg_augmentation(
    sfreq,
    ch_names=None,
    n_chans=None,
    magnitude=0.1,
    temperature=0.05,
    sampling="mixture",
    random_state=None,
):
    """The paper's EEG preset: a spatial layer then two time-frequency layers.

    Spatial layer: ``SignFlip``, ``ChannelsSymmetry`` (only when the channel
    names have left/right pairs), ``ChannelsDropout`` and ``ChannelsShuffle``
    (only with several channels). ``ChannelsDropout`` drops at most half the
    channels here (``mag_range=(0, 0.5)``): at proportion 1 every input is
    zero, the data term sees nothing and cannot pull the magnitude back, and
    the policy collapses (observed on synthetic sleep data).
    Time-frequency layers: ``TimeReverse``, ``GaussianNoise``,
    ``SmoothTimeMask``, ``FTSurrogate``, ``FrequencyShift``.

    Parameters
    ----------
    sfreq : float
        Sampling frequency of the data in Hz.
    ch_names : str | list of str | None
        Channel names in the order of the data (10-20 names enable
        ``ChannelsSymmetry``), each once; a str is one channel's name.
    n_chans : int | None
        Number of channels (an integer >= 1), when ``ch_names`` is not
        known; with ``ch_names``, it must be their number.
    magnitude : float
        Initial magnitude of every transform (involutions start at
        probability ``magnitude / 2``); 0.1 as the authors' MASS script.
    temperature : float
        Softmax temperature of the layers' weights.
    sampling : {'mixture', 'sampled'}
        Training mode of the layers (see :class:`~.AugmentationLayer`).
    random_state : int | None
        Seed of the transforms' draws.

    Returns
    -------
    AugmentationModule

    Raises
    ------
    ValueError
        If ``sfreq`` is None, ``ch_names`` is empty, names a channel twice or
        is not a list of names, ``n_chans`` is not an integer >= 1, or
        ``n_chans`` is not the number of ``ch_names``.
    """
    if sfreq is None:
        raise ValueError(
            "The 'eeg' augmentation preset needs the sampling frequency: pass "
            "module__sfreq=... (or fit on mne.Epochs / a windows dataset)."
        )
    if n_chans is not None:
        n_chans = check_int(n_chans, "n_chans", low=1)
    if ch_names is not None:
        ch_names = check_ch_names(ch_names, "ch_names", one_str=True)
        if n_chans is not None and n_chans != len(ch_names):
            raise ValueError(
                f"n_chans={n_chans} contradicts the {len(ch_names)} ch_names "
                f"{ch_names}: pass n_chans={len(ch_names)}, or leave it None "
                "when ch_names is given."
            )
        n_chans = len(ch_names)
    seeds = seed_stream(random_state)
    spatial = [T.SignFlip(probability=magnitude / 2, random_state=next(seeds))]
    if ch_names is not None:
        symmetry = T.ChannelsSymmetry(
            probability=magnitude / 2,
            ordered_ch_names=ch_names,
            on_missing="ignore",
            random_state=next(seeds),
        )
        if symmetry.permutation != list(range(len(ch_names))):
            spatial.append(symmetry)
    if n_chans is None or n_chans > 1:
        spatial.append(
            T.ChannelsDropout(
                magnitude=magnitude, mag_range=(0.0, 0.5), random_state=next(seeds)
            )
        )
        spatial.append(T.ChannelsShuffle(magnitude=magnitude, random_state=next(seeds)))
    layers = [spatial] + [
        _time_frequency_layer(sfreq, magnitude, seeds) for _ in range(2)
    ]
    return AugmentationModule(layers, temperature, sampling, next(seeds))


def sinusoid_augmentation(
    sfreq=100.0, magnitude=0.5, temperature=0.05, sampling="mixture", random_state=None
):
    """The single layer of the paper's sinusoid experiment.

    ``FrequencyShift`` (max shift 0-2 Hz), ``FTSurrogate`` (phase noise
    0-0.1) and ``GaussianNoise`` (std 0-0.1).

    Parameters
    ----------
    sfreq : float
        Sampling frequency in Hz.
    magnitude : float
        Initial magnitude of the three transforms.
    temperature : float
        Softmax temperature of the layer's weights.
    sampling : {'mixture', 'sampled'}
        Training mode of the layer.
    random_state : int | None
        Seed of the transforms' draws.

    Returns
    -------
    AugmentationModule
    """
    seeds = seed_stream(random_state)
    layer = [
        T.FrequencyShift(
            sfreq=sfreq,
            magnitude=magnitude,
            mag_range=(0.0, 2.0),
            random_state=next(seeds),
        ),
        T.FTSurrogate(
            magnitude=magnitude, mag_range=(0.0, 0.1), random_state=next(seeds)
        ),
        T.GaussianNoise(
            magnitude=magnitude, mag_range=(0.0, 0.1), random_state=next(seeds)
        ),
    ]
    return AugmentationModule([layer], temperature, sampling, next(seeds))
