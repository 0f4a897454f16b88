"""Tests of the method strategies (braindecode_augnet.methods) and of the
compatibility of the estimator with pickles written before them."""

import json
import pickle

import numpy as np
import pytest
import torch

from braindecode_augnet.layers import augmentation_layers
from braindecode_augnet.methods import AUGNET_DEFAULTS, METHODS, Method

from .conftest import make_clf as make_toy_clf
from .conftest import toy_data
from .data.make_legacy_pickles import (
    HERE,
    make_clf,
    make_data,
    platform_info,
    state_hash,
)
from .data.make_legacy_pickles import METHODS as LEGACY_METHODS

EXPECTED = json.loads((HERE / "expected.json").read_text())


@pytest.fixture(autouse=True)
def _one_thread():
    """The references were computed on one thread (reductions' order)."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.mark.parametrize("method", LEGACY_METHODS)
def test_legacy_pickle_loads_and_predicts_as_recorded(method):
    clf = pickle.loads((HERE / f"{method}.pkl").read_bytes())
    # a parameter added since the pickle was made takes its default
    assert "n_copies_valid" in vars(clf) and clf.n_copies_valid is None
    _, _, X_test = make_data()
    expected = np.load(HERE / "expected.npz")[method]
    proba = clf.predict_proba(X_test)
    if clf.module_.n_copies == 1:  # the bare trunk: the same values
        np.testing.assert_allclose(proba, expected, rtol=1e-5)
    else:  # copies drawn per copy index since (issue 26 item 9), not per batch:
        # other draws, the same model (recorded 0.004 / 0.010 apart at most)
        np.testing.assert_allclose(proba, expected, atol=0.02)
        np.testing.assert_array_equal(proba.argmax(1), expected.argmax(1))
    assert state_hash(clf) == EXPECTED["hashes"][method]


@pytest.mark.parametrize("method", LEGACY_METHODS)
def test_refit_gives_the_recorded_parameters(method):
    X, y, X_test = make_data()
    clf = make_clf(method).fit(X, y)
    if platform_info() == EXPECTED["platform"]:
        assert state_hash(clf) == EXPECTED["hashes"][method]  # bit-exact
    reference = pickle.loads((HERE / f"{method}.pkl").read_bytes())
    for (name, p), q in zip(
        clf.module_.state_dict().items(), reference.module_.state_dict().values()
    ):
        if not name.endswith("_extra_state"):  # the labels, absent from old files
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6, msg=name)


# ------------------------------------------------------------ the registry
class CountingMethod(Method):
    """A sixth method for the test: AugNet's layers, plain data augmentation
    at inference, and a training-step hook that counts its batches."""

    name = "counting"
    defaults = {
        "reg": 0.2,
        "aug_lr": 2.0,
        "magnitude_lr": None,
        "reg_scale": "magnitude",
    }
    averages_copies = False

    def before_train_step(self, net, batch):
        net.counted_batches_ = getattr(net, "counted_batches_", 0) + 1
        return batch


class ForgetfulMethod(CountingMethod):
    """A hook that forgets to return the batch."""

    name = "forgetful"

    def before_train_step(self, net, batch):
        super().before_train_step(net, batch)


def test_a_hook_that_returns_no_batch_is_named_with_the_fix(monkeypatch):
    """It failed with 'cannot unpack non-iterable NoneType object'."""
    monkeypatch.setitem(METHODS, "forgetful", ForgetfulMethod)
    X, y = toy_data()
    clf = make_toy_clf(method="forgetful", reg=None, max_epochs=1)
    with pytest.raises(TypeError, match=r"ForgetfulMethod.before_train_step retu"):
        clf.fit(X, y)
    assert clf.counted_batches_ == 1  # refused at the first batch


def test_a_registered_method_is_one_class_and_one_line(monkeypatch):
    monkeypatch.setitem(METHODS, "counting", CountingMethod)  # the one line
    X, y = toy_data()
    clf = make_toy_clf(method="counting", reg=None, lr=0.01).fit(X, y)
    assert clf.counted_batches_ == 2 * 4  # 2 epochs of 64 / 16
    assert clf.module_.n_copies == 1 and clf.current_reg() == 0.2
    weights, magnitudes = clf.optimizer_.param_groups[1:]
    assert weights["lr"] == magnitudes["lr"] == pytest.approx(0.02)
    assert clf.predict_proba(X).shape == (len(X), 2)
    with pytest.raises(ValueError, match="method must be one of"):
        make_toy_clf(method="counting2").fit(X, y)


def test_defaults_without_a_key_are_refused_when_the_method_is_defined():
    """They failed with a bare KeyError 'aug_lr' when the estimator was built."""
    match = r"Mine.defaults lacks 'aug_lr', 'magnitude_lr', 'reg_scale' \(a method"
    with pytest.raises(TypeError, match=match):

        class Mine(Method):
            name = "mine"
            defaults = {"reg": 0.1}

    with pytest.raises(TypeError, match="Mine.defaults must be a dict"):

        class Mine(Method):  # noqa: F811
            defaults = [("reg", 0.1)]

    class Partial(Method):  # the documented fix
        defaults = {**Method.defaults, "reg": 0.1}

    assert Partial.defaults["aug_lr"] == 1.0


def test_every_method_has_a_strategy_with_its_defaults():
    assert METHODS["augnet"].defaults is AUGNET_DEFAULTS
    for name, cls in METHODS.items():
        assert cls.name == name and issubclass(cls, Method)
        assert set(cls.defaults) == {
            "reg",
            "aug_lr",
            "magnitude_lr",
            "reg_scale",
            "sampling",
        }


@pytest.mark.parametrize(
    ("method", "sampling", "expected"),
    [
        ("augnet", None, "sampled"),  # AugNet's default (docs/results.rst)
        ("augnet", "mixture", "mixture"),
        ("adda", None, "mixture"),
        ("counting", None, "mixture"),  # defaults without the key: the paper's
    ],
)
def test_layers_train_in_the_method_s_sampling_mode(
    monkeypatch, method, sampling, expected
):
    monkeypatch.setitem(METHODS, "counting", CountingMethod)
    clf = make_toy_clf(method=method, sampling=sampling, reg=None).initialize()
    layers = augmentation_layers(clf.module_.augmentation)
    assert layers and {layer.sampling for layer in layers} == {expected}


# ------------------------------------------- ADDA/CADDA's second optimizer
def test_policy_optimizer_is_a_skorch_optimizer_stepped_once_a_batch(tmp_path):
    X, y = toy_data()
    clf = make_toy_clf(method="cadda", reg=None).fit(X, y)
    assert "policy_optimizer" in clf._optimizers
    assert clf.bilevel_.optimizer is clf.policy_optimizer_
    n_train = len(X) - round(0.2 * len(X))  # the rest is held out
    steps = clf.policy_optimizer_.state_dict()["state"][0]["step"]
    assert int(steps) == 2 * -(-n_train // 16)  # one step a batch, 2 epochs
    clf.save_params(f_policy_optimizer=tmp_path / "policy.pt")
    fresh = make_toy_clf(method="cadda", reg=None, classes=[0, 1]).initialize()
    fresh.load_params(f_policy_optimizer=tmp_path / "policy.pt")
    assert int(fresh.policy_optimizer_.state_dict()["state"][0]["step"]) == steps


# ------------------------------------------------- the module's settings
def test_settings_are_set_once_and_updated_by_set_params():
    X, y = toy_data()
    clf = make_toy_clf(max_epochs=1).fit(X, y)
    module = clf.module_
    assert (module.n_copies, module.copies_per_chunk) == (3, 4)
    module.n_copies = 5  # the forward pass leaves the module's settings alone
    clf.predict_proba(X[:4])
    assert module.n_copies == 5
    clf.set_params(n_copies=2, copies_per_chunk=1, n_copies_train=2, temperature=0.5)
    assert (module.n_copies, module.copies_per_chunk, module.n_copies_train) == (
        2,
        1,
        2,
    )
    assert [layer.temperature for layer in module.augmentation.layers] == [0.5] * 2
    with pytest.raises(ValueError, match="n_copies must be an integer >= 1"):
        clf.set_params(n_copies=0)
    random = make_toy_clf(method="random", max_epochs=1).fit(X, y)
    random.set_params(n_copies=7)  # plain data augmentation: the bare trunk
    assert random.module_.n_copies == 1


def test_loss_terms_ride_on_the_loss_not_on_the_estimator():
    X, y = toy_data()
    clf = make_toy_clf(max_epochs=1).fit(X, y)
    assert "_batch_logs" not in vars(clf)
    batch = clf.history[-1, "batches"][-1]
    assert batch["train_loss"] == pytest.approx(
        batch["train_nll"] - 0.5 * batch["aug_reg"], rel=1e-5
    )


def test_legacy_bilevel_pickle_trains_on_with_its_optimizer_state():
    clf = pickle.loads((HERE / "cadda.pkl").read_bytes())
    assert "policy_optimizer_" not in vars(clf)  # pickled before it existed
    steps = int(clf.bilevel_.optimizer_state["state"][0]["step"])
    before = clf.module_.augmentation.policies[0].layers[0].alpha.detach().clone()
    X, y, _ = make_data()
    clf.partial_fit(X, y)
    assert clf.policy_optimizer_.state_dict()["state"][0]["step"] > steps
    assert not torch.equal(before, clf.module_.augmentation.policies[0].layers[0].alpha)
