"""Sleep-EDF loader, tested offline on the real files of ../shared/data/sleep-edf."""

import mne
import numpy as np
import pytest
import requests
from braindecode.datasets import BaseConcatDataset, RawDataset, SleepPhysionet

from braindecode_augnet.datasets import (
    IGNORED_SLEEP_DESCRIPTIONS,
    SLEEP_STAGE_MAPPING,
    create_sleep_windows,
    load_sleep_physionet,
    preprocess_sleep,
    windows_to_arrays,
)

from ..conftest import HYP, HYPNOGRAMS, PSG, require_sleep_edf

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_load_real_psg_type_units_and_windows(fake_fetch):
    calls = fake_fetch([(PSG, HYP)])
    ds = load_sleep_physionet([0], recording_ids=(1,), crop_wake_mins=600, path="x")
    assert calls == [dict(subjects=[0], recording=[1], path="x")]
    assert isinstance(ds, BaseConcatDataset)
    assert isinstance(ds.datasets[0], RawDataset)
    assert ds.description.to_dict("records") == [{"subject": 0, "recording": 1}]
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["Fpz-Cz", "Pz-Oz"]
    assert raw.info["sfreq"] == 100
    assert raw.n_times == 30000
    assert np.abs(raw.get_data()).max() < 1e-3  # volts
    assert list(raw.annotations.description) == ["Sleep stage W"]

    preprocess_sleep(ds)
    data = ds.datasets[0].raw.get_data()
    # standardised per recording: median 0, interquartile range 1 per channel
    low, median, high = np.percentile(data, (25, 50, 75), axis=1)
    np.testing.assert_allclose(median, 0, atol=1e-6)
    np.testing.assert_allclose(high - low, 1, rtol=1e-6)
    windows = create_sleep_windows(ds)
    X, y, subjects = windows_to_arrays(windows)
    assert X.shape == (10, 2, 3000) and X.dtype == np.float32
    assert y.tolist() == [0] * 10 and y.dtype == np.int64
    assert subjects.tolist() == [0] * 10
    np.testing.assert_allclose(X[3], data[:, 9000:12000], rtol=1e-5)


def test_same_signals_as_braindecode_sleepphysionet(fake_fetch):
    fake_fetch([(PSG, HYP)])
    ours = load_sleep_physionet(0, recording_ids=1, crop_wake_mins=0)
    theirs = SleepPhysionet(
        subject_ids=[0], recording_ids=[1], crop_wake_mins=0, preload=True
    )
    np.testing.assert_array_equal(
        ours.datasets[0].raw.get_data(), theirs.datasets[0].raw.get_data()
    )
    assert ours.description.equals(theirs.description)


def test_load_all_channels(fake_fetch):
    fake_fetch([(PSG, HYP)])
    ds = load_sleep_physionet([0], crop_wake_mins=0, load_eeg_only=False)
    raw = ds.datasets[0].raw
    assert raw.get_channel_types()[:3] == ["eeg", "eeg", "eog"]
    preprocess_sleep(ds)  # the default picks keep the EEG only
    assert ds.datasets[0].raw.ch_names == ["Fpz-Cz", "Pz-Oz"]


def test_crop_wake_and_mapping_on_real_signals(fake_fetch, tmp_path):
    # real PSG, hand-made hypnogram: sleep from 120 s to 210 s
    hyp = tmp_path / "SC4001EX-Hypnogram.txt"
    mne.Annotations(
        onset=[0, 120, 150, 180, 210, 240],
        duration=[120, 30, 30, 30, 30, 86160],
        description=[
            "Sleep stage W",
            "Sleep stage 1",
            "Sleep stage 4",
            "Sleep stage R",
            "Sleep stage ?",
            "Sleep stage W",
        ],
    ).save(hyp)
    fake_fetch([(PSG, hyp)])
    ds = load_sleep_physionet([0], crop_wake_mins=1)
    raw = ds.datasets[0].raw
    assert raw.n_times == 21000  # 60 s .. 270 s
    original = mne.io.read_raw_edf(PSG, preload=True, verbose="error")
    np.testing.assert_array_equal(raw.get_data()[0], original.get_data()[0, 6000:27000])
    preprocess_sleep(ds)
    X, y, _ = windows_to_arrays(create_sleep_windows(ds))
    assert y.tolist() == [0, 0, 1, 3, 4, 0]  # stage 4 -> N3, '?' dropped


def test_crop_that_empties_the_recording_is_a_clear_error(fake_fetch):
    fake_fetch([(PSG, HYP)])  # first sleep epoch at 8.5 h, the file lasts 5 min
    with pytest.raises(ValueError, match="crop_wake_mins"):
        load_sleep_physionet([0], crop_wake_mins=30)


def test_hypnogram_without_sleep(fake_fetch, tmp_path):
    hyp = tmp_path / "wake-Hypnogram.txt"
    mne.Annotations([0], [300], ["Sleep stage W"]).save(hyp)
    fake_fetch([(PSG, hyp)])
    with pytest.raises(ValueError, match="no sleep stage"):
        load_sleep_physionet([0], crop_wake_mins=30)
    assert len(load_sleep_physionet([0], crop_wake_mins=0).datasets) == 1


def test_download_failure_fails_fast_with_instructions(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'physionet.org'")

    monkeypatch.setattr(mne.datasets.sleep_physionet.age, "fetch_data", offline)
    with pytest.raises(ConnectionError) as excinfo:
        load_sleep_physionet([0, 1], recording_ids=(1,), path=str(tmp_path))
    msg = str(excinfo.value)
    assert "physionet.org" in msg
    assert "PHYSIONET_SLEEP_PATH" in msg
    assert str(tmp_path / "physionet-sleep-data") in msg
    assert "SC4001E0-PSG.edf" in msg and "SC4011EH-Hypnogram.edf" in msg
    assert "SC4002E0-PSG.edf" not in msg  # night 2 was not requested
    assert isinstance(excinfo.value.__cause__, requests.exceptions.ConnectionError)


@pytest.mark.parametrize(
    "args, options, error, match",
    [
        (
            ("12",),
            {},
            TypeError,
            r"subject_ids must be an int or a list of ints, got '12'",
        ),
        (([1.7],), {}, TypeError, r"subject_ids must be .*got \[1\.7\]"),
        ((True,), {}, TypeError, "a bool is not a subject index"),
        (
            (None,),
            {},
            TypeError,
            "subject_ids must be an int or a list of ints, got None",
        ),
        (([],), {}, ValueError, r"subject_ids=\[\] selects no subject"),
        ((0,), dict(recording_ids="12"), TypeError, "recording_ids must be .*got '12'"),
        ((0,), dict(recording_ids=[1.0]), TypeError, "recording_ids must be"),
        (
            (0,),
            dict(recording_ids=()),
            ValueError,
            r"recording_ids=\(\) selects no night",
        ),
        ((0,), dict(recording_ids=[3]), ValueError, r"night\(s\) \[3\]: Sleep-EDF has"),
        (
            (0,),
            dict(crop_wake_mins=-5),
            ValueError,
            "crop_wake_mins must be a number >= 0",
        ),
        ((0,), dict(crop_wake_mins=float("nan")), ValueError, "crop_wake_mins must be"),
        ((0,), dict(crop=(10, 5)), ValueError, r"crop=\(10, 5\) ends before it starts"),
        (
            (0,),
            dict(crop=(-1, 5)),
            ValueError,
            r"crop\[0\] \(tmin\) must be a number >= 0",
        ),
        ((0,), dict(crop=5), ValueError, "crop must be None or a pair"),
    ],
)
def test_options_are_checked_before_the_download(
    monkeypatch, args, options, error, match
):
    # probe 3, finding 8: '12' fetched subjects [1, 2], [1.7] subject 1,
    # recording_ids='12' nights [1, 2]; crop options went to the download
    def fetch_data(*args, **kwargs):
        raise AssertionError("fetch_data was called")

    monkeypatch.setattr(mne.datasets.sleep_physionet.age, "fetch_data", fetch_data)
    with pytest.raises(error, match=match):
        load_sleep_physionet(*args, **options)


def test_valid_ids_and_crops_reach_the_download(monkeypatch):
    calls = []

    def fetch_data(subjects, recording=(1, 2), path=None, **kwargs):
        calls.append((subjects, recording))
        return []

    monkeypatch.setattr(mne.datasets.sleep_physionet.age, "fetch_data", fetch_data)
    for options in (dict(crop=(0, None)), dict(crop_wake_mins=None), {}):
        with pytest.raises(ValueError, match="No Sleep-EDF recording"):
            load_sleep_physionet(np.int64(3), recording_ids=2, **options)
    with pytest.raises(ValueError, match="No Sleep-EDF recording"):
        load_sleep_physionet([0, 1], recording_ids=(1, 2), crop=(0.0, 60))
    assert calls == [([3], [2])] * 3 + [([0, 1], [1, 2])]


def _hypnogram_ids():
    return [p.name[:8] for p in HYPNOGRAMS]


@pytest.mark.parametrize("hyp_path", HYPNOGRAMS, ids=_hypnogram_ids())
def test_real_hypnograms_parse_with_mapping(hyp_path):
    annots = mne.read_annotations(hyp_path)
    descriptions = set(annots.description)
    assert descriptions <= set(SLEEP_STAGE_MAPPING) | set(IGNORED_SLEEP_DESCRIPTIONS)
    # window the real hypnogram over a flat 1 Hz signal of the same length
    end = annots.onset[-1] + annots.duration[-1]
    raw = mne.io.RawArray(
        np.zeros((1, int(end))), mne.create_info(["EEG"], 1.0, "eeg"), verbose="error"
    )
    raw.set_annotations(annots)
    ds = BaseConcatDataset([RawDataset(raw, {"subject": 0, "recording": 1})])
    _, y, _ = windows_to_arrays(create_sleep_windows(ds))
    expected = np.zeros(5, dtype=int)
    for duration, desc in zip(annots.duration, annots.description):
        if desc in SLEEP_STAGE_MAPPING:
            expected[SLEEP_STAGE_MAPPING[desc]] += int(duration // 30)
    np.testing.assert_array_equal(np.bincount(y, minlength=5), expected)
    assert np.all(expected > 0)  # every night has W, N1, N2, N3 and REM


def test_all_twenty_hypnograms_present():
    require_sleep_edf()
    assert len(HYPNOGRAMS) == 20


def _copy_truncated(src, dst, fraction):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_truncated_download_is_refused(fake_fetch, tmp_path):
    # issue 26: a truncated Sleep-EDF file loaded with only mne's warning
    psg = _copy_truncated(PSG, tmp_path / "SC4001E0-PSG.edf", 0.5)
    fake_fetch([(psg, HYP)])
    with pytest.raises(ValueError, match="SC4001E0-PSG.edf'? is truncated") as err:
        load_sleep_physionet([0], crop_wake_mins=0)
    assert "delete it" in str(err.value)
    hyp = _copy_truncated(HYP, tmp_path / "SC4001EC-Hypnogram.edf", 0.9)
    fake_fetch([(PSG, hyp)])
    with pytest.raises(ValueError, match="SC4001EC-Hypnogram.edf'? is truncated"):
        load_sleep_physionet([0], crop_wake_mins=0)


def test_file_that_is_not_edf_is_named_not_the_crop(fake_fetch, tmp_path):
    # issue 26: "Bad EDF file" was blamed on crop_wake_mins
    psg = tmp_path / "SC4001E0-PSG.edf"
    psg.write_bytes(b"<html><body>429 Too Many Requests</body></html>" * 20)
    fake_fetch([(psg, HYP)])
    with pytest.raises(ValueError) as err:
        load_sleep_physionet([0], crop_wake_mins=30)
    msg = str(err.value)
    assert "SC4001E0-PSG.edf" in msg and "not an EDF/BDF file" in msg
    assert "delete it and it will be downloaded again" in msg
    assert "crop_wake_mins" not in msg
