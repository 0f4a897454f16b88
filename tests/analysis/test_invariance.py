"""Tests of the invariance measure."""

import numpy as np
import pytest
import torch
from torch import nn

from braindecode_augnet import RandomPolicy, invariance, invariance_scores
from braindecode_augnet import transforms as T
from braindecode_augnet.layers import AugmentationLayer


class Energy(nn.Module):
    """Invariant to sign flips, not to amplitude changes."""

    def forward(self, x):
        return torch.stack(
            [x.pow(2).mean((1, 2)), x.abs().amax((1, 2)), torch.ones(len(x))], 1
        )


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Linear(40, 3)

    def forward(self, x):
        return self.w(x.flatten(1))


def data(n=64):
    return torch.randn(n, 2, 20)


def test_invariant_model_scores_one():
    flip = T.SignFlip().freeze()
    assert invariance(Energy(), data(), flip, random_state=0) == pytest.approx(1.0)


def test_sensitive_model_scores_low():
    flip = T.SignFlip().freeze()
    score = invariance(Linear(), data(), flip, random_state=0)
    assert score < 0.2


def test_identity_transform_scores_one_and_scores_shape():
    ident = T.GaussianNoise(magnitude=0.0).freeze()
    scores = invariance_scores(Linear(), data(), ident, random_state=0)
    assert scores.shape == (64,)
    np.testing.assert_allclose(scores, 1.0, atol=1e-6)


def test_embedding_and_mode_restored():
    model = Linear().train()
    flip = T.SignFlip()
    invariance(model, data(), flip, embedding=Energy(), random_state=0)
    assert model.training and flip.training


def test_needs_two_examples():
    with pytest.raises(ValueError, match="2 examples"):
        invariance(Linear(), data(1), T.SignFlip())


class Outputs(nn.Module):
    """A linear model with ``n`` outputs (``n=None``: one value, 1-D)."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.w = nn.Linear(40, n or 1)

    def forward(self, x):
        out = self.w(x.flatten(1))
        return out[:, 0] if self.n is None else out


@pytest.mark.parametrize("n", [None, 1, 2])
def test_fewer_than_3_outputs_are_refused(n):
    """Centred, 2 outputs leave only a sign and 1 nothing (a binary model
    scored 1 on noise); the message points to embedding=."""
    with pytest.raises(ValueError, match="at least 3 outputs .* embedding="):
        invariance(Outputs(n), data(), T.SignFlip(), random_state=0)
    with pytest.raises(ValueError, match="embedding must give at least 3"):
        invariance(Linear(), data(), T.SignFlip(), embedding=Outputs(n))


def test_binary_model_measured_through_its_embedding():
    flip = T.SignFlip().freeze()
    score = invariance(Outputs(2), data(), flip, embedding=Energy(), random_state=0)
    assert score == pytest.approx(1.0)


def test_partners_with_the_same_output_score_nan_not_huge():
    """x' identical to x: the ratio is undefined (was about -1e12)."""
    torch.manual_seed(0)
    X = data(4)
    X[1] = X[2] = X[0]
    noise = T.GaussianNoise(magnitude=0.5).freeze()
    scores = invariance_scores(Linear(), X, noise, random_state=0)
    assert np.isnan(scores).any() and np.isfinite(scores[3])
    assert np.nanmin(scores) > -100
    assert np.isfinite(invariance(Linear(), X, noise, random_state=0))


def test_non_finite_outputs_are_refused():
    """They gave a nan median, or one hidden by the defined scores."""
    with pytest.raises(ValueError, match="model gave NaN or infinite outputs"):
        invariance(lambda x: Linear()(x) / 0 * 0, data(), T.SignFlip())


def test_examples_all_alike_are_refused():
    X = data(1).repeat(4, 1, 1)
    with pytest.raises(ValueError, match="invariance is undefined"):
        invariance(Linear(), X, T.GaussianNoise(magnitude=0.5))


def test_random_policy_is_applied_as_in_training():
    """RandomPolicy passes examples unchanged in evaluation (scored 1.0)."""
    torch.manual_seed(0)
    policy = RandomPolicy([T.SignFlip()], random_state=0).eval()
    model, X = Linear(), data()
    flipped = invariance(model, X, T.SignFlip().freeze(), random_state=0)
    assert invariance(model, X, policy, random_state=0) == pytest.approx(flipped)
    assert flipped < 0.2 and not policy.training


class Noisy(nn.Module):
    """Noise in training mode, the identity in evaluation."""

    def forward(self, x):
        return x + torch.randn_like(x) if self.training else x


def test_a_transform_inside_the_model_leaves_the_model_in_evaluation():
    """The model's own augmentation as the transform: the training mode it
    is applied in stayed on while the model ran, augmenting f(x) too."""
    torch.manual_seed(0)
    model, X = nn.Sequential(Noisy(), Linear()), data()
    own = invariance(model, X, model[0], random_state=0)
    assert own == invariance(model, X, Noisy(), random_state=0) < 0.99
    assert model.training and model[0].training  # the modes restored


def test_augmentation_layer_measured_in_evaluation():
    """AugNet's layers augment in evaluation: no mixing, no calibration."""
    layer = AugmentationLayer([T.SignFlip(probability=0.5)], sampling="mixture")
    invariance(Linear(), data(), layer, random_state=0)
    assert layer.training and not layer.calibrated


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": -1}, ValueError, "batch_size must be an integer >= 1"),
        ({"batch_size": 2.5}, ValueError, "batch_size must be an integer >= 1"),
        ({"random_state": -1}, ValueError, "random_state must be an integer >= 0"),
        ({"transform": T.SignFlip}, TypeError, r"class SignFlip.*SignFlip\(\)\.$"),
        ({"transform": None}, TypeError, "transform must be a callable"),
    ],
)
def test_bad_arguments_are_refused_up_front(kwargs, error, match):
    kwargs = {"transform": T.SignFlip(), **kwargs}
    with pytest.raises(error, match=match):
        invariance(Linear(), data(), **kwargs)


def test_random_state_leaves_the_global_generator_alone():
    """Seeded for the measure only (it reset the caller's stream)."""
    model, X, noise = Linear(), data(), T.GaussianNoise(magnitude=0.5)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = invariance(model, X, noise, random_state=0)
    assert torch.equal(torch.rand(3), expected)
    assert invariance(model, X, noise, random_state=0) == first
