"""Tests of AugNetClassifier: fitting, skorch/sklearn conventions, errors."""

import pickle

import mne
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Checkpoint, EarlyStopping
from skorch.helper import predefined_split

from braindecode_augnet import AugmentationModule, AugNet
from braindecode_augnet import transforms as T

from .conftest import SFREQ, Trunk, layers, make_clf, toy_data


@pytest.fixture(scope="module")
def fitted():
    X, y = toy_data()
    return make_clf(max_epochs=3).fit(X, y), X, y


def test_fit_predict_and_proba(fitted):
    clf, X, y = fitted
    assert isinstance(clf.module_, AugNet)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert (proba >= 0).all()
    assert set(clf.predict(X)) <= {0, 1}


def test_policy_and_history(fitted):
    clf, _, _ = fitted
    policy = clf.policy_
    assert list(policy.columns) == [
        "layer",
        "transform",
        "weight",
        "magnitude",
        "probability",
        "op_value",
        "mag_range",
        "at_cap",
    ]
    assert list(policy["transform"]) == ["SignFlip", "GaussianNoise", "FrequencyShift"]
    np.testing.assert_allclose(policy.groupby("layer").weight.sum(), 1.0, rtol=1e-5)
    assert len(clf.history) == 3
    for key in ("aug_reg", "aug_weights", "aug_magnitudes", "train_loss"):
        assert key in clf.history[-1]
    assert [len(w) for w in clf.history[-1, "aug_weights"]] == [2, 1]
    # the regulariser moved the policy away from its start
    first, last = clf.history[0, "aug_magnitudes"], clf.history[-1, "aug_magnitudes"]
    assert first != last


def test_user_augmentation_is_not_modified():
    aug = layers()
    X, y = toy_data()
    before = [tr.raw_magnitude.item() for tr in aug[0][1:] + aug[1]]
    make_clf(augmentation=aug, max_epochs=2).fit(X, y)
    after = [tr.raw_magnitude.item() for tr in aug[0][1:] + aug[1]]
    assert before == after


def test_augmentation_module_and_preset():
    X, y = toy_data()
    module = AugmentationModule(layers())
    clf = make_clf(augmentation=module, max_epochs=1).fit(X, y)
    assert clf.module_.augmentation is not module
    clf = make_clf(augmentation="eeg", module__sfreq=SFREQ, max_epochs=1).fit(X, y)
    names = clf.policy_["transform"].tolist()
    assert "ChannelsDropout" in names and names.count("FrequencyShift") == 2


def test_eeg_preset_from_epochs_uses_channel_names():
    X, y = toy_data(n_chans=4)
    info = mne.create_info(["C3", "C4", "Cz", "Pz"], SFREQ, ch_types="eeg")
    epochs = mne.EpochsArray(X.astype(float) * 1e-6, info, verbose=False)
    clf = make_clf(augmentation="eeg", max_epochs=1).fit(epochs, y)
    assert "ChannelsSymmetry" in clf.policy_["transform"].tolist()
    assert clf.predict(epochs).shape == (len(y),)


def test_eeg_preset_needs_sfreq():
    X, y = toy_data()
    with pytest.raises(ValueError, match="sampling frequency"):
        make_clf(augmentation="eeg").fit(X, y)


def test_augmentation_learning_rate_groups():
    X, y = toy_data()
    clf = make_clf(max_epochs=1, aug_lr=0.5, magnitude_lr=0.2).fit(X, y)
    groups = clf.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [1e-2, 0.5, 0.2]
    assert groups[1]["weight_decay"] == groups[2]["weight_decay"] == 0.0
    names = [n for n, _ in clf.module_.named_parameters() if n.startswith("aug")]
    assert len(groups[1]["params"]) == sum(n.endswith("alpha") for n in names) == 2
    assert len(groups[1]["params"]) + len(groups[2]["params"]) == len(names)
    clf = make_clf(max_epochs=1).fit(X, y)
    assert [g["lr"] for g in clf.optimizer_.param_groups] == pytest.approx(
        [1e-2, 0.1, 0.1]
    )
    with pytest.raises(ValueError, match="magnitude_lr"):
        make_clf(magnitude_lr=-1.0).fit(X, y)


def test_reg_zero_leaves_magnitudes_to_the_data_term():
    X, y = toy_data()
    clf = make_clf(reg=0.0, max_epochs=1).fit(X, y)
    assert "aug_reg" in clf.history[-1]


def test_sklearn_clone_set_params_and_grid_search():
    clf = make_clf()
    cloned = clone(clf)
    assert cloned.reg == clf.reg and cloned.augmentation is not clf.augmentation
    cloned.set_params(reg=0.1, n_copies=2)
    assert cloned.reg == 0.1 and cloned.n_copies == 2
    X, y = toy_data()
    search = GridSearchCV(
        make_clf(max_epochs=1), {"reg": [0.0, 1.0]}, cv=2, scoring="accuracy"
    )
    search.fit(X, y)
    assert search.best_params_["reg"] in (0.0, 1.0)


def test_fitted_clone_is_independent(fitted):
    clf, X, y = fitted
    cloned = clone(clf)
    cloned.fit(X, y)
    assert cloned.module_ is not clf.module_


def test_n_copies_set_after_fit_is_used(fitted):
    clf, X, _ = fitted
    clf.set_params(n_copies=1)
    try:
        clf.predict_proba(X[:4])
        assert clf.module_.n_copies == 1
    finally:
        clf.set_params(n_copies=3)


def test_pickle_and_save_load_params(fitted, tmp_path):
    clf, X, y = fitted
    restored = pickle.loads(pickle.dumps(clf))
    torch.testing.assert_close(
        restored.module_.augmentation.layers[0].alpha,
        clf.module_.augmentation.layers[0].alpha,
    )
    clf.save_params(f_params=tmp_path / "params.pt", f_history=tmp_path / "h.json")
    new = make_clf(max_epochs=3).initialize()
    new.load_params(f_params=tmp_path / "params.pt", f_history=tmp_path / "h.json")
    torch.testing.assert_close(
        new.module_.augmentation.layers[1].transforms[0].magnitude,
        clf.module_.augmentation.layers[1].transforms[0].magnitude,
    )
    pd_new, pd_old = new.policy_, clf.policy_
    np.testing.assert_allclose(pd_new.weight, pd_old.weight)


def test_checkpoint_and_early_stopping(tmp_path):
    X, y = toy_data()
    valid = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    clf = make_clf(
        max_epochs=4,
        train_split=predefined_split(valid),
        callbacks=[
            Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best"),
            EarlyStopping(patience=1, threshold=10.0),
        ],
    )
    clf.fit(X, y)
    assert len(clf.history) < 4  # stopped early
    assert (tmp_path / "params.pt").exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reg": -1.0}, ValueError, "reg"),
        ({"n_copies": 0}, ValueError, "n_copies"),
        ({"n_copies_train": 0}, ValueError, "n_copies_train"),
        ({"temperature": 0}, ValueError, "temperature"),
        ({"sampling": "x"}, ValueError, "sampling"),
        ({"augmentation": "sleep"}, ValueError, "preset"),
        ({"augmentation": 3}, TypeError, "augmentation"),
        (
            {"augmentation": [[T.SignFlip(), torch.nn.Identity()]]},
            TypeError,
            "DifferentiableTransform",
        ),
    ],
)
def test_bad_parameters(kwargs, error, match):
    X, y = toy_data()
    with pytest.raises(error, match=match):
        make_clf(**kwargs).fit(X, y)


def test_non_differentiable_transform_error():
    from braindecode.augmentation import FrequencyShift as BDShift

    X, y = toy_data()
    clf = make_clf(augmentation=[[BDShift(probability=1.0, sfreq=SFREQ)]])
    with pytest.raises(TypeError, match="not differentiable"):
        clf.fit(X, y)


def test_bad_data():
    X, y = toy_data()
    with pytest.raises(ValueError, match="different lengths"):
        make_clf().fit(X, y[:-3])
    with pytest.raises(ValueError, match="fewer than 2 classes"):
        make_clf().fit(X, np.zeros(len(X), dtype=int))
    X_nan = X.copy()
    X_nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make_clf().fit(X_nan, y)


def test_policy_before_fit_raises():
    from skorch.exceptions import NotInitializedError

    with pytest.raises(NotInitializedError):
        _ = make_clf().policy_


def test_fit_on_a_braindecode_windows_dataset():
    from braindecode_augnet.datasets import (
        create_sleep_windows,
        make_synthetic_sleep,
        preprocess_sleep,
    )

    raw = make_synthetic_sleep(n_subjects=2, n_hours=0.25, random_state=0)
    preprocess_sleep(raw)
    windows = create_sleep_windows(raw)
    clf = make_clf(
        module=Trunk,
        module__n_outputs=5,
        module__n_times=3000,
        augmentation="eeg",
        module__sfreq=100.0,
        max_epochs=1,
        batch_size=8,
        classes=list(range(5)),
    )
    clf.fit(windows, y=None)
    proba = clf.predict_proba(windows)
    assert proba.shape == (len(windows), 5)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_regulariser_warm_up_schedule():
    clf = make_clf(reg=0.6, reg_warmup=2).initialize()
    weights = []
    for _ in range(4):
        clf.history.new_epoch()  # as fit does at the start of each epoch
        weights.append(clf.current_reg())
    assert weights == pytest.approx([0.0, 0.3, 0.6, 0.6])
    assert make_clf(reg=0.6).initialize().current_reg() == 0.6
    X, y = toy_data()
    with pytest.raises(ValueError, match="reg_warmup"):
        make_clf(reg_warmup=-1).fit(X, y)
