"""Hypnogram files read into Sleep-EDF style annotations, with explicit codings.

A hypnogram is read from

* an EDF+ annotation file (as Sleep-EDF's ``*-Hypnogram.edf`` or MASS's
  ``* Base.edf``), or
* a text file (``.csv``, ``.tsv``, ``.txt``; fields separated by commas,
  semicolons, tabs or spaces; blank lines and lines starting with ``#``
  skipped; an optional header line) with

  - one column: one stage per epoch (``epoch_s``, 30 s, from the start of
    the recording);
  - two columns ``onset,stage``: change points, each stage holding until the
    next onset (the last one until the end of the recording, or for one
    epoch when that end is unknown or before it); onsets strictly increase;
  - three columns ``onset,duration,stage`` (onsets and durations in seconds
    from the start of the recording; this is also mne's ``.txt`` format);
    rows in time order, the scored ones not overlapping.

Stage labels are mapped to the five AASM classes by ``stage_coding``:

* names are always understood, case-insensitively: AASM ``W``, ``N1``,
  ``N2``, ``N3``, ``R``/``REM``; R&K ``S1``-``S4``, ``Wake``; Sleep-EDF's
  ``Sleep stage W/1/2/3/4/R`` (R&K stage 4 is merged into N3). Unscored and
  movement labels (``Sleep stage ?``, ``Movement time``, ``?``, ``MT``,
  ``Unscored``, ``Artifact``...) are dropped and counted;
* numeric codes are ambiguous (3 is N3 in both R&K and AASM, 4 is R&K
  stage 4 or AASM REM), so they need a named coding from
  :data:`STAGE_CODINGS` (``"rk"``, ``"aasm"``, ``"prerau"``) or a dict
  ``{label: stage}``, stage one of ``"W"``, ``"N1"``, ``"N2"``, ``"N3"``,
  ``"REM"``, or ``None`` to drop the label.

Everything else is an error naming the file and the line (text) or the
annotation (EDF+).
"""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np

from .._validation import check_positive

__all__ = [
    "STAGE_CODINGS",
    "parse_stage_coding",
    "read_hypnogram",
]

#: Annotation description written for each class (those of Sleep-EDF, so
#: :data:`~braindecode_augnet.datasets.sleep.SLEEP_STAGE_MAPPING` applies).
_DESCRIPTIONS = {
    "W": "Sleep stage W",
    "N1": "Sleep stage 1",
    "N2": "Sleep stage 2",
    "N3": "Sleep stage 3",
    "REM": "Sleep stage R",
}

_SHORT_NAMES = {
    "w": "W",
    "wake": "W",
    "awake": "W",
    "n1": "N1",
    "s1": "N1",
    "n2": "N2",
    "s2": "N2",
    "n3": "N3",
    "s3": "N3",
    "n4": "N3",
    "s4": "N3",
    "r": "REM",
    "rem": "REM",
}
_DROPPED_NAMES = (
    "?",
    "sleep stage ?",
    "movement time",
    "movement",
    "mt",
    "m",
    "unscored",
    "unknown",
    "u",
    "artifact",
    "artefact",
    "a",
    "x",
)


def _name_table():
    table = {}
    for name, stage in _SHORT_NAMES.items():
        for prefix in ("", "stage ", "sleep stage "):
            table[prefix + name] = stage
    for digit, stage in (("1", "N1"), ("2", "N2"), ("3", "N3"), ("4", "N3")):
        table[f"sleep stage {digit}"] = stage
        table[f"stage {digit}"] = stage
    table.update({name: None for name in _DROPPED_NAMES})
    return table


#: Stage names understood whatever the coding (lower case) -> class or None.
_NAMES = _name_table()

#: Named numeric codings: code -> class (``None``: dropped epoch).
#:
#: * ``"rk"``: Rechtschaffen & Kales 0 W, 1-4 stages 1-4 (3 and 4 merged into
#:   N3), 5 REM; 6 movement time, 7-9 and -1 unscored/artefact (dropped).
#:   NSRR's AASM files (0, 1, 2, 3, 5) read correctly with it;
#: * ``"aasm"``: 0 W, 1 N1, 2 N2, 3 N3, 4 REM (the 5-class targets of most
#:   sleep-staging code); -1 and 9 unscored (dropped);
#: * ``"prerau"``: the Prerau lab's (DYNAM-O) 5 W, 4 REM, 3 N1, 2 N2, 1 N3;
#:   0 and 6 artefact/undefined (dropped).
STAGE_CODINGS = {
    "rk": {0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "N3", 5: "REM"}
    | {code: None for code in (6, 7, 8, 9, -1)},
    "aasm": {0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "REM", 9: None, -1: None},
    "prerau": {5: "W", 4: "REM", 3: "N1", 2: "N2", 1: "N3", 0: None, 6: None},
}

_STAGES = tuple(_DESCRIPTIONS)


#: What ``epoch_s`` is, for the messages of its checks.
EPOCH_S_HINT = (
    "It is the length of one scored epoch of the hypnogram in seconds; pass "
    "that length (epoch_s=30 for most files, 20 for MASS SS2, SS4, SS5)"
)


def _key(label):
    """Normalised label: an int for integer numbers, else stripped lower case."""
    text = str(label).strip().strip("\"'").strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if np.isfinite(number) and number == int(number):
        return int(number)
    return text.lower()


def _stage_of(value, where):
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= value < len(_STAGES):
            return _STAGES[int(value)]
    elif isinstance(value, str):
        stage = _NAMES.get(value.strip().lower(), "?")
        if stage not in ("?", None):
            return stage
    raise ValueError(
        f"stage_coding maps {where!r} to {value!r}; use one of "
        f"{list(_STAGES)}, a target 0-4, or None to drop the label."
    )


def parse_stage_coding(stage_coding):
    """The label -> class table of a ``stage_coding`` option.

    Parameters
    ----------
    stage_coding : None | str | dict
        ``None`` (stage names only), a key of :data:`STAGE_CODINGS`, a dict
        ``{label: stage}`` (stage ``"W"``, ``"N1"``, ``"N2"``, ``"N3"``,
        ``"REM"``, a target 0-4, or ``None`` to drop), or its command-line
        form ``"label=stage,label=stage"`` (``drop`` to drop).

    Returns
    -------
    dict
        Normalised label (int or lower-case str) -> class name or ``None``;
        the stage names are included.
    """
    table = dict(_NAMES)
    if stage_coding is None:
        return table
    if isinstance(stage_coding, str):
        name = stage_coding.strip().lower()
        if name in STAGE_CODINGS:
            table.update(STAGE_CODINGS[name])
            return table
        if "=" not in stage_coding:
            raise ValueError(
                f"Unknown stage_coding {stage_coding!r}: use one of "
                f"{sorted(STAGE_CODINGS)}, or 'label=stage' pairs separated by "
                "commas (e.g. '0=W,1=N1,2=N2,3=N3,4=N3,5=REM,9=drop')."
            )
        pairs = {}
        for item in stage_coding.split(","):
            label, sep, stage = item.partition("=")
            if not sep or not label.strip():
                raise ValueError(
                    f"stage_coding item {item!r} is not 'label=stage' (in "
                    f"{stage_coding!r})."
                )
            stage = stage.strip()
            pairs[label] = None if stage.lower() in ("drop", "none", "") else stage
        stage_coding = pairs
    if not isinstance(stage_coding, dict):
        raise TypeError(
            "stage_coding must be None, a name among "
            f"{sorted(STAGE_CODINGS)}, a dict or 'label=stage' pairs, got "
            f"{type(stage_coding).__name__}."
        )
    for label, value in stage_coding.items():
        table[_key(label)] = _stage_of(value, label)
    return table


def _describe(label, table):
    """Class of ``label`` (None: dropped); KeyError when it is not mapped."""
    key = _key(label)
    if key in table:
        return table[key]
    raise KeyError(key)


def _unmapped_message(label, key, where):
    if isinstance(key, int):
        hint = (
            "numeric stage codes need an explicit coding: stage_coding='rk' "
            "(0 W, 1-4 stages 1-4, 5 REM), 'aasm' (0 W, 1 N1, 2 N2, 3 N3, "
            "4 REM), 'prerau' (5 W, 4 REM, 3 N1, 2 N2, 1 N3) or a dict"
        )
    else:
        hint = (
            "pass stage_coding={label: stage} (stage W, N1, N2, N3 or REM, or "
            "None to drop the label)"
        )
    return f"{where}: stage {label!r} is not mapped to a sleep stage; {hint}."


#: Words a one-column file may have as a header line.
_HEADERS = ("stage", "stages", "sleep stage", "sleep_stage", "label", "labels")
_HEADERS += ("hypnogram", "score", "scores", "annotation", "description")


def _split_fields(line):
    for sep in (",", ";", "\t"):
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return line.split()


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path, table, epoch_s, duration):
    """(onsets, durations, labels, classes) of a text hypnogram."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"Hypnogram {str(path)!r} is not a text file (or not UTF-8): {err}."
        ) from err
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append((lineno, _split_fields(line)))
    if not rows:
        raise ValueError(f"Hypnogram {str(path)!r} has no stage.")
    lineno, fields = rows[0]
    if len(fields) > 1 and not _is_number(fields[0]):
        rows = rows[1:]  # header such as "onset,duration,description"
    elif len(fields) == 1 and fields[0].strip().lower() in _HEADERS:
        rows = rows[1:]  # header such as "stage"
    if not rows:
        raise ValueError(f"Hypnogram {str(path)!r} has a header but no stage.")
    n_cols = len(rows[0][1])
    if n_cols not in (1, 2, 3):
        raise ValueError(
            f"{str(path)!r}, line {rows[0][0]}: {n_cols} fields; a hypnogram "
            "has 1 (stage per epoch), 2 (onset,stage) or 3 "
            "(onset,duration,stage) fields per line."
        )
    onsets, durations, labels, classes, linenos = [], [], [], [], []
    scored = None  # (line, onset, duration) of the last scored row
    for i, (lineno, fields) in enumerate(rows):
        where = f"{str(path)!r}, line {lineno}"
        if len(fields) != n_cols:
            raise ValueError(
                f"{where}: {len(fields)} fields where the first line has {n_cols}."
            )
        label = fields[-1]
        if n_cols == 1:
            onset, dur = i * epoch_s, epoch_s
        else:
            try:
                onset = float(fields[0])
                dur = float(fields[1]) if n_cols == 3 else np.nan
            except ValueError as err:
                raise ValueError(
                    f"{where}: onset/duration {fields[:-1]} are not numbers (s)."
                ) from err
            if not np.isfinite(onset) or (n_cols == 3 and not np.isfinite(dur)):
                raise ValueError(
                    f"{where}: onset/duration {fields[:-1]} are not finite numbers (s)."
                )
            if onset < 0 or (n_cols == 3 and dur <= 0):
                raise ValueError(f"{where}: negative onset or non-positive duration.")
            if onsets and onset < onsets[-1]:
                raise ValueError(
                    f"{where}: onset {onset:g} s is before the previous one "
                    f"({onsets[-1]:g} s); rows must be in time order."
                )
            if n_cols == 2 and onsets and round(onset - onsets[-1], 3) <= 0:
                raise ValueError(
                    f"{where}: onset {onset:g} s repeats that of the previous "
                    f"row (line {linenos[-1]}, {onsets[-1]:g} s), a stage of no "
                    "length; in an onset,stage file each row is a change of "
                    "stage, so onsets must strictly increase: remove one of the "
                    "two rows."
                )
        try:
            stage = _describe(label, table)
        except KeyError as err:
            raise ValueError(_unmapped_message(label, err.args[0], where)) from None
        if n_cols == 3 and stage is not None:
            # 1 ms of tolerance: the rounding of onsets and durations below
            if scored is not None and onset < scored[1] + scored[2] - 1e-3:
                raise ValueError(
                    f"{where}: onset {onset:g} s is before the end of the stage "
                    f"of line {scored[0]} (onset {scored[1]:g} s + duration "
                    f"{scored[2]:g} s = {scored[1] + scored[2]:g} s): scored "
                    "rows overlap, so windows would be labelled with the wrong "
                    "stage; correct the onset or the duration of one of them."
                )
            scored = (lineno, onset, dur)
        onsets.append(onset)
        durations.append(dur)
        labels.append(label)
        classes.append(stage)
        linenos.append(lineno)
    if n_cols == 2:  # change points: each stage until the next onset
        end = onsets[-1] + epoch_s  # end of the recording unknown: one epoch
        if duration is not None and round(duration - onsets[-1], 3) >= 0:
            # until the end; a row at the end itself (to the millisecond)
            # marks it and lasts 0 s, as in the real segment's file
            end = max(duration, onsets[-1])
        # a last stage after the end of the recording lasts one epoch (not a
        # negative duration), which load_edf reports as beyond the end
        ends = onsets[1:] + [end]
        durations = [end - onset for onset, end in zip(onsets, ends)]
    # to the millisecond: 100.01 - 70.0100000000002 is a 30-s epoch, not one
    # sample short of it (which the windowing would drop)
    onsets = np.round(np.asarray(onsets, dtype=float), 3).tolist()
    durations = np.round(np.asarray(durations, dtype=float), 3).tolist()
    return onsets, durations, labels, classes, None


def _read_edf_annotations(path, table):
    from .edf import check_edf_file, read_annotations

    check_edf_file(path, what="hypnogram")
    try:
        annots = read_annotations(path)
    except Exception as err:
        raise ValueError(
            f"Could not read the EDF+ annotations of hypnogram {str(path)!r}: {err}"
        ) from err
    if len(annots) == 0:
        raise ValueError(f"Hypnogram {str(path)!r} has no annotation.")
    classes = []
    for i, (onset, label) in enumerate(zip(annots.onset, annots.description)):
        try:
            classes.append(_describe(label, table))
        except KeyError as err:
            where = f"{str(path)!r}, annotation {i} (onset {onset:g} s)"
            raise ValueError(_unmapped_message(label, err.args[0], where)) from None
    return (
        list(annots.onset),
        list(annots.duration),
        list(annots.description),
        classes,
        annots.orig_time,
    )


def read_hypnogram(path, stage_coding=None, *, epoch_s=30.0, duration=None):
    """Read a hypnogram file into annotations of the five AASM classes.

    Parameters
    ----------
    path : str | pathlib.Path
        An EDF+ annotation file (``.edf``, ``.bdf``) or a text file (see the
        module docstring for the three text layouts).
    stage_coding : None | str | dict
        How labels map to classes (see :func:`parse_stage_coding` and
        :data:`STAGE_CODINGS`); ``None`` understands stage names only.
    epoch_s : float
        Epoch length of one-stage-per-line files, in seconds (finite, > 0);
        also the length of the last stage of an ``onset,stage`` file when
        ``duration`` does not end it.
    duration : float | None
        Length of the recording in seconds (finite, > 0): the end of the last
        stage of an ``onset,stage`` (change points) file. When it is ``None``
        (unknown), or the last stage starts after it, that stage lasts one
        epoch (``epoch_s``); a last row at the end itself marks it (0 s).

    Returns
    -------
    annotations : mne.Annotations
        The scored epochs, described as in Sleep-EDF (``"Sleep stage W"``,
        ``"Sleep stage 1"``, ``"Sleep stage 2"``, ``"Sleep stage 3"``,
        ``"Sleep stage R"``); R&K stage 4 is ``"Sleep stage 3"``.
    dropped : mne.Annotations
        The dropped (unscored, movement) epochs, with their original labels.

    Raises
    ------
    TypeError
        If ``epoch_s`` or ``duration`` is not a number.
    ValueError
        If ``epoch_s`` or ``duration`` is not finite and > 0 (checked before
        the file is read), the file cannot be read, a label is not mapped,
        rows of an ``onset,duration,stage`` file are out of time order or
        scored ones overlap (by more than 1 ms), or two rows of an
        ``onset,stage`` file share an onset: the message names the file and
        the line (text) or the annotation (EDF+).
    """
    path = Path(path)
    epoch_s = check_positive(epoch_s, "epoch_s", hint=EPOCH_S_HINT)
    duration = check_positive(
        duration,
        "duration",
        allow_none=True,
        hint="It is the length of the recording in seconds (the end of the last "
        "stage of an onset,stage file); pass it, or None when it is unknown",
    )
    table = parse_stage_coding(stage_coding)
    if not path.is_file():
        raise FileNotFoundError(f"Hypnogram {str(path)!r} does not exist.")
    with open(path, "rb") as fid:
        head = fid.read(8)
    is_edf = path.suffix.lower() in (".edf", ".bdf") or head in (
        b"0       ",
        b"\xffBIOSEMI",
    )
    if is_edf:
        parts = _read_edf_annotations(path, table)
    else:
        parts = _read_text(path, table, epoch_s, duration)
    onsets, durations, labels, classes, orig_time = parts
    keep = [i for i, c in enumerate(classes) if c is not None]
    drop = [i for i, c in enumerate(classes) if c is None]
    annotations = mne.Annotations(
        onset=[onsets[i] for i in keep],
        duration=[durations[i] for i in keep],
        description=[_DESCRIPTIONS[classes[i]] for i in keep],
        orig_time=orig_time,
    )
    dropped = mne.Annotations(
        onset=[onsets[i] for i in drop],
        duration=[durations[i] for i in drop],
        description=[str(labels[i]).strip() for i in drop],
        orig_time=orig_time,
    )
    if len(annotations) == 0:
        raise ValueError(
            f"Hypnogram {str(path)!r} has no scored epoch (only "
            f"{sorted(set(dropped.description))})."
        )
    return annotations, dropped
