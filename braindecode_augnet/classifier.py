"""AugNetClassifier: AugNet as a braindecode/skorch estimator."""

import copy

import mne
import numpy as np
import pandas as pd
import torch
from braindecode import EEGClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from skorch.callbacks import EpochScoring, PrintLog
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_device, to_numpy

from ._contracts import check_inputs, constructor_params
from ._random import predicting, seed_stream
from ._validation import check_int, check_positive, check_unit
from .baselines import RandomPolicy, augerino_augmentation, candidate_transforms
from .bilevel import BilevelPolicy, UnrolledPolicySearch
from .callbacks import PolicyLogger
from .layers import (
    SAMPLING_MODES,
    AugmentationModule,
    augmentation_layers,
    unwrap_module,
)
from .model import SEQUENCE_AUGMENTATIONS, AugNet
from .policy import policy_table
from .presets import eeg_augmentation
from .regularization import REGULARIZER_SCALES, augmentation_regularizer
from .sequences import per_window_scoring

__all__ = ["AugNetClassifier"]

_POLICY_KEYS = ["aug_weights", "aug_magnitudes"]
METHODS = ("augnet", "augerino", "random", "adda", "cadda")
#: Methods whose policy is searched by bilevel optimisation (plain data
#: augmentation, see :mod:`braindecode_augnet.bilevel`).
BILEVEL_METHODS = ("adda", "cadda")


# numeric parameters: (check, its keyword arguments); those of _OPTIONAL may be None
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
    "unroll_lr": (check_positive, {}),
    "policy_valid_fraction": (check_unit, {}),
    "window_size": (check_int, {"low": 1}),
}
_OPTIONAL = (
    "reg",
    "copies_per_chunk",
    "aug_lr",
    "magnitude_lr",
    "unroll_lr",
    "window_size",
)

# Defaults that depend on the method, used where the parameter is None;
# learning rates as multiples of the trunk's ``lr``. Augerino as Benton et
# al. (2020) train it (augerino/losses.py and experiments/*/train_augerino.py
# of their code): regulariser weight 0.01 on the norm of the widths, one Adam
# learning rate for the network and the augmentation widths. ADDA/CADDA: no
# regulariser (the validation loss alone drives the policy), the policy's
# learning rate as AugNet's weights'.
_METHOD_DEFAULTS = {
    "augnet": {
        "reg": 0.1,
        "aug_lr": 10.0,
        "magnitude_lr": 3.0,
        "reg_scale": "displacement",
    },
    "augerino": {
        "reg": 0.01,
        "aug_lr": 1.0,
        "magnitude_lr": 1.0,
        "reg_scale": "magnitude",
    },
    "random": {"reg": 0, "aug_lr": 1.0, "magnitude_lr": 1.0, "reg_scale": "magnitude"},
    # magnitude_lr None: the same as aug_lr
    "adda": {"reg": 0, "aug_lr": 10.0, "magnitude_lr": None, "reg_scale": "magnitude"},
    "cadda": {"reg": 0, "aug_lr": 10.0, "magnitude_lr": None, "reg_scale": "magnitude"},
}
_DIVERGED = (
    "training diverged. Standardise the inputs (X of order 1, e.g. z-scored per "
    "channel), or lower lr, aug_lr or reg."
)


def _exp(log_probs):
    return torch.exp(log_probs)


def _as_array(y):
    return to_numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)


def _n_dims(X):
    """Dimensions of the array ``X`` (4 for sequences), ``None`` for others."""
    return len(np.shape(X)) if isinstance(X, (np.ndarray, torch.Tensor)) else None


def _input_shape(X):
    """``(channels, times)`` of the examples of ``X``; ``(None, None)`` if unknown."""
    if isinstance(X, mne.BaseEpochs):
        return len(X.ch_names), len(X.times)
    try:
        shape = tuple(np.shape(X[0][0] if is_dataset(X) else X[0]))
    except (IndexError, KeyError, TypeError):
        return None, None
    return shape[-2:] if len(shape) >= 2 else (None, None)


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
    is ``NLL - reg * R`` with ``R`` from :func:`~.augmentation_regularizer`.

    ``y`` holds class labels of any type, as for scikit-learn classifiers
    (strings, ``{1, 5, 9}``, ``{-1, 0, 1}``...; a column vector is raveled
    with a warning, continuous values are rejected): they are encoded as
    positions in ``classes_`` for training, and :meth:`predict` returns values
    of ``classes_``. Targets held in a Dataset (e.g. a braindecode windows
    dataset) are used as given: class indices, with ``classes`` passed when
    the labels should be other values. Custom scoring callbacks see the
    targets as class indices (``valid_acc`` compares labels with labels).

    **Sequences** (e.g. sleep staging with :class:`braindecode.models.USleep`
    or :class:`~.TimeDistributedSleepStager`): ``X`` shaped ``(n_sequences,
    n_windows, channels, times)``, or ``(n_sequences, channels, n_windows *
    window_size)`` with ``window_size`` set, and ``y`` shaped
    ``(n_sequences, n_windows)``, one label per window; or a braindecode
    windows dataset batched into sequences by
    :class:`braindecode.samplers.SequenceSampler` (``iterator_train__sampler``).
    The trunk returns per-window logits ``(batch, n_classes, n_windows)``;
    the loss is the NLL per window (mean over windows), ``predict`` returns
    ``(n_sequences, n_windows)`` labels, ``predict_proba`` ``(n_sequences,
    n_classes, n_windows)`` probabilities averaged per window over copies of
    the whole sequence, and ``valid_acc`` is the accuracy over windows
    (:func:`~.per_window_scoring` makes any score per window).

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
    method : {'augnet', 'augerino', 'random', 'adda', 'cadda'}
        ``'augnet'``: the layers as given. ``'augerino'``: every candidate
        with a magnitude applied jointly with a learned range, regularised by
        the norm of the ranges, with Benton et al.'s (2020) settings when
        ``reg`` and ``aug_lr`` are left to None (weight 0.01, the trunk's
        learning rate), see :func:`~.augerino_augmentation`. ``'random'``:
        the TrivialAugment-style :class:`~.RandomPolicy` over the candidates
        (nothing learned, no averaging at inference). ``'adda'`` and
        ``'cadda'``: the layers as a data-augmentation policy searched by
        bilevel optimisation (ADDA, and its class-wise variant CADDA with
        one policy per class; Rommel et al. 2022, after DADA, Li et al.
        2020): ``policy_valid_fraction`` of the training examples is held
        out, and before each training step of the trunk the policy moves
        along the gradient of the held-out loss after one virtual SGD step
        of the trunk on the augmented batch (exact second order, see
        :func:`~.unrolled_hypergradient`); the trunk then trains on the
        batch augmented with one candidate drawn per example. Nothing is
        averaged at inference: :meth:`predict` uses the bare trunk. See
        Notes.
    reg : float | None
        Weight of the invariance-promoting regulariser (finite, >= 0).
        ``None``: the method's own default, 0.1 for AugNet, 0.01 for
        Augerino (Benton et al.'s) and 0 for ADDA/CADDA, which take no
        regulariser. With the default ``reg_scale``, AugNet's 0.1 learned a
        maximal shift of 0.38-0.54 Hz on the paper's sinusoids, whose
        frequency jitter is 0.5 Hz (20 runs: 5 seeds, two trunks, both
        ``sampling`` modes; 0.3 gave 0.40-0.82 Hz), and beat 0.3 on two seeds
        of the synthetic sleep job (see the method page).
    reg_scale : {'displacement', 'magnitude'} | None
        What the regulariser rewards (see :func:`~.augmentation_regularizer`):
        ``'magnitude'``, the paper's, each candidate's weight times its
        magnitude in [0, 1]; ``'displacement'``, the same weighed by how much
        the candidate's full range changes the data (measured on the first
        training batch), so that a candidate whose whole range barely changes
        the data cannot win a layer by sitting at its cap. ``None``: the
        method's default, ``'displacement'`` for AugNet (on the paper's
        sinusoids it selected the frequency shift in 20/20 runs, against
        about 3/5 for ``'magnitude'``: see the method page) and
        ``'magnitude'`` for Augerino.
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
        For ADDA/CADDA, the relaxation in the hypergradient only: the trunk
        always trains on one candidate drawn per example.
    init_magnitude : float
        Initial magnitude, in [0, 1], of the transforms of the ``'eeg'``
        preset. The default, 0.5, starts every candidate strong enough for
        the data term to tell harmful from harmless ones in the first steps:
        from 0.1, the paper's value, the weights settled before the
        magnitudes moved; 0.25 did no better on the synthetic sleep job (see
        "Choosing the defaults" on the method page).
    aug_lr : float | None
        Learning rate of the layers' weights (``alpha``). ``None``: for
        AugNet 10 times the trunk's learning rate, so that the policy moves
        within a few epochs; for Augerino the trunk's, as Benton et al.; for
        ADDA/CADDA 10 times the trunk's, as AugNet (the policy's own Adam).
        AugNet's fast weights commit to the candidate the regulariser favours
        before the data term has a say: on the paper's sinusoids that is the
        frequency shift (at the trunk's rate, the mixture with an MLP trunk
        kept the phase noise instead), but on sleep EEG it is fully random
        phases, and at the trunk's rate AugNet scored higher there (5 seeds);
        the sleep pipeline (:mod:`~braindecode_augnet.pipeline`) therefore
        passes ``aug_lr=lr``. See the method page, "The weights' learning
        rate".
    magnitude_lr : float | None
        Learning rate of the magnitudes and probabilities. ``None``: for
        AugNet 3 times the trunk's learning rate, for Augerino the trunk's.
        For ADDA/CADDA, ``aug_lr``.
        The regulariser pushes every magnitude up with a steady force while
        the data term's gradient is noisy: with Adam a magnitude moves by
        about its learning rate at every step, and at 10 times the trunk's
        (the weights' rate) the learned sinusoid range wandered between 0.5
        and 1.8 Hz from seed to seed, against 0.6 to 1.1 Hz at 3 times (see
        the method page).
    aug_weight_decay : float
        Weight decay of the augmentation parameters. Default 0: decay would
        pull magnitudes and weights towards 0 regardless of the data.
    unroll_lr : float | None
        ADDA/CADDA only: learning rate of the virtual SGD step of the trunk
        in the hypergradient. ``None``: the trunk's learning rate, as DARTS
        and DADA.
    policy_valid_fraction : float
        ADDA/CADDA only: fraction of the training examples held out (drawn
        with ``random_state``, stratified by class when the targets are
        known) for the policy's validation loss; the trunk trains on the
        rest. Strictly between 0 and 1.
    sequence_augmentation : {'window', 'sequence'}
        For sequences: a draw per window, or one draw per sequence shared by
        its windows (see :class:`~.AugNet`). Ignored for single windows.
    window_size : int | None
        Time samples per window of sequences given as ``(n_sequences,
        channels, n_windows * window_size)``; ``None`` for windows and for
        ``(n_sequences, n_windows, channels, times)`` sequences.
    random_state : int | numpy.random.RandomState | None
        Seed of the augmentation draws: of the layers and of the transforms
        left unseeded (``random_state=None``) in a list ``augmentation`` (an
        AugmentationModule keeps its own seeds). Every evaluation call
        (``predict``, ``predict_proba``, ``forward``) restarts the draws from
        their seeds: with seeded draws, the same model and data give the same
        predictions at every call and after pickling. In these calls the
        ``n_copies`` draws are keyed by the copy's index, the same for every
        example (:func:`~braindecode_augnet._random.keyed_copies`): an
        example's prediction does not depend on the other examples, their
        order, ``batch_size`` or ``copies_per_chunk``. ``None``: torch's
        global generator (:func:`torch.manual_seed`), one seed per call.
    criterion : torch.nn.Module class
        Defaults to :class:`torch.nn.NLLLoss` (AugNet returns
        log-probabilities).
    compile : bool
        skorch's option (default False): wrap ``module_`` with
        :func:`torch.compile`, with the ``compile__*`` parameters as its
        arguments, e.g. ``compile=True, compile__backend="aot_eager"`` or
        ``compile__mode="max-autotune"`` (the default backend, inductor, needs
        a C compiler on CPU). Off by default: on CPU (``python
        benchmarks/bench_training_step.py --quick --compile inductor``) the
        first step compiled for about a minute and later steps took 0.80-0.90x
        the eager ones (the trunk alone 0.72-0.76x): the augmentation layers
        gain little, as dynamo guards their shared methods on each
        candidate's class, reaches its recompile limit and runs the rest
        eagerly (``benchmarks/README.rst`` gives the figures); on a GPU,
        where the cost is many small kernels, it is still to be measured.
        The policy, the
        regulariser, the learning-rate groups, pickling and the predictions
        are those of the eager module (:func:`~.layers.unwrap_module` reaches
        the :class:`AugNet` inside the compiled wrapper); ``module_`` is then
        the wrapper, and its ``state_dict`` keys start with ``_orig_mod.``.
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
        Holds, per epoch, ``aug_reg``, ``aug_weights`` and ``aug_magnitudes``
        (ADDA/CADDA: also ``policy_valid_loss``, the held-out loss after the
        virtual step).
    bilevel_ : UnrolledPolicySearch
        ADDA/CADDA only: the policy's optimiser and held-out batches.

    Notes
    -----
    ADDA/CADDA here follow DADA and CADDA (Rommel et al. 2022) with these
    approximations. The hypergradient is the one-step unrolled one of DARTS,
    computed exactly (second order through
    :func:`torch.func.functional_call`) rather than with DARTS'
    finite-difference Hessian-vector product: the networks are small, the
    exact product costs one more backward pass, and it has no step size to
    tune. The virtual step is plain SGD, whatever the trunk's optimiser. The
    selection of candidates is relaxed as the layers' ``sampling`` says:
    the softmax mixture (DARTS' relaxation) or one candidate per example
    with a straight-through gradient (close to DADA's Gumbel-softmax); the
    magnitudes get reparametrised gradients and the involutions'
    probabilities straight-through relaxed Bernoulli ones (instead of
    DADA's RELAX estimator). Policy and trunk are updated alternately at
    every batch (policy first), in one run: the trunk trained during the
    search is the model returned, without the papers' second training of a
    new network with the frozen policy (freeze it with
    ``bilevel_policy_.fixed_transforms()`` to run that step), so the
    training times measured here are lower bounds of the papers' cost.

    References
    ----------
    .. [1] Rommel, C., Moreau, T., & Gramfort, A. (2022). Deep invariant
       networks with differentiable augmentation layers. Advances in Neural
       Information Processing Systems.
    .. [2] Rommel, C., Moreau, T., Paillard, J., & Gramfort, A. (2022). CADDA:
       Class-wise automatic differentiable data augmentation for EEG signals.
       International Conference on Learning Representations.
    .. [3] Li, Y., Hu, G., Wang, Y., Hospedales, T., Robertson, N. M., &
       Yang, Y. (2020). DADA: Differentiable automatic data augmentation.
       European Conference on Computer Vision.

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
        if self.reg_scale is not None and self.reg_scale not in REGULARIZER_SCALES:
            raise ValueError(
                f"reg_scale must be one of {REGULARIZER_SCALES} or None (the "
                f"method's default), got {self.reg_scale!r}."
            )
        fraction = self._number("policy_valid_fraction")
        if not 0.0 < fraction < 1.0:
            raise ValueError(
                "policy_valid_fraction must be strictly between 0 and 1 (the "
                f"share of training examples held out for ADDA/CADDA), got {fraction}."
            )
        if self.method in BILEVEL_METHODS and self._number("reg"):
            raise ValueError(
                f"method={self.method!r} takes no regulariser: its policy is learned "
                f"from the held-out loss. Set reg=0 or None, got reg={self.reg!r}."
            )
        if self.sequence_augmentation not in SEQUENCE_AUGMENTATIONS:
            raise ValueError(
                f"sequence_augmentation must be one of {SEQUENCE_AUGMENTATIONS}, "
                f"got {self.sequence_augmentation!r}."
            )

    def _is_sequence(self, X):
        """Whether the array ``X`` holds sequences (4-D, or 3-D with window_size)."""
        n_dims = _n_dims(X)
        return n_dims == 4 or (n_dims == 3 and self.window_size is not None)

    def _check_targets_shape(self, X, y):
        """Per-example targets for windows, ``(n, n_windows)`` for sequences."""
        x_shape, y_shape = tuple(np.shape(X)), np.shape(y)
        if not self._is_sequence(X):
            if len(y_shape) == 2 and y_shape[1] > 1 and len(x_shape) == 3:
                raise ValueError(
                    f"y of shape {y_shape} holds one label per window of sequences, "
                    f"but X of shape {x_shape} holds windows (batch, channels, "
                    "times): pass sequences (n_sequences, n_windows, channels, "
                    "times), or set window_size for sequences (n_sequences, "
                    f"channels, n_windows * window_size), e.g. window_size="
                    f"{x_shape[-1] // y_shape[1]}."
                )
            return
        if len(x_shape) == 4:
            expected = x_shape[:2]
        else:
            window_size = self._number("window_size")
            if x_shape[-1] % window_size:
                raise ValueError(
                    f"X of shape {x_shape} does not hold whole windows of "
                    f"window_size={window_size} samples: expected (n_sequences, "
                    "channels, n_windows * window_size)."
                )
            expected = (x_shape[0], x_shape[-1] // window_size)
        if tuple(y_shape) != expected:
            raise ValueError(
                f"Sequences X of shape {x_shape} need one target per window, y of "
                f"shape (n_sequences, n_windows) = {expected}, got {tuple(y_shape)}."
            )

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
            if not is_dataset(X) and _n_dims(X) is not None:
                self._check_targets_shape(X, y)
        classes = vars(self).get("classes_inferred_")
        super().check_data(X, y)
        if classes is not None:
            self.classes_inferred_ = classes
        unwrap_module(self).labels = getattr(self, "classes_", None)
        self.n_chans_, self.n_times_ = self._window_shape(X)
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
        vars(self).pop("labels_unknown_", None)
        return super().initialize()

    def _window_shape(self, X):
        """``(channels, times)`` of the windows of ``X`` (of each window of a
        sequence given as one signal with ``window_size``)."""
        n_chans, n_times = _input_shape(X)
        window_size = self._number("window_size")
        if _n_dims(X) == 3 and window_size and n_times and n_times % window_size == 0:
            n_times = window_size
        return n_chans, n_times

    def _check_input(self, X):
        shape = self._window_shape(X)
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
    def _build_augmentation(self, random_state=None):
        """The augmentation layers, drawing with ``random_state`` (default:
        :meth:`augmentation_random_state`)."""
        if random_state is None:
            random_state = self.augmentation_random_state()
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
                random_state=random_state,
            )
        if isinstance(aug, AugmentationModule):
            return copy.deepcopy(aug)
        if isinstance(aug, (list, tuple)):
            seeds = seed_stream(random_state)
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
        if self.method in BILEVEL_METHODS:
            augmentation = self._bilevel_policy()
        else:
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
            sequence_augmentation=self.sequence_augmentation,
            window_size=self._number("window_size"),
        )
        return self

    def _n_classes(self):
        """Number of classes, known before the trunk is built (CADDA)."""
        n_outputs = self.get_params_for("module").get("n_outputs")
        if n_outputs is None and self.classes is not None:
            n_outputs = len(self.classes)
        if n_outputs is None:
            raise ValueError(
                "method='cadda' builds one policy per class and needs their number "
                "before fitting: pass classes=... or module__n_outputs=..."
            )
        return int(n_outputs)

    def _bilevel_policy(self):
        """The ADDA policy, or one CADDA policy per class (own draws each)."""
        n_policies = self._n_classes() if self.method == "cadda" else 1
        if isinstance(self.augmentation, AugmentationModule):
            # the user's module keeps its seeds: every copy draws alike
            return BilevelPolicy(
                [copy.deepcopy(self.augmentation) for _ in range(n_policies)]
            )
        seeds = seed_stream(self.augmentation_random_state())
        return BilevelPolicy(
            [self._build_augmentation(next(seeds)) for _ in range(n_policies)]
        )

    def infer(self, x, **fit_params):
        """Forward pass, with the current copy settings and temperature."""
        module = unwrap_module(self)
        # plain data augmentation (random, ADDA, CADDA): no copies at inference
        plain = self.method == "random" or self.method in BILEVEL_METHODS
        module.n_copies = 1 if plain else self._number("n_copies")
        # ADDA/CADDA augment in the training step: the forward pass has none
        bilevel = self.method in BILEVEL_METHODS
        module.n_copies_train = 1 if bilevel else self._number("n_copies_train")
        module.copies_per_chunk = self._number("copies_per_chunk")
        module.sequence_augmentation = self.sequence_augmentation
        module.window_size = self._number("window_size")
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
        # torch.compile (compile=True) prefixes the names with "_orig_mod."
        named = [(_uncompiled_name(name), p) for name, p in named_parameters]
        rest = [(name, p) for name, p in named if not name.startswith("augmentation.")]
        args, kwargs = super().get_params_for_optimizer(prefix, rest)
        if self.method not in BILEVEL_METHODS:  # their policy has its own
            args[0].extend(self._augmentation_groups(named, kwargs.get("lr", self.lr)))
        return args, kwargs

    def _augmentation_groups(self, named, lr):
        """Parameter groups of the weights and of the magnitudes."""
        defaults = _METHOD_DEFAULTS[self.method]
        aug_lr = self._number("aug_lr") or defaults["aug_lr"] * lr
        magnitude_lr = self._number("magnitude_lr")
        if magnitude_lr is None:
            factor = defaults["magnitude_lr"]
            magnitude_lr = aug_lr if factor is None else factor * lr
        decay = self._number("aug_weight_decay")
        aug = [(name, p) for name, p in named if name.startswith("augmentation.")]
        weights = [p for name, p in aug if name.endswith("alpha")]
        strengths = [p for name, p in aug if not name.endswith("alpha")]
        return [
            {"params": params, "lr": group_lr, "weight_decay": decay}
            for params, group_lr in ((weights, aug_lr), (strengths, magnitude_lr))
            if params
        ]

    def initialize_optimizer(self, *args, **kwargs):
        """The trunk's optimizer; for ADDA/CADDA, also the policy's search.

        The policy of ADDA/CADDA is optimised by Adam with ``betas=(0.5,
        0.999)`` (as DARTS' and DADA's architecture/policy parameters), at
        ``aug_lr`` (weights) and ``magnitude_lr`` (magnitudes), in
        :attr:`bilevel_`.
        """
        super().initialize_optimizer(*args, **kwargs)
        if self.method in BILEVEL_METHODS:
            self.bilevel_ = self._new_search()
        return self

    def _new_search(self, optimizer_state=None):
        module = unwrap_module(self)
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        lr = self.get_params_for("optimizer").get("lr", self.lr)
        optimizer = torch.optim.Adam(
            self._augmentation_groups(named, lr), betas=(0.5, 0.999)
        )
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)
        unroll_lr = self._number("unroll_lr") or lr
        return UnrolledPolicySearch(module.augmentation, optimizer, unroll_lr)

    def _search(self):
        """:attr:`bilevel_`, bound again to this net's policy after a copy.

        Pickling or deep-copying the net copies the module apart from
        ``bilevel_`` (skorch serialises modules on their own): the search is
        then rebuilt on the copy's policy, with its optimiser's state.
        """
        search = self.bilevel_
        if search.policy is not unwrap_module(self).augmentation:
            self.bilevel_ = search = self._new_search(search.optimizer_state)
        return search

    def get_default_callbacks(self):
        """EEGClassifier's callbacks plus :class:`~.PolicyLogger`.

        ``valid_acc`` compares the predictions with the targets as labels
        (values of ``classes_``), window by window for sequences.
        """
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

    # ------------------------------------------------------------- fitting
    def fit(self, X, y=None, **fit_params):
        """Initialize and fit the module, as :class:`braindecode.EEGClassifier`.

        Unless ``warm_start``, the module parameters braindecode inferred from
        the previous data (``n_chans``, ``n_times``, ``n_outputs``...) are
        inferred again, so that the estimator can be refitted on other shapes
        or classes; those set by the user are kept.
        """
        check_inputs(X, y)
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

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """As :class:`braindecode.EEGClassifier`, inputs checked first."""
        check_inputs(X, y)
        return super().partial_fit(X, y, classes=classes, **fit_params)

    def _set_signal_args(self, X, y, classes):
        """As braindecode, recording which module parameters it inferred."""
        known = set(vars(self))
        super()._set_signal_args(X, y, classes)
        inferred = vars(self).get("inferred_module_params_", [])
        self.inferred_module_params_ = inferred + [
            key
            for key in vars(self)
            if key.startswith("module__") and key not in known and key not in inferred
        ]

    def get_params(self, deep=True, **kwargs):
        """As skorch's, without the module parameters inferred from the data.

        The module sizes braindecode inferred at fit (``module__n_chans``,
        ``module__n_times``, ``module__n_outputs``...) are not constructor
        parameters: :func:`sklearn.base.clone` of a fitted estimator infers
        them again from the data it is fitted on.
        """
        params = super().get_params(deep=deep, **kwargs)
        return constructor_params(params, vars(self).get("inferred_module_params_"))

    def set_params(self, **kwargs):
        """As skorch's; a module parameter set here is the user's, no longer
        an inferred one (see :meth:`get_params`)."""
        inferred = vars(self).get("inferred_module_params_")
        if inferred:
            self.inferred_module_params_ = [k for k in inferred if k not in kwargs]
        return super().set_params(**kwargs)

    def get_dataset(self, X, y=None):
        """As EEGClassifier, with a float32 default for numpy inputs.

        ``y`` (labels) is encoded as class indices, positions in ``classes_``.
        """
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            X = X.astype(np.float32)
        classes = getattr(self, "classes_", None)
        if y is not None and classes is not None and not is_dataset(X):
            y = _as_array(y)
            if self._is_sequence(X):  # (n_sequences, n_windows) labels
                self._check_targets_shape(X, y)
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

    def get_split_datasets(self, X, y=None, **fit_params):
        """As skorch's; ADDA/CADDA also hold out the policy's validation set.

        ``policy_valid_fraction`` of the training dataset (stratified by
        class when its targets are known, drawn with ``random_state``) goes
        to :attr:`bilevel_`; the trunk trains on the rest.
        """
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        if self.method in BILEVEL_METHODS:
            dataset_train, held_out = self._hold_out(dataset_train)
            # as the training iterator, but keeping a last smaller batch: the
            # held-out set may be smaller than batch_size
            kwargs = self.get_params_for("iterator_train")
            batch_size = kwargs.pop("batch_size", self.batch_size)
            kwargs["batch_size"] = len(held_out) if batch_size == -1 else batch_size
            kwargs["drop_last"] = False
            self._search().set_valid_loader(self.iterator_train(held_out, **kwargs))
        return dataset_train, dataset_valid

    def _hold_out(self, dataset):
        n = len(dataset)
        n_held = int(round(self._number("policy_valid_fraction") * n))
        if n_held < 1 or n_held >= n:
            raise ValueError(
                f"policy_valid_fraction={self.policy_valid_fraction!r} of {n} training "
                f"examples holds out {n_held}: ADDA/CADDA need at least one example "
                "for the policy and one for the trunk. Use more data or another "
                "fraction."
            )
        targets = getattr(dataset, "y", None)
        stratify = None
        if targets is not None and len(targets) == n:
            targets = _as_array(targets)
            counts = np.unique(targets, return_counts=True)[1]
            if counts.min() >= 2 and len(counts) <= min(n_held, n - n_held):
                stratify = targets
        seed = self.random_state
        if isinstance(seed, torch.Generator):
            seed = int(torch.randint(2**31 - 1, (1,), generator=seed))
        kept, held = train_test_split(
            np.arange(n), test_size=n_held, stratify=stratify, random_state=seed
        )
        return (
            torch.utils.data.Subset(dataset, kept),
            torch.utils.data.Subset(dataset, held),
        )

    def train_step_single(self, batch, **fit_params):
        """As skorch's; ADDA/CADDA first update the policy and augment.

        The policy takes one step along :func:`~.unrolled_hypergradient` on
        a held-out batch, then the trunk's step runs on the batch augmented
        by the updated policy (one candidate drawn per example, by each
        example's class's policy for CADDA).
        """
        if self.method in BILEVEL_METHODS:
            self._set_training(True)
            Xi, yi = unpack_data(batch)
            X, y = to_device(Xi, self.device), to_device(yi, self.device)
            search = self._search()
            Xv, yv = unpack_data(next(search.valid_batches))
            valid = (to_device(Xv, self.device), to_device(yv, self.device))
            trunk = unwrap_module(self).trunk
            loss = search.policy_step(trunk, self._trunk_loss, X, y, valid)
            self.history.record_batch("policy_valid_loss", loss)
            batch = (search.augment(X, y), yi)
        return super().train_step_single(batch, **fit_params)

    def _trunk_loss(self, logits, y):
        """The criterion on the trunk's logits (it takes log-probabilities)."""
        return self.criterion_(torch.log_softmax(logits, dim=-1), y)

    # ---------------------------------------------------------------- loss
    def get_loss(self, y_pred, y_true, X=None, training=False):
        """NLL of the averaged model, minus ``reg * R`` in training.

        For sequences, the NLL of every window (mean over windows).
        """
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
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            # the policy of the forward pass of this step: one graph, not two
            penalty = augmentation_regularizer(
                unwrap_module(self), scale=self.current_reg_scale(), reuse_forward=True
            )
            # logged in on_batch_end: read there, after the host has waited
            # for the loss anyway, the values cost no synchronisation
            self._batch_logs = torch.stack([loss, penalty]).detach()
            reg = self.current_reg()
            if reg:
                loss = loss - reg * penalty
        return loss

    def current_reg_scale(self):
        """What the regulariser rewards: ``reg_scale`` or the method's default."""
        if self.reg_scale is None:
            return _METHOD_DEFAULTS[self.method]["reg_scale"]
        return self.reg_scale

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
            reg = _METHOD_DEFAULTS[self.method]["reg"]
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
            check_inputs(X, predicting=True)
            self._check_input(X)
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
                "by an older version): pass classes=[...] (the labels of the "
                "fitted estimator, in the order of its classes_) to decode "
                "the predictions."
            )
        return index if classes is None else classes[index]

    # --------------------------------------------------------- persistence
    def save_params(self, *args, **kwargs):
        """As skorch's; ``f_params`` also holds the class labels, so that
        :meth:`load_params` onto a new estimator predicts labels."""
        if self.initialized_:
            unwrap_module(self).labels = getattr(self, "classes_", None)
        return super().save_params(*args, **kwargs)

    def load_params(self, *args, **kwargs):
        """As skorch's, restoring the class labels saved with the parameters.

        Raises a ValueError when ``classes`` was passed and differs from the
        saved labels.
        """
        super().load_params(*args, **kwargs)
        saved = unwrap_module(self).labels
        loaded = kwargs.get("f_params", args[0] if args else None) is not None
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
        elif loaded:
            self.labels_unknown_ = True
        return self

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto":
            return _exp  # AugNet returns log-probabilities
        return super()._get_predict_nonlinearity()

    # --------------------------------------------------------------- state
    @property
    def policy_(self):
        """The learned policy as a :class:`pandas.DataFrame`.

        See :func:`~.policy_table`: with this classifier's ``history``, the
        ``drift`` and ``moving`` columns say whether each magnitude had
        settled at the epoch the table shows.
        """
        self.check_is_fitted()
        module = unwrap_module(self)
        if isinstance(module.augmentation, BilevelPolicy):
            return module.augmentation.policy_table(getattr(self, "classes_", None))
        return policy_table(self)

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
