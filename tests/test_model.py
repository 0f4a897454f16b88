"""Tests of the averaged model AugNet."""

import math

import pytest
import torch
from torch import nn

from braindecode_augnet import AugmentationModule, AugNet
from braindecode_augnet import transforms as T


class Trunk(nn.Module):
    def __init__(self, n_chans=2, n_outputs=3):
        super().__init__()
        self.linear = nn.Linear(n_chans, n_outputs)

    def forward(self, x):
        return self.linear(x.mean(-1))


def make_augnet(**kwargs):
    aug = AugmentationModule(
        [[T.GaussianNoise(magnitude=0.5), T.SignFlip(probability=0.5)]]
    )
    return AugNet(Trunk(), aug, **kwargs)


@pytest.mark.parametrize("n_copies", [1, 2, 7])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_outputs_log_probabilities_for_every_number_of_copies(n_copies, mode):
    net = make_augnet(n_copies=n_copies, n_copies_train=n_copies)
    getattr(net, mode)()
    out = net(torch.randn(5, 2, 40))
    assert out.shape == (5, 3)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(5))


def test_output_is_the_mean_of_the_copies_probabilities():
    net = make_augnet(n_copies=4).eval()
    X = torch.randn(3, 2, 40)
    torch.manual_seed(5)
    out = net(X)
    torch.manual_seed(5)
    tiled = X.repeat(4, 1, 1)
    probs = torch.softmax(net.trunk(net.augmentation(tiled)), -1).reshape(4, 3, -1)
    torch.testing.assert_close(out, probs.mean(0).log())


def test_chunked_copies_give_the_same_distribution_and_no_augmentation_is_exact():
    aug = AugmentationModule([[T.GaussianNoise(magnitude=0.0)]])
    whole = AugNet(Trunk(), aug, n_copies=6).eval()
    chunked = AugNet(whole.trunk, aug, n_copies=6, copies_per_chunk=4).eval()
    X = torch.randn(3, 2, 40)
    torch.testing.assert_close(whole(X), chunked(X))
    torch.testing.assert_close(whole(X), torch.log_softmax(whole.trunk(X), -1))


def test_copies_in_training_and_gradients():
    net = make_augnet(n_copies=20, n_copies_train=2).train()
    assert net.current_n_copies == 2
    net(torch.randn(4, 2, 40)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    assert net.eval().current_n_copies == 20


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_copies"):
        make_augnet(n_copies=0)
    with pytest.raises(ValueError, match="n_copies_train"):
        make_augnet(n_copies_train=1.5)
    with pytest.raises(ValueError, match="copies_per_chunk"):
        make_augnet(copies_per_chunk=0)

    class Cropped(nn.Module):
        def forward(self, x):
            return x

    net = AugNet(Cropped(), [[T.GaussianNoise()]])
    with pytest.raises(ValueError, match="n_classes"):
        net(torch.randn(2, 2, 10))


def test_log_of_n_copies():
    net = make_augnet(n_copies=3).eval()
    out = net(torch.randn(2, 2, 10))
    assert torch.isfinite(out).all() and (out <= math.log(1.0) + 1e-6).all()


def test_weight_init_idiom_apply_fn_reaches_every_submodule():
    """``model.apply(init_fn)`` is torch's recursive apply (it used to fail
    with "missing 'params'" on models holding a transform)."""
    model = make_augnet()
    seen = []

    def init_fn(module):
        seen.append(type(module).__name__)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    assert model.apply(init_fn) is model
    assert {"Linear", "GaussianNoise", "SignFlip", "AugNet"} <= set(seen)
    assert torch.count_nonzero(model.trunk.linear.weight) == 0
