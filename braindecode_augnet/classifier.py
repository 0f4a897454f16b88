"""AugNetClassifier: AugNet as a braindecode/skorch estimator."""

import copy

import numpy as np
import torch
from braindecode import EEGClassifier
from skorch.callbacks import PrintLog

from .baselines import RandomPolicy, augerino_augmentation, candidate_transforms
from .callbacks import PolicyLogger
from .layers import SAMPLING_MODES, AugmentationModule
from .model import AugNet
from .policy import policy_table
from .presets import eeg_augmentation
from .regularization import augmentation_regularizer

__all__ = ["AugNetClassifier"]

_POLICY_KEYS = ["aug_weights", "aug_magnitudes"]
METHODS = ("augnet", "augerino", "random")


def _exp(log_probs):
    return torch.exp(log_probs)


class AugNetClassifier(EEGClassifier):
    """AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022) as an EEGClassifier.

    The trunk (``module``) is wrapped in an :class:`~.AugNet`: augmentation
    layers with learned weights and magnitudes feed it augmented copies of
    each input, and predictions average the copies' probabilities. The loss
    is ``NLL - reg * R`` with ``R`` from :func:`~.augmentation_regularizer`.

    Parameters
    ----------
    module : str | type | torch.nn.Module
        The trunk, as for :class:`braindecode.EEGClassifier`: a model name, a
        class (signal parameters inferred from the data) or an instance.
    augmentation : 'eeg' | AugmentationModule | list of list of transforms
        The augmentation layers: ``'eeg'`` builds the paper's EEG preset
        (:func:`~.eeg_augmentation`) from the data's ``sfreq`` and channel
        names; a list holds, per layer, its candidate
        :mod:`braindecode_augnet.transforms`. It is deep-copied at
        initialisation, never modified.
    method : {'augnet', 'augerino', 'random'}
        ``'augnet'``: the layers as given. ``'augerino'``: every candidate
        with a magnitude applied jointly with a learned range, regularised by
        the norm of the ranges (Benton et al. 2020), see
        :func:`~.augerino_augmentation`. ``'random'``: the TrivialAugment-style
        :class:`~.RandomPolicy` over the candidates (nothing learned, no
        averaging at inference).
    reg : float
        Weight of the invariance-promoting regulariser (>= 0).
    reg_warmup : int
        Epochs over which the regulariser's weight grows linearly from 0 to
        ``reg`` (0: full weight from the start). Until the trunk has learned
        something, the data term cannot tell harmful augmentations from
        harmless ones, and the regulariser alone drives every magnitude up.
    n_copies : int
        Augmented copies averaged at inference.
    n_copies_train : int
        Augmented copies averaged in training.
    copies_per_chunk : int | None
        At most this many copies go through the trunk at once at inference
        (bounds memory). ``None``: all at once.
    temperature : float
        Softmax temperature of the layers' weights (layers built from lists
        or the preset).
    sampling : {'mixture', 'sampled'}
        Training mode of the layers: the paper's convex mixture of all
        candidates, or one candidate per example drawn from the weights.
    init_magnitude : float
        Initial magnitude of the transforms of the ``'eeg'`` preset. The
        default, 0.5, starts every candidate strong enough for the data term
        to tell harmful from harmless ones in the first steps: from 0.1, the
        paper's value, the weights settle before the magnitudes have moved
        (see the closing notes of the sinusoid experiment in the docs).
    aug_lr : float | None
        Learning rate of the layers' weights (``alpha``). ``None``: 10 times
        the trunk's learning rate, so that the policy moves within a few
        epochs.
    magnitude_lr : float | None
        Learning rate of the magnitudes and probabilities. ``None``: the
        same as ``aug_lr``.
    aug_weight_decay : float
        Weight decay of the augmentation parameters. Default 0: decay would
        pull magnitudes and weights towards 0 regardless of the data.
    random_state : int | None
        Seed of the augmentation draws.
    criterion : torch.nn.Module class
        Defaults to :class:`torch.nn.NLLLoss` (AugNet returns
        log-probabilities).
    **kwargs
        Passed to :class:`braindecode.EEGClassifier` (``max_epochs``, ``lr``,
        ``batch_size``, ``train_split``, ``callbacks``, ``device``, ...).

    Attributes
    ----------
    module_ : AugNet
        The trunk with its augmentation layers.
    policy_ : pandas.DataFrame
        The learned policy (see :func:`~.policy_table`).
    history_ : skorch.History
        Holds, per epoch, ``aug_reg``, ``aug_weights`` and ``aug_magnitudes``.
    """

    def __init__(
        self,
        module,
        *args,
        augmentation="eeg",
        method="augnet",
        reg=0.5,
        reg_warmup=0,
        n_copies=20,
        n_copies_train=1,
        copies_per_chunk=4,
        temperature=0.05,
        sampling="mixture",
        init_magnitude=0.5,
        aug_lr=None,
        magnitude_lr=None,
        aug_weight_decay=0.0,
        random_state=None,
        criterion=torch.nn.NLLLoss,
        **kwargs,
    ):
        self.augmentation = augmentation
        self.method = method
        self.reg = reg
        self.reg_warmup = reg_warmup
        self.n_copies = n_copies
        self.n_copies_train = n_copies_train
        self.copies_per_chunk = copies_per_chunk
        self.temperature = temperature
        self.sampling = sampling
        self.init_magnitude = init_magnitude
        self.aug_lr = aug_lr
        self.magnitude_lr = magnitude_lr
        self.aug_weight_decay = aug_weight_decay
        self.random_state = random_state
        super().__init__(module, *args, criterion=criterion, **kwargs)

    # ---------------------------------------------------------- validation
    def _check_augnet_params(self):
        if not isinstance(self.reg, (int, float)) or not self.reg >= 0:
            raise ValueError(f"reg must be a number >= 0, got {self.reg!r}.")
        if int(self.reg_warmup) != self.reg_warmup or self.reg_warmup < 0:
            raise ValueError(
                f"reg_warmup must be an integer >= 0, got {self.reg_warmup!r}."
            )
        if self.sampling not in SAMPLING_MODES:
            raise ValueError(
                f"sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}."
            )
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}.")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        for name in ("aug_lr", "magnitude_lr"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be None or > 0, got {value!r}.")

    def check_data(self, X, y=None):
        """Check ``X`` and ``y`` before fitting (lengths, number of classes)."""
        super().check_data(X, y)
        if y is None or isinstance(X, torch.utils.data.Dataset):
            return
        try:
            n_x, n_y = len(X), len(y)
        except TypeError:
            return
        if n_x != n_y:
            raise ValueError(
                f"X and y have different lengths: {n_x} examples and {n_y} targets."
            )
        if len(np.unique(np.asarray(y))) < 2:
            raise ValueError(
                "y holds fewer than 2 classes: a classifier needs at least two."
            )

    # ------------------------------------------------------------- modules
    def _build_augmentation(self):
        aug = self.augmentation
        if isinstance(aug, str):
            if aug != "eeg":
                raise ValueError(
                    f"Unknown augmentation preset {aug!r}; the preset is 'eeg'."
                )
            kwargs = self.get_params_for("module")
            chs_info = kwargs.get("chs_info")
            ch_names = [ch["ch_name"] for ch in chs_info] if chs_info else None
            return eeg_augmentation(
                kwargs.get("sfreq"),
                ch_names=ch_names,
                n_chans=kwargs.get("n_chans"),
                magnitude=self.init_magnitude,
                temperature=self.temperature,
                sampling=self.sampling,
                random_state=self.random_state,
            )
        if isinstance(aug, AugmentationModule):
            return copy.deepcopy(aug)
        if isinstance(aug, (list, tuple)) and aug:
            layers = copy.deepcopy(list(aug))
            return AugmentationModule(
                layers, self.temperature, self.sampling, self.random_state
            )
        raise TypeError(
            "augmentation must be 'eeg', an AugmentationModule or a list of "
            f"layers (lists of transforms), got {type(aug).__name__}."
        )

    def initialize_module(self):
        """Build the trunk (as EEGClassifier does) and wrap it in AugNet."""
        self._check_augnet_params()
        super().initialize_module()
        trunk = self.module_
        if isinstance(trunk, AugNet):  # an AugNet instance given as module
            return self
        augmentation = self._build_augmentation()
        if self.method == "augerino":
            augmentation = augerino_augmentation(augmentation, self.random_state)
        elif self.method == "random":
            augmentation = RandomPolicy(
                candidate_transforms(augmentation), self.random_state
            )
        self.module_ = AugNet(
            trunk,
            augmentation,
            n_copies=self.n_copies,
            n_copies_train=self.n_copies_train,
            copies_per_chunk=self.copies_per_chunk,
        )
        return self

    def infer(self, x, **fit_params):
        """Forward pass, with the current copy settings of the estimator."""
        # a random policy is plain data augmentation: no copies at inference
        self.module_.n_copies = 1 if self.method == "random" else self.n_copies
        self.module_.n_copies_train = self.n_copies_train
        self.module_.copies_per_chunk = self.copies_per_chunk
        return super().infer(x, **fit_params)

    def get_params_for_optimizer(self, prefix, named_parameters):
        """Give augmentation parameters their own learning rates, no decay.

        Two groups are added after the trunk's: the layers' weights
        (``alpha``, learning rate ``aug_lr``) and the magnitudes and
        probabilities (learning rate ``magnitude_lr``).
        """
        named = list(named_parameters)
        rest = [(name, p) for name, p in named if not name.startswith("augmentation.")]
        args, kwargs = super().get_params_for_optimizer(prefix, rest)
        base_lr = kwargs.get("lr", self.lr)
        aug_lr = self.aug_lr if self.aug_lr is not None else 10 * base_lr
        magnitude_lr = self.magnitude_lr if self.magnitude_lr is not None else aug_lr
        weights = [
            p
            for name, p in named
            if name.startswith("augmentation.") and name.endswith("alpha")
        ]
        strengths = [
            p
            for name, p in named
            if name.startswith("augmentation.") and not name.endswith("alpha")
        ]
        for params, lr in ((weights, aug_lr), (strengths, magnitude_lr)):
            if params:
                args[0].append(
                    {"params": params, "lr": lr, "weight_decay": self.aug_weight_decay}
                )
        return args, kwargs

    def get_default_callbacks(self):
        """EEGClassifier's callbacks plus :class:`~.PolicyLogger`."""
        callbacks = []
        for name, cb in super().get_default_callbacks():
            if name == "print_log":
                callbacks.append(("augnet_policy", PolicyLogger()))
                cb = PrintLog(keys_ignored=_POLICY_KEYS)
            callbacks.append((name, cb))
        return callbacks

    # ---------------------------------------------------------------- loss
    def get_loss(self, y_pred, y_true, X=None, training=False):
        """NLL of the averaged model, minus ``reg * R`` in training."""
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            penalty = augmentation_regularizer(self.module_)
            self.history.record_batch("aug_reg", penalty.item())
            reg = self.current_reg()
            if reg:
                loss = loss - reg * penalty
        return loss

    def current_reg(self):
        """Weight of the regulariser at the current epoch (see reg_warmup)."""
        if not self.reg_warmup:
            return self.reg
        epoch = len(self.history)  # the epoch being trained, from 1
        return self.reg * min(1.0, max(epoch - 1, 0) / self.reg_warmup)

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto":
            return _exp  # AugNet returns log-probabilities
        return super()._get_predict_nonlinearity()

    # --------------------------------------------------------------- state
    @property
    def policy_(self):
        """The learned policy as a :class:`pandas.DataFrame`."""
        self.check_is_fitted()
        return policy_table(self.module_)

    def get_dataset(self, X, y=None):
        """As EEGClassifier, with a float32 default for numpy inputs."""
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            X = X.astype(np.float32)
        return super().get_dataset(X, y)
