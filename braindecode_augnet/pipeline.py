"""Sleep staging end to end: data, training, evaluation and report."""

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import (
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
)
from sklearn.utils.class_weight import compute_class_weight

from .datasets import (
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    load_mass,
    load_sleep_physionet,
    make_synthetic_sleep,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)

__all__ = [
    "DATASETS",
    "best_epoch_callbacks",
    "prepare_sleep_split",
    "sleep_training_kwargs",
    "load_sleep_windows",
    "sleep_scores",
    "train_sleep_models",
    "write_report",
]

DATASETS = ("synthetic", "sleep-physionet", "mass")


def _log(message, verbose=True):
    if verbose:
        print(f"[braindecode-augnet {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_sleep_windows(
    dataset="synthetic",
    data_path=None,
    subject_ids=None,
    n_subjects=10,
    n_hours=2.0,
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
    _log(f"loading {dataset} data", verbose)
    if dataset == "synthetic":
        raw_ds = make_synthetic_sleep(
            n_subjects=n_subjects, n_hours=n_hours, random_state=random_state
        )
    elif dataset == "sleep-physionet":
        if subject_ids is None:
            subject_ids = list(range(n_subjects))
        raw_ds = load_sleep_physionet(subject_ids, path=data_path)
    else:
        if data_path is None:
            raise ValueError("The MASS data set needs --data-path (a local copy).")
        raw_ds = load_mass(data_path, subject_ids=subject_ids)
    _log("preprocessing (microvolts, low-pass 30 Hz) and windowing", verbose)
    preprocess_sleep(raw_ds, sfreq=100.0)
    return create_sleep_windows(raw_ds)


def sleep_scores(y_true, y_pred):
    """Balanced accuracy, Cohen's kappa and macro-F1 of a hypnogram."""
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "kappa": float(cohen_kappa_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
    }


def _arrays(windows, scale):
    X, y, subjects = windows_to_arrays(windows)
    return X / scale, y, subjects


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
        training set's standard deviation, ``scale``), ``sfreq``,
        ``chs_info`` and ``class_weights`` (balanced over the training set).
    """
    train, valid, test = split_by_subject(
        windows, test_size=test_size, valid_size=valid_size, random_state=seed
    )
    X_train, y_train, _ = windows_to_arrays(train)
    scale = float(np.std(X_train)) or 1.0
    X_valid, y_valid, _ = _arrays(valid, scale)
    X_test, y_test, subjects_test = _arrays(test, scale)
    first = train.datasets[0]
    info = first.windows.info if hasattr(first, "windows") else first.raw.info
    present = np.unique(y_train)
    weights = np.ones(len(SLEEP_STAGE_NAMES), dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=y_train)
    return dict(
        X_train=X_train / scale,
        y_train=y_train,
        X_valid=X_valid,
        y_valid=y_valid,
        X_test=X_test,
        y_test=y_test,
        subjects_test=subjects_test,
        scale=scale,
        sfreq=float(info["sfreq"]),
        chs_info=info["chs"],
        class_weights=weights,
    )


def sleep_training_kwargs(
    split, max_epochs=15, batch_size=64, lr=1e-3, device="cpu", verbose=True
):
    """Estimator parameters shared by every method of the sleep benchmark.

    ``SleepStagerChambon2018`` sized from the data, Adam, class-weighted
    loss, validation on the held-out subjects with the balanced accuracy
    recorded as ``valid_bacc``.

    Parameters
    ----------
    split : dict
        Output of :func:`prepare_sleep_split`.
    max_epochs, batch_size, lr : int, int, float
        Training settings.
    device : str
        Torch device.
    verbose : bool
        Per-epoch logs.

    Returns
    -------
    dict
        Keyword arguments for :class:`braindecode.EEGClassifier` and
        :class:`~.AugNetClassifier` (without ``callbacks``: see
        :func:`best_epoch_callbacks`).
    """
    from braindecode.models import SleepStagerChambon2018
    from skorch.helper import predefined_split

    valid_set = torch.utils.data.TensorDataset(
        torch.as_tensor(split["X_valid"]), torch.as_tensor(split["y_valid"])
    )
    X_train = split["X_train"]
    return dict(
        module=SleepStagerChambon2018,
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
            EpochScoring("balanced_accuracy", lower_is_better=False, name="valid_bacc"),
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


def train_sleep_models(
    windows,
    methods=("none", "augnet"),
    seed=0,
    max_epochs=15,
    batch_size=64,
    lr=1e-3,
    n_copies=20,
    device="cpu",
    verbose=True,
    augnet_kwargs=None,
):
    """Train SleepStagerChambon2018 with and without AugNet, per-subject split.

    Parameters
    ----------
    windows : braindecode.datasets.BaseConcatDataset
        Output of :func:`load_sleep_windows`.
    methods : tuple of str
        ``'none'`` (plain :class:`braindecode.EEGClassifier`), and any
        ``AugNetClassifier`` method: ``'augnet'``, ``'augerino'``,
        ``'random'``.
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
        ``reg_warmup``, ``init_magnitude``).

    Returns
    -------
    dict
        ``{"results": DataFrame of scores, "models": {method: estimator},
        "test": (X, y, subjects)}``.
    """
    from braindecode import EEGClassifier

    from .classifier import AugNetClassifier

    split = prepare_sleep_split(windows, seed=seed)
    _log(
        f"split by subject: {len(split['y_train'])} train, "
        f"{len(split['y_valid'])} valid, {len(split['y_test'])} test windows; "
        f"seed {seed}",
        verbose,
    )
    common = sleep_training_kwargs(split, max_epochs, batch_size, lr, device, verbose)
    X_train, y_train = split["X_train"], split["y_train"]
    X_test, y_test = split["X_test"], split["y_test"]
    rows, models = [], {}
    for method in methods:
        torch.manual_seed(seed)
        checkpoint_dir = tempfile.TemporaryDirectory(prefix="augnet-ckpt-")
        callbacks = best_epoch_callbacks(checkpoint_dir.name)
        if method == "none":
            clf = EEGClassifier(callbacks=callbacks, **common)
        else:
            kwargs = dict(augmentation="eeg", reg=0.5, n_copies=n_copies)
            kwargs.update(augnet_kwargs or {})
            clf = AugNetClassifier(
                method=method,
                module__chs_info=split["chs_info"],
                random_state=seed,
                callbacks=callbacks,
                **kwargs,
                **common,
            )
        _log(f"training {method!r} ({max_epochs} epochs max)", verbose)
        start = time.perf_counter()
        with checkpoint_dir:
            clf.fit(X_train, y_train)  # the best epoch is reloaded at the end
        train_time = time.perf_counter() - start
        y_pred = clf.predict(X_test)
        scores = sleep_scores(y_test, y_pred)
        rows.append(
            {"method": method, "seed": seed, **scores, "train_time_s": train_time}
        )
        _log(
            f"{method}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
            + f" ({train_time:.0f} s)",
            verbose,
        )
        models[method] = clf
    return {
        "results": pd.DataFrame(rows),
        "models": models,
        "test": (X_test, y_test, split["subjects_test"]),
    }


def _plot_confusions(models, X, y):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False
    )
    for ax, (method, clf) in zip(axes[0], models.items()):
        cm = confusion_matrix(y, clf.predict(X), labels=range(5), normalize="true")
        ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
        for i in range(5):
            for j in range(5):
                ax.text(
                    j,
                    i,
                    f"{cm[i, j]:.2f}",
                    ha="center",
                    va="center",
                    color="white" if cm[i, j] > 0.5 else "black",
                    fontsize=8,
                )
        ax.set_xticks(range(5), SLEEP_STAGE_NAMES)
        ax.set_yticks(range(5), SLEEP_STAGE_NAMES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("expert")
        ax.set_title(f"{method}: normalised confusion")
    fig.tight_layout()
    return fig


def _plot_hypnogram(y_true, y_pred, subject):
    import matplotlib.pyplot as plt

    order = [0, 4, 1, 2, 3]  # W, REM, N1, N2, N3 from top to bottom
    level = {stage: -rank for rank, stage in enumerate(order)}
    hours = np.arange(len(y_true)) * 30 / 3600
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.step(hours, [level[s] for s in y_true], where="post", label="expert", lw=1.5)
    ax.step(
        hours,
        [level[s] - 0.08 for s in y_pred],
        where="post",
        label="AugNet",
        lw=1.0,
        alpha=0.8,
    )
    ax.set_yticks([level[s] for s in order], [SLEEP_STAGE_NAMES[s] for s in order])
    ax.set_xlabel("time (h)")
    ax.set_title(f"Hypnogram of test subject {subject}: expert vs AugNet")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def write_report(out_dir, results, models, test, verbose=True):
    """Write the report folder: scores, confusion matrices, hypnogram, policy.

    Parameters
    ----------
    out_dir : str | pathlib.Path
        Folder to write (created).
    results : pandas.DataFrame
        Scores, one row per method and seed.
    models : dict
        Fitted estimators of one seed, by method (``'augnet'`` among them).
    test : tuple
        ``(X, y, subjects)`` of the test windows of that seed.
    verbose : bool
        Print what is written.

    Returns
    -------
    pathlib.Path
        The report folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_policy

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y, subjects = test
    results.to_csv(out / "scores.csv", index=False)
    summary = (
        results.drop(columns="seed").groupby("method", sort=False).agg(["mean", "std"])
    )
    summary.columns = [f"{a}_{b}" for a, b in summary.columns]
    (out / "scores.json").write_text(
        json.dumps(
            {
                "per_seed": results.to_dict(orient="records"),
                "summary": summary.reset_index().to_dict(orient="records"),
            },
            indent=2,
        )
    )
    fig = _plot_confusions(models, X, y)
    fig.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(fig)
    lines = [
        "# Sleep staging report",
        "",
        "Test-set scores (per-subject split), mean over seeds:",
        "",
        "| method | balanced accuracy | kappa | macro-F1 | train time (s) |",
        "|---|---|---|---|---|",
    ]
    for method, row in summary.iterrows():
        lines.append(
            f"| {method} | {row['balanced_accuracy_mean']:.3f} | "
            f"{row['kappa_mean']:.3f} | {row['macro_f1_mean']:.3f} | "
            f"{row['train_time_s_mean']:.0f} |"
        )
    lines += ["", "![confusion](confusion_matrix.png)", ""]
    augnet = models.get("augnet")
    if augnet is not None:
        first = subjects[0]
        mask = subjects == first
        fig = _plot_hypnogram(y[mask], augnet.predict(X[mask]), first)
        fig.savefig(out / "hypnogram.png", dpi=110)
        plt.close(fig)
        policy = augnet.policy_
        policy.to_csv(out / "policy.csv", index=False)
        fig = plot_policy(augnet)
        fig.savefig(out / "policy.png", dpi=110)
        plt.close(fig)
        lines += [
            "![hypnogram](hypnogram.png)",
            "",
            "Learned policy:",
            "",
            # tabulate, which to_markdown needs, comes with skorch
            policy.to_markdown(index=False, floatfmt=".3f"),
            "",
            "![policy](policy.png)",
            "",
        ]
    (out / "report.md").write_text("\n".join(lines))
    _log(f"report written to {out.resolve()}", verbose)
    return out
