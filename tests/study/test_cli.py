"""Tests of the command line (the pipeline behind it: test_pipeline.py)."""

import inspect
import json

import pandas as pd
import pytest

from braindecode_augnet.study import pipeline
from braindecode_augnet.study.cli import build_parser, main

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


def _default(func, name):
    return inspect.signature(func).parameters[name].default


def test_defaults_and_choices_are_the_pipelines():
    """One home for each constant: the CLI reads them from the pipeline."""
    args = build_parser().parse_args([])
    load, train = pipeline.load_sleep_windows, pipeline.train_sleep_models
    assert args.dataset == _default(load, "dataset")
    assert args.n_subjects == _default(load, "n_subjects")
    assert args.n_hours == _default(load, "n_hours")
    assert args.epochs == _default(train, "max_epochs")
    assert args.n_copies == _default(train, "n_copies")
    assert args.device == _default(train, "device")
    assert tuple(args.methods) == _default(train, "methods")
    assert args.seeds == [_default(train, "seed")]
    actions = {a.dest: a for a in build_parser()._actions}
    assert tuple(actions["dataset"].choices) == pipeline.DATASETS
    assert tuple(actions["methods"].choices) == pipeline.METHODS
    assert args.model == _default(train, "model")
    assert args.n_windows == _default(train, "n_windows")
    assert tuple(actions["model"].choices) == pipeline.MODELS


def test_main_job_with_a_sequence_model(tmp_path):
    out = tmp_path / "report"
    argv = [*TINY, "--model", "timedistributed", "--n-windows", "4"]
    assert main([*argv, "--sequence-augmentation", "sequence", "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores["method"]) == ["none", "augnet"]
    assert scores["balanced_accuracy"].between(0, 1).all()
    report = (out / "report.md").read_text()
    assert "Trunk: timedistributed." in report
    assert (out / "hypnogram.png").stat().st_size > 0


def test_bad_number_of_windows_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", "usleep", "--n-windows", "0"])
    assert exit_info.value.code == 2
    assert "--n-windows must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--dataset", "edf"), ("--methods", "mixup"), ("--model", "deepsleepnet")],
)
def test_unknown_choices_are_rejected(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([option, value])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
