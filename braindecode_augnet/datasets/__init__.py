"""Datasets for AugNet sleep-staging experiments.

Loaders (all return a :class:`braindecode.datasets.BaseConcatDataset` of
:class:`braindecode.datasets.RawDataset` with signals in volts, Sleep-EDF style
hypnogram annotations and a ``description`` with ``subject`` and
``recording``):

* :func:`load_sleep_physionet` -- Sleep-EDF Expanded (downloaded by mne);
* :func:`load_mass` -- a local copy of MASS;
* :func:`load_edf` -- a folder of your own PSG files (EDF, EDF+, BDF) and
  hypnograms (EDF+ or text, stage codings in :mod:`.hypnogram`);
* :func:`make_synthetic_sleep` -- a synthetic, physiologically-inspired
  generator for offline tests and demos (:func:`planted_nuisances` sums up
  the subject nuisances it plants);
* :func:`load_moabb` -- any MOABB dataset (optional dependency);
* :func:`make_sinusoids` -- the sinusoid toy problem of the AugNet paper.

Shared pipeline: :func:`preprocess_sleep`, :func:`create_sleep_windows`,
:func:`split_by_subject`, :func:`windows_to_arrays`.
"""

from .edf import load_edf
from .hypnogram import STAGE_CODINGS, read_hypnogram
from .mass import load_mass
from .moabb import load_moabb
from .sinusoids import make_sinusoids
from .sleep import (
    IGNORED_SLEEP_DESCRIPTIONS,
    SLEEP_STAGE_MAPPING,
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)
from .sleep_physionet import load_sleep_physionet
from .synthetic import make_synthetic_sleep, planted_nuisances, simulate_hypnogram

__all__ = [
    "IGNORED_SLEEP_DESCRIPTIONS",
    "SLEEP_STAGE_MAPPING",
    "SLEEP_STAGE_NAMES",
    "STAGE_CODINGS",
    "create_sleep_windows",
    "load_edf",
    "load_mass",
    "load_moabb",
    "load_sleep_physionet",
    "make_sinusoids",
    "make_synthetic_sleep",
    "planted_nuisances",
    "preprocess_sleep",
    "read_hypnogram",
    "simulate_hypnogram",
    "split_by_subject",
    "windows_to_arrays",
]
