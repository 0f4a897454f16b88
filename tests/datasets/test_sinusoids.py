"""Tests of the sinusoid toy problem (datasets/sinusoids.py)."""

import numpy as np
import pytest

from braindecode_augnet.datasets import make_sinusoids


def test_shapes_types_and_balanced_classes():
    X, y = make_sinusoids(n_per_class=5, duration=2.0, sfreq=50.0, random_state=0)
    assert X.shape == (20, 1, 100) and X.dtype == np.float32
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == [5, 5, 5, 5]


def test_seeded():
    a, _ = make_sinusoids(n_per_class=3, random_state=0)
    b, _ = make_sinusoids(n_per_class=3, random_state=0)
    c, _ = make_sinusoids(n_per_class=3, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("max_delta", [0.0, 0.5])
def test_each_signal_peaks_near_its_class_frequency(max_delta):
    freqs = (2.0, 4.0, 6.0, 8.0)
    X, y = make_sinusoids(
        n_per_class=10, freqs=freqs, max_delta=max_delta, noise=0.1, random_state=0
    )
    spectrum = np.abs(np.fft.rfft(X[:, 0], axis=-1))
    peaks = np.fft.rfftfreq(X.shape[-1], d=1 / 100.0)[spectrum.argmax(axis=-1)]
    distance = np.abs(peaks - np.asarray(freqs)[y])
    assert distance.max() <= max_delta + 0.1  # 0.1 Hz bins over 10 s
    if max_delta:
        assert distance.max() > 0.1  # the jitter the labels are invariant to


def test_noise_level():
    X, _ = make_sinusoids(n_per_class=50, freqs=(5.0,), noise=0.0, random_state=0)
    assert np.abs(X).max() <= 1.0 + 1e-6
    assert X.std() == pytest.approx(np.sqrt(0.5), rel=0.02)
    noisy, _ = make_sinusoids(n_per_class=50, freqs=(5.0,), noise=1.0, random_state=0)
    assert noisy.std() == pytest.approx(np.sqrt(1.5), rel=0.02)
