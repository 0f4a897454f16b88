"""Tests of the sleep-staging pipeline: data, split, estimators, scores."""

import numpy as np
import pytest
import torch

from braindecode_augnet.classifier import METHODS as CLASSIFIER_METHODS
from braindecode_augnet.datasets import SLEEP_STAGE_NAMES
from braindecode_augnet.study import pipeline
from braindecode_augnet.study.pipeline import (
    JobInterrupted,
    best_epoch_callbacks,
    check_design,
    fixed_augmentation,
    load_sleep_windows,
    make_estimator,
    prepare_sleep_split,
    run_comparison,
    sleep_scores,
    sleep_sequences,
    sleep_training_kwargs,
    subject_folds,
    train_sleep_models,
)

N_STAGES = len(SLEEP_STAGE_NAMES)


@pytest.fixture(scope="module")
def windows():
    return load_sleep_windows(n_subjects=5, n_hours=0.5, verbose=False)


@pytest.fixture(scope="module")
def split(windows):
    return prepare_sleep_split(windows, seed=0)


def test_constants_have_one_home():
    assert pipeline.METHODS == ("none", "fixed", *CLASSIFIER_METHODS)
    assert set(pipeline.DEFAULT_METHODS) <= set(pipeline.METHODS)
    assert pipeline.DEFAULT_DATASET in pipeline.DATASETS


def test_load_rejects_unknown_data_sets_and_mass_without_path():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_sleep_windows("shhs", verbose=False)
    with pytest.raises(ValueError, match="--data-path"):
        load_sleep_windows("mass", verbose=False)
    # an unknown standardisation is refused before any data is loaded
    with pytest.raises(ValueError, match="standardize must be 'recording' or None"):
        load_sleep_windows("mass", verbose=False, standardize="window")


def test_load_synthetic_windows(windows, capsys):
    X, y, _ = windows[0]
    assert X.shape == (2, 3000)  # two channels, 30 s at 100 Hz
    assert set(windows.get_metadata()["target"]) <= set(range(N_STAGES))
    assert windows.description["subject"].nunique() == 5
    load_sleep_windows(n_subjects=2, n_hours=0.25, verbose=True)
    assert "loading synthetic data" in capsys.readouterr().out


def test_data_fingerprint_tells_other_data_apart(windows):
    from braindecode.datasets import BaseConcatDataset

    fingerprint = pipeline.data_fingerprint(windows)
    assert fingerprint == pipeline.data_fingerprint(windows)
    fewer = BaseConcatDataset(windows.datasets[:-1])
    assert pipeline.data_fingerprint(fewer) != fingerprint
    other = load_sleep_windows(n_subjects=2, n_hours=0.25, verbose=False)
    assert pipeline.data_fingerprint(other) != fingerprint


def test_split_is_scaled_seeded_and_weighted(split, windows):
    assert split["X_train"].dtype == np.float32
    assert split["X_train"].shape[1:] == (2, 3000)
    assert abs(float(np.std(split["X_train"])) - 1.0) < 1e-3
    assert split["sfreq"] == 100.0 and len(split["chs_info"]) == 2
    assert len(split["subjects_test"]) == len(split["y_test"]) == len(split["X_test"])
    n = sum(len(split[f"y_{part}"]) for part in ("train", "valid", "test"))
    assert n == len(windows)
    # balanced weights: every present class weighs the same in the loss
    weights = split["class_weights"]
    assert weights.shape == (N_STAGES,)
    counts = np.bincount(split["y_train"], minlength=N_STAGES)
    totals = (weights * counts)[counts > 0]
    np.testing.assert_allclose(totals, totals[0], rtol=1e-5)
    assert np.all(weights[counts == 0] == 1)
    again = prepare_sleep_split(windows, seed=0)
    np.testing.assert_array_equal(again["y_test"], split["y_test"])
    np.testing.assert_array_equal(again["X_valid"], split["X_valid"])


def test_sleep_scores():
    perfect = sleep_scores([0, 1, 2, 3, 4], [0, 1, 2, 3, 4])
    assert perfect == {"balanced_accuracy": 1.0, "kappa": 1.0, "macro_f1": 1.0}
    scores = sleep_scores([0, 0, 1, 1], [0, 1, 1, 1])
    assert scores["balanced_accuracy"] == pytest.approx(0.75)
    assert scores["kappa"] == pytest.approx(0.5)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    per_stage = sleep_scores([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], per_stage=True)
    assert per_stage["f1_W"] == pytest.approx(0.5)  # 1 of 2 found, 1 of 2 right
    assert per_stage["f1_N1"] == pytest.approx(0.8)
    assert per_stage["f1_N2"] == 0.0  # present, never found
    assert np.isnan(per_stage["f1_N3"]) and np.isnan(per_stage["f1_REM"])  # absent


def test_training_kwargs_are_sized_from_the_split():
    from braindecode.models import SleepStagerChambon2018

    fake = dict(
        X_train=np.zeros((6, 3, 3000), np.float32),
        X_valid=np.zeros((4, 3, 3000), np.float32),
        y_valid=np.arange(4),
        sfreq=100.0,
        class_weights=np.arange(1, N_STAGES + 1, dtype=np.float32),
    )
    kwargs = sleep_training_kwargs(fake, max_epochs=3, batch_size=8, lr=0.1)
    assert kwargs["module"] is SleepStagerChambon2018
    assert (kwargs["module__n_chans"], kwargs["module__n_times"]) == (3, 3000)
    assert kwargs["module__n_outputs"] == N_STAGES
    np.testing.assert_array_equal(kwargs["classes"], np.arange(N_STAGES))
    torch.testing.assert_close(
        kwargs["criterion__weight"], torch.arange(1.0, N_STAGES + 1)
    )
    assert (kwargs["max_epochs"], kwargs["batch_size"], kwargs["lr"]) == (3, 8, 0.1)
    assert kwargs["verbose"] == 1 and "callbacks" not in kwargs
    valid = kwargs["train_split"](None)[1]  # predefined split: (train, valid)
    assert len(valid) == 4


def test_best_epoch_callbacks(tmp_path):
    from skorch.callbacks import Checkpoint, EpochScoring

    callbacks = dict(best_epoch_callbacks(str(tmp_path)))
    assert list(callbacks) == ["valid_bacc", "best"]
    scoring, checkpoint = callbacks["valid_bacc"], callbacks["best"]
    assert isinstance(scoring, EpochScoring) and not scoring.lower_is_better
    assert isinstance(checkpoint, Checkpoint) and checkpoint.load_best
    assert checkpoint.monitor == "valid_bacc_best"
    assert checkpoint.dirname == str(tmp_path)


def test_unknown_method_fails_before_training(windows):
    with pytest.raises(ValueError, match="mixup"):
        train_sleep_models(windows, methods=("none", "mixup"), verbose=False)


def test_train_one_method(windows, split):
    out = train_sleep_models(
        windows, methods=("none",), seed=0, max_epochs=1, verbose=False
    )
    results = out["results"]
    assert list(results["method"]) == ["none"] and list(results["seed"]) == [0]
    for column in ("balanced_accuracy", "kappa", "macro_f1", "train_time_s"):
        assert np.isfinite(results[column]).all(), column
    assert 0 <= results["balanced_accuracy"].iloc[0] <= 1
    assert results["train_time_s"].iloc[0] > 0
    clf = out["models"]["none"]
    assert len(clf.history) == 1 and "valid_bacc" in clf.history[-1]
    X_test, y_test, subjects = out["test"]
    np.testing.assert_array_equal(y_test, split["y_test"])  # same seeded split
    np.testing.assert_array_equal(subjects, split["subjects_test"])
    predicted = sleep_scores(y_test, clf.predict(X_test))
    assert predicted["balanced_accuracy"] == results["balanced_accuracy"].iloc[0]


def test_augnet_keeps_the_estimators_defaults(split):
    """One set of defaults: the pipeline passes no aug_lr of its own."""
    common = sleep_training_kwargs(split, max_epochs=1, verbose=False)
    clf = make_estimator("augnet", split, common, [], seed=0)
    assert clf.aug_lr is None and clf.method == "augnet"
    assert not hasattr(pipeline, "DEFAULT_AUG_LR_FACTOR")
    tuned = make_estimator("augnet", split, common, [], augnet_kwargs={"aug_lr": 5e-3})
    assert tuned.aug_lr == 5e-3


def test_fixed_method_is_braindecodes_transforms_in_its_loader(split):
    from braindecode import EEGClassifier
    from braindecode.augmentation import (
        AugmentedDataLoader,
        FrequencyShift,
        FTSurrogate,
        SignFlip,
    )

    transforms = fixed_augmentation(100.0, seed=3)
    assert [type(t) for t in transforms] == [FTSurrogate, FrequencyShift, SignFlip]
    assert all(t.probability == 0.5 for t in transforms)
    assert transforms[0].phase_noise_magnitude == 0.5
    assert transforms[1].max_delta_freq == 1.0
    common = sleep_training_kwargs(split, max_epochs=1, verbose=False)
    clf = make_estimator("fixed", split, common, [], seed=3)
    assert type(clf) is EEGClassifier
    assert clf.iterator_train is AugmentedDataLoader
    assert len(clf.iterator_train__transforms) == 3
    X = torch.as_tensor(split["X_train"][:16])
    loader = AugmentedDataLoader(
        torch.utils.data.TensorDataset(X, torch.zeros(16)),
        transforms=clf.iterator_train__transforms,
        batch_size=16,
    )
    assert not torch.allclose(next(iter(loader))[0], X)  # batches are augmented
    usleep = sleep_training_kwargs(split, max_epochs=1, verbose=False, model="usleep")
    with pytest.raises(ValueError, match="needs model 'chambon'"):
        make_estimator("fixed", split, usleep, [])


# ------------------------------------------------------------- comparison
def test_subject_folds_test_every_subject_once():
    subjects = np.arange(10) * 3
    for seed in (0, 1):
        folds = subject_folds(subjects, 3, seed=seed)
        tested = np.concatenate([f["test"] for f in folds])
        assert sorted(tested) == sorted(subjects)
        assert [len(f["test"]) for f in folds] == [4, 3, 3]
        for fold in folds:
            parts = [set(fold[k].tolist()) for k in ("train", "valid", "test")]
            assert set.union(*parts) == set(subjects.tolist())
            assert sum(map(len, parts)) == 10  # disjoint
            assert len(fold["valid"]) >= 1 and len(fold["train"]) >= 1
    other = subject_folds(subjects, 3, seed=1)
    assert any(
        set(a["test"]) != set(b["test"])
        for a, b in zip(subject_folds(subjects, 3, seed=0), other)
    )


@pytest.mark.parametrize(
    ("n_subjects", "n_folds", "match"),
    [
        (3, 4, "4 folds need at least 4 subjects"),
        (3, 2, "at least 4 for 2 folds"),
        (5, 1, "int >= 2"),
    ],
)
def test_check_design_names_the_fix(n_subjects, n_folds, match):
    with pytest.raises(ValueError, match=match):
        check_design(n_subjects, n_folds)


def test_check_design_accepts_workable_designs():
    check_design(4, 2)
    check_design(8, 3)
    check_design(10, 10)


def test_run_comparison_pairs_methods_on_the_same_subjects(monkeypatch):
    # 6 subjects in 2 folds: 3 test, 1 valid and 2 train subjects per fold
    windows = load_sleep_windows(n_subjects=6, n_hours=0.25, verbose=False)
    seen = []
    original = pipeline.prepare_sleep_split

    def spy(windows, **kwargs):
        seen.append(kwargs["subjects"])
        return original(windows, **kwargs)

    monkeypatch.setattr(pipeline, "prepare_sleep_split", spy)
    out = run_comparison(
        windows,
        methods=("none", "fixed"),
        n_seeds=1,
        n_folds=2,
        train_sizes=(0.5, 1.0),
        max_epochs=1,
        verbose=False,
    )
    results = out["results"]
    assert len(results) == 2 * 2 * 2  # methods x folds x sizes
    assert list(results["method"][:2]) == ["none", "fixed"]
    assert set(results["epochs"]) == {1} and set(results["best_epoch"]) == {1}
    for column in ("balanced_accuracy", "kappa", "macro_f1", "f1_W", "train_time_s"):
        assert np.isfinite(results[column]).all(), column
    # one split per (fold, size), shared by the methods; nested sizes
    assert len(seen) == 4
    for small, full in ((seen[0], seen[1]), (seen[2], seen[3])):
        assert set(small["train"]) < set(full["train"])
        assert set(small["test"]) == set(full["test"])
        assert set(small["valid"]) == set(full["valid"])
    sizes = results.groupby("train_size")["n_train_subjects"].first()
    assert sizes[0.5] < sizes[1.0]
    assert set(out["predictions"]) == {
        (m, 0, f) for m in ("none", "fixed") for f in (0, 1)
    }
    y_none = out["predictions"]["none", 0, 1][0]
    np.testing.assert_array_equal(y_none, out["predictions"]["fixed", 0, 1][0])
    assert set(out["models"]) == {"none", "fixed"}


def test_run_comparison_checks_before_training(windows):
    with pytest.raises(ValueError, match="train sizes"):
        run_comparison(windows, train_sizes=(0.0,), verbose=False)
    with pytest.raises(ValueError, match="max_epochs must be an int >= 1"):
        run_comparison(windows, max_epochs=0, verbose=False)
    with pytest.raises(ValueError, match="6 folds need at least 6 subjects"):
        run_comparison(windows, n_folds=6, verbose=False)
    with pytest.raises(ValueError, match="repeated"):
        run_comparison(windows, methods=("none", "none"), verbose=False)


def _none_then_random(windows, max_epochs):
    return run_comparison(
        windows,
        methods=("none", "random"),
        n_seeds=1,
        n_folds=2,
        max_epochs=max_epochs,
        verbose=False,
    )


def _add_callback(monkeypatch, name, callback):
    """Every estimator of the job gets ``callback`` too."""
    original = pipeline.best_epoch_callbacks
    monkeypatch.setattr(
        pipeline, "best_epoch_callbacks", lambda d: [*original(d), (name, callback)]
    )


def test_sigint_during_a_fit_stops_the_comparison(windows, monkeypatch):
    """skorch ends the fit on Ctrl-C and returns; the job stops all the same."""
    import signal

    from skorch.callbacks import Callback

    class CtrlCAtEpoch2(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                signal.raise_signal(signal.SIGINT)

    _add_callback(monkeypatch, "ctrl_c", CtrlCAtEpoch2())
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job
    with pytest.raises(JobInterrupted) as stop:
        _none_then_random(windows, max_epochs=5)
    runs = stop.value.runs
    assert list(runs["method"]) == ["none"]  # random never started
    assert runs["epochs"].iloc[0] == 2 and runs["status"].iloc[0] == "interrupted"
    # the handler is put back (Python's KeyboardInterrupt in a terminal)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_run_that_raises_stops_the_comparison_saying_what_ran(windows, monkeypatch):
    """A run that raises (a diverged fit, a bad variant) stops the job with
    the runs started and the failed one's epochs; its error is the cause."""
    from skorch.callbacks import Callback

    class DivergeAtEpoch2(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2 and getattr(net, "method", None) == "random":
                raise FloatingPointError("the loss is not finite")

    _add_callback(monkeypatch, "diverge", DivergeAtEpoch2())
    with pytest.raises(pipeline.JobFailed, match="FloatingPointError") as stop:
        _none_then_random(windows, max_epochs=3)
    assert isinstance(stop.value.__cause__, FloatingPointError)
    runs = stop.value.runs
    assert list(runs["method"]) == ["none", "random"]
    assert list(runs["status"]) == ["complete", "failed"]
    assert list(runs["epochs"]) == [3, 2]  # raised as its epoch 2 ended


def test_an_error_after_a_fit_stops_the_comparison_too(windows, monkeypatch):
    """An error outside the fit (its scoring) stops the job as a failed
    run does, with what ran."""

    def scores(*args, **kwargs):
        raise ValueError("scoring failed")

    monkeypatch.setattr(pipeline, "sleep_scores", scores)
    with pytest.raises(pipeline.JobFailed, match="ValueError: scoring failed"):
        _none_then_random(windows, max_epochs=1)


# ----------------------------------------------------------- sequence models
def test_split_records_recordings_and_cuts_covering_sequences(split):
    for part in ("train", "valid", "test"):
        recordings = split[f"recordings_{part}"]
        assert len(recordings) == len(split[f"y_{part}"])
        assert (np.diff(recordings) >= 0).all()  # consecutive per recording
    X, y = sleep_sequences(split, "valid", n_windows=4)
    assert X.shape[1:] == (4, *split["X_valid"].shape[1:])
    assert y.shape == (len(X), 4)
    # every window of every recording is covered, with its own target
    pairs = zip(split["X_valid"], split["y_valid"])
    windows = {tuple(w.ravel()[:20]): t for w, t in pairs}
    covered = {
        tuple(w.ravel()[:20]): t for w, t in zip(X.reshape(-1, *X.shape[2:]), y.ravel())
    }
    assert covered == windows


@pytest.mark.parametrize("model", ["timedistributed", "usleep"])
def test_training_kwargs_of_sequence_models(split, model):
    from braindecode.models import USleep

    from braindecode_augnet.study.stager import TimeDistributedSleepStager

    kwargs = sleep_training_kwargs(split, batch_size=64, model=model, n_windows=4)
    expected = TimeDistributedSleepStager if model == "timedistributed" else USleep
    assert kwargs["module"] is expected
    assert kwargs["module__n_times"] == split["X_train"].shape[2]  # per window
    assert kwargs["batch_size"] == 16  # 64 windows in sequences of 4
    X_valid, y_valid = kwargs["train_split"](None)[1].tensors
    assert X_valid.shape[1] == 4 and y_valid.shape[1] == 4


def test_unknown_model_and_bad_n_windows_fail_before_training(windows):
    with pytest.raises(ValueError, match="model must be one of"):
        train_sleep_models(windows, model="deepsleepnet", verbose=False)
    with pytest.raises(ValueError, match="n_windows must be an int >= 1"):
        train_sleep_models(windows, model="usleep", n_windows=0, verbose=False)


def test_train_a_sequence_model_predicts_every_test_window(windows, split):
    out = train_sleep_models(
        windows,
        methods=("none", "augnet"),
        max_epochs=1,
        n_copies=2,
        model="usleep",
        n_windows=4,
        verbose=False,
        augnet_kwargs={"sequence_augmentation": "sequence"},
    )
    y_test = split["y_test"]
    for method in ("none", "augnet"):
        y_pred = out["predictions"][method]
        assert y_pred.shape == y_test.shape
        row = out["results"].set_index("method").loc[method]
        assert (
            row["balanced_accuracy"]
            == sleep_scores(y_test, y_pred)["balanced_accuracy"]
        )
    augnet = out["models"]["augnet"]
    assert augnet.sequence_augmentation == "sequence"
    assert "valid_bacc" in augnet.history[-1]
    # the plain model's probabilities are over classes, per window
    X_seq, _ = sleep_sequences(split, "test", 4)
    proba = out["models"]["none"].predict_proba(X_seq[:3])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
