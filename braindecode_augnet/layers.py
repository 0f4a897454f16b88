"""Augmentation layers: learned mixtures of candidate transforms."""

import bisect
import math

import torch
from braindecode.augmentation import Transform
from sklearn.exceptions import NotFittedError
from torch import nn

from ._random import DeviceGenerators, keyed_draws_active, on_rows, seed_stream
from ._validation import check_positive
from .base import (
    DifferentiableTransform,
    _missing_apply_transform,
    check_eeg_batch,
    implements_apply_transform,
    unit_interval,
)
from .functional import (
    choice_gate,
    gather_rows,
    inverse_permutation,
    is_compiling,
    layer_policy,
    layers_policy,
    mixture,
    scalar,
    scatter_rows,
)
from .transforms._relaxed import LOGIT_OVER_TEMPERATURE

__all__ = [
    "AugmentationLayer",
    "AugmentationModule",
    "apply_grouped",
    "augmentation_layers",
    "unwrap_module",
    "validate_transforms",
]

SAMPLING_MODES = ("mixture", "sampled")


def validate_transforms(transforms):
    """Check a list of candidate transforms and return it as a list.

    Parameters
    ----------
    transforms : list of DifferentiableTransform
        The candidates of one layer (or of a policy).

    Returns
    -------
    list of DifferentiableTransform

    Raises
    ------
    ValueError
        If the list is empty or nested (a list of layers given where one
        layer is expected).
    TypeError
        If an item is not a :class:`~.DifferentiableTransform` (the message
        names the braindecode class and its replacement), or its class does
        not implement ``apply_transform``.
    """
    if isinstance(transforms, nn.Module) or not isinstance(transforms, (list, tuple)):
        raise TypeError(
            "An augmentation layer takes a list of transforms, got "
            f"{type(transforms).__name__}."
        )
    transforms = list(transforms)
    if not transforms:
        raise ValueError(
            "An augmentation layer needs at least one transform, got an empty list."
        )
    for tr in transforms:
        if isinstance(tr, (list, tuple)):
            raise TypeError(
                "An augmentation layer takes a flat list of transforms, got a "
                "nested list: pass the list of layers to AugmentationModule (or "
                "AugNetClassifier's augmentation), one list of transforms per layer."
            )
        if isinstance(tr, DifferentiableTransform):
            if not implements_apply_transform(tr):
                raise TypeError(_missing_apply_transform(type(tr)))
            continue
        name = type(tr).__name__
        if isinstance(tr, Transform):
            raise TypeError(
                f"{type(tr).__module__}.{name} is not differentiable: its magnitude "
                "cannot be learned. Use the transform of the same name from "
                "braindecode_augnet.transforms (or write a DifferentiableTransform)."
            )
        raise TypeError(
            "Augmentation layers hold braindecode_augnet transforms "
            f"(DifferentiableTransform instances), got {name}."
        )
    return transforms


GROUPINGS = ("auto", "split", "full")


def apply_grouped(X, choice, n_groups, fn, grouping="auto", with_index=True):
    """Apply ``fn(k, X[index], index)`` to the examples of each group ``k``.

    Parameters
    ----------
    X : torch.Tensor
        Batch ``(batch, channels, times)``.
    choice : torch.Tensor
        ``(batch,)`` group of each example, in ``range(n_groups)``.
    n_groups : int
        Number of groups.
    fn : callable
        ``fn(k, part, index) -> augmented part``.
    grouping : {'auto', 'split', 'full'}
        ``'split'``: each function runs once per non-empty group on its own
        examples only (the sizes of the groups are read on the host: a
        synchronisation on an accelerator). ``'full'``: each function runs on
        the whole batch (``index`` is then ``arange(batch)``) and every
        example keeps its own group's output: no host synchronisation, at
        ``n_groups`` times the arithmetic. ``'auto'``: ``'split'`` on CPU,
        where reading the sizes is free and arithmetic is the cost, ``'full'``
        elsewhere, where launches and synchronisations are.
    with_index : bool
        Pass each group's ``index``; ``False`` passes ``None`` instead, for
        functions that do not read it (splitting the indices costs a view per
        group).

    Returns
    -------
    torch.Tensor
        The reassembled batch (differentiable).
    """
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}.")
    if grouping == "auto":
        grouping = "split" if X.device.type == "cpu" else "full"
    if grouping == "full":
        index = torch.arange(X.shape[0], device=X.device) if with_index else None
        outputs = [fn(k, X, index) for k in range(n_groups)]
        if is_compiling():
            # a chain of selections, which the compiler fuses: the gather's
            # backward pass writes through an index, for which inductor's
            # CPU code does not compile at some sizes (pytorch#193581; the
            # sampled EEG preset at batch 256). The same values.
            rows = choice.reshape(-1, *([1] * (X.ndim - 1)))
            out = outputs[0]
            for k in range(1, n_groups):
                out = torch.where(rows == k, outputs[k], out)
            return out
        select = choice.reshape(1, -1, *([1] * (X.ndim - 1))).expand(1, *X.shape)
        return torch.stack(outputs).gather(0, select).squeeze(0)
    # the sorted groups are read on the host (split needs the sizes there
    # anyway) and counted there: fewer operators than a bincount
    groups, order = torch.sort(choice, stable=True)
    groups = groups.tolist()
    bounds = [bisect.bisect_left(groups, k) for k in range(n_groups + 1)]
    counts = [end - start for start, end in zip(bounds, bounds[1:])]
    # on CPU rows are read through the inverse permutation, in both passes
    inverse = None
    if X.device.type == "cpu" and not is_compiling():
        inverse = inverse_permutation(order)
    parts = gather_rows(X, order, counts, inverse)
    keyed = keyed_draws_active()  # each group's draws keyed by its rows
    indices = torch.split(order, counts) if with_index or keyed else [None] * n_groups
    pieces = [
        on_rows(index, fn, k, part, index if with_index else None)
        for k, (part, index) in enumerate(zip(parts, indices))
        if counts[k]
    ]
    if is_compiling():  # dynamo traces autograd's operators
        return torch.cat(pieces).index_select(0, torch.argsort(order))
    return scatter_rows(pieces, order, inverse)


def _check_sampling(sampling):
    if sampling not in SAMPLING_MODES:
        raise ValueError(f"sampling must be one of {SAMPLING_MODES}, got {sampling!r}.")


class AugmentationLayer(nn.Module):
    """K candidate transforms mixed with learned weights.

    The weights are ``softmax(alpha / temperature)``, ``alpha`` starting
    equal. In training the layer outputs the convex mixture
    ``sum_k w_k T_k(x)`` (``sampling='mixture'``, the paper's layer) or, with
    ``sampling='sampled'``, applies one transform per example drawn from the
    weights, each transform computed only on its own examples, with a
    straight-through gate whose gradient is that of ``log w_k``: in
    expectation over the draws, the weights and magnitudes get the gradients
    of the mixture, at a fraction of its cost. In evaluation one transform is
    drawn from the weights independently for every example.

    Parameters
    ----------
    transforms : list of DifferentiableTransform
        Candidate transforms (registered as submodules).
    temperature : float
        Softmax temperature of the weights. Small values make the weights
        nearly one-hot (and their gradients vanish) after small changes of
        ``alpha``.
    sampling : {'mixture', 'sampled'}
        Training mode (see above).
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seeds the draws of transforms per example.

    Attributes
    ----------
    grouping : {'auto', 'split', 'full'}
        How the sampled mode and evaluation compute each transform on its
        examples (see :func:`apply_grouped`); ``'auto'`` by default: without
        host synchronisation off CPU.
    """

    grouping = "auto"

    def __init__(
        self, transforms, temperature=0.05, sampling="mixture", random_state=None
    ):
        super().__init__()
        temperature = check_positive(temperature, "temperature")
        _check_sampling(sampling)
        self.transforms = nn.ModuleList(validate_transforms(transforms))
        self.alpha = nn.Parameter(torch.zeros(len(self.transforms)))
        self.temperature = temperature
        self.sampling = sampling
        self._rng = DeviceGenerators(random_state)
        self.register_buffer("displacement", torch.ones(len(self.transforms)))
        self.calibrated = False
        self.register_load_state_dict_post_hook(_mark_calibrated)

    @property
    def weights(self):
        """Weights of the candidates, ``softmax(alpha / temperature)``."""
        return torch.softmax(self.alpha / scalar(self.temperature, self.alpha), dim=0)

    def magnitudes(self):
        """Learned magnitudes of the candidates, as a tensor.

        For involutions the magnitude is twice the learned probability (see
        :class:`~.Involution`), so 1 means the largest invariance everywhere.
        """
        magnitudes = self._projected_magnitudes()
        if magnitudes is None:  # candidates with magnitudes of their own
            return torch.stack([tr.magnitude.reshape(()) for tr in self.transforms])
        return magnitudes

    def _projected_magnitudes(self):
        """The candidates' magnitudes in one projection, or ``None`` when a
        candidate defines its own (the forward pass gets them, mapped onto
        the op ranges, from :func:`~.functional.layer_policy`).
        """
        if not self._default_magnitudes():
            return None
        raws = [tr.raw_magnitude for tr in self.transforms]
        raws = [raw if raw.ndim == 0 else raw.reshape(()) for raw in raws]
        return unit_interval(torch.stack(raws))

    def _policy(self):
        """The weights and each candidate's op value (``None`` for those that
        define their own magnitude), for a forward pass.

        In training, the products of the weights and magnitudes are kept for
        :meth:`regularizer_terms` (``reuse_forward=True``).
        """
        self._forward_products = None
        n_candidates = len(self.transforms)
        if not self._default_magnitudes():
            return self.weights, [None] * n_candidates, [None] * n_candidates
        if is_compiling():  # dynamo traces autograd's operators
            magnitudes = self._projected_magnitudes().unbind()
            op_values = [
                tr.magnitude_to_op(m) for tr, m in zip(self.transforms, magnitudes)
            ]
            return self.weights, op_values, [None] * n_candidates
        raws = self._raws()
        # the linear map of magnitudes onto op values, unless a candidate
        # has a map of its own
        mag_ranges = self._mag_ranges()
        logits = mag_ranges is not None and self._wants_logits()
        scales = self._logit_scales() if logits else None
        policy = layer_policy(
            self.alpha, self.temperature, raws, mag_ranges, logits, scales
        )
        return self._kept(*policy, mapped=mag_ranges is not None, scales=scales)

    def _wants_logits(self):
        """Whether a candidate draws with its op value as a probability and
        a gradient is to pass: the policy computes the logits of all at once
        (:func:`~.functional.layers_policy`)."""
        return (
            self.training
            and torch.is_grad_enabled()
            and any(tr.relaxed_op_value for tr in self.transforms)
        )

    def _logit_scales(self):
        """``1 / relaxation_temperature`` of each candidate that takes its
        logit divided so (``takes_logit_over_temperature``) with a
        temperature that is a power of two (exact: the same bits as the
        division in each draw), 1 for the others: the policy computes these
        logits for all at once (:func:`~.functional.layers_policy`)."""
        scales = []
        for tr in self.transforms:
            temperature = getattr(tr, "relaxation_temperature", None)
            takes = tr.relaxed_op_value and getattr(
                tr, "takes_logit_over_temperature", False
            )
            exact = (
                isinstance(temperature, (int, float))
                and temperature > 0
                and math.frexp(temperature)[0] == 0.5
            )
            scales.append(1 / temperature if takes and exact else 1.0)
        return scales

    def _augment_candidate(self, k, X, op_value, op_logit):
        """Candidate ``k``'s output on ``X`` with the op value and logit of
        this forward pass; a logit divided by the temperature goes in the
        candidate's draws (``params``), where it takes it."""
        tr = self.transforms[k]
        scaled = getattr(self, "_scaled_logits", None)
        if op_logit is None or scaled is None or not scaled[k]:
            return tr.augment(X, op_value=op_value, op_logit=op_logit)
        if X.dtype not in (torch.float32, torch.float64) or not X.shape[0]:
            # low precision draws in float32 (augment's cast): as without
            op_logit = op_logit * tr.relaxation_temperature
            return tr.augment(X, op_value=op_value, op_logit=op_logit)
        params = {**tr.sample_params(X), "op_value": op_value}
        params[LOGIT_OVER_TEMPERATURE] = op_logit
        return tr.augment(X, params)

    def _wants_floor(self):
        """Whether the forward pass gates sampled candidates with a gradient
        to the weights: the policy floors the weights that the gates divide
        by for all the layers at once (:func:`~.functional.choice_gate`)."""
        return self.sampling == "sampled" and self.training and torch.is_grad_enabled()

    def _raws(self):
        raws = [tr.raw_magnitude for tr in self.transforms]
        return [raw if raw.ndim == 0 else raw.reshape(()) for raw in raws]

    def _mag_ranges(self):
        """The candidates' ranges when all map their magnitudes linearly
        (:meth:`~.DifferentiableTransform.magnitude_to_op`), else ``None``."""
        default_map = all(
            type(tr).magnitude_to_op is DifferentiableTransform.magnitude_to_op
            for tr in self.transforms
        )
        return [tr.mag_range for tr in self.transforms] if default_map else None

    def _kept(
        self,
        weights,
        op_values,
        products,
        op_logits=None,
        mapped=True,
        floor=None,
        scales=None,
    ):
        """The policy of a forward pass, ``(weights, op_values, op_logits)``,
        its products kept (in training) for :meth:`regularizer_terms`, and
        the floored weights (``floor``, see :meth:`_wants_floor`) for the
        forward pass that follows."""
        self._choice_floor = floor
        self._scaled_logits = None
        if op_logits is not None and scales is not None:
            self._scaled_logits = [scale != 1 for scale in scales]
        if op_logits is None:
            op_logits = [None] * len(self.transforms)
        if not mapped:
            op_values = [
                tr.magnitude_to_op(m) for tr, m in zip(self.transforms, op_values)
            ]
        self._forward_products = None
        if self.training and torch.is_grad_enabled():
            self._forward_products = products, self._parameter_versions()
        return weights, op_values, op_logits

    def _parameter_versions(self):
        # in-place updates (an optimizer step) change these counters
        raws = (tr.raw_magnitude._version for tr in self.transforms)
        return (self.alpha._version, *raws)

    def regularizer_terms(self, reuse_forward=False):
        """``weights * magnitudes``: the layer's terms of the regulariser.

        Parameters
        ----------
        reuse_forward : bool
            Return the products that the last training forward pass computed
            (with its graph), once, rather than computing them again: for a
            loss computed right after the forward pass of the same step, with
            the same parameters (as :class:`~.AugNetClassifier` does), one
            graph for the policy instead of two. Computed anew when no
            forward pass left any (evaluation, ``torch.compile``, or read
            already) or when the parameters were changed in place since
            (e.g. by an optimizer step); changes through ``.data`` are not
            seen: leave it False when making them between a forward pass
            and its loss.

        Returns
        -------
        torch.Tensor
            ``(n_candidates,)``, differentiable with respect to the weights
            and magnitudes.
        """
        if is_compiling():  # no products kept (see _policy); no dict ops
            return self.weights * self.magnitudes()
        forward = self.__dict__.pop("_forward_products", None)
        if reuse_forward and forward is not None:
            products, versions = forward
            if versions == self._parameter_versions():
                return products
        return self.weights * self.magnitudes()

    def calibrate(self, X):
        """Measure how much each candidate changes ``X`` at full magnitude.

        Sets ``displacement`` to each candidate's relative root-mean-square
        change of the batch at magnitude 1 (the top of its range; probability
        0.5 for an involution), ``sqrt(mean((T(X) - X) ** 2) / mean(X ** 2))``,
        from draws of their own (the candidates' draws in training are not
        changed). It checks the candidates too: an ``apply_transform`` that
        returns no tensor of ``X``'s shape, or fails at one magnitude per
        example, is named with the fix.
        The layer calls it on its first training batch; the regulariser
        weighs each candidate's magnitude by it, so that candidates whose
        ranges are written in different units compete on what they do to the
        data.

        Parameters
        ----------
        X : torch.Tensor
            A batch ``(batch, channels, times)`` of the layer's input.

        Returns
        -------
        torch.Tensor
            The displacement of each candidate, ``(n_candidates,)``.

        Examples
        --------
        On unit-variance data a noise of standard deviation 0.1 changes the
        data by 0.1, fully random phases by ``sqrt(2)`` (a decorrelated
        signal of the same power):

        >>> import torch
        >>> from braindecode_augnet.transforms import FTSurrogate, GaussianNoise
        >>> noise = GaussianNoise(mag_range=(0, 0.1))
        >>> layer = AugmentationLayer([noise, FTSurrogate()])
        >>> X = torch.randn(64, 2, 200, generator=torch.Generator().manual_seed(0))
        >>> [round(d, 2) for d in layer.calibrate(X).tolist()]
        [0.1, 1.41]
        """
        with torch.no_grad():
            Xf = X.float()
            power = Xf.pow(2).mean().clamp_min(torch.finfo(Xf.dtype).tiny)
            values = []
            for tr in self.transforms:  # also the candidates' one check
                change = tr._checked_full_range(Xf) - Xf
                values.append((change.pow(2).mean() / power).sqrt())
            self.displacement.copy_(torch.stack(values))
        self.calibrated = True
        return self.displacement

    def _default_magnitudes(self):
        return all(
            type(tr).magnitude is DifferentiableTransform.magnitude
            for tr in self.transforms
        )

    def forward(self, X):
        """Augment a batch ``(batch, channels, times)``."""
        return self.augment(check_eeg_batch(X))

    def augment(self, X, policy=None):
        """Augment an already validated batch (no input checks).

        ``policy``: the ``(weights, op_values, op_logits)`` of this forward
        pass when the
        caller computed them (:class:`AugmentationModule` computes those of
        all its layers at once); ``None``: computed here.
        """
        if self.training and not self.calibrated and X.shape[0]:
            self.calibrate(X)
        weights, op_values, op_logits = self._policy() if policy is None else policy
        # the floored weights of the module's policy (none under compile)
        floor = None if is_compiling() else self.__dict__.pop("_choice_floor", None)
        if weights.dtype != X.dtype:
            weights, floor = weights.to(X.dtype), None
        n_candidates = len(self.transforms)
        if self.training and self.sampling == "mixture":
            outputs = [
                self._augment_candidate(k, X, op_value, op_logit)
                for k, (op_value, op_logit) in enumerate(zip(op_values, op_logits))
            ]
            if n_candidates == 1:
                return weights[0] * outputs[0]
            if is_compiling():  # dynamo traces autograd's operators
                stacked = torch.stack(outputs).view(n_candidates, -1)
                return (weights @ stacked).view(X.shape)
            return mixture(weights, outputs)
        return self._augment_sampled(X, weights, op_values, op_logits, floor)

    def _grouping(self):
        """``grouping``, or ``'full'`` (fixed shapes: one graph) under
        :func:`torch.compile` when nothing draws from a seeded generator
        (whose draws break the graph anyway, and keep those of ``'auto'``)."""
        if self.grouping != "auto" or not is_compiling():
            return self.grouping
        rngs = [self._rng, *(getattr(tr, "_rng", None) for tr in self.transforms)]
        seeded = any(getattr(r, "random_state", None) is not None for r in rngs)
        return self.grouping if seeded else "full"

    def _augment_sampled(self, X, weights, op_values, op_logits, floor=None):
        if not X.shape[0]:  # nothing to draw a candidate for
            return X
        choice = self._rng.categorical(weights, X.shape[0])

        def apply(k, part, index):
            return self._augment_candidate(k, part, op_values[k], op_logits[k])

        out = apply_grouped(
            X, choice, len(self.transforms), apply, self._grouping(), with_index=False
        )
        if not self.training:
            return out
        # Straight-through gate of value 1 whose gradient is that of log w_k
        # for the example's transform k: k is drawn with probability w_k, so
        # in expectation the weights get the gradient of the mixture.
        return choice_gate(X, out, weights, choice, floor)

    def reset_random_state(self):
        """Restart the draws of candidates from ``random_state``."""
        self._rng.reset()

    def __getstate__(self):
        # the products of a forward pass belong to its step (and its graph
        # cannot be copied)
        state = self.__dict__.copy()
        state.pop("_forward_products", None)
        state.pop("_choice_floor", None)
        state.pop("_scaled_logits", None)
        return state

    def extra_repr(self):
        return f"temperature={self.temperature:g}, sampling={self.sampling!r}"


def _mark_calibrated(layer, incompatible_keys):
    # a loaded state holds the displacement measured when it was saved
    layer.calibrated = True


class AugmentationModule(nn.Module):
    """Augmentation layers applied in sequence.

    Parameters
    ----------
    layers : list of AugmentationLayer | list of list of DifferentiableTransform
        The layers, or for each layer its list of candidate transforms.
    temperature : float
        Temperature of the layers built from lists of transforms.
    sampling : {'mixture', 'sampled'}
        Training mode of the layers built from lists of transforms.
    random_state : int | numpy.random.RandomState | torch.Generator | None
        Seed of the layers built from lists of transforms (each layer gets its
        own seed spawned from it).
    """

    def __init__(self, layers, temperature=0.05, sampling="mixture", random_state=None):
        super().__init__()
        if isinstance(layers, nn.Module) or not isinstance(layers, (list, tuple)):
            raise TypeError(
                "AugmentationModule takes a list of layers (AugmentationLayer, or "
                f"one list of transforms per layer), got {type(layers).__name__}."
            )
        if not layers:
            raise ValueError(
                "AugmentationModule needs at least one layer, got an empty list."
            )
        if not isinstance(layers[0], (AugmentationLayer, list, tuple)):
            raise TypeError(
                "AugmentationModule takes a list of layers, each a list of "
                f"transforms: got a flat list starting with {type(layers[0]).__name__}"
                f". Wrap it as [[{type(layers[0]).__name__}(...), ...]] for one layer."
            )
        # checked even when every layer is built (and they are unused), so
        # that a wrong value is not silently ignored
        temperature = check_positive(temperature, "temperature")
        _check_sampling(sampling)
        seeds = seed_stream(random_state)
        built = []
        for layer in layers:
            if not isinstance(layer, AugmentationLayer):
                layer = AugmentationLayer(layer, temperature, sampling, next(seeds))
            built.append(layer)
        self.layers = nn.ModuleList(built)

    def forward(self, X):
        """Augment a batch ``(batch, channels, times)``."""
        return self.augment(check_eeg_batch(X))

    def augment(self, X):
        """Augment an already validated batch (no input checks)."""
        for layer, policy in zip(self.layers, self._policies()):
            X = layer.augment(X, policy)
        return X

    def _policies(self):
        """Each layer's policy for a forward pass, computed for all the layers
        at once (:func:`~.functional.layers_policy`: each operator of the
        policies runs once, not once per layer), or ``None`` for each layer
        to compute its own (one layer, candidates with magnitudes or maps of
        their own, parameters of several dtypes or devices, torch.compile).
        """
        layers = list(self.layers)
        own = [None] * len(layers)
        if len(layers) < 2 or is_compiling():
            return own
        alphas = [layer.alpha for layer in layers]
        if len({(a.dtype, a.device) for a in alphas}) != 1:
            return own
        raws, ranges = [], []
        for layer in layers:
            if not layer._default_magnitudes():
                return own
            raws.append(layer._raws())
            ranges.append(layer._mag_ranges())
            if ranges[-1] is None:
                return own
        if (
            len(
                {(r.dtype, r.device) for layer in raws for r in layer}
                | {(alphas[0].dtype, alphas[0].device)}
            )
            != 1
        ):
            return own
        temperatures = [layer.temperature for layer in layers]
        logits = any(layer._wants_logits() for layer in layers)
        floors = any(layer._wants_floor() for layer in layers)
        scales = [layer._logit_scales() for layer in layers] if logits else None
        policies = layers_policy(
            alphas,
            temperatures,
            raws,
            ranges,
            logits,
            floors,
            None if scales is None else [s for layer in scales for s in layer],
        )
        kept = []
        for k, (layer, policy) in enumerate(zip(layers, policies)):
            floor = None
            if floors:
                *policy, floor = policy
            scale = None if scales is None else scales[k]
            kept.append(layer._kept(*policy, floor=floor, scales=scale))
        return kept


def unwrap_module(obj):
    """The torch module behind ``obj`` (a fitted estimator's ``module_``).

    Parameters
    ----------
    obj : object
        A fitted :class:`~.AugNetClassifier` (or any skorch net) or a module.

    Returns
    -------
    object
        ``obj.module_`` when ``obj`` has one, else ``obj``; unwrapped from
        :class:`torch.nn.parallel.DistributedDataParallel` or
        :class:`torch.nn.DataParallel`, and from :func:`torch.compile`'s
        wrapper (``compile=True`` of skorch nets).
    """
    module = getattr(obj, "module_", None)
    module = module if isinstance(module, nn.Module) else obj
    while True:
        # a module prepared for several processes (DistributedDataParallel,
        # DataParallel, e.g. by Hugging Face Accelerate) holds it in .module
        if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            module = module.module
        # torch.compile's OptimizedModule holds it in ._orig_mod
        elif isinstance(getattr(module, "_orig_mod", None), nn.Module):
            module = module._orig_mod
        else:
            return module


def augmentation_layers(obj):
    """The augmentation layers held by ``obj``.

    Parameters
    ----------
    obj : AugNetClassifier | AugNet | AugmentationModule | AugmentationLayer | list
        Anything holding augmentation layers (an :class:`~.AugNet` through its
        ``augmentation`` attribute, a fitted classifier through ``module_``).
        A module with an ``augmentation_layers()`` method (e.g.
        :class:`~.RandomPolicy`, which has none) answers for itself.

    Returns
    -------
    list of AugmentationLayer
    """
    if getattr(obj, "initialized_", True) is False:  # a skorch net, not fitted
        raise NotFittedError(
            f"This {type(obj).__name__} is not fitted yet: call fit first (its "
            "augmentation layers are built and learned there)."
        )
    obj = unwrap_module(obj)
    if isinstance(obj, AugmentationLayer):
        return [obj]
    if isinstance(obj, AugmentationModule):
        return list(obj.layers)
    if callable(getattr(obj, "augmentation_layers", None)):
        return list(obj.augmentation_layers())
    if isinstance(obj, nn.Module) and hasattr(obj, "augmentation"):
        return augmentation_layers(obj.augmentation)
    if isinstance(obj, (list, tuple, nn.ModuleList)):
        return [layer for item in obj for layer in augmentation_layers(item)]
    raise TypeError(f"{type(obj).__name__} holds no augmentation layers.")
