"""Sleep staging on sequences of windows: a sequence trunk and coverage.

Sequence sleep stagers take ``n_windows`` consecutive 30-s windows and
predict one stage per window, as in braindecode's sleep tutorials:

* :class:`TimeDistributedSleepStager`:
  :class:`braindecode.modules.TimeDistributed` over
  :class:`braindecode.models.SleepStagerChambon2018` features, with a
  per-window head that sees the neighbouring windows;
* :class:`braindecode.models.USleep`, as it is.

:func:`sequence_index` cuts recordings into sequences that cover every
window, and :func:`predict_windows` predicts every window of whole
recordings from those sequences.
"""

import numpy as np
import torch
from torch import nn

from .._validation import check_int

__all__ = [
    "TimeDistributedSleepStager",
    "covering_starts",
    "predict_windows",
    "sequence_index",
]


class TimeDistributedSleepStager(nn.Module):
    """Chambon et al.'s (2018) sleep stager on sequences of windows.

    :class:`braindecode.models.SleepStagerChambon2018` with
    ``return_feats=True`` extracts features from every window (through
    :class:`braindecode.modules.TimeDistributed`); a convolution over the
    window axis then maps the features of each window and of its
    neighbours (``context`` windows, zero-padded at the ends of the
    sequence) to its class logits: the temporal context of Chambon et al.,
    for every window of the sequence at once.

    Parameters
    ----------
    n_chans : int
        Number of EEG channels.
    sfreq : float
        Sampling frequency in Hz.
    n_times : int
        Time samples per window.
    n_outputs : int
        Number of classes (sleep stages).
    context : int
        Windows seen by the head of each window (odd).
    drop_prob : float
        Dropout before the head.
    chs_info : list of dict | None
        Channel information (as braindecode models take it; unused here but
        by the ``'eeg'`` augmentation preset of :class:`~.AugNetClassifier`).
    **kwargs
        Passed to :class:`braindecode.models.SleepStagerChambon2018`.

    References
    ----------
    .. [1] Chambon, S., Galtier, M. N., Arnal, P. J., Wainrib, G., & Gramfort,
       A. (2018). A deep learning architecture for temporal sleep stage
       classification using multivariate and multimodal time series. IEEE
       TNSRE, 26(4), 758-769.

    Examples
    --------
    >>> import torch
    >>> model = TimeDistributedSleepStager(n_chans=2, sfreq=100.0, n_times=3000)
    >>> model(torch.randn(4, 5, 2, 3000)).shape  # (batch, n_classes, n_windows)
    torch.Size([4, 5, 5])
    """

    def __init__(
        self,
        n_chans=None,
        sfreq=None,
        n_times=None,
        n_outputs=5,
        context=3,
        drop_prob=0.5,
        chs_info=None,
        **kwargs,
    ):
        from braindecode.models import SleepStagerChambon2018
        from braindecode.modules import TimeDistributed

        super().__init__()
        context = check_int(context, "context", low=1)
        if context % 2 == 0:
            raise ValueError(f"context must be odd, got {context}.")
        if n_chans is None and chs_info is not None:
            n_chans = len(chs_info)
        extractor = SleepStagerChambon2018(
            n_chans=n_chans,
            sfreq=sfreq,
            n_times=n_times,
            n_outputs=n_outputs,
            return_feats=True,
            **kwargs,
        )
        self.window_shape = (extractor.n_chans, extractor.n_times)
        self.feature_extractor = TimeDistributed(extractor)
        self.dropout = nn.Dropout(drop_prob)
        self.head = nn.Conv1d(
            extractor.len_last_layer, n_outputs, context, padding=context // 2
        )

    def forward(self, X):
        """Per-window logits ``(batch, n_outputs, n_windows)`` of sequences
        ``(batch, n_windows, channels, times)``."""
        if X.ndim != 4:
            raise ValueError(
                "TimeDistributedSleepStager expects sequences (batch, n_windows, "
                f"channels, times), got shape {tuple(X.shape)}."
            )
        if tuple(X.shape[-2:]) != self.window_shape:
            raise ValueError(
                f"TimeDistributedSleepStager was built for windows of "
                f"{self.window_shape[0]} channels x {self.window_shape[1]} samples "
                f"(n_chans, n_times), got {X.shape[-2]} x {X.shape[-1]}: build it "
                "with the data's n_chans and n_times (and sfreq)."
            )
        feats = self.feature_extractor(X.contiguous())  # (batch, n_windows, feats)
        return self.head(self.dropout(feats).transpose(1, 2))


def covering_starts(n_total, n_windows):
    """First windows of sequences covering every window of one recording.

    Consecutive sequences do not overlap, except the last, which ends at the
    recording's last window.

    Parameters
    ----------
    n_total : int
        Windows in the recording.
    n_windows : int
        Windows per sequence.

    Returns
    -------
    numpy.ndarray of int
        Start of each sequence.
    """
    n_total = check_int(n_total, "n_total", low=0)
    n_windows = check_int(n_windows, "n_windows", low=1)
    if n_total < n_windows:
        raise ValueError(
            f"A recording of {n_total} windows holds no sequence of {n_windows} "
            "windows: use shorter sequences (n_windows) or leave it out."
        )
    starts = np.arange(0, n_total - n_windows + 1, n_windows)
    if starts[-1] + n_windows < n_total:
        starts = np.append(starts, n_total - n_windows)
    return starts


def sequence_index(recordings, n_windows):
    """Indices of sequences covering every window of every recording.

    Parameters
    ----------
    recordings : array-like, shape (n_total,)
        Recording of each window; the windows of a recording are consecutive
        and in time order (as braindecode windows datasets hold them).
    n_windows : int
        Windows per sequence.

    Returns
    -------
    numpy.ndarray of int, shape (n_sequences, n_windows)
        Row ``i`` holds the windows of sequence ``i``: for each recording,
        the sequences of :func:`covering_starts`. ``X[index]``,
        ``y[index]`` turn windows and their targets into sequences.

    Examples
    --------
    >>> sequence_index([0, 0, 0, 0, 0, 1, 1, 1], n_windows=2)
    array([[0, 1],
           [2, 3],
           [3, 4],
           [5, 6],
           [6, 7]])
    """
    recordings = np.asarray(recordings)
    if recordings.ndim != 1 or not len(recordings):
        raise ValueError(
            "recordings must hold the recording of each window, a non-empty 1-D "
            f"array, got shape {recordings.shape}."
        )
    breaks = np.flatnonzero(recordings[1:] != recordings[:-1]) + 1
    bounds = np.concatenate([[0], breaks, [len(recordings)]])
    starts = np.concatenate(
        [
            start + covering_starts(stop - start, n_windows)
            for start, stop in zip(bounds[:-1], bounds[1:])
        ]
    )
    return starts[:, None] + np.arange(n_windows)


def predict_windows(clf, X, recordings, n_windows):
    """Class probabilities of every window of whole recordings.

    Each recording is cut into the sequences of :func:`sequence_index`,
    ``clf.predict_proba`` predicts them, and the probabilities of a window
    covered by two sequences are averaged.

    Parameters
    ----------
    clf : skorch.NeuralNet
        A fitted sequence classifier whose ``predict_proba`` maps sequences
        ``(n_sequences, n_windows, channels, times)`` to probabilities
        ``(n_sequences, n_classes, n_windows)``.
    X : numpy.ndarray, shape (n_total, channels, times)
        Windows, those of each recording consecutive and in time order.
    recordings : array-like, shape (n_total,)
        Recording of each window.
    n_windows : int
        Windows per sequence.

    Returns
    -------
    numpy.ndarray, shape (n_total, n_classes)
        Probability of each class for each window.
    """
    if not isinstance(X, (np.ndarray, torch.Tensor)):
        X = np.asarray(X)  # e.g. a list of windows: indexed by sequences below
    recordings = np.asarray(recordings)
    if len(recordings) != len(X):
        raise ValueError(
            f"recordings holds {len(recordings)} entries for {len(X)} windows."
        )
    index = sequence_index(recordings, n_windows)
    proba = np.asarray(clf.predict_proba(X[index]))  # (n_seq, n_classes, n_windows)
    if proba.ndim != 3 or proba.shape[2] != n_windows:
        raise ValueError(
            "Expected per-window probabilities (n_sequences, n_classes, "
            f"{n_windows}) from clf.predict_proba, got shape {proba.shape}."
        )
    n_classes = proba.shape[1]
    total = np.zeros((len(X), n_classes))
    np.add.at(total, index.ravel(), proba.transpose(0, 2, 1).reshape(-1, n_classes))
    counts = np.bincount(index.ravel(), minlength=len(X))
    return total / counts[:, None]
