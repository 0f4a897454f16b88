"""Shared sleep-staging pipeline: preprocessing, windowing and subject splits.

All the sleep loaders of :mod:`braindecode_augnet.datasets` return a
:class:`braindecode.datasets.BaseConcatDataset` of
:class:`braindecode.datasets.RawDataset` (signals in volts, Sleep-EDF style
hypnogram annotations, a ``description`` with ``subject`` and ``recording``),
so the same two calls turn any of them into labelled 30-s windows::

    ds = preprocess_sleep(ds)  # EEG, low-pass 30 Hz, standardised per recording
    windows = create_sleep_windows(ds)  # targets 0..4 = W, N1, N2, N3, REM
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from braindecode.datasets import BaseConcatDataset, EEGWindowsDataset
from braindecode.preprocessing import (
    Preprocessor,
    create_windows_from_events,
    preprocess,
)

__all__ = [
    "IGNORED_SLEEP_DESCRIPTIONS",
    "SLEEP_STAGE_MAPPING",
    "SLEEP_STAGE_NAMES",
    "create_sleep_windows",
    "preprocess_sleep",
    "split_by_subject",
    "windows_to_arrays",
]

#: Annotation description (Sleep-EDF / MASS, Rechtschaffen & Kales) -> class.
#: R&K stages 3 and 4 are merged into N3 (AASM). Descriptions that are not
#: keys (``"Sleep stage ?"``, ``"Movement time"``) produce no window.
SLEEP_STAGE_MAPPING = {
    "Sleep stage W": 0,
    "Sleep stage 1": 1,
    "Sleep stage 2": 2,
    "Sleep stage 3": 3,
    "Sleep stage 4": 3,
    "Sleep stage R": 4,
}

#: Class names, indexed by target.
SLEEP_STAGE_NAMES = ("W", "N1", "N2", "N3", "REM")

#: Hypnogram descriptions that are deliberately dropped (not staged epochs).
IGNORED_SLEEP_DESCRIPTIONS = ("Sleep stage ?", "Movement time")


def _scale(data, factor):
    """Multiply an array by ``factor`` (picklable, serialisable preprocessor)."""
    return data * factor


def preprocess_sleep(
    concat_ds,
    l_freq=None,
    h_freq=30.0,
    n_jobs=1,
    *,
    picks="eeg",
    sfreq=None,
    scaling=1e6,
    standardize="recording",
):
    """Preprocess sleep recordings the way the AugNet sleep experiments do.

    Picks the EEG channels (or ``picks``), converts volts to microvolts,
    filters (by default a 30 Hz low-pass), optionally resamples, then
    standardises each channel of each recording (robustly: its median
    removed, divided by its interquartile range), so that subjects whose
    signals differ only in amplitude (electrodes, skull, amplifier gain)
    look alike. Uses
    :func:`braindecode.preprocessing.preprocess` and therefore modifies
    ``concat_ds`` in place.

    Parameters
    ----------
    concat_ds : braindecode.datasets.BaseConcatDataset
        Raw sleep recordings (``RawDataset``) with signals in volts, as
        returned by :func:`load_sleep_physionet`, :func:`load_mass` or
        :func:`make_synthetic_sleep`.
    l_freq : float | None
        High-pass cut-off in Hz; ``None`` for none.
    h_freq : float | None
        Low-pass cut-off in Hz; ``None`` for none.
    n_jobs : int
        Number of recordings processed in parallel.
    picks : str | list of str
        Channels to keep, as understood by :meth:`mne.io.Raw.pick`: a channel
        type (default ``"eeg"``) or a list of channel names.
    sfreq : float | None
        If given, resample to this sampling frequency (after filtering), e.g.
        to bring MASS (256 Hz) to the 100 Hz of Sleep-EDF.
    scaling : float
        Factor applied to the data; ``1e6`` converts volts to microvolts.
    standardize : {'recording', None}
        ``'recording'``: each channel of each recording centred on its
        median and divided by its interquartile range, over the whole
        recording (robust to artefacts, as U-Sleep's scaling); a flat channel
        is only centred. ``None``: the signals stay in microvolts (amplitude
        differences between subjects then reach the model; with 2 training
        subjects of synthetic nights, a fifth of the trainings failed,
        Cohen's kappa at most 0.2, docs/results.rst).

    Returns
    -------
    concat_ds : braindecode.datasets.BaseConcatDataset
        The same, preprocessed, object.
    """
    preprocessors = [
        Preprocessor("pick", apply_on_array=False, picks=picks),
        Preprocessor(_scale, factor=scaling),
    ]
    if l_freq is not None or h_freq is not None:
        preprocessors.append(
            Preprocessor(
                "filter",
                apply_on_array=False,
                l_freq=l_freq,
                h_freq=h_freq,
                verbose="error",
            )
        )
    if sfreq is not None:
        preprocessors.append(
            Preprocessor("resample", apply_on_array=False, sfreq=sfreq, verbose="error")
        )
    if _checked_standardize(standardize) == "recording":
        preprocessors.append(Preprocessor(_robust_standardize))
    return preprocess(concat_ds, preprocessors, n_jobs=n_jobs)


def _checked_standardize(standardize):
    """``standardize`` of :func:`preprocess_sleep`, or ValueError."""
    if standardize not in ("recording", None):
        raise ValueError(
            f"standardize must be 'recording' or None, got {standardize!r}."
        )
    return standardize


def _robust_standardize(data):
    """Each row of ``data`` minus its median, divided by its interquartile range.

    The per-recording standardisation of :func:`preprocess_sleep`
    (``(n_channels, n_times)`` arrays); a row whose interquartile range is 0
    (a flat channel) is only centred.

    Examples
    --------
    >>> import numpy as np
    >>> _robust_standardize(np.array([[0.0, 1.0, 2.0, 3.0, 4.0]])).tolist()
    [[-1.0, -0.5, 0.0, 0.5, 1.0]]
    """
    low, median, high = np.percentile(data, (25, 50, 75), axis=-1, keepdims=True)
    spread = high - low
    return (data - median) / np.where(spread > 0, spread, 1.0)


def create_sleep_windows(
    concat_ds,
    window_size_s=30.0,
    mapping=None,
    preload=True,
    *,
    on_last_window="drop",
    accepted_bads_ratio=1.0,
    n_jobs=1,
):
    """Cut scored sleep epochs into labelled windows.

    Thin wrapper around
    :func:`braindecode.preprocessing.create_windows_from_events` with
    non-overlapping windows aligned on the hypnogram annotations.

    Parameters
    ----------
    concat_ds : braindecode.datasets.BaseConcatDataset
        Raw sleep recordings with hypnogram annotations (typically after
        :func:`preprocess_sleep`). All must share one sampling frequency.
    window_size_s : float
        Window length and stride in seconds (30 s for Sleep-EDF, MASS SS1 and
        SS3; 20 s for the MASS subsets scored in 20-s epochs).
    mapping : dict | None
        Annotation description -> target. Defaults to
        :data:`~braindecode_augnet.datasets.sleep.SLEEP_STAGE_MAPPING`
        (W 0, N1 1, N2 2, N3 3, REM 4).
        Descriptions outside the mapping give no window.
    preload : bool
        Passed to ``create_windows_from_events``.
    on_last_window : {"drop", "overlap"}
        What to do with the tail of an annotation shorter than a window (e.g.
        one cut by cropping). ``"drop"`` (default) keeps only the scored,
        non-overlapping epochs.
    accepted_bads_ratio : float
        Fraction of annotations per recording allowed to be shorter than a
        window (they are dropped with a warning from braindecode). The default
        1.0 never fails on such annotations.
    n_jobs : int
        Number of recordings windowed in parallel.

    Returns
    -------
    windows_ds : braindecode.datasets.BaseConcatDataset
        One ``EEGWindowsDataset`` per recording, targets in ``0..4`` and the
        recording ``description`` (``subject``, ``recording``...).

    Raises
    ------
    ValueError
        If the recordings have different sampling frequencies, the window does
        not span an integer number of samples, or a recording has no
        annotation in ``mapping``, or none as long as the window (to the
        sample; e.g. a hypnogram scored in 20-s epochs cut into 30-s windows:
        pass ``window_size_s`` equal to the hypnogram's epoch length).
    """
    mapping = dict(SLEEP_STAGE_MAPPING if mapping is None else mapping)
    sfreqs = {ds.raw.info["sfreq"] for ds in concat_ds.datasets}
    if len(sfreqs) != 1:
        raise ValueError(
            f"All recordings must share one sampling frequency, got {sorted(sfreqs)}"
            " Hz; resample them first, e.g. preprocess_sleep(..., sfreq=100)."
        )
    sfreq = sfreqs.pop()
    window_size_samples = window_size_s * sfreq
    if not np.isclose(window_size_samples, round(window_size_samples)):
        raise ValueError(
            f"window_size_s={window_size_s} s at {sfreq} Hz is not an integer "
            "number of samples."
        )
    window_size_samples = int(round(window_size_samples))
    for i, ds in enumerate(concat_ds.datasets):
        annots = ds.raw.annotations
        descriptions = set(annots.description)
        desc = {  # plain values: 7, not np.int64(7)
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in (
                {} if ds.description is None else dict(ds.description)
            ).items()
        }
        if not descriptions & set(mapping):
            raise ValueError(
                f"Recording {i} ({desc}) has no annotation in the mapping "
                f"{sorted(mapping)}; its annotations are {sorted(descriptions)}."
            )
        # braindecode drops the annotations shorter than a window (counted in
        # whole samples as it does) and fails on a recording left without any
        # ("IndexError: too many indices for array")
        scored = np.isin(annots.description, list(mapping))
        durations = np.asarray(annots.duration)[scored]
        if not np.any((durations * sfreq).astype(int) >= window_size_samples):
            longest = int(np.argmax(durations))
            raise ValueError(
                f"Recording {i} ({desc}) has no annotation in the mapping as long "
                f"as a window of {window_size_s:g} s ({window_size_samples} "
                f"samples at {sfreq:g} Hz): its longest scored annotation is "
                f"{annots.description[scored][longest]!r} of "
                f"{durations[longest]:g} s. Is its hypnogram scored in shorter "
                "epochs? Pass window_size_s equal to the hypnogram's epoch "
                f"length (e.g. create_sleep_windows(..., window_size_s="
                f"{durations[longest]:g}) for {durations[longest]:g}-s epochs)."
            )
    return create_windows_from_events(
        concat_ds,
        trial_start_offset_samples=0,
        trial_stop_offset_samples=0,
        window_size_samples=window_size_samples,
        window_stride_samples=window_size_samples,
        mapping=mapping,
        preload=preload,
        accepted_bads_ratio=accepted_bads_ratio,
        on_last_window=on_last_window,
        n_jobs=n_jobs,
    )


def _n_from_size(size, n, name):
    if isinstance(size, Integral) and not isinstance(size, bool):
        if not 0 <= size <= n:
            raise ValueError(f"{name}={size} must be between 0 and {n} subjects.")
        return int(size)
    if isinstance(size, Real) and 0 <= size < 1:
        return int(max(1, round(size * n))) if size > 0 else 0
    raise ValueError(
        f"{name} must be an int (number of subjects) or a float in [0, 1) "
        f"(fraction of subjects), got {size!r}."
    )


def split_by_subject(
    windows_ds, test_size=0.2, valid_size=0.2, random_state=None, *, by="subject"
):
    """Split a dataset into train, valid and test sets of disjoint subjects.

    Parameters
    ----------
    windows_ds : braindecode.datasets.BaseConcatDataset
        Windowed (or raw) dataset whose ``description`` has a ``by`` column.
    test_size, valid_size : float | int
        Fraction of the subjects (float in ``[0, 1)``, rounded, at least one
        subject when non-zero) or number of subjects (int) for each split.
    random_state : int | numpy.random.Generator | None
        Seed of the subject shuffle.
    by : str
        Description column identifying the subject. All recordings of one
        subject go to the same split.

    Returns
    -------
    train, valid, test : braindecode.datasets.BaseConcatDataset | None
        The three splits; a split of size 0 is ``None``.

    Raises
    ------
    ValueError
        If the column is missing or there are too few subjects to leave at
        least one for training.
    """
    description = windows_ds.description
    if by not in description:
        raise ValueError(
            f"The dataset description has no {by!r} column "
            f"(columns: {list(description.columns)})."
        )
    subjects = np.unique(description[by].to_numpy())
    n = len(subjects)
    n_test = _n_from_size(test_size, n, "test_size")
    n_valid = _n_from_size(valid_size, n, "valid_size")
    if n_test + n_valid >= n:
        raise ValueError(
            f"Cannot split {n} subjects into {n_test} test, {n_valid} valid and "
            "at least 1 training subject."
        )
    rng = np.random.default_rng(random_state)
    shuffled = rng.permutation(subjects)
    test_subj = set(shuffled[:n_test].tolist())
    valid_subj = set(shuffled[n_test : n_test + n_valid].tolist())
    groups = {"train": [], "valid": [], "test": []}
    for i, subj in enumerate(description[by].tolist()):
        if subj in test_subj:
            groups["test"].append(i)
        elif subj in valid_subj:
            groups["valid"].append(i)
        else:
            groups["train"].append(i)
    out = []
    for key in ("train", "valid", "test"):
        if groups[key]:
            out.append(
                BaseConcatDataset(
                    [windows_ds.datasets[i] for i in groups[key]],
                    target_transform=windows_ds.target_transform,
                )
            )
        else:
            out.append(None)
    return tuple(out)


def windows_to_arrays(windows_ds):
    """Load every window of a windowed dataset into numpy arrays.

    Parameters
    ----------
    windows_ds : braindecode.datasets.BaseConcatDataset
        Output of :func:`create_sleep_windows` (or any braindecode windows
        dataset with one window length).

    Returns
    -------
    X : numpy.ndarray, shape (n_windows, n_channels, n_times), float32
        The windows (after any ``transform`` of the datasets).
    y : numpy.ndarray, shape (n_windows,), int64
        The targets.
    subjects : numpy.ndarray, shape (n_windows,)
        The ``subject`` description entry of each window's recording.
    """
    Xs, ys, subjects = [], [], []
    for ds in windows_ds.datasets:
        subject = ds.description.get("subject") if ds.description is not None else None
        fast = (
            isinstance(ds, EEGWindowsDataset)
            and ds.transform is None
            and ds.targets_from == "metadata"
            and getattr(ds, "_zarr_data", None) is None
            and len(ds) > 0
        )
        if fast:
            starts = ds.crop_inds[:, 1]
            sizes = ds.crop_inds[:, 2] - starts
            if np.all(sizes == sizes[0]):
                data = ds.raw.get_data()
                idx = starts[:, None] + np.arange(sizes[0])
                X = np.ascontiguousarray(
                    data[:, idx].transpose(1, 0, 2), dtype=np.float32
                )
                y = np.asarray(ds.y, dtype=np.int64)
            else:
                fast = False
        if not fast:
            items = [ds[i] for i in range(len(ds))]
            if not items:
                continue
            X = np.stack([np.asarray(it[0], dtype=np.float32) for it in items])
            y = np.asarray([it[1] for it in items], dtype=np.int64)
        Xs.append(X)
        ys.append(y)
        subjects.append(np.full(len(y), subject, dtype=object))
    if not Xs:
        raise ValueError("The dataset has no window.")
    shapes = {X.shape[1:] for X in Xs}
    if len(shapes) != 1:
        raise ValueError(f"Windows have different shapes {sorted(shapes)}.")
    subjects = np.concatenate(subjects)
    if all(isinstance(s, Integral) and not isinstance(s, bool) for s in subjects):
        subjects = subjects.astype(np.int64)
    return np.concatenate(Xs), np.concatenate(ys), subjects
