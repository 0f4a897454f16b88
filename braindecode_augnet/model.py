"""The averaged model: a trunk fed with augmented copies of each input."""

import math

import torch
from torch import nn

from ._validation import check_int
from .base import NonFiniteFlag, check_eeg_batch
from .layers import AugmentationModule

__all__ = ["AugNet"]

INPUT_CHECKS = ("auto", "immediate", "deferred")


class AugNet(nn.Module):
    """Trunk averaged over augmented copies of each input (AugNet).

    Each batch is tiled into ``C`` copies in one super-batch, augmented, and
    passed through the trunk; the output is the log of the mean of the
    copies' softmax probabilities, for every ``C`` (``C = 1`` included), so
    it goes with :class:`torch.nn.NLLLoss`.

    Parameters
    ----------
    trunk : torch.nn.Module
        Network mapping ``(batch, channels, times)`` to class logits
        ``(batch, n_classes)``.
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
    input_check : {'auto', 'immediate', 'deferred'}
        When the input values are checked for NaN and infinities.
        ``'immediate'``: in :meth:`forward` (a host synchronisation on an
        accelerator). ``'deferred'``: :meth:`forward` records the answer on
        the input's device and :meth:`check_deferred_inputs` raises it later
        (:class:`~.AugNetClassifier` calls it after each batch, once the host
        has waited for the loss or the output anyway). ``'auto'``: immediate
        on CPU, where it costs nothing, deferred elsewhere.
    """

    def __init__(
        self,
        trunk,
        augmentation,
        n_copies=20,
        n_copies_train=1,
        copies_per_chunk=4,
        input_check="auto",
    ):
        super().__init__()
        n_copies = check_int(n_copies, "n_copies", low=1)
        n_copies_train = check_int(n_copies_train, "n_copies_train", low=1)
        if copies_per_chunk is not None:
            copies_per_chunk = check_int(copies_per_chunk, "copies_per_chunk", low=1)
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
        if input_check not in INPUT_CHECKS:
            raise ValueError(
                f"input_check must be one of {INPUT_CHECKS}, got {input_check!r}."
            )
        self.input_check = input_check
        self._non_finite = NonFiniteFlag()

    @property
    def current_n_copies(self):
        """Number of copies averaged in the current mode."""
        return self.n_copies_train if self.training else self.n_copies

    def forward(self, X):
        """Log of the copies' mean class probabilities, ``(batch, n_classes)``."""
        X = torch.as_tensor(X)
        defer = self.input_check == "deferred" or (
            self.input_check == "auto" and X.device.type != "cpu"
        )
        X = check_eeg_batch(X, check_finite=not defer)
        if defer:
            self._non_finite.record(X)
        n_batch = X.shape[0]
        n_copies = self.current_n_copies
        chunk = self.copies_per_chunk or n_copies
        log_total = None
        for start in range(0, n_copies, chunk):
            n = min(chunk, n_copies - start)
            tiled = X.repeat(n, 1, 1) if n > 1 else X  # copy-major: i * batch + b
            logits = self.trunk(self.augmentation.augment(tiled))
            if logits.ndim != 2:
                raise ValueError(
                    "AugNet expects the trunk to return (batch, n_classes) logits, "
                    f"got shape {tuple(logits.shape)}. Cropped decoding is not "
                    "supported."
                )
            log_probs = torch.log_softmax(logits, dim=-1)
            if n_copies == 1:
                return log_probs
            part = torch.logsumexp(log_probs.reshape(n, n_batch, -1), dim=0)
            log_total = part if log_total is None else torch.logaddexp(log_total, part)
        return log_total - math.log(n_copies)

    def __setstate__(self, state):
        super().__setstate__(state)
        # models pickled before input_check existed
        self.__dict__.setdefault("input_check", "auto")
        self.__dict__.setdefault("_non_finite", NonFiniteFlag())

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
        pickling) when the seeds are integers.
        """
        for module in self.augmentation.modules():
            reset = getattr(module, "reset_random_state", None)
            if callable(reset):
                reset()

    def extra_repr(self):
        return (
            f"n_copies={self.n_copies}, n_copies_train={self.n_copies_train}, "
            f"copies_per_chunk={self.copies_per_chunk}, "
            f"input_check={self.input_check!r}"
        )
