"""Tests of the skorch callback recording the policy (callbacks.py)."""

from types import SimpleNamespace

import pytest
import torch
from skorch.history import History

from braindecode_augnet import AugmentationModule, PolicyLogger
from braindecode_augnet import transforms as T

from .conftest import make_clf, toy_data


def fake_net(batch_regs):
    """A net with one epoch of batches, some recording ``aug_reg``."""
    module = AugmentationModule(
        [
            [T.SignFlip(probability=0.1), T.GaussianNoise(magnitude=0.7)],
            [T.FrequencyShift(sfreq=100.0, magnitude=0.2)],
        ],
        temperature=1.0,
    )
    with torch.no_grad():
        module.layers[0].alpha.copy_(torch.tensor([1.0, 0.0]))
    history = History()
    history.new_epoch()
    for reg in batch_regs:
        history.new_batch()
        history.record_batch("train_loss", 1.0)
        if reg is not None:
            history.record_batch("aug_reg", reg)
    return SimpleNamespace(history=history, module_=module)


def test_policy_logger_records_the_policy_of_the_epoch():
    net = fake_net([0.2, 0.4, None])
    PolicyLogger().on_epoch_end(net)
    epoch = net.history[-1]
    assert epoch["aug_reg"] == pytest.approx(0.3)  # mean over batches that have it
    weights = epoch["aug_weights"]
    assert [len(w) for w in weights] == [2, 1]
    expected = torch.softmax(torch.tensor([1.0, 0.0]), 0).tolist()
    assert weights[0] == pytest.approx(expected) and weights[1] == pytest.approx([1])
    # involutions log their magnitude, twice the learned probability
    assert epoch["aug_magnitudes"] == [
        pytest.approx([0.2, 0.7]),
        pytest.approx([0.2]),
    ]
    assert isinstance(weights[0], list) and isinstance(weights[0][0], float)


def test_policy_logger_without_regulariser_values():
    net = fake_net([None, None])
    PolicyLogger().on_epoch_end(net)
    assert "aug_reg" not in net.history[-1]
    assert "aug_weights" in net.history[-1] and "aug_magnitudes" in net.history[-1]


def test_policy_logger_writes_every_epoch_of_a_fit():
    X, y = toy_data()
    clf = make_clf(max_epochs=3).fit(X, y)
    assert len(clf.history[:, "aug_reg"]) == 3
    assert all(reg > 0 for reg in clf.history[:, "aug_reg"])
    weights = clf.history[:, "aug_weights"]
    magnitudes = clf.history[:, "aug_magnitudes"]
    assert len(weights) == len(magnitudes) == 3
    assert [len(w) for w in weights[-1]] == [2, 1]
    final = [layer.magnitudes().tolist() for layer in clf.module_.augmentation.layers]
    assert magnitudes[-1] == [pytest.approx(m) for m in final]
    assert magnitudes[0] != magnitudes[-1]  # the policy is learned over epochs


def test_train_loss_is_the_nll_minus_the_weighted_regulariser():
    """A negative train_loss is explained by the logged train_nll and aug_reg."""
    X, y = toy_data()
    clf = make_clf(max_epochs=2, reg=0.5).fit(X, y)
    for epoch in clf.history:
        assert epoch["train_nll"] > 0
        expected = epoch["train_nll"] - 0.5 * epoch["aug_reg"]
        assert epoch["train_loss"] == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_policy_logger_refuses_a_net_without_layers_before_training():
    """On a trunk alone it failed at the end of the first epoch."""
    from braindecode import EEGClassifier

    from .conftest import Trunk

    X, y = toy_data(16)
    clf = EEGClassifier(
        Trunk, max_epochs=1, train_split=None, verbose=0, callbacks=[PolicyLogger()]
    )
    with pytest.raises(TypeError, match="holds no augmentation layers.*AugNetClass"):
        clf.fit(X, y)
    assert len(clf.history) == 0
