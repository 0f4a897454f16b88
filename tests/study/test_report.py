"""Tests of the report folder of the sleep-staging job."""

import json

import numpy as np
import pandas as pd
import pytest

from braindecode_augnet import policy_table, sinusoid_augmentation
from braindecode_augnet.study.report import summarize_scores, write_report

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


def _results(methods=("none", "augnet"), seeds=(0, 1)):
    rows = [
        {
            "method": method,
            "seed": seed,
            "balanced_accuracy": 0.5 + 0.1 * k + 0.02 * seed,
            "kappa": 0.4 + 0.1 * k,
            "macro_f1": 0.45 + 0.1 * k,
            "train_time_s": 10.0 * (k + 1) + 2 * seed,
        }
        for seed in seeds
        for k, method in enumerate(methods)
    ]
    return pd.DataFrame(rows)


def _models(y):
    wrong = (y + 1) % 5
    augnet = Oracle(y, module=sinusoid_augmentation(random_state=0))
    return {"none": Oracle(wrong), "augnet": augnet}


def test_summarize_scores_keeps_method_order_and_averages_seeds():
    summary = summarize_scores(_results(methods=("augnet", "none")))
    assert list(summary.index) == ["augnet", "none"]
    assert "seed_mean" not in summary.columns
    assert summary.loc["augnet", "balanced_accuracy_mean"] == pytest.approx(0.51)
    assert summary.loc["none", "train_time_s_mean"] == pytest.approx(21.0)
    assert summary.loc["none", "kappa_std"] == pytest.approx(0.0)
    one_seed = summarize_scores(_results(seeds=(0,)))
    assert one_seed["balanced_accuracy_std"].isna().all()


def test_report_folder_with_augnet(tmp_path, test_set, capsys):
    X, y, subjects = test_set
    results = _results()
    out = write_report(tmp_path / "a" / "report", results, _models(y), test_set)
    assert out == tmp_path / "a" / "report"
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
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores.csv"), results)
    payload = json.loads((out / "scores.json").read_text())
    assert len(payload["per_seed"]) == 4
    summary = {row["method"]: row for row in payload["summary"]}
    assert summary["augnet"]["balanced_accuracy_mean"] == pytest.approx(0.61)
    policy = pd.read_csv(out / "policy.csv")
    assert list(policy["transform"]) == [
        "FrequencyShift",
        "FTSurrogate",
        "GaussianNoise",
    ]
    report = (out / "report.md").read_text()
    assert report.startswith("# Sleep staging report")
    assert (
        "| method | balanced accuracy | kappa | macro-F1 | train time (s) |" in report
    )
    assert "| none | 0.510 ± 0.014 | 0.400 ± 0.000 | 0.450 ± 0.000 | 11 ± 1 |" in report
    assert "over 2 seed(s) (0, 1)" in report
    assert (
        "| augnet | 0.610 ± 0.014 | 0.500 ± 0.000 | 0.550 ± 0.000 | 21 ± 1 |" in report
    )
    for image in ("confusion_matrix.png", "hypnogram.png", "policy.png"):
        assert f"]({image})" in report
    policy_lines = report.split("Learned policy:")[1].splitlines()
    table = [line.split("|")[1:-1] for line in policy_lines if line.startswith("|")]
    assert [cells[1].strip() for cells in table[2:]] == list(policy["transform"])
    assert "report written to" in capsys.readouterr().out


def test_report_without_augnet_has_no_policy(tmp_path, test_set):
    X, y, _ = test_set
    results = _results(methods=("none",), seeds=(0,))
    out = write_report(tmp_path, results, {"none": Oracle(y)}, test_set, verbose=False)
    assert (out / "confusion_matrix.png").is_file()
    for name in ("hypnogram.png", "policy.png", "policy.csv"):
        assert not (out / name).exists(), name
    report = (out / "report.md").read_text()
    assert "hypnogram" not in report and "policy" not in report
    # a single seed has no standard deviation: null in strict JSON, not NaN
    text = (out / "scores.json").read_text()
    assert "NaN" not in text
    summary = json.loads(text)["summary"][0]
    assert summary["kappa_std"] is None and summary["kappa_mean"] == 0.4


def test_report_flags_magnitudes_at_their_cap(tmp_path, test_set):
    _, y, _ = test_set
    module = sinusoid_augmentation(random_state=0)
    noise = module.layers[0].transforms[2]  # GaussianNoise, weight 1/3
    noise.raw_magnitude.data.fill_(1.0)
    models = {"augnet": Oracle(y, module=module)}
    results = _results(methods=("augnet",), seeds=(0,))
    report = (
        write_report(tmp_path, results, models, test_set) / "report.md"
    ).read_text()
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
    models = {"augnet": Oracle(y, module=module, history=history)}
    results = _results(methods=("augnet",), seeds=(0,))
    out = write_report(tmp_path, results, models, test_set)
    report = (out / "report.md").read_text()
    assert "Magnitudes still moving at the reported epoch" in report
    assert "FrequencyShift: magnitude still rising by 0.050 per epoch" in report
    assert "FTSurrogate: magnitude still" not in report
    assert "Magnitudes at the top of their range" not in report
    policy = pd.read_csv(out / "policy.csv")
    assert policy["moving"].tolist() == [True, False, False]


def test_report_uses_given_per_window_predictions(tmp_path, test_set):
    """Sequence models predict windows from sequences, not ``clf.predict``:
    the report draws what ``predictions`` holds."""
    X, y, subjects = test_set

    class Unusable(Oracle):
        def predict(self, X):
            raise AssertionError("the report must use the given predictions")

    models = {"augnet": Unusable(y, module=sinusoid_augmentation(random_state=0))}
    out = write_report(
        tmp_path,
        _results(("augnet",)),
        models,
        test_set,
        verbose=False,
        predictions={"augnet": y},
        model="usleep",
    )
    report = (out / "report.md").read_text()
    assert "Trunk: usleep." in report and "hypnogram.png" in report
    assert (out / "hypnogram.png").stat().st_size > 0
