"""Loader for a local copy of the Montreal Archive of Sleep Studies (MASS).

MASS cannot be downloaded automatically (access is granted on request by
the CEAMS). This module reads the EDF files laid out as MASS distributes
them, e.g. for subset SS3::

    <data_path>/01-03-0001 PSG.edf    # biosignals
    <data_path>/01-03-0001 Base.edf   # EDF+ sleep-stage annotations
    ...

(PSG and ``Base`` files may also sit in sub-folders such as
``SS3 biosignals/`` and ``SS3 annotations/``). The result has the type and
``description`` of :func:`load_sleep_physionet`, so :func:`preprocess_sleep`
and :func:`create_sleep_windows` apply unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from braindecode.datasets import BaseConcatDataset, RawDataset

from .edf import (
    check_channels,
    check_crop_wake_mins,
    check_edf_file,
    check_subject_ids,
    crop_wake,
    read_annotations,
    read_raw_checked,
    resolve_channels,
)
from .sleep import SLEEP_STAGE_MAPPING

__all__ = ["load_mass"]

_PSG_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{4}) PSG\.edf$", re.IGNORECASE)


def _find_recordings(data_path):
    data_path = Path(data_path).expanduser()
    if not data_path.is_dir():
        raise FileNotFoundError(
            f"MASS folder {str(data_path)!r} does not exist or is not a folder. "
            "MASS is not downloadable automatically: request it from the CEAMS "
            "(http://ceams-carsm.ca/mass) and point data_path to a subset "
            "folder holding files like '01-03-0001 PSG.edf' and "
            "'01-03-0001 Base.edf'."
        )
    psgs, bases = {}, {}
    for path in sorted(data_path.rglob("*.[eE][dD][fF]")):
        match = _PSG_RE.match(path.name)
        if match:
            psgs[match.groups()] = path
        elif path.name.lower().endswith(" base.edf"):
            bases.setdefault(path.name[: -len(" base.edf")], []).append(path)
    if not psgs:
        raise FileNotFoundError(
            f"No MASS PSG file ('CC-SS-NNNN PSG.edf', e.g. '01-03-0001 PSG.edf') "
            f"under {str(data_path)!r}."
        )
    subsets = sorted({(c, s) for c, s, _ in psgs})
    if len(subsets) > 1:
        raise ValueError(
            f"{str(data_path)!r} mixes several MASS subsets "
            f"{['-'.join(s) for s in subsets]}; subject numbers restart in each "
            "subset, so load one subset folder at a time."
        )
    return data_path, psgs, bases


def _find_annotation(data_path, psg_path, record_id, bases):
    name = f"{record_id} Base.edf"
    # prefer the annotation file next to the PSG
    candidates = sorted(
        bases.get(record_id, []), key=lambda p: p.parent != psg_path.parent
    )
    if candidates:
        return candidates[0]
    raise FileNotFoundError(
        f"MASS PSG file {str(psg_path)!r} has no annotation file {name!r} (looked "
        f"next to it and under {str(data_path)!r})."
    )


def load_mass(
    data_path,
    subject_ids=None,
    channels=("EEG C3-CLE", "EEG C4-CLE"),
    preload=True,
    crop_wake_mins=30,
):
    """Load MASS polysomnographies and their sleep-stage annotations.

    Parameters
    ----------
    data_path : str | pathlib.Path
        Folder of one MASS subset (searched recursively) holding
        ``CC-SS-NNNN PSG.edf`` and ``CC-SS-NNNN Base.edf`` files (names
        matched without case, e.g. ``Base.EDF``).
    subject_ids : int | list of int | None
        Subject numbers (``NNNN`` of the file names, e.g. 1 for
        ``01-03-0001``); ``None`` loads all.
    channels : sequence of str | sequence of tuple of str
        Channels to read, named as in the EDF files. An entry may be a tuple
        of alternatives (e.g. ``("EEG C3-CLE", "EEG C3-LER")`` since some SS3
        subjects are referenced to linked ears); the first one found is read
        and renamed to the first alternative, so all recordings share channel
        names. The channels are typed ``eeg``.
    preload : bool
        Load the signals into memory.
    crop_wake_mins : float | None
        Minutes of wake kept before the first and after the last sleep epoch
        (as in Sleep-EDF); 0 or ``None`` keeps everything.

    Returns
    -------
    dataset : braindecode.datasets.BaseConcatDataset
        One :class:`braindecode.datasets.RawDataset` per recording, signals
        in volts, annotations such as ``"Sleep stage W"``, ``"Sleep stage 2"``,
        ``"Sleep stage R"``, ``"Sleep stage ?"`` and a ``description`` with
        ``subject``, ``recording`` (always 1) and ``subset`` (e.g. ``"SS3"``).

    Raises
    ------
    TypeError
        If ``subject_ids`` holds a bool or a non-integer, or ``channels`` is
        not a list of names.
    FileNotFoundError
        If the folder, a requested subject, or a PSG's ``Base.edf`` is missing.
    ValueError
        If ``crop_wake_mins`` is not a finite number >= 0, ``subject_ids``
        or ``channels`` is empty, or ``channels`` names a channel twice
        (checked before any file is read); if a file cannot be read, has no
        sleep-stage annotation, lacks a requested channel, or the folder
        mixes subsets.

    Notes
    -----
    Subsets SS1 and SS3 are scored in 30-s epochs; SS2, SS4 and SS5 in 20-s
    epochs (use ``create_sleep_windows(..., window_size_s=20)``). MASS EEG is
    sampled at 256 Hz: ``preprocess_sleep(..., sfreq=100)`` matches Sleep-EDF.
    """
    crop_wake_mins = check_crop_wake_mins(crop_wake_mins)
    subject_ids = check_subject_ids(subject_ids)
    channels = check_channels(channels)
    data_path, psgs, bases = _find_recordings(data_path)
    if subject_ids is not None:
        wanted = set(subject_ids)
        available = {int(k[2]) for k in psgs}
        missing = sorted(wanted - available)
        if missing:
            raise FileNotFoundError(
                f"No MASS PSG file for subjects {missing} under {str(data_path)!r} "
                f"(available: {sorted(available)})."
            )
        psgs = {k: v for k, v in psgs.items() if int(k[2]) in wanted}
    datasets = []
    for (cohort, subset, subject), psg_path in psgs.items():
        record_id = f"{cohort}-{subset}-{subject}"
        ann_path = _find_annotation(data_path, psg_path, record_id, bases)
        hint = "copy a complete file from your MASS archive there again"
        header = read_raw_checked(psg_path, "MASS PSG", hint=hint, preload=False)
        picks, rename = resolve_channels(channels, header.ch_names, psg_path)
        raw = read_raw_checked(
            psg_path, "MASS PSG", hint=hint, include=picks, preload=False
        )
        raw.pick(picks)  # keep the requested order
        check_edf_file(ann_path, "MASS annotation", hint=hint)
        try:
            annots = read_annotations(ann_path)
        except Exception as err:
            raise ValueError(
                f"Could not read MASS annotation file {str(ann_path)!r}: {err}"
            ) from err
        if not set(annots.description) & set(SLEEP_STAGE_MAPPING):
            raise ValueError(
                f"MASS annotation file {str(ann_path)!r} has no sleep-stage "
                f"annotation ({sorted(SLEEP_STAGE_MAPPING)}); found "
                f"{sorted(set(annots.description))[:10]}."
            )
        raw.set_annotations(annots, emit_warning=False)
        if rename:
            raw.rename_channels(rename)
        raw.set_channel_types({ch: "eeg" for ch in raw.ch_names})
        if crop_wake_mins:
            crop_wake(raw, crop_wake_mins)
        if preload:
            raw.load_data(verbose="error")
        description = pd.Series(
            {"subject": int(subject), "recording": 1, "subset": f"SS{int(subset)}"}
        )
        datasets.append(RawDataset(raw, description))
    return BaseConcatDataset(datasets)
