"""Channel names and sensor positions (10-20 nomenclature, MNE montages).

What the spatial transforms need to know about a montage: which channel is
the left/right counterpart of which (:func:`hemisphere_symmetric_permutation`)
and where the sensors are (:func:`standard_positions`).
"""

import re

import mne
import numpy as np

__all__ = [
    "check_ch_names",
    "hemisphere_symmetric_permutation",
    "standard_positions",
]

_DIGITS = re.compile(r"(?<=[A-Za-z])(\d+)")


def check_ch_names(ordered_ch_names, name="ordered_ch_names", one_str=False):
    """``ordered_ch_names`` as a non-empty list of str, or a ValueError.

    Parameters
    ----------
    ordered_ch_names : sequence of str
        Channel names, each given once (names are compared without case).
    name : str
        The option's name, for the messages.
    one_str : bool
        Read a str as one channel's name (as :func:`~.load_edf` reads
        ``channels``), where it is refused otherwise.

    Examples
    --------
    >>> check_ch_names(("C3", "C4"))
    ['C3', 'C4']
    >>> check_ch_names("C3")
    Traceback (most recent call last):
    ...
    ValueError: ordered_ch_names must be a list of channel names (str), got 'C3'.
    """
    if one_str and isinstance(ordered_ch_names, str):
        ordered_ch_names = [ordered_ch_names]
    if (
        ordered_ch_names is None
        or isinstance(ordered_ch_names, str)
        or not all(isinstance(ch, str) for ch in ordered_ch_names)
    ):
        raise ValueError(
            f"{name} must be a list of channel names (str), got {ordered_ch_names!r}."
        )
    names = list(ordered_ch_names)
    if not names:
        raise ValueError(f"{name} is empty: give at least one channel name.")
    folded = [ch.casefold() for ch in names]
    repeated = sorted({n for n, f in zip(names, folded) if folded.count(f) > 1})
    if repeated:  # a permutation by name would map two channels onto one
        raise ValueError(
            f"{name} names a channel more than once ({', '.join(repeated)}; "
            "names are compared without case): give each channel's name once, "
            "in the order of X's channels."
        )
    return names


def hemisphere_symmetric_permutation(ordered_ch_names, on_missing="raise"):
    """Channel permutation swapping left and right (10-20 naming).

    Odd electrode numbers are on the left, even on the right: ``C3`` swaps
    with ``C4``, ``EEG F7-CLE`` with ``EEG F8-CLE``. Midline channels (``z``)
    and names without electrode numbers stay in place.

    Parameters
    ----------
    ordered_ch_names : list of str
        Channel names in the order of the data.
    on_missing : {'raise', 'warn', 'ignore'}
        What to do when a lateral channel has no counterpart among the names.
        With 'warn' or 'ignore' it stays in place.

    Returns
    -------
    list of int
        ``permutation[i]`` is the channel that goes to position ``i``.

    Examples
    --------
    >>> hemisphere_symmetric_permutation(["C3", "C4", "Cz"])
    [1, 0, 2]
    """
    names = check_ch_names(ordered_ch_names)
    if on_missing not in ("raise", "warn", "ignore"):
        raise ValueError(
            f"on_missing must be 'raise', 'warn' or 'ignore', got {on_missing!r}."
        )

    def swap(match):
        number = int(match.group(1))
        return str(number + 1 if number % 2 else number - 1)

    permutation, missing = [], []
    for idx, name in enumerate(names):
        counterpart = _DIGITS.sub(swap, name)
        if counterpart == name:
            permutation.append(idx)
        elif counterpart in names:
            permutation.append(names.index(counterpart))
        else:
            missing.append(f"{name} (expected {counterpart})")
            permutation.append(idx)
    if missing:
        message = (
            "No symmetric counterpart among ordered_ch_names for: "
            + ", ".join(missing)
            + ". Pass on_missing='ignore' to leave such channels in place."
        )
        if on_missing == "raise":
            raise ValueError(message)
        if on_missing == "warn":
            mne.utils.warn(message)
    return permutation


def _montage_positions(montage):
    builtin = mne.channels.get_builtin_montages()
    if montage == "standard_1020" and "colin27_1020" in builtin:
        montage = "colin27_1020"  # same positions, name used from MNE 1.13 on
    positions = mne.channels.make_standard_montage(montage).get_positions()
    return positions["ch_pos"]


def _bare_electrode(name):
    """'EEG C3-CLE' -> 'C3', 'C3-A2' -> 'C3', 'Fz' -> 'Fz'."""
    name = re.sub(r"^(EEG|eeg)\s+", "", name.strip())
    return re.split(r"[-\s]", name)[0]


def standard_positions(ordered_ch_names, montage="standard_1020"):
    """3-D positions of channels in a standard montage.

    Names are matched case-insensitively, first as given then as bare
    electrode names (``'EEG C3-CLE'`` is looked up as ``'C3'``).

    Parameters
    ----------
    ordered_ch_names : list of str
        Channel names in the order of the data.
    montage : str
        Name of an MNE standard montage.

    Returns
    -------
    numpy.ndarray
        ``(n_channels, 3)`` positions.

    Raises
    ------
    ValueError
        If a channel is not in the montage.

    Examples
    --------
    >>> positions = standard_positions(["C3", "EEG C4-CLE", "Cz"])
    >>> positions.shape
    (3, 3)
    >>> bool(positions[0, 0] < 0 < positions[1, 0])  # C3 left, C4 right
    True
    """
    names = check_ch_names(ordered_ch_names)
    ch_pos = {k.lower(): v for k, v in _montage_positions(montage).items()}
    positions, unknown = [], []
    for name in names:
        pos = ch_pos.get(name.lower(), ch_pos.get(_bare_electrode(name).lower()))
        if pos is None:
            unknown.append(name)
        else:
            positions.append(pos)
    if unknown:
        raise ValueError(
            f"Channel(s) {unknown} have no position in the {montage!r} montage; "
            "sensor rotations need the 3-D position of every channel. Rename "
            "them to 10-20 names or pass sensors_positions."
        )
    return np.asarray(positions, dtype=float)
