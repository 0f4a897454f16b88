"""
Sleep staging on sequences of windows: TimeDistributed stager with AugNet
=========================================================================

Sleep stagers used in practice do not look at one 30-s window at a time: as
in braindecode's sleep-staging tutorials, they read *sequences* of
consecutive windows and predict one stage per window, using the context of
the neighbouring windows the way human scorers do. This example trains such
a model, :class:`~braindecode_augnet.study.stager.TimeDistributedSleepStager`
(the stager of Chambon et al. (2018) applied to every window through
:class:`braindecode.modules.TimeDistributed`, with a head that sees each
window's neighbours), once with
:class:`~braindecode_augnet.AugNetClassifier` and once as a plain
:class:`braindecode.EEGClassifier` without augmentation.

It runs on a few short *synthetic* nights
(:func:`~braindecode_augnet.datasets.make_synthetic_sleep`) and trains for a
few epochs only, so that it runs in about a minute: its scores say nothing
about real sleep staging. ``python -m braindecode_augnet --model
timedistributed`` (or ``--model usleep``, for
:class:`braindecode.models.USleep`) runs the same comparison on more data,
Sleep-EDF included.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Synthetic nights, split by subject
# ----------------------------------
#
# :func:`~braindecode_augnet.study.pipeline.load_sleep_windows` simulates the
# nights, low-passes and standardises them (each channel of each night) and
# cuts them into labelled 30-s windows (stages
# W, N1, N2, N3 and REM as targets 0 to 4);
# :func:`~braindecode_augnet.study.pipeline.prepare_sleep_split` splits them by
# subject and scales them, keeping the recording of every window.

import tempfile

import torch

from braindecode_augnet.study.pipeline import load_sleep_windows, prepare_sleep_split

SEED = 0

# sphinx_gallery_start_ignore
# Documentation builds run on small, shared machines, where torch's threads
# fight for the cores: one thread is then several times faster.
import sys

if "sphinx_gallery" in sys.modules:
    torch.set_num_threads(1)
# sphinx_gallery_end_ignore

windows = load_sleep_windows(
    "synthetic", n_subjects=5, n_hours=1.0, random_state=SEED, verbose=False
)
split = prepare_sleep_split(windows, seed=SEED)

# %%
# Sequences and per-window targets
# --------------------------------
#
# A sequence is ``N_WINDOWS`` consecutive windows of one recording: inputs
# ``(n_sequences, n_windows, channels, times)`` and targets
# ``(n_sequences, n_windows)``, one stage per window.
# :func:`~braindecode_augnet.study.pipeline.sleep_sequences` cuts every recording
# into sequences that cover each of its windows. On a braindecode windows
# dataset, :class:`braindecode.samplers.SequenceSampler` does the same on
# the fly (``iterator_train__sampler=SequenceSampler(...)``), and both
# classifiers below take its batches as they are.

from braindecode_augnet.study.pipeline import sleep_sequences

N_WINDOWS = 3
X_train, y_train = sleep_sequences(split, "train", N_WINDOWS)
print(f"training sequences {X_train.shape}, targets {y_train.shape}")

# %%
# Two classifiers
# ---------------
#
# Both models share the trunk, the class-weighted loss (stages are
# imbalanced), Adam and the validation on held-out subjects, scored by the
# balanced accuracy *per window*
# (:func:`~braindecode_augnet.sequences.per_window_scoring`). AugNet ties
# its copies to whole sequences: at inference it averages, window by window,
# the stage probabilities of ``n_copies`` augmented copies of each sequence.
#
# Whether the windows of a sequence share their augmentation is a choice:
# ``sequence_augmentation='window'`` (used here) gives every window its own
# draw, as a single-window model sees them; ``'sequence'`` draws once per
# sequence (one frequency shift, one channel permutation... for all its
# windows), a nuisance constant over a stretch of recording.
#
# The plain network's probabilities are a softmax over the classes of its
# per-window logits (:func:`~braindecode_augnet.sequences.per_window_softmax`),
# and its ``valid_acc`` is per window too.

from braindecode import EEGClassifier
from sklearn.metrics import accuracy_score

from braindecode_augnet import AugNetClassifier
from braindecode_augnet.sequences import per_window_scoring, per_window_softmax
from braindecode_augnet.study.pipeline import (
    best_epoch_callbacks,
    sleep_training_kwargs,
)

common = sleep_training_kwargs(
    split,
    max_epochs=5,
    batch_size=48,  # windows: 16 sequences of 3 per batch
    lr=2e-3,
    verbose=False,
    model="timedistributed",
    n_windows=N_WINDOWS,
)
print(f"trunk: {common['module'].__name__}, {common['batch_size']} sequences/batch")


def make_classifier(method, callbacks):
    """The plain network (``'none'``) or AugNet, with the shared settings."""
    if method == "none":
        return EEGClassifier(
            callbacks=callbacks,
            predict_nonlinearity=per_window_softmax,
            callbacks__valid_acc__scoring=per_window_scoring(accuracy_score),
            **common,
        )
    return AugNetClassifier(
        augmentation="eeg",
        module__chs_info=split["chs_info"],
        sequence_augmentation="window",
        reg_warmup=2,
        n_copies=8,
        random_state=SEED,
        callbacks=callbacks,
        **common,
    )


fitted = {}
for method in ("none", "augnet"):
    torch.manual_seed(SEED)  # the same initialisation for both
    # the best epoch on the validation subjects is reloaded after training
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        clf = make_classifier(method, best_epoch_callbacks(checkpoint_dir))
        fitted[method] = clf.fit(X_train, y_train)

# %%
# A stage for every test window
# -----------------------------
#
# :func:`~braindecode_augnet.study.stager.predict_windows` cuts each test night
# into sequences covering all its windows, and averages the probabilities
# of a window that two sequences cover. The scores are over windows.

import pandas as pd

from braindecode_augnet.study.pipeline import sleep_scores
from braindecode_augnet.study.stager import predict_windows

predictions = {
    method: predict_windows(
        clf, split["X_test"], split["recordings_test"], N_WINDOWS
    ).argmax(1)
    for method, clf in fitted.items()
}
scores = pd.DataFrame(
    {method: sleep_scores(split["y_test"], y) for method, y in predictions.items()}
).T
print(scores.round(3).to_string())

# %%
# Kappa counts windows, and most windows are N2 and N3, so errors between
# those two stages weigh heavily on it; balanced accuracy and macro-F1 weigh
# the five stages equally, so they count such errors for less and a missed
# rare stage (N1, REM) for more. The scores can therefore disagree on which
# model is ahead; the lines below compare them as this run left them.
#
# Where AugNet is behind no augmentation, the size of this example is the
# reason to look at first: five epochs on three training nights. Training
# on augmented windows is harder than on the raw ones, so AugNet needs more
# epochs to converge, and at this size the policy it learns cannot be told
# from a random draw of the same transforms. Five epochs on a few nights
# decide neither way; the paired comparisons over 20 seeds x folds on
# :doc:`/results` are the test of a ranking.

for score in scores.columns:
    a, b = scores.loc["augnet", score].round(3), scores.loc["none", score].round(3)
    verdict = "ahead of" if a > b else "behind" if a < b else "level with"
    print(f"{score}: AugNet {a:.3f}, {verdict} no augmentation ({b:.3f})")

# %%
# Hypnogram of a test night
# -------------------------
#
# The night of the first test subject, as scored by the expert and by
# AugNet.

from braindecode_augnet.study.plots import plot_hypnogram

subjects = split["subjects_test"]
night = subjects == subjects[0]
fig = plot_hypnogram(
    split["y_test"][night], predictions["augnet"][night], subject=subjects[0]
)

# %%
# Learned policy
# --------------
#
# AugNet learned which transforms it may apply to the windows of a sequence
# (weights) and how strongly (magnitudes). With five epochs on a few
# synthetic nights, this is a demonstration of the API, not a benchmark:
# the README gives the main job's measured scores.

print(
    fitted["augnet"]
    .policy_[["layer", "transform", "weight", "magnitude"]]
    .round(3)
    .to_string(index=False)
)

# %%
# References
# ----------
#
# Chambon, S., Galtier, M. N., Arnal, P. J., Wainrib, G., & Gramfort, A.
# (2018). A deep learning architecture for temporal sleep stage
# classification using multivariate and multimodal time series. IEEE TNSRE,
# 26(4), 758-769.
#
# Perslev, M., et al. (2021). U-Sleep: resilient high-frequency sleep
# staging. npj Digital Medicine, 4(1), 72.
#
# Rommel, C., Moreau, T., & Gramfort, A. (2022). Deep invariant networks
# with differentiable augmentation layers. NeurIPS 35.
