"""Shape checks of the estimator's inputs and targets (windows and sequences).

Carved out of :class:`~braindecode_augnet.AugNetClassifier` so that the
estimator holds its skorch hooks only; every message names the input and
the fix, raised before any training.
"""

import mne
import numpy as np
import torch
from skorch.utils import is_dataset, to_numpy

__all__ = []


def as_array(y):
    """``y`` as a numpy array (tensors moved to the host)."""
    return to_numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)


def n_dims(X):
    """Dimensions of the array ``X`` (4 for sequences), ``None`` for others."""
    return len(np.shape(X)) if isinstance(X, (np.ndarray, torch.Tensor)) else None


def input_shape(X):
    """``(channels, times)`` of the examples of ``X``; ``(None, None)`` if unknown."""
    if isinstance(X, mne.BaseEpochs):
        return len(X.ch_names), len(X.times)
    try:
        shape = tuple(np.shape(X[0][0] if is_dataset(X) else X[0]))
    except (IndexError, KeyError, TypeError):
        return None, None
    return shape[-2:] if len(shape) >= 2 else (None, None)


def is_sequence(X, window_size):
    """Whether the array ``X`` holds sequences (4-D, or 3-D with window_size)."""
    dims = n_dims(X)
    return dims == 4 or (dims == 3 and window_size is not None)


def window_shape(X, window_size):
    """``(channels, times)`` of the windows of ``X`` (of each window of a
    sequence given as one signal with ``window_size``)."""
    n_chans, n_times = input_shape(X)
    if n_dims(X) == 3 and window_size and n_times and n_times % window_size == 0:
        n_times = window_size
    return n_chans, n_times


def check_targets_shape(X, y, window_size):
    """Per-example targets for windows, ``(n, n_windows)`` for sequences."""
    x_shape, y_shape = tuple(np.shape(X)), np.shape(y)
    if not is_sequence(X, window_size):
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
