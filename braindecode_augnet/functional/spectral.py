"""Operations of the spectral transforms, through the real FFT.

Those of :mod:`braindecode_augnet.transforms.spectral`.
"""

import math

import torch
from torch.autograd.function import once_differentiable

from ._tensor import (
    _as_batch_column,
    _cast,
    _constant,
    _halves,
    _sum_to,
    is_compiling,
    scalar,
)
from .gates import symmetric_range

__all__ = [
    "frequency_shift",
    "frequency_shift_symmetric",
    "ft_surrogate",
]


def _nextpow2(n):
    return 1 << (int(n) - 1).bit_length()


def frequency_shift(X, delta_freq, sfreq):
    """Shift the spectrum of every signal by ``delta_freq`` Hz.

    Same single-sideband modulation of the analytic signal as braindecode's
    ``frequency_shift`` (zero-padding to the next power of two), vectorised
    over the batch and differentiable with respect to ``delta_freq``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    delta_freq : torch.Tensor
        Per-example shift in Hz, shape ``(batch,)``.
    sfreq : float
        Sampling frequency in Hz.

    Examples
    --------
    A 10 Hz sinusoid shifted by 2 Hz peaks at 12 Hz:

    >>> import math, torch
    >>> t = torch.arange(1000, dtype=torch.float64) / 100
    >>> X = torch.sin(2 * math.pi * 10 * t).reshape(1, 1, -1)
    >>> shifted = frequency_shift(X, torch.tensor([2.0]), sfreq=100)
    >>> freqs = torch.fft.rfftfreq(1000, d=1 / 100)
    >>> freqs[torch.fft.rfft(shifted).abs().argmax()].item()
    12.0
    """
    delta_freq, two_pi_t = _cast(delta_freq, X), _two_pi_t(X, sfreq)
    if is_compiling():  # dynamo traces autograd's operators
        phase = _as_batch_column(delta_freq, X) * two_pi_t
        return X * torch.cos(phase) - _hilbert(X) * torch.sin(phase)
    return _FrequencyShift.apply(X, delta_freq, two_pi_t, None)


def _two_pi_t(X, sfreq, sign=1):
    """``2 pi t`` (``sign=-1``: its negation) at the samples of ``X``, in
    seconds, built once."""
    n_times = X.shape[-1]
    return _constant(
        lambda: (
            torch.arange(n_times, dtype=X.dtype, device=X.device)
            * (2 * math.pi / sfreq)
            * sign
        ),
        "two_pi_t",
        n_times,
        float(sfreq),
        sign,
        X.dtype,
        X.device,
    )


def frequency_shift_symmetric(X, uniform, bound, sfreq):
    """:func:`frequency_shift` by ``(2 u - 1) bound`` Hz per example.

    What :class:`~braindecode_augnet.transforms.FrequencyShift` applies:
    shifts drawn uniformly in ``[-bound, bound)`` (see
    :func:`~.symmetric_range`), with the same values and gradients to the
    bit, one operator fewer in the backward pass: the node is handed minus
    the shifts, ``(1 - 2 u) bound``, and the phase made with ``-2 pi t``
    (negations are exact), so that the gradient comes out without the
    negation that the phase's sign otherwise takes.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    uniform : torch.Tensor
        ``(batch,)`` uniform draws in [0, 1).
    bound : torch.Tensor
        Largest shift in Hz (differentiable).
    sfreq : float
        Sampling frequency in Hz.

    Examples
    --------
    >>> import torch
    >>> X, u = torch.randn(2, 1, 300), torch.tensor([0.1, 0.8])
    >>> out = frequency_shift_symmetric(X, u, torch.tensor(2.0), sfreq=100.0)
    >>> ref = frequency_shift(X, symmetric_range(u, torch.tensor(2.0)), 100.0)
    >>> torch.equal(out, ref)
    True
    """
    if is_compiling():  # the composed form (the same graph to dynamo)
        return frequency_shift(X, symmetric_range(uniform, bound), sfreq)
    uniform = _cast(uniform, X)
    minus_delta = torch.add(scalar(1, uniform), uniform, alpha=-2) * _cast(bound, X)
    two_pi_t, minus_two_pi_t = _two_pi_t(X, sfreq), _two_pi_t(X, sfreq, -1)
    return _FrequencyShift.apply(X, minus_delta, two_pi_t, minus_two_pi_t)


def _rfft(X, n_fft=None):
    """``torch.fft.rfft(X, n=n_fft, dim=-1)`` through the aten operator it
    calls, for a floating ``X`` and ``n_fft`` at least its length (padding,
    no cropping): the same values to the bit, one operator fewer per call (on
    an accelerator, operators are launches)."""
    n_times = X.shape[-1]
    if n_fft is not None and n_fft != n_times:
        if n_fft < n_times:
            raise ValueError(f"n_fft={n_fft} is below the length {n_times}.")
        X = torch.constant_pad_nd(X, [0, n_fft - n_times])
    return torch._fft_r2c(X, [X.ndim - 1], 0, True)  # norm="backward": none


def _irfft(spectrum, n_times):
    """``torch.fft.irfft(spectrum, n=n_times, dim=-1)`` for the spectrum of
    an :func:`_rfft` of that length (``n_times // 2 + 1`` frequencies),
    through the aten operator it calls."""
    return torch._fft_c2r(spectrum, [spectrum.ndim - 1], 2, n_times)  # by 1/n


def _hilbert(X):
    """Hilbert transform of every signal, zero-padded to the next power of two.

    The analytic signal is ``X + i H(X)``: its real part is ``X`` itself, and
    ``H`` multiplies positive frequencies by ``-i`` (real FFTs).
    """
    n_times = X.shape[-1]
    n_fft = _nextpow2(n_times)
    spectrum = _rfft(X, n_fft)
    rotate = _constant(
        lambda: _hilbert_rotation(spectrum.shape[-1], spectrum.dtype, X.device),
        "hilbert",
        spectrum.shape[-1],
        spectrum.dtype,
        X.device,
    )
    return _irfft(spectrum * rotate, n_fft)[..., :n_times]


class _FrequencyShift(torch.autograd.Function):
    """``X cos(phase) - H(X) sin(phase)``, ``H`` the Hilbert transform, with
    ``phase = delta_freq * 2 pi t``.

    ``H`` (of the zero-padded signal, then cut) is anti-self-adjoint, so the
    gradient to ``X`` is ``g cos + H(g sin)``: one more Hilbert transform in
    the backward pass, where autograd goes back through both FFTs, the
    complex product and the padding (about 50 operators more per call).
    The phase is made here, and the gradient to the shift computed as
    autograd computes it through the product and the view (the same
    roundings), without their nodes. First-order only: a double backward
    raises.
    """

    @staticmethod
    def forward(ctx, X, delta_freq, two_pi_t, minus_two_pi_t):
        column = _as_batch_column(delta_freq, X)
        # with minus_two_pi_t, delta_freq holds minus the shifts: the same
        # phase, and a gradient that needs no negation
        negated = minus_two_pi_t is not None
        phase = column * (minus_two_pi_t if negated else two_pi_t)
        hilbert = _hilbert(X)
        # cos and sin as the halves of one tensor, for one product with the
        # gradient in the backward pass
        cos_sin = torch.empty((2, *phase.shape), dtype=phase.dtype, device=phase.device)
        cos, sin = _halves(cos_sin)
        torch.cos(phase, out=cos)
        torch.sin(phase, out=sin)
        ctx.save_for_backward(X, hilbert, cos_sin, two_pi_t)
        ctx.shapes = phase.shape, column.shape, delta_freq.shape
        ctx.negated = negated
        return X * cos - hilbert * sin

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        X, hilbert, cos_sin, two_pi_t = ctx.saved_tensors
        cos, sin = _halves(cos_sin)
        need_x, need_delta = ctx.needs_input_grad[:2]
        grad_x = grad_delta = None
        if need_x:  # grad cos and grad sin in one product
            grad_cos, grad_sin = _halves(grad * cos_sin)
            grad_x = grad_cos + _hilbert(grad_sin)
        if need_delta:  # d out / d phase = -(X sin + H(X) cos)
            phase_shape, column_shape, delta_shape = ctx.shapes
            moved = torch.addcmul(X * sin, hilbert, cos).mul_(grad)
            grad_phase = _sum_to(moved, phase_shape)
            if not ctx.negated:  # minus the phase's gradient
                grad_phase = grad_phase.neg_()
            grad_delta = _sum_to(grad_phase * two_pi_t, column_shape)
            grad_delta = grad_delta.view(delta_shape)  # a new, contiguous sum
        return grad_x, grad_delta, None, None


def _hilbert_rotation(n_freqs, dtype, device):
    rotate = torch.full((n_freqs,), -1j, dtype=dtype, device=device)
    rotate[0] = 0
    rotate[-1] = 0
    return rotate


def ft_surrogate(X, phase_noise, uniform):
    """Fourier-transform surrogate: add random phases to the spectrum.

    Phases are ``2 * pi * phase_noise * uniform`` for every positive frequency
    (the DC term and, for even lengths, the Nyquist term keep their phase), as
    in braindecode's ``ft_surrogate``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    phase_noise : torch.Tensor
        Scalar phase-noise magnitude in [0, 1].
    uniform : torch.Tensor
        Uniform draws shaped ``(batch, 1 or channels, n_freqs)`` with
        ``n_freqs = times // 2 + 1``.

    Examples
    --------
    >>> import torch
    >>> X = torch.randn(2, 1, 64, dtype=torch.float64)
    >>> out = ft_surrogate(X, torch.tensor(1.0), torch.rand(2, 1, 33))
    >>> torch.allclose(torch.fft.rfft(out).abs(), torch.fft.rfft(X).abs())
    True
    """
    n_times = X.shape[-1]
    # 2 pi, 0 at the frequencies whose phase is kept
    two_pi_keep = _constant(
        lambda: _phase_scale(n_times, X.dtype, X.device),
        "two_pi_keep",
        n_times,
        X.dtype,
        X.device,
    )
    phases = _cast(uniform, X) * two_pi_keep
    return _FTSurrogate.apply(X, _cast(phase_noise, X), phases)


class _FTSurrogate(torch.autograd.Function):
    """``irfft(rfft(X) exp(i m phi))`` for phases ``phi`` null at the DC and
    Nyquist terms, and its gradients in the frequency domain.

    The op is a real circulant operator with response ``exp(i m phi)``: its
    adjoint has the conjugate response, so the gradient to ``X`` is
    ``irfft(rfft(g) exp(-i m phi))``, and by Parseval the gradient to ``m``
    is ``-2 / n sum(phi Im(conj(rfft(g)) rfft(out)))``. One FFT pair in the
    backward pass, where autograd goes back through the polar form, the
    complex products and both FFTs (about 50 operators more per call).
    First-order only: a double backward raises.
    """

    @staticmethod
    def forward(ctx, X, phase_noise, phases):
        rotation = torch.polar(scalar(1, phases), phases * phase_noise)
        rotated = _rfft(X) * rotation
        ctx.save_for_backward(rotated, rotation, phases)
        ctx.noise_shape = phase_noise.shape
        return _irfft(rotated, X.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        rotated, rotation, phases = ctx.saved_tensors
        need_x, need_noise = ctx.needs_input_grad[:2]
        n_times = grad.shape[-1]
        spectrum = _rfft(grad)
        grad_x = grad_noise = None
        if need_x:
            grad_x = _irfft(spectrum * rotation.conj(), n_times)
        if need_noise:
            cross = torch.imag(spectrum.conj() * rotated).mul_(phases)
            grad_noise = _sum_to(cross, ctx.noise_shape)
            grad_noise = grad_noise * scalar(-2 / n_times, grad_noise)
        return grad_x, grad_noise, None


def _phase_scale(n_times, dtype, device):
    scale = torch.full((n_times // 2 + 1,), 2 * math.pi, dtype=dtype, device=device)
    scale[0] = 0
    if n_times % 2 == 0:
        scale[-1] = 0
    return scale
