"""Spatial transforms: channel symmetry, dropout, shuffle, sensor rotations."""

import numpy as np
import torch

from .. import functional as F
from ..base import DifferentiableTransform, Involution
from ..channels import (
    check_ch_names,
    hemisphere_symmetric_permutation,
    standard_positions,
)
from ._relaxed import relaxed_draw

__all__ = [
    "ChannelsDropout",
    "ChannelsShuffle",
    "ChannelsSymmetry",
    "SensorsRotation",
    "SensorsXRotation",
    "SensorsYRotation",
    "SensorsZRotation",
]


def _check_n_channels(X, n_channels, name):
    if X.shape[1] != n_channels:
        raise ValueError(
            f"{name} was built for {n_channels} channels (ordered_ch_names) but X "
            f"has {X.shape[1]}."
        )


class ChannelsSymmetry(Involution):
    """Swap left and right channels, with a learned probability in [0, 0.5].

    Parameters
    ----------
    probability : float
        Initial probability of swapping an example, in [0, 0.5] (learned:
        see :class:`~braindecode_augnet.base.Involution`).
    ordered_ch_names : list of str
        Channel names (10-20 nomenclature) in the order of the data.
    on_missing : {'raise', 'warn', 'ignore'}
        What to do when a lateral channel has no counterpart.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.

    References
    ----------
    .. [1] Deiss, O., Biswal, S., Jin, J., Sun, H., Westover, M. B., & Sun, J.
       (2018). HAMLET: interpretable human and machine co-learning technique.
       arXiv:1803.09702.

    Examples
    --------
    >>> import torch
    >>> tr = ChannelsSymmetry(ordered_ch_names=["C3", "C4", "Cz"], random_state=0)
    >>> tr.permutation  # C3 <-> C4, Cz stays
    [1, 0, 2]
    >>> X = torch.randn(2, 3, 50)
    >>> torch.equal(tr.apply_transform(X, tr.sample_params(X)), X[:, [1, 0, 2]])
    True
    >>> round(tr.probability.item(), 2)  # learned, on [0, 0.5]
    0.25
    """

    def __init__(
        self,
        probability=0.25,
        ordered_ch_names=None,
        on_missing="raise",
        random_state=None,
        relaxation_temperature=0.5,
    ):
        super().__init__(probability, random_state, relaxation_temperature)
        self.ordered_ch_names = check_ch_names(ordered_ch_names)
        self.permutation = hemisphere_symmetric_permutation(
            self.ordered_ch_names, on_missing=on_missing
        )

    takes_logit_over_temperature = True

    def apply_transform(self, X, params):
        _check_n_channels(X, len(self.permutation), type(self).__name__)
        return F.channels_permute(X, self.permutation)

    def _draw_gate(self, X, params):
        return relaxed_draw(self, X, params, params["apply"].view(-1, 1, 1), 2)

    def _gated(self, X, gate, params):
        _check_n_channels(X, len(self.permutation), type(self).__name__)
        permutation = self.permutation
        if any(permutation[j] != i for i, j in enumerate(permutation)):
            return None  # not made of swaps: the generic path
        return F.gated_involution(
            X, gate, lambda part: F.channels_permute(part, permutation)
        )


class _ChannelProportion(DifferentiableTransform):
    """A transform whose op parameter is a proportion of channels."""

    op_limit = 1.0  # every channel
    op_limit_reason = "all the channels (a proportion)"
    relaxed_op_value = True
    takes_logit_over_temperature = True

    def __init__(
        self,
        probability=1.0,
        magnitude=0.5,
        mag_range=(0.0, 1.0),
        random_state=None,
        relaxation_temperature=0.5,
    ):
        if mag_range is not None and max(mag_range) > 1:
            raise ValueError(
                "mag_range holds proportions of channels and must lie in [0, 1], "
                f"got {mag_range!r}."
            )
        super().__init__(
            probability, magnitude, mag_range, random_state, relaxation_temperature
        )


class ChannelsDropout(_ChannelProportion):
    """Zero each channel with a learned probability ``p_drop``.

    Channel masks are straight-through relaxed Bernoulli draws: the forward
    pass drops channels for real, and every draw passes a gradient to
    ``p_drop`` (braindecode's steep sigmoid passes one only when a draw falls
    within about 0.01 of the threshold).

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Dropout probabilities that magnitudes 0 and 1 map onto.
        Defaults to (0, 1).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.

    References
    ----------
    .. [1] Saeed, A., Grangier, D., Pietquin, O., & Zeghidour, N. (2021).
       Learning from heterogeneous EEG signals with differentiable channel
       reordering. ICASSP 2021, 1255-1259.

    Examples
    --------
    >>> import torch
    >>> tr = ChannelsDropout(magnitude=0.5, random_state=0)
    >>> out = tr(torch.ones(1000, 4, 10))
    >>> dropped = (out[..., 0] == 0).float().mean().item()
    >>> round(dropped, 1)  # about half the channels
    0.5
    >>> out.sum().backward()  # the proportion gets a gradient
    >>> tr.raw_magnitude.grad is not None
    True
    """

    def _uniform_shapes(self, X):
        return {"u": X.shape[:2]}

    def apply_transform(self, X, params):
        kept = relaxed_draw(self, X, params, params["u"], 1, output="complement")
        return F.channels_dropout(X, kept, complement=True)


class ChannelsShuffle(_ChannelProportion):
    """Shuffle a learned proportion of the channels of each example.

    Each channel is selected with probability ``p_shuffle`` and the selected
    channels are permuted among themselves (vectorised, no loop over
    examples). The proportion gets a straight-through relaxed-Bernoulli
    gradient (see :func:`braindecode_augnet.functional.channels_shuffle`).

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Shuffle proportions that magnitudes 0 and 1 map onto.
        Defaults to (0, 1).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.
    relaxation_temperature : float
        Temperature of the relaxed Bernoulli gradient estimator.

    References
    ----------
    .. [1] Saeed, A., Grangier, D., Pietquin, O., & Zeghidour, N. (2021).
       Learning from heterogeneous EEG signals with differentiable channel
       reordering. ICASSP 2021, 1255-1259.

    Examples
    --------
    The channels of each example are permuted, never changed:

    >>> import torch
    >>> tr = ChannelsShuffle(magnitude=1.0, random_state=0)
    >>> X = torch.arange(4.0).reshape(1, 4, 1).repeat(8, 1, 5)
    >>> out = tr(X)
    >>> torch.equal(out.sort(dim=1).values, X)
    True
    """

    def _uniform_shapes(self, X):
        n_batch, n_channels = X.shape[:2]
        return {"keys": (n_batch, n_channels), "offset": (n_batch, 1), "u": X.shape[:2]}

    def _op_params(self, X, draws):
        n_channels = X.shape[1]
        if n_channels <= 2:
            # one other channel at most: every offset is 0 (the floor of
            # draws below 1 times 1 or 0), and the partners are fixed
            row = F.arange(n_channels, X.device, step=-1, start=n_channels - 1)
            partners = row.expand(X.shape[0], n_channels)
            return {"u": draws["u"], "keys": draws["keys"], "partners": partners}
        # the cast truncates: the floor of these non-negative values
        offset = (draws["offset"] * F.scalar(n_channels - 1, X)).long()
        # index + 1 + offset, offset in [0, n_channels - 1): another channel;
        # in integers, which half-precision floats hold exactly only up to 256
        index = F.arange(n_channels, X.device, start=1)
        partners = (index + offset) % max(n_channels, 1)
        return {"u": draws["u"], "keys": draws["keys"], "partners": partners}

    def apply_transform(self, X, params):
        # the selection as booleans, the gradient through the relaxed draw
        selected, relaxed = relaxed_draw(self, X, params, params["u"], 1, output="mask")
        permutation = F.masked_channel_permutation(selected, params["keys"])
        return F.channels_shuffle(X, relaxed, permutation, params["partners"], selected)


class SensorsRotation(DifferentiableTransform):
    """Interpolate the signals on sensors rotated by a learned maximal angle.

    Angles are drawn uniformly in ``[-max, max]`` degrees per example. The
    spherical-spline interpolation is vectorised over the batch (one matrix
    inverse per transform, not per example), differentiable with respect to
    the angle, and exactly the identity at 0 degrees.

    Parameters
    ----------
    probability : float
        Probability of augmenting each example (fixed, not learned).
    ordered_ch_names : list of str | None
        Channel names in the order of the data, looked up in ``montage``.
    axis : {'x', 'y', 'z'}
        Rotation axis.
    magnitude : float
        Initial magnitude in [0, 1] (learned).
    mag_range : tuple of float
        Maximal angles in degrees that magnitudes 0 and 1 map onto.
        Defaults to (0, 30).
    sensors_positions : array-like | None
        ``(n_channels, 3)`` positions, instead of a montage look-up.
    montage : str
        MNE standard montage used with ``ordered_ch_names``.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the per-device :class:`torch.Generator`.

    References
    ----------
    .. [1] Krell, M. M., & Kim, S. K. (2017). Rotational data augmentation for
       electroencephalographic data. 39th Annual International Conference of
       the IEEE Engineering in Medicine and Biology Society, 471-474.

    Examples
    --------
    >>> import torch
    >>> names = ["Fz", "C3", "Cz", "C4", "Pz"]
    >>> tr = SensorsRotation(ordered_ch_names=names, axis="z", magnitude=0.5)
    >>> round(tr.op_value.item(), 1)  # maximal angle in degrees
    15.0
    >>> X = torch.randn(2, 5, 100)
    >>> tr(X).shape
    torch.Size([2, 5, 100])
    >>> tr.raw_magnitude.data.fill_(0.0)  # 0 degrees: exactly the identity
    tensor(0.)
    >>> torch.allclose(tr(X), X)
    True
    """

    #: angles are drawn in [-max, max] degrees: 180 reaches every orientation
    op_limit = 180.0
    op_limit_reason = (
        "a full turn (angles are drawn in [-max, max] degrees, and 180 already "
        "reaches every orientation)"
    )

    def __init__(
        self,
        probability=1.0,
        ordered_ch_names=None,
        axis="z",
        magnitude=0.5,
        mag_range=(0.0, 30.0),
        sensors_positions=None,
        montage="standard_1020",
        random_state=None,
    ):
        super().__init__(probability, magnitude, mag_range, random_state)
        if axis not in ("x", "y", "z"):
            raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}.")
        self.axis = axis
        if sensors_positions is None:
            if ordered_ch_names is None:
                raise ValueError(
                    "Sensor rotations need ordered_ch_names (10-20 names) or "
                    "sensors_positions."
                )
            sensors_positions = standard_positions(ordered_ch_names, montage)
        positions = torch.as_tensor(np.asarray(sensors_positions, dtype=float))
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError(
                "sensors_positions must have shape (n_channels, 3), got "
                f"{tuple(positions.shape)}."
            )
        if not torch.isfinite(positions).all():
            raise ValueError("sensors_positions holds NaN or infinite values.")
        unit, g_from, weights = F.spherical_spline_inverse(positions)
        self.register_buffer("unit_positions", unit)
        self.register_buffer("g_from", g_from)
        self.register_buffer("spline_weights", weights)

    def _uniform_shapes(self, X):
        return {"u": (X.shape[0],)}

    def apply_transform(self, X, params):
        _check_n_channels(X, self.unit_positions.shape[0], type(self).__name__)
        angles = F.symmetric_range(params["u"], self._op(X, params))
        rotations = F.make_rotation_matrices(self.axis, angles)
        return F.sensors_rotation(
            X, rotations, self.unit_positions, self.g_from, self.spline_weights
        )


class _FixedAxisRotation(SensorsRotation):
    _axis = "z"

    def __init__(
        self,
        probability=1.0,
        ordered_ch_names=None,
        magnitude=0.5,
        mag_range=(0.0, 30.0),
        sensors_positions=None,
        montage="standard_1020",
        random_state=None,
    ):
        super().__init__(
            probability,
            ordered_ch_names,
            self._axis,
            magnitude,
            mag_range,
            sensors_positions,
            montage,
            random_state,
        )


class SensorsXRotation(_FixedAxisRotation):
    """Rotate the sensors around the x (left-right) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).
    """

    _axis = "x"


class SensorsYRotation(_FixedAxisRotation):
    """Rotate the sensors around the y (front-back) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).
    """

    _axis = "y"


class SensorsZRotation(_FixedAxisRotation):
    """Rotate the sensors around the z (vertical) axis.

    See :class:`SensorsRotation` for the parameters (all but ``axis``).

    Examples
    --------
    >>> tr = SensorsZRotation(ordered_ch_names=["C3", "Cz", "C4"], magnitude=1.0)
    >>> tr.axis, tr.op_value.item()
    ('z', 30.0)
    """

    _axis = "z"
