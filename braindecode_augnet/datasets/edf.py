"""Your own recordings: a folder of EDF/EDF+/BDF polysomnographies and hypnograms.

Pairing rule (:func:`find_edf_recordings`). In ``data_path`` (not searched
recursively), every ``.edf``/``.bdf`` file that is not a hypnogram is a PSG.
The *base* of a file name is its stem without a trailing ``-PSG``, ``_PSG``
or `` PSG`` (PSG files) or ``-Hypnogram``, ``_Hypnogram``, `` Base``,
``.hyp`` or ``_hyp`` (hypnogram files; these suffixes, case-insensitive,
are what makes an ``.edf`` file a hypnogram). A PSG pairs with the one
hypnogram of the same base, in any of these forms::

    NAME.edf             + NAME.hyp.csv | NAME.hyp.txt | NAME.hyp.tsv |
                           NAME.hyp.edf | NAME-Hypnogram.edf | NAME.csv |
                           NAME.txt | NAME.tsv
    01-03-0001 PSG.edf   + 01-03-0001 Base.edf          (MASS)
    SC4001E0-PSG.edf     + SC4001EC-Hypnogram.edf        (Sleep-EDF: the base
                                                          without its last
                                                          letter, the scorer)

A PSG with no hypnogram, or with several, is an error naming the files.
Hypnogram formats and stage codings: :mod:`.hypnogram`.

This module also holds the checks every EDF loader of the package runs
before reading a file (:func:`check_edf_file`: not an EDF, truncated) and
the channel picking they share.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from numbers import Integral
from pathlib import Path

import mne
import numpy as np
import pandas as pd
from braindecode.datasets import BaseConcatDataset, RawDataset

from .._validation import check_positive
from .hypnogram import EPOCH_S_HINT, read_hypnogram
from .sleep import SLEEP_STAGE_MAPPING

__all__ = ["check_edf_file", "find_edf_recordings", "load_edf"]

_EDF_MAGIC = b"0       "
_BDF_MAGIC = b"\xffBIOSEMI"
_SLEEP_STAGES = tuple(k for k, v in SLEEP_STAGE_MAPPING.items() if v != 0)
_PSG_SUFFIX = re.compile(r"[-_ ]psg$", re.IGNORECASE)
_HYP_SUFFIX = re.compile(r"([-_ ]hypnogram|[-_ ]base|[._]hyp)$", re.IGNORECASE)
_SLEEP_EDF = re.compile(r"^(S[CT]\d{4}[A-Z])[0-9A-Z]$")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def _header_int(header, start, stop, path, field):
    text = header[start:stop].decode("ascii", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"{str(path)!r} has an unreadable EDF header ({field} is {text!r}); "
            "the file is corrupt or not an EDF file."
        ) from None


def check_edf_file(path, what="PSG", *, hint=None):
    """Refuse a file that is not EDF/BDF, or that is shorter than its header says.

    mne reads a truncated EDF with only a warning ("Number of records from
    the header does not match the file size") and returns the records that
    are there: a night cut in half loads as half a night. This check reads
    the header itself (number of records, record duration, samples per
    record) and compares the expected size with the file's.

    Parameters
    ----------
    path : str | pathlib.Path
        The file.
    what : str
        What the file is, for the message (``"PSG"``, ``"hypnogram"``).
    hint : str | None
        What to do about a bad file (default: obtain a complete copy).

    Raises
    ------
    ValueError
        If the file does not start like an EDF/BDF header, or holds fewer
        data records than its header announces (the message gives how many
        records, hours and 30-s epochs are missing).
    """
    path = Path(path)
    hint = hint or "copy a complete file there again"
    size = path.stat().st_size
    with open(path, "rb") as fid:
        header = fid.read(256)
        magic = header[:8]
        if magic not in (_EDF_MAGIC, _BDF_MAGIC):
            raise ValueError(
                f"{what} file {str(path)!r} is not an EDF/BDF file (it starts "
                f"with {header[:16]!r}, an EDF file starts with '0' and 7 "
                f"spaces): it is corrupt or incomplete; {hint}."
            )
        if len(header) < 256:
            raise ValueError(
                f"{what} file {str(path)!r} is truncated inside its header "
                f"({size} bytes); {hint}."
            )
        n_header = _header_int(header, 184, 192, path, "header size")
        n_records = _header_int(header, 236, 244, path, "number of records")
        record_s = float(header[244:252].decode("ascii", "replace").strip() or 0)
        n_signals = _header_int(header, 252, 256, path, "number of signals")
        fid.seek(256 + n_signals * 216)
        samples = fid.read(n_signals * 8)
    if n_records < 0:  # -1: unknown, allowed while recording
        return
    if len(samples) < n_signals * 8:
        raise ValueError(
            f"{what} file {str(path)!r} is truncated inside its header "
            f"({size} bytes); {hint}."
        )
    per_record = sum(
        int(samples[8 * i : 8 * i + 8].decode("ascii", "replace").strip() or 0)
        for i in range(n_signals)
    )
    record_bytes = per_record * (3 if magic == _BDF_MAGIC else 2)
    if record_bytes == 0:
        return
    n_present = max(0, (size - n_header) // record_bytes)
    if n_present < n_records:
        missing_s = (n_records - n_present) * record_s
        raise ValueError(
            f"{what} file {str(path)!r} is truncated: its header announces "
            f"{n_records} data records of {record_s:g} s "
            f"({n_records * record_s / 3600:.2f} h) but the file holds "
            f"{n_present} ({size} of {n_header + n_records * record_bytes} "
            f"bytes); {missing_s / 3600:.2f} h, about {int(missing_s // 30)} "
            f"30-s epochs, are missing. mne would read it with only a warning "
            f"('Number of records from the header does not match the file "
            f"size'); {hint}."
        )


def read_raw_checked(path, what="PSG", *, hint=None, **kwargs):
    """:func:`mne.io.read_raw` after :func:`check_edf_file`; mne's warnings
    about the file's size are errors, its other warnings are silenced."""
    check_edf_file(path, what, hint=hint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = mne.io.read_raw(path, verbose="warning", **kwargs)
        except Exception as err:
            raise ValueError(
                f"Could not read {what} file {str(path)!r}: {err}"
            ) from err
    for warning in caught:
        if "file size" in str(warning.message):
            raise ValueError(
                f"{what} file {str(path)!r}: {warning.message}; "
                f"{hint or 'copy a complete file there again'}."
            )
    return raw


def read_annotations(path):
    """:func:`mne.read_annotations` of an EDF+/BDF+ file whatever the case of
    its suffix: mne knows these files by a lower-case suffix only, so a
    ``Base.EDF`` or ``-Hypnogram.EDF`` (names are matched without case) is
    read through a copy with its suffix in lower case."""
    path = Path(path)
    if path.suffix == path.suffix.lower():
        return mne.read_annotations(path)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / (path.stem + path.suffix.lower())
        shutil.copyfile(path, copy)
        return mne.read_annotations(copy)


def _bare(name):
    return re.sub(r"^eeg[ _-]*", "", name.lower())


def check_channels(channels):
    """The entries of a ``channels`` option as tuples of alternatives.

    Parameters
    ----------
    channels : str | sequence of (str | tuple of str)
        Channel names; an entry may be a tuple of alternatives, read as the
        first of them.

    Returns
    -------
    list of tuple of str
        One tuple of alternatives per entry.

    Raises
    ------
    TypeError
        If ``channels`` or an entry is not a name or a sequence of names.
    ValueError
        If ``channels`` is empty, an entry has no alternative, or two
        entries are read as one name (named twice).
    """
    if isinstance(channels, str):
        channels = [channels]
    fix = "e.g. channels=['EEG Fpz-Cz', ('EEG Pz-Oz', 'Pz-Oz')]"
    try:
        channels = list(channels)
    except TypeError:
        raise TypeError(
            f"channels must be a list of channel names, got {channels!r}; {fix}."
        ) from None
    if not channels:
        raise ValueError(
            "channels=[] selects no channel; name at least one (" + fix + "), "
            "or pass None for the channels whose name starts with 'EEG'."
        )
    entries, first = [], {}
    for i, entry in enumerate(channels):
        options = (entry,) if isinstance(entry, str) else entry
        try:
            options = tuple(options)
        except TypeError:
            options = (entry,)
        if not all(isinstance(option, str) for option in options):
            raise TypeError(
                f"channels[{i}] is {entry!r}: each entry must be a channel name "
                f"or a tuple of alternative names; {fix}."
            )
        if not options:
            raise ValueError(
                f"channels[{i}] is an empty tuple: give at least one name; {fix}."
            )
        if options[0] in first:
            raise ValueError(
                f"channels names {options[0]!r} twice (entries {first[options[0]]} "
                f"and {i}); name each channel once."
            )
        first[options[0]] = i
        entries.append(options)
    return entries


def resolve_channels(channels, available, path):
    """Channel names to read and the renaming to apply.

    Each entry of ``channels`` is a name or a tuple of alternatives; the first
    found is read (exact name, else case-insensitively, else without an
    ``EEG`` prefix) and renamed to the first alternative. Two entries that
    resolve to one channel of the file are an error naming it.
    """
    resolved, rename = [], {}
    matchers = (
        lambda name: name,
        lambda name: name.lower(),
        _bare,
    )
    entries = check_channels(channels)
    for options in entries:
        found = None
        for norm in matchers:
            table = {norm(c): c for c in available}
            found = next((table[norm(o)] for o in options if norm(o) in table), None)
            if found is not None:
                break
        if found is None:
            raise ValueError(
                f"Channel {options[0] if len(options) == 1 else list(options)!r} "
                f"not found in {str(path)!r}; its channels are {available}."
            )
        if found in resolved:
            other = entries[resolved.index(found)]
            raise ValueError(
                f"Channels {_entry(other)!r} and {_entry(options)!r} are both "
                f"channel {found!r} of {str(path)!r} (named twice); name each "
                "channel once."
            )
        resolved.append(found)
        if found != options[0]:
            rename[found] = options[0]
    return resolved, rename


def _entry(options):
    """A ``channels`` entry as given: a name, or the list of alternatives."""
    return options[0] if len(options) == 1 else list(options)


def check_crop_wake_mins(crop_wake_mins):
    """``crop_wake_mins`` of the loaders: None, or a finite number >= 0."""
    return check_positive(
        crop_wake_mins,
        "crop_wake_mins",
        allow_zero=True,
        allow_none=True,
        hint="It is the minutes of wake kept before the first and after the last "
        "sleep epoch; pass 0 or None to keep the whole recording, e.g. "
        "crop_wake_mins=30",
    )


def crop_wake(raw, crop_wake_mins):
    """Keep ``crop_wake_mins`` of wake around the sleep period (as braindecode)."""
    annots = raw.annotations
    sleep = np.flatnonzero(np.isin(annots.description, _SLEEP_STAGES))
    if len(sleep) == 0:
        return raw
    first, last = annots[sleep[0]], annots[sleep[-1]]
    offset = raw.first_samp / raw.info["sfreq"]
    tmin = first["onset"] - offset - crop_wake_mins * 60
    tmax = last["onset"] - offset + last["duration"] + crop_wake_mins * 60
    return raw.crop(
        tmin=max(tmin, raw.times[0]),
        tmax=min(tmax, raw.times[-1] + 1 / raw.info["sfreq"]),
        include_tmax=False,
    )


def _base(path):
    """(base name, is_hypnogram) of a file (see the pairing rule above)."""
    double = ".hyp" + path.suffix  # NAME.hyp.csv, NAME.hyp.edf...
    if path.name.lower().endswith(double.lower()):
        return path.name[: -len(double)], True
    if path.suffix.lower() in _TEXT_SUFFIXES or _HYP_SUFFIX.search(path.stem):
        return _HYP_SUFFIX.sub("", path.stem), True
    return _PSG_SUFFIX.sub("", path.stem), False


def _sleep_edf_key(base):
    match = _SLEEP_EDF.match(base)
    return match.group(1) if match else None


def find_edf_recordings(data_path):
    """Pair the PSG files of a folder with their hypnograms.

    Parameters
    ----------
    data_path : str | pathlib.Path
        The folder (see the module docstring for the pairing rule).

    Returns
    -------
    list of (pathlib.Path, pathlib.Path)
        ``(psg, hypnogram)`` pairs, sorted by PSG name.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist, holds no PSG, or a PSG has no hypnogram.
    ValueError
        If a PSG matches several hypnograms.
    """
    data_path = Path(data_path).expanduser()
    if not data_path.is_dir():
        raise FileNotFoundError(
            f"EDF folder {str(data_path)!r} does not exist or is not a folder; "
            "--data-path must be a folder of PSG files (.edf/.bdf) and their "
            "hypnograms."
        )
    psgs, hyps = [], {}
    for path in sorted(data_path.iterdir()):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in (".edf", ".bdf", *_TEXT_SUFFIXES):
            continue
        base, is_hyp = _base(path)
        if is_hyp:
            hyps.setdefault(base.lower(), []).append(path)
        else:
            psgs.append((base, path))
    if not psgs:
        raise FileNotFoundError(
            f"No PSG file (.edf, .bdf) in {str(data_path)!r}; hypnograms are "
            "recognised by their names (-Hypnogram.edf, .hyp.*, .csv, .txt) and "
            "not read as PSGs."
        )
    by_key = {}
    for base, paths in hyps.items():
        key = _sleep_edf_key(base.upper())
        if key is not None:
            by_key.setdefault(key, []).extend(paths)
    pairs = []
    for base, psg in psgs:
        found = hyps.get(base.lower(), [])
        if not found and _sleep_edf_key(base) is not None:
            found = by_key.get(_sleep_edf_key(base), [])
        if not found:
            raise FileNotFoundError(
                f"PSG file {str(psg)!r} has no hypnogram in {str(data_path)!r}: "
                f"expected one of {base}.hyp.csv, {base}.csv, {base}.txt, "
                f"{base}-Hypnogram.edf (see braindecode_augnet.datasets.edf)."
            )
        if len(found) > 1:
            raise ValueError(
                f"PSG file {str(psg)!r} matches several hypnograms "
                f"{[p.name for p in found]}; keep one."
            )
        pairs.append((psg, found[0]))
    return pairs


def _subject_key(psg):
    base, _ = _base(psg)
    key = _sleep_edf_key(base)
    if key is not None:  # Sleep-EDF SC4ssN / ST7ssN: subject ss, night N
        return key[:5], int(key[5])
    return base, 1


def _default_channels(available, path):
    eeg = [c for c in available if c.upper().startswith("EEG")]
    if not eeg:
        raise ValueError(
            f"{str(path)!r} has no channel whose name starts with 'EEG' "
            f"(its channels are {available}); name the channels to read "
            "(channels=[...], --channels)."
        )
    return eeg


def check_subject_ids(
    subject_ids, name="subject_ids", *, what="subject", allow_none=True, fix=None
):
    """``subject_ids`` of :func:`load_edf` as a list of ints (or None).

    ``name``, ``what`` (what an index is), ``allow_none`` and ``fix`` (what
    to pass) adapt it to another option of indices (e.g. the nights of
    :func:`~braindecode_augnet.datasets.load_sleep_physionet`).
    """
    if subject_ids is None and allow_none:
        return None
    if fix is None:
        fix = f"pass {what} indices as ints (e.g. {name}=[0, 2])" + (
            ", or None for all" if allow_none else ""
        )
    if isinstance(subject_ids, Integral) and not isinstance(subject_ids, bool):
        return [int(subject_ids)]
    if isinstance(subject_ids, (bool, str)) or subject_ids is None:
        items = None
    else:
        try:
            items = list(subject_ids)
        except TypeError:
            items = None
    if items is None or not all(
        isinstance(s, Integral) and not isinstance(s, bool) for s in items
    ):
        bools = isinstance(subject_ids, bool) or any(
            isinstance(s, bool) for s in items or ()
        )
        kinds = (
            "an int, a list of ints or None"
            if allow_none
            else "an int or a list of ints"
        )
        raise TypeError(
            f"{name} must be {kinds}, got {subject_ids!r}"
            f"{f' (a bool is not a {what} index)' if bools else ''}; {fix}."
        )
    if not items:
        raise ValueError(
            f"{name}={subject_ids!r} selects no {what}; "
            + (
                f"pass None for all {what}s, or the indices of those to load."
                if allow_none
                else f"{fix}."
            )
        )
    return [int(s) for s in items]


def load_edf(
    data_path,
    channels=None,
    stage_coding=None,
    *,
    subject_ids=None,
    epoch_s=30.0,
    crop_wake_mins=None,
    preload=True,
    verbose=False,
):
    """Load a folder of PSG files (EDF, EDF+, BDF) and their hypnograms.

    Parameters
    ----------
    data_path : str | pathlib.Path
        Folder of PSG files, each with a hypnogram (pairing rule in the
        module docstring).
    channels : sequence of str | sequence of tuple of str | None
        Channels to read, by name (an entry may be a tuple of alternatives,
        the first found read and renamed to the first); names match exactly,
        else case-insensitively, else without an ``EEG`` prefix. ``None``
        reads the channels whose name starts with ``EEG`` (those of the
        first file; every file must have them). The channels are typed
        ``eeg``.
    stage_coding : None | str | dict
        How hypnogram labels map to sleep stages (see
        :func:`~braindecode_augnet.datasets.hypnogram.parse_stage_coding`):
        ``None`` for stage names (Sleep-EDF, AASM, R&K names), ``"rk"``,
        ``"aasm"``, ``"prerau"`` for numeric codes, or a dict.
    subject_ids : int | list of int | None
        Subjects to load (indices into the sorted subjects); ``None``: all.
        An empty list selects no subject and is an error, as is a bool.
    epoch_s : float
        Epoch length of the hypnograms (seconds, finite, > 0): that of
        one-stage-per-line files, the length of the last stage of an
        ``onset,stage`` file that starts after the end of the PSG, and
        the unit of the epoch counts.
    crop_wake_mins : float | None
        Minutes of wake kept before the first and after the last sleep
        epoch (finite, >= 0); ``None`` or 0 keeps everything.
    preload : bool
        Load the signals into memory.
    verbose : bool
        Print one line per recording (scored and dropped epochs).

    Returns
    -------
    dataset : braindecode.datasets.BaseConcatDataset
        One :class:`braindecode.datasets.RawDataset` per PSG, signals in
        volts at the file's rate (``preprocess_sleep(..., sfreq=100)``
        resamples), Sleep-EDF style annotations, and a ``description`` with
        ``subject`` (an int; Sleep-EDF nights of one person share it, other
        files are one subject each), ``recording``, ``subject_name``,
        ``psg``, ``hypnogram``, ``n_scored_epochs`` and ``n_dropped_epochs``
        (unscored or movement epochs, not windowed).

    Raises
    ------
    TypeError
        If ``subject_ids`` holds a bool or a non-integer, or ``channels`` is
        not a list of names.
    FileNotFoundError
        If the folder, a PSG's hypnogram or a requested subject is missing.
    ValueError
        If ``epoch_s`` is not a finite number > 0, ``crop_wake_mins`` not
        one >= 0, ``subject_ids`` or ``channels`` is empty, or
        ``channels`` names a channel twice (checked before any file is read);
        if a file is not EDF, is truncated, lacks a channel, a hypnogram
        line or annotation cannot be read or mapped, or no scored epoch
        falls inside its recording.
    """
    epoch_s = check_positive(epoch_s, "epoch_s", hint=EPOCH_S_HINT)
    crop_wake_mins = check_crop_wake_mins(crop_wake_mins)
    subject_ids = check_subject_ids(subject_ids)
    if channels is not None:
        channels = check_channels(channels)
    pairs = find_edf_recordings(data_path)
    keys = [_subject_key(psg) for psg, _ in pairs]
    names = sorted({name for name, _ in keys})
    subjects = [names.index(name) for name, _ in keys]
    if subject_ids is not None:
        wanted = set(subject_ids)
        missing = sorted(wanted - set(subjects))
        if missing:
            raise FileNotFoundError(
                f"No subject {missing} in {str(data_path)!r}: it has subjects "
                f"0-{len(names) - 1} ({', '.join(names)})."
            )
    datasets = []
    for (psg, hyp), (name, recording), subject in zip(pairs, keys, subjects):
        if subject_ids is not None and subject not in wanted:
            continue
        header = read_raw_checked(psg, "PSG", preload=False)
        if channels is None:  # those of the first file, for every file
            channels = _default_channels(header.ch_names, psg)
        picks, rename = resolve_channels(channels, header.ch_names, psg)
        raw = read_raw_checked(psg, "PSG", include=picks, preload=False)
        raw.pick(picks)
        if rename:
            raw.rename_channels(rename)
        raw.set_channel_types({ch: "eeg" for ch in raw.ch_names})
        length = raw.n_times / raw.info["sfreq"]
        annots, dropped = read_hypnogram(
            hyp, stage_coding, epoch_s=epoch_s, duration=length
        )
        if raw.info["meas_date"] is None and annots.orig_time is not None:
            annots = mne.Annotations(  # no date to align on: from the start
                annots.onset, annots.duration, annots.description
            )
        inside = _seconds_inside(annots, raw)
        total = float(np.sum(annots.duration))
        if inside == 0:
            raise ValueError(
                f"No scored epoch of hypnogram {str(hyp)!r} falls inside PSG "
                f"{str(psg)!r} ({length:.0f} s): do they belong together? (EDF+ "
                "hypnograms are placed by their start date, text hypnograms from "
                "the start of the PSG.)"
            )
        if total - inside >= epoch_s:
            warnings.warn(
                f"Hypnogram {str(hyp)!r} scores {(total - inside) / epoch_s:.0f} "
                f"epochs beyond the end of PSG {str(psg)!r} ({length:.0f} s); "
                "they are not used.",
                RuntimeWarning,
                stacklevel=2,
            )
        raw.set_annotations(annots, emit_warning=False)
        if crop_wake_mins:
            crop_wake(raw, crop_wake_mins)
        if preload:
            raw.load_data(verbose="error")
        if raw.info["meas_date"] is None and dropped.orig_time is not None:
            dropped = mne.Annotations(
                dropped.onset, dropped.duration, dropped.description
            )
        dropped_s = {
            label: _seconds_inside(dropped[dropped.description == label], raw)
            for label in sorted(set(dropped.description))
        }
        n_dropped = int(round(sum(dropped_s.values()) / epoch_s))
        n_scored = int(round(inside / epoch_s))
        if verbose:
            detail = ", ".join(
                f"{label} {seconds / epoch_s:.0f}"
                for label, seconds in dropped_s.items()
                if seconds
            )
            print(
                f"{psg.name} + {hyp.name}: {n_scored} scored epochs, {n_dropped} "
                f"dropped" + (f" ({detail})" if detail else "")
            )
        description = pd.Series(
            {
                "subject": subject,
                "recording": recording,
                "subject_name": name,
                "psg": psg.name,
                "hypnogram": hyp.name,
                "n_scored_epochs": n_scored,
                "n_dropped_epochs": n_dropped,
            }
        )
        datasets.append(RawDataset(raw, description))
    return BaseConcatDataset(datasets)


def _seconds_inside(annots, raw):
    """Seconds of ``annots`` inside the recording."""
    start = 0.0
    if annots.orig_time is not None and raw.info["meas_date"] is not None:
        start = (raw.info["meas_date"] - annots.orig_time).total_seconds()
    onsets = np.asarray(annots.onset) - start
    ends = onsets + np.asarray(annots.duration)
    length = raw.n_times / raw.info["sfreq"]
    return float(
        np.sum(np.clip(np.minimum(ends, length) - np.maximum(onsets, 0), 0, None))
    )
