"""Bilevel policy search (ADDA/CADDA): hypergradient, policy, class-wise search."""

import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from braindecode_augnet import AugmentationModule, AugNetClassifier
from braindecode_augnet.bilevel import (
    BilevelPolicy,
    UnrolledPolicySearch,
    unrolled_hypergradient,
)
from braindecode_augnet.transforms import FrequencyShift, GaussianNoise, SignFlip

from .conftest import Negate

SFREQ = 50.0


def _reset(module):
    for sub in module.modules():
        reset = getattr(sub, "reset_random_state", None)
        if callable(reset):
            reset()


def _tiny_problem():
    """A linear trunk (with batch norm), one layer of two seeded candidates."""
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Flatten(), nn.Linear(2 * 40, 3), nn.BatchNorm1d(3))
    trunk = trunk.double()
    layer = [
        GaussianNoise(magnitude=0.4, random_state=1),
        FrequencyShift(sfreq=SFREQ, magnitude=0.6, random_state=2),
    ]
    policy = BilevelPolicy([AugmentationModule([layer], temperature=1.0)]).double()
    with torch.no_grad():
        policy.policies[0].layers[0].alpha.copy_(torch.tensor([0.3, -0.2]))
    gen = torch.Generator().manual_seed(3)
    train = (
        torch.randn(8, 2, 40, generator=gen, dtype=torch.float64),
        torch.randint(0, 3, (8,), generator=gen),
    )
    valid = (
        torch.randn(6, 2, 40, generator=gen, dtype=torch.float64),
        torch.randint(0, 3, (6,), generator=gen),
    )
    return trunk, policy, train, valid


def _loss(logits, y):
    return nn.functional.cross_entropy(logits, y)


def _valid_loss_after_step(trunk, policy, train, valid, lr):
    """Reference: an explicit SGD step on a copy of the trunk (first order
    only), then the validation loss; the same draws at every call."""
    net = copy.deepcopy(trunk)
    _reset(policy)
    X, y = train
    loss = _loss(net(policy.augment_batch(X, y)), y)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    with torch.no_grad():
        for p, g in zip(net.parameters(), grads):
            p -= lr * g
        return _loss(net(valid[0]), valid[1]).item()


def test_hypergradient_matches_finite_differences():
    trunk, policy, train, valid = _tiny_problem()
    lr = 0.5
    params = [p for p in policy.parameters() if p.requires_grad]
    assert len(params) == 3  # the layer's alpha and the two magnitudes

    def augment(X, y):
        _reset(policy)
        return policy.augment_batch(X, y)

    state = copy.deepcopy(trunk.state_dict())
    loss, grads = unrolled_hypergradient(
        trunk, augment, _loss, train, valid, lr, params
    )
    # the trunk is left as it was, batch-norm statistics included
    for name, value in trunk.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert loss.item() == pytest.approx(
        _valid_loss_after_step(trunk, policy, train, valid, lr), rel=1e-10
    )
    eps = 1e-6
    for param, grad in zip(params, grads):
        assert grad.shape == param.shape
        numeric = torch.zeros_like(param)
        for i in range(param.numel()):
            flat = param.data.view(-1)
            flat[i] += eps
            up = _valid_loss_after_step(trunk, policy, train, valid, lr)
            flat[i] -= 2 * eps
            down = _valid_loss_after_step(trunk, policy, train, valid, lr)
            flat[i] += eps
            numeric.view(-1)[i] = (up - down) / (2 * eps)
        assert numeric.abs().max() > 1e-5  # the check can fail
        torch.testing.assert_close(grad, numeric, rtol=1e-5, atol=1e-8)


def test_policy_step_moves_the_policy_only():
    trunk, policy, train, valid = _tiny_problem()
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.1)
    search = UnrolledPolicySearch(policy, optimizer, unroll_lr=0.5)
    before_policy = [p.detach().clone() for p in policy.parameters()]
    before_trunk = copy.deepcopy(trunk.state_dict())
    loss = search.policy_step(trunk, _loss, *train, valid_batch=valid)
    assert np.isfinite(loss)
    assert any(
        not torch.equal(a, b) for a, b in zip(before_policy, policy.parameters())
    )
    for name, value in trunk.state_dict().items():
        assert torch.equal(value, before_trunk[name])
    with pytest.raises(RuntimeError, match="set_valid_loader"):
        search.policy_step(trunk, _loss, *train)


def test_search_augments_with_one_candidate_per_example_without_gradient():
    policy = BilevelPolicy(
        [AugmentationModule([[SignFlip(probability=0.5, random_state=0)]])]
    )
    search = UnrolledPolicySearch(policy, torch.optim.SGD(policy.parameters()), 1.0)
    X = torch.randn(64, 2, 20)
    out = search.augment(X, None)
    assert policy.training and not out.requires_grad
    flipped = torch.isclose(out, -X).all(dim=(1, 2))
    kept = torch.isclose(out, X).all(dim=(1, 2))
    assert (flipped | kept).all() and flipped.any() and kept.any()


def test_class_wise_policy_augments_each_class_by_its_own():
    negate = AugmentationModule([[Negate()]])
    keep = AugmentationModule([[SignFlip(probability=0.0, random_state=0)]])
    policy = BilevelPolicy([keep, negate]).eval()
    X = torch.randn(10, 1, 8)
    y = torch.tensor([0, 1] * 5)
    out = policy.augment_batch(X, y)
    assert torch.equal(out[y == 0], X[y == 0])
    assert torch.equal(out[y == 1], -X[y == 1])
    assert policy.augment(X) is X
    with pytest.raises(ValueError, match="class indices y"):
        policy.augment_batch(X)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        policy.augment_batch(X, y + 1)
    table = policy.policy_table(classes=["a", "b"])
    assert table["class"].tolist() == ["a", "b"]
    fixed = policy.fixed_transforms()
    assert [len(f) for f in fixed] == [1, 1]
    assert not fixed[1][0].raw_magnitude.requires_grad


@pytest.mark.parametrize(
    ("policies", "error", "match"),
    [
        ([], ValueError, "at least one"),
        (AugmentationModule([[SignFlip()]]), TypeError, "list of AugmentationModule"),
        ([[SignFlip()]], TypeError, "AugmentationModule policies"),
    ],
)
def test_bilevel_policy_checks_its_input(policies, error, match):
    with pytest.raises(error, match=match):
        BilevelPolicy(policies)


# ---------------------------------------------------------- planted problem
def _planted(n=240, n_times=50, seed=0):
    """Three classes of time-locked bumps plus noise, one channel.

    Class 0: a bump at 0.3 s of either sign (its label is invariant to a sign
    flip); class 1: a positive bump at 0.7 s; class 2: the same bump,
    negative (a sign flip turns class 1 into class 2 and back).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / n_times
    y = rng.integers(0, 3, n)
    either = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    sign = np.where(y == 0, either, np.where(y == 1, 1.0, -1.0))
    centre = np.where(y == 0, 0.3, 0.7)[:, None]
    bump = np.exp(-((t - centre) ** 2) / (2 * 0.05**2))
    X = sign[:, None] * bump + 0.5 * rng.standard_normal((n, n_times))
    return X[:, None].astype(np.float32), y


class MLP(nn.Module):
    def __init__(self, n_chans=1, n_outputs=3, n_times=50, sfreq=None, chs_info=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_chans * n_times, 16),
            nn.ReLU(),
            nn.Linear(16, n_outputs),
        )

    def forward(self, x):
        return self.net(x)


def test_cadda_gives_the_sign_flip_to_the_class_invariant_to_it():
    X, y = _planted()
    clf = AugNetClassifier(
        MLP,
        augmentation=[[SignFlip(), GaussianNoise(mag_range=(0.0, 1.0))]],
        method="cadda",
        temperature=1.0,
        max_epochs=10,
        lr=3e-2,
        aug_lr=0.02,
        batch_size=32,
        train_split=None,
        verbose=0,
        random_state=1,
    ).fit(X, y)
    table = clf.policy_.set_index(["class", "transform"])
    weights = table["weight"].unstack()
    # classes 1 and 2, which a sign flip swaps, select the noise ...
    assert weights.idxmax(axis=1)[[1, 2]].tolist() == ["GaussianNoise"] * 2
    # ... and class 0 gives the sign flip more weight than they do
    assert weights.loc[0, "SignFlip"] > weights.loc[[1, 2], "SignFlip"].max() + 0.03
    flip = table.xs("SignFlip", level="transform")["probability"]
    assert flip[0] > 0.1  # kept where the label is invariant to it
    assert flip[1] < 0.05 and flip[2] < 0.05  # switched off where it is harmful
    assert len(clf.history[:, "policy_valid_loss"]) == 10
    assert clf.score(X, y) > 0.6


def test_fitted_bilevel_classifier_pickles_and_trains_on():
    X, y = _planted(n=60)
    clf = AugNetClassifier(
        MLP,
        augmentation=[[SignFlip(), GaussianNoise()]],
        method="adda",
        max_epochs=1,
        batch_size=16,
        train_split=None,
        verbose=0,
        random_state=0,
    ).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict(X), clf.predict(X))

    def policy_vector(net):
        return torch.cat(
            [p.detach().flatten() for p in net.bilevel_policy_.parameters()]
        )

    # training goes on after unpickling, on the clone's own policy, with the
    # policy optimiser's state carried over
    steps = clf.bilevel_.optimizer.state_dict()["state"][0]["step"]
    before = policy_vector(clf)
    clone.partial_fit(X, y)
    assert clone.bilevel_.policy is clone.module_.augmentation
    assert clone.bilevel_.optimizer.state_dict()["state"][0]["step"] > steps
    assert not torch.equal(policy_vector(clone), before)
    assert torch.equal(policy_vector(clf), before)  # the original is untouched
