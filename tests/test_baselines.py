"""Tests of the baselines: random policy and Augerino-style layers."""

import numpy as np
import pytest
import torch

from braindecode_augnet import (
    AugmentationModule,
    RandomPolicy,
    augerino_augmentation,
    augmentation_regularizer,
)
from braindecode_augnet import transforms as T

from .conftest import ScalarOnlyOffset, make_clf, toy_data


def candidates(seed=None):
    return [
        T.SignFlip(random_state=seed),
        T.ChannelsDropout(magnitude=0.1, random_state=seed),
        T.GaussianNoise(magnitude=0.1, random_state=seed),
    ]


def test_random_policy_one_candidate_per_example_at_random_magnitude():
    policy = RandomPolicy(candidates(), random_state=0).train()
    X = torch.rand(600, 4, 30) + 1
    out = policy(X)
    flipped = (out < 0).flatten(1).all(1)
    dropped_frac = (out == 0).all(-1).float().mean(1)  # fraction of zeroed channels
    noisy = ~flipped & (dropped_frac == 0) & ((out - X).abs().amax((1, 2)) > 0)
    assert 150 < flipped.sum() < 250  # ~1/3 of the examples
    # dropout magnitudes are uniform in [0, 1]: all proportions occur
    assert len(set(dropped_frac[dropped_frac > 0].tolist())) >= 3
    assert noisy.sum() > 100
    assert not any(p.requires_grad for p in policy.parameters())


def test_random_policy_is_identity_in_eval_and_reproducible():
    X = torch.randn(32, 4, 30)
    torch.testing.assert_close(RandomPolicy(candidates()).eval()(X), X)
    a = RandomPolicy(candidates(seed=2), random_state=1)(X)
    b = RandomPolicy(candidates(seed=2), random_state=1)(X)
    torch.testing.assert_close(a, b)
    assert augmentation_regularizer(RandomPolicy(candidates())) == 0


def test_random_policy_checks_its_candidates_without_changing_the_draws():
    """An op taking one magnitude only failed with torch's bare size error;
    the check on the first batch draws from generators of its own."""
    X = torch.randn(32, 4, 30)
    with pytest.raises(ValueError, match="ScalarOnlyOffset.apply_transform must"):
        RandomPolicy([T.SignFlip(), ScalarOnlyOffset()]).train()(X)
    checked = RandomPolicy(candidates(seed=2), random_state=1)
    unchecked = RandomPolicy(candidates(seed=2), random_state=1)
    unchecked.candidates_checked = True
    torch.testing.assert_close(checked(X), unchecked(X))
    assert checked.candidates_checked


def test_random_policy_leaves_the_transforms_passed_as_they_are():
    """It froze the caller's transforms in place: an AugNet built from them
    afterwards learned no magnitude, silently."""
    transforms = candidates()
    policy = RandomPolicy(transforms)
    assert all(p.requires_grad for tr in transforms for p in tr.parameters())
    assert not any(p.requires_grad for p in policy.parameters())
    assert all(a is not b for a, b in zip(policy.transforms, transforms))


def test_a_flat_list_of_candidates_is_refused_saying_how_to_nest_it():
    from braindecode_augnet.methods import candidate_transforms

    with pytest.raises(TypeError, match=r"wrap it as \[\[SignFlip"):
        augerino_augmentation(candidates())
    layer = AugmentationModule([candidates()]).layers[0]
    assert candidate_transforms([layer]) == list(layer.transforms)


def test_augerino_applies_every_magnitude_transform_jointly():
    aug = augerino_augmentation(
        [candidates(), [T.FrequencyShift(sfreq=10, magnitude=0.1)]]
    )
    assert isinstance(aug, AugmentationModule)
    names = [type(layer.transforms[0]).__name__ for layer in aug.layers]
    assert names == ["ChannelsDropout", "GaussianNoise", "FrequencyShift"]
    assert all(len(layer.transforms) == 1 for layer in aug.layers)
    # the regulariser is the norm of the widths
    torch.testing.assert_close(
        augmentation_regularizer(aug), torch.tensor([0.1, 0.1, 0.1]).norm()
    )
    with pytest.raises(ValueError, match="magnitude"):
        augerino_augmentation([[T.SignFlip()]])


@pytest.mark.parametrize("method", ["augerino", "random"])
def test_classifier_methods(method):
    X, y = toy_data()
    clf = make_clf(method=method, max_epochs=2).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    if method == "augerino":
        assert clf.policy_["weight"].eq(1.0).all()
        assert clf.history[-1, "aug_reg"] > 0
    else:
        assert clf.module_.n_copies == 1 and clf.policy_.empty


def test_unknown_method():
    X, y = toy_data()
    with pytest.raises(ValueError, match="method"):
        make_clf(method="autoaugment").fit(X, y)


def test_policy_helpers_accept_a_fitted_classifier():
    from braindecode_augnet import fixed_transforms, policy_table

    X, y = toy_data()
    clf = make_clf(max_epochs=1).fit(X, y)
    assert policy_table(clf).equals(clf.policy_)
    frozen = fixed_transforms(clf)
    assert len(frozen) == 2 and not any(
        p.requires_grad for tr in frozen for p in tr.parameters()
    )
