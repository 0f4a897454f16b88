"""Synthetic sleep generator: type, physiology, nuisances, speed."""

import time

import mne
import numpy as np
import pandas as pd
import pytest
from braindecode.datasets import BaseConcatDataset, RawDataset
from scipy.signal import welch
from scipy.stats import skew

from braindecode_augnet.datasets import (
    SLEEP_STAGE_MAPPING,
    create_sleep_windows,
    make_synthetic_sleep,
    planted_nuisances,
    preprocess_sleep,
    simulate_hypnogram,
    windows_to_arrays,
)

W, N1, N2, N3, REM = range(5)
SFREQ = 100.0


@pytest.fixture(scope="module")
def night():
    """4 subjects x 2 h through the standard pipeline, with band powers."""
    ds = make_synthetic_sleep(n_subjects=4, n_hours=2, random_state=0)
    description = ds.description
    preprocess_sleep(ds)
    windows = create_sleep_windows(ds)
    X, y, subjects = windows_to_arrays(windows)
    freqs, psd = welch(X, fs=SFREQ, nperseg=400, axis=-1)
    total = psd[..., (freqs >= 0.5) & (freqs <= 30)].sum(-1)

    def rel(lo, hi):  # relative band power, averaged over channels
        return (psd[..., (freqs >= lo) & (freqs < hi)].sum(-1) / total).mean(-1)

    return dict(
        description=description,
        X=X,
        y=y,
        subjects=subjects,
        freqs=freqs,
        psd=psd,
        delta=rel(0.5, 2),
        theta=rel(4, 7),
        alpha=rel(8, 12),
        sigma=rel(12, 15),
    )


def test_same_type_as_real_loaders():
    ds = make_synthetic_sleep(n_subjects=2, n_hours=0.5, random_state=1)
    assert isinstance(ds, BaseConcatDataset)
    assert all(isinstance(d, RawDataset) for d in ds.datasets)
    raw = ds.datasets[0].raw
    assert isinstance(raw, mne.io.BaseRaw)
    assert raw.ch_names == ["Fpz-Cz", "Pz-Oz"]
    assert raw.get_channel_types() == ["eeg", "eeg"]
    assert raw.info["sfreq"] == SFREQ and raw.n_times == 3600 * 0.5 * SFREQ
    assert 1e-6 < raw.get_data().std() < 1e-4  # volts
    assert set(raw.annotations.description) <= set(SLEEP_STAGE_MAPPING)
    assert np.all(raw.annotations.duration % 30 == 0)
    desc = ds.description
    assert desc["subject"].tolist() == [0, 1]
    assert desc["recording"].tolist() == [1, 1]
    for col in (
        "alpha_peak_hz",
        "channels_swapped",
        "polarity_flipped",
        "amplitude_scale",
    ):
        assert col in desc


def test_window_counts(night):
    assert len(night["y"]) == 4 * 2 * 120
    assert night["X"].shape[1:] == (2, 3000)
    np.testing.assert_array_equal(np.bincount(night["subjects"]), [240] * 4)
    assert set(np.unique(night["y"])) == {W, N1, N2, N3, REM}


def _stage_means(values, y):
    return np.array([values[y == k].mean() for k in range(5)])


def test_spectral_signatures(night):
    y = night["y"]
    assert _stage_means(night["alpha"], y).argmax() == W
    assert _stage_means(night["delta"], y).argmax() == N3
    assert _stage_means(night["sigma"], y).argmax() == N2
    theta = _stage_means(night["theta"], y)
    assert theta.argmax() == N1 and theta[REM] > theta[[W, N3]].max()
    # REM is low amplitude, N3 high amplitude
    rms = _stage_means(night["X"].std(axis=(1, 2)), y)
    assert rms.argmax() == N3 and rms[REM] < rms[N2]


def test_alpha_peak_and_channel_swap_nuisances(night):
    freqs, psd, y, subjects = (
        night["freqs"],
        night["psd"],
        night["y"],
        night["subjects"],
    )
    band = (freqs >= 7) & (freqs <= 13)
    alpha = (freqs >= 8) & (freqs < 12)
    desc = night["description"]
    assert desc["channels_swapped"].nunique() == 2  # both cases are covered
    for _, sub in desc.iterrows():
        wake = psd[(subjects == sub["subject"]) & (y == W)].mean(0)
        peak = freqs[band][wake[:, band].sum(0).argmax()]
        assert abs(peak - sub["alpha_peak_hz"]) <= 0.5
        # alpha is posterior: largest on the last channel unless swapped
        posterior = 0 if sub["channels_swapped"] else 1
        assert wake[posterior, alpha].sum() > 3 * wake[1 - posterior, alpha].sum()


def test_polarity_shows_in_k_complexes(night):
    X, y, subjects = night["X"], night["y"], night["subjects"]
    desc = night["description"]
    assert desc["polarity_flipped"].nunique() == 2
    for _, sub in desc.iterrows():
        frontal = 1 if sub["channels_swapped"] else 0
        n2 = X[(subjects == sub["subject"]) & (y == N2), frontal].ravel()
        # K-complexes start with a large negative wave: the skew shows the sign
        assert (skew(n2) > 0) == sub["polarity_flipped"]


def test_nuisances_are_exact_transforms():
    kwargs = dict(n_subjects=4, n_hours=1, random_state=0)
    with_nuisances = make_synthetic_sleep(**kwargs)
    canonical = make_synthetic_sleep(subject_nuisances=False, **kwargs)
    desc = with_nuisances.description
    assert desc["channels_swapped"].nunique() == desc["polarity_flipped"].nunique() == 2
    n_checked = 0
    for ds, ref in zip(with_nuisances.datasets, canonical.datasets):
        sub = ds.description
        ann = ref.raw.annotations
        np.testing.assert_array_equal(ann.onset, ds.raw.annotations.onset)
        # away from stage changes, N3 has no alpha: only the nuisances differ
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description):
            if desc in ("Sleep stage 3", "Sleep stage 4") and duration >= 90:
                start, stop = (
                    int((onset + 30) * SFREQ),
                    int((onset + duration - 30) * SFREQ),
                )
                expected = ref.raw.get_data()[:, start:stop]
                if sub["channels_swapped"]:
                    expected = expected[::-1]
                expected = expected * sub["amplitude_scale"]
                if sub["polarity_flipped"]:
                    expected = -expected
                np.testing.assert_allclose(
                    ds.raw.get_data()[:, start:stop], expected, rtol=1e-3, atol=1e-9
                )
                n_checked += 1
    assert n_checked >= 2


def test_no_nuisances():
    desc = make_synthetic_sleep(
        n_subjects=3, n_hours=0.25, subject_nuisances=False
    ).description
    assert desc["alpha_peak_hz"].tolist() == [10.0] * 3
    assert not desc["channels_swapped"].any() and not desc["polarity_flipped"].any()
    assert desc["amplitude_scale"].tolist() == [1.0] * 3


def test_reproducibility():
    def data(**kwargs):
        ds = make_synthetic_sleep(n_hours=0.25, **kwargs)
        return [d.raw.get_data() for d in ds.datasets], ds.description

    a, desc_a = data(n_subjects=3, random_state=42)
    b, desc_b = data(n_subjects=3, random_state=42)
    c, _ = data(n_subjects=3, random_state=43)
    d, _ = data(n_subjects=1, random_state=42)
    for x, x2 in zip(a, b):
        np.testing.assert_array_equal(x, x2)
    assert desc_a.equals(desc_b)
    assert not np.allclose(a[0], c[0])
    np.testing.assert_array_equal(a[0], d[0])  # subject 0 independent of n


def test_several_recordings_and_channels():
    ds = make_synthetic_sleep(
        n_subjects=2,
        n_hours=0.25,
        n_recordings=2,
        sfreq=128,
        ch_names=("F3", "C3", "O1"),
        subject_nuisances=False,
    )
    assert ds.description[["subject", "recording"]].values.tolist() == [
        [0, 1],
        [0, 2],
        [1, 1],
        [1, 2],
    ]
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["F3", "C3", "O1"] and raw.info["sfreq"] == 128
    assert not np.allclose(raw.get_data(), ds.datasets[1].raw.get_data())
    windows = create_sleep_windows(preprocess_sleep(ds))
    assert len(windows) == 4 * 30 and windows[0][0].shape == (3, 3840)


def test_markov_chain_hypnograms():
    nights = [simulate_hypnogram(960, seed) for seed in range(10)]  # 8 h
    for stages in nights:
        assert stages[0] == W and stages[-1] == W
        counts = np.bincount(stages, minlength=5)
        assert np.all(counts > 0), counts
        assert counts.argmax() == N2
    stages = np.stack(nights)
    first, second = stages[:, :480], stages[:, 480:]
    # deep sleep early in the night, REM late
    assert (first == N3).mean() > 2 * (second == N3).mean()
    assert (second == REM).mean() > (first == REM).mean()
    fractions = np.bincount(stages.ravel(), minlength=5) / stages.size
    assert 0.4 < fractions[N2] < 0.65 and 0.1 < fractions[REM] < 0.3
    # sleep cycles: several separate REM periods per night
    rem_onsets = [np.sum(np.diff((s == REM).astype(int)) == 1) for s in nights]
    assert np.median(rem_onsets) >= 3


@pytest.mark.parametrize("hours", [0.5, 1.0])
def test_short_recordings_are_nights_in_small_with_their_rem(hours):
    """A 1-h recording cut from the start of a real night holds no REM (the
    first REM comes 70-100 min after sleep onset): the default cycle shrinks
    to two thirds of a short recording, so that its nights have every stage
    (the sleep job's and the results page's 0.5-1 h nights had none)."""
    n_epochs = int(hours * 120)
    short = [simulate_hypnogram(n_epochs, seed) for seed in range(40)]
    real_cycle = [
        simulate_hypnogram(n_epochs, seed, cycle_min=90) for seed in range(40)
    ]
    assert not any((s == REM).any() for s in real_cycle)
    assert np.mean([(s == REM).any() for s in short]) >= 0.75
    assert np.mean([(s == N3).any() for s in short]) >= 0.75
    # nights of 2 h 15 min and more keep the 90-min cycle, to the draw
    for seed in range(3):
        assert np.array_equal(
            simulate_hypnogram(960, seed), simulate_hypnogram(960, seed, cycle_min=90)
        )


def test_input_validation():
    with pytest.raises(ValueError, match="too short"):
        make_synthetic_sleep(n_hours=0.01)
    with pytest.raises(ValueError, match="sfreq"):
        make_synthetic_sleep(sfreq=100.01)
    with pytest.raises(ValueError, match="n_subjects"):
        make_synthetic_sleep(n_subjects=0)
    with pytest.raises(ValueError, match="n_epochs"):
        simulate_hypnogram(5)


@pytest.mark.parametrize(
    "ch_names, expected",
    [("C3", ["C3"]), ("Fpz-Cz", ["Fpz-Cz"]), (("C3", "O1"), ["C3", "O1"])],
)
def test_ch_names_str_is_one_channel(ch_names, expected):
    # probe 3, finding 6: 'C3' gave the two channels 'C' and '3'
    ds = make_synthetic_sleep(n_subjects=1, n_hours=0.1, ch_names=ch_names)
    raw = ds.datasets[0].raw
    assert raw.ch_names == expected
    assert raw.get_data().shape[0] == len(expected)


@pytest.mark.parametrize(
    "ch_names, match",
    [
        ([], "ch_names is empty"),
        (["a", "a"], r"ch_names names a channel more than once \(a;"),
        (["C3", "c3"], r"more than once \(C3, c3;"),
        ([1, 2], r"ch_names must be a list of channel names \(str\)"),
    ],
)
def test_bad_ch_names_are_refused(ch_names, match):
    # [] gave a 0-channel dataset, ['a', 'a'] was renamed ['a-0', 'a-1']
    with pytest.raises(ValueError, match=match):
        make_synthetic_sleep(n_subjects=1, n_hours=0.1, ch_names=ch_names)


@pytest.mark.parametrize("sfreq", [1, 16, 30, 40])
def test_sfreq_too_low_for_the_planted_rhythms_is_refused(sfreq):
    # probe 3, finding 7: at 16 Hz the alpha peak of the description was
    # aliased (spectral peak at 7.75 Hz instead of 11.3 Hz)
    with pytest.raises(ValueError, match=r"sfreq must be above 40 Hz") as err:
        make_synthetic_sleep(n_subjects=1, n_hours=0.1, sfreq=sfreq)
    assert f"sfreq={sfreq:g} Hz is too low" in str(err.value)
    assert "beta" in str(err.value)


def test_lowest_accepted_sfreq_keeps_the_alpha_peak():
    ds = make_synthetic_sleep(n_subjects=1, n_hours=0.5, sfreq=50, random_state=0)
    raw, desc = ds.datasets[0].raw, ds.description.iloc[0]
    assert raw.info["sfreq"] == 50
    x = raw.get_data()[-1]  # posterior channel
    spe = int(30 * 50)
    ann = raw.annotations
    wake = [int(o * 50) for o, d in zip(ann.onset, ann.description) if d[-1] == "W"]
    freqs, psd = welch(np.stack([x[s : s + spe] for s in wake]), fs=50, nperseg=200)
    band = (freqs > 6) & (freqs < 16)
    peak = freqs[band][psd.mean(0)[band].argmax()]
    assert abs(peak - desc.alpha_peak_hz) <= 0.5


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(n_recordings=0), "n_recordings must be an integer >= 1, got 0"),
        (dict(n_recordings=1.5), "n_recordings must be an integer >= 1, got 1.5"),
        (dict(n_subjects=True), "n_subjects must be an integer >= 1, got True"),
        (dict(sfreq=0), "sfreq must be a number > 0, got 0"),
        (dict(sfreq=-100), "sfreq must be a number > 0, got -100"),
        (dict(sfreq=float("nan")), r"sfreq must be a number > 0 \(finite\), got nan"),
        (dict(n_hours=float("nan")), r"n_hours must be a number > 0 \(finite\)"),
        (dict(n_hours=float("inf")), r"n_hours must be a number > 0 \(finite\)"),
        (dict(n_hours=-1), "n_hours must be a number > 0, got -1"),
        (dict(random_state=-1), "random_state must be an integer >= 0, got -1"),
    ],
)
def test_numeric_options_are_checked(options, match):
    # probe 3, finding 15: these failed deep inside numpy / mne / braindecode
    with pytest.raises(ValueError, match=match):
        make_synthetic_sleep(**{"n_subjects": 1, "n_hours": 0.1, **options})


@pytest.mark.parametrize("random_state", [1.5, "0"])
def test_random_state_of_a_wrong_type_is_refused(random_state):
    with pytest.raises(TypeError, match="random_state must be None, an int"):
        make_synthetic_sleep(n_subjects=1, n_hours=0.1, random_state=random_state)
    with pytest.raises(TypeError, match="random_state must be None, an int"):
        simulate_hypnogram(20, random_state)


def test_random_state_accepts_a_numpy_randomstate():
    # probe 3, finding 15: a RandomState (accepted elsewhere in the library)
    # failed inside numpy's SeedSequence; it now gives a seed drawn from it
    seed = np.random.RandomState(0).randint(0, 2**31 - 1)
    ours = make_synthetic_sleep(
        n_subjects=1, n_hours=0.1, random_state=np.random.RandomState(0)
    )
    seeded = make_synthetic_sleep(n_subjects=1, n_hours=0.1, random_state=int(seed))
    np.testing.assert_array_equal(
        ours.datasets[0].raw.get_data(), seeded.datasets[0].raw.get_data()
    )
    stages = simulate_hypnogram(40, np.random.RandomState(0))
    assert np.array_equal(stages, simulate_hypnogram(40, int(seed)))


@pytest.mark.parametrize(
    "cycle_min, match",
    [
        (0, "cycle_min must be a number > 0, got 0"),
        (-90, "cycle_min must be a number > 0, got -90"),
        (float("nan"), r"cycle_min must be a number > 0 \(finite\), got nan"),
        (float("inf"), r"cycle_min must be a number > 0 \(finite\), got inf"),
    ],
)
def test_simulate_hypnogram_refuses_a_bad_cycle_min(cycle_min, match):
    # probe 3, finding 11: 0 gave ZeroDivisionError, nan a night almost all
    # awake, -90 N3 without REM
    with pytest.raises(ValueError, match=match):
        simulate_hypnogram(200, 0, cycle_min=cycle_min)


@pytest.mark.parametrize("n_epochs", [9, 10.5, "20"])
def test_simulate_hypnogram_refuses_a_bad_n_epochs(n_epochs):
    with pytest.raises(ValueError, match="n_epochs must be an integer >= 10"):
        simulate_hypnogram(n_epochs)


def test_default_generation_is_fast():
    start = time.perf_counter()
    ds = make_synthetic_sleep()  # 8 subjects x 2 h at 100 Hz
    elapsed = time.perf_counter() - start
    assert len(ds.datasets) == 8
    assert elapsed < 30, f"took {elapsed:.1f} s"


# ------------------------------------------------------- planted nuisances
NUISANCES = ["polarity", "channel_swap", "alpha_peak", "amplitude"]


def _by_nuisance(table, column):
    return dict(zip(table["nuisance"], table[column]))


def test_planted_nuisances_match_the_descriptions():
    ds = make_synthetic_sleep(n_subjects=6, n_hours=0.25, random_state=3)
    desc = ds.description
    table = planted_nuisances(ds)
    assert list(table.columns) == [
        "nuisance",
        "column",
        "candidates",
        "planted",
        "comparable",
        "unit",
    ]
    assert table["nuisance"].tolist() == NUISANCES
    # by hand, from the descriptions (one recording per subject)
    expected = {
        "polarity": desc["polarity_flipped"].mean(),
        "channel_swap": desc["channels_swapped"].mean(),
        "alpha_peak": (desc["alpha_peak_hz"] - 10).abs().max(),
        "amplitude": np.log2(desc["amplitude_scale"]).abs().max(),
    }
    assert _by_nuisance(table, "planted") == pytest.approx(expected)
    comparable = dict(expected)
    for name in ("polarity", "channel_swap"):  # f and 1 - f: the same nuisance
        comparable[name] = min(expected[name], 1 - expected[name])
    assert _by_nuisance(table, "comparable") == pytest.approx(comparable)
    assert _by_nuisance(table, "unit") == {
        "polarity": "fraction",
        "channel_swap": "fraction",
        "alpha_peak": "Hz",
        "amplitude": "log2 factor",
    }
    assert _by_nuisance(table, "candidates") == {
        "polarity": ("SignFlip",),
        "channel_swap": ("ChannelsSymmetry", "ChannelsShuffle"),
        "alpha_peak": ("FrequencyShift",),
        "amplitude": ("AmplitudeScale",),
    }
    assert set(table["column"]) <= set(desc.columns)
    # the planted ranges of make_synthetic_sleep
    planted = _by_nuisance(table, "planted")
    assert 0 < planted["alpha_peak"] <= 1.5
    assert 0 < planted["amplitude"] <= np.log2(1.7)
    # a DataFrame of descriptions gives the same table as the dataset
    pd.testing.assert_frame_equal(planted_nuisances(desc), table)
    # so do the windows, and a subset of subjects gives its own values
    windows = create_sleep_windows(preprocess_sleep(ds))
    pd.testing.assert_frame_equal(planted_nuisances(windows), table)
    first_two = desc[desc["subject"] < 2]
    assert _by_nuisance(planted_nuisances(first_two), "planted")[
        "polarity"
    ] == pytest.approx(first_two["polarity_flipped"].mean())


def test_planted_nuisances_count_each_subject_once():
    frame = pd.DataFrame(
        {
            "subject": [0, 0, 1, 2, 3],
            "recording": [1, 2, 1, 1, 1],
            "polarity_flipped": [True, True, False, False, True],
            "channels_swapped": [False, False, True, False, False],
            "alpha_peak_hz": [9.0, 9.0, 11.2, 10.1, 10.0],
            "amplitude_scale": [0.5, 0.5, 1.0, 1.5, 2.0],
        }
    )
    table = planted_nuisances(frame)
    assert _by_nuisance(table, "planted") == pytest.approx(
        {"polarity": 0.5, "channel_swap": 0.25, "alpha_peak": 1.2, "amplitude": 1.0}
    )
    assert _by_nuisance(table, "comparable") == pytest.approx(
        {"polarity": 0.5, "channel_swap": 0.25, "alpha_peak": 1.2, "amplitude": 1.0}
    )
    ds = make_synthetic_sleep(n_subjects=3, n_hours=0.25, n_recordings=2)
    one_night = ds.description[ds.description["recording"] == 1]
    pd.testing.assert_frame_equal(planted_nuisances(ds), planted_nuisances(one_night))
    # every subject flipped: the training data hold no polarity nuisance
    frame["polarity_flipped"] = True
    flipped = _by_nuisance(planted_nuisances(frame), "comparable")
    assert flipped["polarity"] == 0.0


def test_planted_nuisances_without_nuisances():
    ds = make_synthetic_sleep(n_subjects=3, n_hours=0.25, subject_nuisances=False)
    table = planted_nuisances(ds)
    assert table["nuisance"].tolist() == NUISANCES
    assert table["planted"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert table["comparable"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_planted_nuisances_input_validation():
    desc = make_synthetic_sleep(n_subjects=2, n_hours=0.25).description
    with pytest.raises(ValueError, match="amplitude_scale"):
        planted_nuisances(desc.drop(columns="amplitude_scale"))
    with pytest.raises(ValueError, match="no recording"):
        planted_nuisances(desc.iloc[:0])
    with pytest.raises(TypeError, match="DataFrame"):
        planted_nuisances(desc.to_dict())


def _sleep_period_shares(nights):
    """Mean stage shares over the sleep period (first to last sleep epoch)."""
    shares = []
    for stages in nights:
        asleep = np.flatnonzero(np.asarray(stages) != W)
        period = np.asarray(stages)[asleep[0] : asleep[-1] + 1]
        shares.append(np.bincount(period, minlength=5) / len(period))
    return np.mean(shares, axis=0)


def test_stage_mix_of_whole_nights_is_that_of_real_sleep_edf_nights():
    from braindecode_augnet.datasets import read_hypnogram

    from ..conftest import HYPNOGRAMS

    if len(HYPNOGRAMS) < 20:
        pytest.skip("the 20 real Sleep-EDF hypnograms are not in ../shared/data")
    real = []
    for path in HYPNOGRAMS:
        annots, _ = read_hypnogram(path)
        real.append(
            [
                SLEEP_STAGE_MAPPING[d]
                for d, dur in zip(annots.description, annots.duration)
                for _ in range(int(dur // 30))
            ]
        )
    real = _sleep_period_shares(real)  # W 0.07 N1 0.09 N2 0.48 N3 0.17 REM 0.20
    synthetic = _sleep_period_shares(
        [simulate_hypnogram(960, seed) for seed in range(40)]  # 8-h nights
    )
    # before the generator was matched: W 0.00, N1 0.03, N2 0.62
    np.testing.assert_allclose(synthetic, real, atol=0.05)


def test_rem_is_broadband_with_alpha_not_a_theta_rhythm(night):
    y = night["y"]
    # before: theta 0.37 and alpha 0.06 of the REM power (real segment: 0.2
    # and 0.16, see examples/sleep_staging/plot_synthetic_vs_real.py)
    assert np.median(night["theta"][y == REM]) < 0.3
    assert np.median(night["alpha"][y == REM]) > 0.1
    assert np.median(night["theta"][y == N1]) < 0.45


def test_rem_band_shares_near_the_real_segment(night):
    from ..conftest import SLEEP_EDF

    segment = SLEEP_EDF.parent / "real-eeg-segment"
    if not (segment / "segment_data.csv").is_file():
        pytest.skip(f"real EEG segment not found in {segment}")
    from braindecode_augnet.datasets import read_hypnogram

    signal = pd.read_csv(segment / "segment_data.csv", header=None)[0].to_numpy()
    annots, _ = read_hypnogram(
        segment / "segment_stages.csv", "prerau", duration=len(signal) / SFREQ
    )
    raw = mne.io.RawArray(
        signal[None] * 1e-6, mne.create_info(["EEG"], SFREQ, "eeg"), verbose="error"
    )
    raw.set_annotations(annots)
    ds = BaseConcatDataset([RawDataset(raw, {"subject": 0, "recording": 1})])
    preprocess_sleep(ds)
    X, y, _ = windows_to_arrays(create_sleep_windows(ds))
    freqs, psd = welch(X[y == REM, 0], fs=SFREQ, nperseg=400, axis=-1)
    total = psd[:, (freqs >= 0.5) & (freqs <= 30)].sum(-1)
    for band, (lo, hi) in {"theta": (4, 7), "alpha": (8, 12)}.items():
        real = np.median(psd[:, (freqs >= lo) & (freqs < hi)].sum(-1) / total)
        synthetic = np.median(night[band][night["y"] == REM])
        assert abs(synthetic - real) < 0.1, (band, synthetic, real)
