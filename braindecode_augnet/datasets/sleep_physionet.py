"""Sleep-EDF (PhysioNet Sleep Cassette) loader that fails fast offline."""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np
from braindecode.datasets import BaseConcatDataset, RawDataset, SleepPhysionet
from mne.datasets.sleep_physionet import age as _age

from .edf import check_edf_file

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
        Subjects (0-82; 39, 68, 69, 78 and 79 do not exist).
    recording_ids : tuple of int
        Nights to load per subject, among ``(1, 2)``. Missing nights
        (subject 13 night 2, subjects 36 and 52 night 1) are skipped with a
        warning.
    crop_wake_mins : float
        Minutes of wake kept before the first and after the last sleep
        epoch; 0 keeps the whole recording.
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
        Optional ``(tmin, tmax)`` in seconds applied after wake cropping.

    Returns
    -------
    dataset : braindecode.datasets.BaseConcatDataset
        One :class:`braindecode.datasets.RawDataset` per night, signals in
        volts, ``description`` with ``subject`` and ``recording``.

    Raises
    ------
    ConnectionError
        If the files are not on disk and cannot be downloaded; the message
        lists the files and the folder to copy them into.
    ValueError
        If ``crop_wake_mins`` crops away the whole recording, or a file on disk
        is not an EDF file or is truncated (an interrupted download: the
        message names the file to delete so that it is fetched again).
    """
    if isinstance(subject_ids, Integral):
        subject_ids = [int(subject_ids)]
    subject_ids = [int(s) for s in subject_ids]
    if isinstance(recording_ids, Integral):
        recording_ids = [int(recording_ids)]
    recording_ids = [int(r) for r in recording_ids]
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
