"""Tests of the differentiable transforms."""

import numpy as np
import pytest
import torch
from braindecode.augmentation import AugmentedDataLoader
from braindecode.augmentation import functional as BF
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

from braindecode_augnet import transforms as T
from braindecode_augnet.base import DifferentiableTransform
from braindecode_augnet.channels import standard_positions

from .conftest import TEN_TWENTY

SFREQ = 100.0
N_CH = len(TEN_TWENTY)


def make(name, **kwargs):
    """Build transform ``name`` for 12-channel 10-20 data at 100 Hz."""
    cls = getattr(T, name)
    if name == "FrequencyShift":
        kwargs.setdefault("sfreq", SFREQ)
    if name in ("ChannelsSymmetry",) or name.startswith("Sensors"):
        kwargs.setdefault("ordered_ch_names", TEN_TWENTY)
    return cls(**kwargs)


MAGNITUDE = [
    "FrequencyShift",
    "FTSurrogate",
    "GaussianNoise",
    "SmoothTimeMask",
    "ChannelsDropout",
    "ChannelsShuffle",
    "SensorsXRotation",
    "SensorsYRotation",
    "SensorsZRotation",
    "AmplitudeScale",
]
PROBABILITY = ["TimeReverse", "SignFlip", "ChannelsSymmetry"]
ALL = MAGNITUDE + PROBABILITY


def batch(n=8, n_ch=N_CH, n_times=300, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n_times, dtype=dtype) / SFREQ
    X = torch.randn(n, n_ch, n_times, generator=g, dtype=dtype)
    return X + torch.sin(2 * np.pi * 10 * t)  # a rhythm for spectral ops


@pytest.mark.parametrize("name", ALL)
def test_is_braindecode_transform(name):
    from braindecode.augmentation import Transform

    tr = make(name)
    assert isinstance(tr, Transform) and isinstance(tr, torch.nn.Module)
    assert isinstance(tr, DifferentiableTransform)
    learnable = [p for p in tr.parameters() if p.requires_grad]
    assert len(learnable) == 1


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_y(name, dtype):
    tr = make(name, random_state=0)
    X = batch(dtype=dtype)
    y = torch.arange(len(X))
    out, y_out = tr(X, y)
    assert out.shape == X.shape and out.dtype == dtype and out.device == X.device
    assert torch.equal(y_out, y)
    assert torch.isfinite(out).all()
    assert isinstance(tr(X), torch.Tensor)


@pytest.mark.parametrize("name", MAGNITUDE)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_identity_at_zero_magnitude(name, mode):
    tr = make(name, magnitude=0.0, random_state=1)
    getattr(tr, mode)()
    X = batch(dtype=torch.float64)
    torch.testing.assert_close(tr(X), X, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", PROBABILITY)
def test_identity_at_zero_probability(name):
    tr = make(name, probability=0.0, random_state=1)
    X = batch()
    torch.testing.assert_close(tr(X), X)


@pytest.mark.parametrize("name", MAGNITUDE)
def test_magnitude_changes_output(name):
    tr = make(name, magnitude=0.8, random_state=1)
    X = batch()
    assert (tr(X) - X).abs().max() > 1e-3


def _grad_check(tr, X):
    X = X.clone().requires_grad_(True)
    target = torch.randn_like(X)
    out = tr(X)
    loss = ((out - target) ** 2).mean()
    loss.backward()
    return tr.raw_magnitude.grad, X.grad


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("seed", range(5))
def test_gradient_to_strength_and_input(name, seed):
    """Finite, non-zero gradients on every batch of 8, not by luck."""
    kwargs = {"magnitude": 0.5} if name in MAGNITUDE else {"probability": 0.25}
    tr = make(name, random_state=seed, **kwargs).train()
    g_param, g_x = _grad_check(tr, batch(n=8, seed=seed))
    assert g_param is not None and torch.isfinite(g_param) and g_param.abs() > 0
    assert torch.isfinite(g_x).all() and g_x.abs().sum() > 0


@pytest.mark.parametrize("name", ["ChannelsDropout", "ChannelsShuffle"])
def test_channel_masks_gradient_at_small_magnitude(name):
    """braindecode's steep sigmoid passes a gradient only by luck."""
    for seed in range(10):
        tr = make(name, magnitude=0.1, random_state=seed).train()
        g_param, _ = _grad_check(tr, batch(n=8, seed=seed))
        assert g_param.abs() > 0


def test_stacked_transforms_pass_gradients_back():
    first = make("FrequencyShift", magnitude=0.5, random_state=0)
    second = make("GaussianNoise", magnitude=0.5, random_state=0)
    X = batch()
    loss = second(first(X)).pow(2).mean()
    loss.backward()
    assert first.raw_magnitude.grad.abs() > 0 and second.raw_magnitude.grad.abs() > 0


@pytest.mark.parametrize("name", ALL)
def test_reproducible_with_random_state(name):
    X = batch()
    a = make(name, random_state=42)(X)
    b = make(name, random_state=42)(X)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", MAGNITUDE + ["SignFlip"])
def test_replay_draw(name):
    tr = make(name, random_state=3)
    X = batch()
    params = tr.sample_params(X)
    torch.testing.assert_close(tr(X, params=params), tr(X, params=params))


@pytest.mark.parametrize("name", ALL)
def test_replaying_params_of_another_batch_is_refused(name):
    """Params drawn for another batch size are refused, naming both sizes
    (SmoothTimeMask read out of range, giving NaN; the others failed deep
    in torch or broadcast)."""
    tr = make(name, random_state=3)
    params = tr.sample_params(batch(n=4))
    with pytest.raises(ValueError, match="drawn for a batch of 4 examples, X holds 8"):
        tr(batch(n=8), params=params)
    with pytest.raises(ValueError, match="the dict that sample_params"):
        tr(batch(), params=[params])


PER_CHANNEL = [
    "GaussianNoise",
    "AmplitudeScale",
    "ChannelsDropout",
    "ChannelsShuffle",
]


@pytest.mark.parametrize("name", PER_CHANNEL)
def test_replaying_params_of_other_channels_is_refused(name):
    """Params drawn for other channels are refused, naming both shapes (they
    were broadcast: the output of 1-channel X had 12 channels, or the
    12-channel output got one draw for all channels; ChannelsShuffle failed
    with an IndexError)."""
    tr = make(name, random_state=3)
    X, X1 = batch(), batch()[:, :1]
    match = r"drawn for X of another shape: params\['\w+'\] has shape \(8, 12"
    with pytest.raises(ValueError, match=match):
        tr(X1, params=tr.sample_params(X))
    with pytest.raises(ValueError, match=r"X of shape \(8, 12, 300\) draws"):
        tr(X, params=tr.sample_params(X1))


def test_replaying_params_of_another_length_is_refused():
    """FTSurrogate's phases of another length failed with torch's size error."""
    tr = make("FTSurrogate", random_state=3)
    with pytest.raises(ValueError, match=r"sample_params\(X\)\.$"):
        tr(batch(n_times=200), params=tr.sample_params(batch()))


@pytest.mark.parametrize("name", ALL)
def test_replay_check_leaves_the_draws_as_they_were(name):
    """Checking a replayed draw does not move the transform's stream."""
    X = batch()
    checked, plain = make(name, random_state=3), make(name, random_state=3)
    checked(X, params=checked.sample_params(X))
    plain.sample_params(X)
    torch.testing.assert_close(checked(X), plain(X))


def test_replaying_per_example_magnitudes_of_another_batch_is_refused():
    tr = make("GaussianNoise", random_state=0)
    X = batch(n=4)
    params = {**tr.sample_params(X), "magnitude": torch.ones(3)}
    with pytest.raises(ValueError, match=r"shape \(4,\) for X of shape"):
        tr(X, params=params)


@pytest.mark.parametrize("name", ["ChannelsSymmetry", "SensorsZRotation"])
def test_a_channel_named_twice_is_refused(name):
    """A permutation by name mapped two channels onto one (channels lost)."""
    with pytest.raises(ValueError, match=r"more than once \(C3, c3; names are"):
        make(name, ordered_ch_names=["C3", "C4", "c3", "Cz"])


def test_none_random_state_follows_torch_seed():
    X = batch()
    tr = make("GaussianNoise", magnitude=0.5)
    torch.manual_seed(7)
    a = tr(X)
    torch.manual_seed(7)
    b = tr(X)
    torch.testing.assert_close(a, b)


def test_per_example_parameters_differ():
    tr = make("FrequencyShift", magnitude=1.0, random_state=0)
    X = batch(n=4)[:1].repeat(4, 1, 1)
    out = tr(X)
    assert not torch.allclose(out[0], out[1])


def test_probability_mask_is_per_example():
    tr = make("GaussianNoise", probability=0.5, magnitude=1.0, random_state=0)
    X = batch(n=64)
    changed = (tr(X) - X).flatten(1).abs().amax(1) > 0
    assert 10 < changed.sum() < 54


# ------------------------------------------------------------ vs braindecode
def test_frequency_shift_matches_braindecode():
    tr = make("FrequencyShift", magnitude=0.4, random_state=0)
    X = batch()
    params = tr.sample_params(X)
    delta = (2 * params["u"] - 1) * tr.op_value.detach()
    expected, _ = BF.frequency_shift(X, None, delta, SFREQ)
    torch.testing.assert_close(tr(X, params=params), expected, atol=1e-4, rtol=1e-4)


def test_smooth_time_mask_matches_braindecode():
    tr = make("SmoothTimeMask", magnitude=0.5, random_state=0)
    X = batch()
    params = tr.sample_params(X)
    length = tr.op_value.detach()
    start = params["start"] * (X.shape[-1] - length)
    expected, _ = BF.smooth_time_mask(X, None, start, length)
    torch.testing.assert_close(tr(X, params=params), expected)


def test_smooth_time_mask_longer_than_the_window_warns_once_and_reports_it():
    import warnings

    from braindecode_augnet.analysis.policy import capped_transforms, policy_table
    from braindecode_augnet.layers import AugmentationModule

    tr = make("SmoothTimeMask", magnitude=0.8, random_state=0)
    reference = make("SmoothTimeMask", magnitude=0.8, random_state=0)
    assert round(tr.op_value.item()) == 80 and not tr.at_cap
    X = torch.ones(4, 1, 60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [tr(X) for _ in range(3)]  # once per window length, not per batch
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "mag_range=(0, 100)" in messages[0] and "60-sample" in messages[0]
    assert "SmoothTimeMask(mag_range=(0, 60))" in messages[0]
    assert all(bool((out < 0.5).sum(-1).ge(59).all()) for out in outs)
    assert tr.op_value.item() == 60 and tr.at_cap  # the mask applied
    note = capped_transforms(policy_table(AugmentationModule([[tr]])))
    assert len(note) == 1 and "at most 60" in note[0]
    # the op is unchanged by the bookkeeping; windows that fit forget the clamp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.testing.assert_close(reference(X), outs[0])
    tr(torch.ones(4, 1, 300))
    assert round(tr.op_value.item()) == 80 and not tr.at_cap


def test_channels_symmetry_matches_braindecode():
    from braindecode.augmentation import ChannelsSymmetry as BDSymmetry

    ours = make("ChannelsSymmetry")
    theirs = BDSymmetry(probability=1.0, ordered_ch_names=TEN_TWENTY)
    X = batch()
    torch.testing.assert_close(ours.apply_transform(X, {}), theirs(X))


@pytest.mark.parametrize(
    ("name", "bd"), [("TimeReverse", "time_reverse"), ("SignFlip", "sign_flip")]
)
def test_flip_ops_match_braindecode(name, bd):
    X = batch()
    expected, _ = getattr(BF, bd)(X, None)
    torch.testing.assert_close(make(name).apply_transform(X, {}), expected)


def test_rotation_matches_braindecode_up_to_its_zero_angle_error():
    """Ours = braindecode(angle) - braindecode(0) + X (braindecode's spline
    interpolation is not the identity at 0 degrees)."""
    tr = make("SensorsZRotation", magnitude=0.5, random_state=0)
    X = batch(n=4)
    params = tr.sample_params(X)
    angles = (2 * params["u"] - 1) * tr.op_value.detach()
    positions = torch.as_tensor(standard_positions(TEN_TWENTY)).T.float()
    rot, _ = BF.sensors_rotation(X, None, positions, "z", angles, True)
    rot0, _ = BF.sensors_rotation(X, None, positions, "z", torch.zeros(4), True)
    assert (rot0 - X).abs().max() > 1e-2  # braindecode's identity error
    torch.testing.assert_close(tr(X, params=params), rot - rot0 + X, atol=2e-3, rtol=0)


def test_gaussian_noise_std_matches_braindecode():
    X = torch.zeros(64, 2, 3000)
    ours = make("GaussianNoise", magnitude=0.5, random_state=0)(X)
    theirs, _ = BF.gaussian_noise(X, None, 0.1, random_state=0)
    assert abs(ours.std().item() - theirs.std().item()) < 2e-3


def test_ft_surrogate_preserves_spectrum_like_braindecode():
    X = batch(n=16)
    ours = make("FTSurrogate", magnitude=0.7, random_state=0)(X)
    theirs, _ = BF.ft_surrogate(X, None, 0.7, channel_indep=False, random_state=0)
    amp = torch.fft.rfft(X).abs()
    torch.testing.assert_close(torch.fft.rfft(ours).abs(), amp, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(torch.fft.rfft(theirs).abs(), amp, atol=1e-3, rtol=1e-3)
    # the phases are perturbed as much: same mean absolute change of the signal
    d_ours = (ours - X).abs().mean().item()
    d_theirs = (theirs - X).abs().mean().item()
    assert abs(d_ours - d_theirs) / d_theirs < 0.1


@pytest.mark.parametrize(
    ("name", "bd_cls", "bd_kwargs"),
    [
        ("ChannelsDropout", "ChannelsDropout", {"p_drop": 0.3}),
        ("ChannelsShuffle", "ChannelsShuffle", {"p_shuffle": 0.3}),
    ],
)
def test_channel_ops_match_braindecode_in_distribution(name, bd_cls, bd_kwargs):
    import braindecode.augmentation as A

    X = batch(n=512, n_times=20)
    ours = make(name, magnitude=0.3, random_state=0)(X)
    theirs = getattr(A, bd_cls)(probability=1.0, random_state=0, **bd_kwargs)(X)
    frac_ours = ((ours - X).abs().amax(-1) > 1e-6).float().mean().item()
    frac_theirs = ((theirs - X).abs().amax(-1) > 1e-6).float().mean().item()
    assert abs(frac_ours - frac_theirs) < 0.03


def test_shuffle_is_a_permutation_of_channels():
    X = batch(n=32)
    out = make("ChannelsShuffle", magnitude=0.6, random_state=0)(X)
    torch.testing.assert_close(out.sort(dim=1).values, X.sort(dim=1).values)


def test_shuffle_partners_are_other_channels_in_half_precision():
    # 300 channels: more integers than bfloat16 holds exactly
    X = torch.zeros(16, 300, 4, dtype=torch.bfloat16)
    partners = make("ChannelsShuffle", random_state=0).sample_params(X)["partners"]
    assert partners.dtype == torch.long
    assert ((partners >= 0) & (partners < 300)).all()
    shifts = (partners - torch.arange(300)) % 300
    # one cyclic shift per example, never by 0 (in floats, rounding broke it)
    assert (shifts == shifts[:, :1]).all() and (shifts != 0).all()


def test_amplitude_scale_range():
    X = torch.ones(256, 4, 10)
    out = make("AmplitudeScale", magnitude=1.0, random_state=0)(X)
    assert out.min() >= 0.5 - 1e-6 and out.max() <= 2.0 + 1e-6
    assert out.min() < 0.6 and out.max() > 1.8


# ---------------------------------------------------------- frozen / loader
def test_frozen_in_augmented_data_loader():
    X, y = batch(n=20), torch.arange(20) % 2
    tr = make("FrequencyShift", magnitude=0.3, random_state=0).freeze()
    assert not any(p.requires_grad for p in tr.parameters()) and not tr.training
    loader = AugmentedDataLoader(
        TensorDataset(X, y), transforms=[tr, make("SignFlip").freeze()], batch_size=8
    )
    batches = list(loader)
    assert len(batches) == 3
    Xb, yb = batches[0]
    assert Xb.shape == (8, N_CH, 300) and not Xb.requires_grad
    assert not torch.allclose(Xb, X[:8])
    torch.testing.assert_close(yb, y[:8])


def test_pickle_and_deepcopy_keep_parameters():
    import copy
    import pickle

    tr = make("GaussianNoise", magnitude=0.3, random_state=0)
    tr(batch())  # creates a generator
    for clone in (pickle.loads(pickle.dumps(tr)), copy.deepcopy(tr)):
        assert clone.magnitude.item() == pytest.approx(0.3)
        torch.testing.assert_close(
            clone(batch()),
            make("GaussianNoise", magnitude=0.3, random_state=0)(batch()),
        )


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["GaussianNoise", "SignFlip"])
def test_rejects_bad_shapes_and_values(name):
    tr = make(name)
    with pytest.raises(ValueError, match="batch, channels, times"):
        tr(torch.randn(2, 100))
    X = batch()
    X[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        tr(X)
    X[0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        tr(X)


@pytest.mark.parametrize("mag_range", [(2.0, 1.0), (-1.0, 1.0), (0, float("nan"))])
def test_rejects_bad_mag_range(mag_range):
    with pytest.raises(ValueError, match="mag_range"):
        T.GaussianNoise(mag_range=mag_range)


@pytest.mark.parametrize("magnitude", [-0.1, 1.5, None, "a"])
def test_rejects_magnitude_out_of_range(magnitude):
    with pytest.raises(ValueError, match="magnitude"):
        T.GaussianNoise(magnitude=magnitude)


def test_rejects_probability_out_of_range():
    with pytest.raises(ValueError, match="probability"):
        T.SignFlip(probability=1.2)
    with pytest.raises(ValueError, match="proportions of channels"):
        T.ChannelsDropout(mag_range=(0, 2))


@pytest.mark.parametrize(
    "name, kwargs, limit",
    [
        ("FTSurrogate", {"mag_range": (0, 3)}, "1"),
        ("FrequencyShift", {"mag_range": (0, 80)}, "50"),  # sfreq 100
        ("SensorsZRotation", {"mag_range": (0, 720)}, "180"),
        ("SensorsRotation", {"mag_range": (0, 200), "axis": "x"}, "180"),
        ("AmplitudeScale", {"mag_range": (0, 200)}, "127"),
    ],
)
def test_ranges_beyond_the_op_limit_are_refused(name, kwargs, limit):
    # the message names the transform, the range and the limit
    low, high = kwargs["mag_range"]
    with pytest.raises(ValueError) as error:
        make(name, **kwargs)
    message = str(error.value)
    assert message.startswith(f"{name}: mag_range=({low:g}, {high:g})")
    assert f"goes above {limit}," in message and f"at most {limit}" in message


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("FTSurrogate", {"mag_range": (0, 1)}),
        ("FrequencyShift", {"mag_range": (0, 50)}),
        ("SensorsZRotation", {"mag_range": (0, 180)}),
        ("AmplitudeScale", {"mag_range": (0, 127)}),
    ],
)
def test_ranges_up_to_the_op_limit_are_kept_and_have_no_cap(name, kwargs):
    tr = make(name, magnitude=1.0, **kwargs)
    assert tr.mag_range[1] == tr.op_limit and not tr.at_cap


@pytest.mark.parametrize("sfreq", [None, 0, -100, "abc"])
def test_rejects_bad_sfreq(sfreq):
    with pytest.raises(ValueError, match="sfreq"):
        T.FrequencyShift(sfreq=sfreq)


def test_rejects_unknown_channels():
    with pytest.raises(ValueError, match="no position"):
        T.SensorsZRotation(ordered_ch_names=["C3", "NotAChannel"])
    with pytest.raises(ValueError, match="ordered_ch_names"):
        T.SensorsZRotation()
    with pytest.raises(ValueError, match="counterpart"):
        T.ChannelsSymmetry(ordered_ch_names=["C3", "Cz"])
    assert T.ChannelsSymmetry(
        ordered_ch_names=["C3", "Cz"], on_missing="ignore"
    ).permutation == [0, 1]
    with pytest.raises(ValueError, match="channels"):
        T.ChannelsSymmetry(ordered_ch_names=["C3", "C4"])(batch(n_ch=3))


# ------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(ALL),
    n=st.integers(1, 6),
    n_times=st.integers(8, 257),
    magnitude=st.floats(0.0, 1.0),
)
def test_property_shapes_finite_and_bounded(name, n, n_times, magnitude):
    kwargs = {"magnitude": magnitude} if name in MAGNITUDE else {}
    tr = make(name, random_state=0, **kwargs)
    X = batch(n=n, n_times=n_times)
    out = tr(X)
    assert out.shape == X.shape and torch.isfinite(out).all()
    assert 0.0 <= tr.magnitude.item() <= 1.0


@settings(max_examples=25, deadline=None)
@given(raw=st.floats(-3.0, 3.0), direction=st.sampled_from([-1.0, 1.0]))
def test_property_magnitude_parametrisation(raw, direction):
    """Value is always in [0, 1]; the gradient is never zero inside the range
    and always lets the parameter come back from outside."""
    from braindecode_augnet.base import unit_interval

    p = torch.tensor(raw, requires_grad=True)
    raw = p.item()  # as stored in float32
    m = unit_interval(p)
    assert 0.0 <= m.item() <= 1.0
    (direction * m).backward()
    toward_range = (raw < 0 and direction < 0) or (raw > 1 and direction > 0)
    if 0 <= raw <= 1 or toward_range:
        assert p.grad.item() == direction
    else:
        assert p.grad.item() == 0.0


@pytest.mark.parametrize("name", MAGNITUDE)
def test_per_example_magnitude_override(name):
    """A draw may carry per-example magnitudes (used by the random policy)."""
    tr = make(name, magnitude=0.5, random_state=0)
    X = batch(n=4)
    params = tr.sample_params(X)
    params["magnitude"] = torch.tensor([0.0, 0.0, 1.0, 1.0])
    out = tr(X, params=params)
    torch.testing.assert_close(out[:2], X[:2], atol=1e-5, rtol=1e-5)
    assert (out[2:] - X[2:]).abs().max() > 1e-3


@pytest.mark.parametrize("name", PROBABILITY)
@pytest.mark.parametrize("n_times", [300, 3000])  # one pass; CPU chunks
def test_involution_fast_path_matches_the_generic_gate(name, n_times):
    """An involution's fast path (``_gated``) gives the output and the
    gradients (to X and to the probability) of the generic
    ``lerp(X, apply_transform(X), gate)``."""
    tr = make(name, probability=0.3, random_state=0)
    X0 = batch(n=32, n_times=n_times)
    params = tr.sample_params(X0)
    grad_out = torch.randn(X0.shape, generator=torch.Generator().manual_seed(1))

    def run(fn):
        X = X0.clone().requires_grad_(True)
        out = fn(X)
        grads = torch.autograd.grad(out, [X, tr.raw_magnitude], grad_out)
        return out.detach(), grads

    out, grads = run(lambda X: tr.augment(X, params))
    ref, grads_ref = run(lambda X: tr._gate(X, tr.apply_transform(X, params), params))
    assert tr._gated(X0, tr._draw_gate(X0, params), params) is not None
    assert torch.equal(out, ref)
    assert 0 < (out != X0).any(dim=(1, 2)).sum() < len(X0)  # some gated, not all
    for grad, grad_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(grad, grad_ref, rtol=1e-5, atol=1e-4)


def test_channels_symmetry_without_an_involution_uses_the_generic_path():
    tr = make("ChannelsSymmetry", probability=0.5, random_state=0)
    tr.permutation = list(range(1, N_CH)) + [0]  # a cycle: not its own inverse
    X = batch()
    params = tr.sample_params(X)
    assert tr._gated(X, tr._draw_gate(X, params), params) is None
    ref = tr._gate(X, tr.apply_transform(X, params), params)
    assert torch.equal(tr.augment(X, params), ref)
