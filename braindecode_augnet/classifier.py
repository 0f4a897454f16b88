"""AugNetClassifier: AugNet as a braindecode/skorch estimator.

The estimator holds skorch's hooks; what depends on ``method=`` (defaults,
policy, parameter groups, copies, training-step hook) is the strategy's, in
:mod:`braindecode_augnet.methods`.
"""

import numpy as np
import pandas as pd
import torch
from braindecode import EEGClassifier
from sklearn.metrics import accuracy_score
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from skorch.callbacks import EpochScoring, PrintLog
from skorch.utils import is_dataset, to_numpy

from . import _data_checks as checks
from ._validation import check_int, check_positive, check_unit
from .callbacks import PolicyLogger
from .layers import SAMPLING_MODES, augmentation_layers, unwrap_module
from .methods import METHODS as _REGISTRY
from .methods import BilevelPolicy, Method
from .model import SEQUENCE_AUGMENTATIONS, AugNet
from .regularization import REGULARIZER_SCALES, augnet_loss
from .sequences import per_window_scoring

__all__ = ["AugNetClassifier"]

_POLICY_KEYS = ["aug_weights", "aug_magnitudes"]
#: The ``method=`` values of the library (see :data:`.methods.METHODS`).
METHODS = tuple(_REGISTRY)

# numeric parameters, checked once (see _check_params): (check, its keyword
# arguments, whether None is allowed)
_NUMBERS = {
    "reg": (check_positive, {"allow_zero": True}, True),
    "reg_warmup": (check_int, {}, False),
    "n_copies": (check_int, {"low": 1}, False),
    "n_copies_train": (check_int, {"low": 1}, False),
    "temperature": (check_positive, {}, False),
    "init_magnitude": (check_unit, {}, False),
    "aug_weight_decay": (check_positive, {"allow_zero": True}, False),
    "copies_per_chunk": (check_int, {"low": 1}, True),
    "aug_lr": (check_positive, {}, True),
    "magnitude_lr": (check_positive, {}, True),
    "unroll_lr": (check_positive, {}, True),
    "policy_valid_fraction": (check_unit, {}, False),
    "window_size": (check_int, {"low": 1}, True),
}
#: Settings of the built AugNet: ``set_params`` updates the fitted module.
_MODULE_SETTINGS = frozenset(
    ("n_copies", "n_copies_train", "copies_per_chunk", "sequence_augmentation")
    + ("window_size", "temperature")
)
_DIVERGED = (
    "training diverged. Standardise the inputs (X of order 1, e.g. z-scored per "
    "channel), or lower lr, aug_lr or reg."
)


def _exp(log_probs):
    return torch.exp(log_probs)


def _int(value):
    return None if value is None else int(value)


_COMPILED_PREFIX = "_orig_mod."


def _uncompiled_name(name):
    """A parameter's name in the module, without the prefixes that
    :func:`torch.compile`'s wrapper adds."""
    while name.startswith(_COMPILED_PREFIX):
        name = name[len(_COMPILED_PREFIX) :]
    return name


class AugNetClassifier(EEGClassifier):
    """AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022) as an EEGClassifier.

    The trunk (``module``) is wrapped in an :class:`~.AugNet`: augmentation
    layers with learned weights and magnitudes feed it augmented copies of
    each input, and predictions average the copies' probabilities. The loss
    is ``NLL - reg * R`` (:func:`~.augnet_loss`).

    ``y`` holds class labels of any type, as for scikit-learn (encoded as
    positions in ``classes_`` for training; :meth:`predict` returns values of
    ``classes_``). Targets in a Dataset are used as given (class indices).
    **Sequences**: ``X`` shaped ``(n_sequences, n_windows, channels, times)``
    (or ``(n_sequences, channels, n_windows * window_size)`` with
    ``window_size``) and ``y`` ``(n_sequences, n_windows)``; the trunk returns
    per-window logits, ``predict`` one label per window. Numeric parameters
    accept Python, numpy and 0-d torch numbers, checked at initialisation.
    A non-finite training loss raises a FloatingPointError.

    Parameters
    ----------
    module : str | type | torch.nn.Module
        The trunk, as for :class:`braindecode.EEGClassifier`.
    augmentation : 'eeg' | AugmentationModule | list of lists, default='eeg'
        The layers: ``'eeg'`` the paper's preset (:func:`~.eeg_augmentation`,
        from ``module__sfreq`` and the channel names), or per layer its
        candidate transforms. Deep-copied, never modified.
    method : str, default='augnet'
        A key of :data:`braindecode_augnet.methods.METHODS`: ``'augnet'``,
        ``'augerino'`` (Benton et al. 2020, :func:`~.augerino_augmentation`),
        ``'random'`` (:class:`~.RandomPolicy`, plain data augmentation),
        ``'adda'``, ``'cadda'`` (a policy searched by bilevel optimisation on
        held-out data, one per class for CADDA; :mod:`~.methods.bilevel`).
        Parameters left to None take the method's ``defaults``.
    reg : float | None, default=None
        Weight of the regulariser (>= 0); None: the method's (AugNet 0.1).
    reg_scale : {'displacement', 'magnitude'} | None, default=None
        What the regulariser rewards (see :func:`~.augmentation_regularizer`);
        None: the method's (AugNet ``'displacement'``).
    reg_warmup : int, default=0
        Epochs over which the regulariser's weight grows from 0 to ``reg``.
    n_copies : int, default=20
        Augmented copies averaged at inference (1 for plain augmentation).
    n_copies_train : int, default=1
        Augmented copies averaged in training.
    copies_per_chunk : int | None, default=4
        At most this many copies through the trunk at once (memory).
    temperature : float, default=0.05
        Softmax temperature of the weights of layers built here.
    sampling : {'mixture', 'sampled'}, default='mixture'
        The paper's mixture of all candidates, or one drawn per example.
    init_magnitude : float, default=0.5
        Initial magnitude, in [0, 1], of the ``'eeg'`` preset's transforms.
    aug_lr : float | None, default=None
        Learning rate of the layers' weights; None: the method's factor
        times ``lr``.
    magnitude_lr : float | None, default=None
        Learning rate of magnitudes and probabilities; None: as ``aug_lr``.
    aug_weight_decay : float, default=0.0
        Weight decay of the augmentation parameters.
    unroll_lr : float | None, default=None
        ADDA/CADDA: learning rate of the virtual step; None: ``lr``.
    policy_valid_fraction : float, default=0.2
        ADDA/CADDA: share of the training examples held out for the policy.
    sequence_augmentation : {'window', 'sequence'}, default='window'
        For sequences: a draw per window, or one per sequence.
    window_size : int | None, default=None
        Samples per window of sequences given as one signal.
    random_state : int | numpy.random.RandomState | None, default=None
        Seed of the augmentation draws; each evaluation call restarts them.
    criterion : torch.nn.Module class, default=torch.nn.NLLLoss
        AugNet returns log-probabilities.
    **kwargs
        Passed to :class:`braindecode.EEGClassifier` (``max_epochs``, ``lr``,
        ``batch_size``, ``train_split``, ``callbacks``, ``compile``...).

    ``set_params`` of ``n_copies``, ``n_copies_train``, ``copies_per_chunk``,
    ``sequence_augmentation``, ``window_size`` or ``temperature`` on a fitted
    estimator updates its module at once; setting the attribute directly
    takes effect at the next :meth:`initialize` (as skorch).

    Attributes
    ----------
    module_ : AugNet
        The trunk with its augmentation layers.
    classes_ : numpy.ndarray
        The class labels; column ``k`` of ``predict_proba`` is ``classes_[k]``.
    n_chans_, n_times_ : int
        Channels and time samples per example of the data last fitted on.
    policy_ : pandas.DataFrame
        The learned policy (see :func:`~.policy_table`).
    history_ : skorch.History
        Per epoch ``aug_reg``, ``aug_weights``, ``aug_magnitudes`` (ADDA/CADDA:
        ``policy_valid_loss``).
    policy_optimizer_, bilevel_ : torch.optim.Adam, UnrolledPolicySearch
        ADDA/CADDA only: the policy's optimiser (saved by
        ``save_params(f_policy_optimizer=...)``) and search.

    References
    ----------
    .. [1] Rommel, C., Moreau, T., & Gramfort, A. (2022). Deep invariant
       networks with differentiable augmentation layers. NeurIPS 35.
    .. [2] Rommel, C., Moreau, T., Paillard, J., & Gramfort, A. (2022). CADDA:
       Class-wise automatic differentiable data augmentation for EEG signals.
       ICLR.

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
        reg_scale=None,
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
        unroll_lr=None,
        policy_valid_fraction=0.2,
        sequence_augmentation="window",
        window_size=None,
        random_state=None,
        criterion=torch.nn.NLLLoss,
        **kwargs,
    ):
        self.augmentation = augmentation
        self.method = method
        self.reg = reg
        self.reg_scale = reg_scale
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
        self.unroll_lr = unroll_lr
        self.policy_valid_fraction = policy_valid_fraction
        self.sequence_augmentation = sequence_augmentation
        self.window_size = window_size
        self.random_state = random_state
        super().__init__(module, *args, criterion=criterion, **kwargs)

    # ---------------------------------------------------------- parameters
    @property
    def strategy(self) -> Method:
        """The :class:`~.methods.Method` of ``method``."""
        if self.method not in _REGISTRY:
            raise ValueError(
                f"method must be one of {tuple(_REGISTRY)}, got {self.method!r}."
            )
        return _REGISTRY[self.method]()

    def _check_params(self):
        """Check every parameter, before any training (raises ValueError)."""
        for name, (check, kwargs, optional) in _NUMBERS.items():
            if not (optional and getattr(self, name) is None):
                check(getattr(self, name), name, **kwargs)
        for name, allowed in (
            ("sampling", SAMPLING_MODES),
            ("sequence_augmentation", SEQUENCE_AUGMENTATIONS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {allowed}, got {getattr(self, name)!r}."
                )
        if self.reg_scale is not None and self.reg_scale not in REGULARIZER_SCALES:
            raise ValueError(
                f"reg_scale must be one of {REGULARIZER_SCALES} or None (the "
                f"method's default), got {self.reg_scale!r}."
            )
        if not 0.0 < float(self.policy_valid_fraction) < 1.0:
            raise ValueError(
                "policy_valid_fraction must be strictly between 0 and 1 (the share "
                "of training examples held out for ADDA/CADDA), got "
                f"{float(self.policy_valid_fraction)}."
            )
        self.strategy.check_params(self)

    def set_params(self, **kwargs):
        """As skorch's; the settings of the built AugNet (``n_copies``,
        ``temperature``...) also update a fitted module at once."""
        super().set_params(**kwargs)
        if _MODULE_SETTINGS.intersection(kwargs) and getattr(
            self, "initialized_", False
        ):
            self._check_params()
            self._configure_module()
        return self

    def current_reg(self):
        """Weight of the regulariser at the current epoch (see reg_warmup)."""
        reg, warmup = self.strategy.reg(self), int(self.reg_warmup)
        if not warmup:
            return reg
        epoch = len(self.history)  # the epoch being trained, from 1
        return reg * min(1.0, max(epoch - 1, 0) / warmup)

    def current_reg_scale(self):
        """What the regulariser rewards: ``reg_scale`` or the method's default."""
        return self.strategy.reg_scale(self)

    # -------------------------------------------------------------- data
    def check_data(self, X, y=None):
        """Check ``X`` and ``y`` before fitting; record classes and input shape.

        The classes are inferred at the first call after :meth:`initialize`,
        so that ``partial_fit`` keeps them.
        """
        if y is not None:
            y = checks.as_array(y)
            check_classification_targets(y)
            if not is_dataset(X) and checks.n_dims(X) is not None:
                checks.check_targets_shape(X, y, _int(self.window_size))
        classes = vars(self).get("classes_inferred_")
        super().check_data(X, y)
        if classes is not None:
            self.classes_inferred_ = classes
        self.n_chans_, self.n_times_ = checks.window_shape(X, _int(self.window_size))
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

    def _check_input(self, X):
        shape = checks.window_shape(X, _int(self.window_size))
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

    def get_dataset(self, X, y=None):
        """As EEGClassifier, float32 for float64 arrays; ``y`` (labels)
        encoded as positions in ``classes_``."""
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            X = X.astype(np.float32)
        classes = getattr(self, "classes_", None)
        if y is not None and classes is not None and not is_dataset(X):
            y = checks.as_array(y)
            if checks.is_sequence(X, self.window_size):  # (n_sequences, n_windows)
                checks.check_targets_shape(X, y, _int(self.window_size))
            else:
                y = column_or_1d(y, warn=True)
            index = pd.Index(classes).get_indexer(y.ravel()).reshape(y.shape)
            if (index < 0).any():
                raise ValueError(
                    f"y holds labels not in classes {classes.tolist()}: "
                    f"{np.unique(y[index < 0]).tolist()}."
                )
            y = index
        return super().get_dataset(X, y)

    # ------------------------------------------------------------ modules
    def initialize(self):
        """Initialize the net, as skorch does, forgetting the inferred classes."""
        vars(self).pop("classes_inferred_", None)
        return super().initialize()

    def augmentation_random_state(self):
        """Seed of the augmentation layers built here: ``random_state`` (a
        hook for subclasses, e.g. one stream per process)."""
        return self.random_state

    def initialize_module(self):
        """Build the trunk (as EEGClassifier does), wrap it in AugNet with
        the method's policy, and set the module's settings."""
        self._check_params()
        super().initialize_module()
        if not isinstance(self.module_, AugNet):  # not an AugNet given as module
            self.module_ = AugNet(self.module_, self.strategy.build_policy(self))
        self._configure_module()
        return self

    def _configure_module(self):
        """Give the module this estimator's copies, layout and temperature."""
        module, strategy = unwrap_module(self), self.strategy
        module.n_copies = strategy.inference_copies(self)
        module.n_copies_train = strategy.training_copies(self)
        module.copies_per_chunk = _int(self.copies_per_chunk)
        module.sequence_augmentation = self.sequence_augmentation
        module.window_size = _int(self.window_size)
        if isinstance(self.augmentation, (str, list, tuple)):  # layers built here
            for layer in augmentation_layers(module):
                layer.temperature = float(self.temperature)

    def get_params_for_optimizer(self, prefix, named_parameters):
        """The trunk's groups, then the method's policy groups (the layers'
        weights at ``aug_lr``, magnitudes at ``magnitude_lr``, no decay)."""
        # torch.compile (compile=True) prefixes the names with "_orig_mod."
        named = [(_uncompiled_name(name), p) for name, p in named_parameters]
        rest = [(name, p) for name, p in named if not name.startswith("augmentation.")]
        args, kwargs = super().get_params_for_optimizer(prefix, rest)
        lr = kwargs.get("lr", self.lr)
        args[0].extend(self.strategy.param_groups(self, named, lr))
        return args, kwargs

    def initialize_optimizer(self, *args, **kwargs):
        """The trunk's optimizer, then the method's own (ADDA/CADDA:
        ``policy_optimizer_``, registered with skorch as a second optimizer)."""
        super().initialize_optimizer(*args, **kwargs)
        self.strategy.initialize_optimizer(self)
        return self

    def get_default_callbacks(self):
        """EEGClassifier's plus :class:`~.PolicyLogger`; ``valid_acc``
        compares labels (window by window for sequences)."""
        callbacks = []
        for name, cb in super().get_default_callbacks():
            if name == "print_log":
                callbacks.append(("augnet_policy", PolicyLogger()))
                cb = PrintLog(keys_ignored=_POLICY_KEYS)
            elif name == "valid_acc":
                cb = EpochScoring(
                    per_window_scoring(accuracy_score),
                    name="valid_acc",
                    lower_is_better=False,
                    target_extractor=self._to_classes,
                )
            callbacks.append((name, cb))
        return callbacks

    # ------------------------------------------------------------ fitting
    def fit(self, X, y=None, **fit_params):
        """As EEGClassifier; unless ``warm_start``, the module parameters
        inferred from the previous data are inferred again (refits on other
        shapes or classes), those set by the user kept."""
        inferred = getattr(self, "inferred_module_params_", [])
        if not self.warm_start:
            for key in inferred:
                vars(self).pop(key, None)
            inferred, self.signal_args_set_ = [], False
        if y is not None and not is_dataset(X):  # e.g. CADDA's policies per class
            self.n_classes_fit_ = len(np.unique(checks.as_array(y)))
        known = set(vars(self))
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self.inferred_module_params_ = inferred + [
                key
                for key in vars(self)
                if key.startswith("module__") and key not in known
            ]

    def get_split_datasets(self, X, y=None, **fit_params):
        """As skorch's; the method may hold out training data (ADDA/CADDA)."""
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        return self.strategy.split(self, dataset_train), dataset_valid

    def train_step(self, batch, **fit_params):
        """As skorch's, after the method's hook (ADDA/CADDA: the policy's
        step, then the batch it augments)."""
        batch = self.strategy.before_train_step(self, batch)
        return super().train_step(batch, **fit_params)

    def _step_optimizer(self, step_fn):
        """skorch's, with the closure run once: by ``optimizer_``; other
        optimizers (``policy_optimizer_``, stepped by the method's hook) step
        without it."""
        self.optimizer_.step(step_fn)
        for name in self._optimizers:
            if name != "optimizer":
                getattr(self, name + "_").step()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """NLL of the averaged model (of every window for sequences), minus
        ``reg * R`` in training (:func:`~.augnet_loss`)."""
        if y_pred.ndim == 3 and tuple(y_true.shape) != (
            y_pred.shape[0],
            y_pred.shape[2],
        ):
            raise ValueError(
                "Per-window predictions of shape (batch, n_classes, n_windows) = "
                f"{tuple(y_pred.shape)} need targets (batch, n_windows) = "
                f"{(y_pred.shape[0], y_pred.shape[2])}, got {tuple(y_true.shape)}. "
                "Batch sequences with braindecode.samplers.SequenceSampler "
                "(iterator_train__sampler=...)."
            )
        nll = super().get_loss(y_pred, y_true, X=X, training=training)
        if not training:
            return nll
        loss, penalty = augnet_loss(
            nll, unwrap_module(self), self.current_reg(), self.current_reg_scale()
        )
        # read by on_batch_end from the step's loss, once the host has waited
        # for the loss anyway: logging costs no synchronisation
        loss.augnet_terms = torch.stack([nll, penalty]).detach()
        return loss

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Log ``train_nll`` and ``aug_reg``; raise a deferred input check."""
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        terms = getattr(kwargs.get("loss"), "augnet_terms", None)
        if training and terms is not None:
            nll, reg_value = terms.tolist()
            self.history.record_batch("train_nll", nll)
            self.history.record_batch("aug_reg", reg_value)
        self._check_deferred_inputs()

    def _check_deferred_inputs(self):
        check = getattr(unwrap_module(self), "check_deferred_inputs", None)
        if callable(check):
            check()

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

    # --------------------------------------------------------- prediction
    def forward_iter(self, X, training=False, device="cpu"):
        """As skorch's; in evaluation, check ``X`` (fitted shape, finite
        parameters) and restart the augmentation draws from their seeds."""
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

    # -------------------------------------------------------------- state
    @property
    def policy_(self):
        """The learned policy as a :class:`pandas.DataFrame` (see
        :func:`~.policy_table`; ADDA/CADDA: with a ``class`` column)."""
        self.check_is_fitted()
        return self.strategy.policy_table(self)

    @property
    def bilevel_policy_(self):
        """ADDA/CADDA: the searched :class:`~.BilevelPolicy` (one module per
        class for CADDA); freeze it with its ``fixed_transforms()``."""
        self.check_is_fitted()
        module = unwrap_module(self)
        if not isinstance(module.augmentation, BilevelPolicy):
            raise AttributeError(
                f"bilevel_policy_ exists for method='adda' or 'cadda', not "
                f"method={self.method!r}: use policy_ or fixed_transforms(clf)."
            )
        return module.augmentation
