"""Tests of the invariance measure."""

import numpy as np
import pytest
import torch
from torch import nn

from braindecode_augnet import invariance, invariance_scores
from braindecode_augnet import transforms as T


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
