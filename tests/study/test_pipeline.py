"""Tests of the sleep-staging pipeline: data, split, estimators, scores."""

import numpy as np
import pytest
import torch

from braindecode_augnet.classifier import METHODS as CLASSIFIER_METHODS
from braindecode_augnet.datasets import SLEEP_STAGE_NAMES
from braindecode_augnet.study import pipeline
from braindecode_augnet.study.pipeline import (
    best_epoch_callbacks,
    load_sleep_windows,
    prepare_sleep_split,
    sleep_scores,
    sleep_sequences,
    sleep_training_kwargs,
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
    assert pipeline.METHODS == ("none", *CLASSIFIER_METHODS)
    assert set(pipeline.DEFAULT_METHODS) <= set(pipeline.METHODS)
    assert pipeline.DEFAULT_DATASET in pipeline.DATASETS


def test_load_rejects_unknown_data_sets_and_mass_without_path():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_sleep_windows("edf", verbose=False)
    with pytest.raises(ValueError, match="--data-path"):
        load_sleep_windows("mass", verbose=False)


def test_load_synthetic_windows(windows, capsys):
    X, y, _ = windows[0]
    assert X.shape == (2, 3000)  # two channels, 30 s at 100 Hz
    assert set(windows.get_metadata()["target"]) <= set(range(N_STAGES))
    assert windows.description["subject"].nunique() == 5
    load_sleep_windows(n_subjects=2, n_hours=0.25, verbose=True)
    assert "loading synthetic data" in capsys.readouterr().out


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


@pytest.mark.parametrize(
    "augnet_kwargs, aug_lr", [(None, 2e-3), ({"aug_lr": 5e-3}, 5e-3)]
)
def test_augnet_weights_learn_at_the_sleep_jobs_rate(windows, augnet_kwargs, aug_lr):
    """In the sleep job AugNet's layer weights learn at DEFAULT_AUG_LR_FACTOR
    times the trunk's rate (not the classifier's 10), unless told otherwise."""
    assert pipeline.DEFAULT_AUG_LR_FACTOR == 1.0
    out = train_sleep_models(
        windows,
        methods=("augnet",),
        max_epochs=1,
        lr=2e-3,
        n_copies=2,
        augnet_kwargs=augnet_kwargs,
        verbose=False,
    )
    clf = out["models"]["augnet"]
    assert clf.aug_lr == pytest.approx(aug_lr)
    assert clf.optimizer_.param_groups[1]["lr"] == pytest.approx(aug_lr)


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
