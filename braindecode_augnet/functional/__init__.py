"""Differentiable tensor operations behind the transforms and the layers.

Every function takes a batch ``X`` of shape ``(batch, channels, times)`` and
per-example parameters as tensors already on ``X``'s device. Nothing here draws
random numbers: the transforms in :mod:`braindecode_augnet.transforms` sample
the parameters (with a :class:`torch.Generator`) and pass them in, so that a
draw can be replayed and every operation is differentiable with respect to its
parameters and to ``X``. The one state kept is a cache of small constants
(see :mod:`._tensor`).

The operations are grouped by family, mirroring
:mod:`braindecode_augnet.transforms`: :mod:`.temporal`, :mod:`.spectral`,
:mod:`.spatial`; the involutions' gates in :mod:`.gates`; the layers' and
policy's operations in :mod:`.layer_ops`; the shared tensor plumbing in
:mod:`._tensor`. Every name stays importable from here.
"""

from ._tensor import (  # noqa: F401
    LOGIT_EPS,
    _scale_rows,
    _sum_to,
    arange,
    is_compiling,
    scalar,
)
from .gates import (  # noqa: F401
    gated_involution,
    hard_relaxed_bernoulli,
    symmetric_range,
)
from .layer_ops import (  # noqa: F401
    _elements,
    choice_gate,
    concatenated_norm,
    gather_rows,
    inverse_permutation,
    layer_policy,
    layers_policy,
    mixture,
    scatter_rows,
)
from .spatial import (  # noqa: F401
    _legendre_g,
    _legendre_series,
    channels_dropout,
    channels_permute,
    channels_shuffle,
    make_rotation_matrices,
    masked_channel_permutation,
    sensors_rotation,
    spherical_spline_inverse,
)
from .spectral import (  # noqa: F401
    _irfft,
    _rfft,
    frequency_shift,
    frequency_shift_symmetric,
    ft_surrogate,
)
from .temporal import (  # noqa: F401
    amplitude_scale,
    gated_sign_flip,
    gaussian_noise,
    sign_flip,
    smooth_time_mask,
    smooth_time_mask_at,
    time_reverse,
)

__all__ = [
    "amplitude_scale",
    "arange",
    "channels_dropout",
    "channels_permute",
    "channels_shuffle",
    "choice_gate",
    "concatenated_norm",
    "frequency_shift",
    "frequency_shift_symmetric",
    "ft_surrogate",
    "gather_rows",
    "gated_involution",
    "gated_sign_flip",
    "gaussian_noise",
    "hard_relaxed_bernoulli",
    "inverse_permutation",
    "is_compiling",
    "layer_policy",
    "layers_policy",
    "make_rotation_matrices",
    "masked_channel_permutation",
    "mixture",
    "scalar",
    "scatter_rows",
    "sensors_rotation",
    "sign_flip",
    "smooth_time_mask",
    "smooth_time_mask_at",
    "spherical_spline_inverse",
    "symmetric_range",
    "time_reverse",
]
