"""Tests of the ready-made augmentation layers (presets.py)."""

import pytest
import torch

from braindecode_augnet import (
    AugmentationModule,
    eeg_augmentation,
    sinusoid_augmentation,
)
from braindecode_augnet import transforms as T

TIME_FREQUENCY = [
    "TimeReverse",
    "GaussianNoise",
    "SmoothTimeMask",
    "FTSurrogate",
    "FrequencyShift",
]


def names(layer):
    return [type(tr).__name__ for tr in layer.transforms]


def transforms(module):
    return [tr for layer in module.layers for tr in layer.transforms]


def test_eeg_preset_with_ten_twenty_names(ch_names):
    aug = eeg_augmentation(100.0, ch_names=ch_names, random_state=0)
    assert isinstance(aug, AugmentationModule) and len(aug.layers) == 3
    assert names(aug.layers[0]) == [
        "SignFlip",
        "ChannelsSymmetry",
        "ChannelsDropout",
        "ChannelsShuffle",
    ]
    assert names(aug.layers[1]) == names(aug.layers[2]) == TIME_FREQUENCY
    symmetry = aug.layers[0].transforms[1]
    assert symmetry.ordered_ch_names == ch_names
    assert symmetry.permutation != list(range(len(ch_names)))
    assert aug(torch.randn(4, len(ch_names), 300)).shape == (4, len(ch_names), 300)


@pytest.mark.parametrize(
    ("kwargs", "spatial"),
    [
        ({"n_chans": 2}, ["SignFlip", "ChannelsDropout", "ChannelsShuffle"]),
        ({}, ["SignFlip", "ChannelsDropout", "ChannelsShuffle"]),
        ({"n_chans": 1}, ["SignFlip"]),
        # names without left/right pairs: no symmetry to learn
        (
            {"ch_names": ["Cz", "Pz"]},
            ["SignFlip", "ChannelsDropout", "ChannelsShuffle"],
        ),
        ({"ch_names": ["Fpz-Cz"]}, ["SignFlip"]),
    ],
)
def test_eeg_preset_spatial_layer_follows_the_channels(kwargs, spatial):
    aug = eeg_augmentation(100.0, **kwargs)
    assert names(aug.layers[0]) == spatial
    assert names(aug.layers[1]) == TIME_FREQUENCY


def test_eeg_preset_settings(ch_names):
    aug = eeg_augmentation(
        250.0,
        ch_names=ch_names,
        magnitude=0.6,
        temperature=0.2,
        sampling="sampled",
    )
    for tr in transforms(aug):
        if tr.learns_probability:  # involutions start at magnitude / 2
            assert tr.probability.item() == pytest.approx(0.3)
        assert tr.magnitude.item() == pytest.approx(0.6)
    dropout = aug.layers[0].transforms[2]
    assert isinstance(dropout, T.ChannelsDropout) and dropout.mag_range == (0.0, 0.5)
    assert [tr.sfreq for tr in transforms(aug) if hasattr(tr, "sfreq")] == [250.0] * 2
    assert {layer.temperature for layer in aug.layers} == {0.2}
    assert {layer.sampling for layer in aug.layers} == {"sampled"}


def test_eeg_preset_seeds_are_independent_and_reproducible(ch_names):
    seeds = [tr.random_state for tr in transforms(eeg_augmentation(100.0, ch_names))]
    assert seeds == [None] * len(seeds)  # torch's global generator
    aug = eeg_augmentation(100.0, ch_names, random_state=0)
    seeds = [tr.random_state for tr in transforms(aug)]
    layer_seeds = [layer._rng.random_state for layer in aug.layers]
    assert all(isinstance(s, int) for s in seeds + layer_seeds)
    assert len(set(seeds + layer_seeds)) == len(seeds) + len(layer_seeds)
    again = eeg_augmentation(100.0, ch_names, random_state=0)
    assert [tr.random_state for tr in transforms(again)] == seeds
    other = eeg_augmentation(100.0, ch_names, random_state=1)
    assert [tr.random_state for tr in transforms(other)] != seeds
    # the two TimeReverse layers draw differently: they do not undo each other
    X = torch.randn(64, len(ch_names), 50)
    first, second = aug.layers[1].transforms[0], aug.layers[2].transforms[0]
    assert not torch.equal(
        first.sample_params(X)["apply"], second.sample_params(X)["apply"]
    )


def test_eeg_preset_needs_sfreq():
    with pytest.raises(ValueError, match="module__sfreq"):
        eeg_augmentation(None, n_chans=2)


@pytest.mark.parametrize("ch_names", ["O1", "Fpz-Cz", ["O1"]])
def test_eeg_preset_str_ch_names_is_one_channel(ch_names):
    # probe 3, finding 9: 'O1' was read as two channels, adding a dropout
    # that could drop the only channel; 'Fpz-Cz' failed on a repeated 'z'
    aug = eeg_augmentation(100.0, ch_names=ch_names, random_state=0)
    assert names(aug.layers[0]) == ["SignFlip"]
    assert names(eeg_augmentation(100.0, n_chans=1).layers[0]) == ["SignFlip"]


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(n_chans=-3), "n_chans must be an integer >= 1, got -3"),
        (dict(n_chans=0), "n_chans must be an integer >= 1, got 0"),
        (dict(n_chans=2.5), "n_chans must be an integer >= 1, got 2.5"),
        (dict(n_chans="2"), r"n_chans must be an integer >= 1, got '2' \(str\)"),
        (
            dict(ch_names=["C3", "C4"], n_chans=4),
            r"n_chans=4 contradicts the 2 ch_names \['C3', 'C4'\]: pass n_chans=2",
        ),
        (dict(ch_names=[]), "^ch_names is empty"),
        (dict(ch_names=["C3", "C3"]), r"^ch_names names a channel more than once"),
    ],
)
def test_eeg_preset_checks_ch_names_and_n_chans(options, match):
    with pytest.raises(ValueError, match=match):
        eeg_augmentation(100.0, **options)


def test_eeg_preset_accepts_consistent_n_chans_and_ch_names():
    aug = eeg_augmentation(100.0, ch_names=["C3", "C4"], n_chans=2, random_state=0)
    assert names(aug.layers[0]) == [
        "SignFlip",
        "ChannelsSymmetry",
        "ChannelsDropout",
        "ChannelsShuffle",
    ]


def test_sinusoid_preset():
    aug = sinusoid_augmentation(sfreq=50.0, magnitude=0.3, temperature=0.1)
    assert len(aug.layers) == 1 and aug.layers[0].temperature == 0.1
    layer = aug.layers[0]
    assert names(layer) == ["FrequencyShift", "FTSurrogate", "GaussianNoise"]
    assert [tr.mag_range for tr in layer.transforms] == [
        (0.0, 2.0),
        (0.0, 0.1),
        (0.0, 0.1),
    ]
    assert layer.transforms[0].sfreq == 50.0
    assert [tr.magnitude.item() for tr in layer.transforms] == pytest.approx([0.3] * 3)
    a = sinusoid_augmentation(random_state=3).eval()(torch.ones(2, 1, 100))
    b = sinusoid_augmentation(random_state=3).eval()(torch.ones(2, 1, 100))
    torch.testing.assert_close(a, b)
