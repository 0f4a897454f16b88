"""Sleep-EDF (PhysioNet Sleep Cassette) loader that fails fast offline."""

from __future__ import annotations

import os

import numpy as np
from braindecode.datasets import BaseConcatDataset, RawDataset, SleepPhysionet
from mne.datasets.sleep_physionet import age as _age

from .._validation import check_positive
from .edf import check_crop_wake_mins, check_edf_file, check_subject_ids

__all__ = ["SLEEP_EDF_URL", "load_sleep_physionet"]

#: Where the Sleep Cassette files are published.
SLEEP_EDF_URL = "https://physionet.org/content/sleep-edfx/1.0.0/sleep-cassette/"


def _expected_files(subject_ids, recording_ids):
    """File names mne would fetch for these subjects and nights (best effort)."""
    try:
        records = np.loadtxt(
            _age.AGE_SLEEP_RECORDS,
            skiprows=1,
            delimiter=",",
            usecols=(0, 1, 7),
            dtype={
                "names": ("subject", "night", "fname"),
                "formats": ("i4", "i4", "U40"),
            },
        )
    except Exception:  # only used to enrich an error message
        return []
    keep = np.isin(records["subject"], subject_ids) & np.isin(
        records["night"], recording_ids
    )
    return [str(f) for f in records["fname"][keep]]


def _check_crop(crop):
    """``crop`` as ``None`` or ``(tmin, tmax)`` seconds, 0 <= tmin < tmax
    (``tmax`` None: the end), checked before any download."""
    if crop is None:
        return None
    fix = "pass crop=None, or (tmin, tmax) in seconds, e.g. crop=(0, 3600)"
    if isinstance(crop, str) or not hasattr(crop, "__len__") or len(crop) != 2:
        raise ValueError(
            f"crop must be None or a pair (tmin, tmax) in seconds, got {crop!r}; {fix}."
        )
    meaning = "It is where the recording is cut, in seconds; " + fix
    tmin = check_positive(crop[0], "crop[0] (tmin)", allow_zero=True, hint=meaning)
    tmax = check_positive(crop[1], "crop[1] (tmax)", allow_none=True, hint=meaning)
    if tmax is not None and tmax <= tmin:
        raise ValueError(
            f"crop={tuple(crop)!r} ends before it starts (tmax <= tmin); {fix}."
        )
    return tmin, tmax


def _download_error(err, subject_ids, recording_ids, path):
    try:
        folder = _age.data_path(path=path)
    except Exception:  # only used to enrich an error message
        folder = "<path>/physionet-sleep-data"
    files = _expected_files(subject_ids, recording_ids)
    shown = ", ".join(files[:8])
    if len(files) > 8:
        shown += f", ... ({len(files)} files)"
    return ConnectionError(
        "Could not fetch the Sleep-EDF recordings of subjects "
        f"{list(subject_ids)} (nights {list(recording_ids)}) through "
        f"mne.datasets.sleep_physionet.age.fetch_data: {type(err).__name__}: {err}\n"
        "This machine probably has no access to physionet.org. To work offline, "
        "download the files on a machine with internet, either with\n"
        '    python -c "from mne.datasets.sleep_physionet.age import fetch_data; '
        f'fetch_data({list(subject_ids)}, recording={list(recording_ids)})"\n'
        f"or from {SLEEP_EDF_URL}, and copy them into\n    {folder}\n"
        "which is where mne looks: <path>/physionet-sleep-data, with <path> the "
        "`path` argument, else the MNE config / environment variable "
        "PHYSIONET_SLEEP_PATH, else ~/mne_data. "
        + (f"Files needed: {shown}. " if files else "")
        + "For a data-free run use braindecode_augnet.datasets.make_synthetic_sleep."
    )


def load_sleep_physionet(
    subject_ids,
    recording_ids=(1, 2),
    crop_wake_mins=30,
    load_eeg_only=True,
    preload=True,
    path=None,
    *,
    crop=None,
):
    """Load Sleep-EDF Expanded (Sleep Cassette) recordings with their hypnograms.

    The files are fetched (downloaded once, then read from disk) by
    :func:`mne.datasets.sleep_physionet.age.fetch_data` and every night is
    read exactly as :class:`braindecode.datasets.SleepPhysionet` reads it
    (``SleepPhysionet._load_raw``: hypnogram annotations, wake cropping, EEG
    channels renamed ``Fpz-Cz`` and ``Pz-Oz``). Unlike ``SleepPhysionet``,
    a failed download is not retried five times with pauses but raises at
    once an error saying where to put the files.

    Parameters
    ----------
    subject_ids : int | list of int
        Subjects (0-82; 39, 68, 69, 78 and 79 do not exist). A str or a
        float is refused, not read digit by digit or rounded.
    recording_ids : int | tuple of int
        Nights to load per subject, among ``(1, 2)``. Missing nights
        (subject 13 night 2, subjects 36 and 52 night 1) are skipped with a
        warning.
    crop_wake_mins : float | None
        Minutes of wake kept before the first and after the last sleep
        epoch (finite, >= 0); 0 or ``None`` keeps the whole recording.
    load_eeg_only : bool
        If True, read only the two EEG channels; otherwise the EOG is typed
        ``eog`` and the other signals ``misc``.
    preload : bool
        Load the signals into memory.
    path : str | None
        Folder under which mne keeps ``physionet-sleep-data``; ``None`` uses
        the MNE config / environment variable ``PHYSIONET_SLEEP_PATH``, else
        ``~/mne_data``.
    crop : tuple | None
        Optional ``(tmin, tmax)`` in seconds applied after wake cropping,
        ``0 <= tmin < tmax`` (``tmax`` None: to the end).

    Returns
    -------
    dataset : braindecode.datasets.BaseConcatDataset
        One :class:`braindecode.datasets.RawDataset` per night, signals in
        volts, ``description`` with ``subject`` and ``recording``.

    Raises
    ------
    TypeError
        If ``subject_ids`` or ``recording_ids`` is not an int or a list of
        ints (e.g. a str, a float, a bool or None).
    ConnectionError
        If the files are not on disk and cannot be downloaded; the message
        lists the files and the folder to copy them into.
    ValueError
        If ``subject_ids`` or ``recording_ids`` is empty, ``recording_ids``
        names a night other than 1 and 2, ``crop_wake_mins`` is not a finite
        number >= 0 or ``crop`` not ``(tmin, tmax)`` with
        ``0 <= tmin < tmax`` (all checked before any download); if
        ``crop_wake_mins`` crops away the whole recording, or a file on disk
        is not an EDF file or is truncated (an interrupted download: the
        message names the file to delete so that it is fetched again).
    """
    subject_ids = check_subject_ids(
        subject_ids,
        allow_none=False,
        fix="pass Sleep-EDF subject numbers (0-82) as ints, e.g. subject_ids=[0, 1]",
    )
    recording_ids = check_subject_ids(
        recording_ids,
        "recording_ids",
        what="night",
        allow_none=False,
        fix="pass the nights as ints among 1 and 2, e.g. recording_ids=(1, 2)",
    )
    nights = sorted(set(recording_ids) - {1, 2})
    if nights:
        raise ValueError(
            f"recording_ids={recording_ids} names night(s) {nights}: Sleep-EDF "
            "has nights 1 and 2 only; pass recording_ids=(1, 2), 1 or 2."
        )
    crop_wake_mins = check_crop_wake_mins(crop_wake_mins)
    crop_wake_mins = crop_wake_mins or 0  # braindecode compares it with 0
    crop = _check_crop(crop)
    try:
        paths = _age.fetch_data(
            subject_ids, recording=recording_ids, path=path, on_missing="warn"
        )
    except OSError as err:  # requests' errors are OSErrors
        raise _download_error(err, subject_ids, recording_ids, path) from err
    if not paths:
        raise ValueError(
            f"No Sleep-EDF recording for subjects {subject_ids} and nights "
            f"{recording_ids}."
        )
    datasets = []
    for psg_fname, hyp_fname in paths:
        for fname, what in ((psg_fname, "Sleep-EDF PSG"), (hyp_fname, "hypnogram")):
            if not str(fname).lower().endswith(".edf"):
                continue  # e.g. an mne .txt hypnogram of the tests
            check_edf_file(
                fname,
                what,
                hint=(
                    "delete it and it will be downloaded again by the next run "
                    "(or copy it again from " + SLEEP_EDF_URL + ")"
                ),
            )
        try:
            raw, desc = SleepPhysionet._load_raw(
                psg_fname,
                hyp_fname,
                preload=preload,
                load_eeg_only=load_eeg_only,
                crop_wake_mins=crop_wake_mins,
                crop=crop,
            )
        except IndexError as err:  # no sleep epoch to crop around
            raise ValueError(
                f"Hypnogram {os.path.basename(hyp_fname)} has no sleep stage "
                "(1, 2, 3, 4 or R) to crop the wake periods around; use "
                "crop_wake_mins=0."
            ) from err
        except ValueError as err:
            raise ValueError(
                f"Could not crop {os.path.basename(psg_fname)} with hypnogram "
                f"{os.path.basename(hyp_fname)} (crop_wake_mins={crop_wake_mins}, "
                f"crop={crop}): {err}. The recording probably ends before "
                "the kept wake period starts; use a larger crop_wake_mins or 0."
            ) from err
        datasets.append(RawDataset(raw, desc))
    return BaseConcatDataset(datasets)
