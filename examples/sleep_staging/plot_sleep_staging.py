"""
Sleep staging with AugNet: Sleep-EDF, or synthetic nights offline
=================================================================

This example trains the sleep stager of Chambon et al. (2018) on the
Sleep-EDF Expanded recordings when they can be downloaded, on synthetic
nights otherwise (as in this documentation), once with
:class:`~braindecode_augnet.AugNetClassifier`, which learns *which* EEG
augmentations to use and *how strong* they may be while it fits the data
(Rommel, Moreau & Gramfort, NeurIPS 2022), and once as a plain
:class:`braindecode.EEGClassifier` without any augmentation.

Sleep-EDF is downloaded by MNE the first time the example runs. When the
recordings can be neither read from disk nor downloaded, or when downloads
are turned off (environment variable ``BRAINDECODE_AUGNET_NO_DOWNLOAD=1``),
the example falls back on the *synthetic* sleep nights of
:func:`~braindecode_augnet.datasets.make_synthetic_sleep`: the same pipeline
runs, end to end, in a few minutes on a laptop, but its scores say nothing
about real sleep staging.

.. note::

   **Every number and figure on this page comes from synthetic nights, not
   from Sleep-EDF.** This documentation is built offline, with downloads
   turned off. Run the script on a machine with internet access for the
   Sleep-EDF results.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Loading the recordings
# ----------------------
#
# :func:`~braindecode_augnet.datasets.load_sleep_physionet` reads the Sleep
# Cassette nights of the requested subjects (the two EEG channels ``Fpz-Cz``
# and ``Pz-Oz`` at 100 Hz, with their hypnograms, keeping 30 minutes of wake
# before and after the night). Unlike braindecode's ``SleepPhysionet`` it does
# not retry a failed download: without access to physionet.org it raises at
# once a :class:`ConnectionError` whose message lists the files to fetch and
# the folder to copy them into.

import os

import numpy as np
import torch

from braindecode_augnet.datasets import (
    SLEEP_STAGE_NAMES,
    create_sleep_windows,
    load_sleep_physionet,
    make_synthetic_sleep,
    preprocess_sleep,
    split_by_subject,
    windows_to_arrays,
)

# Sleep-EDF subjects (0 to 82; the first night of each)
SUBJECT_IDS = [0, 1, 2, 3, 4, 5]
SEED = 0
# Set by the documentation build, which never downloads anything.
NO_DOWNLOAD = os.environ.get("BRAINDECODE_AUGNET_NO_DOWNLOAD", "0") != "0"

# sphinx_gallery_start_ignore
# Documentation builds run on small, shared machines, where torch's threads
# fight for the cores: one thread is then several times faster.
import sys

if "sphinx_gallery" in sys.modules:
    torch.set_num_threads(1)
# sphinx_gallery_end_ignore

raw_ds, data_name = None, "Sleep-EDF"
if NO_DOWNLOAD:
    print("Downloads are turned off (BRAINDECODE_AUGNET_NO_DOWNLOAD).")
else:
    try:
        raw_ds = load_sleep_physionet(SUBJECT_IDS, recording_ids=[1])
    except ConnectionError as err:
        print(f"Sleep-EDF is not available here:\n{err}\n")
if raw_ds is None:
    data_name = "synthetic"
    banner = [
        "SYNTHETIC DATA: Sleep-EDF was not loaded.",
        "Every number and figure below comes from simulated nights,",
        "not from real EEG.",
    ]
    print("\n".join(["=" * 62, *(f"  {line}" for line in banner), "=" * 62]))
    raw_ds = make_synthetic_sleep(
        n_subjects=len(SUBJECT_IDS), n_hours=1.5, random_state=SEED
    )

print(raw_ds.description.to_string(index=False))

# %%
# The synthetic nights mimic the physiology of each stage (alpha in wake,
# spindles and K-complexes in N2, delta in N3, eye movements in REM) and
# differ between subjects by nuisances that augmentations can undo: the
# alpha peak frequency, a mirrored montage, a flipped polarity and an
# amplitude scale (the last columns of the description above, printed only
# for synthetic nights).
#
# Preprocessing and windowing
# ---------------------------
#
# Both sources come as the same braindecode ``BaseConcatDataset`` with
# Sleep-EDF style annotations, so the preprocessing is the same: keep the EEG
# channels, convert volts to microvolts, low-pass filter at 30 Hz (the
# recordings are already at 100 Hz; ``sfreq=100`` would resample others) and
# standardise each channel of each recording (its median removed, divided by
# its interquartile range), so that subjects whose signals differ only in
# amplitude look alike to the network.
# The scored 30-s epochs then become labelled windows, with the stages
# W, N1, N2, N3 (R&K stages 3 and 4 merged) and REM as targets 0 to 4.

preprocess_sleep(raw_ds, h_freq=30.0, sfreq=100.0)
windows = create_sleep_windows(raw_ds)
sfreq = windows.datasets[0].raw.info["sfreq"]
ch_names = windows.datasets[0].raw.ch_names
print(f"{len(windows)} windows of {ch_names} at {sfreq:g} Hz")

# %%
# Splitting by subject
# --------------------
#
# All the windows of a subject go to the same split, so the test scores
# measure how the models generalise to new people. With six subjects, one is
# kept for validation and one for testing. The signals are then divided by
# the standard deviation of the training windows (unit variance): the ranges
# of the transforms are in the units of the data (e.g. a Gaussian noise of
# standard deviation up to 0.2), so on standardised signals they are
# fractions of the signal's standard deviation. On raw microvolts the same
# noise would be invisible.

train_set, valid_set, test_set = split_by_subject(
    windows, test_size=0.2, valid_size=0.2, random_state=SEED
)
X_train, y_train, _ = windows_to_arrays(train_set)
X_valid, y_valid, _ = windows_to_arrays(valid_set)
X_test, y_test, subjects_test = windows_to_arrays(test_set)
scale = X_train.std()
X_train, X_valid, X_test = X_train / scale, X_valid / scale, X_test / scale
print(
    f"train {X_train.shape}, valid {X_valid.shape}, test {X_test.shape}; "
    f"training stages: {dict(zip(SLEEP_STAGE_NAMES, np.bincount(y_train).tolist()))}"
)

# %%
# Two classifiers
# ---------------
#
# Sleep stages are imbalanced (N2 dominates, N1 is rare), so both models use a
# class-weighted loss. They share every training setting; the only
# difference is the AugNet wrapper:
#
# * ``augmentation="eeg"`` is the paper's EEG preset, three augmentation
#   layers in front of the network: a spatial layer (sign flip, channel
#   dropout and shuffle; channel symmetry when the montage has left/right
#   pairs), then twice a time-frequency layer (time reversal, Gaussian noise,
#   smooth time mask, Fourier-transform surrogate, frequency shift). Each
#   layer has a learned weight per candidate and each candidate a learned
#   magnitude. In training each example goes through one candidate per
#   layer, drawn from the weights (``sampling='sampled'``, AugNet's default:
#   it did better on synthetic sleep than the paper's weighted mixture of
#   all candidates, ``sampling='mixture'``; see :doc:`/results`);
# * ``reg`` weighs the regulariser that rewards strong augmentations, against
#   the classification loss that penalises the harmful ones;
# * ``reg_warmup=2`` switches the regulariser off in the first epoch and
#   brings it to full weight at the third. Until the network has learned
#   something, the classification loss cannot tell a harmful augmentation
#   from a harmless one, and the regulariser alone could saturate a
#   destructive transform from which the policy would not recover (the
#   preset already caps the worst one: its channel dropout drops at most
#   half the channels, as dropping them all left nothing to learn from);
# * ``n_copies`` augmented copies of each window are averaged at inference.
#
# The augmentations are drawn from torch's global generator, so
# :func:`torch.manual_seed` makes the run reproducible. Only a few epochs are
# run here to keep the example short; use more (and more subjects) for real
# results.

from braindecode import EEGClassifier
from braindecode.models import SleepStagerChambon2018
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import EpochScoring
from skorch.helper import predefined_split

from braindecode_augnet import AugNetClassifier

classes = np.arange(len(SLEEP_STAGE_NAMES))
present = np.unique(y_train)
class_weights = np.ones(len(classes), dtype=np.float32)
class_weights[present] = compute_class_weight("balanced", classes=present, y=y_train)

common = dict(
    module=SleepStagerChambon2018,
    module__n_chans=X_train.shape[1],
    module__n_times=X_train.shape[2],
    module__n_outputs=len(classes),
    module__sfreq=sfreq,
    criterion__weight=torch.as_tensor(class_weights),
    optimizer=torch.optim.Adam,
    lr=1e-3,
    batch_size=64,
    max_epochs=5,
    train_split=predefined_split(
        torch.utils.data.TensorDataset(
            torch.as_tensor(X_valid), torch.as_tensor(y_valid)
        )
    ),
    callbacks=[
        (
            "valid_bacc",
            EpochScoring("balanced_accuracy", lower_is_better=False, name="valid_bacc"),
        )
    ],
    classes=classes,
    device="cuda" if torch.cuda.is_available() else "cpu",
)

torch.manual_seed(SEED)  # seeds the initialisation and the augmentations
augnet = AugNetClassifier(augmentation="eeg", reg_warmup=2, n_copies=10, **common)
augnet.fit(X_train, y_train)

# %%
# In AugNet's log, ``aug_reg`` is the regulariser :math:`R` (the norm of the
# weighted magnitudes) and ``train_loss`` is the loss it minimises, the
# negative log-likelihood *minus* ``reg`` times :math:`R`: it becomes
# negative once the regulariser outweighs the classification loss, and it is
# not comparable with the plain network's ``train_loss``. ``valid_loss`` is
# the negative log-likelihood alone (no regulariser), comparable between the
# two models.
#
# The plain network, trained from the same initialisation:

torch.manual_seed(SEED)
plain = EEGClassifier(**common)
plain.fit(X_train, y_train)

# %%
# Test scores
# -----------
#
# Balanced accuracy and macro-F1 weigh the five stages equally; Cohen's kappa
# is the agreement with the expert corrected for chance, the usual figure for
# inter-scorer agreement.

import pandas as pd

from braindecode_augnet.study.pipeline import sleep_scores

predictions = {
    "AugNet": augnet.predict(X_test),
    "no augmentation": plain.predict(X_test),
}
scores = pd.DataFrame(
    {name: sleep_scores(y_test, y_pred) for name, y_pred in predictions.items()}
).T
print(f"Test scores on {data_name} data:")
print(scores.round(3))

# Recall of each stage: the share of the expert's epochs of that stage that
# the model labels so (the diagonal of the confusion matrices below).
from sklearn.metrics import recall_score

recalls = pd.DataFrame(
    {
        name: recall_score(
            y_test, y_pred, labels=classes, average=None, zero_division=np.nan
        )
        for name, y_pred in predictions.items()
    },
    index=SLEEP_STAGE_NAMES,
).T
print("Recall per stage:")
print(recalls.round(2))

# %%
# Kappa and accuracy count epochs; N1 and REM are small shares of a night
# (see the training stages printed above), so a model can miss most of
# them and still agree well with the expert overall. Balanced accuracy and
# macro-F1 weigh the five stages equally and show such a loss, and so does
# the recall of each stage. The rare stages are where two short runs
# differ most. The scores need not agree on which model is ahead; the
# lines below compare them, score by score and stage by stage, as this run
# left them.
#
# Where AugNet is behind no augmentation, this example's size is the first
# reason: five epochs on four training nights. Training on augmented
# windows is harder than on the raw ones, so AugNet needs more epochs than
# the plain network to converge, and at this size the policy it learns
# cannot be told from a random draw of the same transforms. With a single
# test subject the scores are also noisy. The paired comparisons over 20
# seeds x folds on :doc:`/results` are the test of a ranking, not this
# page.


def compare(a, b, fmt):
    """'ahead of', 'behind' or 'level with', as the printed values read."""
    a, b = float(fmt.format(a)), float(fmt.format(b))
    return "ahead of" if a > b else "behind" if a < b else "level with"


augnet_scores, plain_scores = scores.loc["AugNet"], scores.loc["no augmentation"]
for score in scores.columns:
    a, b = augnet_scores[score], plain_scores[score]
    print(
        f"{score}: AugNet {a:.3f}, {compare(a, b, '{:.3f}')} no augmentation ({b:.3f})"
    )
for stage in SLEEP_STAGE_NAMES:
    a, b = recalls.loc["AugNet", stage], recalls.loc["no augmentation", stage]
    if compare(a, b, "{:.2f}") != "level with":
        print(
            f"recall of {stage}: AugNet {a:.2f}, {compare(a, b, '{:.2f}')} "
            f"no augmentation ({b:.2f})"
        )

# %%
# Confusion matrices
# ------------------
#
# Rows are the expert's stages, normalised to sum to one: the diagonal is the
# recall of each stage.

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
for ax, (name, y_pred) in zip(axes, predictions.items()):
    ConfusionMatrixDisplay.from_predictions(
        y_test,
        y_pred,
        labels=classes,
        display_labels=SLEEP_STAGE_NAMES,
        normalize="true",
        values_format=".2f",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    ax.set_title(name)
    ax.set_xlabel("predicted stage")
    ax.set_ylabel("expert stage")
fig.suptitle(f"Normalised confusion matrices ({data_name} test subject)")

# %%
# Hypnogram
# ---------
#
# The night of the test subject as scored by the expert and by AugNet, with
# the stages ordered as on a clinical hypnogram.

# sphinx_gallery_thumbnail_number = 2
order = [0, 4, 1, 2, 3]  # W, REM, N1, N2, N3 from top to bottom
level = np.empty(len(order), dtype=int)
level[order] = -np.arange(len(order))
mask = subjects_test == subjects_test[0]
hours = np.arange(mask.sum()) * 30 / 3600

fig, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
ax.step(hours, level[y_test[mask]], where="post", lw=1.5, label="expert")
ax.step(
    hours,
    level[predictions["AugNet"][mask]] - 0.1,
    where="post",
    lw=1.0,
    alpha=0.8,
    label="AugNet",
)
ax.set_yticks(level[order], [SLEEP_STAGE_NAMES[s] for s in order])
ax.set_xlabel("time (h)")
ax.set_title(f"Test subject {subjects_test[0]} ({data_name})")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)

# %%
# The learned augmentation policy
# -------------------------------
#
# ``policy_`` holds one row per candidate transform: its weight in its layer,
# its magnitude in [0, 1], the probability of augmenting an example (learned
# only by the involutions, sign flip and time reversal, where it is half the
# magnitude) and the magnitude in the operation's own unit (``op_value``:
# e.g. the maximal frequency shift in Hz). ``at_cap`` flags a magnitude at
# the top of its range.

columns = ["layer", "transform", "weight", "magnitude", "probability", "op_value"]
print(augnet.policy_[columns].round(3).to_string(index=False))

# %%
# :func:`~braindecode_augnet.plot_policy` draws, for each layer, how the
# weights (left) and magnitudes (right) moved during training; the legend
# gives their final values.

from braindecode_augnet import plot_policy

fig = plot_policy(augnet)
plt.show()

for layer, rows in augnet.policy_.groupby("layer"):
    top = rows.loc[rows["weight"].idxmax()]
    print(
        f"layer {layer}: {top['transform']} most weighted ({top['weight']:.2f}), "
        f"magnitude {top['magnitude']:.2f} ({top['op_value']:.3g} in its unit)"
    )
print(f"largest magnitude of any candidate: {augnet.policy_['magnitude'].max():.2f}")

# %%
# After five epochs this policy has not settled. The weights learn at the
# trunk's rate (``aug_lr``'s default) and every magnitude starts at 0.1
# (the preset's ``init_magnitude``); the lines above name each layer's most
# weighted candidate and where its magnitude went. Where the largest
# magnitude is still near its start, the augmentations applied are mild,
# and whatever gap the scores show owes little to a strong learned
# invariance. With a
# single test subject and five epochs the scores are noisy: do not read a
# ranking of the two models into them (the paired comparison of
# ``python -m braindecode_augnet`` over seeds and folds is the test of
# that). See
# :ref:`sphx_glr_auto_examples_learned_policies_plot_policy_and_invariance.py`
# for how to read the policy and measure the invariances it gives the
# network,
# :ref:`sphx_glr_auto_examples_learned_policies_plot_fixed_transforms.py` to
# reuse it as ordinary data augmentation, and
# :ref:`sphx_glr_auto_examples_sleep_staging_mass_sleep_staging.py` for
# full-size settings on the MASS data set.
#
# References
# ----------
#
# - Chambon, S., Galtier, M., Arnal, P., Wainrib, G. and Gramfort, A. (2018).
#   A deep learning architecture for temporal sleep stage classification using
#   multivariate and multimodal time series. IEEE Transactions on Neural
#   Systems and Rehabilitation Engineering, 26(4).
# - Kemp, B., Zwinderman, A. H., Tuk, B., Kamphuisen, H. A. C. and Oberye,
#   J. J. L. (2000). Analysis of a sleep-dependent neuronal feedback loop: the
#   slow-wave microcontinuity of the EEG. IEEE Transactions on Biomedical
#   Engineering, 47(9).
# - Rommel, C., Moreau, T. and Gramfort, A. (2022). Deep invariant networks
#   with differentiable augmentation layers. Advances in Neural Information
#   Processing Systems (NeurIPS).
