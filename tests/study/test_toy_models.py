"""Tests of the toy trunks."""

import pytest
import torch

from braindecode_augnet.study.toy_models import ToyConvNet, ToyMLP


@pytest.mark.parametrize("trunk", [ToyMLP, ToyConvNet])
def test_trunks_take_braindecode_signal_arguments(trunk):
    net = trunk(n_chans=2, n_times=500, n_outputs=3, sfreq=100.0, chs_info=None)
    out = net(torch.randn(5, 2, 500))
    assert out.shape == (5, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_mlp_depth_and_width():
    net = ToyMLP(hidden=16, depth=3, n_times=100)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [16, 16, 16, 4]
