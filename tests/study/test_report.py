"""Tests of the report folder of the sleep-staging job."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from braindecode_augnet import policy_table, sinusoid_augmentation
from braindecode_augnet.study.report import (
    REPORT_FILES,
    clear_report,
    summarize_scores,
    training_health,
    warn_training_health,
    write_failed,
    write_interrupted,
    write_report,
)

N_TEST = 40


class Oracle:
    """A fitted-estimator stand-in: predicts stored stages for indexed X."""

    def __init__(self, y_pred, module=None, history=None):
        self.y_pred = np.asarray(y_pred)
        if module is not None:
            self.module_ = module  # what plot_policy and policy_table read
        if history is not None:
            self.history = history

    def predict(self, X):
        return self.y_pred[X[:, 0, 0].astype(int)]

    @property
    def policy_(self):
        return policy_table(self.module_, getattr(self, "history", None))


@pytest.fixture
def test_set():
    rng = np.random.default_rng(0)
    X = np.arange(N_TEST, dtype=np.float32).reshape(-1, 1, 1)  # X[i] = i
    y = rng.integers(0, 5, N_TEST)
    subjects = np.repeat([3, 7], N_TEST // 2)
    return X, y, subjects


DIFFS = [0.1, 0.2, -0.05, 0.0, 0.3, 0.15]


def _results(methods=("none", "augnet"), sizes=(1.0,)):
    """Runs of 2 seeds x 3 folds; augnet = none + DIFFS, random = none."""
    rows = []
    for size in sizes:
        for k in range(6):
            base = 0.5 + 0.05 * k
            for method in methods:
                rows.append(
                    {
                        "method": method,
                        "seed": k // 3,
                        "fold": k % 3,
                        "train_size": size,
                        "n_train_subjects": 4 * size,
                        "epochs": 3,
                        "best_epoch": 2,
                        "balanced_accuracy": base
                        + (DIFFS[k] if method == "augnet" else 0.0),
                        "kappa": 0.4,
                        "macro_f1": 0.45,
                        "f1_W": 0.9,
                        "f1_N1": 0.1 * k,
                        "f1_N2": 0.8,
                        "f1_N3": 0.7,
                        "f1_REM": float("nan"),
                        "train_time_s": 10.0,
                    }
                )
    return pd.DataFrame(rows)


def _outcome(test_set, methods=("none", "augnet"), sizes=(1.0,), augnet=None):
    X, y, subjects = test_set
    predictions = {
        (m, seed, fold): (y, y if m == "augnet" else (y + 1) % 5, subjects)
        for m in methods
        for seed in (0, 1)
        for fold in (0, 1, 2)
    }
    models = {} if augnet is None else {"augnet": augnet}
    return {
        "results": _results(methods, sizes),
        "predictions": predictions,
        "models": models,
    }


DESIGN = {"dataset": "synthetic", "folds": 3, "command": "python -m x", "date": "D"}


def test_summarize_scores_medians_per_method_in_order():
    summary = summarize_scores(_results(("augnet", "none")))
    assert list(summary.index) == ["augnet", "none"]
    assert summary.loc["none", "n_runs"] == 6
    assert summary.loc["none", "balanced_accuracy_median"] == pytest.approx(0.625)
    assert summary.loc["augnet", "f1_N1_median"] == pytest.approx(0.25)
    assert np.isnan(summary.loc["augnet", "f1_REM_median"])  # never present


def test_report_folder_with_augnet(tmp_path, test_set, capsys):
    augnet = Oracle(test_set[1], module=sinusoid_augmentation(random_state=0))
    outcome = _outcome(test_set, augnet=augnet)
    out = write_report(tmp_path / "a" / "report", outcome, DESIGN)
    assert out == tmp_path / "a" / "report"
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
        assert name in REPORT_FILES
    assert not (out / "learning_curve.png").exists()  # one size
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 12 and set(scores["method"]) == {"none", "augnet"}
    payload = json.loads((out / "scores.json").read_text())
    assert payload["design"]["folds"] == 3 and len(payload["runs"]) == 12
    (pair,) = payload["paired"]
    assert pair["pair"] == "augnet - none" and pair["n"] == 6
    assert pair["median"] == pytest.approx(0.125)
    assert (pair["wins"], pair["ties"], pair["losses"]) == (4, 1, 1)
    assert pair["p_value"] == pytest.approx(stats.wilcoxon(DIFFS).pvalue)
    assert "NaN" not in (out / "scores.json").read_text()  # strict JSON
    report = (out / "report.md").read_text()
    assert report.startswith("# Sleep staging: paired comparison")
    assert "    python -m x" in report and "Date: D." in report
    assert "A smoke-sized design (6 pairs)" in report
    p = f"{stats.wilcoxon(DIFFS).pvalue:.3g}"
    assert "| augnet - none | 6 | +0.125 | [" in report
    assert f"| +0.117 | {p} | 4/1/1 |" in report
    assert "- augnet - none: With 6 pairs" in report
    assert "| F1 W | F1 N1 | F1 N2 | F1 N3 | F1 REM |" in report
    assert "| augnet | 0.900 | 0.250 | 0.800 | 0.700 | - |" in report
    assert '"-": the stage is in no test set' in report
    for image in ("confusion_matrix.png", "hypnogram.png", "policy.png"):
        assert f"]({image})" in report
    assert "report written to" in capsys.readouterr().out


def test_report_of_identical_methods_has_no_p_value(tmp_path, test_set):
    out = write_report(
        tmp_path, _outcome(test_set, ("none", "random")), DESIGN, verbose=False
    )
    report = (out / "report.md").read_text()
    assert "| random - none | 6 | +0.000 | [+0.000, +0.000] | +0.000 | - | 0/6/0 |" in (
        report
    )
    for name in ("policy.png", "policy.csv"):
        assert not (out / name).exists(), name


def test_report_draws_the_learning_curve_with_paired_tables_per_size(
    tmp_path, test_set
):
    outcome = _outcome(test_set, sizes=(0.5, 1.0))
    out = write_report(tmp_path, outcome, DESIGN, verbose=False)
    assert (out / "learning_curve.png").stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "![learning curve](learning_curve.png)" in report
    assert "## Paired differences of test balanced accuracy, training size 0.5" in (
        report
    )
    assert "training size 1" in report
    paired = pd.read_csv(out / "paired.csv")
    assert list(paired["train_size"]) == [0.5, 1.0]


def test_clear_report_removes_the_reports_files_only(tmp_path, test_set):
    write_report(tmp_path, _outcome(test_set), DESIGN, verbose=False)
    (tmp_path / "notes.txt").write_text("mine")
    removed = clear_report(tmp_path)
    assert "report.md" in removed and "scores.csv" in removed
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_interrupted_note_lists_epochs_and_no_scores(tmp_path):
    runs = pd.DataFrame(
        [
            dict(
                method="none",
                seed=0,
                fold=0,
                train_size=1.0,
                epochs=5,
                max_epochs=5,
                status="complete",
            ),
            dict(
                method="augnet",
                seed=0,
                fold=0,
                train_size=1.0,
                epochs=2,
                max_epochs=5,
                status="interrupted",
            ),
        ]
    )
    path = write_interrupted(tmp_path, runs, DESIGN, verbose=False)
    assert [p.name for p in tmp_path.iterdir()] == ["INTERRUPTED.md"]
    text = path.read_text()
    assert text.startswith("# INTERRUPTED: no report")
    assert "| augnet | 0 | 0 | 1.0 | 2 | 5 | interrupted |" in text
    assert "balanced" not in text
    # an error outside any run's fit (its scoring): the job, not a run, raised
    done = runs.iloc[:1]
    path = write_failed(tmp_path, done, DESIGN, ValueError("bad"), verbose=False)
    text = path.read_text()
    assert text.startswith("# FAILED: no report")
    assert "The job raised after 1 complete run(s)" in text
    assert "    ValueError: bad" in text and "| none | 0 | 0 | 1.0 | 5 | 5 |" in text


def test_report_flags_magnitudes_at_their_cap(tmp_path, test_set):
    _, y, _ = test_set
    module = sinusoid_augmentation(random_state=0)
    noise = module.layers[0].transforms[2]  # GaussianNoise, weight 1/3
    noise.raw_magnitude.data.fill_(1.0)
    outcome = _outcome(test_set, augnet=Oracle(y, module=module))
    report = (write_report(tmp_path, outcome, DESIGN) / "report.md").read_text()
    assert "Magnitudes at the top of their range" in report
    assert "GaussianNoise: magnitude at the top of mag_range=(0, 0.1)" in report
    assert "widen mag_range" in report
    assert "FrequencyShift: magnitude at the top" not in report


def test_report_flags_magnitudes_still_moving(tmp_path, test_set):
    _, y, _ = test_set
    rising = [0.3, 0.35, 0.4, 0.45, 0.5]
    history = [
        {"aug_weights": [[1 / 3] * 3], "aug_magnitudes": [[m, 0.5, 0.5]]}
        for m in rising
    ]
    module = sinusoid_augmentation(random_state=0)
    outcome = _outcome(test_set, augnet=Oracle(y, module=module, history=history))
    out = write_report(tmp_path, outcome, DESIGN)
    report = (out / "report.md").read_text()
    assert "Magnitudes still moving at the reported epoch" in report
    assert "FrequencyShift: magnitude still rising by 0.050 per epoch" in report
    assert "FTSurrogate: magnitude still" not in report
    assert "Magnitudes at the top of their range" not in report
    policy = pd.read_csv(out / "policy.csv")
    assert policy["moving"].tolist() == [True, False, False]


def test_report_counts_runs_still_learning_and_failed(tmp_path, test_set, capsys):
    """Runs stopped at their best epoch, and runs that did not learn, are
    counted per method in the report and printed as warnings."""
    outcome = _outcome(test_set)
    results = outcome["results"]
    none = results["method"] == "none"
    results.loc[none & (results["seed"] == 0), "best_epoch"] = 3  # = epochs
    results.loc[none & (results["fold"] == 0), "kappa"] = 0.05
    results.loc[~none & (results["fold"] == 1), "kappa"] = 0.2  # the bound
    health = training_health(results)
    assert health.to_dict("index") == {
        "none": {"runs": 6, "still_learning": 3, "failed": 2},
        "augnet": {"runs": 6, "still_learning": 0, "failed": 2},
    }
    write_report(tmp_path, outcome, DESIGN, verbose=False)
    report = (tmp_path / "report.md").read_text()
    assert "## Training health" in report
    assert "| none | 6 | 3 | 2 |" in report and "| augnet | 6 | 0 | 2 |" in report
    assert "3 of 12 runs had their best validation score at their last epoch" in report
    assert "4 of 12 runs failed to learn" in report
    # DESIGN does not say how the recordings were scaled: microvolts, as
    # before --standardize existed, so standardising them is a remedy
    assert "(--standardize recording)" in report
    warn_training_health(results, DESIGN)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("warning: ") for line in err)
    assert "--epochs" in err[0] and "--standardize recording" in err[1]
    warn_training_health(results, dict(DESIGN, standardize="recording"))
    assert "--standardize" not in capsys.readouterr().err
    # healthy runs: said so, and no warning
    write_report(tmp_path, _outcome(test_set), DESIGN, verbose=False)
    assert "Every run learned and settled." in (tmp_path / "report.md").read_text()
    warn_training_health(_results(), DESIGN)
    assert capsys.readouterr().err == ""
