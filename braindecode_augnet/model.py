"""The averaged model: a trunk fed with augmented copies of each input."""

import math

import torch
from torch import nn

from ._contracts import check_saved_augmentation, decode_state, encode_state
from ._random import keyed_copies, predicting_block, shared_draws
from ._validation import check_int
from .base import NonFiniteFlag, check_eeg_batch
from .functional import is_compiling
from .layers import AugmentationModule

__all__ = ["AugNet"]

#: How the windows of a sequence are augmented (see :class:`AugNet`).
SEQUENCE_AUGMENTATIONS = ("window", "sequence")
#: When the input values are checked for NaN and infinities (see :class:`AugNet`).
INPUT_CHECKS = ("auto", "immediate", "deferred")


def _check_sequence_batch(X, window_size=None, check_finite=True):
    """Check a batch of examples or sequences; return it and its window count.

    Parameters
    ----------
    X : torch.Tensor | numpy.ndarray
        ``(batch, channels, times)`` single windows (``window_size`` None),
        ``(batch, n_windows, channels, times)`` sequences, or, with
        ``window_size``, ``(batch, channels, n_windows * window_size)``
        sequences.
    window_size : int | None
        Time samples per window of the concatenated layout.
    check_finite : bool
        Whether to check the values for NaN and infinities here.

    Returns
    -------
    X : torch.Tensor
        The checked floating-point batch.
    n_windows : int | None
        Windows per sequence; ``None`` for single windows.
    """
    X = torch.as_tensor(X)
    if X.ndim == 4:
        n_batch, n_windows, n_chans, n_times = X.shape
        if window_size is not None and n_times != window_size:
            raise ValueError(
                f"Expected sequences (batch, n_windows, channels, {window_size}) "
                f"(window_size={window_size}), got shape {tuple(X.shape)}."
            )
        flat = check_eeg_batch(
            X.reshape(n_batch * n_windows, n_chans, n_times), check_finite=check_finite
        )
        return flat.reshape(X.shape), n_windows
    if X.ndim != 3:
        layout = (
            "(batch, channels, times)"
            if window_size is None
            else "(batch, channels, n_windows * window_size)"
        )
        raise ValueError(
            f"Expected X of shape {layout} or sequences (batch, n_windows, "
            f"channels, times), got a {X.ndim}-D input of shape {tuple(X.shape)}."
        )
    X = check_eeg_batch(X, check_finite=check_finite)
    if window_size is None:
        return X, None
    if X.shape[-1] % window_size:
        raise ValueError(
            "Expected sequences (batch, channels, n_windows * window_size) with "
            f"window_size={window_size}, got {X.shape[-1]} time samples, not a "
            f"multiple of {window_size}: pass whole windows, or the window_size "
            "of the data."
        )
    return X, X.shape[-1] // window_size


class AugNet(nn.Module):
    """Trunk averaged over augmented copies of each input (AugNet).

    Each batch is tiled into ``C`` copies in one super-batch, augmented, and
    passed through the trunk; the output is the log of the mean of the
    copies' softmax probabilities, for every ``C`` (``C = 1`` included), so
    it goes with :class:`torch.nn.NLLLoss`.

    **Sequences.** Sleep stagers such as :class:`braindecode.models.USleep`
    or a :class:`braindecode.modules.TimeDistributed` feature extractor (see
    :class:`~braindecode_augnet.sequences.TimeDistributedSleepStager`) take
    sequences of consecutive windows and return one prediction per window,
    logits ``(batch, n_classes, n_windows)``. AugNet takes them in the two
    layouts braindecode uses: ``(batch, n_windows, channels, times)`` (what
    :class:`braindecode.samplers.SequenceSampler` batches hold), and
    ``(batch, channels, n_windows * window_size)`` (one continuous signal,
    USleep's view) when ``window_size`` is given. The trunk receives the
    layout it was given. The augmentation always sees windows, ``(batch *
    n_windows, channels, times)``, so that a transform never mixes windows
    (a time reversal of the whole sequence would reverse the order of its
    windows against their targets, a Fourier surrogate would spread one
    window's content over the sequence); ``sequence_augmentation`` chooses
    whether each window gets its own draw or the windows of a sequence
    share one. Whole sequences are tiled into copies, and the mean of the
    copies' probabilities is taken per window: the output is
    ``(batch, n_classes, n_windows)`` log-probabilities, which
    :class:`torch.nn.NLLLoss` takes with ``(batch, n_windows)`` targets.

    One class serves single windows and sequences, rather than a subclass
    for sequences: the tiling, the chunking of copies and the averaging are
    the same code, only the reshaping around the augmentation differs, and
    the layout is read from the input at every call, so that one fitted
    model can be evaluated on sequences of another length.

    Parameters
    ----------
    trunk : torch.nn.Module
        Network mapping ``(batch, channels, times)`` to class logits
        ``(batch, n_classes)``, or sequences (either layout) to per-window
        logits ``(batch, n_classes, n_windows)``.
    augmentation : AugmentationModule | list | RandomPolicy
        The augmentation layers (or what :class:`AugmentationModule` takes),
        or any module with an ``augment(X)`` method.
    n_copies : int
        Copies averaged in evaluation mode.
    n_copies_train : int
        Copies averaged in training mode.
    copies_per_chunk : int | None
        At most this many copies go through the trunk at once (bounds the
        memory of inference with many copies: 4 cut the peak memory of 20
        copies of a batch of 64 sleep windows about 4-fold, at no cost in
        time, in the benchmarks). ``None``: all at once.
    sequence_augmentation : {'window', 'sequence'}
        How the windows of a sequence are augmented. ``'window'``: every
        window gets its own draw (transform, shift, mask, noise...), as a
        single-window model sees them. ``'sequence'``: one draw per sequence,
        shared by its windows (one frequency shift, one channel permutation,
        one reversal decision... for the whole sequence, and the same noise
        pattern and mask position in each window), a nuisance constant over
        a stretch of recording. Ignored for single windows.
    window_size : int | None
        Time samples per window, for sequences given as one continuous signal
        ``(batch, channels, n_windows * window_size)``. ``None``: 3-D inputs
        are single windows.
    input_check : {'auto', 'immediate', 'deferred'}
        When the input values are checked for NaN and infinities.
        ``'immediate'``: in :meth:`forward` (a host synchronisation on an
        accelerator). ``'deferred'``: :meth:`forward` records the answer on
        the input's device and :meth:`check_deferred_inputs` raises it later
        (:class:`~.AugNetClassifier` calls it after each batch, once the host
        has waited for the loss or the output anyway). ``'auto'``: immediate
        on CPU, where it costs nothing, deferred elsewhere and under
        :func:`torch.compile` (whose graphs cannot hold a host read).

    References
    ----------
    .. [1] Rommel, C., Moreau, T., & Gramfort, A. (2022). Deep invariant
       networks with differentiable augmentation layers. NeurIPS 35.
    .. [2] Perslev, M., et al. (2021). U-Sleep: resilient high-frequency sleep
       staging. npj Digital Medicine, 4(1), 72.
    """

    def __init__(
        self,
        trunk,
        augmentation,
        n_copies=20,
        n_copies_train=1,
        copies_per_chunk=4,
        sequence_augmentation="window",
        window_size=None,
        input_check="auto",
    ):
        super().__init__()
        n_copies = check_int(n_copies, "n_copies", low=1)
        n_copies_train = check_int(n_copies_train, "n_copies_train", low=1)
        if copies_per_chunk is not None:
            copies_per_chunk = check_int(copies_per_chunk, "copies_per_chunk", low=1)
        if sequence_augmentation not in SEQUENCE_AUGMENTATIONS:
            raise ValueError(
                f"sequence_augmentation must be one of {SEQUENCE_AUGMENTATIONS}, "
                f"got {sequence_augmentation!r}."
            )
        if window_size is not None:
            window_size = check_int(window_size, "window_size", low=1)
        if input_check not in INPUT_CHECKS:
            raise ValueError(
                f"input_check must be one of {INPUT_CHECKS}, got {input_check!r}."
            )
        self.trunk = trunk
        if isinstance(augmentation, (list, tuple)):
            augmentation = AugmentationModule(augmentation)
        if not hasattr(augmentation, "augment"):
            raise TypeError(
                "augmentation must be an AugmentationModule (or a list of layers), "
                f"or a module with an augment method, got {type(augmentation)}."
            )
        self.augmentation = augmentation
        self.n_copies = n_copies
        self.n_copies_train = n_copies_train
        self.copies_per_chunk = copies_per_chunk
        self.sequence_augmentation = sequence_augmentation
        self.window_size = window_size
        self.input_check = input_check
        self._non_finite = NonFiniteFlag()
        #: class labels of the estimator, saved in the state dict (see
        #: :meth:`get_extra_state`); ``None`` when unknown
        self.labels = None
        #: ``(n_chans, n_times)`` of the estimator's windows, saved likewise
        self.input_shape = None
        #: what the last state dict loaded held besides the parameters
        #: (``{}`` when none, or saved by an older version; None: none loaded)
        self.loaded_state = None

    @property
    def current_n_copies(self):
        """Number of copies averaged in the current mode."""
        return self.n_copies_train if self.training else self.n_copies

    def forward(self, X):
        """Log of the copies' mean class probabilities.

        ``(batch, n_classes)`` for single windows, ``(batch, n_classes,
        n_windows)`` for sequences.
        """
        X = torch.as_tensor(X)
        defer = self.input_check == "deferred" or (
            self.input_check == "auto" and (X.device.type != "cpu" or is_compiling())
        )
        X, n_windows = _check_sequence_batch(X, self.window_size, not defer)
        if defer:
            self._non_finite.record(X)
        n_batch = X.shape[0]
        n_copies = self.current_n_copies
        chunk = self.copies_per_chunk or n_copies
        log_total = None
        for start in range(0, n_copies, chunk):
            n = min(chunk, n_copies - start)
            # copy-major: row i * batch + b
            tiled = X.repeat(n, *([1] * (X.ndim - 1))) if n > 1 else X
            # in predictions, the draws are keyed by the copy's index, the same
            # for every example: independent of the rest of the batch
            with keyed_copies(start, n, n_batch, n_windows, X.device):
                augmented = self._augment(tiled, n_windows)
            logits = self._check_logits(self.trunk(augmented), n_batch * n, n_windows)
            log_probs = torch.log_softmax(logits, dim=1)
            if n_copies == 1:
                return log_probs
            log_probs = log_probs.reshape(n, n_batch, *log_probs.shape[1:])
            part = torch.logsumexp(log_probs, dim=0)
            log_total = part if log_total is None else torch.logaddexp(log_total, part)
        return log_total - math.log(n_copies)

    def _augment(self, X, n_windows):
        """Augment windows, or the windows of sequences (one batch of windows)."""
        if n_windows is None:
            return self.augmentation.augment(X)
        if X.ndim == 3:  # (batch, channels, n_windows * window_size)
            n_batch, n_chans, _ = X.shape
            windows = X.reshape(n_batch, n_chans, n_windows, -1).transpose(1, 2)
        else:  # (batch, n_windows, channels, times)
            windows = X
        shape = windows.shape
        flat = windows.reshape(-1, *shape[2:])  # sequence-major: b * n_windows + w
        if self.sequence_augmentation == "sequence":
            with shared_draws(n_windows):
                flat = self.augmentation.augment(flat)
        else:
            flat = self.augmentation.augment(flat)
        windows = flat.reshape(shape)
        if X.ndim == 3:
            return windows.transpose(1, 2).reshape(X.shape)
        return windows

    @staticmethod
    def _check_logits(logits, n_batch, n_windows):
        """Per-example or per-window logits, checked against the input."""
        if n_windows is None:
            if logits.ndim == 2:
                return logits
            raise ValueError(
                "AugNet expects the trunk to return (batch, n_classes) logits for "
                f"windows (batch, channels, times), got shape {tuple(logits.shape)}"
                ". For a trunk with one output per window of a sequence, pass "
                "sequences (batch, n_windows, channels, times), or set window_size "
                "for sequences (batch, channels, n_windows * window_size). Cropped "
                "decoding is not supported."
            )
        if logits.ndim == 2 and n_windows == 1:  # USleep squeezes one window
            logits = logits[:, :, None]
        if (
            logits.ndim != 3
            or logits.shape[0] != n_batch
            or (logits.shape[2] != n_windows)
        ):
            raise ValueError(
                "AugNet expects the trunk to return per-window logits (batch, "
                f"n_classes, n_windows) = ({n_batch}, n_classes, {n_windows}) for "
                f"sequences of {n_windows} windows, got shape "
                f"{tuple(logits.shape)}. A TimeDistributed trunk returns (batch, "
                "n_windows, n_features): add a per-window head and put the classes "
                "in dimension 1, as TimeDistributedSleepStager does."
            )
        return logits

    def __setstate__(self, state):
        super().__setstate__(state)
        # models pickled before input_check existed
        self.__dict__.setdefault("input_check", "auto")
        self.__dict__.setdefault("_non_finite", NonFiniteFlag())
        self.__dict__.setdefault("labels", None)
        self.__dict__.setdefault("input_shape", None)
        self.__dict__.setdefault("loaded_state", None)

    def augmentation_signature(self):
        """``[class name, mag_range, is a leaf]`` of every module of the
        augmentation, in order: what a state dict's positional keys mean."""
        signature = []
        for module in self.augmentation.modules():
            mag_range = getattr(module, "mag_range", None)
            signature.append(
                [
                    type(module).__name__,
                    None if mag_range is None else [float(v) for v in mag_range],
                    not any(True for _ in module.children()),
                ]
            )
        return signature

    def get_extra_state(self):
        """:attr:`labels`, :attr:`input_shape` and the augmentation's modules
        (:meth:`augmentation_signature`) as a tensor, so that the state dict
        (skorch's ``save_params``) carries them with the parameters."""
        shape = None if self.input_shape is None else [int(v) for v in self.input_shape]
        return encode_state(
            self.labels,
            input_shape=shape,
            augmentation=self.augmentation_signature(),
        )

    def set_extra_state(self, state):
        """Refuse a state of other augmentation modules before any parameter
        is copied (the augmentation and the trunk load after this), then
        restore the labels."""
        saved = decode_state(state)
        check_saved_augmentation(
            saved.get("augmentation"), self.augmentation_signature()
        )
        self.labels = saved.get("classes")
        self.loaded_state = saved

    def _load_from_state_dict(self, state_dict, prefix, *args):
        super()._load_from_state_dict(state_dict, prefix, *args)
        key = prefix + "_extra_state"
        missing_keys = args[2]
        if key not in state_dict and key in missing_keys:
            # saved before the labels were kept: they stay unknown
            missing_keys.remove(key)
            self.labels = None
            self.loaded_state = {}

    def check_deferred_inputs(self):
        """Raise the deferred input check (see ``input_check``).

        Raises
        ------
        ValueError
            If an input given to :meth:`forward` since the last call held NaN
            or infinite values. Reads a device value: a host synchronisation
            when an answer is pending, nothing otherwise.
        """
        self._non_finite.raise_if_set()

    def reset_random_state(self):
        """Restart every augmentation draw from its ``random_state``.

        Called before each prediction by :class:`~.AugNetClassifier`, so that
        the same model and data give the same output (before and after
        pickling) when the seeds are integers. A direct call of the module
        draws from the streams, which depend on the batch: for the
        classifier's predictions, call it inside :meth:`predicting`.
        """
        for module in self.augmentation.modules():
            reset = getattr(module, "reset_random_state", None)
            if callable(reset):
                reset()

    @staticmethod
    def predicting():
        """A ``with`` block in which the module predicts as
        :class:`~.AugNetClassifier` does: each copy's draws keyed by its
        index (with integer seeds, an example's output depends on it alone,
        not on its batch), e.g. for a module saved with :func:`torch.save`.

        Examples
        --------
        >>> model.eval()  # doctest: +SKIP
        >>> with torch.no_grad(), model.predicting():  # doctest: +SKIP
        ...     proba = model(X).exp()
        """
        return predicting_block()

    def extra_repr(self):
        return (
            f"n_copies={self.n_copies}, n_copies_train={self.n_copies_train}, "
            f"copies_per_chunk={self.copies_per_chunk}, "
            f"sequence_augmentation={self.sequence_augmentation!r}, "
            f"window_size={self.window_size}, input_check={self.input_check!r}"
        )
