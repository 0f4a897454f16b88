"""Tests of the estimator's scikit-learn/skorch contracts (issue 26).

Persistence of the label encoding, clones of fitted estimators, predictions
independent of the batch, and messages for inputs the estimator cannot use.
"""

import copy

import mne
import numpy as np
import pandas as pd
import pytest
import torch
from braindecode.datasets import BaseConcatDataset, RawDataset
from braindecode.preprocessing import create_fixed_length_windows
from sklearn.base import clone
from skorch.callbacks import Checkpoint

from braindecode_augnet.layers import unwrap_module
from braindecode_augnet.methods.base import candidate_transforms
from braindecode_augnet.transforms import (
    AmplitudeScale,
    FrequencyShift,
    GaussianNoise,
    SignFlip,
    TimeReverse,
)

from .conftest import SFREQ, make_clf, toy_data


# ------------------------------------------------- labels saved with params
@pytest.mark.parametrize(
    "labels", [np.array([1, 5, 9]), np.array(["N1", "REM", "W"])], ids=str
)
@pytest.mark.parametrize("f_history", [False, True])
def test_load_params_onto_a_new_estimator_predicts_labels(labels, f_history, tmp_path):
    X, _ = toy_data(n=60)
    y = labels[np.arange(60) % 3]
    clf = make_clf(max_epochs=2).fit(X, y)
    files = {"f_params": tmp_path / "params.pt"}
    if f_history:
        files["f_history"] = tmp_path / "history.json"
    clf.save_params(**files)
    new = make_clf(module__n_outputs=3).initialize()  # no classes=
    new.load_params(**files)
    np.testing.assert_array_equal(new.classes_, labels)
    assert new.classes_.dtype == labels.dtype
    predicted = new.predict(X)
    np.testing.assert_array_equal(predicted, clf.predict(X))
    assert set(predicted) <= set(labels)


def test_load_params_with_other_classes_is_refused(tmp_path):
    X, _ = toy_data(n=60)
    y = np.array([1, 5, 9])[np.arange(60) % 3]
    make_clf(max_epochs=1).fit(X, y).save_params(f_params=tmp_path / "p.pt")
    same = make_clf(module__n_outputs=3, classes=[1, 5, 9]).initialize()
    same.load_params(f_params=tmp_path / "p.pt")
    np.testing.assert_array_equal(same.predict(X[:4]) % 4, 1)  # labels 1, 5, 9
    other = make_clf(module__n_outputs=3, classes=[0, 1, 2]).initialize()
    with pytest.raises(ValueError, match=r"saved with classes \[1, 5, 9\]"):
        other.load_params(f_params=tmp_path / "p.pt")


def test_params_saved_without_labels_load_and_refuse_to_guess(tmp_path):
    # a state dict of an older version: no label encoding in it
    X, y = toy_data(n=40)
    clf = make_clf(max_epochs=1).fit(X, np.where(y == 1, "b", "a"))
    state = {
        k: v for k, v in clf.module_.state_dict().items() if "_extra_state" not in k
    }
    torch.save(state, tmp_path / "old.pt")
    new = make_clf().initialize()
    new.load_params(f_params=tmp_path / "old.pt")
    with pytest.raises(ValueError, match="pass classes="):
        new.predict(X[:4])
    given = make_clf(classes=["a", "b"]).initialize()
    given.load_params(f_params=tmp_path / "old.pt")
    np.testing.assert_array_equal(given.predict(X), clf.predict(X))


def test_labels_survive_safetensors(tmp_path):
    pytest.importorskip("safetensors")
    X, _ = toy_data(n=60)
    y = np.array(["a", "b", "c"])[np.arange(60) % 3]
    clf = make_clf(max_epochs=1).fit(X, y)
    clf.save_params(f_params=tmp_path / "p.safetensors", use_safetensors=True)
    new = make_clf(module__n_outputs=3).initialize()
    new.load_params(f_params=tmp_path / "p.safetensors", use_safetensors=True)
    np.testing.assert_array_equal(new.predict(X), clf.predict(X))


@pytest.mark.parametrize(
    "other",
    [
        dict(
            augmentation=[[GaussianNoise(), SignFlip()], [FrequencyShift(sfreq=SFREQ)]]
        ),
        dict(
            augmentation=[
                [TimeReverse(), AmplitudeScale()],
                [FrequencyShift(sfreq=SFREQ)],
            ]
        ),
        dict(
            augmentation=[
                [SignFlip(), GaussianNoise()],
                [FrequencyShift(sfreq=SFREQ, mag_range=(0.0, 1.0))],
            ]
        ),
        dict(method="random"),
        dict(method="adda", reg=0),
    ],
    ids=["order", "transforms", "mag_range", "random", "adda"],
)
def test_load_params_of_other_candidates_is_refused_before_loading(other, tmp_path):
    """The keys of a state dict are positions: a policy learned for
    [SignFlip, GaussianNoise] loaded into [GaussianNoise, SignFlip] (or
    other transforms of the same count) without a word, its weights and
    magnitudes on other transforms. Refused, naming both, and nothing is
    loaded (torch copies what matches before it raises)."""
    X, y = toy_data(n=40)
    make_clf(max_epochs=1).fit(X, y).save_params(f_params=tmp_path / "p.pt")
    new = make_clf(module__n_chans=2, module__n_times=X.shape[-1], **other)
    new.initialize()
    before = {k: v.clone() for k, v in new.module_.state_dict().items()}
    with pytest.raises(
        ValueError, match="saved with other augmentation modules"
    ) as err:
        new.load_params(f_params=tmp_path / "p.pt")
    assert "saved [AugmentationModule: SignFlip(0.0, 0.5), GaussianNoise" in str(
        err.value
    )
    after = new.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if "_extra" not in k)


def test_loaded_parameters_keep_the_input_shape_and_predict_without_labels(tmp_path):
    """An estimator loaded with load_params checks its inputs' shape as the
    fitted one does; one fitted without labels (a windows dataset) predicts
    class indices after loading, where it blamed "an older version"."""
    X, y = toy_data(n=40)
    clf = make_clf(max_epochs=1).fit(X, y)
    clf.save_params(f_params=tmp_path / "p.pt")
    new = make_clf().initialize()
    new.load_params(f_params=tmp_path / "p.pt")
    assert (new.n_chans_, new.n_times_) == (clf.n_chans_, clf.n_times_)
    with pytest.raises(ValueError, match="fitted on 2 channels and"):
        new.predict(X[:, :1])
    cp = Checkpoint(dirname=tmp_path / "cp", monitor=None)
    checkpointed = make_clf(max_epochs=1, callbacks=[cp]).fit(X, y)
    restored = make_clf(callbacks=[cp]).initialize()
    restored.load_params(checkpoint=cp)  # as LoadInitState does
    assert (restored.n_chans_, restored.n_times_) == (2, X.shape[-1])
    np.testing.assert_array_equal(restored.predict(X), checkpointed.predict(X))
    unlabelled = make_clf(max_epochs=1).fit(X, y)
    del unlabelled.classes_inferred_  # as after a fit on a windows dataset
    unlabelled.save_params(f_params=tmp_path / "u.pt")
    loaded = make_clf().initialize()
    loaded.load_params(f_params=tmp_path / "u.pt")
    np.testing.assert_array_equal(loaded.predict(X), unlabelled.predict(X))


# ------------------------------------------------------- clone after a fit
def test_clone_of_a_fitted_estimator_infers_the_module_sizes_again():
    X, _ = toy_data(n=60)
    y3 = np.arange(60) % 3
    clf = make_clf(max_epochs=1).fit(X, y3)
    assert clf.predict_proba(X[:2]).shape == (2, 3)
    inferred = {"module__n_chans", "module__n_times", "module__n_outputs"}
    assert inferred <= set(clf.inferred_module_params_)
    assert not inferred & set(clf.get_params())
    y2 = np.arange(60) % 2
    assert clone(clf).fit(X, y2).predict_proba(X[:2]).shape == (2, 2)
    X3 = np.random.default_rng(0).standard_normal((30, 3, 80)).astype(np.float32)
    assert clone(clf).fit(X3, y2[:30]).predict_proba(X3[:2]).shape == (2, 2)


def test_module_sizes_the_user_set_are_kept_by_clone():
    X, y = toy_data(n=40)
    clf = make_clf(max_epochs=1, module__n_outputs=2).fit(X, y)
    assert clone(clf).get_params()["module__n_outputs"] == 2
    clf.set_params(module__n_times=100)  # now the user's
    assert clone(clf).get_params()["module__n_times"] == 100
    partial = make_clf(max_epochs=1).partial_fit(X, y, classes=[0, 1])
    assert "module__n_chans" not in clone(partial).get_params()


# -------------------------------------------------------------- messages
@pytest.fixture(scope="module")
def fitted():
    X, y = toy_data(n=40)
    return make_clf(max_epochs=1).fit(X, y), X, y


def _ragged(X):
    ragged = np.empty(3, dtype=object)
    ragged[:] = [X[0], X[1], X[2][:, :50]]
    return ragged


@pytest.mark.parametrize(
    "make_x, match",
    [
        (lambda X: X[:0], r"shape \(0, 2, 100\) holds no examples"),
        (lambda X: torch.as_tensor(X[:0]), r"shape \(0, 2, 100\) holds no examples"),
        (lambda X: list(X[:3]), r"X is a list of 3 items .*np\.stack\(X\)"),
        (lambda X: X[0, 0], r"shape \(100,\) has 1 dimension.*reshape\(1, 1, -1\)"),
        (lambda X: X[:, 0], r"shape \(40, 100\) has 2 dimension.*X\[:, None, :\]"),
        (lambda X: X[None, None], r"has 5 dimensions"),
        (_ragged, r"dtype object .* crop the windows to one length"),
    ],
)
def test_inputs_that_cannot_be_predicted_say_what_to_pass(fitted, make_x, match):
    clf, X, _ = fitted
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(ValueError, match=match):
            method(make_x(X))


@pytest.mark.parametrize(
    "make_x, match",
    [
        (lambda X: X[:0], "holds no examples"),
        (lambda X: list(X), "X is a list of 40 items"),
        (lambda X: X[0, 0], r"shape \(100,\) has 1 dimension"),
        (lambda X: X.astype(str), "dtype <U"),
    ],
)
def test_inputs_that_cannot_be_fitted_say_what_to_pass(make_x, match):
    X, y = toy_data(n=40)
    clf = make_clf(max_epochs=1)
    with pytest.raises(ValueError, match=match):
        clf.fit(make_x(X), y)
    with pytest.raises(ValueError, match=match):
        make_clf(max_epochs=1).partial_fit(make_x(X), y, classes=[0, 1])


def _windows(target_name):
    info = mne.create_info(["C3", "C4"], SFREQ, "eeg")
    rng = np.random.default_rng(0)
    datasets = [
        RawDataset(
            mne.io.RawArray(rng.standard_normal((2, 1000)), info, verbose=False),
            pd.Series({"target": label}),
            target_name=target_name,
        )
        for label in ("wake", "sleep")
    ]
    return create_fixed_length_windows(
        BaseConcatDataset(datasets),
        window_size_samples=100,
        window_stride_samples=100,
        drop_last_window=True,
    )


@pytest.mark.parametrize(
    "target_name, match",
    [
        ("target", r"string targets \(\['sleep', 'wake'\]\).*mapping="),
        (None, r"negative targets \[-1\].*-1 is braindecode's 'no target'"),
    ],
)
def test_windows_datasets_without_class_indices_are_refused(target_name, match):
    clf = make_clf(max_epochs=1)
    with pytest.raises(ValueError, match=match):
        clf.fit(_windows(target_name), None)
    assert not clf.initialized_ or not len(clf.history)  # before any training


# ------------------------------------------- predictions of each example alone
@pytest.fixture(scope="module")
def fitted_preset():
    X, y = toy_data(n=24, n_chans=4)
    clf = make_clf(
        max_epochs=1,
        augmentation="eeg",  # every candidate kind, and the choice per layer
        module__sfreq=SFREQ,
        n_copies=6,
        copies_per_chunk=4,
        batch_size=8,
        random_state=0,
    )
    return clf.fit(X, y), X


def test_a_window_is_predicted_alike_alone_in_any_batch_and_chunking(fitted_preset):
    clf, X = fitted_preset
    proba = clf.predict_proba(X)
    alone = np.concatenate([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, proba, rtol=1e-5, atol=1e-6)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(
        clf.predict_proba(X[order]), proba[order], rtol=1e-5, atol=1e-6
    )
    try:
        for batch_size, chunk in [(1, 4), (5, 4), (24, 4), (7, 1), (24, None)]:
            clf.set_params(batch_size=batch_size, copies_per_chunk=chunk)
            np.testing.assert_allclose(
                clf.predict_proba(X), proba, rtol=1e-5, atol=1e-6
            )
    finally:
        clf.set_params(batch_size=8, copies_per_chunk=4)


def test_the_module_alone_predicts_as_the_classifier_inside_predicting(
    fitted_preset,
):
    """The module saved with torch.save and called directly drew from its
    streams: other probabilities than predict_proba, and other ones for an
    example in another batch. Inside AugNet.predicting(), the classifier's."""
    clf, X = fitted_preset
    proba = clf.predict_proba(X)
    module = copy.deepcopy(clf.module_).eval()
    X = torch.as_tensor(X)
    with torch.no_grad():
        outside = module(X).exp().numpy()
        with module.predicting():
            inside = module(X).exp().numpy()
            first = module(X[:5]).exp().numpy()
    assert np.abs(outside - proba).max() > 1e-4
    np.testing.assert_allclose(inside, proba, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first, proba[:5], rtol=1e-5, atol=1e-6)


def test_the_copies_of_a_prediction_still_differ(fitted_preset):
    clf, X = fitted_preset
    module = clf.module_
    with torch.no_grad():
        logits = module.trunk(torch.as_tensor(X[:4]))
    bare = torch.softmax(logits, 1).numpy()
    proba = clf.predict_proba(X[:4])
    try:
        clf.set_params(n_copies=1)
        one = clf.predict_proba(X[:4])
    finally:
        clf.set_params(n_copies=6)
    assert np.abs(proba - bare).max() > 1e-4  # augmented
    assert np.abs(proba - one).max() > 1e-4  # six draws, not one six times


@pytest.mark.parametrize("mode", ["window", "sequence"])
def test_a_sequence_is_predicted_alike_alone(mode):
    from .conftest import SeqTrunk, toy_sequences

    X, y = toy_sequences(n=8, n_windows=3)
    clf = make_clf(
        module=SeqTrunk,
        max_epochs=1,
        n_copies=4,
        batch_size=3,
        sequence_augmentation=mode,
        random_state=0,
    ).fit(X, y)
    proba = clf.predict_proba(X)
    alone = np.concatenate([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, proba, rtol=1e-5, atol=1e-6)


def test_a_refit_after_torch_manual_seed_is_the_fit_of_a_new_estimator():
    """A refit built the trunk twice (the module parameters inferred again
    were set on the initialised net, which skorch builds anew for them),
    drawing other initial weights from torch's generator than a new
    estimator: a loop refitting one estimator was not reproducible."""
    X, y = toy_data(32)
    torch.manual_seed(0)
    fresh = make_clf(max_epochs=1).fit(X, y)
    clf = make_clf(max_epochs=1).fit(X, y)
    torch.manual_seed(0)
    clf.fit(X, y)
    for p, q in zip(clf.module_.parameters(), fresh.module_.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))


def _shallow(**kwargs):
    from braindecode.models import ShallowFBCSPNet

    params = dict(n_chans=2, n_outputs=2, n_times=200, sfreq=SFREQ)
    return ShallowFBCSPNet(**{**params, **kwargs})


def test_a_module_instance_gives_the_eeg_preset_its_sampling_frequency():
    """An instance (README: 'name, class or instance') with the default
    augmentation='eeg' was refused for want of module__sfreq, which, given,
    made skorch build the module anew from module__ parameters only."""
    X, y = toy_data(32, n_times=200)
    clf = make_clf(module=_shallow(), augmentation="eeg", max_epochs=1).fit(X, y)
    assert clf.policy_.shape[0] > 0
    frequency_shift = [
        tr
        for tr in candidate_transforms(unwrap_module(clf).augmentation)
        if type(tr).__name__ == "FrequencyShift"
    ]
    assert frequency_shift and all(tr.sfreq == SFREQ for tr in frequency_shift)
    without = make_clf(module=_shallow(sfreq=None, n_times=200), augmentation="eeg")
    with pytest.raises(ValueError, match=r"instance ShallowFBCSPNet does not hold"):
        without.fit(X, y)


@pytest.mark.parametrize(
    "built, message",
    [
        (dict(n_outputs=5), r"instance's n_outputs \(ShallowFBCSPNet\)=5 but the"),
        (dict(n_chans=3), r"built for n_chans=3 \(X has 2\)"),
        (dict(n_times=300), r"built for n_times=300 \(X has 200\)"),
    ],
    ids=["n_outputs", "n_chans", "n_times"],
)
def test_a_module_instance_of_another_shape_is_refused_before_training(built, message):
    """An instance built for 5 outputs trained on 2 classes (predict_proba
    of 5 columns for 2 classes_); one built for other channels or times
    failed inside torch's convolution at the first batch."""
    X, y = toy_data(32, n_times=200)
    clf = make_clf(module=_shallow(**built), max_epochs=1)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert len(clf.history) == 0
