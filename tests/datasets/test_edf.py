"""load_edf (a folder of your own PSGs and hypnograms), the EDF file checks
every loader runs, and the whole job on such a folder through the CLI."""

import shutil
import warnings
from datetime import UTC, datetime

import mne
import numpy as np
import pandas as pd
import pytest

from braindecode_augnet.datasets import (
    create_sleep_windows,
    load_edf,
    preprocess_sleep,
    windows_to_arrays,
)
from braindecode_augnet.datasets.edf import check_edf_file, find_edf_recordings
from braindecode_augnet.study.pipeline import load_sleep_windows

from ..conftest import HYP, PSG, SLEEP_EDF, require_sleep_edf

pytest.importorskip("edfio", reason="writing EDF test files needs edfio")

SFREQ = 128.0
CHANNELS = ["EEG Fpz-Cz", "EEG Pz-Oz", "EMG submental"]
MEAS_DATE = datetime(2020, 1, 1, 23, 0, tzinfo=UTC)
SEGMENT = SLEEP_EDF.parent / "real-eeg-segment"


def write_psg(path, n_epochs=4, seed=0, ch_names=CHANNELS, sfreq=SFREQ, fmt="edf"):
    """A PSG of white noise (volts), each channel offset to tell them apart."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((len(ch_names), int(n_epochs * 30 * sfreq))) * 20e-6
    data += np.arange(len(ch_names))[:, None] * 100e-6
    raw = mne.io.RawArray(
        data, mne.create_info(list(ch_names), sfreq, "eeg"), verbose="error"
    )
    raw.set_meas_date(MEAS_DATE)
    mne.export.export_raw(path, raw, fmt=fmt, overwrite=True, verbose="error")
    return data


def write_edf_hypnogram(path, stages, epoch_s=30.0):
    raw = mne.io.RawArray(
        np.zeros((1, int(len(stages) * epoch_s))),
        mne.create_info(["dummy"], 1.0, "misc"),
        verbose="error",
    )
    raw.set_meas_date(MEAS_DATE)
    raw.set_annotations(
        mne.Annotations(
            epoch_s * np.arange(len(stages)),
            [epoch_s] * len(stages),
            ["Sleep stage " + s for s in stages],
            orig_time=MEAS_DATE,
        )
    )
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")


def truncate(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


# ------------------------------------------------------------------- pairing
def test_pairing_rule(tmp_path):
    names = [
        "a.edf",
        "a.hyp.csv",
        "b.bdf",
        "b-Hypnogram.edf",
        "c.edf",
        "c.txt",
        "SC4011E0-PSG.edf",
        "SC4011EH-Hypnogram.edf",
        "01-03-0001 PSG.edf",
        "01-03-0001 Base.edf",
        "notes.md",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    pairs = [(p.name, h.name) for p, h in find_edf_recordings(tmp_path)]
    assert pairs == [
        ("01-03-0001 PSG.edf", "01-03-0001 Base.edf"),
        ("SC4011E0-PSG.edf", "SC4011EH-Hypnogram.edf"),
        ("a.edf", "a.hyp.csv"),
        ("b.bdf", "b-Hypnogram.edf"),
        ("c.edf", "c.txt"),
    ]
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(ValueError, match=r"a.edf'? matches several.*a.hyp.csv"):
        find_edf_recordings(tmp_path)
    (tmp_path / "a.csv").unlink()
    (tmp_path / "d.edf").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"d.edf'? has no hypnogram.*d.hyp.csv"):
        find_edf_recordings(tmp_path)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        load_edf(tmp_path / "nope")
    (tmp_path / "night.csv").write_text("W\n")
    with pytest.raises(FileNotFoundError, match="No PSG file"):
        load_edf(tmp_path)


# -------------------------------------------------------------------- loader
@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("psg")
    signals = {}
    signals["n1"] = write_psg(root / "n1.edf", seed=1)
    (root / "n1.hyp.csv").write_text("stage\nW\nN2\nMT\nR\n")
    signals["n2"] = write_psg(root / "n2.edf", seed=2)
    (root / "n2.txt").write_text("0\n2\n3\n4\n")  # R&K: 4 -> N3
    signals["n3"] = write_psg(root / "n3-PSG.edf", seed=3)
    write_edf_hypnogram(root / "n3-Hypnogram.edf", ["W", "1", "?", "2"])
    return root, signals


def test_load_a_folder_windows_and_labels(folder):
    root, signals = folder
    ds = load_edf(root, stage_coding="rk")
    records = ds.description[["subject", "psg", "hypnogram", "n_dropped_epochs"]]
    assert records.to_dict("records") == [
        {
            "subject": 0,
            "psg": "n1.edf",
            "hypnogram": "n1.hyp.csv",
            "n_dropped_epochs": 1,
        },
        {"subject": 1, "psg": "n2.edf", "hypnogram": "n2.txt", "n_dropped_epochs": 0},
        {
            "subject": 2,
            "psg": "n3-PSG.edf",
            "hypnogram": "n3-Hypnogram.edf",
            "n_dropped_epochs": 1,
        },
    ]
    raw = ds.datasets[1].raw
    assert raw.ch_names == ["EEG Fpz-Cz", "EEG Pz-Oz"]  # EEG... by default
    assert raw.get_channel_types() == ["eeg", "eeg"]
    np.testing.assert_allclose(raw.get_data(), signals["n2"][:2], atol=1e-7)
    preprocess_sleep(ds, sfreq=100)
    X, y, subjects = windows_to_arrays(create_sleep_windows(ds))
    assert X.shape == (10, 2, 3000)
    assert y.tolist() == [0, 2, 4] + [0, 2, 3, 3] + [0, 1, 2]
    assert subjects.tolist() == [0] * 3 + [1] * 4 + [2] * 3


def test_numeric_hypnogram_without_coding_names_file_and_line(folder):
    with pytest.raises(ValueError, match=r"n2.txt'?, line 1: stage '0'.*'rk'"):
        load_edf(folder[0])


def test_channels_by_name_and_subjects(folder, capsys):
    root, signals = folder
    ds = load_edf(
        root,
        channels=["pz-oz", "EMG submental"],
        stage_coding="rk",
        subject_ids=[2],
        verbose=True,
    )
    assert ds.description["psg"].tolist() == ["n3-PSG.edf"]
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["pz-oz", "EMG submental"]  # renamed as asked
    np.testing.assert_allclose(raw.get_data(), signals["n3"][[1, 2]], atol=1e-7)
    assert "3 scored epochs, 1 dropped (Sleep stage ? 1)" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"'EEG C3' not found in .*n1.edf"):
        load_edf(root, channels=["EEG C3"], stage_coding="rk")
    with pytest.raises(FileNotFoundError, match=r"No subject \[7\]"):
        load_edf(root, stage_coding="rk", subject_ids=[7])


@pytest.mark.parametrize(
    "options, error, match",
    [
        (dict(epoch_s=0), ValueError, "epoch_s must be a number > 0, got 0.0. It is"),
        (dict(epoch_s=np.nan), ValueError, r"epoch_s must be .*\(finite\), got nan"),
        (
            dict(crop_wake_mins=-5),
            ValueError,
            "crop_wake_mins must be a number >= 0, got -5.0. It is the minutes",
        ),
        (dict(crop_wake_mins=np.inf), ValueError, "crop_wake_mins must be .* got inf"),
        (dict(subject_ids=[]), ValueError, "selects no subject; pass None for all"),
        (dict(subject_ids=True), TypeError, r"got True \(a bool is not a subject"),
        (dict(subject_ids=[0, True]), TypeError, "a bool is not a subject index"),
        (dict(channels=[]), ValueError, r"channels=\[\] selects no channel"),
        (
            dict(channels=["EEG Fpz-Cz", "EEG Fpz-Cz"]),
            ValueError,
            r"names 'EEG Fpz-Cz' twice \(entries 0 and 1\); name each channel once",
        ),
    ],
)
def test_options_are_checked_before_any_file_is_read(tmp_path, options, error, match):
    # the folder does not exist: the option is refused before it is looked at
    with pytest.raises(error, match=match):
        load_edf(tmp_path / "nope", **options)


def test_two_channels_resolving_to_one_file_channel(folder):
    with pytest.raises(
        ValueError,
        match=r"'EEG Fpz-Cz' and \['Fpz', 'fpz-cz'\] are both channel 'EEG Fpz-Cz' "
        r"of .*n1.edf'? \(named twice\)",
    ):
        load_edf(folder[0], channels=["EEG Fpz-Cz", ("Fpz", "fpz-cz")])


def test_change_points_after_the_end_of_the_psg_are_reported(tmp_path):
    write_psg(tmp_path / "x.edf", n_epochs=2)  # 60 s
    (tmp_path / "x.csv").write_text("0,W\n30,N2\n60,R\n")  # R marks the end
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_edf(tmp_path, crop_wake_mins=0)
    assert not [w for w in caught if "beyond the end" in str(w.message)]
    assert ds.datasets[0].raw.annotations.duration.tolist()[:2] == [30, 30]
    # REM after the end lasts one epoch (not 60 - 600 s): reported
    (tmp_path / "x.csv").write_text("0,W\n30,N2\n600,R\n")
    with pytest.warns(RuntimeWarning, match="scores 19 epochs beyond the end"):
        load_edf(tmp_path)


def test_bdf_and_a_hypnogram_that_does_not_fit(tmp_path):
    data = write_psg(tmp_path / "x.bdf", n_epochs=2, fmt="bdf")
    (tmp_path / "x.csv").write_text("0,30,W\n30,30,N2\n")
    ds = load_edf(tmp_path)
    np.testing.assert_allclose(ds.datasets[0].raw.get_data(), data[:2], atol=1e-8)
    (tmp_path / "x.csv").write_text("0,30,W\n30,30,N2\n60,90,N2\n")
    with pytest.warns(RuntimeWarning, match="scores 3 epochs beyond the end"):
        load_edf(tmp_path)
    (tmp_path / "x.csv").write_text("600,30,W\n")
    with pytest.raises(ValueError, match="No scored epoch of hypnogram"):
        load_edf(tmp_path)


def test_sleep_edf_naming_real_psg(tmp_path):
    require_sleep_edf()
    shutil.copy(PSG, tmp_path / "SC4001E0-PSG.edf")
    shutil.copy(HYP, tmp_path / "SC4001EC-Hypnogram.edf")
    with pytest.warns(RuntimeWarning, match="beyond the end"):  # a 5-min crop
        ds = load_edf(tmp_path, channels=["Fpz-Cz"])
    assert ds.description.loc[0, "subject_name"] == "SC400"
    assert ds.description.loc[0, "recording"] == 1
    raw = ds.datasets[0].raw
    assert raw.ch_names == ["Fpz-Cz"] and raw.info["sfreq"] == 100
    original = mne.io.read_raw_edf(PSG, preload=True, verbose="error")
    np.testing.assert_array_equal(raw.get_data()[0], original.get_data()[0])
    preprocess_sleep(ds)
    _, y, _ = windows_to_arrays(create_sleep_windows(ds))
    assert y.tolist() == [0] * 10


def test_real_segment_as_edf_with_prerau_stages(tmp_path):
    data_file = SEGMENT / "segment_data.csv"
    if not data_file.is_file():
        pytest.skip(f"real EEG segment not found in {SEGMENT}")
    n = 100 * 60 * 12  # the first 12 minutes
    data = pd.read_csv(data_file, header=None, nrows=n)[0].to_numpy() * 1e-6
    raw = mne.io.RawArray(
        data[None], mne.create_info(["EEG C3-M2"], 100.0, "eeg"), verbose="error"
    )
    mne.export.export_raw(tmp_path / "seg.edf", raw, fmt="edf", verbose="error")
    shutil.copy(SEGMENT / "segment_stages.csv", tmp_path / "seg.hyp.csv")
    ds = load_edf(tmp_path, stage_coding="prerau")
    preprocess_sleep(ds, h_freq=None, standardize=None)  # microvolts
    windows = create_sleep_windows(ds)
    X, y, _ = windows_to_arrays(windows)
    # REM 0-40 s, W 40-70 s, N1 70-100 s, N2 from 100 s (onsets + 0.01 s)
    assert y.tolist() == [4, 0, 1] + [2] * 20
    assert windows.datasets[0].crop_inds[1, 1] == 4001  # W starts at 40.01 s
    np.testing.assert_allclose(X[1, 0], data[4001:7001] * 1e6, atol=0.05)


# ------------------------------------------------------ truncated, not EDF
def test_truncated_edf_is_refused_with_the_loss(tmp_path):
    write_psg(tmp_path / "night.edf", n_epochs=16)
    (tmp_path / "night.csv").write_text("W\n" * 16)
    check_edf_file(tmp_path / "night.edf")
    truncate(tmp_path / "night.edf")
    with pytest.raises(ValueError, match="night.edf'? is truncated") as excinfo:
        load_edf(tmp_path)
    msg = str(excinfo.value)
    assert "about 8 30-s epochs, are missing" in msg
    assert "Number of records from the header does not match the file size" in msg


def test_not_an_edf_is_refused(tmp_path):
    (tmp_path / "night.edf").write_bytes(b"<html>Too many requests</html>" * 10)
    (tmp_path / "night.csv").write_text("W\n")
    with pytest.raises(ValueError, match=r"night.edf'? is not an EDF/BDF file"):
        load_edf(tmp_path)


# ----------------------------------------------------------- pipeline, CLI
def _tiny_folder(root, n_subjects=3):
    root.mkdir(exist_ok=True)
    for i in range(n_subjects):
        write_psg(root / f"s{i}.edf", n_epochs=2, seed=i)
        (root / f"s{i}.csv").write_text("W\nN2\n")
    return root


def test_pipeline_loads_the_edf_dataset(tmp_path):
    _tiny_folder(tmp_path)
    windows = load_sleep_windows(
        "edf", data_path=tmp_path, channels=["Fpz-Cz"], verbose=False
    )
    X, y, subjects = windows_to_arrays(windows)
    assert X.shape == (6, 1, 3000)  # 128 Hz resampled to 100 Hz
    assert y.tolist() == [0, 2] * 3
    with pytest.raises(ValueError, match="needs --data-path"):
        load_sleep_windows("edf", verbose=False)
    with pytest.raises(ValueError, match="edf data set only"):
        load_sleep_windows("synthetic", channels=["Fpz-Cz"], verbose=False)


def test_cli_runs_the_whole_job_on_a_folder_of_edf_files(tmp_path, capsys):
    from braindecode_augnet.study.cli import main
    from braindecode_augnet.study.pipeline import DEFAULT_METHODS

    data = _tiny_folder(tmp_path / "data")
    out = tmp_path / "report"
    argv = ["--dataset", "edf", "--data-path", str(data), "--channels", "Fpz-Cz"]
    argv += ["--stage-coding", "W=W,N2=N2", "--epochs", "1", "--n-copies", "2"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == set(DEFAULT_METHODS)
    assert (out / "report.md").stat().st_size > 0
    code = main(["--dataset", "edf", "--data-path", str(data), "--stage-coding", "x"])
    assert code == 2
    assert "Unknown stage_coding 'x'" in capsys.readouterr().err
