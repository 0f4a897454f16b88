"""AugNetClassifier: AugNet as a braindecode/skorch estimator."""

import copy

import mne
import numpy as np
import pandas as pd
import torch
from braindecode import EEGClassifier
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from skorch.callbacks import EpochScoring, PrintLog
from skorch.utils import is_dataset, to_numpy

from ._random import seed_stream
from ._validation import check_int, check_positive, check_unit
from .baselines import RandomPolicy, augerino_augmentation, candidate_transforms
from .callbacks import PolicyLogger
from .layers import (
    SAMPLING_MODES,
    AugmentationModule,
    augmentation_layers,
    unwrap_module,
)
from .model import AugNet
from .policy import policy_table
from .presets import eeg_augmentation
from .regularization import augmentation_regularizer

__all__ = ["AugNetClassifier"]

_POLICY_KEYS = ["aug_weights", "aug_magnitudes"]
METHODS = ("augnet", "augerino", "random")


# numeric parameters: (check, its keyword arguments); the last three may be None
_NUMBERS = {
    "reg": (check_positive, {"allow_zero": True}),
    "reg_warmup": (check_int, {}),
    "n_copies": (check_int, {"low": 1}),
    "n_copies_train": (check_int, {"low": 1}),
    "temperature": (check_positive, {}),
    "init_magnitude": (check_unit, {}),
    "aug_weight_decay": (check_positive, {"allow_zero": True}),
    "copies_per_chunk": (check_int, {"low": 1}),
    "aug_lr": (check_positive, {}),
    "magnitude_lr": (check_positive, {}),
}
_OPTIONAL = ("reg", "copies_per_chunk", "aug_lr", "magnitude_lr")

# Defaults that depend on the method: (reg, aug_lr as a multiple of lr).
# Augerino as Benton et al. (2020) train it (augerino/losses.py and
# experiments/*/train_augerino.py of their code): regulariser weight 0.01 and
# one Adam learning rate for the network and the augmentation widths.
_METHOD_DEFAULTS = {"augnet": (0.5, 10.0), "augerino": (0.01, 1.0), "random": (0, 1.0)}
_DIVERGED = (
    "training diverged. Standardise the inputs (X of order 1, e.g. z-scored per "
    "channel), or lower lr, aug_lr or reg."
)


def _exp(log_probs):
    return torch.exp(log_probs)


def _as_array(y):
    return to_numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)


def _input_shape(X):
    """``(channels, times)`` of the examples of ``X``; ``(None, None)`` if unknown."""
    if isinstance(X, mne.BaseEpochs):
        return len(X.ch_names), len(X.times)
    try:
        shape = tuple(np.shape(X[0][0] if is_dataset(X) else X[0]))
    except (IndexError, KeyError, TypeError):
        return None, None
    return shape[-2:] if len(shape) >= 2 else (None, None)


class AugNetClassifier(EEGClassifier):
    """AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022) as an EEGClassifier.

    The trunk (``module``) is wrapped in an :class:`~.AugNet`: augmentation
    layers with learned weights and magnitudes feed it augmented copies of
    each input, and predictions average the copies' probabilities. The loss
    is ``NLL - reg * R`` with ``R`` from :func:`~.augmentation_regularizer`.

    ``y`` holds class labels of any type, as for scikit-learn classifiers
    (strings, ``{1, 5, 9}``, ``{-1, 0, 1}``...; a column vector is raveled
    with a warning, continuous values are rejected): they are encoded as
    positions in ``classes_`` for training, and :meth:`predict` returns values
    of ``classes_``. Targets held in a Dataset (e.g. a braindecode windows
    dataset) are used as given: class indices, with ``classes`` passed when
    the labels should be other values. Custom scoring callbacks see the
    targets as class indices (``valid_acc`` compares labels with labels).

    Numeric parameters accept Python, numpy and 0-d torch numbers, e.g. from
    ``GridSearchCV(clf, {"reg": np.arange(3)})``. Training stops with a
    FloatingPointError when the training loss is not finite (inputs far from
    order 1, too large a learning rate or ``reg``).

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
        the norm of the ranges, with Benton et al.'s (2020) settings when
        ``reg`` and ``aug_lr`` are left to None (weight 0.01, the trunk's
        learning rate), see :func:`~.augerino_augmentation`. ``'random'``:
        the TrivialAugment-style :class:`~.RandomPolicy` over the candidates
        (nothing learned, no averaging at inference).
    reg : float | None
        Weight of the invariance-promoting regulariser (finite, >= 0).
        ``None``: the method's own default, 0.5 for AugNet (the paper's) and
        0.01 for Augerino (Benton et al.'s).
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
        or the preset; a value set with ``set_params`` after fitting is used
        from the next forward pass on).
    sampling : {'mixture', 'sampled'}
        Training mode of the layers: the paper's convex mixture of all
        candidates, or one candidate per example drawn from the weights.
    init_magnitude : float
        Initial magnitude, in [0, 1], of the transforms of the ``'eeg'``
        preset. The
        default, 0.5, starts every candidate strong enough for the data term
        to tell harmful from harmless ones in the first steps: from 0.1, the
        paper's value, the weights settle before the magnitudes have moved
        (see the closing notes of the sinusoid experiment in the docs).
    aug_lr : float | None
        Learning rate of the layers' weights (``alpha``). ``None``: for
        AugNet 10 times the trunk's learning rate, so that the policy moves
        within a few epochs; for Augerino the trunk's, as Benton et al.
    magnitude_lr : float | None
        Learning rate of the magnitudes and probabilities. ``None``: the
        same as ``aug_lr``.
    aug_weight_decay : float
        Weight decay of the augmentation parameters. Default 0: decay would
        pull magnitudes and weights towards 0 regardless of the data.
    random_state : int | numpy.random.RandomState | None
        Seed of the augmentation draws: of the layers and of the transforms
        left unseeded (``random_state=None``) in a list ``augmentation`` (an
        AugmentationModule keeps its own seeds). Every evaluation call
        (``predict``, ``predict_proba``, ``forward``) restarts the draws from
        their seeds: with seeded draws, the same model and data give the same
        predictions at every call and after pickling. ``None``: torch's
        global generator (:func:`torch.manual_seed`).
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
    classes_ : numpy.ndarray
        The class labels (``classes`` if given, else those of ``y``); column
        ``k`` of ``predict_proba`` is the probability of ``classes_[k]``.
    n_chans_, n_times_ : int
        Channels and time samples per example of the data last fitted on;
        predicting on another shape raises a ValueError.
    policy_ : pandas.DataFrame
        The learned policy (see :func:`~.policy_table`).
    history_ : skorch.History
        Holds, per epoch, ``aug_reg``, ``aug_weights`` and ``aug_magnitudes``.

    Examples
    --------
    A tiny two-class problem: 40 windows of 2 channels and 100 time samples
    (2 s at 50 Hz), a 5 Hz ("low") or 12 Hz ("high") sinusoid plus noise, in
    arbitrary units standardised per channel (mean 0, standard deviation 1):
    networks train on inputs of order 1, so EEG in volts is scaled first.

    >>> import numpy as np
    >>> from braindecode_augnet import AugNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["low", "high"], size=40)
    >>> t = np.arange(100) / 50.0  # seconds
    >>> freq = np.where(y == "low", 5.0, 12.0)[:, None, None]
    >>> X = np.sin(2 * np.pi * freq * t) + 0.5 * rng.standard_normal((40, 2, 100))
    >>> X = (X - X.mean(axis=(0, 2), keepdims=True)) / X.std(axis=(0, 2), keepdims=True)
    >>> clf = AugNetClassifier(
    ...     "ShallowFBCSPNet",
    ...     module__sfreq=50.0,  # the 'eeg' preset needs the sampling frequency
    ...     augmentation="eeg",
    ...     n_copies=4,
    ...     max_epochs=2,
    ...     batch_size=8,
    ...     lr=1e-3,
    ...     train_split=None,
    ...     random_state=0,
    ...     verbose=0,
    ... )
    >>> clf = clf.fit(X, y)
    >>> clf.classes_
    array(['high', 'low'], dtype='<U4')
    >>> clf.predict(X[:4]).shape
    (4,)
    >>> clf.policy_[["layer", "transform", "weight", "magnitude"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        module,
        *args,
        augmentation="eeg",
        method="augnet",
        reg=None,
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
    def _number(self, name):
        """The numeric parameter ``name`` as a Python number, checked."""
        value = getattr(self, name)
        if value is None and name in _OPTIONAL:
            return None
        check, kwargs = _NUMBERS[name]
        return check(value, name, **kwargs)

    def _check_augnet_params(self):
        for name in _NUMBERS:
            self._number(name)
        if self.sampling not in SAMPLING_MODES:
            raise ValueError(
                f"sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}."
            )
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")

    def check_data(self, X, y=None):
        """Check ``X`` and ``y`` before fitting; record classes and input shape.

        ``y`` must hold class labels (see
        :func:`sklearn.utils.multiclass.check_classification_targets`). The
        classes are inferred at the first call after :meth:`initialize`, so
        that ``partial_fit`` keeps them.
        """
        if y is not None:
            y = _as_array(y)
            check_classification_targets(y)
        classes = vars(self).get("classes_inferred_")
        super().check_data(X, y)
        if classes is not None:
            self.classes_inferred_ = classes
        self.n_chans_, self.n_times_ = _input_shape(X)
        if y is None or is_dataset(X) or isinstance(X, dict):
            return
        try:
            n_x = len(X)
        except TypeError:
            return
        if n_x != len(y):
            raise ValueError(
                f"X and y have different lengths: {n_x} examples and {len(y)} targets."
            )
        if len(getattr(self, "classes_", [0, 1])) < 2:
            raise ValueError(
                "y holds fewer than 2 classes: a classifier needs at least two."
            )

    def initialize(self):
        """Initialize the net, as skorch does, forgetting the inferred classes."""
        vars(self).pop("classes_inferred_", None)
        return super().initialize()

    def _check_input(self, X):
        shape = _input_shape(X)
        fitted = (getattr(self, "n_chans_", None), getattr(self, "n_times_", None))
        if None not in shape + fitted and shape != fitted:
            raise ValueError(
                f"{type(self).__name__} was fitted on {fitted[0]} channels and "
                f"{fitted[1]} time samples per example, got {shape[0]} channels and "
                f"{shape[1]} time samples: pass windows of the fitted shape, or refit."
            )
        module = unwrap_module(self)
        for part, name in (
            (module.augmentation, "augmentation policy"),
            (module.trunk, "trunk"),
        ):
            finite = [p.detach().isfinite().all() for p in part.parameters()]
            if finite and not torch.stack(finite).all():
                raise ValueError(
                    f"The {name} has NaN or infinite parameters: {_DIVERGED}"
                )

    # ------------------------------------------------------------- modules
    def _build_augmentation(self):
        aug = self.augmentation
        temperature = self._number("temperature")
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
                magnitude=self._number("init_magnitude"),
                temperature=temperature,
                sampling=self.sampling,
                random_state=self.augmentation_random_state(),
            )
        if isinstance(aug, AugmentationModule):
            return copy.deepcopy(aug)
        if isinstance(aug, (list, tuple)):
            seeds = seed_stream(self.augmentation_random_state())
            module = AugmentationModule(
                copy.deepcopy(list(aug)), temperature, self.sampling, next(seeds)
            )
            for tr in candidate_transforms(module):
                if tr.random_state is None:  # seed the draws from random_state
                    tr.random_state = next(seeds)
            return module
        raise TypeError(
            "augmentation must be 'eeg', an AugmentationModule or a list of "
            f"layers (lists of transforms), got {type(aug).__name__}."
        )

    def augmentation_random_state(self):
        """Seed of the augmentation layers built here: ``random_state``.

        A hook for subclasses, e.g. to give every process of a distributed
        run its own draws (:class:`~.AcceleratedAugNetClassifier`).
        """
        return self.random_state

    def initialize_module(self):
        """Build the trunk (as EEGClassifier does) and wrap it in AugNet."""
        self._check_augnet_params()
        super().initialize_module()
        trunk = self.module_
        if isinstance(trunk, AugNet):  # an AugNet instance given as module
            return self
        augmentation = self._build_augmentation()
        if self.method == "augerino":
            augmentation = augerino_augmentation(
                augmentation, self.augmentation_random_state()
            )
        elif self.method == "random":
            augmentation = RandomPolicy(
                candidate_transforms(augmentation), self.augmentation_random_state()
            )
        self.module_ = AugNet(
            trunk,
            augmentation,
            n_copies=self._number("n_copies"),
            n_copies_train=self._number("n_copies_train"),
            copies_per_chunk=self._number("copies_per_chunk"),
        )
        return self

    def infer(self, x, **fit_params):
        """Forward pass, with the current copy settings and temperature."""
        module = unwrap_module(self)
        # a random policy is plain data augmentation: no copies at inference
        module.n_copies = 1 if self.method == "random" else self._number("n_copies")
        module.n_copies_train = self._number("n_copies_train")
        module.copies_per_chunk = self._number("copies_per_chunk")
        if isinstance(self.augmentation, (str, list, tuple)):  # layers built here
            for layer in augmentation_layers(module):
                layer.temperature = self._number("temperature")
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
        aug_lr = self._number("aug_lr") or (
            _METHOD_DEFAULTS[self.method][1] * kwargs.get("lr", self.lr)
        )
        magnitude_lr = self._number("magnitude_lr") or aug_lr
        decay = self._number("aug_weight_decay")
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
                args[0].append({"params": params, "lr": lr, "weight_decay": decay})
        return args, kwargs

    def get_default_callbacks(self):
        """EEGClassifier's callbacks plus :class:`~.PolicyLogger`.

        ``valid_acc`` compares the predictions with the targets as labels
        (values of ``classes_``).
        """
        callbacks = []
        for name, cb in super().get_default_callbacks():
            if name == "print_log":
                callbacks.append(("augnet_policy", PolicyLogger()))
                cb = PrintLog(keys_ignored=_POLICY_KEYS)
            elif name == "valid_acc":
                cb = EpochScoring(
                    "accuracy",
                    name="valid_acc",
                    lower_is_better=False,
                    target_extractor=self._to_classes,
                )
            callbacks.append((name, cb))
        return callbacks

    # ------------------------------------------------------------- fitting
    def fit(self, X, y=None, **fit_params):
        """Initialize and fit the module, as :class:`braindecode.EEGClassifier`.

        Unless ``warm_start``, the module parameters braindecode inferred from
        the previous data (``n_chans``, ``n_times``, ``n_outputs``...) are
        inferred again, so that the estimator can be refitted on other shapes
        or classes; those set by the user are kept.
        """
        inferred = getattr(self, "inferred_module_params_", [])
        if not self.warm_start:
            for key in inferred:
                vars(self).pop(key, None)
            inferred, self.signal_args_set_ = [], False
        known = set(vars(self))
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self.inferred_module_params_ = inferred + [
                key
                for key in vars(self)
                if key.startswith("module__") and key not in known
            ]

    def get_dataset(self, X, y=None):
        """As EEGClassifier, with a float32 default for numpy inputs.

        ``y`` (labels) is encoded as class indices, positions in ``classes_``.
        """
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            X = X.astype(np.float32)
        classes = getattr(self, "classes_", None)
        if y is not None and classes is not None and not is_dataset(X):
            y = column_or_1d(_as_array(y), warn=True)
            index = pd.Index(classes).get_indexer(y)
            if (index < 0).any():
                raise ValueError(
                    f"y holds labels not in classes {classes.tolist()}: "
                    f"{np.unique(y[index < 0]).tolist()}."
                )
            y = index
        return super().get_dataset(X, y)

    # ---------------------------------------------------------------- loss
    def get_loss(self, y_pred, y_true, X=None, training=False):
        """NLL of the averaged model, minus ``reg * R`` in training."""
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            penalty = augmentation_regularizer(unwrap_module(self))
            # logged in on_batch_end: read there, after the host has waited
            # for the loss anyway, the values cost no synchronisation
            self._batch_logs = torch.stack([loss, penalty]).detach()
            reg = self.current_reg()
            if reg:
                loss = loss - reg * penalty
        return loss

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Log ``train_nll`` and ``aug_reg``; raise a deferred input check.

        Runs once skorch has read the batch's loss: reading the logged values
        and the answer of the deferred input check (``AugNet(input_check=)``)
        costs no further host synchronisation.
        """
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        logs = self.__dict__.pop("_batch_logs", None)
        if logs is not None:
            nll, reg_value = logs.tolist()
            self.history.record_batch("train_nll", nll)
            self.history.record_batch("aug_reg", reg_value)
        self._check_deferred_inputs()

    def _check_deferred_inputs(self):
        check = getattr(unwrap_module(self), "check_deferred_inputs", None)
        if callable(check):
            check()

    def current_reg(self):
        """Weight of the regulariser at the current epoch (see reg_warmup)."""
        reg, warmup = self._number("reg"), self._number("reg_warmup")
        if reg is None:
            reg = _METHOD_DEFAULTS[self.method][0]
        if not warmup:
            return reg
        epoch = len(self.history)  # the epoch being trained, from 1
        return reg * min(1.0, max(epoch - 1, 0) / warmup)

    def on_epoch_end(self, net, **kwargs):
        """Raise a FloatingPointError if the epoch's training loss is not finite."""
        super().on_epoch_end(net, **kwargs)
        batches = self.history[-1, "batches"]
        losses = [batch["train_loss"] for batch in batches if "train_loss" in batch]
        if not np.isfinite(losses).all():
            raise FloatingPointError(
                f"The training loss is not finite at epoch {len(self.history)}: "
                + _DIVERGED
            )

    # ---------------------------------------------------------- prediction
    def forward_iter(self, X, training=False, device="cpu"):
        """As skorch's; in evaluation, check ``X`` and restart the draws.

        Each evaluation call (``predict``, ``predict_proba``, ``forward``)
        checks the input shape against the fitted one and the parameters for
        NaN, and restarts the augmentation draws from their seeds.
        """
        if not training:
            self.check_is_fitted()
            self._check_input(X)
            unwrap_module(self).reset_random_state()
        return self._checked_outputs(
            super().forward_iter(X, training=training, device=device)
        )

    def _checked_outputs(self, outputs):
        # each output was moved to its device: the deferred input check is
        # read after the host has waited for it
        for output in outputs:
            self._check_deferred_inputs()
            yield output

    def predict(self, X):
        """Class labels (values of ``classes_``) of the highest mean probability."""
        return self._to_classes(super().predict(X))

    def _to_classes(self, index):
        index = to_numpy(index)
        classes = getattr(self, "classes_", None)
        return index if classes is None else classes[index]

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto":
            return _exp  # AugNet returns log-probabilities
        return super()._get_predict_nonlinearity()

    # --------------------------------------------------------------- state
    @property
    def policy_(self):
        """The learned policy as a :class:`pandas.DataFrame`."""
        self.check_is_fitted()
        return policy_table(unwrap_module(self))
