"""Tests of datasets/sleep.py: preprocessing, windowing, splits, arrays."""

import mne
import numpy as np
import pytest
from braindecode.datasets import BaseConcatDataset, RawDataset

from braindecode_augnet.datasets import (
    SLEEP_STAGE_MAPPING,
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    make_synthetic_sleep,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)


def _raw_dataset(data, sfreq, annotations, subject=0, ch_types="eeg", names=None):
    names = names or [f"EEG{i}" for i in range(len(data))]
    raw = mne.io.RawArray(
        np.asarray(data, dtype=float),
        mne.create_info(names, sfreq, ch_types),
        verbose="error",
    )
    raw.set_annotations(annotations)
    return RawDataset(raw, {"subject": subject, "recording": 1})


def _stages(*pairs):
    onsets, durations, descs, t = [], [], [], 0.0
    for desc, duration in pairs:
        onsets.append(t)
        durations.append(duration)
        descs.append("Sleep stage " + desc)
        t += duration
    return mne.Annotations(onsets, durations, descs)


@pytest.fixture(scope="module")
def small_windows():
    ds = make_synthetic_sleep(n_subjects=6, n_hours=0.25, n_recordings=2)
    preprocess_sleep(ds)
    return create_sleep_windows(ds)


def test_mapping_merges_stages_3_and_4():
    assert SLEEP_STAGE_MAPPING == {
        "Sleep stage W": 0,
        "Sleep stage 1": 1,
        "Sleep stage 2": 2,
        "Sleep stage 3": 3,
        "Sleep stage 4": 3,
        "Sleep stage R": 4,
    }
    assert SLEEP_STAGE_NAMES == ("W", "N1", "N2", "N3", "REM")


def test_preprocess_picks_scales_filters_and_resamples():
    sfreq, t = 200.0, np.arange(60 * 200) / 200.0
    slow, fast = np.sin(2 * np.pi * 5 * t), np.sin(2 * np.pi * 60 * t)
    data = np.stack([(slow + fast) * 1e-5, slow * 1e-5, np.ones_like(t)])
    ds = BaseConcatDataset(
        [
            _raw_dataset(
                data,
                sfreq,
                _stages(("W", 60)),
                ch_types=["eeg", "eeg", "misc"],
                names=["A", "B", "M"],
            )
        ]
    )
    out = preprocess_sleep(ds, sfreq=100, standardize=None)
    assert out is ds
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["A", "B"] and raw.info["sfreq"] == 100
    x = raw.get_data()[:, 1000:-1000]
    # 60 Hz removed, 5 Hz kept, in microvolts
    np.testing.assert_allclose(x[0], x[1], atol=0.05)
    assert 6.5 < np.abs(x[1]).max() < 10.5

    ds2 = BaseConcatDataset(
        [_raw_dataset(data[:2], sfreq, _stages(("W", 60)), names=["A", "B"])]
    )
    preprocess_sleep(ds2, h_freq=None, picks=["B"], standardize=None)
    np.testing.assert_allclose(ds2.datasets[0].raw.get_data()[0], slow * 10)


def test_recordings_are_standardised_each_alike_whatever_their_amplitude():
    sfreq, rng = 100.0, np.random.default_rng(0)
    signal = rng.standard_normal((2, 6000)) * 1e-5
    signal[:, 100] = 1e-2  # an artefact: the robust scale ignores it
    flat = np.vstack([signal[:1], np.full((1, 6000), 3e-6)])
    ds = BaseConcatDataset(
        [
            _raw_dataset(signal, sfreq, _stages(("W", 60)), subject=0),
            _raw_dataset(3 * signal + 2e-5, sfreq, _stages(("W", 60)), subject=1),
            _raw_dataset(flat, sfreq, _stages(("W", 60)), subject=2),
        ]
    )
    preprocess_sleep(ds, h_freq=None)
    one, three, flat = (d.raw.get_data() for d in ds.datasets)
    np.testing.assert_allclose(three, one, atol=1e-9)  # amplitude and offset gone
    low, median, high = np.percentile(one, (25, 50, 75), axis=1)
    np.testing.assert_allclose(median, 0, atol=1e-12)
    np.testing.assert_allclose(high - low, 1)
    np.testing.assert_allclose(flat[0], one[0])
    np.testing.assert_allclose(flat[1], 0, atol=1e-12)  # a flat channel: centred only
    assert np.isfinite(flat).all()
    with pytest.raises(ValueError, match="standardize must be 'recording' or None"):
        preprocess_sleep(ds, standardize="window")


def test_windows_follow_annotations():
    annots = _stages(("W", 60), ("1", 30), ("2", 90), ("?", 30), ("3", 30))
    annots.append(240, 45, "Sleep stage 4")  # 15-s tail is dropped
    annots.append(285, 30, "Movement time")
    annots.append(315, 30, "Sleep stage R")
    ds = BaseConcatDataset([_raw_dataset(np.zeros((2, 345 * 10)), 10.0, annots)])
    windows = create_sleep_windows(ds)
    X, y, subjects = windows_to_arrays(windows)
    assert y.tolist() == [0, 0, 1, 2, 2, 2, 3, 3, 4]
    assert X.shape == (9, 2, 300)
    starts = windows.datasets[0].crop_inds[:, 1]
    assert starts.tolist() == [0, 300, 600, 900, 1200, 1500, 2100, 2400, 3150]
    md = windows.get_metadata()
    assert set(md["subject"]) == {0}


def test_windows_of_other_length():
    annots = _stages(("W", 40), ("2", 60))
    ds = BaseConcatDataset([_raw_dataset(np.zeros((1, 1000)), 10.0, annots)])
    _, y, _ = windows_to_arrays(create_sleep_windows(ds, window_size_s=20))
    assert y.tolist() == [0, 0, 2, 2, 2]


def test_windowing_errors():
    annots = _stages(("W", 60))
    ds = BaseConcatDataset(
        [
            _raw_dataset(np.zeros((1, 600)), 10.0, annots),
            _raw_dataset(np.zeros((1, 1200)), 20.0, annots),
        ]
    )
    with pytest.raises(ValueError, match="sampling frequency"):
        create_sleep_windows(ds)
    ds = BaseConcatDataset([_raw_dataset(np.zeros((1, 600)), 10.0, annots)])
    with pytest.raises(ValueError, match="integer number of samples"):
        create_sleep_windows(ds, window_size_s=30.05)
    ds = BaseConcatDataset(
        [_raw_dataset(np.zeros((1, 600)), 10.0, _stages(("?", 60)), subject=7)]
    )
    with pytest.raises(ValueError, match="no annotation in the mapping"):
        create_sleep_windows(ds)


def test_windows_longer_than_every_annotation_are_refused():
    # a hypnogram scored in 20-s epochs, cut into the default 30-s windows
    annots = _stages(("W", 20), ("2", 20), ("?", 60), ("3", 20))
    good = _raw_dataset(np.zeros((1, 1200)), 10.0, _stages(("W", 60), ("2", 60)))
    bad = _raw_dataset(np.zeros((1, 1200)), 10.0, annots, subject=7)
    ds = BaseConcatDataset([good, bad])
    with pytest.raises(
        ValueError,
        match=r"Recording 1 \({'subject': 7, 'recording': 1}\) has no annotation "
        r"in the mapping as long as a window of 30 s \(300 samples at 10 Hz\): "
        r"its longest scored annotation is 'Sleep stage W' of 20 s.*"
        r"window_size_s equal to the hypnogram's epoch length",
    ):
        create_sleep_windows(ds)
    _, y, _ = windows_to_arrays(create_sleep_windows(ds, window_size_s=20))
    assert y.tolist() == [0, 0, 0, 2, 2, 2] + [0, 2, 3]
    # one annotation long enough: the others are dropped as before
    ds = BaseConcatDataset(
        [_raw_dataset(np.zeros((1, 600)), 10.0, _stages(("W", 20), ("2", 30)))]
    )
    with pytest.warns(UserWarning, match="are being dropped"):
        _, y, _ = windows_to_arrays(create_sleep_windows(ds))
    assert y.tolist() == [2]


def test_windows_to_arrays_matches_getitem(small_windows):
    X, y, subjects = windows_to_arrays(small_windows)
    assert X.dtype == np.float32 and y.dtype == np.int64 and subjects.dtype == np.int64
    assert len(X) == len(y) == len(subjects) == len(small_windows) == 12 * 30
    for i in [0, 29, 30, 200, len(X) - 1]:
        Xi, yi, _ = small_windows[i]
        np.testing.assert_array_equal(X[i], Xi)
        assert y[i] == yi
    # slow path (with a transform) gives the same result
    for ds in small_windows.datasets:
        ds.transform = lambda x: x
    try:
        X2, y2, s2 = windows_to_arrays(small_windows)
    finally:
        for ds in small_windows.datasets:
            ds.transform = None
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(subjects, s2)


def test_split_by_subject(small_windows):
    train, valid, test = split_by_subject(
        small_windows, test_size=0.2, valid_size=0.2, random_state=0
    )
    split_subjects = [set(s.description["subject"]) for s in (train, valid, test)]
    assert [len(s) for s in split_subjects] == [4, 1, 1]
    assert set.union(*split_subjects) == set(range(6))
    assert not (split_subjects[0] & split_subjects[1])
    assert not (split_subjects[0] & split_subjects[2])
    assert not (split_subjects[1] & split_subjects[2])
    for split in (train, valid, test):
        assert isinstance(split, BaseConcatDataset)
        # both nights of a subject go to the same split
        assert len(split.datasets) == 2 * split.description["subject"].nunique()
    assert len(train) + len(valid) + len(test) == len(small_windows)

    again = split_by_subject(small_windows, 0.2, 0.2, random_state=0)
    assert [set(s.description["subject"]) for s in again] == split_subjects
    train, valid, test = split_by_subject(small_windows, test_size=2, valid_size=0)
    assert valid is None and test.description["subject"].nunique() == 2


def test_split_errors(small_windows):
    with pytest.raises(ValueError, match="at least 1 training"):
        split_by_subject(small_windows, test_size=3, valid_size=3)
    with pytest.raises(ValueError, match="test_size"):
        split_by_subject(small_windows, test_size=1.5)
    with pytest.raises(ValueError, match="no 'patient' column"):
        split_by_subject(small_windows, by="patient")
