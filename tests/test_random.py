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


# ------------------------------------------------------------- keyed draws
def test_keyed_hash_matches_the_python_reference():
    from braindecode_augnet._random import _mix64, _mix64_int

    values = [0, 1, -1, 2**62, -(2**63), 12345678901234, -987654321]
    mixed = _mix64(torch.tensor(values, dtype=torch.int64)).tolist()
    assert mixed == [_mix64_int(v) for v in values]
    # splitmix64's first output for seed 0 (Vigna's reference implementation)
    golden = 0x9E3779B97F4A7C15
    assert _mix64_int(golden) & (2**64 - 1) == 0xE220A8397B1DCDAF


def _keyed(rng, keys, draw, rows=None):
    from braindecode_augnet._random import keyed_draws

    with keyed_draws(torch.as_tensor(keys, dtype=torch.int64), rows):
        return draw(rng)


def test_keyed_draws_of_a_row_depend_on_its_key_only():
    like = torch.zeros(1)
    draw = lambda r: (r.uniform((3, 4, 5), like), r.normal((3, 7), like))  # noqa: E731
    u, n = _keyed(DeviceGenerators(0), [10, 11, 12], draw)
    u1, n1 = _keyed(
        DeviceGenerators(0),
        [11],
        lambda r: (r.uniform((1, 4, 5), like), r.normal((1, 7), like)),
    )
    torch.testing.assert_close(u1[0], u[1])
    torch.testing.assert_close(n1[0], n[1])
    # rows sharing a key draw alike; another seed or a second draw differs
    u2 = _keyed(
        DeviceGenerators(0),
        [4],
        lambda r: r.uniform((3, 2), like),
        torch.zeros(3, dtype=torch.long),
    )
    assert torch.equal(u2[0], u2[1]) and torch.equal(u2[0], u2[2])
    assert not torch.equal(_keyed(DeviceGenerators(1), [10, 11, 12], draw)[0], u)
    again = _keyed(DeviceGenerators(0), [10, 11, 12], lambda r: (draw(r), draw(r)))
    assert torch.equal(again[0][0], u) and not torch.equal(again[1][0], u)
    # the streams are left where they were
    rng = DeviceGenerators(0)
    _keyed(rng, [1, 2, 3], draw)
    torch.testing.assert_close(
        rng.uniform((3,), like), DeviceGenerators(0).uniform((3,), like)
    )


def test_keyed_draws_have_the_stream_distributions():
    keys = torch.arange(20000)
    like = torch.zeros(1, dtype=torch.float64)
    u, n = _keyed(
        DeviceGenerators(5),
        keys,
        lambda r: (r.uniform((20000, 3), like), r.normal((20000,), like)),
    )
    assert u.dtype == n.dtype == torch.float64
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - 12**-0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    probs = torch.tensor([0.2, 0.0, 0.5, 0.3])
    choice = _keyed(DeviceGenerators(5), keys, lambda r: r.categorical(probs, 20000))
    freq = torch.bincount(choice, minlength=4) / 20000.0
    torch.testing.assert_close(freq, probs, atol=0.015, rtol=0)
    assert freq[1] == 0


def test_keyed_draws_share_within_groups_and_fall_back_on_other_shapes():
    from braindecode_augnet._random import shared_draws

    like = torch.zeros(1)
    with shared_draws(2):
        u = _keyed(DeviceGenerators(0), [1, 2, 3, 4], lambda r: r.uniform((4, 3), like))
    assert torch.equal(u[0], u[1]) and torch.equal(u[2], u[3])
    assert not torch.equal(u[0], u[2])
    # a draw that is not one per row comes from the stream
    one = _keyed(DeviceGenerators(0), [1, 2, 3], lambda r: r.uniform((1,), like))
    torch.testing.assert_close(one, DeviceGenerators(0).uniform((1,), like))


@pytest.mark.parametrize(
    "seed", [None, np.random.RandomState(0), torch.Generator().manual_seed(0)]
)
def test_keyed_seed_of_other_random_states_holds_until_reset(seed):
    rng = DeviceGenerators(seed)
    first = rng.keyed_seed("cpu")
    assert rng.keyed_seed("cpu") == first
    rng.reset()
    assert isinstance(rng.keyed_seed("cpu"), int)
