"""MOABB datasets through :class:`braindecode.datasets.MOABBDataset`."""

from __future__ import annotations

from numbers import Integral

__all__ = ["load_moabb"]

_INSTALL_HINT = (
    "load_moabb needs the optional dependency moabb: "
    "pip install braindecode-augnet[moabb]  (or: pip install moabb)"
)


def _import_moabb():
    try:
        import moabb  # noqa: F401
        from braindecode.datasets import MOABBDataset
    except ImportError as err:
        raise ImportError(f"{_INSTALL_HINT} ({err})") from err
    return MOABBDataset


def load_moabb(
    dataset_name="BNCI2014_001",
    subject_ids=None,
    dataset_kwargs=None,
    dataset_load_kwargs=None,
):
    """Load a MOABB dataset as a braindecode ``BaseConcatDataset``.

    Parameters
    ----------
    dataset_name : str | moabb.datasets.base.BaseDataset
        Name of a MOABB dataset class (e.g. ``"BNCI2014_001"``,
        ``"FakeDataset"``) or a MOABB dataset instance.
    subject_ids : int | list of int | None
        Subjects to load; ``None`` loads all of them.
    dataset_kwargs : dict | None
        Keyword arguments of the MOABB dataset class, when given by name.
    dataset_load_kwargs : dict | None
        Keyword arguments of the dataset's ``get_data``.

    Returns
    -------
    dataset : braindecode.datasets.MOABBDataset
        A ``BaseConcatDataset`` of ``RawDataset`` (one per run) whose
        ``description`` has ``subject``, ``session`` and ``run``; the trial
        events are annotations.

    Raises
    ------
    ImportError
        If moabb is not installed (``pip install braindecode-augnet[moabb]``).
    ValueError
        If no MOABB dataset has that name.

    Notes
    -----
    MOABB downloads the data on first use (by default under ``~/mne_data``);
    see ``moabb.utils.set_download_dir``.
    """
    moabb_dataset_cls = _import_moabb()
    if isinstance(subject_ids, Integral):
        subject_ids = [int(subject_ids)]
    return moabb_dataset_cls(
        dataset_name,
        subject_ids=subject_ids,
        dataset_kwargs=dataset_kwargs,
        dataset_load_kwargs=dataset_load_kwargs,
    )
