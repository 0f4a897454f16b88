"""Sleep staging end to end: data, split, estimators, training and scores.

The report folder (scores, figures, policy) is written by
:mod:`braindecode_augnet.report`; the sleep figures are drawn by
:mod:`braindecode_augnet.sleep_plots`. The defaults of the job live here, and
only here: :mod:`braindecode_augnet.cli` takes its choices and defaults from
the constants below.
"""

import tempfile
import time

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
)
from sklearn.utils.class_weight import compute_class_weight

from ..classifier import METHODS as _CLASSIFIER_METHODS
from ..datasets import (
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    load_mass,
    load_sleep_physionet,
    make_synthetic_sleep,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)
from ..sequences import per_window_scoring, per_window_softmax
from .stager import predict_windows, sequence_index

__all__ = [
    "DATASETS",
    "DEFAULT_AUG_LR_FACTOR",
    "DEFAULT_DATASET",
    "DEFAULT_MAX_EPOCHS",
    "DEFAULT_METHODS",
    "DEFAULT_MODEL",
    "DEFAULT_N_COPIES",
    "DEFAULT_N_HOURS",
    "DEFAULT_N_SUBJECTS",
    "DEFAULT_N_WINDOWS",
    "METHODS",
    "MODELS",
    "best_epoch_callbacks",
    "log_progress",
    "load_sleep_windows",
    "prepare_sleep_split",
    "sleep_scores",
    "sleep_sequences",
    "sleep_training_kwargs",
    "train_sleep_models",
]

#: Data sets :func:`load_sleep_windows` reads.
DATASETS = ("synthetic", "sleep-physionet", "mass")

#: Methods :func:`train_sleep_models` trains: ``'none'`` (a plain
#: :class:`braindecode.EEGClassifier`) and every :class:`~.AugNetClassifier`
#: method.
METHODS = ("none", *_CLASSIFIER_METHODS)

#: Data set of the job when none is given (embedded, offline).
DEFAULT_DATASET = "synthetic"

#: Methods compared by default: no augmentation, then AugNet.
DEFAULT_METHODS = ("none", "augnet")

#: Subjects loaded when no subject ids are given.
DEFAULT_N_SUBJECTS = 10

#: Hours per synthetic recording.
DEFAULT_N_HOURS = 1.5

#: Maximum training epochs per model. 20 rather than 10: after 10 epochs
#: the trunks were still learning (seed 2: validation balanced accuracy
#: rising, 0.58 without and 0.61 with AugNet), and a model trained under
#: strong augmentation converges later, so 10 epochs compared convergence
#: speeds more than models (seeds 0-2, docs/method.rst "On sleep data").
DEFAULT_MAX_EPOCHS = 20

#: Augmented copies averaged at inference by AugNet.
DEFAULT_N_COPIES = 20

#: Learning rate of AugNet's layer weights (``aug_lr``) in the sleep job, as
#: a multiple of the trunk's: 1, where :class:`~.AugNetClassifier`'s default
#: is 10. With weights 10 times as fast as the trunk, the regulariser commits
#: each layer to the candidate that changes the data most within the first
#: epoch, before the trunk has learned enough for the data term to weigh in:
#: fully random phases (``FTSurrogate`` at 1.0) in both time-frequency
#: layers, and AugNet was behind no augmentation in bench_accuracy's full
#: mode (0.866 +- 0.060 against 0.890 +- 0.065, 5 seeds). At the trunk's
#: rate the data term takes part in the choice: ``SignFlip`` at probability
#: 0.5 in 5 seeds of 5 (the planted polarity flip) and 0.921 +- 0.065
#: (docs/method.rst, "On sleep data"). On the paper's sinusoids the same rate
#: lost the frequency shift with the MLP trunk in mixture mode, hence not the
#: classifier's default.
DEFAULT_AUG_LR_FACTOR = 1.0

#: Trunks :func:`train_sleep_models` trains: ``'chambon'``
#: (:class:`braindecode.models.SleepStagerChambon2018` on single windows),
#: ``'timedistributed'`` (:class:`~.TimeDistributedSleepStager` on sequences)
#: and ``'usleep'`` (:class:`braindecode.models.USleep` on sequences).
MODELS = ("chambon", "timedistributed", "usleep")

#: Trunk of the job when none is given.
DEFAULT_MODEL = "chambon"

#: Consecutive windows per sequence of the sequence models (as in
#: braindecode's sleep-staging tutorials).
DEFAULT_N_WINDOWS = 3


def log_progress(message, verbose=True):
    if verbose:
        print(f"[braindecode-augnet {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------- data
def _load_raw(dataset, data_path, subject_ids, n_subjects, n_hours, random_state):
    if dataset == "synthetic":
        return make_synthetic_sleep(
            n_subjects=n_subjects, n_hours=n_hours, random_state=random_state
        )
    if dataset == "sleep-physionet":
        if subject_ids is None:
            subject_ids = list(range(n_subjects))
        return load_sleep_physionet(subject_ids, path=data_path)
    if data_path is None:
        raise ValueError("The MASS data set needs --data-path (a local copy).")
    return load_mass(data_path, subject_ids=subject_ids)


def load_sleep_windows(
    dataset=DEFAULT_DATASET,
    data_path=None,
    subject_ids=None,
    n_subjects=DEFAULT_N_SUBJECTS,
    n_hours=DEFAULT_N_HOURS,
    random_state=0,
    verbose=True,
):
    """Load a sleep data set and cut it into 30-s labelled windows.

    Parameters
    ----------
    dataset : {'synthetic', 'sleep-physionet', 'mass'}
        The embedded synthetic default (:func:`~.make_synthetic_sleep`),
        Sleep-EDF through braindecode (downloads on a machine with
        internet), or a local copy of MASS in ``data_path``.
    data_path : str | pathlib.Path | None
        Folder of the MASS recordings, or where Sleep-EDF is stored.
    subject_ids : list of int | None
        Subjects to load (default: the first ``n_subjects``).
    n_subjects : int
        Number of subjects when ``subject_ids`` is None.
    n_hours : float
        Hours per synthetic recording.
    random_state : int
        Seed of the synthetic generator.
    verbose : bool
        Print progress.

    Returns
    -------
    windows : braindecode.datasets.BaseConcatDataset
        30-s windows with targets 0..4 (W, N1, N2, N3, REM), signals in
        microvolts, low-passed at 30 Hz.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}.")
    log_progress(f"loading {dataset} data", verbose)
    raw_ds = _load_raw(
        dataset, data_path, subject_ids, n_subjects, n_hours, random_state
    )
    log_progress("preprocessing (microvolts, low-pass 30 Hz) and windowing", verbose)
    preprocess_sleep(raw_ds, sfreq=100.0)
    return create_sleep_windows(raw_ds)


# --------------------------------------------------------------------- split
def _class_weights(y_train):
    """Balanced class weights over every sleep stage (1 for absent ones)."""
    present = np.unique(y_train)
    weights = np.ones(len(SLEEP_STAGE_NAMES), dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=y_train)
    return weights


def prepare_sleep_split(windows, seed=0, test_size=0.2, valid_size=0.2):
    """Split sleep windows by subject into scaled arrays.

    Parameters
    ----------
    windows : braindecode.datasets.BaseConcatDataset
        Output of :func:`load_sleep_windows`.
    seed : int
        Seed of the split.
    test_size, valid_size : float
        Fractions of the subjects held out for testing and validation.

    Returns
    -------
    dict
        ``X_train``, ``y_train``, ``X_valid``, ``y_valid``, ``X_test``,
        ``y_test``, ``subjects_test`` (arrays; signals divided by the
        training set's standard deviation, ``scale``), ``recordings_train``,
        ``recordings_valid``, ``recordings_test`` (recording of each window,
        for cutting sequences), ``sfreq``, ``chs_info`` and
        ``class_weights`` (balanced over the training set).
    """
    train, valid, test = split_by_subject(
        windows, test_size=test_size, valid_size=valid_size, random_state=seed
    )
    X_train, y_train, _ = windows_to_arrays(train)
    scale = float(np.std(X_train)) or 1.0
    X_valid, y_valid, _ = windows_to_arrays(valid)
    X_test, y_test, subjects_test = windows_to_arrays(test)
    # recording of each window, in the order windows_to_arrays concatenates
    recordings = {
        name: np.repeat(np.arange(len(ds.datasets)), [len(d) for d in ds.datasets])
        for name, ds in (("train", train), ("valid", valid), ("test", test))
    }
    first = train.datasets[0]
    info = first.windows.info if hasattr(first, "windows") else first.raw.info
    return dict(
        X_train=X_train / scale,
        y_train=y_train,
        X_valid=X_valid / scale,
        y_valid=y_valid,
        X_test=X_test / scale,
        y_test=y_test,
        subjects_test=subjects_test,
        recordings_train=recordings["train"],
        recordings_valid=recordings["valid"],
        recordings_test=recordings["test"],
        scale=scale,
        sfreq=float(info["sfreq"]),
        chs_info=info["chs"],
        class_weights=_class_weights(y_train),
    )


# ---------------------------------------------------------------- estimators
def _check_model(model, n_windows):
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}.")
    if model != "chambon" and (
        isinstance(n_windows, bool) or not isinstance(n_windows, int) or n_windows < 1
    ):
        raise ValueError(f"n_windows must be an int >= 1, got {n_windows!r}.")


def sleep_sequences(split, part, n_windows):
    """Windows and targets of one part of a split as sequences.

    Parameters
    ----------
    split : dict
        Output of :func:`prepare_sleep_split`.
    part : {'train', 'valid', 'test'}
        The part to cut.
    n_windows : int
        Windows per sequence.

    Returns
    -------
    X : numpy.ndarray, shape (n_sequences, n_windows, channels, times)
    y : numpy.ndarray, shape (n_sequences, n_windows)
        Sequences covering every window of every recording
        (:func:`~.sequence_index`: consecutive, the last of a recording
        overlapping the one before it).
    """
    index = sequence_index(split[f"recordings_{part}"], n_windows)
    return split[f"X_{part}"][index], split[f"y_{part}"][index]


def sleep_training_kwargs(
    split,
    max_epochs=DEFAULT_MAX_EPOCHS,
    batch_size=64,
    lr=1e-3,
    device="cpu",
    verbose=True,
    model=DEFAULT_MODEL,
    n_windows=DEFAULT_N_WINDOWS,
):
    """Estimator parameters shared by every method of the sleep benchmark.

    The trunk sized from the data, Adam, class-weighted loss, validation on
    the held-out subjects with the balanced accuracy recorded as
    ``valid_bacc``.

    Parameters
    ----------
    split : dict
        Output of :func:`prepare_sleep_split`.
    max_epochs, batch_size, lr : int, int, float
        Training settings. ``batch_size`` counts windows: sequence models
        get ``batch_size // n_windows`` sequences per batch (at least one).
    device : str
        Torch device.
    verbose : bool
        Per-epoch logs.
    model : {'chambon', 'timedistributed', 'usleep'}
        The trunk (see :data:`MODELS`); the sequence models are validated on
        sequences of the validation windows.
    n_windows : int
        Windows per sequence of the sequence models.

    Returns
    -------
    dict
        Keyword arguments for :class:`braindecode.EEGClassifier` and
        :class:`~.AugNetClassifier` (without ``callbacks``: see
        :func:`best_epoch_callbacks`).
    """
    from braindecode.models import SleepStagerChambon2018, USleep
    from skorch.helper import predefined_split

    from .stager import TimeDistributedSleepStager

    _check_model(model, n_windows)
    if model == "chambon":
        X_valid, y_valid = split["X_valid"], split["y_valid"]
    else:
        X_valid, y_valid = sleep_sequences(split, "valid", n_windows)
        batch_size = max(1, batch_size // n_windows)
    valid_set = torch.utils.data.TensorDataset(
        torch.as_tensor(X_valid), torch.as_tensor(y_valid)
    )
    X_train = split["X_train"]
    modules = {
        "chambon": SleepStagerChambon2018,
        "timedistributed": TimeDistributedSleepStager,
        "usleep": USleep,
    }
    return dict(
        module=modules[model],
        module__n_chans=X_train.shape[1],
        module__n_times=X_train.shape[2],
        module__n_outputs=len(SLEEP_STAGE_NAMES),
        module__sfreq=split["sfreq"],
        criterion__weight=torch.as_tensor(split["class_weights"]),
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        train_split=predefined_split(valid_set),
        iterator_train__drop_last=False,
        device=device,
        classes=np.arange(len(SLEEP_STAGE_NAMES)),
        verbose=int(verbose),
    )


def best_epoch_callbacks(dirname):
    """Callbacks scoring ``valid_bacc`` and reloading its best epoch.

    The balanced accuracy is over windows, also for sequence models.

    Parameters
    ----------
    dirname : str
        Folder of the checkpoint (e.g. a temporary directory).

    Returns
    -------
    list of tuple
        skorch ``(name, callback)`` pairs.
    """
    from skorch.callbacks import Checkpoint, EpochScoring

    return [
        (
            "valid_bacc",
            EpochScoring(
                per_window_scoring(balanced_accuracy_score),
                lower_is_better=False,
                name="valid_bacc",
            ),
        ),
        (
            "best",
            Checkpoint(
                monitor="valid_bacc_best",
                load_best=True,
                dirname=dirname,
                f_optimizer=None,
                f_criterion=None,
                f_history=None,
            ),
        ),
    ]


def _make_estimator(method, split, common, callbacks, seed, n_copies, augnet_kwargs):
    """An unfitted estimator of ``method`` with the shared settings."""
    from braindecode import EEGClassifier
    from braindecode.models import SleepStagerChambon2018

    from ..classifier import AugNetClassifier

    if method == "none":
        if common["module"] is not SleepStagerChambon2018:  # per-window logits
            common = dict(common, predict_nonlinearity=per_window_softmax)
            # EEGClassifier's valid_acc, per window
            common["callbacks__valid_acc__scoring"] = per_window_scoring(accuracy_score)
        return EEGClassifier(callbacks=callbacks, **common)
    kwargs = dict(augmentation="eeg", n_copies=n_copies)
    if method == "augnet":
        kwargs["aug_lr"] = DEFAULT_AUG_LR_FACTOR * common["lr"]
    kwargs.update(augnet_kwargs or {})
    return AugNetClassifier(
        method=method,
        module__chs_info=split["chs_info"],
        random_state=seed,
        callbacks=callbacks,
        **kwargs,
        **common,
    )


# ------------------------------------------------------------------- scoring
def sleep_scores(y_true, y_pred):
    """Balanced accuracy, Cohen's kappa and macro-F1 of a hypnogram."""
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "kappa": float(cohen_kappa_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
    }


# ------------------------------------------------------------------ training
def _check_methods(methods):
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"methods must be among {METHODS}, got {unknown!r}.")
    return tuple(methods)


def _predict_test(clf, split, model, n_windows):
    """Predicted stage of every test window (from covering sequences for the
    sequence models)."""
    if model == "chambon":
        return clf.predict(split["X_test"])
    proba = predict_windows(clf, split["X_test"], split["recordings_test"], n_windows)
    return clf.classes_[proba.argmax(1)]


def _fit_timed(clf, X, y):
    """Fit ``clf`` on ``(X, y)``; return the seconds spent."""
    start = time.perf_counter()
    clf.fit(X, y)  # the best epoch is reloaded at the end
    return time.perf_counter() - start


def train_sleep_models(
    windows,
    methods=DEFAULT_METHODS,
    seed=0,
    max_epochs=DEFAULT_MAX_EPOCHS,
    batch_size=64,
    lr=1e-3,
    n_copies=DEFAULT_N_COPIES,
    device="cpu",
    verbose=True,
    augnet_kwargs=None,
    model=DEFAULT_MODEL,
    n_windows=DEFAULT_N_WINDOWS,
):
    """Train a sleep stager with and without AugNet, per-subject split.

    Parameters
    ----------
    windows : braindecode.datasets.BaseConcatDataset
        Output of :func:`load_sleep_windows`.
    methods : tuple of str
        Among :data:`METHODS`: ``'none'`` (plain
        :class:`braindecode.EEGClassifier`), and any ``AugNetClassifier``
        method: ``'augnet'``, ``'augerino'``, ``'random'``, ``'adda'``,
        ``'cadda'``.
    seed : int
        Seed of the split, the initialisation and the augmentations.
    max_epochs, batch_size, lr : int, int, float
        Training settings shared by every method (Adam, balanced class
        weights, best validation balanced accuracy kept).
    n_copies : int
        Copies averaged at inference by AugNet.
    device : str
        Torch device.
    verbose : bool
        Print progress and per-epoch logs.
    augnet_kwargs : dict | None
        Extra parameters of :class:`~.AugNetClassifier` (e.g. ``reg``,
        ``reg_warmup``, ``init_magnitude``, ``sequence_augmentation``).
        AugNet's ``aug_lr`` is ``DEFAULT_AUG_LR_FACTOR * lr`` unless given
        here (see ``DEFAULT_AUG_LR_FACTOR`` in this module).
    model : {'chambon', 'timedistributed', 'usleep'}
        The trunk (:data:`MODELS`). The sequence models train on sequences
        of ``n_windows`` consecutive windows covering every training window
        (:func:`sleep_sequences`), with per-window targets, and predict
        every test window (:func:`~.predict_windows`; AugNet augments each
        window with its own draw unless ``augnet_kwargs`` sets
        ``sequence_augmentation='sequence'``).
    n_windows : int
        Windows per sequence of the sequence models.

    Returns
    -------
    dict
        ``{"results": DataFrame of scores, "models": {method: estimator},
        "predictions": {method: predicted stage of each test window},
        "test": (X, y, subjects)}``.
    """
    methods = _check_methods(methods)
    _check_model(model, n_windows)
    split = prepare_sleep_split(windows, seed=seed)
    log_progress(
        f"split by subject: {len(split['y_train'])} train, "
        f"{len(split['y_valid'])} valid, {len(split['y_test'])} test windows; "
        f"seed {seed}",
        verbose,
    )
    common = sleep_training_kwargs(
        split, max_epochs, batch_size, lr, device, verbose, model, n_windows
    )
    if model == "chambon":
        X_train, y_train = split["X_train"], split["y_train"]
    else:
        X_train, y_train = sleep_sequences(split, "train", n_windows)
    rows, models, predictions = [], {}, {}
    for method in methods:
        torch.manual_seed(seed)
        with tempfile.TemporaryDirectory(prefix="augnet-ckpt-") as checkpoint_dir:
            clf = _make_estimator(
                method,
                split,
                common,
                best_epoch_callbacks(checkpoint_dir),
                seed,
                n_copies,
                augnet_kwargs,
            )
            log_progress(
                f"training {method!r} {model} ({max_epochs} epochs max)", verbose
            )
            train_time = _fit_timed(clf, X_train, y_train)
        predictions[method] = _predict_test(clf, split, model, n_windows)
        scores = sleep_scores(split["y_test"], predictions[method])
        rows.append(
            {"method": method, "seed": seed, **scores, "train_time_s": train_time}
        )
        log_progress(
            f"{method}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
            + f" ({train_time:.0f} s)",
            verbose,
        )
        models[method] = clf
    return {
        "results": pd.DataFrame(rows),
        "models": models,
        "predictions": predictions,
        "test": (split["X_test"], split["y_test"], split["subjects_test"]),
    }
