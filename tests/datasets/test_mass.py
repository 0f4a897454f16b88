"""MASS loader, tested on small EDF files written in the MASS layout."""

from datetime import UTC, datetime

import mne
import numpy as np
import pytest
from braindecode.datasets import BaseConcatDataset, RawDataset

from braindecode_augnet.datasets import (
    create_sleep_windows,
    load_mass,
    preprocess_sleep,
    windows_to_arrays,
)

pytest.importorskip("edfio", reason="writing EDF test files needs edfio")

SFREQ = 128.0
MEAS_DATE = datetime(2005, 3, 1, 22, 0, tzinfo=UTC)
STAGES = ["W", "W", "1", "2", "2", "3", "4", "R", "?", "W"]  # 30-s epochs
ALL_CHANNELS = ["EEG F3-CLE", "EEG C3-CLE", "EEG C4-CLE", "EOG Left Horiz"]
EXPECTED_Y = [0, 0, 1, 2, 2, 3, 3, 4, 0]
N_EPOCHS = len(STAGES)


def _write_psg(path, ch_names=ALL_CHANNELS, seed=0, n_epochs=N_EPOCHS):
    rng = np.random.default_rng(seed)
    n = int(n_epochs * 30 * SFREQ)
    data = rng.standard_normal((len(ch_names), n)) * 20e-6
    data += np.arange(len(ch_names))[:, None] * 50e-6  # channel fingerprint
    raw = mne.io.RawArray(
        data, mne.create_info(list(ch_names), SFREQ, "eeg"), verbose="error"
    )
    raw.set_meas_date(MEAS_DATE)
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")
    return data


def _write_base(path, stages=STAGES, start=0.0):
    n = len(stages)
    raw = mne.io.RawArray(
        np.zeros((1, int((start + 30 * n) * SFREQ))),
        mne.create_info(["dummy"], SFREQ, "misc"),
        verbose="error",
    )
    raw.set_meas_date(MEAS_DATE)
    raw.set_annotations(
        mne.Annotations(
            onset=start + 30.0 * np.arange(n),
            duration=[30.0] * n,
            description=["Sleep stage " + s for s in stages],
            orig_time=MEAS_DATE,
        )
    )
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")


@pytest.fixture(scope="module")
def mass_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("SS3")
    signals = {}
    for subject in (1, 2):
        rid = f"01-03-{subject:04d}"
        signals[subject] = _write_psg(root / f"{rid} PSG.edf", seed=subject)
        _write_base(root / f"{rid} Base.edf")
    return root, signals


def test_load_layout_type_and_pipeline(mass_dir):
    root, signals = mass_dir
    ds = load_mass(root, crop_wake_mins=None)
    assert isinstance(ds, BaseConcatDataset)
    assert all(isinstance(d, RawDataset) for d in ds.datasets)
    assert ds.description.to_dict("records") == [
        {"subject": 1, "recording": 1, "subset": "SS3"},
        {"subject": 2, "recording": 1, "subset": "SS3"},
    ]
    raw = ds.datasets[1].raw
    assert raw.ch_names == ["EEG C3-CLE", "EEG C4-CLE"]
    assert raw.get_channel_types() == ["eeg", "eeg"]
    # signals in volts, the right channels (EDF keeps ~16-bit precision)
    np.testing.assert_allclose(raw.get_data(), signals[2][1:3], atol=1e-7)
    assert "Sleep stage ?" in raw.annotations.description

    preprocess_sleep(ds, sfreq=100)
    X, y, subjects = windows_to_arrays(create_sleep_windows(ds))
    assert X.shape == (18, 2, 3000)
    assert y.tolist() == EXPECTED_Y * 2
    assert subjects.tolist() == [1] * 9 + [2] * 9


def test_channel_order_subjects_and_crop(mass_dir):
    root, signals = mass_dir
    ds = load_mass(root, subject_ids=2, channels=["EEG C4-CLE", "EEG F3-CLE"])
    assert ds.description["subject"].tolist() == [2]
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["EEG C4-CLE", "EEG F3-CLE"]
    np.testing.assert_allclose(raw.get_data()[0], signals[2][2], atol=1e-7)
    ds = load_mass(root, subject_ids=[1], crop_wake_mins=0.5)
    # sleep from 60 s to 240 s, 30 s of wake kept on each side
    assert ds.datasets[0].raw.times[-1] == pytest.approx(240 - 1 / SFREQ)
    _, y, _ = windows_to_arrays(create_sleep_windows(ds))
    assert y.tolist() == [0, 1, 2, 2, 3, 3, 4]


def test_channel_alternatives_and_sub_folders(tmp_path):
    (tmp_path / "SS1 biosignals").mkdir()
    (tmp_path / "SS1 annotations").mkdir()
    data = _write_psg(
        tmp_path / "SS1 biosignals" / "01-01-0005 PSG.edf",
        ch_names=["EEG C3-LER", "EEG C4-LER"],
    )
    _write_base(tmp_path / "SS1 annotations" / "01-01-0005 Base.edf")
    alternatives = [("EEG C3-CLE", "EEG C3-LER"), ("EEG C4-CLE", "EEG C4-LER")]
    ds = load_mass(tmp_path, channels=alternatives)
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["EEG C3-CLE", "EEG C4-CLE"]
    np.testing.assert_allclose(raw.get_data(), data, atol=1e-7)
    assert ds.description.loc[0, "subset"] == "SS1"


@pytest.mark.parametrize(
    "psg_name, base_name",
    [
        ("01-03-0001 PSG.edf", "01-03-0001 Base.EDF"),
        ("01-03-0001 psg.EDF", "01-03-0001 base.EDF"),
        ("01-03-0001 PSG.Edf", "01-03-0001 BASE.Edf"),
    ],
)
def test_upper_case_suffixes_are_read(tmp_path, psg_name, base_name):
    # probe 3, finding 15: a 'Base.EDF' was found (names matched without
    # case) then reported as an unreadable annotation file ("Unknown
    # annotation file format"): mne knows annotation files by '.edf' only
    data = _write_psg(tmp_path / "a.edf")
    (tmp_path / "a.edf").rename(tmp_path / psg_name)
    _write_base(tmp_path / "b.edf")
    (tmp_path / "b.edf").rename(tmp_path / base_name)
    ds = load_mass(tmp_path, crop_wake_mins=None)
    raw = ds.datasets[0].raw
    np.testing.assert_allclose(raw.get_data(), data[1:3], atol=1e-7)
    assert list(raw.annotations.description) == ["Sleep stage " + s for s in STAGES]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([psg_name, base_name])
    _, y, _ = windows_to_arrays(create_sleep_windows(ds))
    assert y.tolist() == EXPECTED_Y


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        load_mass(tmp_path / "does-not-exist")
    with pytest.raises(FileNotFoundError, match="No MASS PSG file"):
        load_mass(tmp_path)
    _write_psg(tmp_path / "01-03-0007 PSG.edf", n_epochs=2)
    with pytest.raises(FileNotFoundError, match="01-03-0007 Base.edf"):
        load_mass(tmp_path)


def test_missing_subject(mass_dir):
    with pytest.raises(FileNotFoundError, match=r"subjects \[3\]"):
        load_mass(mass_dir[0], subject_ids=[1, 3])


def test_missing_channel(mass_dir):
    with pytest.raises(ValueError, match="'EEG O1-CLE' not found.*EEG F3-CLE"):
        load_mass(mass_dir[0], channels=("EEG C3-CLE", "EEG O1-CLE"))


def test_malformed_files(tmp_path):
    (tmp_path / "01-03-0001 PSG.edf").write_bytes(b"not an EDF file" * 20)
    _write_base(tmp_path / "01-03-0001 Base.edf")
    with pytest.raises(ValueError, match="01-03-0001 PSG.edf"):
        load_mass(tmp_path)
    _write_psg(tmp_path / "01-03-0001 PSG.edf", n_epochs=2)
    (tmp_path / "01-03-0001 Base.edf").write_bytes(b"garbage" * 50)
    with pytest.raises(ValueError, match="01-03-0001 Base.edf"):
        load_mass(tmp_path)


def test_annotations_without_sleep_stages(tmp_path):
    _write_psg(tmp_path / "01-03-0001 PSG.edf", n_epochs=2)
    _write_base(tmp_path / "01-03-0001 Base.edf", stages=["unscored", "unscored"])
    # descriptions become "Sleep stage unscored": not sleep stages
    with pytest.raises(ValueError, match="no sleep-stage annotation"):
        load_mass(tmp_path)


def test_mixed_subsets(tmp_path):
    for rid in ("01-01-0001", "01-03-0001"):
        _write_psg(tmp_path / f"{rid} PSG.edf", n_epochs=2)
        _write_base(tmp_path / f"{rid} Base.edf", stages=["W", "2"])
    with pytest.raises(ValueError, match="mixes several MASS subsets"):
        load_mass(tmp_path)


def _truncate(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def test_truncated_psg_is_refused_naming_the_loss(tmp_path):
    # issue 26: a PSG cut to half its bytes loaded 7 of 16 windows silently
    _write_psg(tmp_path / "01-03-0001 PSG.edf", n_epochs=16)
    _write_base(tmp_path / "01-03-0001 Base.edf", stages=["W"] * 16)
    assert len(load_mass(tmp_path, crop_wake_mins=0).datasets) == 1
    _truncate(tmp_path / "01-03-0001 PSG.edf")
    with pytest.raises(ValueError, match="01-03-0001 PSG.edf'? is truncated") as err:
        load_mass(tmp_path, crop_wake_mins=0)
    assert "30-s epochs, are missing" in str(err.value)
    assert "does not match the file size" in str(err.value)


def test_truncated_annotation_file_is_refused(tmp_path):
    # issue 26: a Base.edf cut in half gave 8 of 16 windows
    _write_psg(tmp_path / "01-03-0001 PSG.edf", n_epochs=16)
    _write_base(tmp_path / "01-03-0001 Base.edf", stages=["W", "2"] * 8)
    _truncate(tmp_path / "01-03-0001 Base.edf")
    with pytest.raises(ValueError, match="01-03-0001 Base.edf'? is truncated"):
        load_mass(tmp_path, crop_wake_mins=0)


@pytest.mark.parametrize(
    "options, error, match",
    [
        (dict(crop_wake_mins=-5), ValueError, "crop_wake_mins must be a number >= 0"),
        (dict(subject_ids=[]), ValueError, "selects no subject"),
        (dict(subject_ids=True), TypeError, "a bool is not a subject index"),
        (dict(channels=[]), ValueError, r"channels=\[\] selects no channel"),
        (dict(channels=["EEG C3-CLE"] * 2), ValueError, "'EEG C3-CLE' twice"),
    ],
)
def test_options_are_checked_before_the_folder_is_read(tmp_path, options, error, match):
    with pytest.raises(error, match=match):  # the folder does not exist
        load_mass(tmp_path / "missing", **options)
