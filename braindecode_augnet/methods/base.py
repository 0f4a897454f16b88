"""The base of the method strategies: what a ``method=`` value decides.

:class:`~braindecode_augnet.AugNetClassifier` holds no branch on its
``method``: it asks the strategy registered under that name (see
:data:`braindecode_augnet.methods.METHODS`) for its defaults, its policy,
the policy's parameter groups, the copies averaged and its training-step
hook. A strategy holds no state: every hook takes the estimator.
"""

import copy

from torch import nn

from .._checks import instance_param
from .._random import seed_stream
from ..analysis.policy import policy_table
from ..layers import AugmentationLayer, AugmentationModule, augmentation_layers
from ..presets import eeg_augmentation

__all__ = ["Method", "candidate_transforms"]


def candidate_transforms(augmentation):
    """All candidate transforms of an augmentation spec, in order.

    Parameters
    ----------
    augmentation : AugmentationModule | list of (list of transforms | AugmentationLayer)
        Layers of candidates.

    Returns
    -------
    list of DifferentiableTransform
    """
    if isinstance(augmentation, nn.Module):
        return [
            tr for layer in augmentation_layers(augmentation) for tr in layer.transforms
        ]
    layers = [
        layer.transforms if isinstance(layer, AugmentationLayer) else layer
        for layer in augmentation
    ]
    for layer in layers:
        if not isinstance(layer, (list, tuple, nn.ModuleList)):
            raise TypeError(
                "augmentation must be layers of candidates (a list of lists of "
                f"transforms), got a list holding {type(layer).__name__}: wrap "
                f"it as [[{type(layer).__name__}(...), ...]] for one layer."
            )
    return [tr for layer in layers for tr in layer]


class Method:
    """A way of learning (or drawing) the augmentation of the estimator.

    Subclass it, set :attr:`name` and :attr:`defaults`, override the hooks
    that differ, and add the class to
    :data:`braindecode_augnet.methods.METHODS`. A subclass's
    :attr:`defaults` are checked when the class is defined: they hold every
    key of ``Method.defaults`` (``sampling`` may be left out).
    """

    #: The ``method=`` value.
    name = None
    #: Used where the estimator's parameter is None: ``reg``,
    #: ``reg_scale``, ``sampling`` (of the layers built from a preset or
    #: lists), and ``aug_lr`` and ``magnitude_lr`` as multiples of the
    #: trunk's ``lr`` (``magnitude_lr`` None: the same as ``aug_lr``).
    defaults = {
        "reg": 0.0,
        "aug_lr": 1.0,
        "magnitude_lr": 1.0,
        "reg_scale": "magnitude",
        "sampling": "mixture",
    }
    #: Whether the policy learns from the regulariser (``reg > 0`` allowed).
    takes_reg = True
    #: Whether inference averages ``n_copies`` augmented copies (False:
    #: plain data augmentation, the bare trunk predicts).
    averages_copies = True
    #: Whether the forward pass augments in training (``n_copies_train``).
    augments_forward = True
    #: Whether :class:`~.AcceleratedAugNetClassifier` can train it.
    distributed = True

    def __init_subclass__(cls, **kwargs):
        """Refuse :attr:`defaults` without a key that the hooks read (a
        KeyError in the middle of building the estimator otherwise)."""
        super().__init_subclass__(**kwargs)
        defaults = cls.__dict__.get("defaults")
        if defaults is None:  # inherited
            return
        needed = [key for key in Method.defaults if key != "sampling"]
        if not isinstance(defaults, dict):
            raise TypeError(
                f"{cls.__name__}.defaults must be a dict with keys "
                f"{', '.join(needed)}, got {type(defaults).__name__}."
            )
        missing = [key for key in needed if key not in defaults]
        if missing:
            raise TypeError(
                f"{cls.__name__}.defaults lacks {', '.join(map(repr, missing))} "
                f"(a method's defaults set {', '.join(needed)}, and optionally "
                "sampling): start from another method's, e.g. defaults = "
                "{**Method.defaults, 'reg': 0.1}."
            )

    # ------------------------------------------------------------ settings
    def check_params(self, net):
        """Refuse parameters the method cannot use (before any training)."""
        if not self.takes_reg and net.reg is not None and float(net.reg):
            raise ValueError(
                f"method={self.name!r} takes no regulariser: its policy is learned "
                f"from the held-out loss. Set reg=0 or None, got reg={net.reg!r}."
            )

    def reg(self, net):
        """Weight of the regulariser: ``reg`` or the method's default."""
        return self.defaults["reg"] if net.reg is None else float(net.reg)

    def reg_scale(self, net):
        """What the regulariser rewards: ``reg_scale`` or the method's default."""
        return self.defaults["reg_scale"] if net.reg_scale is None else net.reg_scale

    def sampling(self, net):
        """Training mode of the layers built here: ``sampling`` or the
        method's default (the paper's mixture for a strategy whose
        ``defaults`` predate the key)."""
        if net.sampling is not None:
            return net.sampling
        return self.defaults.get("sampling", Method.defaults["sampling"])

    def inference_copies(self, net):
        """Copies averaged in evaluation mode."""
        return int(net.n_copies) if self.averages_copies else 1

    def validation_copies(self, net):
        """Copies averaged on the validation set after each epoch:
        ``n_copies_valid``, else those of inference."""
        if net.n_copies_valid is None or not self.averages_copies:
            return self.inference_copies(net)
        return int(net.n_copies_valid)

    def training_copies(self, net):
        """Copies averaged in training mode."""
        return int(net.n_copies_train) if self.augments_forward else 1

    # -------------------------------------------------------------- policy
    def build_layers(self, net, random_state=None):
        """The augmentation layers of ``net.augmentation``, drawing with
        ``random_state`` (default: ``net.augmentation_random_state()``)."""
        if random_state is None:
            random_state = net.augmentation_random_state()
        aug = net.augmentation
        temperature = float(net.temperature)
        if isinstance(aug, str):
            if aug != "eeg":
                raise ValueError(
                    f"Unknown augmentation preset {aug!r}; the preset is 'eeg'."
                )
            kwargs = _signal_params(net)
            chs_info = kwargs.get("chs_info")
            ch_names = [ch["ch_name"] for ch in chs_info] if chs_info else None
            return eeg_augmentation(
                kwargs.get("sfreq"),
                ch_names=ch_names,
                n_chans=kwargs.get("n_chans"),
                magnitude=float(net.init_magnitude),
                temperature=temperature,
                sampling=self.sampling(net),
                random_state=random_state,
            )
        if isinstance(aug, AugmentationModule):
            return copy.deepcopy(aug)
        if isinstance(aug, (list, tuple)):
            seeds = seed_stream(random_state)
            module = AugmentationModule(
                copy.deepcopy(list(aug)), temperature, self.sampling(net), next(seeds)
            )
            for tr in candidate_transforms(module):
                if tr.random_state is None:  # seed the draws from random_state
                    tr.random_state = next(seeds)
            return module
        raise TypeError(
            "augmentation must be 'eeg', an AugmentationModule or a list of "
            f"layers (lists of transforms), got {type(aug).__name__}."
        )

    def build_policy(self, net):
        """The module :class:`~.AugNet` augments with (``augment(X)``)."""
        return self.build_layers(net)

    def policy_table(self, net):
        """The learned policy as a table (``policy_`` of the estimator)."""
        return policy_table(net)

    def bilevel_policy(self, net):
        """The searched policy (``bilevel_policy_``): bilevel methods only."""
        raise AttributeError(
            f"bilevel_policy_ exists for method='adda' or 'cadda', not "
            f"method={net.method!r}: use policy_ or fixed_transforms(clf)."
        )

    # ---------------------------------------------------------- optimizers
    def augmentation_groups(self, net, named, lr):
        """Parameter groups of the layers' weights (``alpha``, at ``aug_lr``)
        and of the magnitudes and probabilities (at ``magnitude_lr``).

        ``named``: ``(name, parameter)`` of the module, ``lr``: the trunk's.
        """
        lr_factor = self.defaults["aug_lr"]
        aug_lr = lr_factor * lr if net.aug_lr is None else float(net.aug_lr)
        magnitude_lr = net.magnitude_lr
        if magnitude_lr is None:
            factor = self.defaults["magnitude_lr"]
            magnitude_lr = aug_lr if factor is None else factor * lr
        else:
            magnitude_lr = float(magnitude_lr)
        decay = float(net.aug_weight_decay)
        aug = [(name, p) for name, p in named if name.startswith("augmentation.")]
        weights = [p for name, p in aug if name.endswith("alpha")]
        strengths = [p for name, p in aug if not name.endswith("alpha")]
        return [
            {"params": params, "lr": group_lr, "weight_decay": decay}
            for params, group_lr in ((weights, aug_lr), (strengths, magnitude_lr))
            if params
        ]

    def param_groups(self, net, named, lr):
        """The policy's groups in the trunk's optimizer."""
        return self.augmentation_groups(net, named, lr)

    def update_groups(self, net, named, lr):
        """Give the policy's groups of the built optimizer(s) the rates and
        decay of the net's current parameters, in place (their state kept)."""
        update_in_place(net.optimizer_, self.param_groups(net, named, lr))

    def initialize_optimizer(self, net):
        """Build optimizers of the method's own (none here)."""

    def forget(self, net):
        """Drop the state this method keeps on ``net`` beside skorch's
        registered modules and optimizers (none here), before the net is
        built anew for another method or other layers."""

    # ------------------------------------------------------------ training
    def split(self, net, dataset_train):
        """The trunk's training data (a method may hold some out)."""
        return dataset_train

    def before_train_step(self, net, batch):
        """Run before each training step of the trunk; return its batch
        (the one given, or another): the step trains on what it returns."""
        return batch


def update_in_place(optimizer, groups):
    """The settings of ``groups`` (dicts with ``params``) copied onto the
    groups of ``optimizer`` that hold the same parameters."""
    by_first = {id(group["params"][0]): group for group in groups if group["params"]}
    for group in optimizer.param_groups:
        ours = by_first.get(id(group["params"][0])) if group["params"] else None
        if ours is not None:
            group.update((k, v) for k, v in ours.items() if k != "params")


def _signal_params(net):
    """The module parameters of ``net`` that the 'eeg' preset reads
    (``sfreq``, ``chs_info``, ``n_chans``), those missing taken from a
    module given as an instance (its own, which skorch keeps unless module
    parameters are set, as ``_checks.instance_param`` reads it)."""
    params = net.get_params_for("module")
    if not isinstance(net.module, nn.Module):
        return params
    for key in ("sfreq", "chs_info", "n_chans"):
        if params.get(key) is None:
            params[key] = instance_param(net, key)
    if params.get("sfreq") is None:
        raise ValueError(
            "The 'eeg' augmentation preset needs the sampling frequency, which "
            f"the module instance {type(net.module).__name__} does not hold: "
            "build it with sfreq=..., pass the module's class or name with "
            "module__sfreq=..., or pass augmentation=eeg_augmentation(sfreq=...)."
        )
    return params
