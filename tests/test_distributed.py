"""Tests of AcceleratedAugNetClassifier (single process, CPU)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("accelerate")
from accelerate import Accelerator  # noqa: E402

from braindecode_augnet import AcceleratedAugNetClassifier  # noqa: E402
from braindecode_augnet.layers import unwrap_module  # noqa: E402

from .conftest import Trunk, layers, toy_data  # noqa: E402


def make(accelerator, **kwargs):
    params = dict(
        module=Trunk,
        augmentation=layers(),
        n_copies=3,
        max_epochs=2,
        lr=1e-2,
        batch_size=16,
        train_split=None,
        iterator_train__drop_last=False,
        verbose=0,
        random_state=0,
        accelerator=accelerator,
    )
    params.update(kwargs)
    return AcceleratedAugNetClassifier(**params)


@pytest.mark.parametrize("accumulation", [1, 2])
def test_fit_predict_and_policy_with_accelerate(accumulation):
    X, y = toy_data()
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=accumulation)
    clf = make(accelerator).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(proba, clf.predict_proba(X))  # repeatable
    for epoch in clf.history:
        assert epoch["aug_reg"] > 0 and epoch["train_nll"] > 0
    first, last = clf.history[0, "aug_magnitudes"], clf.history[-1, "aug_magnitudes"]
    assert first != last  # the policy is learned through the prepared model
    assert clf.policy_["transform"].tolist() == [
        "SignFlip",
        "GaussianNoise",
        "FrequencyShift",
    ]


def test_each_process_draws_its_own_augmentations():
    rank0 = make(SimpleNamespace(process_index=0))
    rank3 = make(SimpleNamespace(process_index=3))
    assert rank0.augmentation_random_state() == 0
    assert rank3.augmentation_random_state() == 3
    assert (
        make(
            SimpleNamespace(process_index=3), random_state=None
        ).augmentation_random_state()
        is None
    )


def test_unwrap_module_sees_through_data_parallel():
    X, y = toy_data()
    clf = make(Accelerator(cpu=True), max_epochs=1).fit(X, y)
    wrapped = torch.nn.DataParallel(clf.module_)
    assert unwrap_module(wrapped) is clf.module_


@pytest.mark.parametrize("method", ["adda", "cadda"])
def test_bilevel_methods_are_refused_not_silently_unaugmented(method):
    X, y = toy_data()
    clf = make(Accelerator(cpu=True), method=method)
    with pytest.raises(ValueError, match="not supported with Accelerate"):
        clf.fit(X, y)


def test_verbose_0_is_silent_and_verbose_prints(capsys):
    """skorch's PrintLog printed the epoch table to the accelerator's print
    whatever verbose said."""
    X, y = toy_data(16)
    make(Accelerator(cpu=True), max_epochs=1, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    make(Accelerator(cpu=True), max_epochs=1, verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


def test_verbose_set_after_a_fit_is_honoured(capsys):
    """verbose=0 left the sink set to print for good: verbose set to 1 later
    printed on every process. The sink stays 'auto'; the other processes
    print nothing (as the accelerator's print)."""
    X, y = toy_data(16)
    clf = make(Accelerator(cpu=True), max_epochs=1, verbose=0, warm_start=True)
    clf.fit(X, y)
    assert capsys.readouterr().out == ""
    assert clf.callbacks__print_log__sink == "auto"
    clf.set_params(verbose=1)
    clf.partial_fit(X, y)
    assert capsys.readouterr().out.split()[:1] == ["2"]  # the second epoch's row
    clf.set_params(verbose=0)
    clf.partial_fit(X, y)
    assert capsys.readouterr().out == ""
    clf.set_params(**clf.get_params(deep=False))  # the sink 'auto' set again
    clf.set_params(verbose=1).partial_fit(X, y)
    rows = capsys.readouterr().out.splitlines()
    assert any(row.split()[:1] == ["4"] for row in rows)  # the fourth epoch's
    other = make(
        SimpleNamespace(process_index=1, is_local_main_process=False), verbose=1
    )
    other._initialize_callbacks()
    print_log = dict(other.callbacks_)["print_log"]
    assert print_log.sink is not print
    print_log._sink("an epoch's row", verbose=1)
    assert capsys.readouterr().out == ""
    assert other.callbacks__print_log__sink == "auto"
    # deep=True reports the parameter as set, as deep=False does, not the
    # callback's resolved print, which set back would print on every process
    assert other.get_params(deep=True)["callbacks__print_log__sink"] == "auto"
    other.set_params(**other.get_params(deep=True))
    assert dict(other.callbacks_)["print_log"].sink is not print


def test_an_accelerator_that_is_none_is_refused_before_training():
    X, y = toy_data(16)
    with pytest.raises(TypeError, match=r"accelerator must be an accelerate\.Acc"):
        make(None).fit(X, y)
