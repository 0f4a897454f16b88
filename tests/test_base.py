"""Tests of the transform contract in braindecode_augnet.base."""

import numpy as np
import pytest
import torch

from braindecode_augnet import transforms as T
from braindecode_augnet.base import (
    DifferentiableTransform,
    Involution,
    NonFiniteFlag,
    check_eeg_batch,
    unit_interval,
)

from .conftest import (
    ChannelMean,
    Negate,
    NumpyOut,
    ScalarOnlyOffset,
    make_clf,
    toy_data,
)

SFREQ = 100.0


def batch(n=8, n_chans=2, n_times=200, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, n_chans, n_times, generator=g).to(dtype)


# ----------------------------------------------------------- unit interval
def test_unit_interval_value():
    raw = torch.tensor([-0.5, 0.0, 0.3, 1.0, 1.7])
    torch.testing.assert_close(
        unit_interval(raw), torch.tensor([0.0, 0.0, 0.3, 1.0, 1.0])
    )


@pytest.mark.parametrize(
    ("raw", "upstream", "expected"),
    [
        (0.4, 1.0, 1.0),  # inside: identity
        (0.4, -2.0, -2.0),
        (-0.5, -1.0, -1.0),  # below, a descent step (raw - grad) goes up: kept
        (-0.5, 1.0, 0.0),  # below, a descent step goes further down: blocked
        (1.5, 1.0, 1.0),  # above, a descent step goes down: kept
        (1.5, -1.0, 0.0),  # above, a descent step goes further up: blocked
    ],
)
def test_unit_interval_gradient(raw, upstream, expected):
    p = torch.tensor(raw, requires_grad=True)
    (upstream * unit_interval(p)).backward()
    assert p.grad.item() == expected


def test_a_magnitude_at_zero_can_leave_it():
    tr = T.GaussianNoise(magnitude=0.0, random_state=0)
    X = batch()
    # a loss that asks for more noise: the gradient is not killed at 0
    (-(tr(X) - X).pow(2).mean() - tr.magnitude).backward()
    assert tr.raw_magnitude.grad < 0


# ------------------------------------------------------------ input checks
def test_check_eeg_batch_converts_and_keeps_floats():
    out = check_eeg_batch(np.zeros((2, 3, 4), dtype=np.int64))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    X = torch.zeros(2, 3, 4, dtype=torch.float64)
    assert check_eeg_batch(X) is X


@pytest.mark.parametrize("shape", [(100,), (3, 100), (1, 2, 3, 100)])
def test_check_eeg_batch_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match=r"\(batch, channels, times\)") as info:
        check_eeg_batch(torch.zeros(shape))
    assert f"{len(shape)}-D" in str(info.value)
    if len(shape) == 2:
        assert "X[None]" in str(info.value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_eeg_batch_rejects_non_finite_values(bad):
    X = torch.zeros(2, 3, 4)
    X[1, 2, 3] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_eeg_batch(X)


def test_check_eeg_batch_accepts_a_sum_that_overflows():
    X = torch.full((1, 1, 4), 3e38)  # finite values, infinite float32 sum
    assert check_eeg_batch(X) is X


def test_check_eeg_batch_can_leave_the_values_to_a_deferred_check():
    X = torch.zeros(2, 3, 4)
    X[0, 1, 2] = float("nan")
    assert check_eeg_batch(X, check_finite=False) is X
    with pytest.raises(ValueError, match="batch, channels, times"):
        check_eeg_batch(X[0], check_finite=False)  # the shape is still checked


def test_non_finite_flag_raises_the_same_error_later_and_once():
    flag = NonFiniteFlag()
    flag.raise_if_set()  # nothing recorded
    flag.record(torch.ones(2, 1, 3))
    assert flag.pending
    flag.raise_if_set()  # finite: no error
    assert not flag.pending
    bad = torch.ones(2, 1, 3)
    bad[1, 0, 2] = float("inf")
    flag.record(bad)  # no error at record time
    flag.record(torch.ones(2, 1, 3))  # a later finite batch does not clear it
    with pytest.raises(ValueError, match="NaN or infinite"):
        flag.raise_if_set()
    flag.raise_if_set()  # read once
    big = torch.full((1, 1, 4), 3e38)  # finite values whose sum overflows
    flag.record(big)
    flag.raise_if_set()


# ---------------------------------------------------------------- magnitude
def test_magnitude_op_value_and_cap():
    tr = T.GaussianNoise(magnitude=0.5, mag_range=(0.1, 0.3))
    assert tr.magnitude.item() == pytest.approx(0.5)
    assert tr.op_value.item() == pytest.approx(0.2)
    assert tr.magnitude_to_op(torch.tensor([0.0, 1.0])).tolist() == pytest.approx(
        [0.1, 0.3]
    )
    assert not tr.at_cap and not tr.learns_probability
    with torch.no_grad():
        tr.raw_magnitude.fill_(1.4)  # beyond the range: the op is at its cap
    assert tr.magnitude.item() == 1.0 and tr.at_cap
    assert tr.op_value.item() == pytest.approx(0.3)
    with torch.no_grad():
        tr.raw_magnitude.fill_(0.995)  # within 1% of the top
    assert tr.at_cap


def test_op_value_is_differentiable():
    tr = T.FrequencyShift(sfreq=SFREQ, magnitude=0.2, mag_range=(0.0, 5.0))
    tr.op_value.backward()
    assert tr.raw_magnitude.grad.item() == pytest.approx(5.0)


def test_probability_is_validated():
    tr = T.GaussianNoise(probability=0.5)
    assert tr.probability == 0.5
    tr.probability = np.float32(0.25)
    assert tr.probability == 0.25 and isinstance(tr.probability, float)
    with pytest.raises(ValueError, match="probability"):
        tr.probability = 1.5


def test_extra_repr_and_freeze():
    tr = T.GaussianNoise(magnitude=0.3, mag_range=(0.0, 0.2))
    text = repr(tr)
    assert "magnitude=0.300" in text and "mag_range=(0.0, 0.2)" in text
    frozen = tr.freeze()
    assert frozen is tr and not tr.training
    assert not any(p.requires_grad for p in tr.parameters())


# --------------------------------------------------------------- involution
def test_involution_learns_probability_magnitude_over_two():
    flip = T.SignFlip(probability=0.2)
    assert isinstance(flip, Involution) and flip.learns_probability
    assert flip.magnitude.item() == pytest.approx(0.4)
    assert flip.probability.item() == pytest.approx(0.2)
    assert flip.mag_range == (0.0, 0.5)
    flip.probability = 0.5
    assert flip.magnitude.item() == pytest.approx(1.0)
    with torch.no_grad():
        flip.raw_magnitude.fill_(3.0)
    assert flip.probability.item() == pytest.approx(0.5)  # capped at 0.5
    assert not flip.at_cap  # 0.5 is the largest invariance, not a cap
    assert "probability=0.500" in repr(flip)


@pytest.mark.parametrize("cls", [T.SignFlip, T.TimeReverse])
def test_involution_above_one_half_is_refused(cls):
    with pytest.raises(ValueError, match="0.5") as info:
        cls(probability=0.7)
    assert cls.__name__ in str(info.value)
    with pytest.raises(ValueError, match="probability"):
        cls(probability=1.2)
    flip = cls(probability=0.1)
    with pytest.raises(ValueError, match=r"\[0, 0.5\]"):
        flip.probability = 0.7


def test_involution_probability_gets_a_gradient():
    flip = T.SignFlip(probability=0.25, random_state=0)
    X = batch(n=16)
    (flip(X) - 1).pow(2).mean().backward()
    assert flip.raw_magnitude.grad.abs() > 0


def test_involution_at_zero_probability_is_the_identity():
    X = batch()
    assert torch.equal(T.SignFlip(probability=0.0, random_state=0)(X), X)


# --------------------------------------------------- apply / augment / replay
def test_apply_transform_augment_and_forward_replay():
    tr = T.GaussianNoise(probability=0.5, magnitude=1.0, random_state=0)
    X = batch(n=32)
    params = tr.sample_params(X)
    assert set(params) == {"apply", "noise"} and params["apply"].shape == (32,)
    every = tr.apply_transform(X, params)  # all examples, unconditionally
    assert ((every - X).flatten(1).abs().amax(1) > 0).all()
    augmented = tr.augment(X, params)
    chosen = params["apply"] < 0.5
    assert 0 < chosen.sum() < 32
    torch.testing.assert_close(augmented[chosen], every[chosen])
    torch.testing.assert_close(augmented[~chosen], X[~chosen])
    torch.testing.assert_close(tr(X, params=params), augmented)
    y = torch.arange(32)
    out, y_out = tr(X, y, params=params)
    torch.testing.assert_close(out, augmented)
    assert y_out is y


def test_reset_random_state_replays_draws():
    tr = T.GaussianNoise(random_state=5)
    X = batch()
    first = tr(X)
    assert not torch.equal(tr(X), first)  # the generator moves on
    tr.reset_random_state()
    torch.testing.assert_close(tr(X), first)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["FrequencyShift", "FTSurrogate", "SignFlip"])
def test_half_precision_comes_back_in_its_dtype(name, dtype):
    kwargs = {"sfreq": SFREQ} if name == "FrequencyShift" else {}
    tr = getattr(T, name)(random_state=0, **kwargs)
    X = batch(dtype=dtype)
    out = tr(X)
    assert out.dtype == dtype and out.shape == X.shape
    assert torch.isfinite(out).all()
    if not tr.learns_probability:
        assert not torch.equal(out, X)


@pytest.mark.parametrize(
    "tr",
    [
        T.GaussianNoise(probability=0.5),
        T.FrequencyShift(sfreq=SFREQ),
        T.SignFlip(),
        Negate(),
    ],
    ids=lambda tr: type(tr).__name__,
)
def test_empty_batch_returns_an_empty_batch(tr):
    X = torch.empty(0, 2, 100)
    out = tr(X)
    assert out.shape == (0, 2, 100)
    out, y = tr(X, torch.empty(0, dtype=torch.long))
    assert out.shape == (0, 2, 100) and y.shape == (0,)


def test_subclass_only_implements_apply_transform():
    tr = Negate()
    X = batch()
    torch.testing.assert_close(tr(X), -X)
    with pytest.raises(NotImplementedError):
        DifferentiableTransform().apply_transform(X, {})


def test_a_missing_apply_transform_is_named_with_the_fix():
    """A misspelt apply_transform raised an empty NotImplementedError."""

    class MyShift(DifferentiableTransform):
        def apply_transfrom(self, X, params):  # misspelt
            return X

    with pytest.raises(NotImplementedError, match=r"MyShift must implement apply"):
        MyShift()(batch())


@pytest.mark.parametrize("probability", [1.0, 0.5])
def test_what_apply_transform_returns_is_checked(probability):
    """A (batch, times) output was returned as is (or broadcast by the gate),
    a numpy array as is (or failed in torch.where)."""
    X = batch()
    match = r"ChannelMean.apply_transform returned shape \(8, 200\) for X of shape "
    with pytest.raises(ValueError, match=match + r"\(8, 2, 200\)"):
        ChannelMean(probability=probability)(X)
    with pytest.raises(TypeError, match="NumpyOut.apply_transform returned a numpy"):
        NumpyOut(probability=probability)(X)


def test_an_op_that_makes_nan_of_finite_inputs_is_named():
    """A custom op taking log(0) trained until the parameters were NaN, then
    blamed the inputs and the learning rates alone ('training diverged')."""

    class LogMagnitude(DifferentiableTransform):
        def apply_transform(self, X, params):
            return torch.sign(X) * X.abs().log() * self._op(X, params, 2)

    X = batch()
    X[:, :, 0] = 0.0
    match = r"LogMagnitude returned NaN or infinite values for a finite X"
    with pytest.raises(ValueError, match=match):
        LogMagnitude(random_state=0)(X)
    # in training (no host read there), divergence points to that check
    X_train, y = toy_data(32)
    X_train[:, :, 0] = 0.0
    clf = make_clf(augmentation=[[LogMagnitude()]], max_epochs=1)
    with pytest.raises(FloatingPointError, match=r"apply it to X on its own"):
        clf.fit(X_train, y)


def test_an_op_taking_one_magnitude_only_is_named_with_the_fix():
    """Per-example magnitudes failed with torch's bare size error."""
    X = batch()
    tr = ScalarOnlyOffset(random_state=0)
    assert tr(X).shape == X.shape  # one magnitude: fine
    params = {**tr.sample_params(X), "magnitude": torch.ones(len(X))}
    match = r"ScalarOnlyOffset.apply_transform must accept per-example magnitudes: "
    with pytest.raises(ValueError, match=match + r"call self._op\(X, params, 2\)"):
        tr(X, params=params)


def test_nn_module_apply_is_not_shadowed():
    """``apply`` is torch's recursive ``apply(fn)``; the op is apply_transform."""
    tr = T.FrequencyShift(sfreq=SFREQ)
    visited = []
    assert tr.apply(visited.append) is tr
    assert visited == [tr]
    tr.apply(lambda m: torch.nn.init.zeros_(m.raw_magnitude))
    assert tr.magnitude.item() == 0.0


@pytest.mark.parametrize("mag_range", [(1.0, 0.5), (-1.0, 1.0), (0.0, np.inf), 3])
def test_bad_mag_range(mag_range):
    with pytest.raises(ValueError, match="mag_range"):
        Negate(mag_range=mag_range)


def test_a_range_that_reaches_the_op_limit_has_no_cap():
    """Fully random phases or all channels: the top is a learned value."""
    from braindecode_augnet import transforms as T

    full = T.FTSurrogate(magnitude=1.0)
    assert full.op_limit == 1.0 and not full.at_cap
    assert T.FTSurrogate(magnitude=1.0, mag_range=(0, 0.1)).at_cap
    assert not T.ChannelsShuffle(magnitude=1.0).at_cap
    assert T.ChannelsDropout(magnitude=1.0, mag_range=(0, 0.5)).at_cap
    assert T.GaussianNoise(magnitude=1.0).at_cap  # noise could always be larger
