"""Tests of the command line (the pipeline behind it: test_pipeline.py)."""

import inspect
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

import braindecode_augnet
from braindecode_augnet.study import cli, pipeline
from braindecode_augnet.study.cli import build_parser, main

TINY = [
    "--n-subjects",
    "4",
    "--n-hours",
    "0.25",
    "--epochs",
    "1",
    "--n-copies",
    "2",
    "--seeds",
    "1",
    "--folds",
    "2",
    "--quiet",
]


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if the job gets as far as loading data."""

    def load(*args, **kwargs):
        raise AssertionError("the arguments must be refused before loading data")

    monkeypatch.setattr(cli, "load_sleep_windows", load)


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--dataset",
        "--data-path",
        "--epochs",
        "--seeds",
        "--folds",
        "--train-sizes",
        "--out",
        "--overwrite",
    ):
        assert option in out


def test_main_job_writes_the_paired_report(tmp_path):
    out = tmp_path / "report"
    assert main([*TINY, "--methods", "none", "augnet", "--out", str(out)]) == 0
    for name in (
        "report.md",
        "scores.csv",
        "scores.json",
        "paired.csv",
        "confusion_matrix.png",
        "hypnogram.png",
        "policy.png",
        "policy.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores["method"]) == ["none", "augnet"] * 2  # 2 folds
    assert list(scores["fold"]) == [0, 0, 1, 1]
    assert scores["balanced_accuracy"].between(0, 1).all()
    paired = json.loads((out / "scores.json").read_text())["paired"]
    assert [(p["pair"], p["n"]) for p in paired] == [("augnet - none", 2)]
    report = (out / "report.md").read_text()
    assert "| augnet - none | 2 |" in report
    assert "cannot reach p < 0.05" in report
    assert "python -m braindecode_augnet --n-subjects 4" in report
    design = json.loads((out / "scores.json").read_text())["design"]
    assert design["standardize"] == "recording"
    assert len(design["data fingerprint"]) == 16  # compared by --merge


def test_a_named_variant_is_compared_as_a_method(tmp_path):
    """--variant NAME=METHOD:key=value runs AugNet with other settings beside
    the methods, paired with them."""
    out = tmp_path / "report"
    argv = [*TINY, "--variant", "augnet_05=augnet:init_magnitude=0.5"]
    argv += ["--methods", "none", "augnet_05", "--out", str(out)]
    assert main(argv) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"none", "augnet_05"}
    assert "augnet_05 - none" in (out / "report.md").read_text()


def test_parse_variant_reads_literals():
    name, (method, params) = pipeline.parse_variant(
        "slow=augnet:aug_lr=None,init_magnitude=0.25,sampling=sampled"
    )
    assert (name, method) == ("slow", "augnet")
    assert params == {"aug_lr": None, "init_magnitude": 0.25, "sampling": "sampled"}


def test_a_variant_may_not_set_what_the_job_sets(tmp_path, capsys, no_loading):
    """Each run's seed is the job's: a variant's random_state was accepted
    and failed the job at its first AugNet run, losing the runs before."""
    with pytest.raises(ValueError, match="the job sets random_state itself"):
        pipeline.parse_variant("fixed_seed=augnet:random_state=3")
    spec = "fixed_seed=augnet:random_state=3"
    argv = ["--variant", spec, "--methods", "none", "fixed_seed"]
    err = _refused([*argv, "--out", str(tmp_path / "r")], capsys)
    assert "--first-seed and --seeds" in err and "leave it out" in err


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--data-path", "my_edf_folder"], "--data-path reads a real data set"),
        (["--n-windows", "7"], "--n-windows applies to the sequence models"),
        (
            ["--sequence-augmentation", "sequence"],
            "--sequence-augmentation applies to the sequence models",
        ),
    ],
)
def test_options_that_would_be_ignored_are_refused(
    argv, named, tmp_path, capsys, no_loading
):
    err = _refused([*argv, "--out", str(tmp_path / "r")], capsys)
    assert named in err
    assert not (tmp_path / "r").exists()


def test_missing_data_fails_fast_with_a_clear_message(tmp_path, capsys):
    out = tmp_path / "new" / "report"
    assert main(["--dataset", "mass", "--quiet", "--out", str(out)]) == 2
    assert "--data-path" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()  # the folders made for --out go
    nope = str(tmp_path / "nope")
    argv = ["--dataset", "mass", "--data-path", nope, "--quiet", "--out", str(out)]
    assert main(argv) == 2
    assert "nope" in capsys.readouterr().err


def test_offline_sleep_physionet_fails_fast(monkeypatch, capsys, tmp_path):
    import mne.datasets.sleep_physionet.age as age

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(age, "fetch_data", offline)
    argv = ["--dataset", "sleep-physionet", "--quiet", "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    assert "Sleep-EDF" in capsys.readouterr().err


def _default(func, name):
    return inspect.signature(func).parameters[name].default


def test_defaults_and_choices_are_the_pipelines():
    """One home for each constant: the CLI reads them from the pipeline."""
    args = build_parser().parse_args([])
    load, run = pipeline.load_sleep_windows, pipeline.run_comparison
    assert args.dataset == _default(load, "dataset")
    assert args.n_subjects == _default(load, "n_subjects")
    assert args.n_hours == _default(load, "n_hours")
    assert args.standardize == _default(load, "standardize")
    assert args.epochs == _default(run, "max_epochs")
    assert args.n_copies == _default(run, "n_copies")
    assert args.device == _default(run, "device")
    assert tuple(args.methods) == _default(run, "methods")
    assert args.seeds == _default(run, "n_seeds")
    assert args.first_seed == _default(run, "first_seed")
    assert args.folds == _default(run, "n_folds")
    assert tuple(args.train_sizes) == _default(run, "train_sizes")
    assert args.model == _default(run, "model")
    assert args.n_windows == _default(run, "n_windows")
    actions = {a.dest: a for a in build_parser()._actions}
    assert tuple(actions["dataset"].choices) == pipeline.DATASETS
    assert all(m in actions["methods"].help for m in pipeline.DEFAULT_METHODS)
    assert tuple(actions["model"].choices) == pipeline.MODELS
    # the default design: 6 pairs, the fewest that can reach p < 0.05
    assert args.seeds * args.folds == 6


def test_main_job_with_a_sequence_model(tmp_path):
    out = tmp_path / "report"
    argv = [*TINY, "--model", "timedistributed", "--n-windows", "4"]
    argv += ["--methods", "none", "augnet"]
    assert main([*argv, "--sequence-augmentation", "sequence", "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"none", "augnet"}
    assert scores["balanced_accuracy"].between(0, 1).all()
    assert "model timedistributed" in (out / "report.md").read_text()
    assert (out / "hypnogram.png").stat().st_size > 0


BAD_ARGUMENTS = [
    (["--epochs", "0"], "--epochs: must be >= 1"),
    (["--epochs", "-1"], "--epochs: must be >= 1"),
    (["--epochs", "two"], "--epochs: expected an integer"),
    (["--n-copies", "0"], "--n-copies: must be >= 1"),
    (["--seeds", "0"], "--seeds: must be >= 1"),
    (["--folds", "1"], "--folds: must be >= 2"),
    (["--n-hours", "0"], "--n-hours: must be > 0"),
    (["--train-sizes", "0"], "--train-sizes: must be > 0"),
    (["--train-sizes", "1.5"], "in (0, 1]"),
    (["--train-sizes", "0.5", "0.5"], "repeated sizes"),
    (["--n-windows", "0", "--model", "usleep"], "--n-windows: must be >= 1"),
    (["--n-subjects", "1"], "2 folds need at least 2 subjects"),
    (["--n-subjects", "3"], "at least 4 for 2 folds"),
    (["--folds", "9"], "9 folds need at least 9 subjects"),
    (["--subjects", "1", "2"], "--subjects selects recordings of a real data set"),
    (["--methods", "none", "none"], "repeated methods"),
    (["--methods", "fixed", "--model", "usleep"], "needs --model chambon"),
    (["--device", "foo"], "--device 'foo' is not a torch device"),
    (["--methods", "mixup"], "--methods: unknown mixup"),
    (["--variant", "augnet:init_magnitude=0.5"], "NAME=METHOD:key=value"),
    (["--variant", "none=augnet"], "with a new NAME"),
    (["--variant", "v=fixed:reg=1"], "METHOD among"),
    (["--variant", "v=augnet:init_magnitude=2"], "init_magnitude"),
    (["--variant", "v=augnet:no_such=1"], "no_such"),
    (["--variant", "v=augnet:reg"], "'reg' is not key=value"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_loading(
    argv, message, tmp_path, capsys, no_loading
):
    if argv[:2] in (["--n-subjects", "1"], ["--n-subjects", "3"]):
        argv = [*argv, "--folds", "2"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage:" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is there")
def test_cuda_without_a_gpu_is_refused(tmp_path, capsys, no_loading):
    with pytest.raises(SystemExit) as exit_info:
        main(["--device", "cuda", "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    assert "no CUDA GPU" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--dataset", "nope"), ("--model", "deepsleepnet")],
)
def test_unknown_choices_are_rejected(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([option, value])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# ------------------------------------------------------------------- --out
def _refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_out_that_is_a_file_is_refused_before_loading(tmp_path, capsys, no_loading):
    path = tmp_path / "report.md"
    path.write_text("x")
    assert "exists and is not a folder" in _refused(["--out", str(path)], capsys)


def test_unwritable_out_is_refused_before_loading(tmp_path, capsys, no_loading):
    err = _refused(["--out", "/proc/augnet-report"], capsys)
    assert "--out /proc/augnet-report: cannot write there" in err
    if os.geteuid() != 0:  # root writes through permissions
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        err = _refused(["--out", str(locked / "r")], capsys)
        assert "cannot write there" in err


def test_out_holding_files_needs_overwrite(tmp_path, capsys, no_loading):
    (tmp_path / "report.md").write_text("run 1")
    err = _refused(["--out", str(tmp_path)], capsys)
    assert "the folder holds files" in err and "--overwrite" in err
    assert (tmp_path / "report.md").read_text() == "run 1"


def _fake_comparison(methods, sizes=(1.0,), seed=0, score=None):
    """Runs of 2 folds; ``score(method, fold)``: their balanced accuracy
    (``0.5 + 0.1 * fold`` by default)."""
    score = score or (lambda method, fold: 0.5 + 0.1 * fold)
    rows = [
        dict(
            method=m,
            seed=seed,
            fold=f,
            train_size=s,
            n_train_subjects=4,
            epochs=1,
            best_epoch=1,
            balanced_accuracy=score(m, f),
            kappa=0.3,
            macro_f1=0.4,
            train_time_s=1.0,
        )
        for s in sizes
        for f in range(2)
        for m in methods
    ]
    return {"results": pd.DataFrame(rows), "predictions": {}, "models": {}}


def _fake_job(monkeypatch):
    """The job on 8 stub subjects, its comparison :func:`_fake_comparison`."""
    stub = SimpleNamespace(description=pd.DataFrame({"subject": range(8)}), datasets=[])
    monkeypatch.setattr(cli, "load_sleep_windows", lambda *a, **k: stub)
    monkeypatch.setattr(
        cli, "run_comparison", lambda *a, **k: _fake_comparison(k["methods"])
    )


def test_overwrite_leaves_no_file_of_the_earlier_run(tmp_path, monkeypatch):
    """Run 2 (without AugNet) replaces run 1's report as a whole."""
    _fake_job(monkeypatch)
    for name in ("report.md", "policy.csv", "policy.png", "hypnogram.png"):
        (tmp_path / name).write_text("run 1")
    (tmp_path / "my-notes.txt").write_text("kept")
    argv = ["--methods", "none", "random", "--quiet", "--out", str(tmp_path)]
    assert main([*argv, "--overwrite"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert not {"policy.csv", "policy.png", "hypnogram.png"} & names
    assert {"report.md", "scores.csv", "my-notes.txt"} <= names
    assert "random - none" in (tmp_path / "report.md").read_text()


def test_a_second_job_on_a_claimed_folder_is_refused(tmp_path, capsys, no_loading):
    """While a job runs, its folder is claimed: another job with the same
    --out (even with --overwrite) is refused, where it would replace the
    first one's report or mix its files with it."""
    (tmp_path / cli.JOB_MARKER).write_text("pid 12345, started today")
    err = _refused(["--out", str(tmp_path), "--overwrite"], capsys)
    assert "another job (pid 12345, started today) writes its report there" in err
    assert f"remove {tmp_path / cli.JOB_MARKER}" in err
    source = _report(tmp_path / "a", 0)
    merged = _refused(["--merge", source, "--out", str(tmp_path)], capsys)
    assert "another job" in merged
    # nor is a folder that a job writes in merged (its report may be replaced)
    out = str(tmp_path / "merged")
    merged = _refused(["--merge", source, str(tmp_path), "--out", out], capsys)
    assert f"--out {tmp_path}: another job" in merged


def test_a_job_claims_its_folder_while_it_runs_and_releases_it(tmp_path, monkeypatch):
    stub = SimpleNamespace(description=pd.DataFrame({"subject": range(8)}), datasets=[])
    monkeypatch.setattr(cli, "load_sleep_windows", lambda *a, **k: stub)
    claims = []

    def comparison(*args, **kwargs):
        claims.append((tmp_path / "out" / cli.JOB_MARKER).read_text())
        return _fake_comparison(kwargs["methods"])

    monkeypatch.setattr(cli, "run_comparison", comparison)
    argv = ["--methods", "none", "random", "--quiet", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert claims == [f"pid {os.getpid()}, started {claims[0].split('started ')[1]}"]
    assert not (tmp_path / "out" / cli.JOB_MARKER).exists()
    monkeypatch.setattr(cli, "load_sleep_windows", _raise(ValueError("bad data")))
    assert main([*argv[:-1], str(tmp_path / "new" / "out")]) == 2
    assert not (tmp_path / "new").exists()  # nothing written, nothing left


def _raise(err):
    def fail(*args, **kwargs):
        raise err

    return fail


def test_ctrl_c_while_the_report_is_written_keeps_the_earlier_one(
    tmp_path, monkeypatch, capsys
):
    """--overwrite replaces the earlier report only by a whole new one: a
    Ctrl-C (or a crash) while the files are written leaves it as it was,
    with no file of the new one beside it."""
    from braindecode_augnet.study import report

    _fake_job(monkeypatch)
    argv = ["--methods", "none", "random", "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {"report.md", "scores.json", "scores.csv", "paired.csv"} <= set(before)
    monkeypatch.setattr(report, "_health_section", _raise(KeyboardInterrupt()))
    assert main([*argv, "--overwrite"]) == cli.EXIT_INTERRUPTED
    assert "no report written" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "stop, code, note",
    [
        (pipeline.JobInterrupted, cli.EXIT_INTERRUPTED, "INTERRUPTED.md"),
        (pipeline.JobFailed, 1, "FAILED.md"),
    ],
)
def test_a_job_stopped_in_training_keeps_the_earlier_report(
    tmp_path, monkeypatch, capsys, stop, code, note
):
    """--overwrite replaces the earlier report only by a finished one: a job
    stopped in training (Ctrl-C, a run that raises) writes its note beside
    the earlier report, kept to the byte, and says so; an earlier job's note
    goes."""
    _fake_job(monkeypatch)
    argv = ["--methods", "none", "random", "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "INTERRUPTED.md").write_text("an earlier job's note")
    runs = pd.DataFrame(
        [dict(method="none", seed=0, fold=0, train_size=1.0, epochs=2, max_epochs=5)]
    ).assign(status="interrupted")

    args = (runs, RuntimeError("stopped")) if stop is pipeline.JobFailed else (runs,)
    monkeypatch.setattr(cli, "run_comparison", _raise(stop(*args)))
    assert main([*argv, "--overwrite"]) == code
    err = capsys.readouterr().err
    assert "no report written" in err and "earlier report in that folder is kept" in err
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == {*before, note}
    assert {name: after[name] for name in before} == before
    text = (tmp_path / note).read_text()
    assert "is an earlier job's, kept as it was: this job wrote none" in text
    assert "| none | 0 | 0 | 1.0 | 2 | 5 | interrupted |" in text
    # the earlier report is still one that --merge reads
    from braindecode_augnet.study import report

    assert len(report.read_report(tmp_path)[1]) == len(
        pd.read_csv(tmp_path / "scores.csv")
    )


def test_a_report_cut_short_while_moved_in_is_no_report(tmp_path, monkeypatch):
    """The earlier report's report.md and scores.json go first: moves cut
    short leave a folder that --merge refuses, not a mixed report."""
    from braindecode_augnet.study import report

    first = _report(tmp_path / "r", 0)
    moves = []

    def replace(src, dst):
        moves.append(dst)
        if len(moves) == 2:
            raise OSError("disk full")
        os.rename(src, dst)

    monkeypatch.setattr(report.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        _report(tmp_path / "r", 1, methods=("none", "random"))
    names = {p.name for p in Path(first).iterdir()}
    assert not {"report.md", "scores.json"} & names
    assert not any(name.startswith(".report-partial") for name in names)
    with pytest.raises(ValueError, match="not a finished report"):
        report.read_report(first)


def test_a_failed_run_leaves_a_note_of_what_ran(tmp_path, monkeypatch, capsys):
    """A run that raises ends the job with exit 1, its traceback, and
    FAILED.md: the runs started, their epochs and the error; no scores."""
    stub = SimpleNamespace(description=pd.DataFrame({"subject": range(8)}), datasets=[])
    monkeypatch.setattr(cli, "load_sleep_windows", lambda *a, **k: stub)
    runs = pd.DataFrame(
        [
            dict(method=m, seed=0, fold=0, train_size=1.0, epochs=e, max_epochs=5)
            for m, e in (("none", 5), ("augnet", 2))
        ]
    ).assign(status=["complete", "failed"])

    def fail(*args, **kwargs):
        try:
            raise FloatingPointError("the loss is not finite")
        except FloatingPointError as err:
            raise pipeline.JobFailed(runs, err) from err

    monkeypatch.setattr(cli, "run_comparison", fail)
    out = tmp_path / "r"
    assert main(["--methods", "none", "augnet", "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "FloatingPointError: the loss is not finite" in err
    assert f"what ran is listed in {out / 'FAILED.md'}" in err
    assert sorted(p.name for p in out.iterdir()) == ["FAILED.md"]
    note = (out / "FAILED.md").read_text()
    assert note.startswith("# FAILED: no report")
    assert "The run of 'augnet' (seed 0, fold 1, training size 1, after 2" in note
    assert "FloatingPointError: the loss is not finite" in note
    assert "| none | 0 | 0 | 1.0 | 5 | 5 | complete |" in note
    assert "balanced" not in note


# ------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_stops_the_whole_job(tmp_path):
    """SIGINT to a real run: exit 130, no report, the epochs trained said."""
    out = tmp_path / "report"
    repo = Path(braindecode_augnet.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1")
    argv = [*TINY, "--epochs", "10000", "--methods", "none", "random"]
    argv[argv.index("--quiet")] = "--epoch-logs"  # a line per epoch
    job = subprocess.Popen(
        [sys.executable, "-m", "braindecode_augnet", *argv, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        started = False
        for line in job.stdout:  # wait for the first model's first epoch
            started = started or "runs on" in line
            if started and line.split()[:1] == ["1"]:
                break
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=120)
    finally:
        job.kill()
    assert job.returncode == 130, err
    assert "interrupted (Ctrl-C) while training 'none'" in err
    assert "no report written" in err
    assert [p.name for p in out.iterdir()] == ["INTERRUPTED.md"]
    note = (out / "INTERRUPTED.md").read_text()
    row = next(line for line in note.splitlines() if line.startswith("| none"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[-1] == "interrupted" and cells[-2] == "10000"
    assert 1 <= int(cells[-3]) < 10000  # epochs trained
    assert "| random" not in note  # the job did not go on


# ------------------------------------------------------------------- merge
def _report(
    folder, seed, methods=("none", "augnet"), shift=0.0, argv=(), library=None, **design
):
    """A finished report of seed ``seed`` (2 folds), written as the job
    writes it; ``augnet`` = ``none`` + 0.1 (+ ``shift``)."""
    from braindecode_augnet.study.report import write_report

    def score(method, fold):
        return 0.5 + 0.01 * (seed + fold) + (0.1 + shift) * (method != "none")

    outcome = _fake_comparison(methods, seed=seed, score=score)
    command = ["python", "-m", "braindecode_augnet", *TINY, *argv]
    command += ["--first-seed", str(seed), "--methods", *methods]
    design = {
        "model": "chambon",
        "seeds": str(seed),
        "command": " ".join(command),
        **design,
    }
    if library is not None:
        design["library"] = library
    write_report(folder, outcome, design, verbose=False)
    return str(folder)


def test_merge_writes_one_report_of_the_runs_of_several(tmp_path):
    """Seeds run apart (e.g. on two machines) make one paired report."""
    a = _report(tmp_path / "a", 0)
    b = _report(tmp_path / "b", 1, methods=("none", "augnet", "random"))
    c = _report(tmp_path / "c", 1)  # seed 1 again: the same runs, kept once
    out = tmp_path / "merged"
    assert main(["--merge", a, b, c, "--out", str(out), "--quiet"]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 2 * 2 + 3 * 2
    assert sorted(scores["seed"].unique()) == [0, 1]
    paired = pd.read_csv(out / "paired.csv")
    row = paired[(paired["method"] == "augnet") & (paired["baseline"] == "none")]
    assert row["n"].item() == 4 and row["median"].item() == pytest.approx(0.1)
    report = (out / "report.md").read_text()
    assert "merged from" in report and "--merge" in report
    assert "--first-seed 0" in report  # the command that made the runs
    # a merged report merges again
    again = tmp_path / "again"
    assert main(["--merge", str(out), a, "--out", str(again), "--quiet"]) == 0
    assert len(pd.read_csv(again / "scores.csv")) == len(scores)


def test_merge_refuses_runs_that_differ(tmp_path, capsys):
    a = _report(tmp_path / "a", 0)
    b = _report(tmp_path / "b", 0, shift=0.02)  # the same runs, other scores
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "'augnet' (seed 0, fold 0" in err and "differs between reports" in err
    assert not (tmp_path / "m").exists()


def test_merge_refuses_reports_of_another_design(tmp_path, capsys):
    a = _report(tmp_path / "a", 0)
    b = _report(tmp_path / "b", 1, argv=["--epochs", "5"])
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "not of one design" in err and "epochs: 1 vs 5" in err
    a = _report(tmp_path / "c", 0, library="braindecode-augnet 0.1.0")
    b = _report(tmp_path / "d", 1, library="braindecode-augnet 0.2.0")
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "made by other versions" in err and "0.2.0" in err
    # a variant of one name must be the same variant in every report
    a = _report(
        tmp_path / "e", 0, ("none", "v"), argv=["--variant", "v=augnet:reg=0.1"]
    )
    b = _report(
        tmp_path / "f", 1, ("none", "v"), argv=["--variant", "v=augnet:reg=0.2"]
    )
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "defines the variant 'v' otherwise" in err
    # signals standardised per recording, or left in microvolts: also when
    # the report predates --standardize (its design does not say: microvolts)
    a = _report(tmp_path / "g", 0, standardize="recording")
    b = _report(tmp_path / "h", 1, argv=["--standardize", "none"])
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "standardised otherwise" in err and "none (microvolts)" in err
    # made on other data (e.g. another --data-path): the fingerprints differ
    a = _report(tmp_path / "i", 0, **{"data fingerprint": "0123456789abcdef"})
    b = _report(tmp_path / "j", 1, **{"data fingerprint": "fedcba9876543210"})
    err = _refused(["--merge", a, b, "--out", str(tmp_path / "m")], capsys)
    assert "made on other data" in err and "fedcba9876543210" in err


def test_merge_refuses_what_it_cannot_read_or_use(tmp_path, capsys):
    a = _report(tmp_path / "a", 0)
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / "INTERRUPTED.md").write_text("stopped")
    err = _refused(["--merge", a, str(interrupted)], capsys)
    assert "not a finished report" in err and str(interrupted) in err
    err = _refused(["--merge", a, "--epochs", "3"], capsys)
    assert "--epochs does not apply" in err
    for text, message in (
        ("{not json", "not a report's scores.json"),
        ('{"design": {}, "runs": []}', "its runs lack method"),
        (
            '{"design": {}, "runs": [{"method": "none", "seed": 0, "fold": 0}]}',
            "lack train_size",
        ),
    ):
        (interrupted / "scores.json").write_text(text)
        assert message in _refused(["--merge", a, str(interrupted)], capsys)
