"""Tests of the command line and of the sleep-staging pipeline behind it."""

import json

import numpy as np
import pandas as pd
import pytest

from braindecode_augnet.cli import build_parser, main
from braindecode_augnet.pipeline import (
    load_sleep_windows,
    prepare_sleep_split,
    sleep_scores,
)

TINY = [
    "--n-subjects",
    "5",
    "--n-hours",
    "0.5",
    "--epochs",
    "1",
    "--n-copies",
    "2",
    "--quiet",
]


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--data-path", "--epochs", "--seeds", "--out"):
        assert option in out


def test_main_job_writes_the_report_folder(tmp_path):
    out = tmp_path / "report"
    assert main([*TINY, "--out", str(out)]) == 0
    for name in (
        "report.md",
        "scores.csv",
        "scores.json",
        "confusion_matrix.png",
        "hypnogram.png",
        "policy.png",
        "policy.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores["method"]) == ["none", "augnet"]
    assert scores["balanced_accuracy"].between(0, 1).all()
    summary = json.loads((out / "scores.json").read_text())["summary"]
    assert {row["method"] for row in summary} == {"none", "augnet"}
    report = (out / "report.md").read_text()
    assert "| augnet |" in report and "hypnogram.png" in report


def test_missing_data_fails_fast_with_a_clear_message(tmp_path, capsys):
    assert main(["--dataset", "mass", "--quiet"]) == 2
    assert "--data-path" in capsys.readouterr().err
    assert (
        main(["--dataset", "mass", "--data-path", str(tmp_path / "nope"), "--quiet"])
        == 2
    )
    assert "nope" in capsys.readouterr().err


def test_offline_sleep_physionet_fails_fast(monkeypatch, capsys):
    import mne.datasets.sleep_physionet.age as age

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(age, "fetch_data", offline)
    code = main(["--dataset", "sleep-physionet", "--n-subjects", "2", "--quiet"])
    assert code == 2
    assert "Sleep-EDF" in capsys.readouterr().err


def test_split_and_scores():
    windows = load_sleep_windows(n_subjects=5, n_hours=0.5, verbose=False)
    split = prepare_sleep_split(windows, seed=0)
    assert split["X_train"].dtype == np.float32
    assert split["X_train"].shape[1:] == (2, 3000)
    assert abs(float(np.std(split["X_train"])) - 1.0) < 1e-3
    assert split["sfreq"] == 100.0 and len(split["chs_info"]) == 2
    assert split["class_weights"].shape == (5,)
    perfect = sleep_scores(split["y_test"], split["y_test"])
    assert perfect == {"balanced_accuracy": 1.0, "kappa": 1.0, "macro_f1": 1.0}
