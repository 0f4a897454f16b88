"""Tests of the per-device generators and seed streams."""

import copy
import pickle
from itertools import islice

import numpy as np
import pytest
import torch

from braindecode_augnet._random import DeviceGenerators, seed_stream


def test_seeded_draws_repeat_after_reset_and_pickling():
    rng = DeviceGenerators(3)
    like = torch.zeros(1)
    first = rng.uniform((5,), like)
    assert not torch.equal(first, rng.uniform((5,), like))  # the stream moves on
    rng.reset()
    torch.testing.assert_close(rng.uniform((5,), like), first)
    for clone in (pickle.loads(pickle.dumps(rng)), copy.deepcopy(rng)):
        torch.testing.assert_close(clone.uniform((5,), like), first)


def test_none_follows_torch_global_seed():
    rng = DeviceGenerators(None)
    like = torch.zeros(1)
    torch.manual_seed(11)
    a = rng.normal((4,), like)
    torch.manual_seed(11)
    torch.testing.assert_close(rng.normal((4,), like), a)


def test_categorical_draws_follow_the_probabilities():
    rng = DeviceGenerators(0)
    draws = rng.categorical(torch.tensor([0.2, 0.8]), 5000)
    assert 0.77 < draws.float().mean().item() < 0.83


@pytest.mark.parametrize("bad", ["0", 1.5, [1]])
def test_bad_random_state_is_rejected(bad):
    with pytest.raises(TypeError, match="random_state must be"):
        DeviceGenerators(bad)
    with pytest.raises(TypeError, match="random_state must be"):
        next(seed_stream(bad))


def test_seed_streams_are_independent_and_reproducible():
    seeds = list(islice(seed_stream(0), 5))
    assert len(set(seeds)) == 5 and seeds == list(islice(seed_stream(0), 5))
    from_rs = list(islice(seed_stream(np.random.RandomState(0)), 3))
    assert len(set(from_rs)) == 3
    assert list(islice(seed_stream(None), 2)) == [None, None]
    generator = torch.Generator()
    assert next(seed_stream(generator)) is generator


def test_shared_draws_repeat_each_draw_within_groups():
    from braindecode_augnet._random import shared_draws

    rng = DeviceGenerators(0)
    like = torch.zeros(())
    with shared_draws(3):
        u = rng.uniform((6, 2), like)
        z = rng.normal((6,), like)
        k = rng.categorical(torch.ones(4) / 4, 6)
        with pytest.raises(ValueError, match="groups of 3 consecutive examples"):
            rng.uniform((5,), like)
    for draw in (u, z, k):
        groups = draw.reshape(2, 3, *draw.shape[1:])
        assert (groups == groups[:, :1]).all()
        assert not torch.equal(groups[0, 0], groups[1, 0])
