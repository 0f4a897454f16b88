"""
Reusing a learned policy as fixed braindecode augmentation
==========================================================

The policy AugNet learns can be exported and reused as ordinary data
augmentation: :func:`~braindecode_augnet.fixed_transforms` turns each
augmentation layer into a frozen copy of its most weighted transform, at its
learned magnitude. Frozen transforms are plain braindecode transforms, so
they plug into :class:`braindecode.augmentation.AugmentedDataLoader` to train
any :class:`braindecode.EEGClassifier`, without AugNet's augmentation layers
and without averaging copies at inference.

This example learns a policy on synthetic sleep data (simulated nights, not
real EEG), then trains the same network with and without that fixed
augmentation.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Synthetic sleep data
# --------------------
#
# Six synthetic nights of one hour (no real EEG: see
# :func:`~braindecode_augnet.datasets.make_synthetic_sleep`), cut into 30-s
# windows and split by subject: three subjects to train, one to validate, two
# to test. The windows are divided by the standard deviation of the training
# windows, so that the transforms' ranges (in the units of the data) are
# fractions of the signal's standard deviation.

import numpy as np
import torch

from braindecode_augnet.datasets import split_by_subject, windows_to_arrays
from braindecode_augnet.study.pipeline import load_sleep_windows

SEED = 0

# sphinx_gallery_start_ignore
# Documentation builds run on small, shared machines, where torch's threads
# fight for the cores: one thread is then several times faster.
import sys

if "sphinx_gallery" in sys.modules:
    torch.set_num_threads(1)
# sphinx_gallery_end_ignore

windows = load_sleep_windows("synthetic", n_subjects=6, n_hours=1.0, verbose=False)
train_set, valid_set, test_set = split_by_subject(
    windows, test_size=2, valid_size=1, random_state=SEED
)
X_train, y_train, _ = windows_to_arrays(train_set)
X_valid, y_valid, _ = windows_to_arrays(valid_set)
X_test, y_test, _ = windows_to_arrays(test_set)
scale = X_train.std()
X_train, X_valid, X_test = X_train / scale, X_valid / scale, X_test / scale
sfreq = windows.datasets[0].raw.info["sfreq"]
print(f"train {X_train.shape}, valid {X_valid.shape}, test {X_test.shape}")

# %%
# Learning a policy with AugNet
# -----------------------------
#
# A short AugNet fit on the training subjects (the paper's EEG preset: a
# spatial layer and two time-frequency layers, the regulariser warmed up
# over the first two epochs), in AugNet's default training mode: each
# training window goes through one candidate per layer, drawn from the
# layer's weights (``sampling='sampled'``). Five epochs are too few for the
# weights to single out a transform firmly: the lines after the policy
# give each layer's largest weight next to the uniform weight it started
# from, and the range of the magnitudes, which all started at 0.1. What is
# exported below is the most weighted transform of each layer, however
# small its margin.

from braindecode.models import SleepStagerChambon2018

from braindecode_augnet import AugNetClassifier, fixed_transforms

network = dict(
    module=SleepStagerChambon2018,
    module__n_chans=X_train.shape[1],
    module__n_times=X_train.shape[2],
    module__n_outputs=5,
    module__sfreq=sfreq,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    batch_size=64,
    classes=np.arange(5),
)

torch.manual_seed(SEED)
augnet = AugNetClassifier(
    augmentation="eeg",
    reg_warmup=2,
    max_epochs=5,
    train_split=None,
    **network,
)
augnet.fit(X_train, y_train)
columns = ["layer", "transform", "weight", "magnitude", "probability", "op_value"]
print(augnet.policy_[columns].round(3).to_string(index=False))
for layer, rows in augnet.policy_.groupby("layer"):
    top = rows.loc[rows["weight"].idxmax()]
    print(
        f"layer {layer}: largest weight {top['weight']:.3f} ({top['transform']}), "
        f"uniform {1 / len(rows):.3f}"
    )
magnitudes = augnet.policy_["magnitude"]
print(f"magnitudes between {magnitudes.min():.3f} and {magnitudes.max():.3f}")

# %%
# AugNet's ``train_loss`` is the negative log-likelihood minus ``reg`` times
# the regulariser ``aug_reg``: it falls below ``train_nll`` as the
# regulariser grows (and can turn negative), and says nothing about the fit
# by itself.

# %%
# Exporting it
# ------------
#
# ``fixed_transforms`` reads the layers of the fitted network,
# ``augnet.module_`` (an :class:`~braindecode_augnet.AugNet`), and returns one
# frozen transform per layer (pass ``min_weight`` to keep every transform
# whose weight reaches it instead).
# Frozen transforms learn nothing: their magnitudes are constants and they
# are applied to every batch exactly as braindecode's own transforms are.

transforms = fixed_transforms(augnet.module_)
for transform in transforms:
    print(transform)

# %%
# What they do to a training window: each transform applied alone, and made
# to fire. In training a transform changes a window only with its
# ``probability`` (printed above), so a plain call would often return the
# window unchanged; :meth:`~braindecode_augnet.DifferentiableTransform.apply_transform`
# is the operation itself, applied to every window, with one draw of its
# random parameters. Some draws still change nothing: on these two-channel
# windows, a shuffle of a small proportion of the channels moves a channel
# only when both are drawn. Each panel shows the first of
# up to 20 seeded draws that changes the window, and says which one it
# was. The original (grey) and the augmented window (colour) are drawn one
# above the other, so that neither hides the other.

import matplotlib.pyplot as plt

window = torch.as_tensor(X_train[:1])
times = np.arange(window.shape[-1]) / sfreq
fig, axes = plt.subplots(
    len(transforms),
    1,
    figsize=(6.4, 2.6 * len(transforms)),
    sharex=True,
    layout="constrained",
)
for ax, transform in zip(np.atleast_1d(axes), transforms):
    for draw in range(1, 21):
        with torch.no_grad(), transform.separate_draws(seed=SEED + draw):
            params = transform.sample_params(window)
            augmented = transform.apply_transform(window, params)
        if not torch.equal(augmented, window):
            break
    ticks, labels = [], []
    for ch in range(window.shape[1]):
        offset = -14 * ch
        ax.plot(times, window[0, ch] + offset, color="0.55", lw=0.6)
        ax.plot(times, augmented[0, ch] + offset - 7, color=f"C{ch}", lw=0.6)
        ticks += [offset, offset - 7]
        labels += [f"channel {ch}", "augmented"]
    ax.set_yticks(ticks, labels, fontsize=8)
    changed = "changed" if not torch.equal(augmented, window) else "unchanged"
    ax.set_title(
        f"{type(transform).__name__}, draw {draw} ({changed}): "
        "original (grey), augmented (colour)",
        fontsize=10,
    )
ax.set_xlabel("time (s)")

# %%
# Training with the fixed augmentation
# ------------------------------------
#
# ``iterator_train=AugmentedDataLoader`` makes the classifier draw its
# training batches through a loader that applies ``iterator_train__transforms``
# to each of them; validation and prediction batches are left untouched. It
# works directly with numpy arrays, as here, as well as with braindecode
# windows datasets. The plain network is trained in exactly the same way,
# without transforms.

from braindecode import EEGClassifier
from braindecode.augmentation import AugmentedDataLoader
from skorch.callbacks import EpochScoring
from skorch.helper import predefined_split

from braindecode_augnet.study.pipeline import sleep_scores

training = dict(
    max_epochs=8,
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
    iterator_train__shuffle=True,
    **network,
)
classifiers = {
    "fixed AugNet policy": EEGClassifier(
        iterator_train=AugmentedDataLoader,
        iterator_train__transforms=transforms,
        **training,
    ),
    "no augmentation": EEGClassifier(**training),
}
scores = {}
for name, clf in classifiers.items():
    print(f"Training with {name}:")
    torch.manual_seed(SEED)
    clf.fit(X_train, y_train)
    scores[name] = sleep_scores(y_test, clf.predict(X_test))

# %%
# Validation and test scores
# --------------------------

import pandas as pd

scores = pd.DataFrame(scores).T
print(scores.round(3))

fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
for name, clf in classifiers.items():
    axes[0].plot(clf.history[:, "valid_bacc"], "o-", label=name)
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("validation balanced accuracy")
axes[0].set_xticks(range(len(clf.history)), range(1, len(clf.history) + 1))
short_names = {"balanced_accuracy": "bal. acc.", "macro_f1": "macro F1"}
scores.T.rename(index=short_names).plot.bar(ax=axes[1], rot=0, legend=False)
axes[1].set_ylim(0, 1)
axes[1].set_ylabel("test score")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
fig.suptitle("Fixed AugNet policy vs no augmentation\n(synthetic sleep)")
plt.show()

# %%
# The lines below compare the two networks on each test score and on their
# best validation balanced accuracy, as this run left them.
#
# Where the fixed policy is behind no augmentation, the reasons are in the
# setting more than in augmentation itself. The policy it exports is weak
# and barely chosen (see above), so it has little to give. It also applies
# each layer's most weighted transform to every training window (at its
# ``probability``), where AugNet applied it only to the share of windows
# its weight gave it: the same transform, much more often. Some candidates
# also touch what the stages are defined by: a frequency shift can move
# the alpha of wake into the spindle band of N2 (see "Invariance is not
# always desirable" in the invariance example linked below). A network
# trained on augmented windows needs more epochs to converge than one
# trained on the raw windows, and eight epochs are few; with three training
# and two test subjects these scores are noisy, and at this size a learned
# policy cannot be told from a random draw of the same transforms (the
# paired comparisons over 20 seeds x folds on :doc:`/results`). The
# exported policy is a starting point: unlike AugNet, ordinary
# augmentation keeps the magnitudes fixed and does not average augmented
# copies at inference, so the invariance it gives the network is only
# learned from the augmented training batches (see
# :ref:`sphx_glr_auto_examples_learned_policies_plot_policy_and_invariance.py`).

fixed, plain = scores.loc["fixed AugNet policy"], scores.loc["no augmentation"]
for score in scores.columns:
    a, b = round(fixed[score], 3), round(plain[score], 3)
    verdict = "ahead of" if a > b else "behind" if a < b else "level with"
    print(f"{score}: fixed policy {a:.3f}, {verdict} no augmentation ({b:.3f})")
for name, clf in classifiers.items():
    valid = np.asarray(clf.history[:, "valid_bacc"])
    print(
        f"{name}: best validation balanced accuracy {valid.max():.3f} "
        f"(epoch {valid.argmax() + 1})"
    )
