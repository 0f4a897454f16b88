"""AugNetClassifier: AugNet as a braindecode/skorch estimator.

The estimator holds skorch's hooks; what depends on ``method=`` (defaults,
policy, parameter groups, copies, training-step hook) is the strategy's, in
:mod:`braindecode_augnet.methods`.
"""

import inspect

import numpy as np
import torch
from braindecode import EEGClassifier
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets
from skorch.callbacks import EpochScoring, PrintLog
from skorch.utils import is_dataset, to_numpy

from . import _checks as checks
from ._contracts import check_inputs, constructor_params
from ._random import predicting
from .callbacks import PolicyLogger
from .layers import augmentation_layers, unwrap_module
from .methods import METHODS as _REGISTRY
from .methods import Method
from .model import AugNet
from .regularization import augnet_loss
from .sequences import per_window_scoring

__all__ = ["AugNetClassifier"]

_POLICY_KEYS = ["aug_weights", "aug_magnitudes"]
#: The ``method=`` values of the library (see :data:`.methods.METHODS`).
METHODS = tuple(_REGISTRY)

#: Settings of the built AugNet: ``set_params`` updates the fitted module.
_MODULE_SETTINGS = frozenset(
    ("n_copies", "n_copies_train", "copies_per_chunk", "sequence_augmentation")
    + ("window_size", "temperature")
)
#: What the policy is built from: ``set_params`` of another value on an
#: initialised net builds the module (and its criterion and optimizer) anew,
#: as skorch does for the module's own parameters.
_POLICY_SETTINGS = ("method", "augmentation", "init_magnitude", "sampling")
#: The policy's groups in the optimizer: ``set_params`` updates them in place.
_GROUP_SETTINGS = frozenset(("lr", "aug_lr", "magnitude_lr", "aug_weight_decay"))


def _differs(a, b):
    try:
        return bool(a != b)
    except (TypeError, ValueError, RuntimeError):  # arrays, tensors
        return a is not b


def _exp(log_probs):
    return torch.exp(log_probs)


def _int(value):
    return None if value is None else int(value)


_COMPILED_PREFIX = "_orig_mod."


def _uncompiled(named_parameters):
    """``(name, parameter)`` pairs with the names in the module, without the
    prefixes that :func:`torch.compile`'s wrapper (``compile=True``) adds."""
    named = []
    for name, parameter in named_parameters:
        while name.startswith(_COMPILED_PREFIX):
            name = name[len(_COMPILED_PREFIX) :]
        named.append((name, parameter))
    return named


class AugNetClassifier(EEGClassifier):
    """AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022) as an EEGClassifier.

    The trunk (``module``) is wrapped in an :class:`~.AugNet`: augmentation
    layers with learned weights and magnitudes feed it augmented copies of
    each input, and predictions average the copies' probabilities. The loss
    is ``NLL - reg * R`` (:func:`~.augnet_loss`). ``y`` holds class labels of
    any type (encoded as positions in ``classes_``; Dataset targets are used
    as class indices). Sequences: ``X`` ``(n_sequences, n_windows, channels,
    times)``, or ``(n_sequences, channels, n_windows * window_size)`` with
    ``window_size``, and ``y`` ``(n_sequences, n_windows)``. Numeric
    parameters accept Python, numpy and 0-d torch numbers.

    Parameters
    ----------
    module : str | type | torch.nn.Module
        The trunk, as for :class:`braindecode.EEGClassifier`.
    augmentation : 'eeg' | AugmentationModule | list of lists, default='eeg'
        ``'eeg'``: the paper's preset (:func:`~.eeg_augmentation`); or per
        layer its candidate transforms. Deep-copied, never modified.
    method : str, default='augnet'
        A key of :data:`braindecode_augnet.methods.METHODS` (``'augnet'``,
        ``'augerino'``, ``'random'``, ``'adda'``, ``'cadda'``); parameters
        left to None take that method's ``defaults``.
    reg : float | None, default=None
        Weight of the regulariser (>= 0).
    reg_scale : {'displacement', 'magnitude'} | None, default=None
        What the regulariser rewards (:func:`~.augmentation_regularizer`).
    reg_warmup : int, default=0
        Epochs over which the regulariser's weight grows from 0 to ``reg``.
    n_copies, n_copies_train : int, default=20, 1
        Augmented copies averaged at inference and in training.
    n_copies_valid : int | None, default=None
        Copies averaged on the validation set after each epoch (None:
        ``n_copies``). Validation costs one trunk pass per copy and window,
        often more than the epoch's training: fewer copies make each epoch
        cheaper, for a noisier validation score (which picks the checkpoint).
    copies_per_chunk : int | None, default=4
        At most this many copies through the trunk at once (memory).
    temperature : float, default=0.05
        Softmax temperature of the weights of the layers built here.
    sampling : {'mixture', 'sampled'} | None, default=None
        Training mode of the layers built from ``augmentation``: the paper's
        mixture of all candidates, or one drawn per example (None: the
        method's default, ``'sampled'`` for AugNet).
    init_magnitude : float, default=0.1
        Initial magnitude, in (0, 1], of the ``'eeg'`` preset's transforms
        (the authors' value: stronger starts hurt small training sets; at 0
        nothing would learn, see the method page).
    aug_lr, magnitude_lr : float | None, default=None
        Learning rates of the layers' weights and of the magnitudes.
    aug_weight_decay : float, default=0.0
        Weight decay of the augmentation parameters.
    unroll_lr : float | None, default=None
        ADDA/CADDA: learning rate of the virtual step (None: ``lr``).
    policy_valid_fraction : float, default=0.2
        ADDA/CADDA: share of the training examples held out for the policy.
    sequence_augmentation : {'window', 'sequence'}, default='window'
        For sequences: a draw per window, or one per sequence.
    window_size : int | None, default=None
        Samples per window of sequences given as one signal.
    random_state : int | numpy.random.RandomState | None, default=None
        Seed of the augmentation draws. Each evaluation call restarts them,
        and draws its ``n_copies`` keyed by the copy's index, the same for
        every example: a window's prediction does not depend on its batch.
        The trunk's initial weights, the batches' order and dropout come from
        torch's global generator, as in skorch: seed it too for a
        reproducible fit (``torch.manual_seed(seed)`` or braindecode's
        ``set_random_seeds``, as the sleep job does before each fit).
    criterion : torch.nn.Module class, default=torch.nn.NLLLoss
        AugNet returns log-probabilities.
    **kwargs
        Passed to :class:`braindecode.EEGClassifier`.

    ``set_params`` of ``n_copies``, ``n_copies_train``, ``copies_per_chunk``,
    ``sequence_augmentation``, ``window_size`` or ``temperature`` updates a
    fitted module at once; setting the attribute takes effect at the next
    :meth:`initialize`, as in skorch.

    Attributes
    ----------
    module_ : AugNet
        The trunk with its augmentation layers.
    classes_ : numpy.ndarray
        The labels; column ``k`` of ``predict_proba`` is ``classes_[k]``.
    n_chans_, n_times_ : int
        Channels and time samples per example of the data last fitted on.
    policy_ : pandas.DataFrame
        The learned policy (:func:`~.policy_table`).
    policy_optimizer_, bilevel_ : torch.optim.Adam, UnrolledPolicySearch
        ADDA/CADDA: the policy's optimiser (``save_params(f_policy_optimizer=
        ...)``) and search.

    Examples
    --------
    Two classes of sinusoids (5 or 12 Hz) plus noise, standardised per
    channel (networks train on inputs of order 1):

    >>> import numpy as np
    >>> from braindecode_augnet import AugNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["low", "high"], size=40)
    >>> t = np.arange(100) / 50.0  # seconds
    >>> freq = np.where(y == "low", 5.0, 12.0)[:, None, None]
    >>> X = np.sin(2 * np.pi * freq * t) + 0.5 * rng.standard_normal((40, 2, 100))
    >>> X = (X - X.mean(axis=(0, 2), keepdims=True)) / X.std(axis=(0, 2), keepdims=True)
    >>> clf = AugNetClassifier(
    ...     "ShallowFBCSPNet", module__sfreq=50.0, n_copies=4, max_epochs=2,
    ...     batch_size=8, lr=1e-3, train_split=None, random_state=0, verbose=0,
    ... ).fit(X, y)
    >>> clf.classes_
    array(['high', 'low'], dtype='<U4')
    >>> clf.predict(X[:4]).shape
    (4,)
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
        n_copies_valid=None,
        copies_per_chunk=4,
        temperature=0.05,
        sampling=None,
        init_magnitude=0.1,
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
        self.n_copies_valid = n_copies_valid
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

    def set_params(self, **kwargs):
        """As skorch's; the settings of the built AugNet (``n_copies``,
        ``temperature``...) also update a fitted module at once. A module
        parameter set here is the user's, no longer an inferred one (see
        :meth:`get_params`)."""
        rebuilt = [
            key
            for key in _POLICY_SETTINGS
            if key in kwargs and _differs(kwargs[key], getattr(self, key, None))
        ]
        initialized = getattr(self, "initialized_", False)
        if initialized:  # before skorch sets them (e.g. lr into the optimizer)
            checks.check_values(kwargs)
        before = dict(vars(self)) if initialized else None
        groups = self._optimizer_settings() if initialized else None
        callbacks = (  # skorch sets callbacks__name__param into them at once
            [(cb, dict(vars(cb))) for _, cb in getattr(self, "callbacks_", [])]
            if initialized
            else None
        )
        previous = self.strategy if rebuilt and initialized else None
        inferred = vars(self).get("inferred_module_params_")
        if inferred:
            self.inferred_module_params_ = [k for k in inferred if k not in kwargs]
        super().set_params(**kwargs)
        if not initialized:
            return self
        try:  # a fitted estimator: refused values leave it as it was
            if rebuilt:  # the fitted policy is another method's, or other layers'
                self._rebuild({key: kwargs[key] for key in rebuilt}, previous)
                return self
            checks.check_params(self)
        except Exception:
            vars(self).clear()
            vars(self).update(before)
            for group, settings in groups:  # skorch sets lr into them at once
                group.update(settings)
            for callback, state in callbacks:
                vars(callback).clear()
                vars(callback).update(state)
            raise
        if _MODULE_SETTINGS.intersection(kwargs):
            self._configure_module()
        if _GROUP_SETTINGS.intersection(kwargs) or any(
            key.startswith("optimizer__") for key in kwargs
        ):
            named = _uncompiled(self.module_.named_parameters())
            lr = kwargs.get("optimizer__lr", kwargs.get("lr"))
            if lr is None:  # the trunk's, as set last
                lr = self.get_params_for("optimizer").get("lr", self.lr)
            self.strategy.update_groups(self, named, lr)
        return self

    def _optimizer_settings(self):
        """Each group of each optimizer with a copy of its settings."""
        optimizers = (vars(self).get(name + "_") for name in self._optimizers)
        return [
            (group, {key: value for key, value in group.items() if key != "params"})
            for optimizer in optimizers
            if optimizer is not None
            for group in optimizer.param_groups
        ]

    def _rebuild(self, reset, previous):
        """The module, criterion and optimizer anew (as skorch after a
        module parameter), without the optimizers and state of the
        ``previous`` method."""
        checks.check_params(self)
        for name in self._optimizers:
            if name != "optimizer":  # e.g. ADDA's policy_optimizer_
                self._unregister_attribute(name)
                vars(self).pop(name + "_", None)
        previous.forget(self)
        self._initialize_module(reason=self._format_reinit_msg("module", reset))
        for part in ("criterion", "optimizer"):
            reason = self._format_reinit_msg(part, triggered_directly=False)
            getattr(self, f"_initialize_{part}")(reason=reason)

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
        given = vars(self).pop("_classes_given", None)
        super().check_data(X, y)
        if classes is not None:
            self.classes_inferred_ = classes
        elif given is not None and self.classes is None:
            self.classes_inferred_ = given  # partial_fit(..., classes=)
        self.n_chans_, self.n_times_ = checks.window_shape(X, _int(self.window_size))
        checks.check_instance_shape(self, X, self.n_chans_, self.n_times_)
        self._sync_saved_state()
        signal = checks.epochs_signal(X)
        if signal is not None or vars(self).get("_fit_anew", False):
            self.epochs_signal_ = signal  # arrays that go on training keep it
        try:
            checks.check_fit_lengths(X, y, getattr(self, "classes_", [0, 1]))
            if y is not None:
                checks.check_n_outputs(self)
        except ValueError:  # refused: no classes inferred from this call kept
            if classes is None:
                vars(self).pop("classes_inferred_", None)
            raise

    def get_dataset(self, X, y=None):
        """As EEGClassifier, float32 for float64 arrays; ``y`` (labels)
        encoded as positions in ``classes_``."""
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            X = X.astype(np.float32)
        classes = getattr(self, "classes_", None)
        if y is not None and classes is not None and not is_dataset(X):
            y = checks.encode_labels(X, y, classes, _int(self.window_size))
        return super().get_dataset(X, y)

    # ------------------------------------------------------------ modules
    def initialize(self):
        """Initialize the net, as skorch does, forgetting the inferred classes."""
        vars(self).pop("classes_inferred_", None)
        vars(self).pop("labels_unknown_", None)
        return super().initialize()

    def augmentation_random_state(self):
        """Seed of the augmentation layers built here: ``random_state`` (a
        hook for subclasses, e.g. one stream per process)."""
        return self.random_state

    def initialize_module(self):
        """Build the trunk (as EEGClassifier does), wrap it in AugNet with
        the method's policy, and set the module's settings."""
        checks.check_params(self)
        super().initialize_module()
        if not isinstance(self.module_, AugNet):  # not an AugNet given as module
            self.module_ = AugNet(self.module_, self.strategy.build_policy(self))
        checks.check_transforms_sfreq(self)
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
        named = _uncompiled(named_parameters)
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
        check_inputs(X, y)
        inferred = getattr(self, "inferred_module_params_", [])
        if not self.warm_start:
            for key in inferred:
                vars(self).pop(key, None)
            inferred, self.signal_args_set_ = [], False
        vars(self).pop("n_classes_fit_", None)  # CADDA's policies per class
        if y is not None and not is_dataset(X):
            try:  # labels that cannot be sorted are refused by check_data
                self.n_classes_fit_ = len(np.unique(checks.as_array(y)))
            except TypeError:
                pass
        known = set(vars(self))
        # a fit that initialises the net anew may change the data's shape
        initialized = getattr(self, "initialized_", False)
        vars(self)["_fit_anew"] = not (self.warm_start and initialized)
        if not self.warm_start:
            # the module parameters inferred again are set as on a new net:
            # on an initialised one skorch would build the module for them
            # too, once more than a first fit, drawing other initial weights
            # from torch's generator than a new estimator
            self.initialized_ = False
        try:
            return super().fit(X, y, **fit_params)
        finally:
            vars(self).pop("_fit_anew", None)
            self.inferred_module_params_ = inferred + [
                key
                for key in vars(self)
                if key.startswith("module__") and key not in known
            ]

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """As :class:`braindecode.EEGClassifier`, inputs and parameters
        checked first (``fit`` trains through here: parameters changed with
        ``set_params`` since the net was initialised are checked too); the
        ``classes`` of a first call are ``classes_``, as in scikit-learn
        (unless the ``classes`` parameter is set)."""
        check_inputs(X, y)
        checks.check_params(self)
        if not vars(self).get("_fit_anew"):
            checks.check_first_classes(self, y, classes)
        if getattr(self, "initialized_", False) and not vars(self).get("_fit_anew"):
            checks.check_fitted_shape(
                self,
                X,
                _int(self.window_size),
                "or fit anew (warm_start=False): partial_fit and a warm start "
                "go on training the fitted net",
            )
            checks.check_fitted_signal(self, X)
        # the classes of a first partial_fit, as scikit-learn's (check_data)
        self._classes_given = None if classes is None else np.asarray(classes)
        return super().partial_fit(X, y, classes=classes, **fit_params)

    def _set_signal_args(self, X, y, classes):
        """As braindecode, recording which module parameters it inferred."""
        checks.check_signal_args(self, X)
        known = set(vars(self))
        super()._set_signal_args(X, y, classes)
        inferred = vars(self).get("inferred_module_params_", [])
        self.inferred_module_params_ = inferred + [
            key
            for key in vars(self)
            if key.startswith("module__") and key not in known and key not in inferred
        ]

    def get_params(self, deep=True, **kwargs):
        """As skorch's, without the module sizes braindecode inferred at fit
        (``module__n_chans``, ``module__n_outputs``...): they are not
        constructor parameters, and :func:`sklearn.base.clone` of a fitted
        estimator infers them again from its data."""
        params = super().get_params(deep=deep, **kwargs)
        return constructor_params(params, vars(self).get("inferred_module_params_"))

    def get_split_datasets(self, X, y=None, **fit_params):
        """As skorch's; the method may hold out training data (ADDA/CADDA)."""
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        return self.strategy.split(self, dataset_train), dataset_valid

    def train_step(self, batch, **fit_params):
        """As skorch's, after the method's hook (ADDA/CADDA: the policy's
        step, then the batch it augments); an error raised where an earlier
        step left parameters NaN or infinite is reported as divergence."""
        strategy = self.strategy
        batch = strategy.before_train_step(self, batch)
        if batch is None:
            raise TypeError(
                f"{type(strategy).__name__}.before_train_step returned None: it "
                "must return the batch the step trains on (end it with "
                "`return batch`)."
            )
        try:
            return super().train_step(batch, **fit_params)
        except RuntimeError as error:  # e.g. a draw from NaN weights
            if checks.parameters_finite(unwrap_module(self)):
                raise
            raise FloatingPointError(
                f"The parameters are not finite at epoch {len(self.history)}: "
                + checks.DIVERGED
            ) from error

    def validation_step(self, batch, **fit_params):
        """As skorch's, averaging ``n_copies_valid`` copies (if set)."""
        module = unwrap_module(self)
        copies, module.n_copies = module.n_copies, self.strategy.validation_copies(self)
        try:
            return super().validation_step(batch, **fit_params)
        finally:
            module.n_copies = copies

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
        checks.check_per_window_targets(y_pred, y_true)
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
                + checks.DIVERGED
            )

    # --------------------------------------------------------- prediction
    def forward_iter(self, X, training=False, device="cpu"):
        """As skorch's; in evaluation, check ``X`` (fitted shape, finite
        parameters) and restart the augmentation draws from their seeds."""
        if not training:
            self.check_is_fitted()
            check_inputs(X, predicting=True)
            checks.check_input(self, X, _int(self.window_size))
            unwrap_module(self).reset_random_state()
        outputs = super().forward_iter(X, training=training, device=device)
        if not training:  # each example's draws independent of its batch
            outputs = predicting(outputs)
        return self._checked_outputs(outputs)

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
        if classes is None and vars(self).get("labels_unknown_"):
            raise ValueError(
                "The parameters loaded with load_params hold no class labels (saved "
                "by an older version, or labels that JSON cannot hold, e.g. "
                "tuples): pass classes=[...] (the labels of the "
                "fitted estimator, in the order of its classes_) to decode "
                "the predictions."
            )
        return index if classes is None else classes[index]

    # --------------------------------------------------------- persistence
    def __getstate__(self):
        """As skorch's, without the flag of a fit in progress (a pickle
        taken during a fit is not one)."""
        state = super().__getstate__()
        state.pop("_fit_anew", None)
        return state

    def __setstate__(self, state):
        """As skorch's; an estimator pickled by an older version takes the
        defaults of the constructor parameters added since (e.g.
        ``n_copies_valid``)."""
        super().__setstate__(state)
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if param.default is not param.empty and name not in vars(self):
                setattr(self, name, param.default)

    def _sync_saved_state(self):
        """The class labels and the input shape that the module's state dict
        carries (:meth:`~.AugNet.get_extra_state`)."""
        module = unwrap_module(self)
        module.labels = getattr(self, "classes_", None)
        shape = (getattr(self, "n_chans_", None), getattr(self, "n_times_", None))
        module.input_shape = None if None in shape else shape

    def save_params(self, *args, **kwargs):
        """As skorch's; ``f_params`` also holds the class labels, the input
        shape and the augmentation's modules, so that :meth:`load_params`
        onto a new estimator predicts labels, checks the shape of its
        inputs, and refuses parameters of other candidates."""
        if self.initialized_:
            self._sync_saved_state()
        return super().save_params(*args, **kwargs)

    def load_params(self, *args, **kwargs):
        """As skorch's, restoring the class labels and input shape saved with
        the parameters (a ValueError when ``classes`` was passed and differs
        from them, or when they were saved with other augmentation modules:
        then no parameter is loaded), from ``f_params`` or a ``checkpoint``."""
        if getattr(self, "initialized_", False):
            unwrap_module(self).loaded_state = None  # set if parameters load
        super().load_params(*args, **kwargs)
        module = unwrap_module(self)
        saved = module.labels
        loaded = module.loaded_state is not None
        state = module.loaded_state or {}
        if state.get("input_shape") is not None:
            self.n_chans_, self.n_times_ = state["input_shape"]
        if self.classes is not None:
            if saved is not None and not np.array_equal(
                np.asarray(self.classes), saved
            ):
                raise ValueError(
                    f"The parameters were saved with classes {saved.tolist()}, but "
                    f"this estimator has classes={list(self.classes)}: pass the "
                    "saved classes, or leave classes=None to use them."
                )
        elif saved is not None:
            self.classes_inferred_ = saved
        elif loaded and "classes" not in state:
            self.labels_unknown_ = True  # an older version's, or unsavable labels
        return self

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
        return self.strategy.bilevel_policy(self)
