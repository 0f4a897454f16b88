"""Synthetic sleep EEG with realistic stage physiology and subject nuisances.

The data are **synthetic**: no recording of a real person is involved. They
are meant for offline tests, demos and sanity checks of the AugNet sleep
pipeline, not for accuracy figures. Each night has

* a hypnogram drawn from a time-inhomogeneous Markov chain over 30-s epochs:
  wake at lights-off and at the final awakening, ~90-min cycles going
  N1 -> N2 -> N3 -> N2 -> REM, deep sleep early in the night and longer REM
  late, brief awakenings, N2 the most frequent stage;
* EEG built on a 1/f background from stage physiology: posterior alpha
  (8-12 Hz) in W, theta (4-7 Hz) in N1, sleep spindles (11-15 Hz, 0.5-2 s)
  and K-complexes in N2, high-amplitude delta (0.5-2 Hz) in N3, low-amplitude
  mixed activity with frontal rapid-eye-movement deflections in REM;
* per-subject nuisances that augmentations can undo: the alpha peak
  frequency, a swap of the channel montage (left/right, here front/back),
  a polarity flip and an amplitude scaling.

The output has exactly the type of the Sleep-EDF and MASS loaders, so
:func:`preprocess_sleep` and :func:`create_sleep_windows` run unchanged.
"""

from __future__ import annotations

from numbers import Integral

import mne
import numpy as np
import pandas as pd
from braindecode.datasets import BaseConcatDataset, RawDataset
from scipy.fft import irfft, rfftfreq
from scipy.ndimage import uniform_filter1d

from .._random import drawn_seed
from .._validation import check_int, check_positive
from ..channels import check_ch_names

__all__ = ["make_synthetic_sleep", "planted_nuisances", "simulate_hypnogram"]

W, N1, N2, N3, REM = range(5)
_EPOCH_S = 30.0

# Frequencies (Hz) of the planted rhythms: a subject's alpha peak and spindle
# frequency are drawn in these ranges, each spindle jittered by up to
# _SPINDLE_JITTER_HZ around its subject's frequency.
_ALPHA_RANGE_HZ = (8.5, 11.5)
_THETA_HZ = 5.5
_BETA_HZ = 20.0
_SPINDLE_RANGE_HZ = (12.0, 14.0)
_SPINDLE_JITTER_HZ = 0.7
#: The highest frequency planted (beta); sfreq must be above twice it.
_HIGHEST_RHYTHM_HZ = max(
    _ALPHA_RANGE_HZ[1], _BETA_HZ, _SPINDLE_RANGE_HZ[1] + _SPINDLE_JITTER_HZ
)


def _check_seed(random_state):
    """``random_state`` as numpy's ``default_rng`` / ``SeedSequence`` take it.

    A :class:`numpy.random.RandomState` gives an int drawn from it, as the
    library's other ``random_state`` parameters do
    (:func:`~braindecode_augnet._random.seed_stream`).
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return drawn_seed(random_state)
    if not isinstance(random_state, Integral):
        raise TypeError(
            "random_state must be None, an int, a numpy RandomState or a numpy "
            f"Generator, got {type(random_state).__name__} ({random_state!r})."
        )
    return check_int(random_state, "random_state", low=0)


# Affinity of each stage (row) for the next one (column), the diagonal being
# the tendency to stay; it is multiplied by the cycle-phase attraction below.
# Set so that 8-h nights have about the stage mix of 20 real Sleep-EDF nights
# over the sleep period (W 7 %, N1 9 %, N2 48 %, N3 17 %, REM 20 %; the
# example plot_synthetic_vs_real.py compares them): brief awakenings out of
# N2, N3 and REM, and N1 after them.
_AFFINITY = np.array(
    [
        [4.0, 1.0, 0.6, 0.0, 0.05],  # from W
        [0.5, 2.0, 1.0, 0.0, 0.2],  # from N1
        [0.8, 0.6, 10.0, 1.0, 1.0],  # from N2
        [0.2, 0.02, 1.0, 12.0, 0.0],  # from N3
        [0.6, 0.8, 1.0, 0.0, 10.0],  # from REM
    ]
)
# Stages reachable in any phase of the cycle (REM and N3 only in theirs).
_FLOOR = np.array([0.4, 0.3, 0.02, 0.0, 0.0])


def _phase_weights(phase, cycle):
    """Stage attraction given the position in the current sleep cycle."""
    w = np.array([0.05, 0.2, 1.0, 0.0, 0.0])
    deep = 3.5 * np.exp(-cycle / 1.2)
    rem = 0.8 + 1.5 * cycle
    if phase < 0.1:
        w[N1] = 1.0
    elif phase < 0.45:
        w[N3] = deep
    elif phase < 0.72:
        w[N3] = 0.2 * deep
    else:
        w[REM] = rem
        w[N2] = 0.4
    return w


def simulate_hypnogram(n_epochs, random_state=None, cycle_min=None):
    """Draw a night's hypnogram from a cycle-modulated Markov chain.

    Parameters
    ----------
    n_epochs : int
        Number of 30-s epochs (at least 10).
    random_state : int | numpy.random.RandomState | numpy.random.Generator | None
        Seed (an int >= 0) or generator; a RandomState gives a seed drawn
        from it.
    cycle_min : float | None
        Mean duration of a sleep cycle in minutes (finite, > 0; jittered by
        +-10 %).
        ``None``: 90, as in real nights, but at most two thirds of the
        recording, so that a short recording (under 2 h 15 min) is a night
        in small, with its REM: in a real night the first REM comes 70-100
        min after sleep onset, after the end of a 1-h recording.

    Returns
    -------
    stages : numpy.ndarray of int, shape (n_epochs,)
        Stage per epoch: 0 W, 1 N1, 2 N2, 3 N3, 4 REM. The night starts and
        ends awake.

    Raises
    ------
    TypeError
        If ``random_state`` is not None, an int, a RandomState or a Generator.
    ValueError
        If ``n_epochs`` is not an integer >= 10, ``cycle_min`` not a finite
        number > 0, or ``random_state`` a negative int.
    """
    n_epochs = check_int(n_epochs, "n_epochs", low=10)
    if cycle_min is not None:
        cycle_min = check_positive(cycle_min, "cycle_min")
    rng = np.random.default_rng(_check_seed(random_state))
    if cycle_min is None:
        cycle_min = min(90.0, n_epochs * _EPOCH_S / 60 / 1.5)
    cycle_len = cycle_min * 2 * rng.uniform(0.9, 1.1)  # in epochs
    n_final_wake = int(rng.integers(2, max(3, min(16, n_epochs // 10))))
    n_sleep_end = n_epochs - n_final_wake
    stages = np.full(n_epochs, W)
    state, onset = W, None
    uniforms = rng.random((n_epochs, 2))
    for t in range(1, n_sleep_end):
        if onset is None:  # sleep latency: geometric, mean ~5 min
            if uniforms[t, 0] < 0.1 or t >= n_sleep_end // 3:
                state, onset = N1, t
        else:
            cycle, phase = divmod((t - onset) / cycle_len, 1.0)
            weights = _AFFINITY[state] * (_phase_weights(phase, cycle) + _FLOOR)
            cdf = np.cumsum(weights) / weights.sum()
            state = int(np.searchsorted(cdf, uniforms[t, 1]))
        stages[t] = state
    return stages


def _shaped_noise(rng, n_signals, n_times, sfreq, gain):
    """Gaussian noise with amplitude spectrum ``gain(freqs)``, unit variance.

    White Gaussian noise is drawn directly in the Fourier domain (independent
    complex Gaussian coefficients), shaped, and brought back with one inverse
    FFT.
    """
    freqs = rfftfreq(n_times, 1.0 / sfreq)
    shape = (n_signals, len(freqs))
    spec = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(
        shape, dtype=np.float32
    )
    spec *= gain(freqs).astype(np.float32)
    x = irfft(spec, n=n_times, axis=-1)
    x /= x.std(axis=-1, keepdims=True) + 1e-12
    return x


def _band(f0, bw):
    return lambda f: np.exp(-0.5 * ((f - f0) / bw) ** 2)


def _pink(exponent, f_min=0.3):
    def gain(f):
        g = np.zeros_like(f)
        g[1:] = f[1:] ** (-exponent / 2)
        return g * (1.0 / (1.0 + (f_min / np.maximum(f, 1e-3)) ** 4))

    return gain


def _add_events(signal, rng, epoch_stage, rates_per_min, spe, sfreq, make):
    """Add transient events (Poisson per epoch) to ``signal`` in place.

    ``make(rng, n, sfreq)`` returns an ``(n, length)`` array of waveforms.
    """
    counts = rng.poisson(np.asarray(rates_per_min)[epoch_stage] * _EPOCH_S / 60)
    n = int(counts.sum())
    if n == 0:
        return
    waves = make(rng, n, sfreq)
    length = waves.shape[1]
    epochs = np.repeat(np.arange(len(epoch_stage)), counts)
    starts = epochs * spe + rng.integers(0, max(1, spe - length), size=n)
    idx = np.minimum(starts[:, None] + np.arange(length), signal.shape[-1] - 1)
    np.add.at(signal, idx.ravel(), waves.ravel())


def _spindles(f_center):
    def make(rng, n, sfreq):
        length = int(2.0 * sfreq)
        t = np.arange(length) / sfreq
        dur = rng.uniform(0.5, 2.0, size=(n, 1))
        jitter = _SPINDLE_JITTER_HZ
        freq = f_center + rng.uniform(-jitter, jitter, size=(n, 1))
        amp = rng.uniform(15.0, 35.0, size=(n, 1))
        env = np.where(t < dur, np.sin(np.pi * np.minimum(t / dur, 1.0)) ** 2, 0.0)
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
        return amp * env * np.sin(2 * np.pi * freq * t + phase)

    return make


def _k_complexes(rng, n, sfreq):
    t = np.arange(int(1.5 * sfreq)) / sfreq
    amp = rng.uniform(60.0, 130.0, size=(n, 1))
    neg = np.exp(-0.5 * ((t - 0.3) / 0.09) ** 2)
    pos = np.exp(-0.5 * ((t - 0.75) / 0.2) ** 2)
    return amp * (-neg + 0.55 * pos)  # sharp negative wave, then slow positive


def _eye_movements(rng, n, sfreq):
    t = np.arange(int(1.0 * sfreq)) / sfreq
    amp = rng.uniform(40.0, 110.0, size=(n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
    rise = 1.0 / (1.0 + np.exp(-(t - 0.1) / 0.015))  # ~50 ms saccade
    return amp * rise * np.exp(-np.maximum(t - 0.1, 0) / 0.3)


def _blinks(rng, n, sfreq):
    t = np.arange(int(0.6 * sfreq)) / sfreq
    amp = rng.uniform(50.0, 100.0, size=(n, 1))
    return amp * np.exp(-0.5 * ((t - 0.25) / 0.07) ** 2)


def _per_sample(epoch_values, spe, smooth):
    """Epoch-wise gains to a smooth per-sample envelope."""
    x = np.repeat(np.asarray(epoch_values, dtype=float), spe, axis=-1)
    return uniform_filter1d(x, size=smooth, axis=-1, mode="nearest")


def _simulate_eeg(rng, stages, sfreq, n_channels, alpha_hz, spindle_hz):
    """EEG in microvolts, channels ordered front (0) to back (last)."""
    spe = int(round(_EPOCH_S * sfreq))
    n_epochs = len(stages)
    n = n_epochs * spe
    smooth = max(1, int(2 * sfreq))
    pos = np.linspace(0.0, 1.0, n_channels) if n_channels > 1 else np.array([0.5])
    pos = pos[:, None]

    # stage-wise RMS (microvolts) of each rhythmic component: W N1 N2 N3 REM
    rms = {
        "background": [7.0, 8.0, 10.0, 11.0, 7.0],
        "alpha": [14.0, 3.0, 0.5, 0.0, 3.0],
        "theta": [2.0, 7.0, 4.0, 3.0, 4.0],
        "delta": [2.0, 4.0, 9.0, 32.0, 3.0],
        "beta": [3.0, 1.5, 1.0, 0.5, 1.5],
    }
    n3_depth = np.where(stages == N3, rng.uniform(0.7, 1.4, n_epochs), 1.0)
    topo = {
        "alpha": 0.4 + 0.9 * pos,  # posterior
        "theta": np.ones_like(pos),
        "delta": 1.2 - 0.5 * pos,  # frontal
        "beta": 1.1 - 0.2 * pos,
    }
    exponent = rng.uniform(1.2, 1.8)
    background = _shaped_noise(rng, n_channels, n, sfreq, _pink(exponent))
    eeg = background * _per_sample(np.take(rms["background"], stages), spe, smooth)
    slow = _shaped_noise(rng, 1, n, sfreq, _band(0.0, 0.15))  # waxing/waning
    bands = {
        "alpha": _band(alpha_hz, 0.5),
        "theta": _band(_THETA_HZ, 1.5),
        "delta": lambda f: _band(1.0, 0.5)(f) * (f > 0.3),
        "beta": _band(_BETA_HZ, 4.0),
    }
    for name, gain in bands.items():
        source = _shaped_noise(rng, 1, n, sfreq, gain)
        if name in ("alpha", "theta"):
            source = source * np.exp(0.35 * slow)
        envelope = np.take(rms[name], stages)
        if name == "delta":
            envelope = envelope * n3_depth
        eeg += topo[name] * source * _per_sample(envelope, spe, smooth)

    def add(rates, make, topography):
        events = np.zeros(n)
        _add_events(events, rng, stages, rates, spe, sfreq, make)
        eeg[:] += topography * events

    add([0.0, 0.3, 5.0, 1.5, 0.0], _spindles(spindle_hz), 1.0 - 0.15 * pos)
    add([0.0, 0.2, 1.5, 0.5, 0.0], _k_complexes, 1.2 - 0.6 * pos)
    add([0.0, 0.0, 0.0, 0.0, 10.0], _eye_movements, np.exp(-3.5 * pos))
    add([6.0, 0.5, 0.0, 0.0, 0.0], _blinks, np.exp(-3.5 * pos))
    return eeg, n3_depth


def _stage_annotations(stages, n3_depth):
    """Sleep-EDF style annotations: one per run of identical R&K stage."""
    labels = np.array(["W", "1", "2", "3", "R"], dtype=object)[stages]
    labels[(stages == N3) & (n3_depth > 1.1)] = "4"  # >50 % delta: R&K stage 4
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    return mne.Annotations(
        onset=starts * _EPOCH_S,
        duration=(stops - starts) * _EPOCH_S,
        description=["Sleep stage " + lab for lab in labels[starts]],
    )


def make_synthetic_sleep(
    n_subjects=8,
    n_hours=2.0,
    sfreq=100.0,
    ch_names=("Fpz-Cz", "Pz-Oz"),
    random_state=0,
    *,
    n_recordings=1,
    subject_nuisances=True,
):
    """Generate a SYNTHETIC sleep-staging dataset (no real EEG involved).

    Each subject's night is a hypnogram from a cycle-modulated Markov chain
    (see :func:`simulate_hypnogram`) and EEG generated from it on a 1/f
    background:

    * W: posterior alpha at the subject's peak frequency, eye blinks, some
      beta;
    * N1: theta (4-7 Hz), attenuated alpha;
    * N2: sleep spindles (11-15 Hz bursts of 0.5-2 s, ~5/min) and
      K-complexes (~1.5/min, frontal), moderate delta;
    * N3: high-amplitude frontal delta (0.5-2 Hz); the deepest epochs are
      labelled R&K stage 4;
    * REM: low-amplitude mixed theta activity with rapid eye movement
      deflections on the frontal channel.

    Subjects differ by nuisances that augmentations can remove, recorded in
    the ``description``: ``alpha_peak_hz`` (8.5-11.5 Hz, frequency shift),
    ``channels_swapped`` (channel order reversed, i.e. the montage mirrored:
    channel symmetry/shuffle), ``polarity_flipped`` (sign flip) and
    ``amplitude_scale`` (0.6-1.7, scaling). Everything is vectorised: 8
    subjects x 2 h at 100 Hz take a few seconds.

    Parameters
    ----------
    n_subjects : int
        Number of subjects (>= 1).
    n_hours : float
        Duration of each recording in hours (finite, > 0, at least 5
        minutes; multiple 30-s epochs are kept).
    sfreq : float
        Sampling frequency in Hz; ``30 * sfreq`` must be an integer, and
        sfreq must be above 40 Hz, twice the highest planted rhythm (beta,
        20 Hz), or the rhythms would alias.
    ch_names : str | sequence of str
        Channel names, ordered front to back (the first channel gets the
        eye movements and frontal delta, the last the posterior alpha); a
        str is one channel's name. Each name once (compared without case).
        The default mimics the two EEG channels of Sleep-EDF as braindecode
        names them.
    random_state : int | numpy.random.RandomState | numpy.random.Generator | None
        Seed (an int >= 0) or generator; a RandomState gives a seed drawn
        from it. Subject ``i`` is the same whatever ``n_subjects``.
    n_recordings : int
        Nights per subject (>= 1; the same subject nuisances, new hypnogram
        and noise), numbered ``recording`` 1, 2...
    subject_nuisances : bool
        If False every subject has alpha at 10 Hz, no swap, no flip and unit
        scale (physiology still varies).

    Returns
    -------
    dataset : braindecode.datasets.BaseConcatDataset
        One :class:`braindecode.datasets.RawDataset` per recording: an
        :class:`mne.io.RawArray` of EEG channels in volts with Sleep-EDF style
        annotations (``"Sleep stage W"``, ``"Sleep stage 1"``... ``"4"``,
        ``"R"``), and a ``description`` with ``subject``, ``recording`` and the
        nuisance parameters.

    Raises
    ------
    TypeError
        If ``random_state`` is not None, an int, a RandomState or a Generator.
    ValueError
        If ``n_subjects`` or ``n_recordings`` is not an integer >= 1,
        ``n_hours`` not a finite number > 0 or shorter than 5 minutes,
        ``sfreq`` not a finite number > 40 Hz or not a whole number of samples
        in 30 s, ``ch_names`` empty or naming a channel twice, or
        ``random_state`` a negative int (all checked before any generation).
    """
    n_subjects = check_int(n_subjects, "n_subjects", low=1)
    n_recordings = check_int(n_recordings, "n_recordings", low=1)
    n_hours = check_positive(n_hours, "n_hours")
    sfreq = check_positive(sfreq, "sfreq")
    if sfreq <= 2 * _HIGHEST_RHYTHM_HZ:
        raise ValueError(
            f"sfreq={sfreq:g} Hz is too low for the planted rhythms: the "
            f"highest (beta) is at {_HIGHEST_RHYTHM_HZ:g} Hz, so sfreq must be "
            f"above {2 * _HIGHEST_RHYTHM_HZ:g} Hz (twice it) or the rhythms "
            "alias; pass e.g. sfreq=100 (Sleep-EDF's rate) and resample the "
            "windows if you need a lower rate."
        )
    spe = _EPOCH_S * sfreq
    if not np.isclose(spe, round(spe)):
        raise ValueError(f"30 s at sfreq={sfreq} Hz is not an integer of samples.")
    n_epochs = int(round(n_hours * 3600 / _EPOCH_S))
    if n_epochs < 10:
        raise ValueError(f"n_hours={n_hours} is too short (less than 5 minutes).")
    ch_names = check_ch_names(ch_names, "ch_names", one_str=True)
    n_ch = len(ch_names)
    random_state = _check_seed(random_state)
    if isinstance(random_state, np.random.Generator):
        seeds = random_state.integers(2**63, size=int(n_subjects))
        subject_rngs = [np.random.default_rng(seed) for seed in seeds]
    else:  # one independent stream per subject, whatever n_subjects
        children = np.random.SeedSequence(random_state).spawn(int(n_subjects))
        subject_rngs = [np.random.default_rng(child) for child in children]
    datasets = []
    for subject, rng in enumerate(subject_rngs):
        alpha_hz = rng.uniform(*_ALPHA_RANGE_HZ)
        swapped = bool(rng.random() < 0.5)
        flipped = bool(rng.random() < 0.5)
        scale = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))
        spindle_hz = rng.uniform(*_SPINDLE_RANGE_HZ)
        if not subject_nuisances:
            alpha_hz, swapped, flipped, scale = 10.0, False, False, 1.0
        for recording in range(1, n_recordings + 1):
            stages = simulate_hypnogram(n_epochs, rng)
            eeg, n3_depth = _simulate_eeg(
                rng, stages, sfreq, n_ch, alpha_hz, spindle_hz
            )
            eeg *= 1e-6 * scale * (-1.0 if flipped else 1.0)
            if swapped:
                eeg = eeg[::-1]
            info = mne.create_info(ch_names, sfreq, ch_types="eeg")
            raw = mne.io.RawArray(np.ascontiguousarray(eeg), info, verbose="error")
            raw.set_annotations(_stage_annotations(stages, n3_depth))
            description = pd.Series(
                {
                    "subject": subject,
                    "recording": recording,
                    "alpha_peak_hz": round(float(alpha_hz), 3),
                    "channels_swapped": swapped,
                    "polarity_flipped": flipped,
                    "amplitude_scale": round(scale, 4),
                }
            )
            datasets.append(RawDataset(raw, description))
    return BaseConcatDataset(datasets)


#: Alpha peak frequency of a subject without nuisances (Hz).
_ALPHA_CENTER_HZ = 10.0

#: The planted nuisances: name, description column, the candidate transforms
#: of :mod:`braindecode_augnet.transforms` that undo it (in order of
#: preference) and the unit of the planted value.
_PLANTED = (
    ("polarity", "polarity_flipped", ("SignFlip",), "fraction"),
    (
        "channel_swap",
        "channels_swapped",
        ("ChannelsSymmetry", "ChannelsShuffle"),
        "fraction",
    ),
    ("alpha_peak", "alpha_peak_hz", ("FrequencyShift",), "Hz"),
    ("amplitude", "amplitude_scale", ("AmplitudeScale",), "log2 factor"),
)


def planted_nuisances(descriptions):
    """The nuisances :func:`make_synthetic_sleep` planted in a set of subjects.

    Reads the nuisance columns of the recordings' descriptions and sums them
    up per nuisance, on the scale of the transform that undoes it:

    * ``polarity``: fraction of the subjects with a flipped sign
      (``polarity_flipped``), undone by ``SignFlip``;
    * ``channel_swap``: fraction of the subjects whose channel order is
      reversed (``channels_swapped``), undone by ``ChannelsSymmetry`` when
      the channel names have left/right pairs, else by ``ChannelsShuffle``;
    * ``alpha_peak``: half-width in Hz of the range of alpha peaks around
      10 Hz, the largest ``|alpha_peak_hz - 10|``, undone by
      ``FrequencyShift`` (maximal shift in Hz);
    * ``amplitude``: the largest ``|log2(amplitude_scale)|``, undone by
      ``AmplitudeScale`` (maximal base-2 log factor).

    Parameters
    ----------
    descriptions : pandas.DataFrame | braindecode.datasets.BaseConcatDataset
        Descriptions of the recordings, one row per recording, with a
        ``subject`` column and the nuisance columns of
        :func:`make_synthetic_sleep`; or a dataset with such a
        ``description`` (the output of :func:`make_synthetic_sleep`, its
        windows, or a split of them). A subject's recordings share its
        nuisances and count once.

    Returns
    -------
    pandas.DataFrame
        One row per nuisance (``polarity``, ``channel_swap``, ``alpha_peak``,
        ``amplitude``) with columns

        * ``nuisance``: its name;
        * ``column``: the description column it is read from;
        * ``candidates``: tuple of the transforms that undo it, in order of
          preference;
        * ``planted``: the planted value defined above;
        * ``comparable``: the planted value on the scale of the learned
          probability of an involution, [0, 0.5], for the fractions:
          which polarity (channel order) counts as the original is
          arbitrary, so a fraction ``f`` and ``1 - f`` are the same nuisance,
          ``min(f, 1 - f)``; the planted value itself for the others;
        * ``unit``: ``'fraction'``, ``'Hz'`` or ``'log2 factor'``.

    Raises
    ------
    ValueError
        If there are no recordings, or a column is missing.

    See Also
    --------
    make_synthetic_sleep : Plants the nuisances.
    split_by_subject : Gives the training subjects, whose nuisances a learned
        policy can recover.

    Notes
    -----
    With ``subject_nuisances=False`` every subject has the same polarity,
    channel order, alpha peak (10 Hz) and amplitude: every planted value is
    0. An involution applied with probability ``q`` gives the largest
    invariance at ``q = 0.5``: with any fraction strictly between 0 and 1,
    the full invariance is what a model of new subjects needs.

    Examples
    --------
    >>> from braindecode_augnet.datasets import (
    ...     make_synthetic_sleep,
    ...     planted_nuisances,
    ... )
    >>> dataset = make_synthetic_sleep(n_subjects=4, n_hours=0.25, random_state=0)
    >>> columns = ["subject", "polarity_flipped", "channels_swapped"]
    >>> columns += ["alpha_peak_hz", "amplitude_scale"]
    >>> print(dataset.description[columns].to_string(index=False))
     subject  polarity_flipped  channels_swapped  alpha_peak_hz  amplitude_scale
           0             False              True         11.329           0.6839
           1             False              True         10.532           0.9322
           2             False              True         11.015           1.2475
           3              True             False          9.593           0.7642
    >>> planted = planted_nuisances(dataset)
    >>> print(planted.drop(columns="column").round(3).to_string(index=False))
        nuisance                          candidates  planted  comparable        unit
        polarity                         (SignFlip,)    0.250       0.250    fraction
    channel_swap (ChannelsSymmetry, ChannelsShuffle)    0.750       0.250    fraction
      alpha_peak                   (FrequencyShift,)    1.329       1.329          Hz
       amplitude                   (AmplitudeScale,)    0.548       0.548 log2 factor

    One subject in four has a flipped sign, three in four swapped channels
    (the same nuisance as one in four: ``comparable``), the alpha peaks lie
    within 10 +- 1.33 Hz and the amplitudes within a factor ``2**0.548``.
    """
    description = getattr(descriptions, "description", descriptions)
    if not isinstance(description, pd.DataFrame):
        raise TypeError(
            "descriptions must be a pandas.DataFrame or a dataset with a "
            f"description, got {type(descriptions).__name__}."
        )
    required = ["subject", *(column for _, column, _, _ in _PLANTED)]
    missing = [column for column in required if column not in description]
    if missing:
        raise ValueError(
            f"The descriptions have no {missing} column(s): they do not come "
            "from make_synthetic_sleep."
        )
    if len(description) == 0:
        raise ValueError("The descriptions have no recording.")
    subjects = description.drop_duplicates("subject")
    flipped = subjects["polarity_flipped"].astype(bool).to_numpy()
    swapped = subjects["channels_swapped"].astype(bool).to_numpy()
    alpha = subjects["alpha_peak_hz"].astype(float).to_numpy()
    scale = subjects["amplitude_scale"].astype(float).to_numpy()
    planted = {
        "polarity": float(flipped.mean()),
        "channel_swap": float(swapped.mean()),
        "alpha_peak": float(np.abs(alpha - _ALPHA_CENTER_HZ).max()),
        "amplitude": float(np.abs(np.log2(scale)).max()),
    }
    rows = []
    for nuisance, column, candidates, unit in _PLANTED:
        value = planted[nuisance]
        comparable = min(value, 1.0 - value) if unit == "fraction" else value
        rows.append(
            {
                "nuisance": nuisance,
                "column": column,
                "candidates": candidates,
                "planted": value,
                "comparable": comparable,
                "unit": unit,
            }
        )
    return pd.DataFrame(rows)
