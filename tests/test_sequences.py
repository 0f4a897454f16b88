"""Tests of the sequence tools: trunk, per-window scoring, coverage, and
AugNetClassifier on braindecode windows batched by SequenceSampler."""

import numpy as np
import pytest
import torch
from braindecode.datasets import create_from_X_y
from braindecode.samplers import SequenceSampler
from sklearn.metrics import balanced_accuracy_score

from braindecode_augnet import AugNetClassifier
from braindecode_augnet.datasets import (
    create_sleep_windows,
    load_sleep_physionet,
    preprocess_sleep,
)
from braindecode_augnet.sequences import per_window_scoring, per_window_softmax
from braindecode_augnet.study.stager import (
    TimeDistributedSleepStager,
    covering_starts,
    predict_windows,
)

from .conftest import HYP, PSG, SFREQ, SeqTrunk, layers, toy_data

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# --------------------------------------------------------------------- trunk
def test_time_distributed_stager_gives_per_window_logits_with_context():
    model = TimeDistributedSleepStager(n_chans=2, sfreq=100.0, n_times=3000).eval()
    X = torch.randn(3, 4, 2, 3000)
    out = model(X)
    assert out.shape == (3, 5, 4)  # (batch, n_classes, n_windows)
    # a window's logits see its neighbours (context 3), not windows further
    changed = X.clone()
    changed[:, 0] += 1
    diff = (model(changed) - out).abs().amax(dim=(0, 1))
    assert diff[0] > 0 and diff[1] > 0 and diff[2] == 0 and diff[3] == 0


def test_time_distributed_stager_bad_arguments():
    with pytest.raises(ValueError, match="context must be odd"):
        TimeDistributedSleepStager(n_chans=2, sfreq=100.0, n_times=3000, context=2)
    model = TimeDistributedSleepStager(n_chans=2, sfreq=100.0, n_times=3000)
    with pytest.raises(ValueError, match=r"\(batch, n_windows, channels, times\)"):
        model(torch.randn(3, 2, 3000))
    for shape in ((2, 3, 2, 1500), (2, 3, 3, 3000)):  # failed inside a conv
        with pytest.raises(ValueError, match="built for windows of 2 channels x 3000"):
            model(torch.randn(*shape))
    with pytest.raises(ValueError, match="got shape \\(5,\\)"):
        per_window_softmax(torch.zeros(5))


# ------------------------------------------------------------------- scoring
class FixedNet:
    """Test helper: predicts what it is given, and per-window probabilities
    that depend on the position of a window in its sequence."""

    def __init__(self, predictions=None, n_classes=2):
        self.predictions = predictions
        self.n_classes = n_classes
        self.calls = []

    def predict(self, X):
        return self.predictions

    def predict_proba(self, X):
        self.calls.append(X.shape)
        n_seq, n_windows = X.shape[:2]
        position = np.arange(n_windows) / n_windows  # 0, 1/S, ...
        proba = np.zeros((n_seq, self.n_classes, n_windows))
        proba[:, 0] = position
        proba[:, 1] = 1 - position
        return proba


def test_per_window_scoring_ravels_sequences_and_checks_shapes():
    y = np.array([[0, 0, 1], [1, 1, 1]])
    pred = np.array([[0, 1, 1], [1, 1, 0]])
    scoring = per_window_scoring(balanced_accuracy_score)
    expected = balanced_accuracy_score(y.ravel(), pred.ravel())
    assert scoring(FixedNet(pred), None, y) == pytest.approx(expected)
    assert scoring(FixedNet(pred[0]), None, y[0]) == pytest.approx(
        balanced_accuracy_score(y[0], pred[0])
    )
    with pytest.raises(ValueError, match=r"Targets of shape \(2, 3\)"):
        scoring(FixedNet(pred.ravel()), None, y)
    with pytest.raises(TypeError, match="score_func must be a function"):
        per_window_scoring("balanced_accuracy")


# ------------------------------------------------------------------ coverage
def test_covering_starts_cover_every_window_once_except_the_last_overlap():
    np.testing.assert_array_equal(covering_starts(10, 5), [0, 5])
    np.testing.assert_array_equal(covering_starts(11, 5), [0, 5, 6])
    np.testing.assert_array_equal(covering_starts(5, 5), [0])
    with pytest.raises(ValueError, match="holds no sequence of 5 windows"):
        covering_starts(4, 5)


def test_predict_windows_averages_overlapping_sequences_per_recording():
    X = np.zeros((7, 1, 2), dtype=np.float32)
    recordings = np.array([0, 0, 0, 0, 0, 1, 1])  # 5 windows, then 2
    net = FixedNet()
    proba = predict_windows(net, X, recordings, n_windows=2)
    # recording 0: sequences at 0, 2 and 3 (the last overlaps window 3)
    assert net.calls == [(4, 2, 1, 2)]
    first = [0, 0.5, 0, (0.5 + 0) / 2, 0.5]  # P(class 0): position / 2
    np.testing.assert_allclose(proba[:, 0], first + [0, 0.5])
    np.testing.assert_allclose(proba.sum(1), 1)
    with pytest.raises(ValueError, match="recordings holds 3 entries for 7"):
        predict_windows(net, X, recordings[:3], n_windows=2)
    np.testing.assert_allclose(  # a list of windows, as an array
        predict_windows(FixedNet(), list(X), recordings, n_windows=2), proba
    )


# ----------------------------------------------- braindecode sequence tooling
def _sequence_clf(module, n_windows, metadata, **kwargs):
    sampler = SequenceSampler(metadata, n_windows, n_windows)
    params = dict(
        augmentation=layers(),
        n_copies=2,
        max_epochs=1,
        batch_size=4,
        train_split=None,
        iterator_train__drop_last=False,
        iterator_train__shuffle=False,
        iterator_train__sampler=sampler,
        iterator_valid__sampler=sampler,
        random_state=0,
        verbose=0,
    )
    params.update(kwargs)
    return AugNetClassifier(module, **params), sampler


def _targets(windows, sampler):
    """The (n_sequences, n_windows) targets the sampler's batches hold."""
    return np.stack([windows[list(seq)][1] for seq in sampler])


@pytest.mark.filterwarnings("ignore:`drop_last_window` is deprecated")
def test_sequence_sampler_on_windows_datasets_targets_per_window():
    X, y = toy_data(n=48)
    # 3 recordings of 16 consecutive windows
    windows = create_from_X_y(
        X.reshape(3, 16, 2, 100).transpose(0, 2, 1, 3).reshape(3, 2, 1600),
        np.zeros(3, dtype=int),
        drop_last_window=True,
        sfreq=SFREQ,
        window_size_samples=100,
        window_stride_samples=100,
    )
    windows.set_description({"subject": [0, 1, 2]}, overwrite=True)
    for ds, labels in zip(windows.datasets, y.reshape(3, 16)):
        ds.metadata["target"] = labels
        ds.y = labels.tolist()
    clf, sampler = _sequence_clf(
        SeqTrunk, 4, windows.get_metadata(), classes=np.arange(2)
    )
    clf.fit(windows, y=None)
    pred = clf.predict(windows)
    assert len(sampler) == 12 and pred.shape == (12, 4)
    y_seq = _targets(windows, sampler)
    np.testing.assert_array_equal(y_seq, y.reshape(12, 4))
    scoring = per_window_scoring(balanced_accuracy_score)
    assert 0 <= scoring(clf, windows, y_seq) <= 1


def test_sequence_model_on_real_sleep_edf(fake_fetch):
    fake_fetch([(PSG, HYP)])
    raw = load_sleep_physionet([0], recording_ids=(1,), crop_wake_mins=600)
    preprocess_sleep(raw)
    windows = create_sleep_windows(raw)  # 10 windows of 30 s, 2 channels
    scale = float(np.std(windows.datasets[0].raw.get_data()))
    windows.datasets[0].raw.apply_function(lambda x: x / scale)
    clf, sampler = _sequence_clf(
        TimeDistributedSleepStager,
        3,
        windows.get_metadata(),
        module__sfreq=100.0,
        classes=np.arange(5),
        augmentation="eeg",
        sequence_augmentation="sequence",
    )
    clf.fit(windows, y=None)
    assert len(sampler) == 3  # windows 0-2, 3-5, 6-8
    proba = clf.predict_proba(windows)
    assert proba.shape == (3, 5, 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert (_targets(windows, sampler) == 0).all()  # all stage W
    assert np.isfinite(clf.history[-1, "train_loss"])
