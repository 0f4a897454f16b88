"""Tests of AugNetClassifier: fitting, skorch/sklearn conventions, errors."""

import pickle
import re

import mne
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, Checkpoint, EarlyStopping
from skorch.dataset import ValidSplit
from skorch.helper import predefined_split

from braindecode_augnet import AugmentationModule, AugNet
from braindecode_augnet import transforms as T
from braindecode_augnet.layers import unwrap_module

from .conftest import (
    SFREQ,
    SeqTrunk,
    Trunk,
    layers,
    make_clf,
    toy_data,
    toy_sequences,
)


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
        "displacement",
        "drift",
        "moving",
    ]
    assert list(policy["transform"]) == ["SignFlip", "GaussianNoise", "FrequencyShift"]
    # 3 epochs are too few to tell whether a magnitude has settled
    assert policy["drift"].isna().all() and not policy["moving"].any()
    # measured on the first training batch: every candidate changes the data
    assert (policy["displacement"] > 0).all() and (policy["displacement"] != 1).all()
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


def _epochs(X, sfreq=SFREQ, names=("C3", "C4", "Cz", "Pz")):
    info = mne.create_info(list(names), sfreq, ch_types="eeg")
    return mne.EpochsArray(X.astype(float) * 1e-6, info, verbose=False)


def test_epochs_of_another_rate_or_channels_are_refused():
    """A module__sfreq that the Epochs contradict, a candidate built for
    another rate, and Epochs of another rate or channel order at predict
    time are refused, naming both and the fix (all were silent: the trunk
    and the frequency shifts worked at the wrong rate)."""
    X, y = toy_data(n_chans=4)
    clf = make_clf(augmentation="eeg", module__sfreq=2 * SFREQ, max_epochs=1)
    with pytest.raises(ValueError, match=r"module__sfreq=100.0 but the Epochs .* 50"):
        clf.fit(_epochs(X), y)
    assert not clf.initialized_ or not len(clf.history)
    shift = T.FrequencyShift(sfreq=5 * SFREQ)
    clf = make_clf(augmentation=[[shift]], module__sfreq=SFREQ, max_epochs=1)
    with pytest.raises(ValueError, match="FrequencyShift.sfreq=250. in a network"):
        clf.fit(X, y)
    clf = make_clf(augmentation="eeg", max_epochs=1).fit(_epochs(X), y)
    expected = clf.predict(_epochs(X))
    with pytest.raises(ValueError, match="fitted on Epochs sampled at 50 Hz, got 100"):
        clf.predict(_epochs(X, sfreq=2 * SFREQ))
    swapped = ("C4", "C3", "Cz", "Pz")
    with pytest.raises(ValueError, match=r"reorder_channels\(\['C3', 'C4'"):
        clf.predict(_epochs(X, names=swapped))
    with pytest.raises(ValueError, match="fitted on the channels"):
        clf.partial_fit(_epochs(X, names=swapped), y)
    np.testing.assert_array_equal(clf.predict(_epochs(X)), expected)
    assert clf.predict(X).shape == y.shape  # arrays carry no rate to check
    eog = _epochs(X)
    eog.set_channel_types({"C3": "eog"}, verbose=False)
    with pytest.raises(ValueError, match=r"types \['eeg', 'eeg'.*got \['eog', 'eeg'"):
        clf.predict(eog)
    nearly = _epochs(X, sfreq=SFREQ + 1e-10)  # the same rate, rounded otherwise
    np.testing.assert_array_equal(clf.predict(nearly), expected)
    clf.partial_fit(X, y)  # arrays that go on training keep the Epochs' record
    with pytest.raises(ValueError, match="fitted on Epochs sampled at 50 Hz"):
        clf.predict(_epochs(X, sfreq=2 * SFREQ))


class _PickleAtEpochEnd(Callback):
    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, net, **kwargs):
        self.path.write_bytes(pickle.dumps(net))


def test_a_pickle_taken_during_a_fit_is_of_a_fitted_estimator(tmp_path):
    """The flag of a fit in progress is not pickled (Checkpoint(f_pickle=)
    pickles during a fit): the restored estimator checks what it trains on."""
    X, y = toy_data()
    callback = _PickleAtEpochEnd(tmp_path / "clf.pkl")
    make_clf(max_epochs=1, callbacks=[("pickle", callback)]).fit(X, y)
    restored = pickle.loads((tmp_path / "clf.pkl").read_bytes())
    assert "_fit_anew" not in vars(restored)
    with pytest.raises(ValueError, match="fitted on 2 channels and 100 time"):
        restored.partial_fit(X[:, :, :80], y)


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
        [1e-2, 1e-2, 0.03]  # AugNet's weights at the trunk's rate by default
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


@pytest.mark.parametrize("n_copies_valid, seen", [(None, 3), (1, 1)])
def test_validation_averages_n_copies_valid(n_copies_valid, seen):
    """Validation after each epoch passes ``n_copies_valid`` copies of each
    window through the trunk (``n_copies`` when None); prediction keeps
    ``n_copies``."""
    X, y = toy_data(n=24)
    valid = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    clf = make_clf(
        max_epochs=1, n_copies_valid=n_copies_valid, train_split=predefined_split(valid)
    ).fit(X, y)
    rows = []
    hook = clf.module_.trunk.register_forward_hook(
        lambda module, args, out: rows.append(len(args[0]))
    )
    try:
        clf.validation_step((torch.as_tensor(X[:8]), torch.as_tensor(y[:8])))
        assert sum(rows) == 8 * seen
        assert clf.module_.n_copies == 3
        rows.clear()
        clf.predict_proba(X[:8])
        assert sum(rows) == 8 * 3
    finally:
        hook.remove()
    assert np.isfinite(clf.history[-1, "valid_loss"])


@pytest.mark.parametrize(
    "kwargs, match", [({"n_copies_valid": 0}, "n_copies_valid"), ({"reg": -1.0}, "reg")]
)
def test_parameters_set_after_fit_are_checked_before_training(fitted, kwargs, match):
    """A bad parameter given to set_params on a fitted estimator (one that
    needs no new module) is refused there; set as an attribute, by
    partial_fit before any epoch. Both name it."""
    clf, X, y = fitted
    clf = clone(clf).fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.set_params(**kwargs)
    vars(clf).update(kwargs)
    epochs = len(clf.history)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y)
    assert len(clf.history) == epochs


@pytest.mark.parametrize("cut", ["times", "channels"])
def test_training_on_other_shapes_is_refused_before_anything_changes(fitted, cut):
    """partial_fit (and a warm-start fit) go on training the fitted net:
    windows of another shape are refused up front, naming the fitted shape,
    and leave the estimator as it was (it failed deep in the trunk, and
    recorded the new shape as the fitted one, refusing the original data);
    a fit anew takes them."""
    clf, X, y = fitted
    clf = clone(clf).fit(X, y)
    other = X[:, :, :80] if cut == "times" else np.concatenate([X, X[:, :1]], axis=1)
    epochs, expected = len(clf.history), clf.predict_proba(X)
    for warm in (False, True):
        with pytest.raises(ValueError, match="fitted on 2 channels and 100 time"):
            if warm:
                clf.set_params(warm_start=True).fit(other, y)
            else:
                clf.partial_fit(other, y)
    assert len(clf.history) == epochs
    assert (clf.n_chans_, clf.n_times_) == (2, 100)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    clf.set_params(warm_start=False, max_epochs=1).fit(other, y)
    assert clf.n_chans_ * clf.n_times_ == other.shape[1] * other.shape[2]


def _groups(clf):
    return [(g["lr"], g["weight_decay"]) for g in clf.optimizer_.param_groups]


def test_set_params_gives_the_policy_groups_their_own_rates(fitted):
    """lr and optimizer__* set on a fitted estimator reach the trunk's group,
    aug_lr, magnitude_lr and aug_weight_decay the policy's (skorch set lr
    and the decay on every group, and ignored aug_lr), as a new estimator
    with those parameters has them; the optimizer's state is kept."""
    clf, X, y = fitted
    settings = dict(lr=1e-3, aug_lr=0.5, magnitude_lr=0.2, aug_weight_decay=0.0)
    clf = clone(clf).set_params(**settings).fit(X, y)
    assert _groups(clf) == [(1e-3, 0), (0.5, 0.0), (0.2, 0.0)]
    state = {id(p): v["step"] for p, v in clf.optimizer_.state.items()}
    changes = dict(lr=1e-4, aug_lr=0.05, magnitude_lr=1e-6)
    changes["optimizer__weight_decay"] = 0.01
    for key, value in changes.items():
        clf.set_params(**{key: value})
    fresh = clone(clf).set_params(**changes).initialize()
    assert _groups(clf) == _groups(fresh) == [(1e-4, 0.01), (0.05, 0.0), (1e-6, 0.0)]
    assert {id(p): v["step"] for p, v in clf.optimizer_.state.items()} == state
    clf.set_params(aug_weight_decay=0.1)
    assert [decay for _, decay in _groups(clf)] == [0.01, 0.1, 0.1]


def test_set_params_of_what_builds_the_policy_builds_the_module_anew(fitted):
    """Another method (or preset, initial magnitude, sampling) set on a
    fitted estimator builds its module, criterion and optimizer anew, as
    skorch does for the module's parameters: the fitted policy was another
    method's (ADDA then failed in training, for want of its bilevel state;
    the random policy predicted with AugNet's copies); the same value set
    again keeps the fit."""
    clf, X, y = fitted
    clf = clone(clf).fit(X, y)
    module = clf.module_
    clf.set_params(method="augnet", init_magnitude=clf.init_magnitude)
    assert clf.module_ is module
    clf.set_params(method="random")
    assert clf.module_ is not module
    fresh = clone(clf).initialize()
    assert clf.module_.n_copies == fresh.module_.n_copies
    assert type(clf.module_.augmentation) is type(fresh.module_.augmentation)
    clf.set_params(method="adda", reg=0, max_epochs=1).partial_fit(X, y)
    assert hasattr(clf, "bilevel_") and len(clf.history) == 4
    clf.set_params(method="augnet")  # ADDA's search and optimizer forgotten
    assert not hasattr(clf, "bilevel_") and not hasattr(clf, "policy_optimizer_")
    assert "policy_optimizer" not in clf._optimizers


def test_a_refused_rebuild_leaves_the_fitted_estimator_as_it_was(fitted):
    """set_params of layers that the checks refuse (a candidate built for
    another rate) raises and keeps the fitted module, optimizer and
    parameters: the module was half replaced, and training then stepped an
    optimizer of the old module's parameters."""
    clf, X, y = fitted
    clf = clone(clf).set_params(module__sfreq=SFREQ).fit(X, y)
    state = dict(vars(clf))
    expected = clf.predict_proba(X)
    bad = [[T.FrequencyShift(sfreq=5 * SFREQ)]]
    with pytest.raises(ValueError, match="FrequencyShift.sfreq=250. in a network"):
        clf.set_params(augmentation=bad)
    assert vars(clf).keys() == state.keys()
    assert [k for k, v in state.items() if vars(clf)[k] is not v] == []
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    trunk = [p.detach().clone() for p in clf.module_.trunk.parameters()]
    clf.partial_fit(X, y)
    after = clf.module_.trunk.parameters()
    assert any(not torch.equal(a, b) for a, b in zip(trunk, after))


def test_set_params_reaches_the_policy_optimizer_of_adda(fitted):
    """ADDA's policy has an optimizer of its own: aug_lr, magnitude_lr,
    aug_weight_decay and lr reach it (and the unrolled step's rate) in
    place, as a new estimator has them."""
    clf, X, y = fitted
    clf = clone(clf).set_params(method="adda", reg=0, max_epochs=1).fit(X, y)
    clf.set_params(aug_lr=0.5, magnitude_lr=0.2, aug_weight_decay=0.3, lr=1e-3)
    fresh = clone(clf).initialize()
    assert _groups(fresh) == [(1e-3, 0)]  # the trunk's alone
    for net in (clf, fresh):
        groups = net.policy_optimizer_.param_groups
        settings = [(g["lr"], g["weight_decay"]) for g in groups]
        assert settings == [(0.5, 0.3), (0.2, 0.3)]
    assert clf.bilevel_.unroll_lr == fresh.bilevel_.unroll_lr == 1e-3
    clf.set_params(method="augnet", reg=0.5)  # its policy in the trunk's optimizer
    assert "policy_optimizer" not in clf._optimizers
    assert not hasattr(clf, "policy_optimizer_") and not hasattr(clf, "bilevel_")
    assert len(_groups(clf)) == 3


def test_optimizer_lr_set_on_a_fitted_net_is_the_policys_base_rate(fitted):
    """optimizer__lr moves the policy's default rates with the trunk's, as
    in a new estimator (they stayed at the old rate)."""
    clf, X, y = fitted
    clf = clone(clf).fit(X, y).set_params(optimizer__lr=1e-4)
    fresh = clone(clf).set_params(optimizer__lr=1e-4).initialize()
    assert _groups(clf) == _groups(fresh)
    assert [lr for lr, _ in _groups(clf)] == pytest.approx([1e-4, 1e-4, 3e-4])


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
        ({"n_copies_valid": 0}, ValueError, "n_copies_valid"),
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


def test_a_first_partial_fit_of_one_class_is_refused_and_leaves_nothing():
    """A first partial_fit on a batch of one class was refused after it
    built a one-output module and kept the class, so that every later call,
    with both classes or classes=, was refused the same way."""
    X, y = toy_data()
    clf = make_clf(max_epochs=1)
    with pytest.raises(ValueError, match=r"classes=\[\.\.\.\]"):
        clf.partial_fit(X[y == 0], y[y == 0])
    assert not clf.initialized_ and "classes_inferred_" not in vars(clf)
    np.testing.assert_array_equal(clf.partial_fit(X, y).classes_, [0, 1])
    some = make_clf(max_epochs=1).partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    assert some.predict_proba(X[:2]).shape == (2, 2)
    some.partial_fit(X[y == 1], y[y == 1])  # later batches may hold one class


@pytest.mark.parametrize(
    "params",
    [
        dict(lr=-0.01),
        dict(optimizer__lr=-0.01),
        dict(optimizer__lr=None),
        dict(optimizer__param_groups__0__lr=-1.0),
        dict(n_copies=0),
        dict(temperature=0),
        dict(lr=0.5, policy_valid_fraction=1.0),  # lr set, then refused
        dict(lr=0.5, method="adda"),  # ADDA takes no regulariser: refused
    ],
    ids=lambda p: "-".join(p),
)
def test_set_params_refused_on_a_fitted_estimator_leaves_it_as_it_was(params):
    """A refused value stayed in get_params (a later clone failed on it);
    a negative learning rate was taken, and partial_fit ran gradient
    ascent."""
    X, y = toy_data()
    clf = make_clf(max_epochs=1).fit(X, y)
    before = clf.get_params(deep=False)
    rates = [group["lr"] for group in clf.optimizer_.param_groups]
    with pytest.raises(ValueError, match=list(params)[-1]):
        clf.set_params(**params)
    assert clf.get_params(deep=False) == before
    assert [group["lr"] for group in clf.optimizer_.param_groups] == rates
    clone(clf).fit(X, y)
    with pytest.raises(ValueError, match=r"lr must be a number >= 0, got -1"):
        make_clf(lr=-1.0).fit(X, y)


def test_a_refused_set_params_leaves_the_users_callbacks_as_they_were():
    """skorch sets callbacks__NAME__PARAM into the user's callback object
    before the later checks refuse the call: it kept the refused value."""
    from skorch.callbacks import EpochScoring

    X, y = toy_data()
    scoring = EpochScoring("accuracy", lower_is_better=False, name="acc")
    clf = make_clf(max_epochs=1, callbacks=[("acc", scoring)]).fit(X, y)
    with pytest.raises(ValueError, match="policy_valid_fraction"):
        clf.set_params(callbacks__acc__lower_is_better=True, policy_valid_fraction=1)
    assert scoring.lower_is_better is False
    assert dict(clf.callbacks_)["acc"] is scoring


@pytest.mark.parametrize("where", ["fit", "predict"])
def test_deferred_input_check_raises_after_the_batch(where):
    """AugNet(input_check='deferred') (the default off CPU) is read by the
    classifier once the batch's loss or output reached the host."""
    X, y = toy_data()
    X_nan = X.copy()
    X_nan[5, 0, 0] = np.nan
    clf = make_clf(max_epochs=1).initialize()
    clf.module_.input_check = "deferred"
    if where == "fit":
        with pytest.raises(ValueError, match="NaN or infinite"):
            clf.partial_fit(X_nan, y)
        assert len(clf.history[-1, "batches"]) == 1  # raised after batch 1
    else:
        clf.partial_fit(X, y)
        assert clf.history[-1, "batches"][0]["train_nll"] > 0
        with pytest.raises(ValueError, match="NaN or infinite"):
            clf.predict_proba(X_nan)
        assert not clf.module_._non_finite.pending


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


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize(
    "labels",
    [np.array(["maybe", "no", "yes"]), np.array([1, 5, 9]), np.array([-1, 0, 1])],
    ids=["strings", "1-5-9", "minus-1-0-1"],
)
def test_labels_are_encoded_and_predictions_decoded(labels):
    X, _ = toy_data()
    y = labels[np.arange(len(X)) % 3]
    clf = make_clf(max_epochs=1).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert clf.module_.trunk.out.out_features == 3
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, labels[clf.predict_proba(X).argmax(1)])
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_validation_accuracy_compares_labels_with_labels():
    X, y = toy_data()
    scores = []
    for labels in (np.array([0, 1]), np.array([5, 9]), np.array(["a", "b"])):
        torch.manual_seed(0)
        clf = make_clf(max_epochs=2, train_split=ValidSplit(4, stratified=True))
        scores.append(clf.fit(X, labels[y]).history[:, "valid_acc"])
    assert scores[0] == scores[1] == scores[2]


def test_column_vector_y_is_raveled_with_a_warning():
    X, y = toy_data()
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clf = make_clf(max_epochs=1).fit(X, y[:, None])
    assert clf.predict(X).shape == (len(X),)
    np.testing.assert_array_equal(clf.classes_, [0, 1])


def test_continuous_targets_are_rejected_and_integral_floats_accepted():
    X, y = toy_data()
    fractional = np.array([0.2, 0.7, 1.9])[np.arange(len(X)) % 3]
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        make_clf(max_epochs=1).fit(X, fractional)
    clf = make_clf(max_epochs=1).fit(X, y.astype(float))
    assert set(clf.predict(X)) <= {0.0, 1.0}


def test_partial_fit_keeps_the_classes_of_the_first_fit():
    X, y = toy_data()
    clf = make_clf(max_epochs=1).fit(X, np.array(["a", "b"])[y])
    clf.partial_fit(X[y == 1], np.full(int(y.sum()), "b"))
    np.testing.assert_array_equal(clf.classes_, ["a", "b"])
    with pytest.raises(ValueError, match=r"not in classes \['a', 'b'\]: \['c'\]"):
        clf.partial_fit(X, np.array(["a", "c"])[y])


# -------------------------------------------------------------- divergence
def test_infinite_reg_is_rejected():
    X, y = toy_data()
    with pytest.raises(ValueError, match=r"reg must be a number >= 0 \(finite\)"):
        make_clf(reg=np.inf).fit(X, y)


def test_non_finite_training_loss_stops_training():
    X, y = toy_data()
    with pytest.raises(FloatingPointError, match="Standardise the inputs"):
        make_clf(max_epochs=3).fit(X * 1e20, y)


def test_predict_with_a_nan_policy_names_it():
    X, y = toy_data()
    clf = make_clf(max_epochs=1).fit(X, y)
    with torch.no_grad():
        clf.module_.augmentation.layers[0].alpha.fill_(float("nan"))
    with pytest.raises(ValueError, match="augmentation policy has NaN"):
        clf.predict(X)


# -------------------------------------------------- numbers of any type
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("reg", np.int64(1)),
        ("reg", np.float32(0.1)),
        ("reg", torch.tensor(0.5)),
        ("temperature", np.float32(0.1)),
        ("temperature", torch.tensor(0.1)),
        ("init_magnitude", np.float32(0.3)),
        ("reg_warmup", np.int64(1)),
        ("n_copies", np.int64(2)),
        ("n_copies", torch.tensor(2)),
        ("n_copies_train", np.int64(2)),
        ("aug_lr", np.float32(0.1)),
        ("magnitude_lr", torch.tensor(0.1)),
    ],
)
def test_numeric_parameters_accept_numpy_and_tensor_numbers(name, value):
    X, y = toy_data()
    kwargs = {name: value}
    if name == "init_magnitude":
        kwargs.update(augmentation="eeg", module__sfreq=SFREQ)
    clf = make_clf(max_epochs=1, **kwargs).fit(X, y)
    assert np.isfinite(clf.history[-1, "train_loss"])
    assert clf.predict(X).shape == (len(X),)
    assert all(type(g["lr"]) is float for g in clf.optimizer_.param_groups)


def test_grid_search_over_a_numpy_range():
    X, y = toy_data()
    search = GridSearchCV(
        make_clf(max_epochs=1), {"reg": np.arange(2)}, cv=2, error_score="raise"
    )
    search.fit(X, y)
    assert search.best_params_["reg"] in (0, 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"init_magnitude": 1.5}, "init_magnitude must be a number in"),
        # at 0 nothing learns: the regulariser's and the gates' gradients are 0
        ({"init_magnitude": 0.0}, r"init_magnitude must be in \(0, 1\], got 0"),
        ({"temperature": None}, "temperature must be a number > 0, got None"),
        ({"aug_weight_decay": -1}, "aug_weight_decay must be a number >= 0"),
        ({"reg_warmup": 0.5}, "reg_warmup must be an integer >= 0"),
        ({"aug_lr": "fast"}, "aug_lr must be a number > 0, got 'fast'"),
    ],
)
def test_numeric_parameter_messages_name_the_parameter(kwargs, match):
    X, y = toy_data()
    with pytest.raises(ValueError, match=match):
        make_clf(augmentation="eeg", module__sfreq=SFREQ, **kwargs).fit(X, y)


# ------------------------------------------------------------------ shapes
def test_predict_on_another_shape_says_what_was_fitted(fitted):
    clf, X, _ = fitted
    assert (clf.n_chans_, clf.n_times_) == (2, 100)
    with pytest.raises(ValueError, match="fitted on 2 channels and 100 time samples"):
        clf.predict(toy_data(n=8, n_chans=3)[0])
    with pytest.raises(ValueError, match="got 2 channels and 80 time samples"):
        clf.predict_proba(toy_data(n=8, n_times=80)[0])


def test_refit_on_new_shapes():
    X, y = toy_data()
    clf = make_clf(max_epochs=1, module__sfreq=SFREQ).fit(X, y)
    X3, _ = toy_data(n_chans=3, n_times=80)
    clf.fit(X3, np.arange(len(X3)) % 4)
    assert (clf.n_chans_, clf.n_times_) == (3, 80)
    assert clf.module_.trunk.conv.in_channels == 3
    assert clf.module_.trunk.out.out_features == len(clf.classes_) == 4
    assert clf.module__sfreq == SFREQ  # what the user set is kept
    assert clf.predict(X3).shape == (len(X3),)


# ------------------------------------------------------------- repeatable
def test_predictions_are_repeatable_and_survive_pickling(fitted):
    clf, X, _ = fitted
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


# ---------------------------------------------------------------- messages
def test_empty_and_flat_augmentation_messages():
    X, y = toy_data()
    with pytest.raises(ValueError, match="at least one layer") as info:
        make_clf(augmentation=[]).fit(X, y)
    assert "got list" not in str(info.value)
    with pytest.raises(TypeError, match=re.escape("Wrap it as [[SignFlip(...), ...]]")):
        make_clf(augmentation=[T.SignFlip()]).fit(X, y)


def test_numpy_random_state_with_a_list_augmentation():
    X, y = toy_data()
    clf = make_clf(random_state=np.random.RandomState(0), max_epochs=1).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_temperature_set_after_fit_is_used():
    X, y = toy_data()
    clf = make_clf(max_epochs=1).fit(X, y)
    clf.set_params(temperature=3.0)
    clf.predict(X[:4])
    assert [lay.temperature for lay in clf.module_.augmentation.layers] == [3.0, 3.0]
    module = AugmentationModule(layers(), temperature=0.2)
    clf = make_clf(augmentation=module, max_epochs=1).fit(X, y)
    clf.set_params(temperature=3.0)
    clf.predict(X[:4])  # the layers of a given AugmentationModule are kept
    assert [lay.temperature for lay in clf.module_.augmentation.layers] == [0.2, 0.2]


@pytest.mark.parametrize(
    ("method", "reg", "aug_lr", "magnitude_lr", "reg_scale"),
    [
        ("augnet", 0.1, 0.01, 0.03, "displacement"),
        ("augerino", 0.01, 0.01, 0.01, "magnitude"),
    ],
)
def test_method_defaults(method, reg, aug_lr, magnitude_lr, reg_scale):
    """Augerino is trained with Benton et al.'s settings unless told otherwise."""
    X, y = toy_data()
    clf = make_clf(method=method, reg=None, lr=0.01, max_epochs=1).fit(X, y)
    assert clf.current_reg() == reg
    assert clf.current_reg_scale() == reg_scale
    groups = clf.optimizer_.param_groups
    assert groups[1]["lr"] == pytest.approx(aug_lr)  # the layers' weights
    assert groups[2]["lr"] == pytest.approx(magnitude_lr)  # their magnitudes
    assert clf.set_params(reg=0.2).current_reg() == 0.2
    assert clf.set_params(reg_scale="magnitude").current_reg_scale() == "magnitude"


def test_unknown_reg_scale_is_refused():
    X, y = toy_data()
    with pytest.raises(ValueError, match="reg_scale must be one of"):
        make_clf(reg_scale="range").fit(X, y)


# ------------------------------------------------------------ ADDA / CADDA
@pytest.mark.parametrize("method", ["adda", "cadda"])
def test_bilevel_methods_fit_and_predict_with_the_bare_trunk(method):
    X, y = toy_data()
    clf = make_clf(method=method, reg=None, max_epochs=2).fit(X, y)
    module = clf.module_
    # the trunk's optimizer holds no policy parameter; the policy's search does
    trunk_params = {id(p) for g in clf.optimizer_.param_groups for p in g["params"]}
    policy_params = list(module.augmentation.parameters())
    assert trunk_params == {id(p) for p in module.trunk.parameters()}
    searched = {id(p) for g in clf.bilevel_.optimizer.param_groups for p in g["params"]}
    assert searched == {id(p) for p in policy_params}
    # the policy was searched: it moved from its initial values
    assert clf.history[-1, "policy_valid_loss"] > 0
    assert not torch.allclose(
        module.augmentation.policies[0].layers[0].alpha, torch.zeros(2)
    )
    # prediction: the bare trunk, no copies, no augmentation
    expected = torch.softmax(module.trunk.eval()(torch.as_tensor(X)), dim=-1)
    np.testing.assert_allclose(
        clf.predict_proba(X), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert set(clf.predict(X)) <= {0, 1}
    table = clf.policy_
    n_policies = 2 if method == "cadda" else 1
    assert len(table) == 3 * n_policies
    expected_classes = [0, 1] if method == "cadda" else ["all"]
    assert table["class"].unique().tolist() == expected_classes
    fixed = clf.bilevel_policy_.fixed_transforms()
    assert len(fixed) == n_policies and len(fixed[0]) == 2  # one per layer


def test_cadda_policies_draw_independently():
    X, y = toy_data()
    clf = make_clf(method="cadda", reg=None, max_epochs=1).fit(X, y)
    a, b = clf.bilevel_policy_.policies
    seeds = [tr.random_state for tr in a.layers[0].transforms]
    assert seeds != [tr.random_state for tr in b.layers[0].transforms]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "adda", "reg": 0.5}, "takes no regulariser"),
        ({"method": "cadda", "reg": 0, "policy_valid_fraction": 0.0}, "strictly"),
        ({"method": "adda", "reg": 0, "policy_valid_fraction": 1.0}, "strictly"),
        ({"method": "adda", "reg": 0, "policy_valid_fraction": 0.001}, "holds out 0"),
        ({"method": "adda", "reg": 0, "unroll_lr": -1.0}, "unroll_lr"),
    ],
)
def test_bilevel_parameter_errors(kwargs, match):
    X, y = toy_data()
    with pytest.raises(ValueError, match=match):
        make_clf(**kwargs).fit(X, y)


def test_bilevel_policy_is_only_for_bilevel_methods(fitted):
    clf, _, _ = fitted
    with pytest.raises(AttributeError, match="method='adda' or 'cadda'"):
        clf.bilevel_policy_  # noqa: B018


def test_cadda_with_a_module_instance_counts_the_classes_of_y():
    """Issue 26 item 10: no classes= needed before fitting."""
    X, _ = toy_data()
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    clf = make_clf(method="cadda", reg=None, module=Trunk(n_outputs=3), max_epochs=1)
    clf.fit(X, y)
    assert len(clf.bilevel_policy_.policies) == 3
    assert clf.policy_["class"].unique().tolist() == ["a", "b", "c"]
    clf.set_params(classes=[0, 1]).fit(X, np.arange(len(X)) % 2)
    assert len(clf.bilevel_policy_.policies) == 2


# ----------------------------------------------------------------- sequences
def test_sequences_train_per_window_and_predict_per_window():
    X, y = toy_sequences(n=12, n_windows=4)
    labels = np.array(["low", "high"])[y]  # (n_sequences, n_windows) labels
    clf = make_clf(module=SeqTrunk, max_epochs=1).fit(X, labels)
    assert clf.classes_.tolist() == ["high", "low"]
    proba = clf.predict_proba(X)
    assert proba.shape == (12, 2, 4)  # (n_sequences, n_classes, n_windows)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    pred = clf.predict(X)
    assert pred.shape == (12, 4)
    assert (pred == clf.classes_[proba.argmax(1)]).all()
    # the training loss is the NLL per window
    y_pred = clf.forward(X[:3])
    index = torch.as_tensor(pd.Index(clf.classes_).get_indexer(labels[:3].ravel()))
    expected = torch.nn.functional.nll_loss(y_pred, index.reshape(3, 4))
    torch.testing.assert_close(clf.get_loss(y_pred, index.reshape(3, 4)), expected)


def test_sequences_as_one_signal_with_window_size():
    X, y = toy_sequences(n=8, n_windows=3)
    signal = X.transpose(0, 2, 1, 3).reshape(8, 2, 300)  # (n, channels, 3 * 100)
    clf = make_clf(
        module=SeqTrunk,
        module__n_times=100,
        window_size=100,
        sequence_augmentation="sequence",
        max_epochs=1,
    ).fit(signal, y)
    assert unwrap_module(clf).sequence_augmentation == "sequence"
    assert (clf.n_chans_, clf.n_times_) == (2, 100)
    assert clf.predict(signal).shape == (8, 3)
    assert clf.predict(X).shape == (8, 3)  # the other layout, same windows


def test_bad_sequence_shapes_are_clear_errors():
    X, y = toy_sequences(n=8, n_windows=3)
    with pytest.raises(ValueError, match=r"\(n_sequences, n_windows\) = \(8, 3\)"):
        make_clf(module=SeqTrunk).fit(X, y[:, :2])
    with pytest.raises(ValueError, match=r"\(n_sequences, n_windows\) = \(8, 3\)"):
        make_clf(module=SeqTrunk).fit(X, y[:, 0])
    with pytest.raises(ValueError, match="set window_size"):
        make_clf(module=SeqTrunk).fit(X[:, 0], y)
    signal = X.transpose(0, 2, 1, 3).reshape(8, 2, 300)
    with pytest.raises(ValueError, match="whole windows of window_size=70"):
        make_clf(module=SeqTrunk, window_size=70).fit(signal, y)
    with pytest.raises(ValueError, match="sequence_augmentation must be one of"):
        make_clf(module=SeqTrunk, sequence_augmentation="night").fit(X, y)
    # per-window predictions with per-sequence targets (no sequence sampler)
    clf = make_clf(module=SeqTrunk, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"need targets \(batch, n_windows\)"):
        clf.get_loss(clf.forward(X[:2]), torch.zeros(2, dtype=torch.long))


@pytest.mark.parametrize("method", ["augnet", "augerino", "random"])
def test_every_method_trains_on_sequences_with_one_draw_per_sequence(method):
    X, y = toy_sequences(n=8, n_windows=3)
    clf = make_clf(
        module=SeqTrunk, method=method, sequence_augmentation="sequence", max_epochs=1
    ).fit(X, y)
    assert np.isfinite(clf.history[-1, "train_loss"])
    assert clf.predict(X).shape == (8, 3)


# ------------------------------------------------------------------ compile
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("sampling", ["sampled", "mixture"])
def test_compile_option_fits_predicts_and_pickles_like_the_eager_module(sampling):
    """skorch's ``compile=True`` wraps module_ with torch.compile; the "eager"
    backend (no C compiler, quick) checks the wiring: the learning-rate
    groups, the regulariser and the policy see the AugNet inside, and the
    predictions are the uncompiled estimator's. Seeded draws break the graph
    (the frequency shift once failed to trace there in the sampled mode)."""
    X, y = toy_data()

    def fit(**kwargs):
        torch.manual_seed(0)  # the trunk's initialisation and the batches
        return make_clf(max_epochs=2, sampling=sampling, **kwargs).fit(X, y)

    try:
        eager = fit()
        compiled = fit(compile=True, compile__backend="eager")
        assert not isinstance(compiled.module_, AugNet)  # the compiled wrapper
        module = unwrap_module(compiled)
        assert isinstance(module, AugNet) and module is compiled.module_._orig_mod
        # the augmentation parameters have their own groups, as without compile
        assert [len(g["params"]) for g in compiled.optimizer_.param_groups] == [
            len(g["params"]) for g in eager.optimizer_.param_groups
        ]
        np.testing.assert_allclose(
            compiled.history[:, "aug_reg"], eager.history[:, "aug_reg"], rtol=1e-5
        )
        pd.testing.assert_frame_equal(compiled.policy_, eager.policy_, rtol=1e-4)
        proba = compiled.predict_proba(X)
        np.testing.assert_allclose(proba, eager.predict_proba(X), rtol=1e-4, atol=1e-5)
        restored = pickle.loads(pickle.dumps(compiled))
        assert isinstance(unwrap_module(restored), AugNet)
        np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-5)
    finally:
        torch._dynamo.reset()


def test_n_outputs_other_than_the_classes_is_refused_before_training():
    """Targets without one class and module__n_outputs=3: predict_proba had
    3 columns for 2 classes_, its last read as no class or the wrong one."""
    X, y = toy_data(32)
    clf = make_clf(module__n_outputs=3, max_epochs=1)
    with pytest.raises(ValueError, match=r"n_outputs=3 but the targets hold 2 classes"):
        clf.fit(X, y)
    assert len(clf.history) == 0
    clf.set_params(classes=[0, 1, 2]).fit(X, y)  # every class: as it says
    assert clf.predict_proba(X).shape == (32, 3) and list(clf.classes_) == [0, 1, 2]
    # scikit-learn's partial_fit(..., classes=): they are the classes
    clf = make_clf(max_epochs=1).partial_fit(X, y, classes=[0, 1, 2])
    assert clf.predict_proba(X).shape == (32, 3) and list(clf.classes_) == [0, 1, 2]
    clf.partial_fit(X, y)  # later calls keep them
    assert list(clf.classes_) == [0, 1, 2]


@pytest.mark.parametrize("n_outputs", [2.5, 0, -1, "3", True])
def test_n_outputs_that_is_no_positive_integer_is_refused_before_the_module(n_outputs):
    """module__n_outputs=2.5 (or 0, -1, '3', True) failed inside torch when
    the module was built (e.g. 'out_channels must be divisible by groups')."""
    X, y = toy_data(32)
    clf = make_clf(module__n_outputs=n_outputs, max_epochs=1)
    with pytest.raises(ValueError, match=r"module__n_outputs must be an integer >= 1"):
        clf.fit(X, y)
    assert getattr(clf, "module_", None) is None  # nothing built
