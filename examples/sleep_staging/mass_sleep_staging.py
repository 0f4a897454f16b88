"""
Sleep staging on MASS with AugNet (not run here)
================================================

This example runs a full-size sleep-staging comparison on the Montreal
Archive of Sleep Studies (MASS, O'Reilly et al. 2014), subset SS3: 62 nights
of healthy adults, scored in 30-s epochs. The sleep stager of Chambon et al.
(2018) is trained with :class:`~braindecode_augnet.AugNetClassifier` and as
a plain :class:`braindecode.EEGClassifier`, on subjects split into
training, validation and test sets, as in
:ref:`sphx_glr_auto_examples_sleep_staging_plot_sleep_staging.py`.

.. note::

   MASS cannot be downloaded automatically: access is granted on request by
   the Center for Advanced Research in Sleep Medicine (CEAMS), see
   http://ceams-carsm.ca/mass. This example is therefore **not run** when the
   documentation is built. To run it, put a copy of SS3 in a folder, holding
   files such as ``01-03-0001 PSG.edf`` (signals) and ``01-03-0001 Base.edf``
   (sleep stages), possibly in sub-folders such as ``SS3 biosignals`` and
   ``SS3 annotations``, and set ``DATA_PATH`` below. The picture of this
   example in the gallery is an illustration (a simulated hypnogram), not
   one of its results.

Training all of SS3 takes hours on a GPU; a CPU is fine for a few subjects
(``SUBJECT_IDS = [1, 2, 3, 4, 5]``) and a few epochs.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Settings
# --------

from pathlib import Path

import torch

# sphinx_gallery_thumbnail_path = "_static/thumbnails/mass_sleep_staging.png"

DATA_PATH = Path("~/data/MASS/SS3").expanduser()  # local copy of MASS SS3
SUBJECT_IDS = None  # None: every subject of the folder; e.g. [1, 2, 3, 4, 5]
# Six EEG derivations. Most SS3 nights are referenced to the computed linked
# ears (CLE), a few to linked ears (LER): each entry lists both names and the
# first one found is read, under the first name.
CHANNELS = [
    (f"EEG {ch}-CLE", f"EEG {ch}-LER") for ch in ("F3", "F4", "C3", "C4", "O1", "O2")
]
SFREQ = 100.0  # MASS EEG is sampled at 256 Hz; Sleep-EDF at 100 Hz
MAX_EPOCHS = 100  # with early stopping on the validation balanced accuracy
PATIENCE = 20
BATCH_SIZE = 128
LR = 1e-3
N_COPIES = 20  # augmented copies averaged by AugNet at inference
# Epochs over which AugNet's regulariser grows from 0 to full weight, so that
# the network learns something before the augmentations are pushed up.
REG_WARMUP = 5
SEED = 0
N_JOBS = 4  # recordings preprocessed and windowed in parallel
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# %%
# Loading MASS
# ------------
#
# :func:`~braindecode_augnet.datasets.load_mass` reads the PSG files of the
# folder with their ``Base.edf`` hypnograms, keeps 30 minutes of wake before
# and after the night (as braindecode does for Sleep-EDF) and returns the same
# kind of dataset as the Sleep-EDF and synthetic loaders: a braindecode
# ``BaseConcatDataset`` with Sleep-EDF style annotations (``"Sleep stage W"``,
# ``"Sleep stage 2"``, ``"Sleep stage R"``, ...). A missing channel raises an
# error that lists the channels of the file.

from braindecode_augnet.datasets import (
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    load_mass,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)

raw_ds = load_mass(DATA_PATH, subject_ids=SUBJECT_IDS, channels=CHANNELS)
print(f"{len(raw_ds.datasets)} nights; channels {raw_ds.datasets[0].raw.ch_names}")

# %%
# Preprocessing and windowing
# ---------------------------
#
# The EEG is converted to microvolts, low-passed at 30 Hz, resampled to
# 100 Hz, the sampling frequency of Sleep-EDF, so that the network (and its
# receptive field in seconds) is the same on both data sets, and each channel
# of each night is standardised (median, interquartile range). SS3 is scored in
# 30-s epochs (use ``window_size_s=20`` for the subsets scored in 20-s
# epochs: SS2, SS4 and SS5).

preprocess_sleep(raw_ds, h_freq=30.0, sfreq=SFREQ, n_jobs=N_JOBS)
windows = create_sleep_windows(raw_ds, window_size_s=30.0, n_jobs=N_JOBS)
info = windows.datasets[0].raw.info
print(f"{len(windows)} windows of {len(info['ch_names'])} channels at {SFREQ:g} Hz")

# %%
# Splitting by subject
# --------------------
#
# 60% of the subjects for training, 20% for validation (early stopping and
# the choice of the best epoch) and 20% for testing. All the windows are
# loaded in memory (about 4 GB for the 62 nights of SS3 with six channels).

import numpy as np

train_set, valid_set, test_set = split_by_subject(
    windows, test_size=0.2, valid_size=0.2, random_state=SEED
)
X_train, y_train, _ = windows_to_arrays(train_set)
X_valid, y_valid, _ = windows_to_arrays(valid_set)
X_test, y_test, subjects_test = windows_to_arrays(test_set)
scale = X_train.std()
X_train, X_valid, X_test = X_train / scale, X_valid / scale, X_test / scale
print(f"train {X_train.shape}, valid {X_valid.shape}, test {X_test.shape}")

# %%
# The classifiers
# ---------------
#
# Both share the network, a class-weighted loss, Adam, early stopping on the
# validation balanced accuracy and the reloading of the best epoch (with
# ``PATIENCE`` larger than ``REG_WARMUP``, so that AugNet is not stopped while
# its regulariser is still growing). Passing
# the channel descriptions (``module__chs_info``) lets the ``"eeg"``
# augmentation preset add ``ChannelsSymmetry`` (F3 <-> F4, C3 <-> C4,
# O1 <-> O2) to its spatial layer, next to the sign flip, channel dropout and
# channel shuffle; its two time-frequency layers hold time reversal, Gaussian
# noise, smooth time mask, Fourier-transform surrogate and frequency shift.
#
# ``method="augerino"`` or ``method="random"`` turn the same estimator into
# the Augerino and TrivialAugment-style baselines of the paper: add them to
# ``methods`` to compare.

import tempfile

from braindecode import EEGClassifier
from braindecode.models import SleepStagerChambon2018
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring
from skorch.helper import predefined_split

from braindecode_augnet import AugNetClassifier

classes = np.arange(len(SLEEP_STAGE_NAMES))
present = np.unique(y_train)
class_weights = np.ones(len(classes), dtype=np.float32)
class_weights[present] = compute_class_weight("balanced", classes=present, y=y_train)


def make_classifier(method):
    """A fresh classifier: ``"none"`` or an AugNetClassifier method."""
    callbacks = [
        (
            "valid_bacc",
            EpochScoring("balanced_accuracy", lower_is_better=False, name="valid_bacc"),
        ),
        (
            "early_stopping",
            EarlyStopping(
                monitor="valid_bacc", lower_is_better=False, patience=PATIENCE
            ),
        ),
        (
            "best",
            Checkpoint(
                monitor="valid_bacc_best",
                load_best=True,
                dirname=tempfile.mkdtemp(prefix=f"mass-{method}-"),
                f_optimizer=None,
                f_criterion=None,
                f_history=None,
            ),
        ),
    ]
    common = dict(
        module=SleepStagerChambon2018,
        module__n_chans=X_train.shape[1],
        module__n_times=X_train.shape[2],
        module__n_outputs=len(classes),
        module__sfreq=SFREQ,
        module__chs_info=info["chs"],
        criterion__weight=torch.as_tensor(class_weights),
        optimizer=torch.optim.Adam,
        lr=LR,
        batch_size=BATCH_SIZE,
        max_epochs=MAX_EPOCHS,
        train_split=predefined_split(
            torch.utils.data.TensorDataset(
                torch.as_tensor(X_valid), torch.as_tensor(y_valid)
            )
        ),
        iterator_train__shuffle=True,
        callbacks=callbacks,
        classes=classes,
        device=DEVICE,
    )
    if method == "none":
        return EEGClassifier(**common)
    return AugNetClassifier(
        augmentation="eeg",
        method=method,
        reg_warmup=REG_WARMUP,
        n_copies=N_COPIES,
        copies_per_chunk=5,  # bounds the memory of inference with 20 copies
        **common,
    )


# %%
# Training and testing
# --------------------

import pandas as pd

from braindecode_augnet.study.pipeline import sleep_scores

methods = ["none", "augnet"]  # add "augerino", "random" for the baselines
models, rows = {}, []
for method in methods:
    print(f"Training {method!r}")
    torch.manual_seed(SEED)
    clf = make_classifier(method)
    clf.fit(X_train, y_train)
    models[method] = clf
    rows.append({"method": method, **sleep_scores(y_test, clf.predict(X_test))})
scores = pd.DataFrame(rows).set_index("method")
print(scores.round(3))

# %%
# Confusion matrices, hypnogram and policy
# ----------------------------------------

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

from braindecode_augnet import plot_policy

fig, axes = plt.subplots(
    1, len(models), figsize=(3.2 * len(models), 3.6), layout="constrained"
)
for ax, (method, clf) in zip(np.atleast_1d(axes), models.items()):
    ConfusionMatrixDisplay.from_predictions(
        y_test,
        clf.predict(X_test),
        labels=classes,
        display_labels=SLEEP_STAGE_NAMES,
        normalize="true",
        values_format=".2f",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    ax.set_title(method)

order = [0, 4, 1, 2, 3]  # W, REM, N1, N2, N3 from top to bottom
level = np.empty(len(order), dtype=int)
level[order] = -np.arange(len(order))
mask = subjects_test == subjects_test[0]
hours = np.arange(mask.sum()) * 30 / 3600
fig, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
ax.step(hours, level[y_test[mask]], where="post", lw=1.5, label="expert")
ax.step(
    hours,
    level[models["augnet"].predict(X_test[mask])] - 0.1,
    where="post",
    lw=1.0,
    alpha=0.8,
    label="AugNet",
)
ax.set_yticks(level[order], [SLEEP_STAGE_NAMES[s] for s in order])
ax.set_xlabel("time (h)")
ax.set_title(f"MASS SS3 subject {subjects_test[0]}")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)

columns = ["layer", "transform", "weight", "magnitude", "probability", "op_value"]
print(models["augnet"].policy_[columns].round(3).to_string(index=False))
fig = plot_policy(models["augnet"])
plt.show()

# %%
# The same comparison, with a report folder (scores, confusion matrices,
# hypnogram and policy), is available from the command line, with the
# package's default settings (two EEG channels, at most ``--epochs`` epochs,
# the best validation epoch kept)::
#
#     python -m braindecode_augnet --dataset mass --data-path ~/data/MASS/SS3 \
#         --epochs 100 --device cuda --out mass-report
#
# References
# ----------
#
# - Chambon, S., Galtier, M., Arnal, P., Wainrib, G. and Gramfort, A. (2018).
#   A deep learning architecture for temporal sleep stage classification using
#   multivariate and multimodal time series. IEEE Transactions on Neural
#   Systems and Rehabilitation Engineering, 26(4).
# - O'Reilly, C., Gosselin, N., Carrier, J. and Nielsen, T. (2014). Montreal
#   Archive of Sleep Studies: an open-access resource for instrument
#   benchmarking and exploratory research. Journal of Sleep Research, 23(6).
# - Rommel, C., Moreau, T. and Gramfort, A. (2022). Deep invariant networks
#   with differentiable augmentation layers. Advances in Neural Information
#   Processing Systems (NeurIPS).
