"""Scoring of per-window predictions of sequence trunks.

Sequence trunks (e.g. :class:`braindecode.models.USleep`) return per-window
logits ``(batch, n_classes, n_windows)``, the layout :class:`torch.nn.NLLLoss`
and :class:`~.AugNet` take with ``(batch, n_windows)`` targets.
:func:`per_window_scoring` scores such predictions window by window. The
sequence sleep stager and the helpers that cut recordings into sequences
live in :mod:`braindecode_augnet.study.stager` (still importable from here).
"""

import functools

import numpy as np
import torch

__all__ = ["per_window_scoring", "per_window_softmax"]

#: Names moved to :mod:`braindecode_augnet.study.stager`, importable from here
#: for old code and pickles.
_MOVED = (
    "TimeDistributedSleepStager",
    "covering_starts",
    "predict_windows",
    "sequence_index",
)


def __getattr__(name):
    if name in _MOVED:
        from .study import stager

        return getattr(stager, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def per_window_softmax(logits):
    """Class probabilities of per-window logits, over dimension 1.

    The ``predict_nonlinearity`` of a plain :class:`braindecode.EEGClassifier`
    (cross-entropy loss) around a sequence trunk: skorch's default softmax
    runs over the last dimension, the windows of ``(batch, n_classes,
    n_windows)`` logits. (:class:`~.AugNetClassifier` needs none: AugNet
    returns log-probabilities.)

    Parameters
    ----------
    logits : torch.Tensor
        ``(batch, n_classes)`` or ``(batch, n_classes, n_windows)``.

    Returns
    -------
    torch.Tensor
        Probabilities of the same shape, summing to 1 over dimension 1.

    Examples
    --------
    >>> import torch
    >>> per_window_softmax(torch.zeros(2, 5, 3)).sum(1)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    if logits.ndim not in (2, 3):
        raise ValueError(
            "per_window_softmax takes logits (batch, n_classes) or (batch, "
            f"n_classes, n_windows), got shape {tuple(logits.shape)}."
        )
    return torch.softmax(logits, dim=1)


def _score_per_window(net, X, y, score_func):
    y_pred = np.asarray(net.predict(X))
    y_true = np.asarray(y)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Targets of shape {y_true.shape} and predictions of shape "
            f"{y_pred.shape}: expected the same (n_examples,) or "
            "(n_sequences, n_windows) shape."
        )
    return float(score_func(y_true.ravel(), y_pred.ravel()))


def per_window_scoring(score_func):
    """A skorch scoring callable that scores predictions window by window.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred) -> float`` on 1-D labels, e.g.
        :func:`sklearn.metrics.balanced_accuracy_score`.

    Returns
    -------
    callable
        ``scoring(net, X, y)`` for :class:`skorch.callbacks.EpochScoring`
        (picklable): ``score_func`` of ``y`` and ``net.predict(X)`` both
        raveled, so that targets ``(n_sequences, n_windows)`` are scored per
        window (1-D targets as they are).

    Examples
    --------
    >>> from sklearn.metrics import balanced_accuracy_score
    >>> from skorch.callbacks import EpochScoring
    >>> cb = EpochScoring(
    ...     per_window_scoring(balanced_accuracy_score),
    ...     lower_is_better=False,
    ...     name="valid_bacc",
    ... )
    """
    if not callable(score_func):
        raise TypeError(
            "score_func must be a function score_func(y_true, y_pred), got "
            f"{type(score_func).__name__}."
        )
    return functools.partial(_score_per_window, score_func=score_func)
