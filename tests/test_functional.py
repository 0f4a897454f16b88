"""Tests of the pure tensor operations in braindecode_augnet.functional."""

import math

import pytest
import torch

from braindecode_augnet import functional as F
from braindecode_augnet.channels import standard_positions

from .conftest import TEN_TWENTY

SFREQ = 100.0


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def sinusoid(freq, n_times=1000, n=1, n_chans=1):
    t = torch.arange(n_times, dtype=torch.float64) / SFREQ
    return torch.sin(2 * math.pi * freq * t).expand(n, n_chans, n_times).clone()


def peak_frequency(X):
    spectrum = torch.fft.rfft(X, dim=-1).abs()
    freqs = torch.fft.rfftfreq(X.shape[-1], d=1 / SFREQ)
    return freqs[spectrum.argmax(dim=-1)]


# ------------------------------------------------------------ relaxed draws
@pytest.mark.parametrize("learned", [True, False])
def test_hard_relaxed_bernoulli_values_are_the_hard_draw(learned):
    uniform = torch.rand(1000, generator=torch.Generator().manual_seed(0))
    p = torch.tensor(0.3, requires_grad=learned)
    draw = F.hard_relaxed_bernoulli(p, uniform, temperature=0.5)
    hard = (uniform < p).float()
    assert torch.equal(draw, hard)
    assert 0.25 < draw.mean() < 0.35
    zero = F.hard_relaxed_bernoulli(
        torch.tensor(0.0, requires_grad=learned), uniform, 0.5
    )
    assert torch.count_nonzero(zero) == 0


def test_hard_relaxed_bernoulli_ones_are_exact():
    """hard + soft - soft.detach() used to round 1 to 1 - 2**-24 in float32."""
    uniform = torch.rand(1000, generator=torch.Generator().manual_seed(0))
    p = torch.tensor(0.3, requires_grad=True)
    draw = F.hard_relaxed_bernoulli(p, uniform, temperature=0.5)
    assert set(draw.unique().tolist()) <= {0.0, 1.0}


def test_hard_relaxed_bernoulli_without_a_gradient_is_the_hard_draw_alone():
    """Evaluation (or a frozen probability) runs no relaxation: same draws,
    without the logits, sigmoid and slope (fewer kernels per prediction)."""
    from torch.profiler import profile

    uniform = torch.rand(1000, generator=torch.Generator().manual_seed(0))
    p = torch.tensor(0.3, requires_grad=True)
    learned = F.hard_relaxed_bernoulli(p, uniform, temperature=0.5)
    with torch.no_grad(), profile() as prof:
        draw = F.hard_relaxed_bernoulli(p, uniform, temperature=0.5)
    assert torch.equal(draw, learned.detach())
    names = {event.name for event in prof.events()}
    assert "aten::lt" in names
    assert not names & {"aten::logit", "aten::sigmoid_", "aten::addcmul"}


@pytest.mark.parametrize("temperature", [0.5, 0.3])
@pytest.mark.parametrize("output", ["complement", "sign"])
@pytest.mark.parametrize("learned", [True, False])
def test_hard_relaxed_bernoulli_output_is_the_map_of_the_draw_to_the_bit(
    output, learned, temperature
):
    """``output='complement'`` and ``'sign'`` give ``1 - d`` and ``1 - 2 d``
    with the gradient autograd gives through these maps, to the bit (the
    map's factor is folded into the slope: exact), in float32 as trained."""
    uniform = torch.rand(64, 2, generator=torch.Generator().manual_seed(0))
    grad_out = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))

    def run(fn):
        p = torch.tensor(0.3, requires_grad=learned)
        out = fn(p)
        grad = torch.autograd.grad((out * grad_out).sum(), p)[0] if learned else None
        return out.detach(), grad

    def mapped(p):
        draw = F.hard_relaxed_bernoulli(p, uniform, temperature)
        one = torch.ones((), dtype=draw.dtype)
        if output == "sign":
            return torch.add(one, draw, alpha=-2)
        return one - draw

    out, grad = run(
        lambda p: F.hard_relaxed_bernoulli(p, uniform, temperature, output=output)
    )
    ref, grad_ref = run(mapped)
    assert torch.equal(out, ref)
    assert set(out.unique().tolist()) == (
        {-1.0, 1.0} if output == "sign" else {0.0, 1.0}
    )
    if learned:
        assert grad != 0 and torch.equal(grad, grad_ref)


@pytest.mark.parametrize("learned", [True, False])
def test_hard_relaxed_bernoulli_mask_is_the_draw_and_its_gradient(learned):
    """``output='mask'``: the draw as booleans, and a relaxed draw that
    carries the draw's straight-through gradient to the bit (None when no
    gradient is to pass); no float draw made."""
    from torch.profiler import profile

    uniform = torch.rand(64, 2, generator=torch.Generator().manual_seed(0))
    grad_out = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    p = torch.tensor(0.3, requires_grad=learned)
    with profile() as prof:
        mask, relaxed = F.hard_relaxed_bernoulli(p, uniform, 0.5, output="mask")
    assert mask.dtype == torch.bool and torch.equal(mask, uniform < p)
    names = [event.name for event in prof.events()]
    assert names.count("aten::lt") == 1 and "aten::gt" not in names
    if not learned:
        assert relaxed is None
        return
    assert relaxed.shape == mask.shape and 0 < relaxed.min() < relaxed.max() < 1
    grad = torch.autograd.grad((relaxed * grad_out).sum(), p)[0]
    draw = F.hard_relaxed_bernoulli(p, uniform, 0.5)
    grad_ref = torch.autograd.grad((draw * grad_out).sum(), p)[0]
    assert grad != 0 and torch.equal(grad, grad_ref)


@pytest.mark.parametrize("output", ["draw", "complement", "sign", "mask"])
@pytest.mark.parametrize("temperature", [0.5, 0.25])
def test_hard_relaxed_bernoulli_logit_over_temperature_to_the_bit(output, temperature):
    """Given ``logit(p) / T`` for a temperature that is a power of two, the
    draw and the gradient to the logit are those given ``logit(p)``, to the
    bit (float32)."""
    uniform = torch.rand(64, 2, generator=torch.Generator().manual_seed(0))
    grad_out = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    p = torch.tensor(0.3)

    def run(scaled):
        logit = torch.logit(p, eps=F.LOGIT_EPS).requires_grad_()
        if scaled:
            out = F.hard_relaxed_bernoulli(
                p,
                uniform,
                temperature,
                output=output,
                logit_over_temperature=logit * (1 / temperature),
            )
        else:
            out = F.hard_relaxed_bernoulli(p, uniform, temperature, logit, output)
        value, carrier = (out[0], out[1]) if output == "mask" else (out, out)
        (grad,) = torch.autograd.grad((carrier * grad_out).sum(), logit)
        return value, grad

    value, grad = run(True)
    value_ref, grad_ref = run(False)
    assert torch.equal(value, value_ref)
    assert grad != 0 and torch.equal(grad, grad_ref)


def test_hard_relaxed_bernoulli_refuses_an_unknown_output():
    with pytest.raises(ValueError, match="output must be one of"):
        F.hard_relaxed_bernoulli(torch.tensor(0.3), torch.rand(3), 0.5, output="x")


def test_hard_relaxed_bernoulli_passes_a_gradient_through_every_draw():
    uniform = torch.rand(64, generator=torch.Generator().manual_seed(1))
    p = torch.full((64,), 0.4, requires_grad=True)
    F.hard_relaxed_bernoulli(p, uniform, temperature=0.5).sum().backward()
    assert torch.isfinite(p.grad).all() and (p.grad > 0).all()


@pytest.mark.parametrize("shape", [(), (16, 1), (16, 3)])
def test_hard_relaxed_bernoulli_gradient_is_the_binary_concrete_one(shape):
    """The fused gradient equals autograd's through the composed relaxation
    sigmoid((logit(p) + logit(1 - u)) / T), p clamped to [eps, 1 - eps]."""
    gen = torch.Generator().manual_seed(2)
    uniform = torch.rand(16, 3, generator=gen, dtype=torch.float64)
    weights = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    p0 = 0.05 + 0.9 * torch.rand(shape, generator=gen, dtype=torch.float64)
    for value in (p0, torch.zeros(shape, dtype=torch.float64)):  # 0: no gradient
        p = value.clone().requires_grad_(True)
        (weights * F.hard_relaxed_bernoulli(p, uniform, 0.3)).sum().backward()
        q = value.clone().requires_grad_(True)
        c = q.clamp(1e-6, 1 - 1e-6)
        logistic = torch.log1p(-uniform) - torch.log(uniform)
        soft = torch.sigmoid((torch.log(c) - torch.log1p(-c) + logistic) / 0.3)
        (weights * soft).sum().backward()
        torch.testing.assert_close(p.grad, q.grad)


def test_constants_made_while_predicting_serve_training():
    """Cached constants (time axes, spectral masks) are made outside
    inference mode: a first call under torch.inference_mode must not break
    a later differentiable call."""
    X = randn(2, 1, 211)  # a length no other test caches
    with torch.inference_mode():
        F.frequency_shift(X, torch.tensor([1.0, -1.0]), SFREQ)
        F.ft_surrogate(X, torch.tensor(0.5), torch.rand(2, 1, 106))
        F.smooth_time_mask(X, torch.tensor([3.0, 4.0]), torch.tensor(5.0))
    delta = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    noise = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    length = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    out = F.frequency_shift(X, delta, SFREQ).sum()
    out = out + F.ft_surrogate(X, noise, torch.rand(2, 1, 106)).pow(2).sum()
    out = out + F.smooth_time_mask(X, torch.tensor([3.0, 4.0]), length).sum()
    out.backward()
    assert all(torch.isfinite(t.grad).all() for t in (delta, noise, length))


@pytest.mark.parametrize("per_example", [False, True])
def test_frequency_shift_symmetric_is_the_composed_shift_to_the_bit(per_example):
    """frequency_shift_symmetric (what FrequencyShift applies, one operator
    fewer per backward pass) gives the values and gradients of
    frequency_shift(X, symmetric_range(u, bound)) to the bit, in float32."""
    X0 = randn(6, 2, 300, dtype=torch.float32)
    uniform = torch.rand(6, generator=torch.Generator().manual_seed(1))
    bound0 = torch.full((6,) if per_example else (), 2.5)
    grad_out = randn(6, 2, 300, seed=2, dtype=torch.float32)

    def run(fn):
        X = X0.clone().requires_grad_(True)
        bound = bound0.clone().requires_grad_(True)
        out = fn(X, bound)
        return (out.detach(), *torch.autograd.grad(out, (X, bound), grad_out))

    got = run(lambda X, b: F.frequency_shift_symmetric(X, uniform, b, SFREQ))
    ref = run(lambda X, b: F.frequency_shift(X, F.symmetric_range(uniform, b), SFREQ))
    for a, b in zip(got, ref, strict=True):
        assert torch.equal(a, b)
    assert got[2].abs().sum() > 0


@pytest.mark.parametrize("n_times", [50, 51])
@pytest.mark.parametrize("per_example", [False, True])
def test_spectral_ops_gradients_match_finite_differences(n_times, per_example):
    """frequency_shift and ft_surrogate compute their backward passes in the
    frequency domain (adjoint operators, Parseval): check them against
    finite differences, to X and to the per-example or shared parameters,
    for even and odd lengths and per-channel phases."""
    X = randn(4, 3, n_times).requires_grad_(True)
    shape = (4,) if per_example else ()
    delta = torch.randn(shape, dtype=torch.float64).requires_grad_(True)
    noise_shape = (4, 1, 1) if per_example else ()
    noise = torch.rand(noise_shape, dtype=torch.float64).requires_grad_(True)
    for n_phases in (1, 3):
        uniform = torch.rand(4, n_phases, n_times // 2 + 1, dtype=torch.float64)
        assert torch.autograd.gradcheck(
            lambda X, m, u=uniform: F.ft_surrogate(X, m, u), (X, noise)
        )
    assert torch.autograd.gradcheck(
        lambda X, d: F.frequency_shift(X, d, SFREQ), (X, delta)
    )


# ------------------------------------------------------------- involutions
@pytest.mark.parametrize("op", [F.sign_flip, F.time_reverse])
def test_flips_are_involutions(op):
    X = randn(4, 3, 50)
    out = op(X)
    assert not torch.equal(out, X)
    torch.testing.assert_close(op(out), X, rtol=0, atol=0)


def test_time_reverse_and_sign_flip_values():
    X = torch.arange(6.0).reshape(1, 2, 3)
    assert F.time_reverse(X).tolist() == [[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]]
    assert F.sign_flip(X).tolist() == (-X).tolist()


def test_channels_permute_reorders_channels():
    X = randn(2, 3, 10)
    permutation = [2, 0, 1]
    out = F.channels_permute(X, permutation)
    for i, source in enumerate(permutation):
        torch.testing.assert_close(out[:, i], X[:, source])
    inverse = [permutation.index(i) for i in range(3)]
    torch.testing.assert_close(F.channels_permute(out, inverse), X)
    swap = [1, 0, 2]  # a symmetric permutation is an involution
    torch.testing.assert_close(F.channels_permute(F.channels_permute(X, swap), swap), X)


# ------------------------------------------------------- identity at zero
def test_operations_are_the_identity_at_zero_parameters():
    X = randn(3, 2, 64)
    zero = torch.tensor(0.0, dtype=X.dtype)
    zeros = torch.zeros(3, dtype=X.dtype)
    torch.testing.assert_close(F.gaussian_noise(X, zero, randn(3, 2, 64, seed=1)), X)
    torch.testing.assert_close(F.frequency_shift(X, zeros, SFREQ), X)
    uniform = torch.rand(3, 1, 33, dtype=X.dtype)
    torch.testing.assert_close(F.ft_surrogate(X, zero, uniform), X)
    torch.testing.assert_close(F.smooth_time_mask(X, zeros + 10, zero), X)
    torch.testing.assert_close(F.channels_dropout(X, torch.zeros(3, 2)), X)
    torch.testing.assert_close(F.amplitude_scale(X, torch.zeros(3, 2)), X)
    shuffle = F.channels_shuffle(
        X,
        torch.zeros(3, 2),
        torch.tensor([[1, 0]] * 3),
        torch.tensor([[1, 0]] * 3),
    )
    torch.testing.assert_close(shuffle, X)


# ---------------------------------------------------------------- spectral
@pytest.mark.parametrize("delta", [2.0, -3.0, 0.5])
def test_frequency_shift_moves_the_spectral_peak_by_delta(delta):
    X = sinusoid(10.0)
    assert peak_frequency(X).item() == pytest.approx(10.0)
    out = F.frequency_shift(X, torch.tensor([delta], dtype=X.dtype), SFREQ)
    assert peak_frequency(out).item() == pytest.approx(10.0 + delta, abs=0.11)


def test_frequency_shift_is_per_example_and_differentiable():
    X = sinusoid(10.0, n=2)
    delta = torch.tensor([1.0, 4.0], dtype=X.dtype, requires_grad=True)
    out = F.frequency_shift(X, delta, SFREQ)
    peaks = peak_frequency(out)[:, 0].tolist()
    assert peaks == pytest.approx([11.0, 14.0], abs=0.11)
    out.pow(2).sum().backward()
    assert torch.isfinite(delta.grad).all() and (delta.grad != 0).all()


def test_ft_surrogate_keeps_the_amplitude_spectrum():
    X = randn(4, 2, 100)
    uniform = torch.rand(4, 1, 51, generator=torch.Generator().manual_seed(0))
    out = F.ft_surrogate(X, torch.tensor(1.0), uniform.double())
    assert (out - X).abs().max() > 0.1
    spectrum, original = torch.fft.rfft(out), torch.fft.rfft(X)
    torch.testing.assert_close(spectrum.abs(), original.abs())
    torch.testing.assert_close(spectrum[..., 0], original[..., 0])  # DC kept
    torch.testing.assert_close(spectrum[..., -1], original[..., -1])  # Nyquist


# ------------------------------------------------------------- time domain
def test_gaussian_noise_per_example_std():
    X, noise = randn(3, 2, 20), randn(3, 2, 20, seed=1)
    std = torch.tensor([0.0, 1.0, 2.0], dtype=X.dtype)
    out = F.gaussian_noise(X, std, noise)
    torch.testing.assert_close(out - X, std.reshape(3, 1, 1) * noise)


def test_smooth_time_mask_zeroes_the_window_only():
    X = torch.ones(1, 1, 1000, dtype=torch.float64)
    out = F.smooth_time_mask(X, torch.tensor([400.0]), torch.tensor(200.0))
    assert out[0, 0, 420:580].abs().max() < 1e-3
    torch.testing.assert_close(out[0, 0, :380], X[0, 0, :380], atol=1e-3, rtol=0)
    torch.testing.assert_close(out[0, 0, 620:], X[0, 0, 620:], atol=1e-3, rtol=0)


def test_amplitude_scale_is_a_power_of_two():
    X = torch.ones(1, 2, 5)
    out = F.amplitude_scale(X, torch.tensor([[1.0, -1.0]]))
    torch.testing.assert_close(out[0, :, 0], torch.tensor([2.0, 0.5]))


# ---------------------------------------------------------------- channels
def test_channels_dropout_zeroes_the_dropped_channels():
    X = randn(2, 3, 10)
    drop = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    out = F.channels_dropout(X, drop)
    assert out[0, 0].abs().sum() == 0 and out[1, 1:].abs().sum() == 0
    torch.testing.assert_close(out[0, 1:], X[0, 1:])
    torch.testing.assert_close(out[1, 0], X[1, 0])


def test_masked_channel_permutation_moves_only_selected_channels():
    generator = torch.Generator().manual_seed(0)
    selected = torch.rand(50, 8, generator=generator) < 0.5
    keys = torch.rand(50, 8, generator=generator)
    perm = F.masked_channel_permutation(selected, keys)
    index = torch.arange(8).expand(50, 8)
    assert torch.equal(perm.sort(dim=1).values, index)  # each row a permutation
    assert torch.equal(perm[~selected], index[~selected])  # the others stay
    assert selected[torch.arange(50)[:, None], perm][selected].all()
    assert (perm[selected] != index[selected]).any()


def test_channels_shuffle_values_and_gradient():
    X = randn(1, 3, 10)
    permutation = torch.tensor([[2, 1, 0]])
    partners = torch.tensor([[2, 0, 0]])
    shuffle = torch.tensor([[1.0, 0.0, 1.0]], requires_grad=True)
    out = F.channels_shuffle(X, shuffle, permutation, partners)
    torch.testing.assert_close(out[0], X[0, [2, 1, 0]])
    out.sum().backward()  # every channel has a partner: a gradient everywhere
    assert (shuffle.grad != 0).all()


# ---------------------------------------------------------------- rotations
@pytest.mark.parametrize("axis", ["x", "y", "z"])
def test_rotation_matrices_are_rotations(axis):
    angles = torch.tensor([0.0, 30.0, -90.0, 180.0], dtype=torch.float64)
    R = F.make_rotation_matrices(axis, angles)
    assert R.shape == (4, 3, 3)
    eye = torch.eye(3, dtype=R.dtype).expand(4, 3, 3)
    torch.testing.assert_close(R @ R.transpose(1, 2), eye)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(4, dtype=R.dtype))
    torch.testing.assert_close(R[0], eye[0])


def test_rotation_by_90_degrees_around_z():
    R = F.make_rotation_matrices("z", torch.tensor([90.0], dtype=torch.float64))[0]
    x_axis = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(R @ x_axis, torch.tensor([0.0, 1.0, 0.0]).double())
    with pytest.raises(ValueError, match="axis"):
        F.make_rotation_matrices("w", torch.zeros(1))


def test_spline_g_interpolation_matches_the_legendre_series():
    """g (and its derivative, for the gradient) from the interpolated table
    equal the 50-term series they replace."""
    cosang = torch.cat(
        [
            2 * torch.rand(5000, generator=torch.Generator().manual_seed(0)) - 1,
            torch.tensor([-1.0, 0.0, 1.0, 1 - 1e-12]),
        ]
    ).double()
    value, deriv = F._legendre_series(cosang)
    x = cosang.clone().requires_grad_(True)
    ours = F._legendre_g(x)
    ours.sum().backward()
    torch.testing.assert_close(ours, value, atol=1e-15, rtol=0)
    torch.testing.assert_close(x.grad, deriv, atol=1e-11, rtol=0)


def test_sensors_rotation_is_the_identity_at_zero_degrees():
    positions = torch.as_tensor(standard_positions(TEN_TWENTY), dtype=torch.float64)
    unit, g_from, weights = F.spherical_spline_inverse(positions)
    torch.testing.assert_close(unit.norm(dim=1), torch.ones(len(TEN_TWENTY)).double())
    X = randn(2, len(TEN_TWENTY), 30, dtype=torch.float32)
    still = F.make_rotation_matrices("z", torch.zeros(2, dtype=torch.float64))
    out = F.sensors_rotation(X, still, unit, g_from, weights)
    torch.testing.assert_close(out, X, atol=1e-6, rtol=0)
    turned = F.make_rotation_matrices("z", torch.tensor([0.0, 20.0]).double())
    out = F.sensors_rotation(X, turned, unit, g_from, weights)
    torch.testing.assert_close(out[0], X[0], atol=1e-6, rtol=0)
    assert (out[1] - X[1]).abs().max() > 1e-2


# ------------------------------------------------------------ fast paths
# (48, 4, 3000) has more elements than one cache-sized chunk: the CPU backward
# passes run in chunks; (6, 3, 50) goes through the one-pass branch.
FAST_PATH_SHAPES = [(6, 3, 50), (48, 4, 3000)]


def _value_and_grads(fn, inputs, grad_out, create_graph=False):
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    out = fn(*inputs)
    grads = torch.autograd.grad(out, inputs, grad_out, create_graph=create_graph)
    return out.detach(), [g.detach() for g in grads]


def _assert_same(fast, generic, inputs, grad_out, rtol=1e-5, atol=1e-4):
    out, grads = _value_and_grads(fast, inputs, grad_out)
    out_ref, grads_ref = _value_and_grads(generic, inputs, grad_out)
    assert torch.equal(out, out_ref)  # the values are exactly the same
    for grad, ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(grad, ref, rtol=rtol, atol=atol)
    # a double backward (create_graph) goes through the differentiable form
    _, grads_2 = _value_and_grads(fast, inputs, grad_out, create_graph=True)
    for grad, ref in zip(grads_2, grads_ref, strict=True):
        torch.testing.assert_close(grad, ref, rtol=rtol, atol=atol)


def _gates(n, seed=1):
    return (
        torch.rand(n, 1, 1, generator=torch.Generator().manual_seed(seed)) < 0.5
    ).float()


@pytest.mark.parametrize("shape", FAST_PATH_SHAPES)
def test_gated_sign_flip_matches_lerp(shape):
    X, grad_out = randn(*shape, dtype=torch.float32), randn(*shape, seed=2).float()
    _assert_same(
        F.gated_sign_flip,
        lambda X, gate: torch.lerp(X, F.sign_flip(X), gate),
        [X, _gates(shape[0])],
        grad_out,
    )


@pytest.mark.parametrize("shape", FAST_PATH_SHAPES)
@pytest.mark.parametrize("name", ["time_reverse", "swap_channels", "identity_view"])
def test_gated_involution_matches_lerp(shape, name):
    X, grad_out = randn(*shape, dtype=torch.float32), randn(*shape, seed=2).float()
    kept = grad_out.clone()
    if name == "time_reverse":
        op = F.time_reverse
    elif name == "identity_view":  # an involution that returns a view of its input

        def op(part):
            return part.view_as(part)

    else:
        swaps = {3: [1, 0, 2], 4: [1, 0, 3, 2]}[shape[1]]  # made of swaps

        def op(part):
            return F.channels_permute(part, swaps)

    _assert_same(
        lambda X, gate: F.gated_involution(X, gate, op),
        lambda X, gate: torch.lerp(X, op(X), gate),
        [X, _gates(shape[0])],
        grad_out,
    )
    assert torch.equal(grad_out, kept)  # the backward pass works out of place


@pytest.mark.parametrize("shape", FAST_PATH_SHAPES)
def test_channel_scaling_matches_the_product(shape):
    """amplitude_scale and channels_dropout (the cache-friendly backward on
    large CPU batches) against the plain broadcast product."""
    X, grad_out = randn(*shape, dtype=torch.float32), randn(*shape, seed=2).float()
    log2 = randn(*shape[:2], seed=3).float()
    _assert_same(
        F.amplitude_scale,
        lambda X, v: X * torch.exp2(v).unsqueeze(-1),
        [X, log2],
        grad_out,
    )
    drop = (randn(*shape[:2], seed=4) > 0).float()
    _assert_same(
        F.channels_dropout,
        lambda X, d: X * (1 - d).unsqueeze(-1),
        [X, drop],
        grad_out,
    )


@pytest.mark.parametrize("shape", FAST_PATH_SHAPES)
def test_channels_shuffle_matches_gather_and_lerp(shape):
    """The row-copy implementation against the gather + lerp definition."""
    n_batch, n_channels, n_times = shape
    generator = torch.Generator().manual_seed(5)
    shuffle = (torch.rand(n_batch, n_channels, generator=generator) < 0.5).float()
    keys = torch.rand(n_batch, n_channels, generator=generator)
    permutation = F.masked_channel_permutation(shuffle > 0.5, keys)
    offset = torch.randint(1, n_channels, (n_batch, 1), generator=generator)
    partners = (torch.arange(n_channels) + offset) % n_channels

    def generic(X, shuffle):
        source = torch.where(shuffle.detach() > 0.5, permutation, partners)
        moved = torch.gather(X, 1, source.unsqueeze(-1).expand(-1, -1, n_times))
        return torch.lerp(X, moved, shuffle.unsqueeze(-1))

    X, grad_out = randn(*shape, dtype=torch.float32), randn(*shape, seed=2).float()
    _assert_same(
        lambda X, shuffle: F.channels_shuffle(X, shuffle, permutation, partners),
        generic,
        [X, shuffle],
        grad_out,
    )


def test_masked_channel_permutation_keeps_unselected_channels_in_bfloat16():
    # 300 channels: more integers than bfloat16 holds exactly
    keys = torch.rand(8, 300, generator=torch.Generator().manual_seed(0))
    selected = torch.zeros(8, 300, dtype=torch.bool)
    selected[:, :5] = True
    perm = F.masked_channel_permutation(selected, keys.to(torch.bfloat16))
    assert (perm[:, 5:] == torch.arange(5, 300)).all()
    assert (perm[:, :5].sort(dim=1).values == torch.arange(5)).all()


def _policy_leaves():
    """A layer's logits and raw magnitudes (one out of range each side)."""
    alpha = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64, requires_grad=True)
    raws = [
        torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for v in (-0.2, 0.4, 1.3)
    ]
    return alpha, raws


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_layer_policy_matches_one_projection_per_use(sign):
    """Weights, magnitudes and products of one node have the values and the
    gradients of a softmax and of one straight-through projection per use
    (candidate and regulariser), out-of-range raw magnitudes included, where
    each use's gradient is blocked on its own."""
    from braindecode_augnet.base import unit_interval

    coef = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    alpha, raws = _policy_leaves()
    weights, magnitudes, products = F.layer_policy(alpha, 0.3, raws)
    loss = (weights * coef).sum() + sign * sum(
        c * m for c, m in zip(coef.flip(0), magnitudes)
    )
    (loss - sign * products.pow(2).sum().sqrt()).backward()

    alpha_ref, raws_ref = _policy_leaves()
    weights_ref = torch.softmax(alpha_ref / 0.3, dim=0)
    magnitudes_ref = [unit_interval(r) for r in raws_ref]
    products_ref = weights_ref * torch.stack([unit_interval(r) for r in raws_ref])
    loss_ref = (weights_ref * coef).sum() + sign * sum(
        c * m for c, m in zip(coef.flip(0), magnitudes_ref)
    )
    (loss_ref - sign * products_ref.pow(2).sum().sqrt()).backward()

    torch.testing.assert_close(weights, weights_ref)
    torch.testing.assert_close(products, products_ref)
    assert [m.item() for m in magnitudes] == [0.0, 0.4, 1.0]
    torch.testing.assert_close(alpha.grad, alpha_ref.grad)
    for raw, ref in zip(raws, raws_ref):
        torch.testing.assert_close(raw.grad, ref.grad)
    # the out-of-range magnitudes are blocked on one side only
    assert raws[0].grad != 0 or raws[2].grad != 0


def test_layer_policy_unused_outputs_pass_no_gradient():
    alpha = torch.zeros(2, requires_grad=True)
    raws = [
        torch.tensor(0.5, requires_grad=True),
        torch.tensor(0.2, requires_grad=True),
    ]
    weights, magnitudes, _ = F.layer_policy(alpha, 0.05, raws)
    magnitudes[1].backward()
    assert raws[0].grad == 0 and raws[1].grad == 1 and alpha.grad is None


@pytest.mark.parametrize("per_example", [False, True])
def test_gaussian_noise_gradients_match_finite_differences(per_example):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(3, 2, 8, dtype=torch.float64, generator=generator)
    noise = torch.randn(3, 2, 8, dtype=torch.float64, generator=generator)
    std = torch.rand(3 if per_example else (), dtype=torch.float64, generator=generator)
    inputs = (X.requires_grad_(), std.requires_grad_(), noise.requires_grad_())
    assert torch.autograd.gradcheck(F.gaussian_noise, inputs)


# ------------------------------------------------- fewer operators, same bits
@pytest.mark.parametrize("n_times, n_fft", [(50, None), (51, None), (50, 64)])
def test_fft_helpers_are_torch_fft_to_the_bit(n_times, n_fft):
    X = randn(4, 3, n_times, dtype=torch.float32)
    spectrum = F._rfft(X, n_fft)
    assert torch.equal(spectrum, torch.fft.rfft(X, n=n_fft, dim=-1))
    n = n_fft or n_times
    assert torch.equal(F._irfft(spectrum, n), torch.fft.irfft(spectrum, n=n, dim=-1))


@pytest.mark.parametrize(
    "shape, target",
    [
        ((4, 3, 50), ()),
        ((4, 3, 50), (4, 1, 1)),
        ((4, 3, 50), (4, 1, 50)),
        ((4, 3, 50), (3, 1)),
        ((4, 3, 50), (4, 3, 50)),
        ((5,), ()),
    ],
)
def test_sum_to_is_sum_to_size_to_the_bit(shape, target):
    values = randn(*shape, dtype=torch.float32) * 1e3
    summed = F._sum_to(values, target)
    assert summed.shape == torch.Size(target)
    assert torch.equal(summed, values.sum_to_size(target))


def test_elements_are_the_elements_of_unbind():
    vector = randn(10, dtype=torch.float32)[1::3]  # strided, with an offset
    elements = F._elements(vector)
    assert all(e.ndim == 0 for e in elements)
    assert torch.equal(torch.stack(elements), torch.stack(vector.unbind()))


@pytest.mark.parametrize("shape", [(6, 3, 50), (5,), (), (0, 2, 3)])
def test_mixture_matches_the_product_of_the_stacked_outputs(shape):
    """Values and gradients (to the bit) of weights @ stack(outputs), through
    autograd's matrix product; blocks of rows, scalars and empty batches."""

    def draw(seed):
        return randn(math.prod(shape), seed=seed, dtype=torch.float32).view(shape)

    weights = torch.softmax(randn(4, seed=1, dtype=torch.float32), dim=0)
    outputs = [draw(2 + k) for k in range(4)]
    grad_out = draw(9)

    def reference(weights, *outputs):
        stacked = torch.stack(outputs).view(len(outputs), -1)
        return torch.mm(weights.view(1, -1), stacked).view(shape)

    def fast(weights, *outputs):
        return F.mixture(weights, outputs)

    out, grads = _value_and_grads(fast, [weights, *outputs], grad_out)
    out_ref, grads_ref = _value_and_grads(reference, [weights, *outputs], grad_out)
    assert torch.equal(out, out_ref)
    for grad, ref in zip(grads, grads_ref, strict=True):
        assert torch.equal(grad, ref)
    if math.prod(shape):  # differentiable again (see _Mixture)
        two = torch.softmax(weights[:2], dim=0).double().requires_grad_()
        pair = [out.double() for out in outputs[:2]]
        assert torch.autograd.gradgradcheck(lambda w: fast(w, *pair), [two])


def test_concatenated_norm_is_the_norm_of_the_concatenation_to_the_bit():
    generator = torch.Generator().manual_seed(0)
    for scale in (1e-4, 1.0, 1e3, 0.0):
        parts = [
            (torch.rand(n, generator=generator) * scale).requires_grad_()
            for n in (3, 5, 5)
        ]
        upstream = torch.randn((), generator=generator)
        norm = F.concatenated_norm(parts)
        ref = torch.cat(parts).norm()
        grads = torch.autograd.grad(norm, parts, upstream)
        grads_ref = torch.autograd.grad(ref, parts, upstream)
        assert torch.equal(norm, ref)
        assert all(torch.equal(g, r) for g, r in zip(grads, grads_ref, strict=True))
    parts = [torch.rand(n, dtype=torch.float64).requires_grad_() for n in (2, 3)]
    assert torch.autograd.gradgradcheck(lambda *p: F.concatenated_norm(p), parts)


def test_channel_scaling_with_a_frozen_scale_is_the_product():
    """Large CPU batch, gradient to X only (a frozen magnitude): one product."""
    X = randn(48, 4, 3000, dtype=torch.float32).requires_grad_()
    scale = torch.rand(48, 4, 1, generator=torch.Generator().manual_seed(1))
    grad_out = randn(48, 4, 3000, seed=2, dtype=torch.float32)
    (grad,) = torch.autograd.grad(F._scale_rows(X, scale), X, grad_out)
    assert torch.equal(grad, grad_out * scale)


def test_rfft_helper_pads_and_never_crops():
    with pytest.raises(ValueError, match="n_fft=40 is below the length 50"):
        F._rfft(randn(2, 1, 50), 40)


@pytest.mark.parametrize("delta_shape", [(), (4,)])
def test_frequency_shift_keeps_the_shape_of_any_batch(delta_shape):
    """(batch, times) and (batch, channels, times): one shift per example
    (or for all), broadcast over the trailing axes."""
    for shape in [(4, 64), (4, 2, 64)]:
        X = randn(*shape)
        delta = torch.full(delta_shape, 2.0, dtype=torch.float64)
        assert F.frequency_shift(X, delta, SFREQ).shape == X.shape


def test_fused_nodes_fall_back_on_autograd_under_torch_compile():
    """Under dynamo the policy and the regulariser's norm use autograd's own
    operators (storage offsets and cached constants are not traced): whole
    graphs, the same values and gradients."""
    torch.compiler.reset()
    parts = [torch.rand(3, requires_grad=True), torch.rand(2, requires_grad=True)]
    norm = torch.compile(
        lambda a, b: F.concatenated_norm([a, b]), backend="eager", fullgraph=True
    )
    assert torch.equal(norm(*parts), torch.cat(parts).norm())
    raws = [
        torch.tensor(0.3, requires_grad=True),
        torch.tensor(1.2, requires_grad=True),
    ]
    alpha = torch.zeros(2, requires_grad=True)

    def policy(alpha, *raws):
        weights, op_values, products = F.layer_policy(
            alpha, 0.05, raws, [(0.0, 2.0), (0.0, 1.0)]
        )
        return weights, op_values[0] + op_values[1] + products.sum()

    compiled = torch.compile(policy, backend="eager", fullgraph=True)
    for fn in (compiled, policy):
        for tensor in (alpha, *raws):
            tensor.grad = None
        weights, total = fn(alpha, *raws)
        total.backward()
        grads = [t.grad.clone() for t in (alpha, *raws)]
        if fn is compiled:
            expected = (weights.detach(), total.detach(), grads)
    assert torch.equal(weights, expected[0]) and torch.equal(total, expected[1])
    assert all(torch.equal(a, b) for a, b in zip(grads, expected[2], strict=True))
    torch.compiler.reset()


@pytest.mark.parametrize("temperatures", [(0.05, 0.05, 0.05), (0.05, 0.3, 1.0)])
def test_layers_policy_is_one_layer_policy_per_layer_to_the_bit(temperatures):
    """Several layers' policies in one node (padded rows of one matrix) have
    the values and gradients of one layer_policy per layer, to the bit, with
    layers of different sizes and temperatures, out-of-range magnitudes,
    and outputs left unused: a layer whose outputs pass no gradient gets
    None, as from its own node."""
    generator = torch.Generator().manual_seed(0)
    sizes, ranges = (3, 5, 2), [(0.0, 2.0), (0.0, 1.0), (0.5, 100.0)]

    def leaves():
        g = torch.Generator().manual_seed(1)
        alphas = [torch.randn(k, generator=g).requires_grad_() for k in sizes]
        raws = [
            [
                (torch.rand((), generator=g) * 1.6 - 0.3).requires_grad_()
                for _ in range(k)
            ]
            for k in sizes
        ]
        mag_ranges = [[ranges[i % 3] for i in range(k)] for k in sizes]
        return alphas, raws, mag_ranges

    coefs = [torch.randn(k, generator=generator) for k in sizes]

    def loss(policies):
        total = 0
        for layer, ((weights, op_values, products), coef) in enumerate(
            zip(policies, coefs)
        ):
            if layer == 2:  # unused: no gradient to this layer
                continue
            total = total + (weights * coef).sum() + op_values[0] * coef[-1]
            total = total - products.pow(2).sum()
        return total

    alphas, raws, mag_ranges = leaves()
    together = F.layers_policy(alphas, temperatures, raws, mag_ranges)
    loss(together).backward()
    alphas_ref, raws_ref, _ = leaves()
    apart = [
        F.layer_policy(a, t, r, m)
        for a, t, r, m in zip(alphas_ref, temperatures, raws_ref, mag_ranges)
    ]
    loss(apart).backward()
    for (w, v, p), (w_ref, v_ref, p_ref) in zip(together, apart):
        assert torch.equal(w, w_ref) and torch.equal(p, p_ref)
        assert all(torch.equal(a, b) for a, b in zip(v, v_ref, strict=True))
    for a, a_ref in zip(alphas, alphas_ref):
        assert (a.grad is None) == (a_ref.grad is None)
        assert a.grad is None or torch.equal(a.grad, a_ref.grad)
    for layer, layer_ref in zip(raws, raws_ref):
        for r, r_ref in zip(layer, layer_ref):
            assert (r.grad is None) == (r_ref.grad is None)
            assert r.grad is None or torch.equal(r.grad, r_ref.grad)
    assert alphas[2].grad is None and alphas[0].grad is not None


def test_augmentation_module_computes_its_layers_policies_in_one_node():
    """The EEG preset's three layers run one softmax in the forward pass
    (one per layer before) and one logit for their relaxed draws'
    probabilities, with the outputs and gradients of layers that each
    compute their own policy."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from braindecode_augnet import augmentation_regularizer, eeg_augmentation

    class Softmaxes(TorchDispatchMode):
        n = logits = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.n += func.overloadpacket is torch.ops.aten._softmax
            self.logits += func.overloadpacket is torch.ops.aten.logit
            return func(*args, **(kwargs or {}))

    def build():
        return eeg_augmentation(sfreq=100.0, n_chans=2, random_state=0).train()

    X = randn(8, 2, 300, dtype=torch.float32)
    module = build()
    with Softmaxes() as softmaxes:
        out = module(X)
    assert softmaxes.n == 1
    # the logits of the 5 relaxed draws' uniforms, and of every probability
    # at once (one per probability before)
    assert softmaxes.logits == 5 + 1
    (
        out.pow(2).mean() - augmentation_regularizer(module, reuse_forward=True)
    ).backward()
    apart = build()
    Y = X
    for layer in apart.layers:
        Y = layer(Y)
    (Y.pow(2).mean() - augmentation_regularizer(apart, reuse_forward=True)).backward()
    assert torch.equal(out, Y)
    for p, q in zip(module.parameters(), apart.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad)


def test_hard_draw_compiles_as_a_whole_graph():
    """The hard draw (one comparison written into a float tensor in eager
    mode) traces under dynamo without a graph break, with the same 0/1."""
    torch.compiler.reset()
    uniform = torch.rand(50, generator=torch.Generator().manual_seed(0))
    draw = torch.compile(
        lambda p, u: F.hard_relaxed_bernoulli(p, u, 0.5),
        backend="eager",
        fullgraph=True,
    )
    for p in (torch.tensor(0.3), torch.tensor(0.3, requires_grad=True)):
        expected = F.hard_relaxed_bernoulli(p, uniform, 0.5)
        assert torch.equal(draw(p, uniform), expected)
        assert torch.equal(expected, (uniform < p).float())
    torch.compiler.reset()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_smooth_time_mask_at_is_the_composed_mask_to_the_bit(dtype):
    """One node with the values and gradients (to X, the fractions and the
    length) of the mask composed of autograd's operators at
    ``fraction * (times - length)``; gradcheck in float64."""
    generator = torch.Generator().manual_seed(0)
    X0 = torch.randn(6, 2, 300, generator=generator, dtype=dtype)
    fraction0 = torch.rand(6, generator=generator, dtype=dtype)
    coef = torch.randn(6, 2, 300, generator=generator, dtype=dtype)

    def run(fused):
        X = X0.clone().requires_grad_()
        fraction = fraction0.clone().requires_grad_()
        length = torch.tensor(37.3, dtype=dtype, requires_grad=True)
        if fused:
            out = F.smooth_time_mask_at(X, fraction, length)
        else:
            start = fraction * (torch.tensor(300.0, dtype=dtype) - length)
            out = F.smooth_time_mask(X, start, length)
        (out * coef).sum().backward()
        return out, X.grad, fraction.grad, length.grad

    for a, b in zip(run(True), run(False), strict=True):
        assert torch.equal(a, b)
    if dtype == torch.float64:
        inputs = (
            X0[:2, :, :40].clone().requires_grad_(),
            fraction0[:2].clone().requires_grad_(),
            torch.tensor(7.5, dtype=dtype, requires_grad=True),
        )
        assert torch.autograd.gradcheck(F.smooth_time_mask_at, inputs)


def test_layers_policy_logits_are_each_op_values_logit_to_the_bit():
    """The relaxed Bernoulli's logits, computed by the policy for all
    candidates at once, have the values and the gradients (through the op
    values to the raw magnitudes) of one logit per candidate."""
    sizes, ranges = (3, 2), [(0.0, 0.5), (0.0, 1.0), (0.0, 0.5)]

    def leaves():
        g = torch.Generator().manual_seed(2)
        alphas = [torch.randn(k, generator=g).requires_grad_() for k in sizes]
        draws = [torch.rand(k, generator=g) * 1.4 - 0.2 for k in sizes]
        raws = [[r.requires_grad_() for r in layer.unbind()] for layer in draws]
        return alphas, raws, [ranges[:k] for k in sizes]

    coef = torch.randn(5, generator=torch.Generator().manual_seed(3))
    alphas, raws, mag_ranges = leaves()
    policies = F.layers_policy(alphas, (0.05, 0.5), raws, mag_ranges, logits=True)
    logits = [v for policy in policies for v in policy[3]]
    (torch.stack(logits) * coef).sum().backward()
    alphas_ref, raws_ref, _ = leaves()
    reference = F.layers_policy(alphas_ref, (0.05, 0.5), raws_ref, mag_ranges)
    op_values = [v for policy in reference for v in policy[1]]
    logits_ref = [torch.logit(v, eps=F.LOGIT_EPS) for v in op_values]
    (torch.stack(logits_ref) * coef).sum().backward()
    assert all(torch.equal(a, b) for a, b in zip(logits, logits_ref, strict=True))
    for layer, layer_ref in zip(raws, raws_ref):
        for r, r_ref in zip(layer, layer_ref):
            assert torch.equal(r.grad, r_ref.grad)
    assert all(a.grad is None for a in alphas)


@pytest.mark.parametrize("with_inverse", [True, False])
def test_gather_rows_is_index_select_and_split_with_their_gradients(with_inverse):
    """gather_rows (the sampled mode's regrouping of the examples) gives the
    pieces of X.index_select(0, order).split(sizes) and, through pieces that
    are used, unused or empty, the gradient autograd gives, in one write or
    read of the rows (with or without the inverse permutation)."""
    X0 = randn(7, 2, 5, dtype=torch.float32)
    order = torch.tensor([3, 0, 6, 1, 5, 2, 4])
    sizes = [3, 0, 2, 2]
    weights = [randn(k, 2, 5, seed=k + 1, dtype=torch.float32) for k in sizes]
    inverse = F.inverse_permutation(order) if with_inverse else None
    assert torch.equal(order[F.inverse_permutation(order)], torch.arange(7))

    def run(split):
        X = X0.clone().requires_grad_(True)
        pieces = split(X)
        # the third piece is not used: its gradient is None
        loss = sum(
            (p * w).sum() for k, (p, w) in enumerate(zip(pieces, weights)) if k != 2
        )
        loss.backward()
        return [p.detach() for p in pieces], X.grad

    pieces, grad = run(lambda X: F.gather_rows(X, order, sizes, inverse))
    pieces_ref, grad_ref = run(lambda X: X.index_select(0, order).split(sizes))
    assert all(torch.equal(a, b) for a, b in zip(pieces, pieces_ref, strict=True))
    assert torch.equal(grad, grad_ref)


def test_layers_policy_floors_feed_the_choice_gate_to_the_bit():
    """The weights floored at 1e-3 for the sampled mode's gates, computed by
    the policy for all the layers at once: without a gradient, and the
    gates' gradients to the weights those of the gates flooring their own."""
    alphas = [torch.tensor([0.0, -0.3, 0.4]), torch.tensor([-0.5, 0.5])]
    alphas = [a.requires_grad_() for a in alphas]
    raws = [[torch.tensor(0.2)] * 3, [torch.tensor(0.4)] * 2]
    policies = F.layers_policy(alphas, (0.05, 0.05), raws, floors=True)
    X = randn(6, 2, 5, dtype=torch.float32)
    out = randn(6, 2, 5, seed=1, dtype=torch.float32)
    choice = torch.tensor([0, 1, 1, 0, 1, 0])
    for policy in policies:
        weights, floor = policy[0], policy[-1]
        assert not floor.requires_grad
        assert torch.equal(floor, weights.detach().clamp_min(1e-3))
        assert floor.min() == 1e-3 or weights.min() >= 1e-3
    weights, floor = policies[1][0], policies[1][-1]
    gated = F.choice_gate(X, out, weights, choice, floor)
    grad = torch.autograd.grad((gated * out).sum(), alphas[1], retain_graph=True)[0]
    ref = F.choice_gate(X, out, weights, choice)
    grad_ref = torch.autograd.grad((ref * out).sum(), alphas[1])[0]
    assert grad.abs().sum() > 0 and torch.equal(grad, grad_ref)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_layer_policy_blocks_each_use_on_its_own_with_op_ranges(sign):
    """With op ranges (the two uses of each magnitude, the candidate's op
    value and the regulariser's product, blocked as the halves of one
    tensor): the gradients of one straight-through projection per use,
    out-of-range raw magnitudes included."""
    from braindecode_augnet.base import unit_interval

    ranges = [(0.0, 2.0), (0.0, 0.5), (0.0, 1.0)]

    coef = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    alpha, raws = _policy_leaves()
    weights, op_values, products = F.layer_policy(alpha, 0.3, raws, ranges)
    loss = (weights * coef).sum() + sign * sum(
        c * v for c, v in zip(coef.flip(0), op_values)
    )
    (loss - sign * products.pow(2).sum().sqrt()).backward()

    alpha_ref, raws_ref = _policy_leaves()
    weights_ref = torch.softmax(alpha_ref / 0.3, dim=0)
    op_values_ref = [
        lo + (hi - lo) * unit_interval(r) for (lo, hi), r in zip(ranges, raws_ref)
    ]
    products_ref = weights_ref * torch.stack([unit_interval(r) for r in raws_ref])
    loss_ref = (weights_ref * coef).sum() + sign * sum(
        c * v for c, v in zip(coef.flip(0), op_values_ref)
    )
    (loss_ref - sign * products_ref.pow(2).sum().sqrt()).backward()

    torch.testing.assert_close(alpha.grad, alpha_ref.grad)
    for raw, ref in zip(raws, raws_ref):
        torch.testing.assert_close(raw.grad, ref.grad)
    assert raws[0].grad != 0 or raws[2].grad != 0


@pytest.mark.parametrize("n_times", [3000, 301])
def test_smooth_time_mask_at_is_the_composed_mask_to_the_bit_at_any_length(n_times):
    """smooth_time_mask_at (one node, its two edges as the halves of one
    tensor) gives the values and the gradients (to X and to the length) of
    smooth_time_mask at fraction * (times - length), to the bit (float32;
    lengths whose rows end in a partial vector included)."""
    X0 = randn(50, 2, n_times, dtype=torch.float32)
    fraction = torch.rand(50, generator=torch.Generator().manual_seed(1))
    grad_out = randn(50, 2, n_times, seed=2, dtype=torch.float32)

    def run(fn):
        X = X0.clone().requires_grad_(True)
        length = torch.tensor(n_times / 7).requires_grad_(True)
        out = fn(X, length)
        return (out.detach(), *torch.autograd.grad(out, (X, length), grad_out))

    got = run(lambda X, length: F.smooth_time_mask_at(X, fraction, length))
    ref = run(
        lambda X, length: F.smooth_time_mask(
            X, fraction * (torch.tensor(float(n_times)) - length), length
        )
    )
    for a, b in zip(got, ref, strict=True):
        assert torch.equal(a, b)
    assert got[2] != 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masked_channel_permutation_sorts_both_orders_at_once(dtype):
    """The positions and the sources sorted as the rows of one tensor give
    the permutation of two separate sorts (positions by index, sources by
    key), whatever the selection."""
    g = torch.Generator().manual_seed(0)
    keys = torch.rand(16, 64, generator=g).to(dtype)
    selected = torch.rand(16, 64, generator=g) < 0.4
    selected[0], selected[1] = False, True  # none and all
    n = keys.shape[1]
    index, after = torch.arange(n), torch.arange(n, 2 * n)
    positions = torch.argsort(torch.where(selected, index, after), dim=1)
    above = torch.arange(2, n + 2, dtype=dtype)
    sources = torch.argsort(torch.where(selected, keys, above), dim=1, stable=True)
    ref = torch.empty_like(positions).scatter_(1, positions, sources)
    assert torch.equal(F.masked_channel_permutation(selected, keys), ref)


@pytest.mark.parametrize("n_channels", [1, 2, 3, 5])
def test_channels_shuffle_partners_as_the_general_formula(n_channels):
    """ChannelsShuffle's partners, fixed for one or two channels (no
    arithmetic on the draws there), are those of the general formula
    (index + 1 + floor(u (C - 1))) % C, from the same draws."""
    from braindecode_augnet import transforms as T

    X = torch.randn(7, n_channels, 20, generator=torch.Generator().manual_seed(0))
    params = T.ChannelsShuffle(random_state=0).sample_params(X)
    draws = T.ChannelsShuffle(random_state=0)._rng.uniform_parts(
        [(7,), (7, n_channels), (7, 1), (7, n_channels)], X
    )
    offset = (draws[2] * (n_channels - 1)).long()
    expected = (torch.arange(1, n_channels + 1) + offset) % n_channels
    assert torch.equal(params["partners"], expected)
    assert torch.equal(params["keys"], draws[1])
    assert torch.equal(params["u"], draws[3])
