"""The sinusoid toy problem of Rommel et al. (NeurIPS 2022)."""

import numpy as np

__all__ = ["make_sinusoids"]


def make_sinusoids(
    n_per_class=150,
    freqs=(2.0, 4.0, 6.0, 8.0),
    max_delta=0.5,
    noise=0.5,
    duration=10.0,
    sfreq=100.0,
    random_state=None,
):
    """Noisy sinusoids whose class is their frequency.

    ``x = sin(2 pi (f + delta) t + phi) + noise * e`` with ``f`` the class
    frequency, ``delta ~ U[-max_delta, max_delta]`` Hz, ``phi ~ U[0, 2 pi)``
    and ``e`` white Gaussian noise. The label is invariant to frequency
    shifts of up to ``max_delta`` Hz: the invariance AugNet should find.

    Parameters
    ----------
    n_per_class : int
        Signals per class.
    freqs : tuple of float
        Class frequencies in Hz.
    max_delta : float
        Maximal frequency jitter in Hz.
    noise : float
        Standard deviation of the additive noise.
    duration : float
        Signal length in seconds.
    sfreq : float
        Sampling frequency in Hz.
    random_state : int | None
        Seed.

    Returns
    -------
    X : numpy.ndarray, shape (n_classes * n_per_class, 1, n_times), float32
        The signals.
    y : numpy.ndarray, shape (n_classes * n_per_class,), int64
        The class of each signal (index in ``freqs``).
    """
    rng = np.random.default_rng(random_state)
    t = np.arange(int(round(duration * sfreq))) / sfreq
    n = n_per_class * len(freqs)
    y = np.repeat(np.arange(len(freqs)), n_per_class)
    f = np.asarray(freqs, dtype=float)[y] + rng.uniform(-max_delta, max_delta, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    X = np.sin(2 * np.pi * f[:, None] * t + phi[:, None])
    X += noise * rng.standard_normal(X.shape)
    return X[:, None].astype(np.float32), y.astype(np.int64)
